"""The survey form's round trip, shared by ``/s`` (poster QR), ``/v`` (one-time code) and
``/k`` (kiosk): render with a fresh signed form token; on POST validate, check CSRF and
the form token, weigh the trust signals, store once, redirect to the thank-you page.
:func:`open_target` finds the open survey behind a poster code for ``/s``; ``/k`` asks
``kiosks.kiosk_target`` (the kiosk's choice or the quick survey) and says why there is none
with :func:`unavailable`, as ``/s`` does."""
from __future__ import annotations

from typing import NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

from ..errors import NextStep, abort_with, home_step
from ..extensions import csrf, db
from ..i18n import current_language
from ..models import Unit, utcnow
from ..ratelimit import address_key, device_key
from ..services.collect import abuse, residence, surveys
from ..services.petitions import operations as petitions


def feedback_steps(unit: Unit | None) -> list[NextStep]:
    """The next steps an error page about ``unit`` offers: send it feedback (a petition,
    ``/f``) while it is active, and the home page."""
    steps = []
    if unit is not None and unit.active:
        lang = current_language()
        steps.append(NextStep(_("Send feedback to %(unit)s", unit=unit.name(lang)),
                              url_for("petitions.form", ref=unit.code or unit.path.strip("/"), lang=lang)))
    steps.append(home_step())
    return steps


def _find_step() -> NextStep:
    return NextStep(_("Find the place by its name"), url_for("public.index", lang=current_language()) + "#find")


def unavailable(exc: surveys.SurveyUnavailable) -> NoReturn:
    """The page saying why point ``exc`` names has no survey to answer (always raises)."""
    if exc.reason == "closed":
        abort_with(410, _("This survey has closed. Thank you for your interest."), _("Survey closed"),
                   feedback_steps(exc.unit))
    if exc.reason == "not_started" and exc.opens_at is not None:
        abort_with(404, _("This survey is not open yet. It opens on %(when)s.",
                          when=format_datetime(exc.opens_at, "dd/MM/yyyy HH:mm")), _("Survey not open yet"),
                   feedback_steps(exc.unit))
    if exc.unit is not None:  # a point where no survey ever ran
        abort_with(404, _("No survey is open at %(unit)s.", unit=exc.unit.name(current_language())),
                   _("Survey not found"), feedback_steps(exc.unit))
    abort_with(404, _("There is no survey at this address. Please check the code on the poster."),
               _("Survey not found"), [_find_step(), home_step()])


def open_target(code: str, *, autocommit: bool = False, page: bool = False) -> surveys.SurveyTarget:
    """The open campaign behind a poster code, or the error page saying why there is none.

    ``autocommit``: every statement of the request stands alone, so on PostgreSQL the
    request's connection runs in autocommit mode, without the BEGIN and COMMIT (or
    ROLLBACK) round trips around its statements: the survey page and the thank-you page
    (one read), and the survey POST of a poster, whose only write is one
    statement (``surveys.submit_response``; the reads before it are the lookup and the
    trust counts, each its own snapshot under READ COMMITTED as inside a transaction). Not
    for a POST that spends a one-time code: spending it and storing the answer are two
    statements that must commit together. Only when the request has not begun a
    transaction yet. (On SQLite those are calls inside the process, and switching the
    connection's mode costs more than it saves.)

    ``page``: a page that only shows the form (the GET), which may reuse this process's
    read of the point for ``SURVEY_PAGE_REUSE_SECONDS`` (``surveys.resolve_open_campaign``);
    never for a POST."""
    if autocommit and not db.session().in_transaction() and db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    try:
        reuse = current_app.config["SURVEY_PAGE_REUSE_SECONDS"] if page else 0
        return surveys.resolve_open_campaign(db.session, code, reuse_for=reuse)
    except surveys.SurveyUnavailable as exc:
        unavailable(exc)


QUESTIONS_TEMPLATE = "public/_survey_questions.html"
TAIL_TEMPLATE = "public/_survey_form_tail.html"
MARKUP_CACHE_SIZE = 128  # (template, version, language) kept per process; far more than are ever open


def _kept_markup(template: str, version, lang: str) -> Markup:
    """``template`` rendered for a fresh (empty) form of ``version`` in ``lang``, rendered
    once per process and kept (with template auto-reload on, as in debug, never kept).
    Versions are immutable (an edit is a new version) and the key has the content hash too."""
    def render() -> Markup:
        return Markup(render_template(template, definition=version.snapshot, values={}, errors={},
                                      field_prefix=surveys.FIELD_PREFIX))

    if current_app.jinja_env.auto_reload:
        return render()
    cache = current_app.extensions.setdefault("hailong.survey_markup", {})
    key = (template, version.id, version.content_hash, lang)
    markup = cache.get(key)
    if markup is None:
        markup = render()
        if len(cache) >= MARKUP_CACHE_SIZE:
            cache.clear()
        cache[key] = markup
    return markup


def questions_markup(version, lang: str) -> Markup:
    """The questions of a fresh (empty) form of ``version`` in ``lang``: the same for every
    visitor, so rendered once per process and kept. Only the markup of the questions is
    kept; the page around it (CSRF token, signed form token, the point's name) is rendered
    per request."""
    return _kept_markup(QUESTIONS_TEMPLATE, version, lang)


def form_tail_markup(version, lang: str) -> Markup:
    """What follows the questions and the commune question on every form of ``version`` in
    ``lang`` (the anonymity note, the hidden anti-bot field, the button, the skip-logic
    script): the same whatever was answered, so kept like :func:`questions_markup`."""
    return _kept_markup(TAIL_TEMPLATE, version, lang)


def _communes(target: surveys.SurveyTarget) -> list[residence.Commune]:
    """The communes the form offers for "where do you live" (kept per app for a few minutes)."""
    return residence.choices(db.session, target.unit, current_app.extensions.setdefault("hailong.communes", {}))


LANGUAGE_FIELD = "_lang"  # sent only by a header language button of the form page (survey.html)


def language_actions(action_url: str) -> dict[str, str]:
    """The form's address in each language (its ``lang`` argument replaced): where the
    header's language buttons post the form."""
    parts = urlsplit(action_url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return {code: urlunsplit(parts._replace(query=urlencode(kept + [("lang", code)])))
            for code in current_app.config["LANGUAGES"]}


def render_survey(target: surveys.SurveyTarget, *, action_url: str, validation: surveys.Validation | None = None,
                  status: int = 200, template: str = "public/survey.html", first_served=None, **context):
    """The survey page with a fresh form token. A form sent back with problems is rendered
    whole (the answers given and the errors are in it); a fresh one reuses the questions'
    markup (:func:`questions_markup`)."""
    token = surveys.issue_form_token(current_app.config["SECRET_KEY"], target, first_served)
    context.setdefault("communes", _communes(target))
    return render_template(
        template,
        target=target,
        definition=target.definition,
        form_token=token,
        action_url=action_url,
        values=validation.values if validation else {},
        errors=validation.errors if validation else {},
        form_errors=validation.form_errors if validation else [],
        field_prefix=surveys.FIELD_PREFIX,
        questions_html=None if validation else questions_markup(target.version, current_language()),
        tail_html=form_tail_markup(target.version, current_language()),
        lang_actions=language_actions(action_url),
        **context,
    ), status


def refuse_flood(target: surveys.SurveyTarget, *, action_url: str, minutes: int, busy_point: bool = False):
    """A plain flood from this device or address, or the point's burst cap
    (``busy_point``; ``limits.poster_verdict``): nothing is stored, the form comes back
    with the posted answers filled in (429, ``Retry-After``) and says when to try again."""
    if busy_point:
        message = _("This service point is receiving very many answers right now. Your answers are kept "
                    "below: please try again in %(minutes)d minutes.", minutes=minutes)
    else:
        message = _("Too many answers have come from this device in a short time. Your answers are "
                    "kept below: please try again in %(minutes)d minutes.", minutes=minutes)
    body, status = _posted_again(target, [message], action_url=action_url, status=429)
    return body, status, {"Retry-After": str(minutes * 60)}


def _posted_token(target: surveys.SurveyTarget):
    """The posted form token if it is genuine, fresh and for this form, else ``None``."""
    return surveys.read_form_token(current_app.config["SECRET_KEY"], request.form.get("form_token"),
                                   target, current_app.config["SURVEY_TOKEN_MAX_AGE"])


def _render_posted(target: surveys.SurveyTarget, validation: surveys.Validation, token, *, action_url: str,
                   status: int, **context):
    """The form again with the posted answers, keeping the time it was first served."""
    return render_survey(target, action_url=action_url, validation=validation, status=status,
                         first_served=token.started_at if token else None,
                         residence_chosen=request.form.get(residence.FIELD, ""), **context)


def _posted_again(target: surveys.SurveyTarget, messages: list[str], *, action_url: str, status: int, **context):
    """The form again with the posted answers filled in, none marked wrong, and ``messages``
    above it: nothing was stored."""
    validation = surveys.validate_answers(target.definition, request.form)
    validation.errors, validation.form_errors = {}, messages
    return _render_posted(target, validation, _posted_token(target), action_url=action_url, status=status, **context)


def switching_language() -> bool:
    """Whether this POST came from a language button (``_lang``) rather than the send button."""
    return request.form.get(LANGUAGE_FIELD) in current_app.config["LANGUAGES"]


def switch_language(target: surveys.SurveyTarget, *, action_url: str, template: str = "public/survey.html",
                    **context):
    """The same form again in the language of the address it was posted to (the button's
    ``formaction``), with every answer given so far filled in and no message: nothing is
    stored and no one-time code spent. The poster's flood and device limits are not counted
    (``routes.submit`` asks first); the routes' decorator limits (a point's burst cap, the
    code form's device limit) still count the POST, far above what one citizen's switching
    reaches. The page gets a fresh form token that keeps the time the form was first served,
    and the session's CSRF token."""
    return _posted_again(target, [], action_url=action_url, status=200, template=template, **context)


def submit_survey(target: surveys.SurveyTarget, *, channel: str, action_url: str, thanks_url: str,
                  template: str = "public/survey.html", spend_token_id: int | None = None,
                  over_limit: bool = False, **context):
    """Handle a survey POST. Raises :class:`surveys.TokenAlreadySpent` when
    ``spend_token_id`` was spent meanwhile (nothing is stored then). A language button's
    POST only renders the form again (:func:`switch_language`)."""
    if switching_language():
        return switch_language(target, action_url=action_url, template=template, **context)
    validation = surveys.validate_answers(target.definition, request.form)
    communes = _communes(target)
    residence_id, residence_error = residence.read(request.form, communes)
    if residence_error:
        validation.form_errors.append(residence_error)
    try:
        csrf.protect()
    except CSRFError:
        validation.form_errors.append(
            _("Your session expired before you sent the form. Your answers are kept below: please send again.")
        )
    token = _posted_token(target)
    if token is None:
        validation.form_errors.append(
            _("This form is out of date. Your answers are kept below: please check them and send again.")
        )
    if not validation.ok or token is None:
        return _render_posted(target, validation, token, action_url=action_url, status=422, template=template,
                              communes=communes, **context)
    now = utcnow()
    device_hash = None if channel == "kiosk" else device_key()
    address_hash = None if channel == "kiosk" else address_key()
    signals = abuse.Signals(
        channel=channel, device_hash=device_hash, address_hash=address_hash,
        honeypot=bool(request.form.get(surveys.HONEYPOT_FIELD, "").strip()),
        fill_seconds=(now - token.started_at).total_seconds(), over_limit=over_limit,
    )
    verdict = abuse.assess(db.session, target, validation.answers, signals,
                           abuse.AbuseSettings.from_config(current_app.config), now)
    # Decided before the commit, from what is loaded: after it the session's objects are
    # expired, and reading them would be a query that may fail although the answer is saved.
    low_score = petitions.is_low_score(target.definition, validation.answers)
    surveys.submit_response(
        db.session, target, validation.answers, channel=channel, language=current_language(),
        idempotency_key=token.nonce, trust=verdict.trust, trust_reason=verdict.reason,
        submitted_at=now, device_hash=device_hash, address_hash=address_hash,
        spend_token_id=spend_token_id,
        also_flag=verdict.also_flag, digest=verdict.digest, residence_unit_id=residence_id,
    )
    # Stored: nothing below touches the database. A low score invites the citizen to leave
    # feedback (a petition) on the thank-you page.
    if low_score:
        thanks_url += ("&" if "?" in thanks_url else "?") + "low=1"
    return redirect(thanks_url, code=303)


def already_submitted(target: surveys.SurveyTarget | None) -> bool:
    """Whether the form being posted was stored before (a double tap or a retry)."""
    if target is None:
        return False
    token = surveys.read_form_token(current_app.config["SECRET_KEY"], request.form.get("form_token"),
                                    target, current_app.config["SURVEY_TOKEN_MAX_AGE"])
    return token is not None and surveys.existing_response(db.session, target, token.nonce) is not None
