"""analysis.patterns against a direct count over datetimes."""

from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.patterns import hour_weekday_pattern


def test_pattern_matches_python_datetime_counts():
    rng = np.random.default_rng(3)
    start = datetime(2025, 3, 3)  # a Monday
    stamps = [start + timedelta(minutes=int(m)) for m in rng.integers(0, 60 * 24 * 28, 800)]
    happy = rng.random(800) < 0.8
    p = hour_weekday_pattern([t.weekday() for t in stamps], [t.hour for t in stamps], happy)
    for d in range(7):
        for h in range(24):
            idx = [i for i, t in enumerate(stamps) if t.weekday() == d and t.hour == h]
            assert p.count[d, h] == len(idx)
            assert p.satisfied[d, h] == int(happy[idx].sum()) if idx else p.satisfied[d, h] == 0
            if idx:
                assert p.share[d, h] == pytest.approx(happy[idx].mean(), rel=1e-12)
            else:
                assert np.isnan(p.share[d, h])
    assert p.count.sum() == 800 and p.count.shape == (7, 24)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 23), st.booleans(), st.integers(0, 50)),
                max_size=60))
def test_grouped_rows_equal_expanded_rows(rows):
    d, h, s, c = (list(x) for x in zip(*rows)) if rows else ([], [], [], [])
    grouped = hour_weekday_pattern(d, h, s, c)
    expanded = hour_weekday_pattern(np.repeat(d, c).astype(int), np.repeat(h, c).astype(int),
                                    np.repeat(s, c).astype(bool))
    assert np.array_equal(grouped.count, expanded.count)
    assert np.array_equal(grouped.satisfied, expanded.satisfied)
    assert np.array_equal(np.isnan(grouped.share), grouped.count == 0)


@pytest.mark.parametrize(
    "args",
    [
        ([7], [1], [True]),
        ([1], [24], [True]),
        ([-1], [1], [True]),
        ([1, 2], [1], [True]),
        ([1], [1], [2]),
        ([1], [1], ["yes"]),
        ([1], [1], [True], [-1]),
        ([1.5], [1], [True]),
    ],
)
def test_bad_input(args):
    with pytest.raises(ValueError):
        hour_weekday_pattern(*args)
