"""Finding the survey behind a public code, validating answers, storing a response.

The routes stay thin: they call :func:`resolve_open_campaign`, :func:`validate_answers`
and :func:`submit_response`, and render what comes back.
"""
from __future__ import annotations

import functools
from time import monotonic
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from typing import Any, Mapping, Sequence

from flask_babel import gettext as _
from flask_babel import get_locale, ngettext
from sqlalchemy import (Executable, Integer, Select, String, Text, and_, bindparam, event, func, insert, or_, select,
                        true, update)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from analysis.instrument import scaled, unscale

from ...models import (Answer, Campaign, Dossier, Instrument, InstrumentVersion, Response, Unit, VisitToken,
                       answer_digest, campaign_unit, utcnow)
from . import formtoken, numbers, relevance
from .formtoken import FormToken
from .text import clean_text

FIELD_PREFIX = "q_"
# A visually hidden text field people never see (see the survey template): a bot that
# fills it marks its response suspect.
HONEYPOT_FIELD = "website"
#: The one-question survey for a citizen at the counter (``surveys/quick-feedback.toml``): a
#: kiosk prefers it, a poster prefers any other, and a point may have one of each open.
QUICK_INSTRUMENT = "quick-feedback"
FORM_META_FIELDS = frozenset({"csrf_token", "form_token", "lang", HONEYPOT_FIELD, "residence"})


# --------------------------------------------------------------------------- lookup

@dataclass(frozen=True)
class SurveyTarget:
    unit: Unit
    campaign: Campaign
    version: InstrumentVersion

    @property
    def definition(self) -> dict[str, Any]:
        return self.version.snapshot


class SurveyUnavailable(Exception):
    """No survey can be answered here; ``reason`` is one of unknown, not_started, closed."""

    def __init__(self, reason: str, unit: Unit | None = None, opens_at: datetime | None = None):
        super().__init__(reason)
        self.reason = reason
        self.unit = unit
        self.opens_at = opens_at


def _columns(model) -> tuple[list[str], list]:
    """The mapped attribute names of ``model`` and their columns, in one order."""
    attrs = list(sa_inspect(model).column_attrs)
    return [a.key for a in attrs], [a.columns[0] for a in attrs]


_UNIT_KEYS, _UNIT_COLUMNS = _columns(Unit)
_CAMPAIGN_KEYS, _CAMPAIGN_COLUMNS = _columns(Campaign)

# The active point with this code, each of its campaigns of this access mode that is not a
# draft (none: one row with NULLs), and each campaign's version hash and instrument key, as
# plain columns (Core rows, no ORM loading). Built once: only the parameters change.
_POINT_AND_CAMPAIGNS = (
    select(*_UNIT_COLUMNS, *_CAMPAIGN_COLUMNS, InstrumentVersion.content_hash, Instrument.key)
    .select_from(Unit)
    .outerjoin(campaign_unit, campaign_unit.c.unit_id == Unit.id)
    .outerjoin(Campaign, and_(Campaign.id == campaign_unit.c.campaign_id,
                              Campaign.access_mode == bindparam("access_mode"), Campaign.status != "draft"))
    .outerjoin(InstrumentVersion, InstrumentVersion.id == Campaign.instrument_version_id)
    .outerjoin(Instrument, Instrument.id == InstrumentVersion.instrument_id)
    .where(Unit.code == bindparam("code"), Unit.active.is_(True))
    # newest first; a campaign without a start date is the oldest on both databases (by
    # default PostgreSQL puts NULLs first in a DESC order and SQLite last)
    .order_by(Campaign.starts_at.desc().nulls_last(), Campaign.id.desc())
)


def resolve_open_campaign(session: Session, code: str, access_mode: str = "open",
                          now: datetime | None = None, reuse_for: float = 0.0, *,
                          prefer_campaign: int | None = None, prefer_instrument: str | None = None) -> SurveyTarget:
    """The campaign a citizen answers at service point ``code`` right now.

    Several campaigns may be open there at once (one of ``QUICK_INSTRUMENT`` beside one
    of another instrument, :func:`survey_app.services.officials.campaigns.conflicts`): the
    one most recently started is answered (the last created among those started together),
    a poster preferring one that is not the quick survey. A kiosk asks otherwise
    (:func:`survey_app.services.qr.kiosks.kiosk_target`): ``prefer_campaign``, the
    campaign its manager chose, if it is open here; else the first open one whose
    instrument's key is ``prefer_instrument`` (the quick one); else the first open one.

    Raises :class:`SurveyUnavailable`: ``unknown`` (no such active point, or no campaign
    ever ran there), ``not_started`` (the next one opens later) or ``closed`` (every
    campaign there has closed or ended).

    One query reads the point and its campaigns as they are now, every time: a campaign
    closed, paused, edited or ended, or a point deactivated, is answered as such at once.
    Only turning those rows into objects is spared (:func:`_objects`), and the immutable
    instrument version comes from :func:`_version`.

    ``reuse_for`` (seconds; the survey page's GET only, never a POST): rows this process
    read less than that long ago are used again without the query. The campaigns' dates
    are still checked against ``now``, so a campaign opens and ends on the second; an edit
    by an official (closing, pausing, a new version) is seen at once by this process (any
    flush that touches a unit or a campaign forgets every kept read, :func:`watch_changes`)
    and by the other processes within ``reuse_for``. A POST always reads afresh, so no
    answer is ever stored for a campaign that has closed.
    """
    now = now or utcnow()
    if not code or len(code) > 16:
        raise SurveyUnavailable("unknown")
    kept = _POINTS.get((code, access_mode)) if reuse_for > 0 else None
    if kept is not None and monotonic() - kept[2] < reuse_for:
        rows = kept[0]
    else:
        rows = tuple(tuple(row) for row in session.connection().execute(
            _POINT_AND_CAMPAIGNS, {"code": code, "access_mode": access_mode}))
    if not rows:
        raise SurveyUnavailable("unknown")
    unit, campaigns = _objects(code, access_mode, rows)
    states = [(c, digest, key, c.state_at(now)) for c, digest, key in campaigns]
    open_now = [(c, digest, key) for c, digest, key, s in states if s == "open"]
    if open_now:
        campaign, digest, _key = _preferred(open_now, prefer_campaign, prefer_instrument)
        version = _version(session, campaign.instrument_version_id, digest)
        return SurveyTarget(session.merge(unit, load=False), session.merge(campaign, load=False), version)
    upcoming = [c for c, _digest, _key, s in states if s == "not_started"]
    if upcoming:
        first = min(upcoming, key=lambda c: c.starts_at)
        raise SurveyUnavailable("not_started", session.merge(unit, load=False), first.starts_at)
    if campaigns:
        raise SurveyUnavailable("closed", session.merge(unit, load=False))
    raise SurveyUnavailable("unknown", session.merge(unit, load=False))


def _preferred(open_now: list[tuple[Campaign, str, str]], prefer_campaign: int | None,
               prefer_instrument: str | None) -> tuple[Campaign, str, str]:
    """Of the open (campaign, version hash, instrument key) triples, newest first: the one
    with id ``prefer_campaign``; else the first of instrument ``prefer_instrument`` (or,
    without one, the first that is not the quick survey); else the first."""
    if prefer_campaign is not None:
        chosen = next((o for o in open_now if o[0].id == prefer_campaign), None)
        if chosen is not None:
            return chosen
    if prefer_instrument is not None:
        wanted = (o for o in open_now if o[2] == prefer_instrument)
    else:
        wanted = (o for o in open_now if o[2] != QUICK_INSTRUMENT)
    return next(wanted, open_now[0])


# Per process: (code, access mode) → (the rows last read, the detached objects made from
# them, when they were read: time.monotonic()). The objects are reused only while the rows
# read now are exactly the same values; the rows themselves only within ``reuse_for``.
_POINTS: dict[tuple[str, str], tuple[tuple, tuple[Unit, list[tuple[Campaign, str, str]]], float]] = {}
_POINTS_KEPT = 4096
_VERSIONS: dict[tuple[int, str], InstrumentVersion] = {}
_VERSIONS_KEPT = 64


def _detached(model, keys: list[str], values) -> Any:
    """An object of ``model`` with these column values, detached as if loaded and then
    closed: ``session.merge(obj, load=False)`` attaches a copy of it without a query."""
    obj = model(**dict(zip(keys, values)))
    make_transient_to_detached(obj)
    return obj


def _objects(code: str, access_mode: str, rows: tuple) -> tuple[Unit, list[tuple[Campaign, str, str]]]:
    """The point and its campaigns (with their version hashes and instrument keys) for
    ``rows``, made once per distinct set of values: building ORM objects costs more than
    reading the rows."""
    kept = _POINTS.get((code, access_mode))
    if kept is not None and kept[0] is rows:  # reused rows (``reuse_for``): keep their read time
        return kept[1]
    if kept is not None and kept[0] == rows:
        _POINTS[(code, access_mode)] = (rows, kept[1], monotonic())
        return kept[1]
    n_unit, n_campaign = len(_UNIT_KEYS), len(_CAMPAIGN_KEYS)
    unit = _detached(Unit, _UNIT_KEYS, rows[0][:n_unit])
    campaigns = [(_detached(Campaign, _CAMPAIGN_KEYS, row[n_unit:n_unit + n_campaign]), row[-2], row[-1])
                 for row in rows if row[n_unit] is not None]
    if len(_POINTS) >= _POINTS_KEPT:
        _POINTS.clear()
    _POINTS[(code, access_mode)] = (rows, (unit, campaigns), monotonic())
    return unit, campaigns


_CHANGED = "hailong.points_changed"


def _forget_points_on_change(session: Session, _flush_context) -> None:
    """After a flush that wrote a unit or a campaign (their links to each other included:
    the campaign is then dirty), no kept read is reused: this process sees the edit at once.
    Forgotten again at the commit, for a page that read the old rows in between."""
    if any(isinstance(obj, (Unit, Campaign)) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED] = True
        _POINTS.clear()


_WATCHED_TABLES = frozenset({Unit.__table__, Campaign.__table__, campaign_unit})


def _forget_points_on_bulk_change(state) -> None:
    """The same for a bulk statement through the session (``session.execute(update(Unit)…)``,
    as deactivating a branch of the tree does), which no flush sees."""
    if (state.is_update or state.is_delete or state.is_insert) and \
            getattr(state.statement, "table", None) in _WATCHED_TABLES:
        state.session.info[_CHANGED] = True
        _POINTS.clear()


def _forget_points_on_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        _POINTS.clear()


def forget_kept_reads() -> None:
    """Reuse no kept read of a point (the database has just failed: the next page asks it)."""
    _POINTS.clear()


def watch_changes() -> None:
    """Listen for flushes and bulk statements that change units or campaigns
    (``create_app`` calls it; once per process, however many apps). A statement sent past
    the session (a bare connection, another process) is seen within ``reuse_for``."""
    if not event.contains(Session, "after_flush", _forget_points_on_change):
        event.listen(Session, "after_flush", _forget_points_on_change)
        event.listen(Session, "after_commit", _forget_points_on_commit)
        event.listen(Session, "do_orm_execute", _forget_points_on_bulk_change)


def _version(session: Session, version_id: int, content_hash: str) -> InstrumentVersion:
    """The instrument version ``version_id`` in ``session``, from a per-process copy when
    there is one: a version never changes (an edit makes a new one), and the key carries
    its content hash, so a copy can only ever stand for the same definition. Attaching the
    copy (``merge(load=False)``) costs no query and no JSON parsing of the snapshot."""
    kept = _VERSIONS.get((version_id, content_hash))
    if kept is not None:
        return session.merge(kept, load=False)
    version = session.get(InstrumentVersion, version_id)
    if version is None or version.content_hash != content_hash:  # changed meanwhile: use it, keep nothing
        return version
    keys, _columns_ = _columns(InstrumentVersion)
    copy = _detached(InstrumentVersion, keys, [getattr(version, k) for k in keys])
    if len(_VERSIONS) >= _VERSIONS_KEPT:
        _VERSIONS.clear()
    _VERSIONS[(version_id, content_hash)] = copy
    return version


# --------------------------------------------------------------------------- form token

FORM_SALT = "hailong.survey-form"


def _binding(target: SurveyTarget) -> dict[str, int]:
    return {"c": target.campaign.id, "u": target.unit.id, "v": target.version.id}


def issue_form_token(secret: str, target: SurveyTarget, first_served: datetime | None = None) -> str:
    """A signed token naming this form (``services.collect.formtoken``): it carries the campaign,
    unit and version the form was rendered for and a random nonce that becomes the
    response's idempotency key, so a double tap, a back-and-resubmit or a network retry
    stores one response.

    ``first_served`` (a form re-rendered after an error) keeps the time the person first
    got the form, so fixing one answer quickly does not look like a too-fast bot."""
    return formtoken.issue(secret, FORM_SALT, _binding(target), first_served)


def read_form_token(secret: str, token: str | None, target: SurveyTarget, max_age: int) -> FormToken | None:
    """The token if it is genuine, fresh and for this very form; else ``None``."""
    return formtoken.read(secret, FORM_SALT, token, _binding(target), max_age)


# --------------------------------------------------------------------------- validation

@dataclass
class Validation:
    """What a submitted form said: the cleaned answers, or the problems with it.

    ``values`` keeps what the citizen gave (question key → list of raw strings) so a form
    re-rendered after an error loses nothing.
    """

    answers: list[tuple[str, int | None, str | None]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    form_errors: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.form_errors


def _int_or_none(raw: str) -> int | None:
    raw = raw.strip()
    if not raw or len(raw) > 6:
        return None
    try:
        return int(raw, 10)
    except ValueError:
        return None


def _decimal_answer(q: Mapping[str, Any], typed: str, errors: dict[str, str]) -> int | None:
    """A number with decimals (``services/collect/numbers.py``): its stored whole number,
    or ``None`` with the reason in ``errors``, in the page's language (3,5 in Vietnamese)."""
    decimals, lo, hi = q["decimals"], q["min"], q["max"]
    try:
        return numbers.read(typed, decimals, lo, hi)
    except numbers.NumberRefused as exc:
        locale = get_locale()
        lang = locale.language if locale is not None else "vi"
        low, high = numbers.written(lo, lang), numbers.written(hi, lang)
        if exc.reason == "too_many_decimals":
            errors[q["key"]] = ngettext(
                "Please give at most %(num)d digit after the decimal point (a number from %(low)s to %(high)s).",
                "Please give at most %(num)d digits after the decimal point (a number from %(low)s to %(high)s).",
                decimals, low=low, high=high)
        elif exc.reason == "out_of_range":
            errors[q["key"]] = _("Please give a number from %(low)s to %(high)s.", low=low, high=high)
        else:
            example = numbers.written(unscale((scaled(lo, decimals) + scaled(hi, decimals)) // 2, decimals), lang)
            errors[q["key"]] = _("Please write the number in digits, with a comma or a point before the decimals, "
                                 "e.g. %(example)s.", example=example)
        return None


def validate_answers(definition: Mapping[str, Any], form: Any) -> Validation:
    """Check a submitted form (a werkzeug ``MultiDict``) against an instrument definition.

    A question whose ``relevant`` condition is false (``services/collect/relevance.py``,
    read from the answers accepted before it) was not asked: whatever was sent for it is
    dropped unchecked, and it is not required."""
    result = Validation()
    accepted: dict[str, list[str]] = {}
    questions = definition["questions"]
    known = {FIELD_PREFIX + q["key"] for q in questions}
    unexpected = [name for name in form.keys() if name not in known and name not in FORM_META_FIELDS]
    if unexpected:
        result.form_errors.append(
            _("The form contained fields this survey does not have. Please check your answers and send them again.")
        )
    for q in questions:
        key, qtype = q["key"], q["type"]
        raw_values = [v for v in form.getlist(FIELD_PREFIX + key)]
        result.values[key] = [v[:5000] for v in raw_values]
        present = [v for v in raw_values if v.strip()]
        if q.get("relevant") and not relevance.evaluate(relevance.parse_cached(q["relevant"]), accepted):
            continue
        before = len(result.answers)
        if not present:
            if q["required"]:
                result.errors[key] = _("Please answer this question.")
            continue
        if qtype != "multi" and len(raw_values) > 1:
            result.errors[key] = _("Please choose only one answer.")
            continue
        if qtype == "scale":
            allowed = {lv["value"] for lv in definition["scales"][q["scale"]]["levels"]}
            value = _int_or_none(present[0])
            if value is None or value not in allowed:
                result.errors[key] = _("Please choose one of the answers shown.")
                continue
            result.answers.append((key, value, None))
        elif qtype == "yesno":
            value = {"1": 1, "0": 0}.get(present[0].strip())
            if value is None:
                result.errors[key] = _("Please choose yes or no.")
                continue
            result.answers.append((key, value, None))
        elif qtype == "number" and q.get("decimals"):
            value = _decimal_answer(q, present[0], result.errors)
            if value is None:
                continue
            result.answers.append((key, value, None))
        elif qtype in ("rating", "percent", "number"):
            value = _int_or_none(present[0])
            lo, hi = q["min"], q["max"]
            if value is None or not lo <= value <= hi:
                result.errors[key] = _("Please give a whole number from %(low)d to %(high)d.", low=lo, high=hi)
                continue
            result.answers.append((key, value, None))
        elif qtype == "single":
            option_keys = {o["key"] for o in q["options"]}
            if present[0] not in option_keys:
                result.errors[key] = _("Please choose one of the answers shown.")
                continue
            result.answers.append((key, None, present[0]))
        elif qtype == "multi":
            option_keys = [o["key"] for o in q["options"]]
            chosen = list(dict.fromkeys(present))
            if any(v not in option_keys for v in chosen):
                result.errors[key] = _("Please choose among the answers shown.")
                continue
            limit = q.get("max_choices")
            if limit and len(chosen) > limit:
                result.errors[key] = ngettext(
                    "Please choose at most %(num)d answer.", "Please choose at most %(num)d answers.", limit
                )
                continue
            for v in sorted(chosen, key=option_keys.index):
                result.answers.append((key, None, v))
        elif qtype in ("text", "longtext"):
            text = clean_text(present[0])
            limit = q["max_length"]
            if len(text) > limit:
                result.errors[key] = _(
                    "Please shorten your answer to %(limit)d characters (it has %(length)d).",
                    limit=limit, length=len(text),
                )
                continue
            if not text:
                if q["required"]:
                    result.errors[key] = _("Please answer this question.")
                continue
            result.answers.append((key, None, text))
        if len(result.answers) > before:
            decimals = q.get("decimals") if qtype == "number" else 0
            accepted[key] = [str(vt if vi is None else unscale(vi, decimals) if decimals else vi)
                             for _k, vi, vt in result.answers[before:]]
    if not result.ok:
        result.answers = []
    return result


# --------------------------------------------------------------------------- storage

@dataclass(frozen=True)
class Submitted:
    response_id: int
    created: bool


class TokenAlreadySpent(Exception):
    """The one-time code was spent (or ran out) before this submission could use it."""


def _claim_token(session: Session, token_id: int, now: datetime) -> bool:
    """Spend a one-time code: one conditional UPDATE whose row count decides.

    On PostgreSQL a racing transaction blocks on the row lock and then re-checks
    ``spent_at IS NULL``, finding it set; on SQLite the first write of the transaction
    takes the database's write lock, so the loser waits (busy timeout) and then sees the
    winner's commit. Either way exactly one transaction gets row count 1.
    ``spent_at`` is rounded down to the UTC day so it cannot be matched to a response's
    time.
    """
    day = datetime.combine(now.astimezone(timezone.utc).date(), time(), tzinfo=timezone.utc)
    result = session.execute(
        update(VisitToken)
        .where(VisitToken.id == token_id, VisitToken.spent_at.is_(None),
               or_(VisitToken.expires_at.is_(None), VisitToken.expires_at > now))
        .values(spent_at=day)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def existing_response(session: Session, target: SurveyTarget, idempotency_key: str) -> int | None:
    """The response this very form (its idempotency key) already stored, if any."""
    return session.scalar(
        select(Response.id).where(
            Response.campaign_id == target.campaign.id, Response.idempotency_key == idempotency_key
        )
    )


_INSERT_RESPONSE = insert(Response.__table__).returning(Response.__table__.c.id)
_LINK_DOSSIER = (update(Dossier.__table__)
                 .where(Dossier.__table__.c.token_id == bindparam("link_token_id"),
                        Dossier.__table__.c.response_id.is_(None))
                 .values(response_id=bindparam("link_response_id")))
_INSERT_ANSWER = insert(Answer.__table__)
_RESPONSE_COLUMNS = [c for c in Response.__table__.c if c.key != "id"]


@functools.cache
def _store_in_one_statement(flags: tuple[Executable, ...]) -> Select:
    """PostgreSQL: the response, its answers and the flagging UPDATEs as one statement.

    ``WITH new_response AS (INSERT … RETURNING id), new_answers AS (INSERT INTO answer …
    SELECT new_response.id, … FROM unnest(:answer_keys, :answer_ints, :answer_texts)),
    flag_<signal> AS (UPDATE …) SELECT id FROM new_response``: one round trip, and a
    statement is atomic by itself, so it needs no BEGIN and COMMIT around it (the survey
    POST runs in autocommit, ``flow.open_target``). Its text does not depend on the number
    of answers (the answers travel as three arrays), so the server prepares it once per
    connection. All the parts see one snapshot: the UPDATEs reach the rows stored before,
    still ``ok``, as they do when run after the INSERTs; a row two of them reach gets the
    same reasons from either (each computes them from the row itself)."""
    table = Response.__table__
    new = (insert(table).values({c.key: bindparam(f"new_{c.key}", type_=c.type) for c in _RESPONSE_COLUMNS})
           .returning(table.c.id, table.c.submitted_at).cte("new_response"))
    given = func.unnest(bindparam("answer_keys", type_=ARRAY(String)), bindparam("answer_ints", type_=ARRAY(Integer)),
                        bindparam("answer_texts", type_=ARRAY(Text))
                        ).table_valued("question_key", "value_int", "value_text").render_derived(name="given")
    answers = insert(Answer.__table__).from_select(
        ["response_id", "submitted_at", "question_key", "value_int", "value_text"],
        select(new.c.id, new.c.submitted_at, given.c.question_key, given.c.value_int, given.c.value_text)
        .select_from(new.join(given, true()))).cte("new_answers")
    flagging = [statement.cte(f"flag_{i}") for i, statement in enumerate(flags)]
    return select(new.c.id).add_cte(answers, *flagging)


def submit_response(session: Session, target: SurveyTarget, answers: Sequence[tuple[str, int | None, str | None]],
                    *, channel: str, language: str, idempotency_key: str,
                    trust: str = "ok", trust_reason: str | None = None,
                    submitted_at: datetime | None = None, device_hash: str | None = None,
                    address_hash: str | None = None, spend_token_id: int | None = None,
                    also_flag: Sequence[tuple[Executable, Mapping[str, Any]]] = (),
                    digest: str | None = None, residence_unit_id: int | None = None) -> Submitted:
    """Store one response and its answers in one transaction.

    The unique (campaign, idempotency key) constraint makes a repeated submission of the
    same form a no-op that returns the first response: the database decides, not a
    check-then-insert, so two racing requests still store one row.

    ``spend_token_id`` spends that one-time code first, in the same transaction (see
    :func:`_claim_token`); if it is already spent or expired nothing is stored and
    :class:`TokenAlreadySpent` is raised, unless this very form was stored before (a
    retry), which returns that response as usual. ``also_flag`` are the set-based UPDATEs
    (statement, parameters) that mark the earlier members of this one's burst suspect, run
    in the same transaction (``Verdict.also_flag`` of :mod:`survey_app.services.collect.abuse`). ``device_hash`` and
    ``address_hash`` are the keyed daily hashes of the device and of the address alone, never
    a raw address. ``answer_digest`` is stored
    from ``answers`` (the abuse checks count identical answer sets by it).
    ``residence_unit_id`` is the commune the citizen said they live in (optional).
    """
    now = submitted_at or utcnow()
    try:
        if spend_token_id is not None and not _claim_token(session, spend_token_id, now):
            session.rollback()
            existing = existing_response(session, target, idempotency_key)
            if existing is not None:
                return Submitted(existing, created=False)
            raise TokenAlreadySpent()
        # Core statements on the tables (built once), on the session's connection, without
        # the ORM's unit of work. PostgreSQL: one statement (_store_in_one_statement).
        # SQLite (calls inside the process, no round trips): one INSERT … RETURNING for the
        # response, one executemany for its answers, then the flagging UPDATEs.
        connection = session.connection()
        row = {
            "campaign_id": target.campaign.id, "unit_id": target.unit.id,
            "instrument_version_id": target.version.id, "channel": channel, "language": language,
            "submitted_at": now, "trust": trust, "trust_reason": trust_reason,
            "idempotency_key": idempotency_key, "device_hash": device_hash, "address_hash": address_hash,
            "answer_digest": digest or answer_digest(answers),
            "rolled_up": False, "residence_unit_id": residence_unit_id,
        }
        if connection.dialect.name == "postgresql":
            parameters = {f"new_{key}": value for key, value in row.items()}
            parameters.update(answer_keys=[k for k, _vi, _vt in answers], answer_ints=[vi for _k, vi, _vt in answers],
                              answer_texts=[vt for _k, _vi, vt in answers])
            for _statement, flag_parameters in also_flag:
                parameters.update(flag_parameters)
            response_id = connection.execute(_store_in_one_statement(tuple(s for s, _p in also_flag)),
                                             parameters).scalar_one()
        else:
            response_id = connection.execute(_INSERT_RESPONSE, row).scalar_one()
            if answers:
                connection.execute(_INSERT_ANSWER, [
                    {"response_id": response_id, "submitted_at": now, "question_key": k, "value_int": vi,
                     "value_text": vt}
                    for k, vi, vt in answers
                ])
            for statement, parameters in also_flag:
                connection.execute(statement, parameters)
        if spend_token_id is not None:
            # A dossier's evaluation code: the rating is the dossier's (a dossier, not a person).
            connection.execute(_LINK_DOSSIER, {"link_response_id": response_id, "link_token_id": spend_token_id})
        session.commit()
        return Submitted(response_id, created=True)
    except IntegrityError:
        session.rollback()
        existing = existing_response(session, target, idempotency_key)
        if existing is None:
            raise
        return Submitted(existing, created=False)
