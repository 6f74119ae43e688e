"""Thin routes: parse the request, call a service, render."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request, url_for
from sqlalchemy import text

from ..errors import OUTAGE_ERRORS, outage_log
from ..extensions import csrf, db
from ..i18n import current_language
from ..services.collect import surveys
from ..services.officials import lookup
from . import bp, flow, limits


def _render_form(target: surveys.SurveyTarget, validation: surveys.Validation | None = None, status: int = 200):
    action = url_for("public.submit", code=target.unit.code, lang=current_language())
    return flow.render_survey(target, action_url=action, validation=validation, status=status)


@bp.get("/s/<code>")
def survey(code: str):
    return _render_form(flow.open_target(code, autocommit=True, page=True))


@bp.post("/s/<code>")
@csrf.exempt  # checked in flow.submit_survey, so a failed check re-renders the form with the answers kept
@limits.poster_point_limit  # over it the form comes back with the answers; the device and address limits flag (limits.py)
def submit(code: str):
    target = flow.open_target(code, autocommit=True)
    action = url_for("public.submit", code=code, lang=current_language())
    if flow.switching_language():  # the header's language button: the form again, nothing counted
        return flow.switch_language(target, action_url=action)
    verdict = limits.poster_verdict()
    if verdict.flood_minutes is not None:
        return flow.refuse_flood(target, action_url=action, minutes=verdict.flood_minutes)
    return flow.submit_survey(
        target, channel="qr", action_url=action,
        thanks_url=url_for("public.thanks", code=code, lang=current_language()),
        over_limit=verdict.over_limit,
    )


@bp.get("/s/<code>/thanks")
def thanks(code: str):
    target = flow.open_target(code, autocommit=True)
    return render_template("public/thanks.html", target=target, definition=target.definition)


@bp.get("/healthz")
def healthz():
    """200 ``{"status": "ok"}``; 200 ``"degraded"`` naming what is down but worked around
    (the rate-limit storage: limits are counted in memory); 503 when the database is down."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # the database is down or unreachable: say so, do not crash
        db.session.rollback()
        if isinstance(exc, OUTAGE_ERRORS):
            outage_log(current_app).record(current_app.logger, exc, "GET /healthz")
        else:
            current_app.logger.exception("health check failed")
        response = jsonify({"status": "error", "database": "unreachable"})
        response.headers["Retry-After"] = str(current_app.config["DB_RETRY_AFTER_SECONDS"])
        return response, 503
    state = limits.storage_state()
    if state == "unreachable":
        return jsonify({"status": "degraded", "rate_limit_storage": "unreachable",
                        "rate_limits": "counted in memory, per process"})
    if state == "recovering":
        return jsonify({"status": "degraded", "rate_limit_storage": "reachable again",
                        "rate_limits": "counted in memory, per process, until the next check (within a minute)"})
    return jsonify({"status": "ok"})


@bp.get("/")
def index():
    """The landing page: find a service point (``?q=``), type a one-time code, follow a
    petition. Without ``q`` it reads nothing from the database."""
    query = request.args.get("q")
    result = None
    if query is not None:
        result = lookup.search_points(db.session, query,
                                      cache=current_app.extensions.setdefault("hailong.point_search", {}))
    return render_template("public/index.html", result=result, q=result.query if result else "")
