"""One-time codes: ``/v/<code>`` opens the survey the code belongs to (channel ``link``),
``/v`` lets a person type the code from a receipt or a slip."""
from __future__ import annotations

from typing import NoReturn

from flask import redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _

from ..errors import abort_with
from ..extensions import csrf, db
from ..i18n import current_language
from ..services.collect import surveys
from ..services.qr import tokens
from . import bp, flow, limits


def _refusal(reason: str, opens_at=None) -> tuple[int, str, str]:
    """(status, title, message) for a code that admits no answer."""
    if reason == "spent":
        return 410, _("Code already used"), _(
            "This code has already been used. Each code can be used only once, so nothing more was saved.")
    if reason == "expired":
        return 410, _("Code expired"), _("This code has expired, so it can no longer be used. Nothing was saved.")
    if reason == "closed":
        return 410, _("Survey closed"), _("This survey has closed. Thank you for your interest.")
    if reason == "not_started":
        if opens_at is not None:
            return 404, _("Survey not open yet"), _(
                "This survey is not open yet. It opens on %(when)s.", when=format_datetime(opens_at, "dd/MM/yyyy HH:mm"))
        return 404, _("Survey not open yet"), _("This survey is not open yet. Please try again later.")
    if reason == "wrong_campaign":
        return 404, _("Code not valid here"), _(
            "This code does not belong to a survey that is open at this place. Nothing was saved.")
    return 404, _("Code not found"), _(
        "We do not know this code. Please check that you typed it exactly as printed.")


def _refuse(exc: tokens.TokenRefused) -> NoReturn:
    status, title, message = _refusal(exc.reason, exc.opens_at)
    abort_with(status, message, title)


def _resolve(code: str) -> tokens.TokenTarget:
    try:
        return tokens.resolve_token(db.session, code)
    except tokens.TokenRefused as exc:
        _refuse(exc)


def _action(found: tokens.TokenTarget) -> str:
    return url_for("public.token_submit", code=found.code, lang=current_language())


@bp.route("/v", methods=["GET", "POST"])
@limits.code_entry_limit
@limits.code_entry_address_limit
def code_entry():
    typed = request.form.get("code", "")[:64] if request.method == "POST" else ""
    if request.method == "GET":
        return render_template("public/code_entry.html", code="", error=None)
    if tokens.normalize_code(typed) is None:
        error = _("A code has 16 letters and digits, like K7QM-3XDA-9F2P-HW8T. Please check it and try again.")
        return render_template("public/code_entry.html", code=typed, error=error), 422
    try:
        found = tokens.resolve_token(db.session, typed)
    except tokens.TokenRefused as exc:
        status, _title, message = _refusal(exc.reason, exc.opens_at)
        return render_template("public/code_entry.html", code=typed, error=message), status
    return redirect(url_for("public.token_survey", code=found.code, lang=current_language()), code=303)


@bp.get("/v/<code>")
def token_survey(code: str):
    found = _resolve(code)
    return flow.render_survey(found.target, action_url=_action(found))


@bp.post("/v/<code>")
@csrf.exempt  # checked in flow.submit_survey, so a failed check re-renders the form with the answers kept
@limits.survey_device_limit
@limits.survey_address_limit
def token_submit(code: str):
    try:
        found = tokens.resolve_token(db.session, code)
    except tokens.TokenRefused as exc:
        # A double tap or a retry of the form that spent the code: the same thank-you.
        if exc.reason == "spent" and flow.already_submitted(tokens.spent_token_target(db.session, code)):
            return redirect(url_for("public.token_thanks", code=tokens.format_code(tokens.normalize_code(code) or ""),
                                    lang=current_language()), code=303)
        _refuse(exc)
    try:
        return flow.submit_survey(
            found.target, channel="link", action_url=_action(found), spend_token_id=found.token_id,
            thanks_url=url_for("public.token_thanks", code=found.code, lang=current_language()),
        )
    except surveys.TokenAlreadySpent:
        _refuse(tokens.TokenRefused(tokens.token_state(db.session, found.token_id)))


@bp.get("/v/<code>/thanks")
def token_thanks(code: str):
    target = tokens.spent_token_target(db.session, code)
    if target is None:
        abort_with(404, _("We do not know this code. Please check that you typed it exactly as printed."),
                   _("Code not found"))
    return render_template("public/thanks.html", target=target, definition=target.definition)
