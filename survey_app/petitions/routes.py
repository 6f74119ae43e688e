"""Thin routes of the citizens' petition pages: parse, call ``services.petitions.operations``, render."""
from __future__ import annotations

from flask import current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from werkzeug.datastructures import MultiDict

from ..errors import AppError, NextStep, abort_with, error_response, home_step
from ..extensions import csrf, db, limiter
from ..i18n import current_language
from ..models import Unit, utcnow
from ..ratelimit import address_key, address_limit_key, device_key, device_limit_key, remember_device
from ..services.officials import lookup
from ..services.petitions import operations as service
from ..services.petitions import verdicts
from ..services.petitions import similar
from ..services.petitions.labels import CATEGORY_LABELS, EVENT_LABELS, STATUS_LABELS
from ..services.petitions.workdays import calendar_for
from ..services.qr import encoding as qr
from . import bp
from .forms import PetitionForm, TrackingForm

HONEYPOT_FIELD = "website"
#: Sent by the "send mine anyway" button once the similar petitions were shown.
SIMILAR_SEEN = "similar_seen"


# ------------------------------------------------------------------ rate limits (settings, read per request)

# Each on the device and, higher, on the address alone (see survey_app.ratelimit).
petition_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_PETITION_DEVICE"], scope="petition-device",
                                      key_func=device_limit_key, methods=["POST"])
petition_address_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_PETITION_ADDRESS"],
                                              scope="petition-address", key_func=address_limit_key, methods=["POST"])
lookup_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_TRACKING_LOOKUP"], scope="tracking-lookup",
                                    key_func=device_limit_key, methods=["GET"])
lookup_address_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_TRACKING_LOOKUP_ADDRESS"],
                                            scope="tracking-lookup-address", key_func=address_limit_key,
                                            methods=["GET"])
# What the petitioner does at the tracking page (reply, "not resolved", the verdict): the
# lookup's limits, counted apart from new petitions.
followup_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_TRACKING_LOOKUP"],
                                      scope="tracking-followup", key_func=device_limit_key, methods=["POST"])
followup_address_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_TRACKING_LOOKUP_ADDRESS"],
                                              scope="tracking-followup-address", key_func=address_limit_key,
                                              methods=["POST"])


def settings() -> service.PetitionSettings:
    return service.PetitionSettings.from_config(current_app.config, calendar_for(current_app))


def today():
    return service.local_day(utcnow(), current_app.config["DISPLAY_TIMEZONE"])


@bp.context_processor
def petition_context():
    return {"category_labels": CATEGORY_LABELS, "status_labels": STATUS_LABELS, "event_labels": EVENT_LABELS}


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------ the form: /f/<ref>

def _unit(ref: str) -> Unit:
    unit = lookup.find_unit(db.session, ref)
    if unit is None or not unit.active:
        abort_with(404, _("There is no unit at this address. Please check the code on the poster."),
                   _("Unit not found"))
    return unit


def _ref(unit: Unit) -> str:
    return unit.code or unit.path.strip("/")


def _render_form(unit: Unit, form: PetitionForm, status: int = 200, problems: list[str] | None = None, *,
                 suggestions: list[similar.Suggestion] | None = None, token: str | None = None):
    """The form; with ``suggestions`` (similar open petitions) it is sent back once more with
    the same ``token`` (the same submission key and start time) and a "send mine anyway" button."""
    token = token or service.issue_form_token(current_app.config["SECRET_KEY"], unit)
    return _no_store(render_template(
        "petitions/form.html", unit=unit, form=form, form_token=token, problems=problems or [],
        suggestions=suggestions or [],
        action_url=url_for("petitions.form", ref=_ref(unit), lang=current_language()),
        deadline_days=settings().deadline_days, max_mb=current_app.config["PETITION_PHOTO_MAX_BYTES"] // (1024 * 1024),
        text_max=current_app.config["PETITION_TEXT_MAX"],
    )), status


def _allow_upload() -> None:
    """Raise the request size cap for this form only: a photo plus the text."""
    request.max_content_length = current_app.config["PETITION_PHOTO_MAX_BYTES"] * 2 + 256 * 1024


@bp.route("/f/<path:ref>", methods=["GET", "POST"])
@csrf.exempt  # the form checks CSRF itself, so an expired session re-renders the form with the text kept
@petition_limit
@petition_address_limit
def form(ref: str):
    unit = _unit(ref)
    if request.method == "GET":
        return _render_form(unit, PetitionForm(formdata=None))
    _allow_upload()
    form = PetitionForm()
    problems: list[str] = []
    valid = form.validate()
    if form.csrf_token.errors:
        problems.append(_("Your session expired before you sent the form. Your text is kept below: please send again."))
    cfg = current_app.config
    token = service.read_form_token(cfg["SECRET_KEY"], request.form.get("form_token"), unit,
                                    cfg["SURVEY_TOKEN_MAX_AGE"])
    if token is None:
        problems.append(_("This form is out of date. Your text is kept below: please check it and send again."))
    photo = None
    upload = form.photo.data
    if upload is not None and getattr(upload, "filename", ""):
        data = upload.read(cfg["PETITION_PHOTO_MAX_BYTES"] + 1)
        if data:
            try:
                photo = service.process_photo(data, max_bytes=cfg["PETITION_PHOTO_MAX_BYTES"],
                                              max_side=cfg["PETITION_PHOTO_MAX_SIDE"])
            except service.PhotoError as exc:
                form.photo.errors = [*form.photo.errors, exc.message]
                valid = False
    if not valid or problems:
        if form.photo.data and not form.photo.errors and photo is not None:
            problems.append(_("For your safety the photo is not kept between attempts: please choose it again."))
        return _render_form(unit, form, 422, problems)
    contact = None
    dropped = False
    if form.contact_consent.data:
        contact = service.ContactInput(
            consent_text=str(form.contact_consent.label.text), consent_language=current_language(),
            name=form.name.data or None, phone=form.phone.data or None, email=form.email.data or None)
    elif form.contact_given():
        dropped = True  # filled in without consent: not stored, and the receipt says so
    honeypot = bool(request.form.get(HONEYPOT_FIELD, "").strip())
    too_fast = (utcnow() - token.issued_at).total_seconds() < cfg.get("SURVEY_MIN_FILL_SECONDS", 0)
    reason = "honeypot" if honeypot else ("filled too fast" if too_fast else None)
    # Similar open petitions first (once: "send mine anyway" sends ``similar_seen``); not for
    # a suspect sender, nor for a retry of a petition already stored.
    if reason is None and request.form.get(SIMILAR_SEEN) != "1" \
            and not service.already_filed(db.session, token.nonce):
        found = similar.suggestions(db.session, unit, form.category.data, form.text.data)
        if found:
            notes = []
            if photo is not None:
                notes.append(_("For your safety the photo is not kept between attempts: please choose it again."))
            return _render_form(unit, form, 200, notes, suggestions=found, token=request.form.get("form_token"))
    try:
        filed = service.file_petition(
            db.session, unit, category=form.category.data, text=form.text.data, language=current_language(),
            contact=contact, publish_consent=form.publish_consent.data, photo=photo, submission_key=token.nonce,
            trust="suspect" if reason else "ok", trust_reason=reason, settings=settings())
    except service.PetitionError as exc:
        field = getattr(form, exc.field, None) if exc.field else None
        if field is not None:
            field.errors = [*field.errors, exc.message]
        else:
            problems.append(exc.message)
        return _render_form(unit, form, 422, problems)
    args = {"new": 1, "lang": current_language()}
    if dropped:
        args["contact"] = "dropped"
    # Stored: the redirect needs no query (the database may fail right after the commit).
    return redirect(url_for("petitions.status", tracking=service.format_tracking(filed.tracking_code), **args),
                    code=303)


@bp.errorhandler(RateLimitExceeded)
def too_many(exc):
    """Over the limit: nothing is stored, and the citizen keeps what they typed."""
    message = _("Too many petitions have been sent from this device in a short time, so this one was NOT saved. "
                "Your text is kept below: please wait a while and send it again.")
    if request.endpoint == "petitions.form" and request.method == "POST":
        unit = lookup.find_unit(db.session, (request.view_args or {}).get("ref", ""))
        if unit is not None and unit.active:
            _allow_upload()
            try:
                typed = MultiDict(request.form)  # parsed here first: the input check may refuse it
            except AppError:
                typed = MultiDict()
            form = PetitionForm(formdata=typed, meta={"csrf": False})
            response, _status = _render_form(unit, form, 429, [message])
            response.status_code = 429
            if exc.retry_after:
                response.headers["Retry-After"] = str(int(exc.retry_after))
            return response
    response = make_response(error_response(429))
    return response


# ------------------------------------------------------------------ following a petition: /t, /t/<tracking>

@bp.get("/t")
@lookup_limit
@lookup_address_limit
def track():
    form = TrackingForm(request.args)
    raw = request.args.get("code", "")
    if "code" not in request.args:
        return _no_store(render_template("petitions/track.html", form=form, error=None))
    code = service.normalize_tracking(raw)
    if code is None:
        error = _("A tracking code has 10 letters and digits, like 7K3QM-XD9FP. Please check it and try again.")
        return _no_store(render_template("petitions/track.html", form=form, error=error)), 422
    if service.find_by_tracking(db.session, code) is None:
        error = _("We do not know this tracking code. Please check that you typed it exactly as given.")
        return _no_store(render_template("petitions/track.html", form=form, error=error)), 404
    return redirect(url_for("petitions.status", tracking=service.format_tracking(code), lang=current_language()),
                    code=303)


@bp.get("/t/<tracking>")
@lookup_limit
@lookup_address_limit
def status(tracking: str):
    petition = _petition_or_404(tracking)
    canonical = service.format_tracking(petition.tracking_code)
    if tracking != canonical:
        return redirect(url_for("petitions.status", tracking=canonical, **request.args), code=301)
    return _render_status(petition)


def _render_status(petition, status: int = 200, *, reply_error: str | None = None, reply_text: str | None = None,
                   message: str | None = None):
    canonical = service.format_tracking(petition.tracking_code)
    view = service.public_status(petition, today(), current_app.config["DISPLAY_TIMEZONE"])
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")
    link = base + url_for("petitions.status", tracking=canonical)
    return _no_store(render_template(
        "petitions/status.html", view=view, link=link, short_link=qr.short_url(link),
        qr_svg=qr.qr_svg(link, level="Q", module_px=4), new=request.args.get("new") == "1",
        contact_dropped=request.args.get("contact") == "dropped",
        track_url=base + url_for("petitions.track"), reply_error=reply_error, reply_text=reply_text,
        message=message, text_max=current_app.config["PETITION_TEXT_MAX"],
    )), status


def _petition_or_404(tracking: str):
    petition = service.find_by_tracking(db.session, tracking)
    if petition is None:
        abort_with(404, _("We do not know this tracking code. Please check that you typed it exactly as given."),
                   _("Tracking code not found"),
                   [NextStep(_("Type the tracking code again"), url_for("petitions.track", lang=current_language())),
                    home_step()])
    return petition


def _back_to_status(petition, message: str):
    return redirect(url_for("petitions.status", tracking=service.format_tracking(petition.tracking_code),
                            lang=current_language(), done=message), code=303)


@bp.post("/t/<tracking>/reply")
@followup_limit
@followup_address_limit
def reply(tracking: str):
    """The petitioner sends the information the unit asked for: the clock runs again."""
    petition = _petition_or_404(tracking)
    text = request.form.get("reply", "")
    try:
        service.citizen_reply(db.session, petition, text, settings=settings())
    except service.PetitionError as exc:
        db.session.rollback()
        if exc.field:
            return _render_status(petition, 422, reply_error=exc.message, reply_text=text)
        return _render_status(petition, 409, message=exc.message)
    return _back_to_status(petition, "replied")


@bp.post("/t/<tracking>/not-resolved")
@followup_limit
@followup_address_limit
def not_resolved(tracking: str):
    """The petitioner says the answer did not resolve the matter: reopened once, with a new clock."""
    petition = _petition_or_404(tracking)
    try:
        service.not_resolved(db.session, petition, settings=settings())
    except service.PetitionError as exc:
        db.session.rollback()
        return _render_status(petition, 409, message=exc.message)
    return _back_to_status(petition, "reopened")


# ------------------------------------------------------------------ a petition's public page: /a/<id>

def _public_or_404(petition_id: int):
    petition = service.find_public(db.session, petition_id)
    if petition is None:
        abort_with(404, _("There is no public petition at this address."), _("Petition not found"), [home_step()])
    return petition


def _render_public(petition, status: int = 200, *, verdict_error: str | None = None):
    can_judge = verdicts.can_judge(petition)
    shown = None
    if can_judge:
        found = verdicts.counts(db.session, [petition.id]).get(petition.id, verdicts.VerdictCounts())
        shown = verdicts.suppressed_counts(found)
    token = verdicts.issue_form_token(current_app.config["SECRET_KEY"], petition) if can_judge else None
    return _no_store(render_template(
        "petitions/public.html", view=service.public_petition(petition, today()), can_judge=can_judge,
        verdict_counts=shown, verdict_token=token, verdict_error=verdict_error,
        verdict_done=request.args.get("done") == "verdict")), status


@bp.get("/a/<int:petition_id>")
@lookup_limit
@lookup_address_limit
def public_petition(petition_id: int):
    """What anyone may read of a petition (linked from the unit's results page and from the
    similar-petition suggestions): never the tracking code's powers. Once the answer is
    published, anyone may say whether it satisfies them (:func:`verdict`)."""
    return _render_public(_public_or_404(petition_id))


# The survey's per-device and per-address limits, counted apart from the survey's answers:
# over them nothing is stored (429).
verdict_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_SURVEY_DEVICE"], scope="verdict-device",
                                     key_func=device_limit_key, methods=["POST"])
verdict_address_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_SURVEY_ADDRESS"],
                                             scope="verdict-address", key_func=address_limit_key, methods=["POST"])


@bp.post("/a/<int:petition_id>/verdict")
@verdict_limit
@verdict_address_limit
def verdict(petition_id: int):
    """"Hài lòng" / "Không hài lòng" with a published answer, once per device
    (``services/petitions/verdicts.py``: the survey's device hash, honeypot, too-fast flag)."""
    petition = _public_or_404(petition_id)
    cfg = current_app.config
    token = verdicts.read_form_token(cfg["SECRET_KEY"], request.form.get("form_token"), petition,
                                     cfg["SURVEY_TOKEN_MAX_AGE"])
    signals = verdicts.VerdictSignals(
        device_hash=device_key(), address_hash=address_key(),
        honeypot=bool(request.form.get(verdicts.HONEYPOT_FIELD, "").strip()),
        fill_seconds=(utcnow() - token.started_at).total_seconds() if token else None)
    try:
        verdicts.record(db.session, petition, request.form.get("verdict"), token, signals,
                        min_fill_seconds=cfg.get("SURVEY_MIN_FILL_SECONDS", 0))
    except verdicts.VerdictError as exc:
        db.session.rollback()
        return _render_public(petition, exc.status, verdict_error=exc.message)
    return redirect(url_for("petitions.public_petition", petition_id=petition_id, lang=current_language(),
                            done="verdict") + "#verdict", code=303)


@bp.after_request
def _device_cookie(response):
    """The public answer's page gives the browser the survey's device cookie
    (``ratelimit.remember_device``), so its verdict counts once per device."""
    if request.endpoint in ("petitions.public_petition", "petitions.verdict"):
        remember_device(response)
    return response


# ------------------------------------------------------------------ stopping the e-mails: /u/<token>

def _unsubscribe_target(token: str):
    from ..services.petitions import notify

    petition = notify.petition_for_token(db.session, current_app.config["SECRET_KEY"], token)
    if petition is None:
        abort_with(404, _("This link to stop the e-mails is not valid. Please use the link exactly as it is in the "
                          "e-mail."), _("Link not valid"), [home_step()])
    return petition


@bp.get("/u/<token>")
@lookup_limit
@lookup_address_limit
def unsubscribe(token: str):
    """One link in every e-mail about a petition: a page with one button (a GET changes nothing:
    mail scanners open links)."""
    petition = _unsubscribe_target(token)
    contact = petition.contact
    stopped = contact is None or not contact.email or contact.unsubscribed_at is not None
    return _no_store(render_template("petitions/unsubscribe.html", code=service.format_tracking(petition.tracking_code),
                                     stopped=stopped, done=False, token=token))


@bp.post("/u/<token>")
@csrf.exempt  # the signed link is the credential; mail clients' one-click POST (RFC 8058) has no form token
@lookup_limit
@lookup_address_limit
def unsubscribe_confirm(token: str):
    from ..services.petitions import notify

    petition = _unsubscribe_target(token)
    notify.unsubscribe(db.session, petition)
    return _no_store(render_template("petitions/unsubscribe.html", code=service.format_tracking(petition.tracking_code),
                                     stopped=True, done=True, token=token))
