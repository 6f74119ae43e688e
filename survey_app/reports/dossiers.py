"""Ratings of dossiers by counter staff: managers only, and every view is in the audit log.
Staff are never named on any other page (the dashboard breaks down by procedure and
sector only) and never on a public one."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from ..extensions import db
from ..guard import official_route
from ..services.dossiers import figures
from ..services.officials import audit
from ..services.reports.views import FilterError
from . import bp
from .routes import _bad_filter, _crumbs, _filters, _unit


@bp.get("/<int:unit_id>/dossiers/staff")
@official_route("manager")
def dossier_staff(unit_id: int):
    unit = _unit(unit_id, "manager")
    try:
        filters = _filters(unit)
    except FilterError as exc:
        _bad_filter(exc)
    rows = figures.by_staff(db.session, unit, filters.date_from, filters.date_to)
    audit.record(db.session, "dossiers.staff_viewed", actor=current_user._get_current_object(), unit=unit,
                 target=f"unit:{unit.id}", detail={"from": filters.date_from.isoformat(),
                                                   "to": filters.date_to.isoformat()})
    db.session.commit()
    return render_template("reports/dossier_staff.html", unit=unit, rows=rows, filters=filters,
                           crumbs=_crumbs(unit), args=request.args.to_dict())
