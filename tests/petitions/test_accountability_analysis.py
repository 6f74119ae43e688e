"""analysis.accountability: numbers against hand-worked cases and independent references
(statsmodels' Wilson interval, numpy's inverted-CDF percentile)."""
from __future__ import annotations

import doctest
import importlib
import inspect
import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis import accountability as acc

ROOT = Path(__file__).resolve().parents[2]
TET = [date(2026, 2, d) for d in (16, 17, 18, 19, 20)]


def test_hand_worked_group():
    # Five petitions received Monday 2 March 2026, due Monday 16 March (10 working days).
    received = ["2026-03-02"] * 5
    due = ["2026-03-16"] * 5
    answered = ["2026-03-02",   # same day: 0 working days, on time
                "2026-03-16",   # on the due day: 10, on time
                "2026-03-17",   # a day late: 11
                None,           # open and overdue on 31 March
                "2026-04-02"]   # answered after as_of: still open on 31 March, overdue
    f = acc.accountability_figures(received, answered, due, as_of=date(2026, 3, 31))
    assert (f.received, f.answered, f.answered_on_time, f.answered_late, f.open, f.overdue_open, f.decided) == \
        (5, 3, 2, 1, 2, 2, 5)
    low, high = proportion_confint(2, 5, alpha=0.05, method="wilson")
    assert f.on_time_share == pytest.approx(0.4)
    assert (f.on_time_low, f.on_time_high) == (pytest.approx(low), pytest.approx(high))
    assert f.median_days == 10.0          # days 0, 10, 11
    assert f.p90_days == 11.0             # nearest rank: ceil(0.9·3) = 3rd value


def test_open_petitions_within_their_limit_are_not_judged_yet():
    f = acc.accountability_figures(["2026-03-02", "2026-03-02"], ["2026-03-03", None],
                                   ["2026-03-16", "2026-03-16"], as_of="2026-03-10")
    assert (f.open, f.overdue_open, f.decided, f.answered_on_time) == (1, 0, 1, 1)
    assert f.on_time_share == 1.0


def test_nothing_decided_gives_nan_not_an_error():
    f = acc.accountability_figures(["2026-03-02"], [None], ["2026-03-16"], as_of="2026-03-03")
    assert math.isnan(f.on_time_share) and math.isnan(f.median_days) and math.isnan(f.p90_days)
    empty = acc.accountability_figures([], [], [], as_of="2026-03-03")
    assert (empty.received, empty.decided) == (0, 0)


def test_working_days_skip_tet_and_count_a_weekend_worked():
    # Received Friday 13 Feb 2026; answered Tuesday 24 Feb: 23 and 24 Feb are the only
    # working days in between (Tết 16–20, two weekends).
    assert acc.working_days_to_answer(["2026-02-13"], ["2026-02-24"], holidays=TET).tolist() == [2]
    assert acc.working_days_to_answer(["2026-02-13"], ["2026-02-24"]).tolist() == [7]  # without holidays
    # A Saturday worked (làm bù) counts.
    assert acc.working_days_to_answer(["2026-03-06"], ["2026-03-09"], weekend_workdays=["2026-03-07"]).tolist() \
        == [2]
    assert acc.working_days_to_answer(["2026-03-06", "2026-03-06"], [None, "2026-03-06"]).tolist() == [0]


def test_p90_is_the_nearest_rank_like_numpys_inverted_cdf():
    rng = np.random.default_rng(7)
    days = rng.integers(0, 30, size=37)
    received = np.array(["2026-01-05"] * 37, dtype="datetime64[D]")
    answered = np.busday_offset(received, days, roll="forward")
    f = acc.accountability_figures(received, answered, received + np.timedelta64(60, "D"), as_of="2026-12-31")
    assert f.p90_days == float(np.percentile(days, 90, method="inverted_cdf"))
    assert f.median_days == float(np.median(days))


@pytest.mark.parametrize("kwargs, message", [
    (dict(received=["2026-03-02"], answered=["2026-03-01"], due=["2026-03-16"]), "before its petition"),
    (dict(received=["2026-03-02"], answered=[None], due=["2026-03-01"]), "due day"),
    (dict(received=["2026-03-02", "2026-03-03"], answered=[None], due=["2026-03-16"]), "same length"),
    (dict(received=["yesterday"], answered=[None], due=["2026-03-16"]), "dates"),
    (dict(received=[None], answered=[None], due=["2026-03-16"]), "missing"),
])
def test_bad_input_is_refused_with_a_sentence(kwargs, message):
    with pytest.raises(ValueError, match=message):
        acc.accountability_figures(**kwargs, as_of="2026-03-31")


def test_a_weekend_workday_must_be_a_weekend_day():
    with pytest.raises(ValueError, match="Saturdays or Sundays"):
        acc.working_days_to_answer(["2026-03-02"], ["2026-03-09"], weekend_workdays=["2026-03-04"])


def _figures(on_time, late, open_in_time, overdue):
    n = on_time + late + open_in_time + overdue
    received = ["2026-03-02"] * n
    due = ["2026-03-16"] * n
    answered = ["2026-03-03"] * on_time + ["2026-03-20"] * late + [None] * (open_in_time + overdue)
    due = due[:on_time + late] + ["2026-04-30"] * open_in_time + ["2026-03-16"] * overdue
    return acc.accountability_figures(received, answered, due, as_of="2026-03-31")


def test_suppression_withholds_small_cells_and_what_would_reveal_them():
    big = acc.suppress_figures(_figures(40, 12, 15, 11))
    assert not any(vars(big).values())
    small = acc.suppress_figures(_figures(40, 3, 15, 11))   # 3 late answers
    assert small.on_time_share  # on-time ÷ decided would give the late count away
    # 40 on time is published only if the late cell cannot be recovered from it
    assert small.answered or small.answered_on_time
    zero = acc.suppress_figures(_figures(40, 0, 15, 0))     # zeros say nothing about a person
    assert not zero.overdue_open and not zero.answered_on_time and not zero.on_time_share
    tiny = acc.suppress_figures(_figures(2, 1, 0, 1))
    assert tiny.received and tiny.answered and tiny.overdue_open and tiny.days


def test_module_documents_every_public_function_and_its_examples_run():
    module = importlib.import_module("analysis.accountability")
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isfunction(obj):
            for section in ("Parameters", "Returns", "Raises", "Notes", "References", "Examples"):
                assert section in obj.__doc__, (name, section)
    source = (ROOT / "analysis" / "accountability.py").read_text(encoding="utf-8")
    assert "\n    assert " not in source


def test_the_module_imports_no_flask():
    code = "import analysis.accountability, sys; assert 'flask' not in sys.modules"
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
