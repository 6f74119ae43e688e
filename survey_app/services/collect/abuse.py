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
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Answer, Response
from .surveys import SurveyTarget

__all__ = ["AbuseSettings", "Signals", "Verdict", "answer_fingerprint", "assess"]

BASELINE_DAYS = 7
OPEN_HOURS_PER_DAY = 8
RECENT_LIMIT = 300  # responses looked at for an identical run; more than that in one window is a flood anyway


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


@dataclass(frozen=True)
class Verdict:
    trust: str
    reason: str | None
    also_flag: dict[int, str] = field(default_factory=dict)


Answers = Sequence[tuple[str, int | None, str | None]]


def answer_fingerprint(answers: Answers) -> str:
    """A digest of an answer set that ignores order."""
    canonical = sorted(json.dumps([k, vi, vt], ensure_ascii=False) for k, vi, vt in answers)
    return hashlib.sha256("\n".join(canonical).encode()).hexdigest()


def assess(session: Session, target: SurveyTarget, answers: Answers, signals: Signals,
           settings: AbuseSettings, now: datetime) -> Verdict:
    """Decide the trust flag for a submission about to be stored (reads only)."""
    reasons: list[str] = []
    earlier: dict[int, list[str]] = {}  # earlier response id -> the bursts it joins

    def join(reason: str, ids) -> None:
        reasons.append(reason)
        for rid in ids:
            earlier.setdefault(rid, []).append(reason)

    if signals.honeypot:
        reasons.append("honeypot")
    if settings.min_fill_seconds and signals.fill_seconds is not None and signals.fill_seconds < settings.min_fill_seconds:
        reasons.append("too_fast")

    since = now - timedelta(seconds=settings.window_seconds)
    recent = (
        select(Response.id)
        .where(Response.campaign_id == target.campaign.id, Response.unit_id == target.unit.id,
               Response.submitted_at >= since)
    )
    usual = _UsualRate(session, target, since, settings)
    if signals.channel == "qr":
        if signals.device_hash:
            same_device = list(session.scalars(recent.where(Response.device_hash == signals.device_hash)
                                               .order_by(Response.id)))
            if len(same_device) + 1 >= settings.burst_device:
                join("device_burst", same_device)
        if signals.address_hash:
            same_address = list(session.scalars(recent.where(Response.address_hash == signals.address_hash)
                                                .order_by(Response.id)))
            if (len(same_address) + 1 >= settings.burst_address
                    and len(same_address) + 1 >= usual.threshold(settings.burst_address)):
                join("address_burst", same_address)

    if signals.channel in ("qr", "kiosk"):
        run = _identical_run(session, answers, recent, usual, settings)
        if run is not None:
            join("identical_run", run)

    if not reasons:
        return Verdict("ok", None)
    return Verdict("suspect", ",".join(reasons), {rid: ",".join(r) for rid, r in earlier.items()})


class _UsualRate:
    """The point's expected responses per window while the counter is open, read once and
    only when a threshold needs it: responses in the previous ``BASELINE_DAYS`` days divided
    by the number of windows in ``BASELINE_DAYS`` × ``OPEN_HOURS_PER_DAY`` hours."""

    def __init__(self, session: Session, target: SurveyTarget, since: datetime, settings: AbuseSettings):
        self._session, self._target, self._since, self._settings = session, target, since, settings
        self._per_window: float | None = None

    def per_window(self) -> float:
        if self._per_window is None:
            baseline = self._session.scalar(
                select(func.count()).select_from(Response).where(
                    Response.campaign_id == self._target.campaign.id, Response.unit_id == self._target.unit.id,
                    Response.submitted_at >= self._since - timedelta(days=BASELINE_DAYS),
                    Response.submitted_at < self._since)
            ) or 0
            windows = BASELINE_DAYS * OPEN_HOURS_PER_DAY * 3600 / self._settings.window_seconds
            self._per_window = baseline / windows
        return self._per_window

    def threshold(self, minimum: int) -> int:
        """``max(minimum, ceil(SURVEY_IDENTICAL_FACTOR × usual))``."""
        return max(minimum, math.ceil(self._settings.identical_factor * self.per_window()))


def _identical_run(session: Session, answers: Answers, recent, usual: _UsualRate,
                   settings: AbuseSettings) -> list[int] | None:
    """The earlier responses of an identical run this submission completes, or ``None``."""
    recent_ids = list(session.scalars(recent.order_by(Response.id.desc()).limit(RECENT_LIMIT)))
    if len(recent_ids) + 1 < settings.identical_min:
        return None  # cannot reach the threshold: skip the answer read
    threshold = usual.threshold(settings.identical_min)
    if len(recent_ids) + 1 < threshold:
        return None
    rows: dict[int, list[tuple[str, int | None, str | None]]] = {rid: [] for rid in recent_ids}
    for rid, key, vi, vt in session.execute(
        select(Answer.response_id, Answer.question_key, Answer.value_int, Answer.value_text)
        .where(Answer.response_id.in_(recent_ids))
    ):
        rows[rid].append((key, vi, vt))
    mine = answer_fingerprint(answers)
    same = sorted(rid for rid, given in rows.items() if answer_fingerprint(given) == mine)
    return same if len(same) + 1 >= threshold else None
