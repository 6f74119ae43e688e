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
    also_flag: dict[int, str] = {}
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
    if signals.device_hash and signals.channel == "qr":
        same_device = list(session.scalars(recent.where(Response.device_hash == signals.device_hash)
                                           .order_by(Response.id)))
        if len(same_device) + 1 >= settings.burst_device:
            reasons.append("device_burst")
            also_flag.update({rid: "device_burst" for rid in same_device})

    run = None
    if signals.channel in ("qr", "kiosk"):
        run = _identical_run(session, target, answers, recent, since, settings)
    if run is not None:
        reasons.append("identical_run")
        for rid in run:
            also_flag[rid] = "device_burst,identical_run" if also_flag.get(rid) else "identical_run"

    if not reasons:
        return Verdict("ok", None)
    return Verdict("suspect", ",".join(reasons), also_flag)


def _identical_run(session: Session, target: SurveyTarget, answers: Answers, recent, since: datetime,
                   settings: AbuseSettings) -> list[int] | None:
    """The earlier responses of an identical run this submission completes, or ``None``."""
    recent_ids = list(session.scalars(recent.order_by(Response.id.desc()).limit(RECENT_LIMIT)))
    if len(recent_ids) + 1 < settings.identical_min:
        return None  # cannot reach the threshold: skip the answer read
    baseline = session.scalar(
        select(func.count()).select_from(Response).where(
            Response.campaign_id == target.campaign.id, Response.unit_id == target.unit.id,
            Response.submitted_at >= since - timedelta(days=BASELINE_DAYS), Response.submitted_at < since)
    ) or 0
    windows = BASELINE_DAYS * OPEN_HOURS_PER_DAY * 3600 / settings.window_seconds
    threshold = max(settings.identical_min, math.ceil(settings.identical_factor * baseline / windows))
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
