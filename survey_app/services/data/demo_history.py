"""Two years of plausible past responses for the demo, so reports have trends to show.

The former wards' points answer until the merger (30 June 2025) and the new ward's points
from 1 July 2025, so Phường Quảng Trị's two-year trend crosses the merger and shows its
predecessors' history before it.

Answers look like real ones: a respondent's criteria move together (a latent satisfaction
per factor, so Cronbach's alpha of each factor is about 0.8), and at a one-stop counter they
come only in its opening hours (:mod:`.demo_hours`: never on Sunday, Saturday mornings).

Deterministic (seeded by the point's code) and idempotent: a point that already has demo
history is left alone. Responses go in through the same tables as real ones, channel
``qr`` or ``paper``, and are rolled up like any other.
"""
from __future__ import annotations

import random
import zlib
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.instrument import decimals_of, scaled

from ...models import Answer, Campaign, Response, Unit, campaign_unit
from .demo_hours import LOCAL, next_open

# How well each demo point does, on average (a level shift on the 5-point scale).
QUALITY = {"p2motcua": 0.5, "p2yte": 0.1, "p2tieuhoc": 0.3, "p1motcua": -0.3, "p1yte": -0.1, "p1tieuhoc": 0.0,
           "pqtttpv": 0.0, "pqtdtn1": -0.1, "pqtyte": 0.0}
#: Points of the new ward: history from the merger day on; every other point: before it.
SUCCESSOR_POINTS = ("pqtttpv", "pqtdtn1", "pqtyte")


#: Loading of a criterion on its factor's latent satisfaction, and of a factor on the
#: respondent's overall satisfaction. With these, Cronbach's alpha of the demo's factors
#: lands between 0.7 and 0.9, as in real SIPAS and health surveys (criteria of one factor
#: move together, factors less so).
ITEM_LOADING = 0.76
FACTOR_LOADING = 0.75
#: A level's spread on the 5-point scale (one latent standard deviation ≈ 0.9 levels).
LEVEL_SD = 0.9


def latent_satisfaction(rng: random.Random, factors: list[str | None]) -> dict[str | None, float]:
    """One respondent's latent satisfaction per factor, each N(0, 1): the overall level g
    (key None, also used by questions outside any factor) and, per factor f,
    z_f = b·g + √(1 − b²)·u_f with b = :data:`FACTOR_LOADING` and u_f ~ N(0, 1)."""
    g = rng.gauss(0.0, 1.0)
    out: dict[str | None, float] = {None: g}
    for f in factors:
        if f is not None and f not in out:
            out[f] = FACTOR_LOADING * g + (1 - FACTOR_LOADING ** 2) ** 0.5 * rng.gauss(0.0, 1.0)
    return out


def _level(rng: random.Random, shift: float, levels: list[int], z: float) -> int:
    """A criterion's answer from its factor's latent z: y = λ·z + √(1 − λ²)·e (λ =
    :data:`ITEM_LOADING`, e ~ N(0, 1), so y ~ N(0, 1) and two criteria of a factor correlate
    by λ²), then the level round(middle + 0.6 + shift + sd·y), clipped to the scale."""
    middle = levels[len(levels) // 2]
    y = ITEM_LOADING * z + (1 - ITEM_LOADING ** 2) ** 0.5 * rng.gauss(0.0, 1.0)
    value = round(middle + 0.6 + shift + LEVEL_SD * y)
    return min(max(value, levels[0]), levels[-1])


def add_history(session: Session, months: int = 24, now: datetime | None = None) -> int:
    """Add ``months`` months of responses before ``now`` to every demo point without any:
    a former ward's points only before the merger day, the new ward's only from it."""
    from .demo import MERGER_DAY

    now = now or datetime.now(timezone.utc)
    merger = datetime(MERGER_DAY.year, MERGER_DAY.month, MERGER_DAY.day, tzinfo=timezone.utc) - timedelta(hours=7)
    added = 0
    for code, shift in QUALITY.items():
        unit = session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            continue
        campaign = session.scalar(select(Campaign).join(campaign_unit).where(campaign_unit.c.unit_id == unit.id)
                                  .order_by(Campaign.id))
        if campaign is None:
            continue
        existing = session.scalar(select(func.count()).select_from(Response).where(
            Response.campaign_id == campaign.id, Response.idempotency_key.like("demo-%")))
        if existing:
            continue
        definition = campaign.instrument_version.snapshot
        rng = random.Random(zlib.crc32(code.encode()))
        start = now - timedelta(days=30 * months)
        if campaign.starts_at is None or campaign.starts_at > start:
            campaign.starts_at = start - timedelta(days=1)
        for month in range(months):
            trend = (0.015 * month if code in SUCCESSOR_POINTS
                     else 0.04 * month if code.startswith("p2") else -0.02 * month)
            for i in range(rng.randint(12, 36)):
                when = _moment(rng, start + timedelta(days=30 * month + rng.uniform(0, 29.5)),
                               counter=unit.kind == "one_stop")
                if (when >= merger) != (code in SUCCESSOR_POINTS) or when >= now:
                    continue
                response = Response(campaign_id=campaign.id, unit_id=unit.id,
                                    instrument_version_id=campaign.instrument_version_id,
                                    channel=rng.choice(["qr", "qr", "qr", "paper"]), language="vi",
                                    submitted_at=when, idempotency_key=f"demo-{code}-{month}-{i}")
                session.add(response)
                session.flush()
                session.add_all(_answers(rng, definition, response.id, shift + trend, when))
                added += 1
        session.commit()
    return added


#: Local hours answers come in at (more in the morning), Monday to Friday and on Saturday.
HOURS = [7, 8, 8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16]
SATURDAY_HOURS = [7, 8, 8, 9, 9, 10, 10, 11]


def _moment(rng: random.Random, day: datetime, counter: bool) -> datetime:
    """A local working-hours moment (UTC) on ``day``'s local date. At a one-stop counter
    (``counter``) only while it is open (:mod:`.demo_hours`): a Sunday becomes the Saturday
    before or the Monday after, Saturday answers come in the morning, and a time in the
    lunch break or before opening moves into the next opening period."""
    local_day = day.astimezone(LOCAL).date()
    if counter and local_day.weekday() == 6:
        local_day += timedelta(days=-1 if rng.random() < 0.3 else 1)
    hours = SATURDAY_HOURS if counter and local_day.weekday() == 5 else HOURS
    local = datetime.combine(local_day, time(rng.choice(hours), rng.randint(0, 59)), tzinfo=LOCAL)
    moment = local.astimezone(timezone.utc)
    return next_open(moment, rng) if counter else moment


def _answers(rng: random.Random, definition, response_id: int, shift: float, when: datetime) -> list[Answer]:
    rows = []
    latent = latent_satisfaction(rng, [q.get("factor") for q in definition["questions"]])
    for q in definition["questions"]:
        if not q["required"] and rng.random() < 0.5:
            continue
        key, qtype = q["key"], q["type"]
        if qtype == "scale":
            levels = [lv["value"] for lv in definition["scales"][q["scale"]]["levels"]]
            rows.append(Answer(response_id=response_id, submitted_at=when, question_key=key,
                               value_int=_level(rng, shift, levels, latent.get(q.get("factor"), latent[None]))))
        elif qtype == "single":
            options = [o["key"] for o in q["options"]]
            weights = [max(0.2, 3 - i + shift) for i in range(len(options))]
            rows.append(Answer(response_id=response_id, submitted_at=when, question_key=key, value_text=rng.choices(options, weights)[0]))
        elif qtype == "yesno":
            rows.append(Answer(response_id=response_id, submitted_at=when, question_key=key, value_int=int(rng.random() < 0.6)))
        elif qtype in ("rating", "percent", "number"):
            # a number with decimals is stored as value × 10^decimals: drawn on that scale
            d = decimals_of(q)
            lo, hi = scaled(q["min"], d), scaled(q["max"], d)
            value = round(min(hi, max(lo, rng.gauss(lo + (hi - lo) * (0.7 + shift / 10), (hi - lo) * 0.15))))
            rows.append(Answer(response_id=response_id, submitted_at=when, question_key=key, value_int=value))
    return rows
