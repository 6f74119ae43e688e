"""The working-day calendar against the official 2026 calendar.

Expected dates are written out by hand from the government's 2026 holiday schedule (Tết
Bính Ngọ: Monday 16 – Friday 20 February for public servants, with the weekends around it
nine days off, 14–22 February; Giỗ Tổ Hùng Vương 10/3 lunar = Sunday 26 April, off on
Monday 27 April; 30/4 Thursday and 1/5 Friday; Quốc khánh 2/9 Wednesday with 1/9), never
computed with the code under test.
"""
from __future__ import annotations

from datetime import date

import holidays
import pytest

from survey_app.extensions import db
from survey_app.services.petitions.operations import PetitionSettings, file_petition, local_day
from survey_app.services.petitions.workdays import WorkdayCalendar, parse_dates

CAL = WorkdayCalendar()


def test_the_holidays_package_knows_the_2026_public_holidays():
    days = holidays.country_holidays("VN", years=2026)
    for expected in [date(2026, 1, 1),                                    # Tết Dương lịch
                     date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18),  # Tết Bính Ngọ: 29 Tết,
                     date(2026, 2, 19), date(2026, 2, 20),                # mùng 1 (17/2) … mùng 4
                     date(2026, 4, 26), date(2026, 4, 27),                # Giỗ Tổ (Sunday) and the day off
                     date(2026, 4, 30), date(2026, 5, 1),                 # 30/4, 1/5
                     date(2026, 9, 1), date(2026, 9, 2)]:                 # Quốc khánh
        assert expected in days, expected
    assert date(2026, 2, 23) not in days  # back to work on Monday 23 February


@pytest.mark.parametrize("day, working", [
    (date(2026, 2, 13), True),    # Friday before Tết
    (date(2026, 2, 14), False),   # Saturday
    (date(2026, 2, 16), False), (date(2026, 2, 17), False), (date(2026, 2, 20), False),  # Tết
    (date(2026, 2, 22), False),   # Sunday
    (date(2026, 2, 23), True),    # first working day after Tết
    (date(2026, 4, 27), False), (date(2026, 4, 30), False), (date(2026, 5, 1), False),
    (date(2026, 5, 4), True),
    (date(2026, 9, 2), False), (date(2026, 9, 1), False),
    (date(2026, 3, 7), False), (date(2026, 3, 8), False),  # an ordinary weekend
])
def test_working_days_in_2026(day, working):
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize("received, limit, due", [
    # Friday before Tết: day 1 is Monday 23 February, day 10 Friday 6 March.
    (date(2026, 2, 13), 10, date(2026, 3, 6)),
    # Thursday before Tết: day 1 Friday 13 Feb, day 2 Monday 23 Feb, day 3 Tuesday 24 Feb.
    (date(2026, 2, 12), 3, date(2026, 2, 24)),
    # Received during Tết or on the weekend before: day 1 is Monday 23 February.
    (date(2026, 2, 14), 1, date(2026, 2, 23)),
    (date(2026, 2, 18), 5, date(2026, 2, 27)),
    # An ordinary weekend: Friday 6 March + 1 → Monday 9 March; + 5 → Friday 13 March.
    (date(2026, 3, 6), 1, date(2026, 3, 9)),
    (date(2026, 3, 6), 5, date(2026, 3, 13)),
    (date(2026, 3, 7), 1, date(2026, 3, 9)),
    # Around Giỗ Tổ, 30/4 and 1/5: from Friday 24 April, days 1–10 are 28, 29 April and
    # 4, 5, 6, 7, 8, 11, 12, 13 May.
    (date(2026, 4, 24), 10, date(2026, 5, 13)),
])
def test_due_dates_count_from_the_next_working_day(received, limit, due):
    assert CAL.due_date(received, limit) == due


def test_working_days_between_counts_the_days_after_receipt():
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 13)) == 0
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2   # 23 and 24 February
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 3, 6)) == 10
    assert CAL.working_days_late(date(2026, 3, 6), date(2026, 3, 9)) == 1


def test_overrides_for_government_day_swaps():
    cal = WorkdayCalendar(extra_holidays={date(2026, 3, 9)}, extra_working_days={date(2026, 3, 7)})
    assert cal.is_working_day(date(2026, 3, 7))        # a Saturday worked
    assert not cal.is_working_day(date(2026, 3, 9))    # a Monday off
    assert cal.due_date(date(2026, 3, 6), 1) == date(2026, 3, 7)
    assert cal.due_date(date(2026, 3, 6), 2) == date(2026, 3, 10)
    assert WorkdayCalendar.from_config({"WORKDAY_EXTRA_HOLIDAYS": "2026-03-09",
                                        "WORKDAY_EXTRA_WORKING_DAYS": ""}).due_date(date(2026, 3, 6), 1) \
        == date(2026, 3, 10)
    assert parse_dates("2026-03-09, 2026-03-10") == {date(2026, 3, 9), date(2026, 3, 10)}
    with pytest.raises(ValueError):
        parse_dates("09/03/2026")


def test_a_petition_is_due_by_the_local_day_of_receipt(demo_app, place, h):
    # 18:00 UTC on Thursday 12 February is 01:00 on Friday 13 February in Viet Nam.
    received = h.utc(2026, 2, 12, 18, 0)
    assert local_day(received) == date(2026, 2, 13)
    petition = file_petition(db.session, place.p2_point, category="procedure", text="Hồ sơ bị trả lại nhiều lần.",
                             now=received).petition
    # The default resolve limit is the national portal's 15 working days: day 1 is Monday
    # 23 February (after Tết), day 15 Friday 13 March.
    assert (petition.deadline_days, petition.due_on) == (15, date(2026, 3, 13))


def test_limits_per_category_come_from_the_settings():
    settings = PetitionSettings(deadline_days=10, deadlines={"health": 5})
    assert settings.limit_for("health") == 5 and settings.limit_for("other") == 10
