"""Stored moments summed by group (what a report does with thousands of monthly rows)
equal the moments of the union of the respondents, on both the int64 and the exact path."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.respondent import Moments, group_stored_moments


def _rows(data):
    return [Moments.of(r).to_json() for r in data]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4).flatmap(lambda m: st.lists(
    st.tuples(st.integers(0, 2), st.lists(st.lists(st.integers(-3, 40), min_size=m, max_size=m), min_size=1,
                                          max_size=6)), min_size=1, max_size=12)))
def test_group_sums_equal_the_moments_of_the_union(rows):
    stored = _rows([r for _g, r in rows])
    groups = [g for g, _r in rows]
    got = group_stored_moments([s["n"] for s in stored], [s["sums"] for s in stored], [s["cross"] for s in stored],
                               groups, 3)
    for g in range(3):
        members = [x for gg, r in rows if gg == g for x in r]
        if not members:
            assert got[g] is None
        else:
            assert got[g] == Moments.of(members)


def test_left_out_rows_and_large_numbers_go_the_exact_way():
    big = [[2**40, 1], [3, 2**35]]  # sums of squares beyond 2**62: Python integers
    small = [[1, 2]]
    stored = _rows([big, small])
    got = group_stored_moments([s["n"] for s in stored], [s["sums"] for s in stored], [s["cross"] for s in stored],
                               [0, -1], 1)
    assert got == [Moments.of(big)]
    assert got[0].cross[0][0] == 2**80 + 9


def test_a_corrupt_row_raises_the_precise_error():
    good = Moments.of([[1, 2], [3, 4]]).to_json()
    with pytest.raises(ValueError, match="sum of squares is inconsistent"):
        group_stored_moments([2], [good["sums"]], [[0, 0, 0]], [0], 1)  # Σx² = 0 with Σx = 4
    with pytest.raises(ValueError, match="m\\(m\\+1\\)/2"):
        group_stored_moments([2], [good["sums"]], [[1, 2]], [0], 1)
    with pytest.raises(ValueError, match="below n_groups"):
        group_stored_moments([2], [good["sums"]], [good["cross"]], [1], 1)


def test_the_int64_path_is_taken_for_a_months_worth_of_rows():
    rng = np.random.default_rng(1)
    data = [rng.integers(0, 6, size=(50, 5)).tolist() for _ in range(200)]
    stored = _rows(data)
    groups = [i % 7 for i in range(200)]
    got = group_stored_moments([s["n"] for s in stored], [s["sums"] for s in stored], [s["cross"] for s in stored],
                               groups, 7)
    for g in range(7):
        assert got[g] == Moments.of([x for i, r in enumerate(data) if i % 7 == g for x in r])
        assert got[g]._arrays[1].dtype == np.int64


def test_several_groupings_at_once_equal_one_at_a_time():
    from analysis.respondent import group_stored_moments_by

    rng = np.random.default_rng(2)
    stored = _rows([rng.integers(0, 6, size=(5, 3)).tolist() for _ in range(30)])
    cols = ([s["n"] for s in stored], [s["sums"] for s in stored], [s["cross"] for s in stored])
    groupings = [([0] * 30, 1), ([i % 4 for i in range(30)], 4), ([i // 10 if i % 3 else -1 for i in range(30)], 3)]
    assert group_stored_moments_by(*cols, groupings) == [group_stored_moments(*cols, g, k) for g, k in groupings]
