"""analysis.compare against statsmodels, scipy and hand-worked examples."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.compare import (
    FLAGS,
    funnel_flags,
    funnel_limits,
    homogeneity_test,
    kruskal_from_counts,
    shrink_shares,
    unit_shares,
)

TIGHT = {"rel": 1e-10, "abs": 1e-12}


def test_unit_shares_match_statsmodels_wilson():
    s = np.array([0, 6, 45, 300, 950, 20])
    n = np.array([12, 6, 50, 400, 1000, 20])
    r = unit_shares(s, n)
    low, high = proportion_confint(s, n, method="wilson")
    assert r.share == pytest.approx(s / n, **TIGHT)
    assert r.low == pytest.approx(np.clip(low, 0, 1), **TIGHT)
    assert r.high == pytest.approx(np.clip(high, 0, 1), **TIGHT)
    assert r.n.tolist() == n.tolist()


@pytest.mark.parametrize("s,n", [([1], [0]), ([3], [2]), ([1, 2], [3]), ([], []), ([[1]], [[2]])])
def test_unit_shares_bad_input(s, n):
    with pytest.raises(ValueError):
        unit_shares(s, n)


# --------------------------------------------------------------------------- funnel


def test_exact_funnel_limits_hand_worked():
    """n = 10, p0 = 1/2: F(7) = 968/1024, F(8) = 1013/1024, F(1) = 11/1024, F(2) = 56/1024."""
    lim = funnel_limits(0.5, [10])
    upper = (8 - (Fraction(1013, 1024) - Fraction(975, 1000)) / Fraction(45, 1024)) / 10
    lower = (2 - (Fraction(56, 1024) - Fraction(25, 1000)) / Fraction(45, 1024)) / 10
    assert lim.high95[0] == pytest.approx(float(upper), **TIGHT)
    assert lim.low95[0] == pytest.approx(float(lower), **TIGHT)


@pytest.mark.parametrize("p0", [0.2, 0.5, 0.85, 0.97])
def test_exact_limits_interpolate_within_the_binomial_quantile(p0):
    n = np.arange(1, 400)
    lim = funnel_limits(p0, n)
    for field, q in [("low95", 0.025), ("high95", 0.975), ("low998", 0.001), ("high998", 0.999)]:
        r = stats.binom.ppf(q, n, p0)  # independent quantile
        value = getattr(lim, field)
        assert np.all(value <= r / n + 1e-12)
        assert np.all(value >= (r - 1) / n - 1e-12)
    assert np.all(lim.low998 <= lim.low95) and np.all(lim.low95 <= p0)
    assert np.all(p0 <= lim.high95) and np.all(lim.high95 <= lim.high998)


@pytest.mark.parametrize("p0", [0.3, 0.85])
def test_normal_limits_formula_and_large_n_agreement(p0):
    n = np.array([50, 500, 20000])
    norm = funnel_limits(p0, n, method="normal")
    se = np.sqrt(p0 * (1 - p0) / n)
    assert norm.high95 == pytest.approx(np.clip(p0 + stats.norm.ppf(0.975) * se, 0, 1), **TIGHT)
    assert norm.low998 == pytest.approx(np.clip(p0 - stats.norm.ppf(0.999) * se, 0, 1), **TIGHT)
    exact = funnel_limits(p0, n)
    assert exact.high95[-1] == pytest.approx(norm.high95[-1], abs=2e-4)
    assert exact.low998[-1] == pytest.approx(norm.low998[-1], abs=2e-4)


def test_funnel_flags_follow_exact_binomial_tests():
    rng = np.random.default_rng(5)
    n = rng.integers(5, 600, 60)
    s = rng.binomial(n, rng.uniform(0.7, 0.97, 60))
    f = funnel_flags(s, n)
    assert f.p0 == pytest.approx(s.sum() / n.sum(), **TIGHT)
    for si, ni, flag in zip(s, n, f.flags):
        greater = stats.binomtest(int(si), int(ni), f.p0, alternative="greater").pvalue
        less = stats.binomtest(int(si), int(ni), f.p0, alternative="less").pvalue
        if greater < 0.001:
            expected = "above_998"
        elif greater < 0.025:
            expected = "above_95"
        elif less < 0.001:
            expected = "below_998"
        elif less < 0.025:
            expected = "below_95"
        else:
            expected = "within"
        assert flag == expected
    assert set(f.flags) <= set(FLAGS)


def test_small_perfect_unit_is_not_flagged():
    f = funnel_flags([6, 950, 300, 850], [6, 1000, 400, 1000])
    assert f.flags[0] == "within"
    assert f.flags[1] == "above_998"
    assert f.flags[2] == "below_998"


def test_funnel_normal_flags_compare_with_limits():
    s, n = [60, 95, 70], [100, 100, 100]
    f = funnel_flags(s, n, p0=0.8, method="normal")
    se = np.sqrt(0.8 * 0.2 / 100)
    z = (np.array(s) / 100 - 0.8) / se
    expected = ["below_998" if v < -stats.norm.ppf(0.999) else "below_95" if v < -stats.norm.ppf(0.975)
                else "above_998" if v > stats.norm.ppf(0.999) else "above_95" if v > stats.norm.ppf(0.975)
                else "within" for v in z]
    assert list(f.flags) == expected


@pytest.mark.parametrize(
    "call",
    [
        lambda: funnel_limits(0.0, [10]),
        lambda: funnel_limits(1.0, [10]),
        lambda: funnel_limits(0.5, [0, 10]),
        lambda: funnel_limits(0.5, [10], method="poisson"),
        lambda: funnel_flags([10, 20], [10, 20]),  # everyone satisfied: nothing to compare
        lambda: funnel_flags([1, 2], [3, 4], p0=1.5),
    ],
)
def test_funnel_bad_input(call):
    with pytest.raises(ValueError):
        call()


# --------------------------------------------------------------------------- homogeneity


@pytest.mark.parametrize(
    "table",
    [
        [[80, 20], [60, 40], [90, 10]],
        [[45, 5], [30, 20]],
        [[2, 3, 10, 20, 15], [5, 5, 10, 15, 5], [0, 1, 4, 30, 40], [1, 2, 3, 4, 5]],
    ],
)
def test_homogeneity_matches_scipy(table):
    r = homogeneity_test(table)
    ref = stats.chi2_contingency(table, correction=False)
    assert r.chi2 == pytest.approx(ref.statistic, **TIGHT)
    assert r.p == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.dof == ref.dof
    assert r.min_expected == pytest.approx(ref.expected_freq.min(), **TIGHT)
    assert r.n == int(np.sum(table))


def test_homogeneity_drops_empty_rows_and_columns():
    table = [[0, 2, 10, 20, 15], [0, 5, 10, 15, 5], [0, 0, 0, 0, 0]]
    r = homogeneity_test(table)
    ref = stats.chi2_contingency([[2, 10, 20, 15], [5, 10, 15, 5]], correction=False)
    assert (r.chi2, r.dof) == (pytest.approx(ref.statistic, **TIGHT), ref.dof)


def test_homogeneity_everyone_alike():
    r = homogeneity_test([[10, 0], [25, 0]])
    assert (r.chi2, r.dof, r.p) == (0.0, 0, 1.0)


@pytest.mark.parametrize("table", [[[1, 2]], [[1, 2], [0, 0]], [1, 2, 3], [[1, -2], [3, 4]]])
def test_homogeneity_bad_input(table):
    with pytest.raises(ValueError):
        homogeneity_test(table)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=5, max_size=5).filter(lambda r: sum(r) > 0),
                min_size=2, max_size=6))
def test_kruskal_matches_scipy(table):
    groups = [np.repeat(np.arange(5), row) for row in table]
    if np.unique(np.concatenate(groups)).size == 1:
        r = kruskal_from_counts(table)
        assert (r.h, r.p) == (0.0, 1.0)
        return
    r = kruskal_from_counts(table)
    ref = stats.kruskal(*groups)
    assert r.h == pytest.approx(ref.statistic, rel=1e-9, abs=1e-9)
    if np.isnan(ref.pvalue):  # identical groups: scipy's H is -0.0 give or take rounding
        assert r.h == 0.0 and r.p == 1.0
    else:
        assert r.p == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-14)
    assert r.dof == len(table) - 1


# --------------------------------------------------------------------------- shrinkage


def test_shrinkage_method_of_moments_hand_worked():
    """s = (2, 5, 9), n = 10 each, in exact fractions."""
    s, n = [2, 5, 9], [10, 10, 10]
    big_n = Fraction(30)
    mu = Fraction(16, 30)
    p = [Fraction(x, 10) for x in s]
    big_s = sum(10 * (pi - mu) ** 2 for pi in p)
    rho = (big_s / (mu * (1 - mu)) - 2) / (big_n - Fraction(300, 30) - 2)
    m = 1 / rho - 1
    alpha, beta = mu * m, (1 - mu) * m
    r = shrink_shares(s, n)
    assert r.mean == pytest.approx(float(mu), **TIGHT)
    assert r.rho == pytest.approx(float(rho), **TIGHT)
    assert r.alpha == pytest.approx(float(alpha), **TIGHT)
    assert r.beta == pytest.approx(float(beta), **TIGHT)
    expected = [float((si + alpha) / (10 + alpha + beta)) for si in s]
    assert r.shrunk == pytest.approx(expected, **TIGHT)
    # The posterior mean of Beta(α + s, β + n − s), from scipy.
    assert r.shrunk[0] == pytest.approx(stats.beta(float(alpha) + 2, float(beta) + 8).mean(), **TIGHT)
    assert r.rank.tolist() == [3, 2, 1]


def test_small_perfect_unit_does_not_outrank_a_large_excellent_unit():
    rng = np.random.default_rng(11)
    n = np.r_[rng.integers(40, 500, 20), 6, 1000]
    s = np.r_[rng.binomial(n[:20], rng.uniform(0.75, 0.9, 20)), 6, 950]
    r = shrink_shares(s, n)
    small, large = 20, 21
    assert r.share[small] == 1.0 > r.share[large]
    assert r.shrunk[small] < r.shrunk[large]
    assert r.rank[large] == 1 and r.rank[small] > 1
    assert r.shrunk[large] == pytest.approx(0.95, abs=0.005)  # a large unit barely moves


def test_shrinkage_recovers_simulated_beta_binomial_parameters():
    rng = np.random.default_rng(7)
    alpha, beta = 17.0, 3.0  # μ = 0.85, ρ = 1/21
    n = rng.integers(20, 200, 3000)
    s = rng.binomial(n, rng.beta(alpha, beta, n.size))
    r = shrink_shares(s, n)
    assert r.mean == pytest.approx(0.85, abs=0.005)
    assert r.rho == pytest.approx(1 / 21, abs=0.006)


def test_ties_share_the_lowest_rank():
    r = shrink_shares([40, 40, 10, 45], [50, 50, 50, 50])
    assert r.rank.tolist() == [2, 2, 4, 1]


@pytest.mark.parametrize("s,n", [([8, 16, 24], [10, 20, 30]), ([1, 0, 1], [1, 1, 1]), ([5, 5], [5, 5])])
def test_no_extra_variation_shrinks_everyone_to_the_mean(s, n):
    r = shrink_shares(s, n)
    assert r.rho == 0.0 and r.alpha == np.inf
    assert r.shrunk == pytest.approx(np.full(len(s), sum(s) / sum(n)), **TIGHT)
    assert r.rank.tolist() == [1] * len(s)


@pytest.mark.parametrize("s,n", [([5], [10]), ([1, 2], [0, 3]), ([4, 2], [3, 3])])
def test_shrinkage_bad_input(s, n):
    with pytest.raises(ValueError):
        shrink_shares(s, n)
