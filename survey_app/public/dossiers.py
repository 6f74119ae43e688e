"""Rating a dossier: ``/d`` takes the dossier code printed on the receipt and its short
check code; a matching pair opens the one-stop survey of that dossier's point once, at
``/d/<ref>`` (a signed reference to the dossier, valid ``SURVEY_TOKEN_MAX_AGE``). The
answer spends the dossier's evaluation code, as ``/v/<code>`` does, and is linked to the
dossier. ``/v/<code>/qr.png`` and ``.svg`` draw the QR of an evaluation code for the
receipt or the counter screen."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired

from ..errors import abort_with
from ..extensions import csrf, db
from ..i18n import current_language
from ..models import Dossier
from ..services.collect import surveys
from ..services.collect.formtoken import serializer_for
from ..services.dossiers import operations
from ..services.qr import encoding as qr
from ..services.qr import tokens
from . import bp, codes, flow, limits, qrcodes

SALT = "hailong.dossier-entry"


def _ref(dossier: Dossier) -> str:
    return serializer_for(current_app.config["SECRET_KEY"], SALT).dumps({"d": dossier.id})


def _dossier(ref: str) -> Dossier:
    try:
        payload = serializer_for(current_app.config["SECRET_KEY"], SALT).loads(
            ref, max_age=current_app.config["SURVEY_TOKEN_MAX_AGE"])
    except SignatureExpired:
        abort_with(410, _("This page has expired. Please type your dossier code and check code again."),
                   _("Page expired"))
    except BadSignature:
        abort_with(404, _("We could not find this page. Please check the address or the QR code."), _("Not found"))
    dossier = db.session.get(Dossier, payload.get("d")) if isinstance(payload, dict) else None
    if dossier is None:
        abort_with(404, _("We could not find this page. Please check the address or the QR code."), _("Not found"))
    return dossier


def _refusal(reason: str, opens_at=None, unit=None) -> codes.Refusal:
    if reason == "spent":
        return codes.Refusal(410, _("Dossier already rated"), _(
            "This dossier has already been rated. Each dossier can be rated only once, so nothing more was saved."),
            flow.feedback_steps(unit))
    return codes._refusal(reason, opens_at, unit)


def _resolve(dossier: Dossier) -> tokens.TokenTarget:
    try:
        return tokens.resolve_token_id(db.session, dossier.token_id)
    except tokens.TokenRefused as exc:
        codes.abort_refusal(_refusal(exc.reason, exc.opens_at, exc.unit))


@bp.route("/d", methods=["GET", "POST"])
@limits.code_entry_limit
@limits.code_entry_address_limit
def dossier_entry():
    if request.method == "GET":
        return render_template("public/dossier_entry.html", dossier="", check="", error=None)
    typed_dossier = request.form.get("dossier", "")[:80]
    typed_check = request.form.get("check", "")[:16]
    dossier = operations.entry_check(db.session, typed_dossier, typed_check)
    if dossier is None:
        error = _("This dossier code and check code do not match. Please type both exactly as printed on your "
                  "receipt: the check code has 6 letters and digits.")
        return render_template("public/dossier_entry.html", dossier=typed_dossier, check=typed_check,
                               error=error), 404
    try:
        tokens.resolve_token_id(db.session, dossier.token_id)
    except tokens.TokenRefused as exc:
        refusal = _refusal(exc.reason, exc.opens_at, exc.unit)
        return render_template("public/dossier_entry.html", dossier=typed_dossier, check=typed_check,
                               error=refusal.message, error_links=refusal.links), refusal.status
    return redirect(url_for("public.dossier_survey", ref=_ref(dossier), lang=current_language()), code=303)


@bp.get("/d/<ref>")
def dossier_survey(ref: str):
    found = _resolve(_dossier(ref))
    return flow.render_survey(found.target, action_url=url_for("public.dossier_submit", ref=ref,
                                                               lang=current_language()))


@bp.post("/d/<ref>")
@csrf.exempt  # checked in flow.submit_survey, so a failed check re-renders the form with the answers kept
@limits.survey_device_limit
@limits.survey_address_limit
def dossier_submit(ref: str):
    dossier = _dossier(ref)
    thanks = url_for("public.dossier_thanks", ref=ref, lang=current_language())
    try:
        found = tokens.resolve_token_id(db.session, dossier.token_id)
    except tokens.TokenRefused as exc:
        if exc.reason == "spent" and dossier.token is not None and flow.already_submitted(
                surveys.SurveyTarget(dossier.token.unit, dossier.token.campaign,
                                    dossier.token.campaign.instrument_version)):
            return redirect(thanks, code=303)
        codes.abort_refusal(_refusal(exc.reason, exc.opens_at, exc.unit))
    try:
        return flow.submit_survey(found.target, channel="link", spend_token_id=found.token_id, thanks_url=thanks,
                                  action_url=url_for("public.dossier_submit", ref=ref, lang=current_language()))
    except surveys.TokenAlreadySpent:
        codes.abort_refusal(_refusal(tokens.token_state(db.session, found.token_id), unit=found.target.unit))


@bp.get("/d/<ref>/thanks")
def dossier_thanks(ref: str):
    dossier = _dossier(ref)
    token = dossier.token
    if token is None or token.spent_at is None:
        abort_with(404, _("We could not find this page. Please check the address or the QR code."), _("Not found"))
    target = surveys.SurveyTarget(token.unit, token.campaign, token.campaign.instrument_version)
    return render_template("public/thanks.html", target=target, definition=target.definition)


def _code_url(code: str) -> str:
    canonical = tokens.normalize_code(code)
    if canonical is None:
        abort_with(404, _("We do not know this code. Please check that you typed it exactly as printed."),
                   _("Code not found"))
    return qr.token_url(qrcodes.public_base_url(), tokens.format_code(canonical))


@bp.get("/v/<code>/qr.svg")
def token_qr_svg(code: str):
    return qrcodes._image(qr.qr_svg(_code_url(code), level="Q"), "image/svg+xml")


@bp.get("/v/<code>/qr.png")
def token_qr_png(code: str):
    return qrcodes._image(qr.qr_png(_code_url(code), level="Q"), "image/png")
