"""analysis.suppress: primary and secondary suppression, audited by linear algebra."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.suppress import suppress_counts, suppress_table


def _extended(table):
    t = np.asarray(table, dtype=np.int64)
    r, c = t.shape
    ext = np.zeros((r + 1, c + 1), dtype=np.int64)
    ext[:r, :c], ext[:r, c], ext[r, :c], ext[r, c] = t, t.sum(1), t.sum(0), t.sum()
    return ext


def _extended_mask(res):
    r, c = res.cells.shape
    m = np.zeros((r + 1, c + 1), dtype=bool)
    m[:r, :c], m[:r, c], m[r, :c], m[r, c] = res.cells, res.row_totals, res.col_totals, res.grand_total
    return m


def _recoverable(ext, mask):
    """Withheld entries a reader can solve for exactly from the published values.

    Unknowns are the withheld entries; each row and column of the extended table gives
    one linear equation. An unknown is determined iff its unit vector lies in the row
    space of the equations (rank test), independent of how the mask was built.
    """
    cells = list(zip(*np.nonzero(mask)))
    if not cells:
        return []
    index = {cell: k for k, cell in enumerate(cells)}
    equations = []
    for i in range(ext.shape[0]):
        e = np.zeros(len(cells))
        for j in range(ext.shape[1]):
            if (i, j) in index:
                e[index[(i, j)]] = 1
        equations.append(e)
    for j in range(ext.shape[1]):
        e = np.zeros(len(cells))
        for i in range(ext.shape[0]):
            if (i, j) in index:
                e[index[(i, j)]] = 1
        equations.append(e)
    a = np.array(equations)
    rank = np.linalg.matrix_rank(a)
    out = []
    for cell, k in index.items():
        unit = np.zeros(len(cells))
        unit[k] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.append(cell)
    return out


# --------------------------------------------------------------------------- 1-D


def test_one_dimensional_leak_is_closed():
    counts = [3, 25, 40]  # published total 68
    primary = np.array(counts) < 10
    # Primary suppression alone leaks: 68 − 25 − 40 = 3.
    assert primary.sum() == 1 and sum(counts) - sum(np.array(counts)[~primary]) == 3
    m = suppress_counts(counts)
    assert m.cells.tolist() == [True, True, False] and m.total is False
    assert m.cells.sum() >= 2  # only the sum 28 of the two withheld cells is known


@pytest.mark.parametrize(
    "counts,cells,total",
    [
        ([50, 60, 70], [False, False, False], False),
        ([3, 4, 50], [True, True, False], False),  # two withheld already protect each other
        ([2, 3, 4], [True, True, True], True),  # total 9 < 10
        ([5], [True], True),  # the total equals the cell
        ([50], [False], False),
        ([0, 50, 60], [True, True, False], False),
        ([2, 1, 3], [True, True, True], True),  # total 6 < 10
    ],
)
def test_one_dimensional_cases(counts, cells, total):
    m = suppress_counts(counts)
    assert m.cells.tolist() == cells and m.total is total


def test_zeros_can_be_published():
    assert suppress_counts([0, 50, 60], withhold_zeros=False).cells.tolist() == [False] * 3
    # A published zero may still serve as the complement: the reader learns 0 + 5 = 5 only.
    assert suppress_counts([0, 5, 60, 70], withhold_zeros=False).cells.tolist() == [True, True, False, False]


def test_threshold_is_configurable():
    assert suppress_counts([12, 30, 40], threshold=20).cells.tolist() == [True, True, False]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=8))
def test_one_dimensional_property(counts):
    m = suppress_counts(counts)
    c = np.array(counts)
    assert np.all(m.cells[c < 10])  # every small cell withheld
    withheld = int(m.cells.sum()) + int(m.total)
    assert withheld != 1  # never exactly one withheld entry in the sum relation


# --------------------------------------------------------------------------- 2-D


def test_two_dimensional_leak_is_closed():
    table = np.array([[3, 40, 50], [20, 30, 60], [25, 35, 45]])
    ext = _extended(table)
    primary = ext < 10
    assert _recoverable(ext, primary) == [(0, 0)]  # row 0 gives 93 − 40 − 50 = 3
    res = suppress_table(table)
    mask = _extended_mask(res)
    assert _recoverable(ext, mask) == []
    assert res.cells[0, 0]
    for line in list(mask) + list(mask.T):
        assert line.sum() != 1


def test_bridge_between_two_protected_blocks_is_closed():
    """Each line has 0 or ≥ 2 withheld cells, yet cell (1, 2) is still solvable.

    Withheld: a 2×2 block in rows 0–1 × columns 0–1, another in rows 2–3 × columns 2–3,
    and (1, 2) joining them: row 1 and column 2 have three withheld each. The joining
    cell is a bridge, so its value follows from the equations.
    """
    big = 100
    table = np.full((4, 4), big)
    for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        table[i, j] = 5
    ext = _extended(table)
    primary = ext < 10
    for line in list(primary) + list(primary.T):
        assert line.sum() in (0, 2, 3)
    assert (1, 2) in _recoverable(ext, primary)
    res = suppress_table(table)
    assert _recoverable(ext, _extended_mask(res)) == []


def test_small_totals_are_withheld():
    res = suppress_table([[3, 4], [50, 60]])
    # 7 < 10 is withheld; then 110 too, or 7 = 117 − 110 down the row-total column.
    assert res.row_totals.tolist() == [True, True]
    assert res.grand_total is False
    assert _recoverable(_extended([[3, 4], [50, 60]]), _extended_mask(res)) == []


def test_single_cell_table():
    res = suppress_table([[4]])
    assert res.cells.all() and res.row_totals.all() and res.col_totals.all() and res.grand_total


@settings(max_examples=60, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=st.integers(0, 40)))
def test_two_dimensional_property(table):
    res = suppress_table(table)
    ext = _extended(table)
    mask = _extended_mask(res)
    assert np.all(mask[ext < 10])  # every small cell and total withheld
    for line in list(mask) + list(mask.T):
        assert line.sum() != 1  # no row or column with exactly one withheld entry
    assert _recoverable(ext, mask) == []  # and nothing withheld can be solved for


@pytest.mark.parametrize(
    "call",
    [
        lambda: suppress_counts([]),
        lambda: suppress_counts([[1, 2]]),
        lambda: suppress_counts([1, -2]),
        lambda: suppress_counts([1.5, 2]),
        lambda: suppress_counts([1, 2], threshold=0),
        lambda: suppress_table([1, 2, 3]),
        lambda: suppress_table(np.zeros((0, 3))),
        lambda: suppress_table([[1, 2], [3]]),
    ],
)
def test_bad_input(call):
    with pytest.raises(ValueError):
        call()
