"""Ballot-stuffing defence: suspicious responses are kept and flagged, never dropped.

Rate limits (Flask-Limiter, see ``public/limits.py``) refuse floods outright. Below those
limits, :func:`assess` looks at one submission and says whether to store it with
``trust = 'suspect'`` and why. ``trust_reason`` is a comma-separated list of these codes,
so a report can include or exclude each kind:

``honeypot``
    the visually hidden ``website`` field was filled in (people never see it; form-filling
    bots do).
``too_fast``
    the form came back less than ``SURVEY_MIN_FILL_SECONDS`` after it was served (the
    signed form token carries the time it was issued).
``device_burst``
    this is at least the ``SURVEY_BURST_DEVICE``-th response from one device (the keyed
    daily hash of IP and user agent) at one point within ``SURVEY_BURST_WINDOW_SECONDS``.
    The earlier ones of the burst are flagged too. Only for the open poster QR (channel
    ``qr``): a kiosk is one enrolled device by design, and a parent answering with one code
    per child from one phone is what one-time codes are for.
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
(``ix_response_device``, ``ix_response_identical`` on the stored ``answer_digest``), and
the earlier members of a burst or run are flagged by one set-based UPDATE per signal (see
:func:`_flag_earlier_statement`), so a submission makes the same few statements however long the run
already is. Each signal is one small function below; :func:`assess` lists them in order.
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
    identical_min: int = 8
    identical_factor: int = 5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "AbuseSettings":
        return cls(
            min_fill_seconds=int(config.get("SURVEY_MIN_FILL_SECONDS", cls.min_fill_seconds)),
            window_seconds=int(config.get("SURVEY_BURST_WINDOW_SECONDS", cls.window_seconds)),
            burst_device=int(config.get("SURVEY_BURST_DEVICE", cls.burst_device)),
            identical_min=int(config.get("SURVEY_IDENTICAL_MIN", cls.identical_min)),
            identical_factor=int(config.get("SURVEY_IDENTICAL_FACTOR", cls.identical_factor)),
        )


@dataclass(frozen=True)
class Signals:
    """What the request said about itself."""

    channel: str
    device_hash: str | None
    honeypot: bool = False
    fill_seconds: float | None = None


Flag = tuple[Update, dict[str, Any]]  # an UPDATE and its parameters


@dataclass(frozen=True)
class Verdict:
    """``also_flag``: the UPDATEs (with their parameters) that mark the earlier members of
    this submission's burst or run suspect (see :func:`_flag_earlier_statement`);
    ``surveys.submit_response`` runs them in the transaction that stores the submission."""

    trust: str
    reason: str | None
    also_flag: tuple[Flag, ...] = ()


Answers = Sequence[tuple[str, int | None, str | None]]


def answer_fingerprint(answers: Answers) -> str:
    """A digest of an answer set that ignores order (what ``Response.answer_digest`` stores)."""
    return answer_digest(answers)


def assess(session: Session, target: SurveyTarget, answers: Answers, signals: Signals,
           settings: AbuseSettings, now: datetime) -> Verdict:
    """Decide the trust flag for a submission about to be stored (reads only)."""
    reasons: list[str] = []
    if signals.honeypot:
        reasons.append("honeypot")
    if settings.min_fill_seconds and signals.fill_seconds is not None and signals.fill_seconds < settings.min_fill_seconds:
        reasons.append("too_fast")

    point = {"at_campaign": target.campaign.id, "at_unit": target.unit.id,
             "since": now - timedelta(seconds=settings.window_seconds)}
    digest = answer_digest(answers)
    # Each signal counts the responses alike in the window, up to what it needs to know;
    # all the counts come back from one statement (_count_alike).
    wanted: dict[str, tuple[str, int]] = {}
    if signals.channel == "qr" and signals.device_hash:
        wanted["device"] = (signals.device_hash, settings.burst_device - 1)
    if signals.channel in ("qr", "kiosk"):
        wanted["answers"] = (digest, settings.identical_min - 1)
    alike = _count_alike(session, point, wanted)

    burst = "device" in wanted and alike["device"] + 1 >= settings.burst_device
    if burst:
        reasons.append("device_burst")
    run = "answers" in wanted and _identical_run(session, point, digest, alike["answers"], settings)
    if run:
        reasons.append("identical_run")

    if not reasons:
        return Verdict("ok", None)
    also_flag: list[Flag] = []
    if run:
        # First the run: a member that is also of the device's burst gets both reasons;
        # the burst's UPDATE then finds it suspect already and leaves it.
        if burst:
            also_flag.append((_FLAG_RUN_AND_BURST, {**point, "value": digest, "flag_device": signals.device_hash}))
        else:
            also_flag.append(_flag_earlier(_FLAG_RUN, point, digest, "identical_run"))
    if burst:
        also_flag.append(_flag_earlier(_FLAG_BURST, point, signals.device_hash, "device_burst"))
    return Verdict("suspect", ",".join(reasons), tuple(also_flag))


# ----------------------------------------------------------------------------- statements
# Built once, run with the point's parameters: at_campaign, at_unit, since (the start of
# the window) and the value the signal is about. Plain Core statements, run on the
# session's connection (its transaction) without the ORM's execution layer.

def _at_point(*conditions) -> tuple:
    return (Response.campaign_id == bindparam("at_campaign"), Response.unit_id == bindparam("at_unit"),
            *conditions)


# signal → the column whose equal values make responses "alike" for it
ALIKE_COLUMNS = {"device": Response.device_hash, "answers": Response.answer_digest}


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


def _flag_earlier_statement(column, reason) -> Update:
    """Mark suspect, with ``reason``, the responses at the point in the window whose
    ``column`` equals ``:value`` and that are still ``ok`` (one already suspect keeps its
    reason). The new response is stored suspect, so it is never among them."""
    return (update(Response)
            .where(*_at_point(column == bindparam("value"), Response.trust == "ok",
                              Response.submitted_at >= bindparam("since")))
            .values(trust="suspect", trust_reason=reason)
            .execution_options(synchronize_session=False))


_BASELINE = select(func.count()).select_from(Response).where(
    *_at_point(Response.submitted_at >= bindparam("baseline_since"), Response.submitted_at < bindparam("since")))
_FLAG_BURST = _flag_earlier_statement(Response.device_hash, bindparam("flag_reason"))
_FLAG_RUN = _flag_earlier_statement(Response.answer_digest, bindparam("flag_reason"))
_FLAG_RUN_AND_BURST = _flag_earlier_statement(
    Response.answer_digest,
    case((Response.device_hash == bindparam("flag_device"), "device_burst,identical_run"), else_="identical_run"))


def _flag_earlier(statement: Update, point: dict[str, Any], value: str, reason: str) -> Flag:
    return statement, {**point, "value": value, "flag_reason": reason}


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

def _identical_run(session: Session, point: dict[str, Any], digest: str, alike: int,
                   settings: AbuseSettings) -> bool:
    """Whether this submission completes a run of ``digest`` far above the point's usual
    rate; ``alike`` is the count of the same answers in the window, up to ``identical_min - 1``."""
    if alike + 1 < settings.identical_min:
        return False  # cannot reach the threshold: skip the baseline
    baseline = session.connection().scalar(
        _BASELINE, {**point, "baseline_since": point["since"] - timedelta(days=BASELINE_DAYS)}) or 0
    windows = BASELINE_DAYS * OPEN_HOURS_PER_DAY * 3600 / settings.window_seconds
    threshold = max(settings.identical_min, math.ceil(settings.identical_factor * baseline / windows))
    if threshold > settings.identical_min:  # a busy point: count further
        alike = _count_alike(session, point, {"answers": (digest, threshold - 1)})["answers"]
    return alike + 1 >= threshold
