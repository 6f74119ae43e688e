"""analysis.scores against statsmodels / scipy and hand-worked examples."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from analysis.scores import (
    level_summary,
    mean_from_counts,
    mean_from_moments,
    moh_comprehensive_satisfaction,
    moh_general_satisfaction,
    moh_mean_scores,
    moh_return_rate,
    grade_for,
    one_stop_points,
    satisfied_share_index,
    wilson_interval,
)

TIGHT = {"rel": 1e-10, "abs": 1e-12}
LEVELS = [1, 2, 3, 4, 5]
ONE_STOP_GRADES = [  # INSTRUMENTS.md §2, highest first
    {"min": 15, "strict": True, "vi": "Xuất sắc", "en": "Excellent"},
    {"min": 12, "vi": "Tốt", "en": "Good"},
    {"min": 9, "vi": "Khá", "en": "Fair"},
    {"min": 6, "vi": "Trung bình", "en": "Average"},
    {"min": 0, "vi": "Yếu", "en": "Weak"},
]


# --------------------------------------------------------------------------- Wilson


@pytest.mark.parametrize(
    "s,n", [(0, 1), (1, 1), (0, 10), (1, 10), (5, 10), (10, 10), (45, 50), (3, 7), (950, 1000)]
)
@pytest.mark.parametrize("confidence", [0.90, 0.95, 0.99])
def test_wilson_matches_statsmodels(s, n, confidence):
    r = wilson_interval(s, n, confidence)
    low, high = proportion_confint(s, n, alpha=1 - confidence, method="wilson")
    assert r.share == pytest.approx(s / n, **TIGHT)
    assert r.low == pytest.approx(max(low, 0.0), **TIGHT)
    assert r.high == pytest.approx(min(high, 1.0), **TIGHT)
    assert r.n == n


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_property(sn):
    s, n = sn
    r = wilson_interval(s, n)
    low, high = proportion_confint(s, n, method="wilson")
    assert 0.0 <= r.low <= r.share <= r.high <= 1.0
    assert r.low == pytest.approx(max(low, 0.0), rel=1e-9, abs=1e-12)
    assert r.high == pytest.approx(min(high, 1.0), rel=1e-9, abs=1e-12)


def test_wilson_accepts_numpy_and_integral_floats():
    assert wilson_interval(np.int64(3), 10.0).share == 0.3


@pytest.mark.parametrize(
    "args",
    [(0, 0), (5, 4), (-1, 10), (2.5, 10), (1, 10, 1.0), (1, 10, 0.0), (True, 10), (math.nan, 10),
     ("3", 10)],
)
def test_wilson_bad_input(args):
    with pytest.raises(ValueError):
        wilson_interval(*args)


# --------------------------------------------------------------------------- means


@pytest.mark.parametrize(
    "values,counts",
    [
        (LEVELS, [2, 3, 10, 20, 15]),
        (LEVELS, [0, 0, 0, 1, 1]),
        (LEVELS, [0, 0, 7, 0, 0]),
        ([0, 25, 50, 75, 100], [1, 4, 10, 30, 55]),
        ([1, 2, 3], [1000, 2000, 30000]),
    ],
)
@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_mean_from_counts_matches_statsmodels(values, counts, confidence):
    r = mean_from_counts(values, counts, confidence)
    d = DescrStatsW(np.asarray(values, float), weights=np.asarray(counts, float), ddof=1)
    low, high = d.tconfint_mean(alpha=1 - confidence)
    expanded = np.repeat(values, counts).astype(float)
    assert r.n == expanded.size
    assert r.mean == pytest.approx(expanded.mean(), **TIGHT)
    assert r.sd == pytest.approx(expanded.std(ddof=1), rel=1e-10, abs=1e-12)
    assert r.low == pytest.approx(low, rel=1e-10)
    assert r.high == pytest.approx(high, rel=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=2, max_size=200))
def test_mean_from_moments_matches_scipy_t(data):
    x = np.asarray(data, dtype=np.int64)
    r = mean_from_moments(x.size, int(x.sum()), int((x * x).sum()))
    assert r.mean == pytest.approx(x.mean(), **TIGHT)
    if x.std() == 0:
        assert r.low == pytest.approx(x.mean()) and r.high == pytest.approx(x.mean())
    else:
        low, high = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
        assert r.low == pytest.approx(low, rel=1e-9)
        assert r.high == pytest.approx(high, rel=1e-9)


def test_mean_from_moments_is_exact_for_large_integer_inputs():
    n = 10**6
    r = mean_from_moments(n, 18 * n, 324 * n)  # everyone scored 18
    assert (r.mean, r.sd, r.low, r.high) == (18.0, 0.0, 18.0, 18.0)


def test_mean_single_observation_has_nan_interval():
    r = mean_from_counts(LEVELS, [0, 0, 1, 0, 0])
    assert r.mean == 3 and r.n == 1
    assert math.isnan(r.low) and math.isnan(r.high) and math.isnan(r.sd)


@pytest.mark.parametrize(
    "call",
    [
        lambda: mean_from_counts(LEVELS, [1, 2, 3]),
        lambda: mean_from_counts([1, 1, 2], [1, 1, 1]),
        lambda: mean_from_counts(LEVELS, [0, 0, 0, 0, 0]),
        lambda: mean_from_counts(LEVELS, [1, -1, 0, 0, 0]),
        lambda: mean_from_moments(0, 0, 0),
        lambda: mean_from_moments(3, 30, 10),  # Σx² < (Σx)²/n
        lambda: mean_from_moments(3, math.inf, 10),
    ],
)
def test_mean_bad_input(call):
    with pytest.raises(ValueError):
        call()


# --------------------------------------------------------------------------- level summary


def test_level_summary_against_references():
    counts = [3, 7, 15, 40, 35]
    r = level_summary(LEVELS, counts, satisfied_levels=[4, 5])
    d = DescrStatsW(np.array(LEVELS, float), weights=np.array(counts, float), ddof=1)
    low, high = d.tconfint_mean()
    s_low, s_high = proportion_confint(75, 100, method="wilson")
    assert r.counts == tuple(counts) and r.n == 100
    assert r.mean == pytest.approx(d.mean, **TIGHT)
    assert (r.mean_low, r.mean_high) == (pytest.approx(low, rel=1e-10), pytest.approx(high, rel=1e-10))
    assert r.satisfied == 0.75
    assert (r.satisfied_low, r.satisfied_high) == (pytest.approx(s_low, rel=1e-10),
                                                   pytest.approx(s_high, rel=1e-10))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"satisfied_levels": [6]},
        {"satisfied_levels": []},
        {"counts": [0, 0, 0, 0, 0]},
        {"counts": [1, 2]},
        {"confidence": 95},
    ],
)
def test_level_summary_bad_input(kwargs):
    args = {"values": LEVELS, "counts": [1, 2, 3, 4, 5], "satisfied_levels": [4, 5]} | kwargs
    with pytest.raises(ValueError):
        level_summary(**args)


# --------------------------------------------------------------------------- SIPAS index


def _hand_index(factors, z=1.959963984540054):
    """The documented formula, written out independently."""
    f_idx, f_var = [], []
    for crit in factors.values():
        shares = [s / n for s, n in crit if n]
        adj = [((s + z * z / 2) / (n + z * z), n + z * z) for s, n in crit if n]
        f_idx.append(sum(shares) / len(shares))
        f_var.append(sum(p * (1 - p) / m for p, m in adj) / len(shares) ** 2)
    value = sum(f_idx) / len(f_idx)
    half = z * math.sqrt(sum(f_var)) / len(f_idx)
    return value, max(0, value - half), min(1, value + half), f_idx


def test_satisfied_share_index_is_mean_of_factor_means_not_pooled():
    factors = {
        "access": [(80, 100), (90, 100), (70, 100), (95, 100)],
        "procedure": [(60, 80), (70, 80)],
        "staff": [(150, 200)],
    }
    r = satisfied_share_index(factors)
    value, low, high, f_idx = _hand_index(factors)
    assert [f.index for f in r.factors] == pytest.approx([0.8375, 0.8125, 0.75], **TIGHT)
    assert r.value == pytest.approx((0.8375 + 0.8125 + 0.75) / 3, **TIGHT)
    assert r.value == pytest.approx(value, **TIGHT)
    assert (r.low, r.high) == (pytest.approx(low, **TIGHT), pytest.approx(high, **TIGHT))
    pooled = (80 + 90 + 70 + 95 + 60 + 70 + 150) / (400 + 160 + 200)
    assert r.value != pytest.approx(pooled)
    assert [f.n for f in r.factors] == [100, 80, 200]
    assert [f.criteria for f in r.factors] == [4, 2, 1]


@pytest.mark.parametrize("s,n", [(0, 20), (7, 20), (20, 20), (300, 400)])
def test_single_criterion_interval_has_agresti_coull_width(s, n):
    r = satisfied_share_index({"only": [(s, n)]})
    low, high = proportion_confint(s, n, method="agresti_coull")
    assert r.value == s / n
    if 0 < s < n:
        assert r.high - r.low == pytest.approx(high - low, rel=1e-10)
    assert r.high > r.low  # never a zero-width interval, even at 0 % or 100 %


def test_empty_criteria_and_factors_are_left_out():
    r = satisfied_share_index({"a": [(8, 10), (0, 0)], "b": [(0, 0)], "c": [(5, 10)]})
    assert r.factors[0].index == 0.8 and r.factors[0].criteria == 1
    assert math.isnan(r.factors[1].index) and r.factors[1].criteria == 0
    assert r.value == pytest.approx(0.65)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.text("abcdef", min_size=1, max_size=3),
        st.lists(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
                 min_size=1, max_size=6),
        min_size=1,
        max_size=5,
    )
)
def test_satisfied_share_index_properties(factors):
    r = satisfied_share_index(factors)
    value, low, high, _ = _hand_index(factors)
    assert 0 <= r.low <= r.value <= r.high <= 1
    assert r.value == pytest.approx(value, **TIGHT)
    assert r.low == pytest.approx(low, **TIGHT) and r.high == pytest.approx(high, **TIGHT)


@pytest.mark.parametrize(
    "factors",
    [{}, {"a": []}, {"a": [(0, 0)]}, {"a": [(5, 4)]}, {"a": [(1, 2, 3)]}, {"a": [(-1, 2)]}, {1: [(1, 2)]}],
)
def test_satisfied_share_index_bad_input(factors):
    with pytest.raises(ValueError):
        satisfied_share_index(factors)


# --------------------------------------------------------------------------- MOH


def test_moh_mean_scores_is_mean_of_item_means():
    sections = {
        "A": [[0, 0, 2, 4, 4], [1, 1, 2, 3, 3], [0, 0, 0, 0, 0]],
        "B": [[0, 0, 0, 5, 15]],
    }
    r = moh_mean_scores(LEVELS, sections)
    item_means = [np.repeat(LEVELS, row).mean() for rows in sections.values() for row in rows if sum(row)]
    assert r.overall == pytest.approx(np.mean(item_means), **TIGHT)
    a = r.sections[0]
    assert (a.key, a.items, a.answers) == ("A", 2, 20)
    assert a.mean == pytest.approx(np.mean(item_means[:2]), **TIGHT)
    assert r.sections[1].mean == pytest.approx(4.75, **TIGHT)


def test_moh_rates_match_statsmodels_wilson():
    items = [[1, 2, 3, 10, 4], [0, 1, 4, 8, 7], [2, 0, 2, 6, 10]]
    g = moh_general_satisfaction(LEVELS, items, [4, 5])
    low, high = proportion_confint(45, 60, method="wilson")
    assert (g.share, g.n) == (0.75, 60)
    assert (g.low, g.high) == (pytest.approx(low, **TIGHT), pytest.approx(high, **TIGHT))

    c = moh_comprehensive_satisfaction(13, 20)
    low, high = proportion_confint(13, 20, method="wilson")
    assert (c.share, c.low, c.high) == (0.65, pytest.approx(low, **TIGHT), pytest.approx(high, **TIGHT))

    ret = moh_return_rate({"surely": 40, "probably": 25, "unsure": 20, "no": 10, "other": 5},
                          ["surely", "probably", "never-chosen"])
    low, high = proportion_confint(65, 100, method="wilson")
    assert (ret.share, ret.n) == (0.65, 100)
    assert (ret.low, ret.high) == (pytest.approx(low, **TIGHT), pytest.approx(high, **TIGHT))


def test_moh_expectation_met_is_mean_of_percent_question():
    values = list(range(0, 101, 10))
    counts = [0, 0, 1, 2, 3, 10, 12, 20, 25, 15, 12]
    r = mean_from_counts(values, counts)
    d = DescrStatsW(np.array(values, float), weights=np.array(counts, float), ddof=1)
    assert r.mean == pytest.approx(d.mean, **TIGHT)
    assert (r.low, r.high) == pytest.approx(d.tconfint_mean(), rel=1e-10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: moh_mean_scores(LEVELS, {}),
        lambda: moh_mean_scores(LEVELS, {"A": [[0, 0, 0, 0, 0]]}),
        lambda: moh_mean_scores(LEVELS, {"A": [[1, 2, 3]]}),
        lambda: moh_general_satisfaction(LEVELS, [[0, 0, 0, 0, 0]], [4, 5]),
        lambda: moh_general_satisfaction(LEVELS, [[1, 1, 1, 1, 1]], [9]),
        lambda: moh_comprehensive_satisfaction(5, 0),
        lambda: moh_return_rate({"a": 0}, ["a"]),
        lambda: moh_return_rate({"a": 3}, []),
    ],
)
def test_moh_bad_input(call):
    with pytest.raises(ValueError):
        call()


# --------------------------------------------------------------------------- one-stop points


def test_one_stop_points_against_respondent_level_reference():
    rng = np.random.default_rng(61)
    levels = np.array([1, 2, 3])
    pts = np.array([0, 1, 2])
    answers = rng.choice(levels, size=(120, 9), p=[0.1, 0.3, 0.6])
    points = pts[answers - 1]
    totals = points.sum(axis=1)
    counts = [[int((answers[:, j] == lv).sum()) for lv in levels] for j in range(9)]
    r = one_stop_points(levels, pts, counts, n=totals.size, total_sum=int(totals.sum()),
                        total_sum_sq=int((totals**2).sum()), max_total=18, grades=ONE_STOP_GRADES)
    low, high = stats.t.interval(0.95, totals.size - 1, loc=totals.mean(), scale=stats.sem(totals))
    assert r.indicators == pytest.approx(points.mean(axis=0), **TIGHT)
    assert r.mean_total == pytest.approx(totals.mean(), **TIGHT)
    assert r.sd == pytest.approx(totals.std(ddof=1), rel=1e-10)
    assert (r.low, r.high) == (pytest.approx(low, rel=1e-10), pytest.approx(high, rel=1e-10))
    assert r.n == 120 and r.max_total == 18
    expected = next(g for g in ONE_STOP_GRADES
                    if (totals.mean() > g["min"] if g.get("strict") else totals.mean() >= g["min"]))
    assert r.grade.vi == expected["vi"]


@pytest.mark.parametrize(
    "total,vi",
    [(18, "Xuất sắc"), (15.01, "Xuất sắc"), (15, "Tốt"), (12, "Tốt"), (11.99, "Khá"), (9, "Khá"),
     (8.5, "Trung bình"), (6, "Trung bình"), (5.99, "Yếu"), (0, "Yếu")],
)
def test_grade_bands(total, vi):
    assert grade_for(total, ONE_STOP_GRADES).vi == vi


def test_grade_none_when_below_every_band():
    assert grade_for(3, ONE_STOP_GRADES[:2]) is None


def test_one_stop_unanswered_indicator_is_nan():
    r = one_stop_points([1, 2, 3], [0, 1, 2], [[0, 0, 0], [0, 0, 4]], 4, 8, 16, max_total=4)
    assert math.isnan(r.indicators[0]) and r.indicators[1] == 2.0 and r.grade is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"grades": list(reversed(ONE_STOP_GRADES))},
        {"grades": [{"min": 1, "vi": "x"}]},
        {"grades": [{"min": 1, "strict": "yes", "vi": "x", "en": "y"}]},
        {"points": [0, -1, 2]},
        {"points": [0, 1]},
        {"n": 0},
        {"total_sum": 400, "total_sum_sq": 16000},  # mean 40 > 18
        {"max_total": 0},
        {"indicator_counts": [[1, 2]]},
    ],
)
def test_one_stop_bad_input(kwargs):
    args = {"values": [1, 2, 3], "points": [0, 1, 2], "indicator_counts": [[1, 2, 7]], "n": 10,
            "total_sum": 160, "total_sum_sq": 2600} | kwargs
    with pytest.raises(ValueError):
        one_stop_points(**args)
