"""Two years of plausible past responses for the demo, so reports have trends to show.

The former wards' points answer until the merger (30 June 2025) and the new ward's points
from 1 July 2025, so Phường Quảng Trị's two-year trend crosses the merger and shows its
predecessors' history before it.

Deterministic (seeded by the point's code) and idempotent: a point that already has demo
history is left alone. Responses go in through the same tables as real ones, channel
``qr`` or ``paper``, and are rolled up like any other.
"""
from __future__ import annotations

import random
import zlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.instrument import decimals_of, scaled

from ...models import Answer, Campaign, Response, Unit, campaign_unit

# How well each demo point does, on average (a level shift on the 5-point scale).
QUALITY = {"p2motcua": 0.5, "p2yte": 0.1, "p2tieuhoc": 0.3, "p1motcua": -0.3, "p1yte": -0.1, "p1tieuhoc": 0.0,
           "pqtttpv": 0.0, "pqtdtn1": -0.1, "pqtyte": 0.0}
#: Points of the new ward: history from the merger day on; every other point: before it.
SUCCESSOR_POINTS = ("pqtttpv", "pqtdtn1", "pqtyte")


def _level(rng: random.Random, shift: float, levels: list[int]) -> int:
    middle = levels[len(levels) // 2]
    value = round(rng.gauss(middle + 0.6 + shift, 0.9))
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
                when = start + timedelta(days=30 * month + rng.uniform(0, 29.5))
                local_hour = rng.choice([7, 8, 8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16])
                when = when.replace(hour=(local_hour - 7) % 24, minute=rng.randint(0, 59))
                if (when >= merger) != (code in SUCCESSOR_POINTS) or when >= now:
                    continue
                response = Response(campaign_id=campaign.id, unit_id=unit.id,
                                    instrument_version_id=campaign.instrument_version_id,
                                    channel=rng.choice(["qr", "qr", "qr", "paper"]), language="vi",
                                    submitted_at=when, idempotency_key=f"demo-{code}-{month}-{i}")
                session.add(response)
                session.flush()
                session.add_all(_answers(rng, definition, response.id, shift + trend))
                added += 1
        session.commit()
    return added


def _answers(rng: random.Random, definition, response_id: int, shift: float) -> list[Answer]:
    rows = []
    for q in definition["questions"]:
        if not q["required"] and rng.random() < 0.5:
            continue
        key, qtype = q["key"], q["type"]
        if qtype == "scale":
            levels = [lv["value"] for lv in definition["scales"][q["scale"]]["levels"]]
            rows.append(Answer(response_id=response_id, question_key=key, value_int=_level(rng, shift, levels)))
        elif qtype == "single":
            options = [o["key"] for o in q["options"]]
            weights = [max(0.2, 3 - i + shift) for i in range(len(options))]
            rows.append(Answer(response_id=response_id, question_key=key, value_text=rng.choices(options, weights)[0]))
        elif qtype == "yesno":
            rows.append(Answer(response_id=response_id, question_key=key, value_int=int(rng.random() < 0.6)))
        elif qtype in ("rating", "percent", "number"):
            # a number with decimals is stored as value × 10^decimals: drawn on that scale
            d = decimals_of(q)
            lo, hi = scaled(q["min"], d), scaled(q["max"], d)
            value = round(min(hi, max(lo, rng.gauss(lo + (hi - lo) * (0.7 + shift / 10), (hi - lo) * 0.15))))
            rows.append(Answer(response_id=response_id, question_key=key, value_int=value))
    return rows
