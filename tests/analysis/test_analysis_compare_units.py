"""analysis.compare on the official index with respondent-level variances.

References: statsmodels ``combine_effects`` (DerSimonian–Laird, Paule–Mandel), published
tables (Viechtbauer 2005; Normand 1999 as reproduced by metafor; metafor's BCG figures),
the REML likelihood written independently in matrix form, scipy's one-way ANOVA, and
simulation from correlated respondents.
"""

import math

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from analysis.compare import (
    FLAGS,
    compare_units,
    funnel_flags_variance,
    funnel_limits_variance,
    random_effects,
)

DL_TOL = {"rel": 1e-8, "abs": 1e-12}


def _bcg():
    """Colditz et al. (1994) BCG trials, log risk ratios (metafor's dat.bcg)."""
    tpos = np.array([4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27])
    tneg = np.array([119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886])
    cpos = np.array([11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29])
    cneg = np.array([128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825])
    y = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    v = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return y, v


VIECHTBAUER_1 = ([-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232],
                 [0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040])
VIECHTBAUER_2 = ([0.100, -0.162, -0.090, -0.049, -0.046, -0.010, -0.431, -0.261, 0.134, 0.019, 0.175,
                  0.056, 0.045, 0.103, 0.121, -0.482, 0.290, 0.342],
                 [0.016, 0.015, 0.050, 0.050, 0.032, 0.052, 0.036, 0.024, 0.034, 0.033, 0.031, 0.034,
                  0.039, 0.167, 0.134, 0.096, 0.016, 0.035])
NORMAND = ([-20, -2, -55, -71, -4, 1, 11, -10, 7],
           [40.59, 2.05, 15.28, 150.22, 20.19, 1.22, 95.38, 8.03, 20.69])


def _heterogeneous(seed, k=12):
    """Unit shares with true spread τ = 0.06 and respondent-level variances."""
    rng = np.random.default_rng(seed)
    n = rng.integers(10, 400, k)
    v = rng.uniform(0.1, 0.25, k) / n
    y = 0.8 + 0.06 * rng.standard_normal(k) + np.sqrt(v) * rng.standard_normal(k)
    return y, v


def _datasets():
    out = {"bcg": _bcg(), "viechtbauer1": VIECHTBAUER_1, "viechtbauer2": VIECHTBAUER_2,
           "normand": NORMAND}
    out.update({f"shares{s}": _heterogeneous(s) for s in range(4)})
    return {k: (np.asarray(y, float), np.asarray(v, float)) for k, (y, v) in out.items()}


# ---------------------------------------------------------------- random_effects


@pytest.mark.parametrize("name", list(_datasets()))
def test_dersimonian_laird_matches_statsmodels(name):
    y, v = _datasets()[name]
    ref = combine_effects(y, v, method_re="dl")
    ours = random_effects(y, v, "dl")
    assert ref.q > ref.df_resid  # statsmodels does not truncate τ² at 0; here it need not
    assert ours.tau2 == pytest.approx(float(ref.tau2), **DL_TOL)
    assert ours.mu == pytest.approx(float(ref.mean_effect_re), **DL_TOL)
    assert ours.se == pytest.approx(float(ref.sd_eff_w_re), **DL_TOL)
    assert ours.q == pytest.approx(float(ref.q), **DL_TOL)
    assert ours.df == ref.df_resid
    assert ours.i2 == pytest.approx(float(ref.i2), **DL_TOL)
    assert ours.p == pytest.approx(float(stats.chi2.sf(ref.q, ref.df_resid)), **DL_TOL)
    ci = ref.conf_int(alpha=0.05)  # (fe, re, re_hksj, ...) as (low, high) pairs
    assert (ours.low, ours.high) == pytest.approx(tuple(map(float, ci[1])), **DL_TOL)
    np.testing.assert_allclose(ours.weights, ref.weights_re, rtol=1e-8)


def test_dersimonian_laird_truncates_at_zero_where_statsmodels_goes_negative():
    y = np.array([0.80, 0.81, 0.79, 0.80, 0.805])
    v = np.array([0.001, 0.002, 0.0015, 0.001, 0.003])
    ref = combine_effects(y, v, method_re="dl")
    assert ref.tau2 < 0
    ours = random_effects(y, v, "dl")
    assert ours.tau2 == 0.0 and ours.i2 == 0.0
    assert ours.q == pytest.approx(float(ref.q), **DL_TOL)
    assert ours.mu == pytest.approx(float(ref.mean_effect_fe), **DL_TOL)  # τ² = 0: fixed effect
    assert ours.se == pytest.approx(float(ref.sd_eff_w_fe), **DL_TOL)
    for method in ("reml", "pm"):
        assert random_effects(y, v, method).tau2 == 0.0


@pytest.mark.parametrize("name", list(_datasets()))
def test_paule_mandel_matches_statsmodels_iterated(name):
    y, v = _datasets()[name]
    ref = combine_effects(y, v, method_re="iterated", atol=1e-13, maxiter=1000)
    ours = random_effects(y, v, "pm")
    assert ours.tau2 == pytest.approx(float(ref.tau2), rel=1e-9, abs=1e-14)
    assert ours.mu == pytest.approx(float(ref.mean_effect_re), rel=1e-9, abs=1e-14)
    assert ours.se == pytest.approx(float(ref.sd_eff_w_re), rel=1e-9)


def test_published_tau2_viechtbauer_2005():
    # Viechtbauer (2005) pp. 271-272, as checked in metafor's test suite.
    for (y, v), dl, reml, i2_dl in ((VIECHTBAUER_1, 0.277, 0.223, 80.44),
                                    (VIECHTBAUER_2, 0.013, 0.016, 27.53)):
        assert round(random_effects(y, v, "dl").tau2, 3) == dl
        assert round(random_effects(y, v, "reml").tau2, 3) == reml
        assert round(100 * random_effects(y, v).i2, 2) == i2_dl  # I² from Q: method-free


def test_published_normand_1999_table_ix():
    # Normand (1999) Table IX via metafor's test suite; our vᵢ are the published ones rounded
    # to 2 decimals, which moves τ² in its second decimal.
    y, v = NORMAND
    dl, reml = random_effects(y, v, "dl"), random_effects(y, v, "reml")
    assert dl.tau2 == pytest.approx(218.72, abs=0.02)
    assert reml.tau2 == pytest.approx(685.20, abs=0.02)
    assert (round(dl.mu, 2), round(dl.low, 2), round(dl.high, 2)) == (-14.10, -24.45, -3.75)
    assert (round(reml.mu, 2), round(reml.low, 2), round(reml.high, 2)) == (-15.12, -32.67, 2.43)


def test_published_bcg_metafor():
    # metafor tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r (checked against Stata metan).
    r = random_effects(*_bcg(), method="dl")
    assert round(r.q, 4) == 152.2330
    assert (round(r.tau2, 4), round(r.mu, 4), round(r.low, 4), round(r.high, 4)) == \
        (0.3088, -0.7141, -1.0644, -0.3638)
    assert round(100 * r.i2, 4) == 92.1173


def _reml_loglik_matrix(t2, y, v):
    """REML log-likelihood from the textbook matrix form (Harville 1977), written apart."""
    k = y.size
    V = np.diag(v + t2)
    Vi = np.linalg.inv(V)
    X = np.ones((k, 1))
    XtViX = X.T @ Vi @ X
    P = Vi - Vi @ X @ np.linalg.inv(XtViX) @ X.T @ Vi
    return -0.5 * (np.linalg.slogdet(V)[1] + np.linalg.slogdet(XtViX)[1] + y @ P @ y)


@pytest.mark.parametrize("name", list(_datasets()))
def test_reml_maximises_the_matrix_likelihood_and_solves_the_reml_equation(name):
    y, v = _datasets()[name]
    ours = random_effects(y, v, "reml")
    scale = float(np.var(y) + v.max())
    ref = optimize.minimize_scalar(lambda t: -_reml_loglik_matrix(t, y, v), bounds=(0, 50 * scale),
                                   method="bounded", options={"xatol": 1e-12 * scale})
    assert ours.tau2 == pytest.approx(ref.x, rel=1e-5, abs=1e-9 * scale)
    grid = np.linspace(0, 5 * scale, 401)
    assert _reml_loglik_matrix(ours.tau2, y, v) >= max(_reml_loglik_matrix(t, y, v) for t in grid) - 1e-9
    # Viechtbauer (2005) eq. (9): τ² = Σw²((y − μ)² − v)/Σw² + 1/Σw at an interior maximum.
    assert ours.tau2 > 0
    w = 1 / (v + ours.tau2)
    mu = np.sum(w * y) / np.sum(w)
    fixed_point = np.sum(w**2 * ((y - mu) ** 2 - v)) / np.sum(w**2) + 1 / np.sum(w)
    assert ours.tau2 == pytest.approx(fixed_point, rel=1e-9)
    assert ours.mu == pytest.approx(mu, rel=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_reml_is_robust_on_awkward_inputs(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 40))
    scale = 10.0 ** rng.uniform(-6, 3)
    v = scale * 10.0 ** rng.uniform(-3, 1, k)  # variances over four orders of magnitude
    y = scale**0.5 * rng.standard_normal(k) * rng.choice([0.0, 0.3, 3.0])
    r = random_effects(y, v)
    assert math.isfinite(r.tau2) and r.tau2 >= 0 and math.isfinite(r.mu)
    best = max(_reml_loglik_matrix(t, y, v) for t in np.linspace(0, 4 * (np.ptp(y) ** 2 + v.max()), 201))
    assert _reml_loglik_matrix(r.tau2, y, v) >= best - 1e-7 * max(1.0, abs(best))


@pytest.mark.parametrize("args, kwargs", [
    (([0.8], [0.01]), {}),
    (([0.8, 0.9], [0.01]), {}),
    (([0.8, 0.9], [0.01, 0.0]), {}),
    (([0.8, np.nan], [0.01, 0.01]), {}),
    (([0.8, 0.9], [0.01, 0.01]), {"method": "ml"}),
    (([0.8, 0.9], [0.01, 0.01]), {"confidence": 1.5}),
])
def test_random_effects_bad_input(args, kwargs):
    with pytest.raises(ValueError):
        random_effects(*args, **kwargs)


# ---------------------------------------------------------------- funnel


def test_funnel_limits_variance_formula_and_clipping():
    n = np.array([1, 4, 25, 100, 400])
    lim = funnel_limits_variance(0.9, 0.09, n)
    se = np.sqrt(0.09 / n)
    np.testing.assert_allclose(lim.high95, np.minimum(0.9 + stats.norm.ppf(0.975) * se, 1.0), rtol=1e-14)
    np.testing.assert_allclose(lim.low95, np.maximum(0.9 - stats.norm.ppf(0.975) * se, 0.0), rtol=1e-14)
    np.testing.assert_allclose(lim.high998, np.minimum(0.9 + stats.norm.ppf(0.999) * se, 1.0), rtol=1e-14)
    np.testing.assert_allclose(lim.low998, np.maximum(0.9 - stats.norm.ppf(0.999) * se, 0.0), rtol=1e-14)
    assert lim.high95[0] == 1.0 and lim.low998[0] == 0.0  # clipped at n = 1
    free = funnel_limits_variance(3.9, 1.2, n, bounds=None)  # a mean score: no clipping
    np.testing.assert_allclose(free.high998, 3.9 + stats.norm.ppf(0.999) * np.sqrt(1.2 / n), rtol=1e-14)


def test_funnel_flags_variance_uses_the_five_flag_names():
    n = [400, 400, 400, 400, 400, 6]
    se = math.sqrt(0.04 / 400)
    est = [0.8 + 3.2 * se, 0.8 + 2.5 * se, 0.8, 0.8 - 2.5 * se, 0.8 - 3.2 * se, 0.95]
    f = funnel_flags_variance(est, n, 0.04, theta0=0.8)
    assert f.flags == ("above_998", "above_95", "within", "below_95", "below_998", "within")
    assert set(f.flags) <= set(FLAGS)
    # 100 % where the clipped limit is 100 % is on the limit, so within it
    assert funnel_flags_variance([1.0, 0.9], [1, 400], 0.09, theta0=0.9).flags == ("within", "within")
    assert funnel_flags_variance(est, n, 0.04).theta0 == pytest.approx(np.dot(n, est) / sum(n))


@pytest.mark.parametrize("args", [
    (1.2, 0.04, [10]), (0.8, 0.0, [10]), (0.8, 0.04, [0]), (0.8, -1.0, [10]),
])
def test_funnel_limits_variance_bad_input(args):
    with pytest.raises(ValueError):
        funnel_limits_variance(*args)


# ---------------------------------------------------------------- compare_units


def test_compare_units_against_statsmodels_and_hand_formulas():
    y, v = _heterogeneous(12, k=8)
    n = np.full(8, 200)
    r = compare_units(y, v, n, method="dl", bounds=None)
    ref = combine_effects(y, v, method_re="dl")
    assert ref.tau2 > 0
    tau2, mu, mu_var = float(ref.tau2), float(ref.mean_effect_re), float(ref.sd_eff_w_re) ** 2
    b = tau2 / (tau2 + v)
    np.testing.assert_allclose(r.weight, b, rtol=1e-8)
    np.testing.assert_allclose(r.shrunk, mu + b * (y - mu), rtol=1e-8)
    np.testing.assert_allclose(r.shrunk_sd, np.sqrt(b * v + (1 - b) ** 2 * mu_var), rtol=1e-8)
    np.testing.assert_allclose(r.low, y - stats.norm.ppf(0.975) * np.sqrt(v), rtol=1e-12)
    np.testing.assert_array_equal(r.rank, stats.rankdata(-(mu + b * (y - mu)), method="min"))
    assert not r.floored.any()
    assert np.all((r.rank_low <= r.rank) & (r.rank <= r.rank_high))
    assert r.s2_pooled == pytest.approx(np.sum(199 * 200 * v) / (8 * 199))


def test_pooled_heterogeneity_statistic_is_one_way_anova_of_respondent_scores():
    rng = np.random.default_rng(3)
    groups = [rng.beta(4, 1, size) for size in (12, 40, 7, 150, 60)]
    est = [g.mean() for g in groups]
    s2 = [g.var(ddof=1) for g in groups]
    n = [g.size for g in groups]
    r = compare_units(est, np.array(s2) / n, n, s2)
    ref = stats.f_oneway(*groups)
    assert r.q_pooled / 4 == pytest.approx(ref.statistic, rel=1e-10)
    assert r.p_pooled == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.s2_pooled == pytest.approx(np.sum([(g.size - 1) * g.var(ddof=1) for g in groups])
                                        / (sum(n) - len(n)), rel=1e-12)
    assert r.detectable == (ref.pvalue < 0.05)


def test_variance_floor():
    est = [0.9, 1.0, 0.7, 0.8, 0.85]
    n = [100, 50, 4, 1, 30]
    v = [0.09 / 100, 0.0, 0.2 / 4, np.nan, 0.12 / 30]
    r = compare_units(est, v, n)
    pooled = (99 * 0.09 + 49 * 0.0 + 3 * 0.2 + 29 * 0.12) / (99 + 49 + 3 + 29)
    assert r.s2_pooled == pytest.approx(pooled)
    assert r.floored.tolist() == [False, True, True, True, False]
    np.testing.assert_allclose(r.variance, [0.09 / 100, pooled / 50, pooled / 4, pooled / 1, 0.12 / 30])
    assert np.all(np.isfinite(r.shrunk)) and np.all(r.high <= 1.0) and np.all(r.low >= 0.0)
    # score variances given explicitly take part in the pool; min_n moves the floor
    r2 = compare_units(est, v, n, [0.09, 0.0, 0.2, np.nan, 0.12], min_n=40)
    assert r2.s2_pooled == pytest.approx(pooled)
    assert r2.floored.tolist() == [False, True, True, True, True]


def test_no_difference_gives_ties_and_full_rank_intervals():
    est = [0.80, 0.81, 0.79, 0.80]
    n = [100, 200, 150, 300]
    v = [0.16 / m for m in n]
    r = compare_units(est, v, n)
    assert r.random_effects.tau2 == 0.0 and not r.detectable
    np.testing.assert_allclose(r.shrunk, r.random_effects.mu)
    assert r.rank.tolist() == [1, 1, 1, 1]
    assert r.rank_low.tolist() == [1, 1, 1, 1] and r.rank_high.tolist() == [4, 4, 4, 4]


def test_compare_units_is_deterministic_given_the_seed():
    y, v = _heterogeneous(5, k=10)
    n = np.full(10, 100)
    a, b = compare_units(y, v, n, bounds=None), compare_units(y, v, n, bounds=None)
    np.testing.assert_array_equal(a.rank_low, b.rank_low)
    np.testing.assert_array_equal(a.rank_high, b.rank_high)
    c = compare_units(y, v, n, bounds=None, seed=99)
    np.testing.assert_array_equal(a.rank, c.rank)  # only the draws depend on the seed


@pytest.mark.parametrize("kwargs", [
    {"estimates": [0.8], "variances": [0.001], "n": [50]},
    {"estimates": [0.8, 0.9], "variances": [0.001], "n": [50, 60]},
    {"estimates": [0.8, 1.2], "variances": [0.001, 0.001], "n": [50, 60]},
    {"estimates": [0.8, 0.9], "variances": [0.001, -0.001], "n": [50, 60]},
    {"estimates": [0.8, 0.9], "variances": [0.001, 0.001], "n": [50, 0]},
    {"estimates": [0.8, 0.9], "variances": [0.0, 0.0], "n": [50, 60]},
    {"estimates": [0.8, 0.9], "variances": [np.nan, np.nan], "n": [1, 1]},
    {"estimates": [0.8, 0.9], "variances": [0.001, 0.001], "n": [50, 60], "bounds": (1, 0)},
    {"estimates": [0.8, 0.9], "variances": [0.001, 0.001], "n": [50, 60], "draws": 10},
    {"estimates": [0.8, 0.9], "variances": [0.001, 0.001], "n": [50, 60], "seed": -1},
    {"estimates": [0.8, 0.9], "variances": [0.001, 0.001], "n": [50, 60], "alpha": 0},
])
def test_compare_units_bad_input(kwargs):
    with pytest.raises(ValueError):
        compare_units(**kwargs)


# ---------------------------------------------------------------- simulation

ITEMS, ICC = 19, 0.3


def _respondents(rng, theta, n):
    """Each unit's respondents answer 19 items; a respondent's items share a propensity
    p ~ Beta(θc, (1 − θ)c) (intra-respondent correlation 0.3), so E(score) = θ. Returns the
    official estimate (mean respondent score), its linearization variance s²/n and s²."""
    c = 1 / ICC - 1
    unit = np.repeat(np.arange(theta.size), n)
    p = rng.beta(theta[unit] * c, (1 - theta[unit]) * c)
    x = rng.binomial(ITEMS, p) / ITEMS
    est = np.bincount(unit, x, theta.size) / n
    dev2 = np.bincount(unit, (x - est[unit]) ** 2, theta.size)
    s2 = np.where(n > 1, dev2 / np.maximum(n - 1, 1), np.nan)
    return est, s2 / n, s2


def _sizes(rng, k):
    return np.round(np.exp(rng.uniform(np.log(5), np.log(400), k))).astype(int)


def test_simulation_shrinkage_beats_raw_and_rank_intervals_cover():
    rng = np.random.default_rng(20260301)
    k, reps, tau = 30, 80, 0.05
    raw = shrunk = 0.0
    covered = total = 0
    for _ in range(reps):
        n = _sizes(rng, k)
        theta = np.clip(0.8 + tau * rng.standard_normal(k), 0.05, 0.97)
        est, v, s2 = _respondents(rng, theta, n)
        r = compare_units(est, v, n, s2, seed=int(rng.integers(2**31)))
        raw += np.sum((est - theta) ** 2)
        shrunk += np.sum((r.shrunk - theta) ** 2)
        true_rank = stats.rankdata(-theta, method="min")
        covered += np.sum((r.rank_low <= true_rank) & (true_rank <= r.rank_high))
        total += k
    ratio, coverage = shrunk / raw, covered / total
    print(f"\n[compare_units, tau=0.05, 30 units n 5-400, {reps} replicates] "
          f"MSE(shrunk)/MSE(raw) = {ratio:.3f}; 95% rank intervals cover the true rank {coverage:.3f}")
    assert ratio < 0.8
    assert coverage >= 0.90


def test_simulation_no_true_difference_false_flags_and_false_detection():
    rng = np.random.default_rng(20260302)
    k, reps = 30, 1000
    flagged = units = detected = own_q = 0
    for _ in range(reps):
        n = _sizes(rng, k)
        theta = np.full(k, rng.uniform(0.7, 0.9))
        est, v, s2 = _respondents(rng, theta, n)
        r = compare_units(est, v, n, s2, draws=100)
        flagged += sum(f != "within" for f in r.flags)
        units += k
        detected += r.detectable
        own_q += r.random_effects.p < 0.05
    flag_rate, false_detection = flagged / units, detected / reps
    print(f"\n[compare_units, tau=0, {reps} replicates x {k} units] outside the 95% funnel limits: "
          f"{flag_rate:.4f}; detectable (pooled-variance Q): {false_detection:.3f}; "
          f"Q with own variances would reject: {own_q / reps:.3f}")
    assert 0.03 <= flag_rate <= 0.07
    assert 0.03 <= false_detection <= 0.07
