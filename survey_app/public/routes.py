"""Thin routes: parse the request, call a service, render."""
from __future__ import annotations

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import text

from ..errors import abort_with
from ..extensions import csrf, db
from ..i18n import current_language
from ..services import surveys
from . import bp


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
    token = surveys.issue_form_token(current_app.config["SECRET_KEY"], target)
    return render_template(
        "public/survey.html",
        target=target,
        definition=target.definition,
        form_token=token,
        values=validation.values if validation else {},
        errors=validation.errors if validation else {},
        form_errors=validation.form_errors if validation else [],
        field_prefix=surveys.FIELD_PREFIX,
    ), status


@bp.get("/s/<code>")
def survey(code: str):
    return _render_form(_target(code))


@bp.post("/s/<code>")
@csrf.exempt  # checked below, so a failed check re-renders the form with the answers kept
def submit(code: str):
    target = _target(code)
    validation = surveys.validate_answers(target.definition, request.form)
    try:
        csrf.protect()
    except CSRFError:
        validation.form_errors.append(
            _("Your session expired before you sent the form. Your answers are kept below: please send again.")
        )
    token = surveys.read_form_token(current_app.config["SECRET_KEY"], request.form.get("form_token"),
                                    target, current_app.config["SURVEY_TOKEN_MAX_AGE"])
    if token is None:
        validation.form_errors.append(
            _("This form is out of date. Your answers are kept below: please check them and send again.")
        )
    if not validation.ok:
        return _render_form(target, validation, status=422)
    surveys.submit_response(
        db.session, target, validation.answers, channel="qr", language=current_language(),
        idempotency_key=token.nonce,
    )
    return redirect(url_for("public.thanks", code=code, lang=current_language()), code=303)


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
