"""The pure parts of report views: windows, the chart cache, number formatting."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from survey_app.services.reports import text as report_text
from survey_app.services.reports.views import ByteCache, FilterError, resolve_window


@pytest.mark.parametrize("window, expected", [
    ("12m", ("12m", date(2025, 12, 1), date(2026, 11, 29))),
    ("", ("12m", date(2025, 12, 1), date(2026, 11, 29))),
    ("2026", ("2026", date(2026, 1, 1), date(2026, 12, 31))),
    ("2026-Q1", ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))),
    ("2024-Q4", ("2024-Q4", date(2024, 10, 1), date(2024, 12, 31))),
    ("2024-02", ("2024-02", date(2024, 2, 1), date(2024, 2, 29))),
    ("2026-12", ("2026-12", date(2026, 12, 1), date(2026, 12, 31))),
])
def test_windows_resolve_to_local_days(window, expected):
    assert resolve_window(window, None, None, date(2026, 11, 29)) == expected


def test_the_last_twelve_months_cross_a_year():
    assert resolve_window("12m", None, None, date(2026, 1, 15))[1] == date(2025, 2, 1)
    assert resolve_window("", "2026-01-01", "2026-01-31", date(2026, 5, 1)) == (
        "custom", date(2026, 1, 1), date(2026, 1, 31))


@pytest.mark.parametrize("window, first, last", [
    ("2026-13", None, None), ("2026-Q5", None, None), ("1999", None, None), ("week", None, None),
    ("custom", "2026-01-01", None), ("custom", "2026/01/01", "2026-02-01"), ("custom", "20260101", "20260201"),
    ("custom", "2026-03-01", "2026-02-01"), ("custom", "3000-01-01", "3000-02-01"),
])
def test_unusable_windows_raise_a_filter_error(window, first, last):
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context(), pytest.raises(FilterError) as caught:
        resolve_window(window, first, last, date(2026, 11, 29))
    assert caught.value.message


def test_the_chart_cache_is_bounded_by_size_and_computes_once():
    cache = ByteCache(max_bytes=100)
    cache.put("a", {"x": b"1" * 60})
    cache.put("b", {"x": b"2" * 30})
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", {"x": b"3" * 30})  # 120 bytes: the least recent (b) goes
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    cache.put("huge", {"x": b"4" * 101})
    assert cache.get("huge") is None
    calls = []
    gate = threading.Event()

    def make():
        calls.append(1)
        gate.wait(2)
        return {"x": b"made"}

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_make("k", make))) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [{"x": b"made"}] * 4
    with pytest.raises(RuntimeError):
        cache.get_or_make("boom", lambda: (_ for _ in ()).throw(RuntimeError("no")))
    assert cache.get_or_make("boom", lambda: {"x": b"ok"}) == {"x": b"ok"}


def test_numbers_in_vietnamese_and_english():
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        with force_locale("vi"):
            assert report_text.percent(0.8273) == "82,7%"
            assert report_text.interval(0.8167, 0.8380) == "81,7–83,8%"
            assert report_text.p_value(0.0004) == "p < 0,001"
            assert report_text.p_value(0.0042) == "p = 0,004"
            assert report_text.p_value(0.2239) == "p = 0,22"
            assert report_text.points(-0.0212) == "−2,1" and report_text.points(0.0332) == "+3,3"
            assert report_text.count(1620) == "1.620"
            assert report_text.number(None) == "—"
        with force_locale("en"):
            assert report_text.percent(0.8273) == "82.7%" and report_text.count(1620) == "1,620"
