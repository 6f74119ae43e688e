"""``GET /api/v1/reports/<unit>?instrument=…&from=…&to=…&period=…&include_suspect=…``

``<unit>`` is a service point code, a unit path (``vn/qt/p2``) or a unit id.
Optional: ``channel`` (repeatable), ``campaign``. The body is the report exactly as
``flask report --format json`` prints it. Errors use the one JSON shape
``{"error": {"status", "title", "message"}}``: 400 bad filter, 401 no or bad credentials,
404 a unit outside the caller's subtree (existence is not revealed). Every read is an
export in the audit log.
"""
from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from ..database import read_session
from ..errors import error_response
from ..extensions import db
from ..models import utcnow
from ..services.officials import apikeys
from ..services.officials.scope import Scope
from ..services.petitions import operations as petitions
from ..services.reports import exports
from ..services.reports.views import FilterError, compute, parse_filters
from . import bp


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(_Refused)
def refused(exc: _Refused):
    response = error_response(exc.status, exc.message)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="hailong"'
    return response


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _caller() -> tuple[Scope, dict]:
    """The caller's scope and how to name them in the audit log."""
    header = request.headers.get("Authorization", "")
    if header:
        kind, _sep, token = header.partition(" ")
        key = apikeys.authenticate(db.session, token) if kind.lower() == "bearer" else None
        if key is None:
            raise _Refused(401, _("This API key is not valid (or was revoked)."))
        g.api_key = key
        return apikeys.scope_for(db.session, key), {"actor_name": f"apikey:{key.prefix}"}
    if current_user.is_authenticated:
        from ..guard import current_scope

        return current_scope(), {"actor": current_user._get_current_object()}
    raise _Refused(401, _("Please log in, or send an API key: Authorization: Bearer <key>."))


def _unit_ident(ref: str) -> str:
    return "/" + ref.strip("/") + "/" if "/" in ref else ref


@bp.get("/reports/<path:unit_ref>")
def report(unit_ref: str):
    scope, who = _caller()
    unit = scope.get_unit_or_404(_unit_ident(unit_ref), "viewer")
    today = petitions.local_day(utcnow(), current_app.config["DISPLAY_TIMEZONE"])
    try:
        filters = parse_filters(db.session, scope, unit, request.args, today, strict=True)
        view = compute(read_session(), unit, filters)
    except FilterError as exc:
        raise _Refused(400, exc.message) from None
    exports.record_export(db.session, view, "json", **who)
    db.session.commit()
    return jsonify(view.report)
