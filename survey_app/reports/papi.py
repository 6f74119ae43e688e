"""Routes of the PAPI mirror (thin: parse, call ``services.reports.papi``, render).

``/reports/<unit>/papi`` (viewer): the eight dimensions of the latest round (or the
``round`` asked for) with intervals, the change since the round before, and the province's
published PAPI scores beside them. ``/reports/<unit>/papi/published`` (manager): the small
form on which an official enters a year of published scores for their unit; they are
shown on the reports of that unit and every unit below it.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..guard import current_scope, official_route
from ..models import PAPI_DIMENSIONS, utcnow
from ..services.petitions import operations as petitions
from ..services.reports import papi as service
from . import bp
from .papi_forms import PublishedForm


def _unit(unit_id: int, role: str):
    return current_scope().get_unit_or_404(unit_id, role)


def _crumbs(unit):
    return current_scope().ancestors_in_scope(unit)


def _today():
    return petitions.local_day(utcnow(), current_app.config["DISPLAY_TIMEZONE"])


@bp.get("/<int:unit_id>/papi")
@official_route("viewer")
def papi(unit_id: int):
    unit = _unit(unit_id, "viewer")
    scope = current_scope()
    common = {"unit": unit, "crumbs": _crumbs(unit), "filters": None, "can_manage": scope.covers(unit, "manager"),
              "instruments": service.mirror_instruments(db.session), "methods": service.methods_paragraphs(),
              "low_n": service.LOW_N}
    try:
        view = service.mirror_view(db.session, scope, unit, request.args)
    except service.PapiError as exc:
        return render_template("reports/papi.html", view=None, error=exc.message, **common), 400
    return render_template("reports/papi.html", view=view, error=None, **common)


def _published_page(unit, form, errors=None, status=200):
    return render_template("reports/papi_published.html", unit=unit, crumbs=_crumbs(unit), filters=None, form=form,
                           errors=errors or {}, dimensions=PAPI_DIMENSIONS,
                           entered=service.published_here(db.session, unit), shown=service.published_for(db.session,
                                                                                                          unit),
                           names=service.dimension_names()), status


@bp.get("/<int:unit_id>/papi/published")
@official_route("manager")
def papi_published(unit_id: int):
    unit = _unit(unit_id, "manager")
    form = PublishedForm(formdata=None)
    latest = next(iter(service.published_here(db.session, unit)), None)
    if latest is not None:
        form.year.data, form.source.data = str(latest.year), latest.source
        for dim, value in latest.scores.items():
            getattr(form, dim).data = service.format_score(value)
    return _published_page(unit, form)


@bp.post("/<int:unit_id>/papi/published")
@official_route("manager")
def papi_published_save(unit_id: int):
    unit = _unit(unit_id, "manager")
    form = PublishedForm()
    if not form.validate_on_submit():
        return _published_page(unit, form, {"form": _("The form has expired. Please enter the scores again.")}, 400)
    try:
        row = service.save_published(db.session, current_scope(), unit, year=form.year.data, source=form.source.data,
                                     scores={d: getattr(form, d).data for d in PAPI_DIMENSIONS},
                                     actor=current_user._get_current_object(), today=_today())
    except service.PublishedError as exc:
        db.session.rollback()
        return _published_page(unit, form, exc.errors, 400)
    flash(_("The published PAPI scores of %(year)d are saved. The mirror’s report shows them beside its own.",
            year=row.year), "success")
    return redirect(url_for("reports.papi", unit_id=unit.id), code=303)
