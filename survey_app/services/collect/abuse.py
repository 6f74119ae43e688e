"""Ballot-stuffing defence: suspicious responses are kept and flagged, never dropped.

Rate limits (see ``public/limits.py``) refuse plain floods outright. Below those
limits, :func:`assess` looks at one submission and says whether to store it with
``trust = 'suspect'`` and why. ``trust_reason`` is a comma-separated list of these codes,
so a report can include or exclude each kind:

``honeypot``
    the visually hidden ``website`` field was filled in (people never see it; form-filling
    bots do).
``too_fast``
    the form came back less than ``SURVEY_MIN_FILL_SECONDS`` after it was served (the
    signed form token carries the time it was issued).
``over_limit``
    the poster QR's answer came over ``RATELIMIT_SURVEY_DEVICE`` or ``RATELIMIT_SURVEY_ADDRESS``
    (``public/limits.py``): stored all the same, since a real citizen may be behind it (a
    family phone, one NAT); only a plain flood (``RATELIMIT_SURVEY_FLOOD_*``) is refused.
``device_burst``
    this is at least the ``SURVEY_BURST_DEVICE``-th response from one device (the keyed
    daily hash of IP and user agent) at one point within ``SURVEY_BURST_WINDOW_SECONDS``.
    The earlier ones of the burst are flagged too. Only for the open poster QR (channel
    ``qr``): a kiosk is one enrolled device by design, and a parent answering with one code
    per child from one phone is what one-time codes are for.
``address_burst``
    this is at least the ``k``-th response from one address (the keyed daily hash of the IP
    alone) at one point within the window, with ``k = max(SURVEY_BURST_ADDRESS,
    SURVEY_IDENTICAL_FACTOR * usual)`` and ``usual`` as for ``identical_run`` below. It is
    what ``device_burst`` is to a client that changes its user agent at every answer (a new
    "device" each time). People behind one office Wi-Fi share an address, so the threshold
    rises with the point's usual traffic: only a run far above it counts. Poster QR only,
    as ``device_burst``; the earlier ones are flagged too.
``identical_run``
    the same answer set arrived at one point ``k`` times within the window, where ``k`` is
    far above the point's usual rate: ``k >= max(SURVEY_IDENTICAL_MIN,
    SURVEY_IDENTICAL_FACTOR * usual)``, with ``usual`` the point's responses in the previous
    7 days divided by the number of windows in 7 × 8 opening hours (the expected count per
    window while the counter is open). Identical sets are normal in themselves ("very
    satisfied" everywhere is common); only a run far above the usual traffic counts. The
    earlier members of the run are flagged too. For the poster QR and kiosks (a kiosk tapped
    "very satisfied" over and over by someone at the counter); not for one-time codes, which
    already bound what one person can send.

A device hash can be shared by honest people (a family phone, one carrier NAT and a
common phone model); that is why these are flags for the report, not refusals.

Cost: each check is a count over an index that stops at the threshold
(``ix_response_device``, ``ix_response_address``, ``ix_response_identical`` on the stored
``answer_digest``), all in one statement, and the earlier members of every burst or run the
submission completes are flagged by one set-based UPDATE per signal (see
:func:`_flag_earlier_statement`), so a submission makes the same few statements however long
the run already is.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from sqlalchemy import Select, bindparam, case, func, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from ...models import TRUST_LEVELS, Response, answer_digest
from .surveys import SurveyTarget

__all__ = ["AbuseSettings", "Signals", "Verdict", "answer_fingerprint", "assess"]

BASELINE_DAYS = 7
OPEN_HOURS_PER_DAY = 8


@dataclass(frozen=True)
class AbuseSettings:
    min_fill_seconds: int = 3
    window_seconds: int = 600
    burst_device: int = 3
    burst_address: int = 8
    identical_min: int = 8
    identical_factor: int = 5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "AbuseSettings":
        return cls(
            min_fill_seconds=int(config.get("SURVEY_MIN_FILL_SECONDS", cls.min_fill_seconds)),
            window_seconds=int(config.get("SURVEY_BURST_WINDOW_SECONDS", cls.window_seconds)),
            burst_device=int(config.get("SURVEY_BURST_DEVICE", cls.burst_device)),
            burst_address=int(config.get("SURVEY_BURST_ADDRESS", cls.burst_address)),
            identical_min=int(config.get("SURVEY_IDENTICAL_MIN", cls.identical_min)),
            identical_factor=int(config.get("SURVEY_IDENTICAL_FACTOR", cls.identical_factor)),
        )


@dataclass(frozen=True)
class Signals:
    """What the request said about itself."""

    channel: str
    device_hash: str | None
    address_hash: str | None = None
    honeypot: bool = False
    fill_seconds: float | None = None
    over_limit: bool = False


Flag = tuple[Update, dict[str, Any]]  # an UPDATE and its parameters


@dataclass(frozen=True)
class Verdict:
    """``also_flag``: the UPDATEs (with their parameters) that mark the earlier members of
    this submission's burst or run suspect (see :func:`_flag_earlier_statement`);
    ``surveys.submit_response`` runs them in the transaction that stores the submission.
    ``digest``: the answer set's digest (:func:`answer_fingerprint`), computed once for the
    checks and the row that stores it."""

    trust: str
    reason: str | None
    also_flag: tuple[Flag, ...] = ()
    digest: str | None = None


Answers = Sequence[tuple[str, int | None, str | None]]


def answer_fingerprint(answers: Answers) -> str:
    """A digest of an answer set that ignores order (what ``Response.answer_digest`` stores)."""
    return answer_digest(answers)


# signal -> (the column whose equal values make responses "alike" for it, its trust reason)
SIGNALS = {
    "device": (Response.device_hash, "device_burst"),
    "address": (Response.address_hash, "address_burst"),
    "answers": (Response.answer_digest, "identical_run"),
}
ALIKE_COLUMNS = {name: column for name, (column, _reason) in SIGNALS.items()}


def assess(session: Session, target: SurveyTarget, answers: Answers, signals: Signals,
           settings: AbuseSettings, now: datetime) -> Verdict:
    """Decide the trust flag for a submission about to be stored (reads only)."""
    reasons: list[str] = []
    if signals.honeypot:
        reasons.append("honeypot")
    if settings.min_fill_seconds and signals.fill_seconds is not None and signals.fill_seconds < settings.min_fill_seconds:
        reasons.append("too_fast")
    if signals.over_limit:
        reasons.append("over_limit")

    point = {"at_campaign": target.campaign.id, "at_unit": target.unit.id,
             "since": now - timedelta(seconds=settings.window_seconds)}
    # signal -> (value, the count it needs before a threshold can be reached)
    wanted: dict[str, tuple[str, int]] = {}
    if signals.channel == "qr" and signals.device_hash:
        wanted["device"] = (signals.device_hash, settings.burst_device)
    if signals.channel == "qr" and signals.address_hash:
        wanted["address"] = (signals.address_hash, settings.burst_address)
    digest = answer_digest(answers)
    if signals.channel in ("qr", "kiosk"):
        wanted["answers"] = (digest, settings.identical_min)
    # Each signal counts the responses alike in the window, up to what it needs to know;
    # all the counts come back from one statement (_count_alike).
    alike = _count_alike(session, point, {name: (value, minimum - 1) for name, (value, minimum) in wanted.items()})

    usual = _UsualRate(session, point, settings)
    fired: dict[str, str] = {}  # signal -> its value, in SIGNALS order
    for name in SIGNALS:
        if name not in wanted:
            continue
        value, minimum = wanted[name]
        if name == "device":
            hit = alike[name] + 1 >= minimum  # a device is one sender whatever the point's traffic
        else:
            hit = _far_above_usual(session, point, name, value, alike[name], minimum, usual)
        if hit:
            fired[name] = value
            reasons.append(SIGNALS[name][1])

    if not reasons:
        return Verdict("ok", None, digest=digest)
    if not fired:
        return Verdict("suspect", ",".join(reasons), digest=digest)
    names = tuple(fired)
    parameters = {**point, **{f"value_{name}": value for name, value in fired.items()}}
    return Verdict("suspect", ",".join(reasons),
                   tuple((_flag_earlier_statement(name, names), parameters) for name in names), digest)


# ----------------------------------------------------------------------------- statements
# Built once, run with the point's parameters: at_campaign, at_unit, since (the start of
# the window) and the value each signal is about. Plain Core statements, run on the
# session's connection (its transaction) without the ORM's execution layer.

def _at_point(*conditions) -> tuple:
    return (Response.campaign_id == bindparam("at_campaign"), Response.unit_id == bindparam("at_unit"),
            *conditions)


def _alike_count(column, name: str) -> Select:
    """How many responses at the point in the window have ``column == :value_<name>``,
    counting no further than ``:cap_<name>`` (so the cost does not grow with a long run).
    Every row has one of the trust levels; naming them keeps the (…, trust, submitted_at)
    index a range scan per level instead of a scan of the point's whole history."""
    alike = (select(literal(1))
             .where(*_at_point(column == bindparam(f"value_{name}"), Response.trust.in_(TRUST_LEVELS),
                               Response.submitted_at >= bindparam("since")))
             .limit(bindparam(f"cap_{name}"))
             .subquery())
    return select(func.count()).select_from(alike)


@functools.cache
def _count_alike_statement(names: tuple[str, ...]) -> Select:
    """One SELECT of the bounded counts of these signals, one column each."""
    return select(*(_alike_count(ALIKE_COLUMNS[name], name).scalar_subquery().label(name) for name in names))


@functools.cache
def _flag_earlier_statement(name: str, names: tuple[str, ...]) -> Update:
    """Mark suspect the responses at the point in the window alike to this one by signal
    ``name`` (``column == :value_<name>``) that are still ``ok`` (one already suspect keeps
    its reason). Each gets the reasons of every fired signal (``names``) it shares, in
    ``SIGNALS`` order (``device_burst,identical_run``). One UPDATE per fired signal, each
    on its own index: a single UPDATE over ``a OR b`` would scan the whole window, which
    grows with a long run. The first UPDATE gives a row all its reasons, so the later ones,
    finding it suspect, leave it. The new response is stored suspect, so it is never among them."""
    reason = None
    for other in names:
        part = case((ALIKE_COLUMNS[other] == bindparam(f"value_{other}"), literal(SIGNALS[other][1] + ",")),
                    else_=literal(""))
        reason = part if reason is None else reason.op("||")(part)
    return (update(Response)
            .where(*_at_point(ALIKE_COLUMNS[name] == bindparam(f"value_{name}"), Response.trust == "ok",
                              Response.submitted_at >= bindparam("since")))
            .values(trust="suspect", trust_reason=func.rtrim(reason, ","))
            .execution_options(synchronize_session=False))


_BASELINE = select(func.count()).select_from(Response).where(
    *_at_point(Response.submitted_at >= bindparam("baseline_since"), Response.submitted_at < bindparam("since")))


def _count_alike(session: Session, point: dict[str, Any], wanted: dict[str, tuple[str, int]]) -> dict[str, int]:
    """``wanted``: signal → (value, cap). Returns signal → responses alike (at most cap)."""
    if not wanted:
        return {}
    names = tuple(sorted(wanted))
    parameters = dict(point)
    for name in names:
        parameters[f"value_{name}"], parameters[f"cap_{name}"] = wanted[name]
    row = session.connection().execute(_count_alike_statement(names), parameters).one()
    return {name: row[i] or 0 for i, name in enumerate(names)}


# ----------------------------------------------------------------------------- signals

class _UsualRate:
    """The point's expected responses per window while the counter is open, read once and
    only when a threshold needs it: responses in the previous ``BASELINE_DAYS`` days divided
    by the number of windows in ``BASELINE_DAYS`` × ``OPEN_HOURS_PER_DAY`` hours."""

    def __init__(self, session: Session, point: dict[str, Any], settings: AbuseSettings):
        self._session, self._point, self._settings = session, point, settings
        self._per_window: float | None = None

    def threshold(self, minimum: int) -> int:
        """``max(minimum, ceil(SURVEY_IDENTICAL_FACTOR × usual))``."""
        if self._per_window is None:
            point = self._point
            baseline = self._session.connection().scalar(
                _BASELINE, {**point, "baseline_since": point["since"] - timedelta(days=BASELINE_DAYS)}) or 0
            windows = BASELINE_DAYS * OPEN_HOURS_PER_DAY * 3600 / self._settings.window_seconds
            self._per_window = baseline / windows
        return max(minimum, math.ceil(self._settings.identical_factor * self._per_window))


def _far_above_usual(session: Session, point: dict[str, Any], name: str, value: str, alike: int, minimum: int,
                     usual: _UsualRate) -> bool:
    """Whether this submission is at least the ``max(minimum, factor × usual)``-th alike by
    signal ``name`` in the window; ``alike`` is the count so far, up to ``minimum - 1``."""
    if alike + 1 < minimum:
        return False  # cannot reach the threshold: skip the baseline
    threshold = usual.threshold(minimum)
    if threshold > minimum:  # a busy point: count further
        alike = _count_alike(session, point, {name: (value, threshold - 1)})[name]
    return alike + 1 >= threshold
