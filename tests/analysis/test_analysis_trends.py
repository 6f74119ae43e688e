"""analysis.trends against pymannkendall, scipy and statsmodels."""

import math

import numpy as np
import pymannkendall as pmk
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from analysis.trends import mann_kendall, mann_whitney_from_counts, period_change, theil_sen

TIGHT = {"rel": 1e-10, "abs": 1e-12}


def _series():
    rng = np.random.default_rng(2024)
    return {
        "random": rng.normal(0.8, 0.05, 24),
        "increasing": np.linspace(0.70, 0.90, 12) + rng.normal(0, 0.01, 12),
        "decreasing": np.linspace(0.90, 0.75, 10),
        "ties": np.array([3, 3, 4, 4, 4, 5, 3, 5, 5, 6, 6, 6], dtype=float),
        "constant": np.full(8, 0.85),
        "gaps": np.array([0.80, np.nan, 0.82, 0.83, np.nan, 0.86, 0.85, 0.88]),
        "four": np.array([1.0, 2.0, 2.0, 3.0]),
        "sipas_national": np.array([84.45, 85.48, 80.08, 82.66, 83.94]),  # INSTRUMENTS.md
    }


def _assert_same_as_pymannkendall(y, ours):
    ref = pmk.original_test(y)
    assert ours.enough and ours.reason is None
    assert ours.trend == ref.trend
    assert ours.h == bool(ref.h)
    assert ours.s == pytest.approx(float(ref.s), **TIGHT)
    assert ours.var_s == pytest.approx(float(ref.var_s), **TIGHT)
    assert ours.z == pytest.approx(float(ref.z), **TIGHT)
    assert ours.p == pytest.approx(float(ref.p), rel=1e-9, abs=1e-12)
    assert ours.tau == pytest.approx(float(ref.Tau), **TIGHT)
    assert ours.slope == pytest.approx(float(ref.slope), rel=1e-9, abs=1e-12)
    assert ours.intercept == pytest.approx(float(ref.intercept), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", list(_series()))
def test_mann_kendall_matches_pymannkendall(name):
    y = _series()[name]
    _assert_same_as_pymannkendall(y, mann_kendall(y))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=4, max_size=30))
def test_mann_kendall_with_many_ties_matches_pymannkendall(values):
    y = np.asarray(values, dtype=float)
    _assert_same_as_pymannkendall(y, mann_kendall(y))


@pytest.mark.parametrize("y", [[], [0.8], [0.8, 0.9, 0.85], [0.8, np.nan, 0.9, np.nan, 0.7]])
def test_mann_kendall_needs_four_periods(y):
    r = mann_kendall(y)
    assert r.enough is False and r.reason == "not enough periods"
    assert r.trend is None and r.p is None and r.tau is None and r.slope is None
    assert r.n == sum(1 for v in y if not math.isnan(v))


@pytest.mark.parametrize("args", [([1, 2, np.inf, 4, 5],), ([[1, 2], [3, 4]],), ([1, 2, 3, 4], 1.5)])
def test_mann_kendall_bad_input(args):
    with pytest.raises(ValueError):
        mann_kendall(*args)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("confidence", [0.90, 0.95])
def test_theil_sen_matches_scipy(seed, confidence):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 8, 15).astype(float)  # repeated x values
    y = 0.5 * x + rng.normal(0, 1, 15)
    ours = theil_sen(x, y, confidence)
    ref = stats.theilslopes(y, x, confidence)
    assert ours.slope == pytest.approx(ref.slope, **TIGHT)
    assert ours.intercept == pytest.approx(ref.intercept, **TIGHT)
    assert ours.low == pytest.approx(ref.low_slope, **TIGHT)
    assert ours.high == pytest.approx(ref.high_slope, **TIGHT)


def test_theil_sen_matches_pymannkendall_sens_slope():
    y = _series()["random"]
    ref = pmk.sens_slope(y)
    ours = theil_sen(np.arange(y.size), y)
    assert ours.slope == pytest.approx(float(ref.slope), **TIGHT)
    assert ours.intercept == pytest.approx(float(ref.intercept), **TIGHT)


@pytest.mark.parametrize(
    "x,y", [([1, 2, 3], [1, 2]), ([2, 2, 2], [1, 2, 3]), ([1, 2, np.nan], [1, 2, 3]), ([], [])]
)
def test_theil_sen_bad_input(x, y):
    with pytest.raises(ValueError):
        theil_sen(x, y)


@pytest.mark.parametrize(
    "s1,n1,s2,n2",
    [(80, 100, 90, 100), (45, 60, 40, 60), (820, 1000, 845, 1000), (3, 10, 9, 12), (0, 20, 5, 20),
     (12, 12, 10, 15)],
)
@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_period_change_matches_statsmodels(s1, n1, s2, n2, confidence):
    r = period_change(s1, n1, s2, n2, confidence)
    z, p = proportions_ztest([s2, s1], [n2, n1])  # tests share2 - share1
    low, high = confint_proportions_2indep(s2, n2, s1, n1, method="newcomb", compare="diff",
                                           alpha=1 - confidence)
    assert r.difference == pytest.approx(s2 / n2 - s1 / n1, **TIGHT)
    assert r.z == pytest.approx(z, **TIGHT)
    assert r.p == pytest.approx(p, rel=1e-9)
    assert r.low == pytest.approx(low, rel=1e-9, abs=1e-12)
    assert r.high == pytest.approx(high, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("s", [0, 50])
def test_period_change_identical_extremes(s):
    r = period_change(s, 50, s, 50)
    assert (r.z, r.p, r.difference) == (0.0, 1.0, 0.0)
    assert r.low <= 0 <= r.high


@pytest.mark.parametrize("args", [(1, 0, 1, 1), (5, 4, 1, 2), (-1, 3, 1, 2), (1.5, 3, 1, 2)])
def test_period_change_bad_input(args):
    with pytest.raises(ValueError):
        period_change(*args)


def _expand(counts):
    return np.repeat(np.arange(1, len(counts) + 1), counts)


def _check_mwu(a, b):
    r = mann_whitney_from_counts(a, b)
    ref = stats.mannwhitneyu(_expand(a), _expand(b), method="asymptotic", use_continuity=True)
    assert r.u == pytest.approx(ref.statistic, **TIGHT)
    assert r.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-14)
    x, y = _expand(a), _expand(b)
    brute = (np.sum(x[:, None] > y[None, :]) + 0.5 * np.sum(x[:, None] == y[None, :])) / (x.size * y.size)
    assert r.prob_superiority == pytest.approx(brute, **TIGHT)
    assert (r.n_a, r.n_b) == (x.size, y.size)


@pytest.mark.parametrize(
    "a,b",
    [
        ([5, 10, 20, 40, 25], [10, 15, 25, 35, 15]),
        ([0, 0, 1, 5, 4], [1, 2, 3, 3, 1]),
        ([1, 0, 0], [0, 0, 1]),
        ([3, 5, 2], [3, 5, 2]),
        ([0, 2, 0, 0, 0], [0, 1, 0, 0, 3]),
    ],
)
def test_mann_whitney_matches_scipy(a, b):
    _check_mwu(a, b)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=5, max_size=5).filter(lambda c: sum(c) > 0),
    st.lists(st.integers(0, 30), min_size=5, max_size=5).filter(lambda c: sum(c) > 0),
)
def test_mann_whitney_property(a, b):
    x, y = _expand(a), _expand(b)
    if np.unique(np.concatenate([x, y])).size == 1:
        r = mann_whitney_from_counts(a, b)
        assert (r.z, r.p) == (0.0, 1.0)  # scipy gives nan: no variation at all
    else:
        _check_mwu(a, b)
    r = mann_whitney_from_counts(a, b)
    assert np.sign(r.z) == np.sign(round(r.prob_superiority - 0.5, 12)) or r.z == 0


@pytest.mark.parametrize("a,b", [([1, 2], [1, 2, 3]), ([0, 0], [1, 2]), ([1, -2], [1, 2]), ([[1]], [[1]])])
def test_mann_whitney_bad_input(a, b):
    with pytest.raises(ValueError):
        mann_whitney_from_counts(a, b)
