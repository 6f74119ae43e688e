"""The working-day calendar: weekends, Vietnamese public holidays and government day swaps.

Legal time limits for answering petitions are counted in working days (ngày làm việc).
A day is a working day when it is Monday–Friday, not a public holiday, and not a day off
given in exchange for a working Saturday; a Saturday or Sunday the government declares a
working day (làm bù) is one.

Sources, in order:

1. the ``holidays`` package (``holidays.country_holidays("VN", years=…)``): Tết Dương
   lịch (1/1), Tết Nguyên đán (the eve and the first four days, plus the days given in
   lieu when one falls on a weekend), Giỗ Tổ Hùng Vương (10/3 lunar), 30/4, 1/5, Quốc
   khánh (2/9 and the day next to it), Ngày Văn hóa Việt Nam (24/11, from 2026), days in
   lieu, and the government's day swaps for public servants (a day off in exchange for a
   Saturday worked; the worked Saturday is taken from the package's own swap table);
2. the settings ``WORKDAY_EXTRA_HOLIDAYS`` (more days off) and ``WORKDAY_EXTRA_WORKING_DAYS``
   (weekend days worked): comma-separated ISO dates, for swaps announced after the
   package was released. An extra working day wins over everything else.

Counting rule (used for due dates): the count starts on the **first working day after
the day of receipt**, whatever the hour of receipt — a petition received on Friday 13
February 2026 has Monday 23 February (after Tết) as its day 1; the due date of a limit of
``n`` working days is the n-th such day, and the whole due day counts. Days are local
dates in Asia/Ho_Chi_Minh.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable, Mapping

import holidays

__all__ = ["WorkdayCalendar", "calendar_for", "parse_dates"]


def parse_dates(raw: str | Iterable[date] | None) -> frozenset[date]:
    """``"2026-08-22, 2026-09-05"`` (or dates) as a set of dates; ``ValueError`` on a bad one."""
    if raw is None:
        return frozenset()
    if isinstance(raw, str):
        items = [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]
        try:
            return frozenset(date.fromisoformat(item) for item in items)
        except ValueError:
            raise ValueError(f"dates must look like 2026-08-22, separated by commas, not {raw!r}") from None
    return frozenset(raw)


def _swap_workdays(year: int) -> set[date]:
    """Saturdays worked in exchange for a day off, from the package's Vietnamese swap table."""
    try:
        from holidays.countries.vietnam import VietnamStaticHolidays
    except ImportError:  # pragma: no cover - a future package layout
        return set()
    found: set[date] = set()
    for table_year, entries in VietnamStaticHolidays.special_public_holidays.items():
        if entries and isinstance(entries[0], int):
            entries = (entries,)
        for entry in entries:
            if len(entry) < 4:
                continue
            try:
                worked = date(entry[4] if len(entry) > 4 else table_year, entry[2], entry[3])
            except (TypeError, ValueError):
                continue
            if worked.year == year:
                found.add(worked)
    return found


class WorkdayCalendar:
    """Working days in Viet Nam, with optional overrides.

    >>> cal = WorkdayCalendar()
    >>> cal.is_working_day(date(2026, 2, 17))   # Tết Bính Ngọ
    False
    >>> cal.add_working_days(date(2026, 2, 13), 1)
    datetime.date(2026, 2, 23)
    """

    def __init__(self, extra_holidays: Iterable[date] = (), extra_working_days: Iterable[date] = (),
                 country: str = "VN"):
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_working_days = frozenset(extra_working_days)
        self.country = country
        self._off: dict[int, dict[date, str]] = {}
        self._worked: dict[int, set[date]] = {}

    @classmethod
    def from_config(cls, config: Mapping) -> "WorkdayCalendar":
        return cls(parse_dates(config.get("WORKDAY_EXTRA_HOLIDAYS")),
                   parse_dates(config.get("WORKDAY_EXTRA_WORKING_DAYS")))

    # ------------------------------------------------------------------ the year's days

    def holidays(self, year: int) -> dict[date, str]:
        """Public holidays and days off of ``year`` (date → name), overrides included."""
        if year not in self._off:
            days = dict(holidays.country_holidays(self.country, years=year, language="en_US").items())
            for extra in self.extra_holidays:
                if extra.year == year:
                    days.setdefault(extra, "Day off (setting)")
            self._off[year] = days
        return self._off[year]

    def weekend_working_days(self, year: int) -> set[date]:
        if year not in self._worked:
            worked = _swap_workdays(year) if self.country == "VN" else set()
            worked |= {d for d in self.extra_working_days if d.year == year}
            self._worked[year] = {d for d in worked if d.weekday() >= 5 or d in self.extra_working_days}
        return self._worked[year]

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days or day in self.weekend_working_days(day.year):
            return True
        return day.weekday() < 5 and day not in self.holidays(day.year)

    # ------------------------------------------------------------------ counting

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        current = day + timedelta(days=1)
        while not self.is_working_day(current):
            current += timedelta(days=1)
        return current

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself is never counted).

        ``count`` = 0 gives ``start``.
        """
        if count < 0:
            raise ValueError("count must not be negative")
        current = start
        for _ in range(count):
            current = self.next_working_day(current)
        return current

    def due_date(self, received: date, limit: int) -> date:
        """The last day to answer a petition received on ``received`` within ``limit``
        working days, counted from the next working day after receipt."""
        if limit < 1:
            raise ValueError("a time limit must be at least one working day")
        return self.add_working_days(received, limit)

    def working_days(self, start: date, end: date) -> list[date]:
        """Every working day in [start, end], in order."""
        days = []
        current = start
        while current <= end:
            if self.is_working_day(current):
                days.append(current)
            current += timedelta(days=1)
        return days

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie in (start, end]: 0 for an answer on the day of
        receipt, ``n`` for an answer on the due day of an ``n``-day limit."""
        if end <= start:
            return 0
        days = self.working_days(start + timedelta(days=1), end)
        return len(days)

    def working_days_late(self, due: date, day: date) -> int:
        """Working days in (due, day]: how late ``day`` is for ``due`` (0 if not late)."""
        return self.working_days_between(due, day)


_CACHE_KEY = "hailong.workdays"


def calendar_for(app) -> WorkdayCalendar:
    """The app's calendar (built once from its settings)."""
    cal = app.extensions.get(_CACHE_KEY)
    if cal is None:
        cal = app.extensions[_CACHE_KEY] = WorkdayCalendar.from_config(app.config)
    return cal
