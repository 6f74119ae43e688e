"""The working-day clocks of a petition's stages, by the national portal's rules (Quyết định
766/QĐ-TTg, as transcribed in ``INSTRUMENTS.md``):

=========  =====================================================  ==========================
stage      the clock                                               default limit (settings)
=========  =====================================================  ==========================
refuse     receipt → refused as out of scope                       2  (``PETITION_REFUSE_DAYS``)
info       receipt → the first request for more information        5  (``PETITION_INFO_DAYS``)
resolve    receipt → the answer given, less the days waiting       15 (``PETITION_DEADLINE_DAYS``)
publish    the answer given → the answer public                    2  (``PETITION_PUBLISH_DAYS``)
=========  =====================================================  ==========================

Days are working days of :class:`~survey_app.services.petitions.workdays.WorkdayCalendar`
(weekends, public holidays and government day swaps), counted from the day after the start
(Asia/Ho_Chi_Minh): a limit of *n* ends on the *n*-th working day after it, and a stage done on
that day is on time.

**Waiting for the citizen.** While more information is asked of the citizen the resolve
clock stands still: the working days in (request day, reply day] are added to the resolve
due day when the reply comes (``paused_days``). A second request for information in one round
counts the info stage as late (the portal's rule).

**Reopened.** When the petitioner says the answer did not resolve it, the petition is
reopened once with a new resolve clock from that day; the clocks then describe that round.

:func:`stage_clocks` is pure: it reads a petition's fields and a calendar, and the inbox, the
petition page and the figures all use it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping, Protocol
from zoneinfo import ZoneInfo

from .workdays import WorkdayCalendar

__all__ = ["DEFAULT_LIMITS", "DUE_SOON_DAYS", "STAGES", "StageClock", "limits_from_config", "local_day",
           "pause_days", "round_start", "stage_clocks"]

STAGES = ("refuse", "info", "resolve", "publish")
DEFAULT_LIMITS: Mapping[str, int] = {"refuse": 2, "info": 5, "resolve": 15, "publish": 2}
#: "Due soon": at most this many working days left before the due day.
DUE_SOON_DAYS = 2

_CONFIG_NAMES = {"refuse": "PETITION_REFUSE_DAYS", "info": "PETITION_INFO_DAYS", "resolve": "PETITION_DEADLINE_DAYS",
                 "publish": "PETITION_PUBLISH_DAYS"}


def limits_from_config(config: Mapping) -> dict[str, int]:
    """The four stage limits from the app's settings (defaults above)."""
    return {stage: int(config.get(name) or DEFAULT_LIMITS[stage]) for stage, name in _CONFIG_NAMES.items()}


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


class _PetitionLike(Protocol):
    status: str
    received_at: datetime
    due_on: date
    refused_at: datetime | None
    info_requested_at: datetime | None
    info_requests: int
    waiting_since: datetime | None
    answered_at: datetime | None
    published_at: datetime | None
    reopened_at: datetime | None


@dataclass(frozen=True)
class StageClock:
    """One stage's clock. ``state``: ``on_time`` / ``late`` (done), ``running``,
    ``due_soon`` (at most :data:`DUE_SOON_DAYS` working days left), ``overdue`` (past the due day,
    not done), ``paused`` (waiting for the citizen). ``days_left`` is the working days from today
    to the due day while it runs; ``days_late`` how many working days past it (done or not)."""

    stage: str
    limit: int
    start: date
    due: date
    done: date | None
    state: str
    days_left: int | None = None
    days_late: int = 0

    @property
    def finished(self) -> bool:
        return self.done is not None

    @property
    def on_time(self) -> bool | None:
        return None if self.done is None else self.state == "on_time"


def round_start(petition: _PetitionLike, zone: str) -> date:
    """The day this round's clocks start: receipt, or the day the petitioner reopened it."""
    return local_day(petition.reopened_at or petition.received_at, zone)


def pause_days(calendar: WorkdayCalendar, asked: date, replied: date) -> int:
    """Working days the resolve clock stood still: those in (asked, replied]."""
    return calendar.working_days_between(asked, replied)


def _clock(calendar: WorkdayCalendar, stage: str, limit: int, start: date, due: date, done: date | None,
           today: date, *, late_anyway: bool = False, paused: bool = False) -> StageClock:
    if done is not None:
        late = done > due or late_anyway
        return StageClock(stage, limit, start, due, done, "late" if late else "on_time",
                          days_late=calendar.working_days_late(due, done))
    if paused:
        return StageClock(stage, limit, start, due, None, "paused")
    if today > due:
        return StageClock(stage, limit, start, due, None, "overdue", days_late=calendar.working_days_late(due, today))
    left = calendar.working_days_between(today, due)
    return StageClock(stage, limit, start, due, None, "due_soon" if left <= DUE_SOON_DAYS else "running",
                      days_left=left)


def stage_clocks(petition: _PetitionLike, calendar: WorkdayCalendar, limits: Mapping[str, int], today: date,
                 zone: str) -> dict[str, StageClock]:
    """The clocks that apply to ``petition`` now, by stage name (see the module docstring).

    ``refuse`` appears only for a refused petition and ``info`` only once information was
    asked (neither is a duty for every petition); ``resolve`` for every petition not refused
    (done when answered, paused while waiting); ``publish`` once it is answered. ``due_on`` is
    the resolve due day as stored (the pauses already added).
    """
    start = round_start(petition, zone)
    clocks: dict[str, StageClock] = {}
    if petition.refused_at is not None and petition.status == "refused":
        clocks["refuse"] = _clock(calendar, "refuse", limits["refuse"], start,
                                  calendar.due_date(start, limits["refuse"]), local_day(petition.refused_at, zone),
                                  today)
        return clocks
    if petition.info_requested_at is not None:
        asked = local_day(petition.info_requested_at, zone)
        if asked >= start:  # a request of this round
            clocks["info"] = _clock(calendar, "info", limits["info"], start, calendar.due_date(start, limits["info"]),
                                    asked, today, late_anyway=petition.info_requests > 1)
    answered = local_day(petition.answered_at, zone) if petition.answered_at is not None else None
    clocks["resolve"] = _clock(calendar, "resolve", limits["resolve"], start, petition.due_on, answered, today,
                               paused=petition.status == "waiting")
    if answered is not None:
        published = local_day(petition.published_at, zone) if petition.published_at is not None else None
        clocks["publish"] = _clock(calendar, "publish", limits["publish"], answered,
                                   calendar.due_date(answered, limits["publish"]), published, today)
    return clocks
