"""analysis.trends.trend_test against pymannkendall and scipy, and by simulation from
correlated respondents (flat truth with unequal n and empty months; a known slope)."""

import math

import numpy as np
import pymannkendall as pmk
import pytest
from scipy import stats

from analysis.trends import mann_kendall, trend_test

TIGHT = {"rel": 1e-10, "abs": 1e-12}


def _case(seed, months=20):
    """A monthly series with empty months, low-n months and a mild upward drift."""
    rng = np.random.default_rng(seed)
    n = rng.integers(10, 300, months)
    n[rng.choice(months, 3, replace=False)] = 0
    n[rng.choice(np.flatnonzero(n > 0), 3, replace=False)] = [1, 2, 5]
    y = 0.75 + 0.003 * np.arange(months) + rng.normal(0, 0.02, months)
    y[n == 0] = np.nan
    return np.arange(months) + 12 * 2025, y, n  # positions: months since year 0


@pytest.mark.parametrize("seed", range(8))
def test_trend_test_matches_pymannkendall_and_scipy_on_kept_periods(seed):
    x, y, n = _case(seed)
    r = trend_test(x, y, n)
    keep = (n >= 10) & np.isfinite(y)
    xk, yk = x[keep], y[keep]
    np.testing.assert_array_equal(r.positions, xk)
    np.testing.assert_array_equal(r.values, yk)
    assert r.periods == keep.sum() and r.enough
    ref = pmk.original_test(yk)
    assert r.s == pytest.approx(float(ref.s), **TIGHT)
    assert r.var_s == pytest.approx(float(ref.var_s), **TIGHT)
    assert r.z == pytest.approx(float(ref.z), **TIGHT)
    assert r.p == pytest.approx(float(ref.p), rel=1e-9, abs=1e-12)
    assert r.tau == pytest.approx(float(ref.Tau), **TIGHT)
    # Theil–Sen on the true positions: scipy with x = positions ...
    ts = stats.theilslopes(yk, xk, 0.95)
    assert r.slope == pytest.approx(float(ts.slope), **TIGHT)
    assert r.intercept == pytest.approx(float(ts.intercept), rel=1e-9)
    assert r.low == pytest.approx(float(ts.low_slope), **TIGHT)
    assert r.high == pytest.approx(float(ts.high_slope), **TIGHT)
    # ... and pymannkendall's sens_slope, which keeps NaN gaps in place in a monthly series
    padded = np.full(int(xk[-1] - xk[0] + 1), np.nan)
    padded[xk - xk[0]] = yk
    ref_slope = pmk.sens_slope(padded)
    assert r.slope == pytest.approx(float(ref_slope.slope), **TIGHT)
    assert r.intercept + r.slope * xk[0] == pytest.approx(float(ref_slope.intercept), rel=1e-9)


def test_without_gaps_the_slope_is_pymannkendalls():
    rng = np.random.default_rng(1)
    y = 0.8 + 0.002 * np.arange(15) + rng.normal(0, 0.01, 15)
    r = trend_test(range(15), y, [50] * 15)
    ref = pmk.original_test(y)
    assert r.slope == pytest.approx(float(ref.slope), **TIGHT)
    assert r.intercept == pytest.approx(float(ref.intercept), **TIGHT)
    assert r.direction == {"increasing": "up", "decreasing": "down", "no trend": "none"}[ref.trend]


def test_exclusions_are_listed_in_time_order_with_reasons():
    positions = [5, 1, 2, 3, 4, 0, 6, 7, 8]  # unsorted on purpose
    values = [0.8, 0.7, math.nan, 0.75, 0.9, 0.6, 0.82, 0.83, 0.85]
    n = [40, 30, 0, 9, 1, 25, 60, 30, 45]
    r = trend_test(positions, values, n)
    assert r.excluded == ((2, "empty"), (3, "low n"), (4, "low n"))
    assert r.positions.tolist() == [0, 1, 5, 6, 7, 8]
    assert r.values.tolist() == [0.6, 0.7, 0.8, 0.82, 0.83, 0.85]
    assert r.n.tolist() == [25, 30, 40, 60, 30, 45]
    assert r.enough and r.direction == "up"
    # a value with n = 0, or n > 0 without a value, is "empty"
    r2 = trend_test([0, 1], [0.8, math.nan], [0, 20], min_periods=4)
    assert r2.excluded == ((0, "empty"), (1, "empty"))


def test_not_enough_periods():
    r = trend_test(range(8), [0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87], [50, 50, 50, 50, 50, 5, 0, 3])
    assert not r.enough and r.reason == "not enough periods" and r.periods == 5
    assert r.direction == "none" and r.solid is False
    assert r.p is None and r.slope is None and r.low is None and r.s is None
    assert trend_test(range(8), [0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87], [50] * 5 + [5, 0, 3],
                      min_periods=5).enough


@pytest.mark.parametrize("seed", range(40))
def test_direction_and_solid_follow_their_definitions(seed):
    rng = np.random.default_rng(seed)
    months = int(rng.integers(8, 25))
    x = np.sort(rng.choice(40, months, replace=False))
    y = 0.8 + rng.choice([-0.004, 0.0, 0.004]) * x + rng.normal(0, 0.03, months)
    r = trend_test(x, y, rng.integers(10, 100, months))
    significant = r.p < 0.05
    assert r.direction == ("none" if not significant else ("up" if r.s > 0 else "down"))
    assert r.solid == (significant and ((r.s > 0 and r.low > 0) or (r.s < 0 and r.high < 0)))
    assert r.low <= r.slope <= r.high


@pytest.mark.parametrize("args, kwargs", [
    (([0, 1, 1, 2, 3, 4], [0.8] * 6, [20] * 6), {}),
    (([0, 1.5, 2, 3, 4, 5], [0.8] * 6, [20] * 6), {}),
    (([0, 1, 2], [0.8, 0.9], [20, 20, 20]), {}),
    (([0, 1, 2], [0.8, np.inf, 0.9], [20, 20, 20]), {}),
    (([0, 1, 2], [0.8, 0.8, 0.9], [20, -1, 20]), {}),
    (([0, 1, 2], [0.8, 0.8, 0.9], [20, 20, 20]), {"min_periods": 3}),
    (([0, 1, 2], [0.8, 0.8, 0.9], [20, 20, 20]), {"low_n": 0}),
    (([0, 1, 2], [0.8, 0.8, 0.9], [20, 20, 20]), {"alpha": 1.0}),
])
def test_trend_test_bad_input(args, kwargs):
    with pytest.raises(ValueError):
        trend_test(*args, **kwargs)


# ---------------------------------------------------------------- simulation

ITEMS, ICC = 19, 0.3


def _period_values(rng, theta, n):
    """Official estimate (mean respondent score) per period from correlated respondents:
    each respondent's 19 items share p ~ Beta(θc, (1 − θ)c), intra-respondent correlation
    0.3, so E(estimate) = θ; ``nan`` for an empty period."""
    c = 1 / ICC - 1
    has = n > 0
    period = np.repeat(np.flatnonzero(has), n[has])
    p = rng.beta(theta[period] * c, (1 - theta[period]) * c)
    x = rng.binomial(ITEMS, p) / ITEMS
    out = np.full(n.size, np.nan)
    out[has] = np.bincount(period, x, n.size)[has] / n[has]
    return out


def _scattered(rng, months, empty):
    """n log-uniform 10–400, some empty months and months with n = 1, 1, 2, 2, 5, anywhere."""
    n = np.round(np.exp(rng.uniform(np.log(10), np.log(400), months))).astype(int)
    idx = rng.permutation(months)
    n[idx[:empty]] = 0
    n[idx[empty:empty + 5]] = [1, 1, 2, 2, 5]
    return n


def _rollout(rng, months):
    """A service being rolled out: the first months have 1–5 respondents, then n grows to
    a few hundred; three empty months later on."""
    n = np.round(np.exp(np.linspace(np.log(10), np.log(400), months)
                        + rng.normal(0, 0.4, months))).astype(int)
    n[:5] = [1, 2, 1, 5, 2]
    n[rng.choice(np.arange(5, months), 3, replace=False)] = 0
    return n


def test_simulation_flat_truth_false_alarms():
    rng = np.random.default_rng(20260303)
    reps = 1500
    rates = {}
    for name in ("scattered", "rollout"):
        new = old = 0
        for _ in range(reps):
            months = int(rng.integers(18, 25))
            n = _scattered(rng, months, 3) if name == "scattered" else _rollout(rng, months)
            y = _period_values(rng, np.full(months, rng.uniform(0.75, 0.9)), n)
            new += trend_test(np.arange(months), y, n).direction != "none"
            # the old use: every period with a value, renumbered 0, 1, 2, ...
            old += bool(mann_kendall(y[n > 0]).h)
        rates[name] = (new / reps, old / reps)
    print("\n[trend_test, flat truth, 18-24 months, " f"{reps} replicates each] false alarms at 0.05: "
          + "; ".join(f"{k}: trend_test {a:.3f}, old mann_kendall on all periods {b:.3f}"
                      for k, (a, b) in rates.items()))
    for new_rate, _old in rates.values():
        assert new_rate <= 0.07
    assert rates["rollout"][1] > rates["rollout"][0] + 0.03  # the old use is clearly worse


def test_simulation_slope_is_per_month_despite_gaps():
    rng = np.random.default_rng(20260304)
    reps, months, beta = 2500, 24, 0.004  # Monte Carlo SE of the mean slope ≈ 0.8 %
    new, old = [], []
    for _ in range(reps):
        n = _scattered(rng, months, 6)
        y = _period_values(rng, 0.72 + beta * np.arange(months), n)
        new.append(trend_test(np.arange(months), y, n).slope)
        old.append(mann_kendall(y[n > 0]).slope)  # empty months dropped, rest renumbered
    bias_new = np.mean(new) / beta - 1
    bias_old = np.mean(old) / beta - 1
    print(f"\n[trend_test, true slope {beta}/month, 24 months with 6 empty, {reps} replicates] "
          f"mean Theil-Sen slope: trend_test {np.mean(new):.5f} ({bias_new:+.1%}), "
          f"renumbered {np.mean(old):.5f} ({bias_old:+.1%})")
    assert abs(bias_new) < 0.04
    assert bias_old > 0.15
