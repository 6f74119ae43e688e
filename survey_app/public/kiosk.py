"""Kiosk mode: ``/k/<code>`` on an enrolled tablet at the counter (channel ``kiosk``).

The point's quick survey (one question) unless a manager chose another campaign for the
tablet (``services/qr/kiosks.kiosk_target``). Large targets, no way to navigate away but
the language switch, and back to an empty
survey a few seconds after each answer and after ``KIOSK_IDLE_RESET_SECONDS`` idle (meta
refresh, no JavaScript needed). With JavaScript, an answer given offline is queued in the
browser and sent when the connection returns (``static/kiosk_queue.js``): the page carries
``KIOSK_SPARE_TOKENS`` spare signed form tokens for it, and the server stores each once. Only a tablet whose
kiosk cookie belongs to that very point gets in; ``/k/enrol/<secret>`` sets the cookie.
"""
from __future__ import annotations

from flask import current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import abort_with
from ..extensions import csrf, db
from ..i18n import current_language
from ..services.collect import surveys
from ..services.qr import kiosks
from . import bp, flow, limits

COOKIE = "hl_kiosk"
COOKIE_PATH = "/k/"


def _kiosk_target(code: str) -> surveys.SurveyTarget:
    """The survey this tablet shows at point ``code`` (the kiosk's own choice, else the
    point's quick one: ``kiosks.kiosk_target``), or the page saying why there is none."""
    kiosk = kiosks.kiosk_for_key(db.session, request.cookies.get(COOKIE))
    try:
        target = kiosks.kiosk_target(db.session, code, kiosk)
    except surveys.SurveyUnavailable as exc:
        flow.unavailable(exc)
    if kiosk is None or kiosk.unit_id != target.unit.id:
        abort_with(403, _("This device is not set up as a kiosk for this service point. "
                          "Ask the manager of the counter for an enrolment link."), _("Kiosk not set up"))
    return target


def _context(code: str) -> dict:
    config = current_app.config
    return {
        "idle_seconds": config["KIOSK_IDLE_RESET_SECONDS"],
        "reset_seconds": config["KIOSK_RESET_SECONDS"],
        # The next person starts in the default language, whatever the last one chose.
        "reset_url": url_for("public.kiosk_survey", code=code, lang=config["BABEL_DEFAULT_LOCALE"]),
    }


def _no_store(response):
    """A shared tablet must not show the last person's answers on Back."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _action(code: str) -> str:
    return url_for("public.kiosk_submit", code=code, lang=current_language())


KIOSK_SPARE_TOKENS = 20  # answers a tablet can queue offline from one page


@bp.get("/k/<code>")
def kiosk_survey(code: str):
    target = _kiosk_target(code)
    secret = current_app.config["SECRET_KEY"]
    spare = [surveys.issue_form_token(secret, target, None) for _ in range(KIOSK_SPARE_TOKENS)]
    return _no_store(flow.render_survey(target, action_url=_action(code), template="public/kiosk_survey.html",
                                        spare_tokens=spare, **_context(code)))


@bp.post("/k/<code>")
@csrf.exempt  # checked in flow.submit_survey, so a failed check re-renders the form with the answers kept
@limits.survey_point_limit
def kiosk_submit(code: str):
    target = _kiosk_target(code)
    return _no_store(flow.submit_survey(
        target, channel="kiosk", action_url=_action(code), template="public/kiosk_survey.html", spare_tokens=[],
        thanks_url=url_for("public.kiosk_thanks", code=code, lang=current_language()), **_context(code),
    ))


@bp.get("/k/<code>/thanks")
def kiosk_thanks(code: str):
    target = _kiosk_target(code)
    return _no_store(render_template("public/kiosk_thanks.html", target=target, definition=target.definition,
                                     **_context(code)))


@bp.route("/k/enrol/<secret>", methods=["GET", "POST"])
def kiosk_enrol(secret: str):
    state, kiosk = kiosks.enrolment_state(db.session, secret)
    if state == "unknown" or kiosk is None:
        abort_with(404, _("This enrolment link is not valid. Check that it was copied completely."),
                   _("Enrolment link not found"))
    if state != "pending":
        abort_with(410, _("This enrolment link has already been used or has expired. "
                          "Ask the manager for a new one."), _("Enrolment link no longer valid"))
    if request.method == "GET":
        # Opening the link only asks: chat apps fetch links to preview them, and a preview
        # must not use up the one-time link.
        return _no_store(render_template("public/kiosk_enrol.html", kiosk=kiosk))
    enrolled = kiosks.complete_enrolment(db.session, secret)
    if enrolled is None:
        abort_with(410, _("This enrolment link has already been used or has expired. "
                          "Ask the manager for a new one."), _("Enrolment link no longer valid"))
    kiosk, key = enrolled
    response = redirect(url_for("public.kiosk_survey", code=kiosk.unit.code,
                                lang=current_app.config["BABEL_DEFAULT_LOCALE"]), code=303)
    response.set_cookie(COOKIE, key, max_age=current_app.config["KIOSK_COOKIE_MAX_AGE"], path=COOKIE_PATH,
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Strict")
    return response
