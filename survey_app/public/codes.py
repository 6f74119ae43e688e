"""One-time codes: ``/v/<code>`` opens the survey the code belongs to (channel ``link``),
``/v`` lets a person type the code from a receipt or a slip."""
from __future__ import annotations

from typing import NamedTuple, NoReturn

from flask import redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _

from ..errors import NextStep, abort_with, home_step
from ..extensions import csrf, db
from ..i18n import current_language
from ..models import Unit
from ..services.collect import surveys
from ..services.qr import tokens
from . import bp, flow, limits


class Refusal(NamedTuple):
    """Why a code admits no answer, for the person: status, title, message, next steps."""

    status: int
    title: str
    message: str
    links: list[NextStep]


def _refusal(reason: str, opens_at=None, unit: Unit | None = None) -> Refusal:
    """The refusal of a code that admits no answer; ``unit`` (the code's point, when known)
    is offered for feedback instead."""
    feedback = flow.feedback_steps(unit)
    if reason == "spent":
        if unit is not None and unit.active:  # feedback_steps offers its petition form
            message = _("This code has already been used — thank you for your answers. If you would like to say "
                        "more, you can send feedback to %(unit)s.", unit=unit.name(current_language()))
        else:
            message = _("This code has already been used — thank you for your answers. If you would like to say "
                        "more, you can send feedback from the home page.")
        return Refusal(410, _("Code already used"), message, feedback)
    if reason == "expired":
        return Refusal(410, _("Code expired"),
                       _("This code has expired, so it can no longer be used. Nothing was saved."), feedback)
    if reason == "closed":
        return Refusal(410, _("Survey closed"), _("This survey has closed. Thank you for your interest."), feedback)
    if reason == "not_started":
        if opens_at is not None:
            return Refusal(404, _("Survey not open yet"), _(
                "This survey is not open yet. It opens on %(when)s.",
                when=format_datetime(opens_at, "dd/MM/yyyy HH:mm")), feedback)
        return Refusal(404, _("Survey not open yet"), _("This survey is not open yet. Please try again later."),
                       feedback)
    if reason == "wrong_campaign":
        return Refusal(404, _("Code not valid here"), _(
            "This code does not belong to a survey that is open at this place. Nothing was saved."), [home_step()])
    return Refusal(404, _("Code not found"), _(
        "We do not know this code. Please check that you typed it exactly as printed."),
        [NextStep(_("Type the code again"), url_for("public.code_entry", lang=current_language())), home_step()])


def abort_refusal(refusal: Refusal) -> NoReturn:
    """The error page of ``refusal``, with its next steps."""
    abort_with(refusal.status, refusal.message, refusal.title, refusal.links)


def _refuse(exc: tokens.TokenRefused) -> NoReturn:
    abort_refusal(_refusal(exc.reason, exc.opens_at, exc.unit))


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
        refusal = _refusal(exc.reason, exc.opens_at, exc.unit)
        return render_template("public/code_entry.html", code=typed, error=refusal.message,
                               error_links=refusal.links), refusal.status
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
        _refuse(tokens.TokenRefused(tokens.token_state(db.session, found.token_id), unit=found.target.unit))


@bp.get("/v/<code>/thanks")
def token_thanks(code: str):
    target = tokens.spent_token_target(db.session, code)
    if target is None:
        abort_with(404, _("We do not know this code. Please check that you typed it exactly as printed."),
                   _("Code not found"))
    return render_template("public/thanks.html", target=target, definition=target.definition)
