"""Thin routes: parse the request, call a service, render."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import text

from ..errors import abort_with
from ..extensions import csrf, db
from ..i18n import current_language
from ..services.collect import surveys
from . import bp, flow, limits


def _unavailable(exc: surveys.SurveyUnavailable):
    if exc.reason == "closed":
        abort_with(410, _("This survey has closed. Thank you for your interest."), _("Survey closed"))
    if exc.reason == "not_started" and exc.opens_at is not None:
        abort_with(404, _("This survey is not open yet. It opens on %(when)s.",
                          when=format_datetime(exc.opens_at, "dd/MM/yyyy HH:mm")), _("Survey not open yet"))
    abort_with(404, _("There is no survey at this address. Please check the code on the poster."), _("Survey not found"))


def _target(code: str) -> surveys.SurveyTarget:
    try:
        return surveys.resolve_open_campaign(db.session, code)
    except surveys.SurveyUnavailable as exc:
        _unavailable(exc)
        raise  # unreachable: _unavailable always raises


def _render_form(target: surveys.SurveyTarget, validation: surveys.Validation | None = None, status: int = 200):
    action = url_for("public.submit", code=target.unit.code, lang=current_language())
    return flow.render_survey(target, action_url=action, validation=validation, status=status)


@bp.get("/s/<code>")
def survey(code: str):
    return _render_form(_target(code))


@bp.post("/s/<code>")
@csrf.exempt  # checked in flow.submit_survey, so a failed check re-renders the form with the answers kept
@limits.survey_device_limit
@limits.survey_point_limit
def submit(code: str):
    target = _target(code)
    return flow.submit_survey(
        target, channel="qr",
        action_url=url_for("public.submit", code=code, lang=current_language()),
        thanks_url=url_for("public.thanks", code=code, lang=current_language()),
    )


@bp.get("/s/<code>/thanks")
def thanks(code: str):
    target = _target(code)
    return render_template("public/thanks.html", target=target, definition=target.definition)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # the database is down or unreachable: say so, do not crash
        db.session.rollback()
        current_app.logger.exception("health check failed")
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok"})


@bp.get("/")
def index():
    return render_template("public/index.html")


# Issue 3: one-time codes (/v), kiosks (/k), QR images; they register on the same blueprint.
from . import codes, kiosk, qrcodes  # noqa: E402,F401
