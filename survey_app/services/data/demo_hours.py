"""When the demo's one-stop counters are open, so demo answers there come at plausible times.

A ward's one-stop counter (and a commune's public administration service centre and its
reception points) receives citizens in office hours, Monday to Friday 7:00–11:30 and
13:30–17:00, and on Saturday morning 7:30–11:30; it is closed on Sunday. Times are local
(Asia/Ho_Chi_Minh, UTC+7, no daylight saving); the functions take and return UTC.
"""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta, timezone

__all__ = ["LOCAL", "OPENING_HOURS", "is_open", "next_open"]

#: Asia/Ho_Chi_Minh: UTC+7 all year.
LOCAL = timezone(timedelta(hours=7))
#: Opening periods per local weekday (0 = Monday … 6 = Sunday), as (from, to) local times.
OPENING_HOURS: dict[int, tuple[tuple[time, time], ...]] = {
    **{day: ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0))) for day in range(5)},
    5: ((time(7, 30), time(11, 30)),),
    6: (),
}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def is_open(moment: datetime) -> bool:
    """Whether a one-stop counter is open at ``moment`` (UTC; naive means UTC)."""
    local = _utc(moment).astimezone(LOCAL)
    clock = local.time()
    return any(start <= clock < end for start, end in OPENING_HOURS[local.weekday()])


def next_open(moment: datetime, rng: random.Random | None = None) -> datetime:
    """``moment`` itself when the counter is open then, else the next opening time (UTC);
    with ``rng``, a minute drawn uniformly within that next opening period instead, so
    moved answers do not pile up at the opening minute."""
    moment = _utc(moment)
    if is_open(moment):
        return moment
    local = moment.astimezone(LOCAL)
    for ahead in range(8):
        day = (local + timedelta(days=ahead)).date()
        for start, end in OPENING_HOURS[day.weekday()]:
            opening = datetime.combine(day, start, tzinfo=LOCAL)
            if opening > local:
                if rng is not None:
                    minutes = (datetime.combine(day, end) - datetime.combine(day, start)).seconds // 60
                    opening += timedelta(minutes=rng.randrange(minutes))
                return opening.astimezone(timezone.utc)
    raise RuntimeError("OPENING_HOURS has no opening in a week")  # pragma: no cover
