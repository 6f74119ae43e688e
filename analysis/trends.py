"""Change over time: trend tests and period-over-period comparisons.

Functions
---------
mann_kendall
    Mann–Kendall trend test (tie-corrected) with the Theil–Sen slope, for a series of
    period values (e.g. monthly indexes). Fewer than 4 finite periods give a result
    that says so instead of numbers.
theil_sen
    Theil–Sen slope with Sen's confidence interval.
period_change
    Change of a share between two periods: two-proportion z-test and Newcombe interval.
mann_whitney_from_counts
    Mann–Whitney U for two ordinal count tables (e.g. level counts of two quarters).
trend_test
    Mann–Kendall on the periods with enough respondents, Theil–Sen slope against the
    true positions (per month even with gaps), and whether a trend is solid enough to
    state in words.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._common import (
    as_count,
    as_count_array,
    as_real_array,
    check_confidence,
    wilson,
    z_value,
)

__all__ = [
    "MIN_PERIODS",
    "MannKendallResult",
    "TheilSenResult",
    "PeriodChange",
    "MannWhitneyResult",
    "mann_kendall",
    "theil_sen",
    "period_change",
    "mann_whitney_from_counts",
    "TREND_MIN_PERIODS",
    "TrendTest",
    "trend_test",
]

#: Fewest finite periods :func:`mann_kendall` will test.
MIN_PERIODS = 4


@dataclass(frozen=True)
class MannKendallResult:
    """Mann–Kendall trend test with Theil–Sen slope.

    When fewer than :data:`MIN_PERIODS` finite values are given, ``enough`` is False,
    ``reason`` is ``"not enough periods"`` and every numeric field and ``trend`` is
    None (so a report shows the reason, never a number).

    Attributes
    ----------
    enough : bool
        Whether the test was run.
    reason : str or None
        Why it was not run, else None.
    trend : str or None
        ``"increasing"``, ``"decreasing"`` or ``"no trend"`` (at level ``alpha``).
    h : bool or None
        True when the trend is significant at ``alpha``.
    p : float or None
        Two-sided p-value.
    z : float or None
        Standardised statistic, (S ∓ 1)/√Var(S).
    tau : float or None
        Kendall's tau as pymannkendall reports it: S / (n(n − 1)/2).
    s : float or None
        Mann–Kendall score S.
    var_s : float or None
        Tie-corrected variance of S.
    slope : float or None
        Theil–Sen slope per period.
    intercept : float or None
        Conover intercept: median(y) − slope · median(t), t = period index from 0.
    n : int
        Number of finite periods used.
    """

    enough: bool
    reason: str | None
    trend: str | None
    h: bool | None
    p: float | None
    z: float | None
    tau: float | None
    s: float | None
    var_s: float | None
    slope: float | None
    intercept: float | None
    n: int


@dataclass(frozen=True)
class TheilSenResult:
    """Theil–Sen line.

    Attributes
    ----------
    slope : float
        Median of the pairwise slopes.
    intercept : float
        median(y) − slope · median(x).
    low, high : float
        Sen's confidence limits for the slope (``nan`` if too few pairs).
    """

    slope: float
    intercept: float
    low: float
    high: float


@dataclass(frozen=True)
class PeriodChange:
    """Change of a share from period 1 to period 2.

    Attributes
    ----------
    share1, share2 : float
        s1/n1 and s2/n2.
    difference : float
        share2 − share1.
    low, high : float
        Newcombe hybrid score interval of the difference.
    z : float
        Pooled two-proportion z statistic of share2 − share1.
    p : float
        Two-sided p-value.
    """

    share1: float
    share2: float
    difference: float
    low: float
    high: float
    z: float
    p: float


@dataclass(frozen=True)
class MannWhitneyResult:
    """Mann–Whitney U test of two ordinal count tables.

    Attributes
    ----------
    u : float
        U of group A: the number of (a, b) pairs with a > b plus half the ties.
    z : float
        Tie- and continuity-corrected standard normal statistic (positive when A tends
        higher).
    p : float
        Two-sided p-value.
    n_a, n_b : int
        Group sizes.
    prob_superiority : float
        U / (n_a·n_b) = P(A > B) + ½P(A = B); 0.5 means no difference.
    """

    u: float
    z: float
    p: float
    n_a: int
    n_b: int
    prob_superiority: float


def _sen_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    dx = x[None, :] - x[:, None]
    dy = y[None, :] - y[:, None]
    pos = dx > 0
    return np.sort(dy[pos] / dx[pos])


def _tie_term(a: np.ndarray) -> float:
    _, counts = np.unique(a, return_counts=True)
    t = counts.astype(np.float64)
    return float(np.sum(t * (t - 1) * (2 * t + 5)))


def theil_sen(x: Sequence[float], y: Sequence[float], confidence: float = 0.95) -> TheilSenResult:
    """Theil–Sen slope with Sen's confidence interval.

    Parameters
    ----------
    x, y : sequence of float
        Coordinates, same length, finite.
    confidence : float, optional
        Confidence level of the slope interval, default 0.95.

    Returns
    -------
    TheilSenResult
        Fields ``slope``, ``intercept``, ``low``, ``high``.

    Raises
    ------
    ValueError
        If lengths differ, values are not finite, or fewer than two distinct x.

    Notes
    -----
    slope = median{(yⱼ − yᵢ)/(xⱼ − xᵢ) : xⱼ > xᵢ}; intercept = med(y) − slope·med(x).
    Interval (Sen 1968, eq. 2.6): with N slopes sorted and
    σ² = [n(n−1)(2n+5) − Σ_x t(t−1)(2t+5) − Σ_y t(t−1)(2t+5)]/18 (t = tie sizes),
    the limits are the slopes of rank round((N − z·σ)/2) and round((N + z·σ)/2) − 1
    (0-based), as in ``scipy.stats.theilslopes``.

    References
    ----------
    H. Theil, "A rank-invariant method of linear and polynomial regression analysis",
    Indag. Math. 12 (1950) 85–91. P. K. Sen, "Estimates of the regression coefficient
    based on Kendall's tau", J. Am. Stat. Assoc. 63 (1968) 1379–1389.

    Examples
    --------
    >>> r = theil_sen([0, 1, 2, 3, 4], [1.0, 2.0, 2.5, 4.0, 5.0])
    >>> r.slope, r.intercept
    (1.0, 0.5)
    """
    c = check_confidence(confidence)
    xa = as_real_array(x, "x")
    ya = as_real_array(y, "y")
    if xa.size != ya.size:
        raise ValueError(f"x has {xa.size} values but y has {ya.size}.")
    slopes = _sen_slopes(xa, ya)
    if slopes.size == 0:
        raise ValueError("theil_sen needs at least two distinct x values.")
    slope = float(np.median(slopes))
    intercept = float(np.median(ya) - slope * np.median(xa))
    n = ya.size
    sigma = math.sqrt(max((n * (n - 1) * (2 * n + 5) - _tie_term(xa) - _tie_term(ya)) / 18.0, 0.0))
    z = z_value(c)
    nt = slopes.size
    hi_i = min(int(np.round((nt + z * sigma) / 2.0)), nt - 1)
    lo_i = max(int(np.round((nt - z * sigma) / 2.0)) - 1, 0)
    return TheilSenResult(slope, intercept, float(slopes[lo_i]), float(slopes[hi_i]))


def mann_kendall(series: Sequence[float], alpha: float = 0.05) -> MannKendallResult:
    """Mann–Kendall trend test with tie correction and the Theil–Sen slope.

    Parameters
    ----------
    series : sequence of float
        One value per period, in time order, equally spaced; ``nan`` marks a period
        without data (e.g. suppressed), which is skipped.
    alpha : float, optional
        Significance level for ``trend`` and ``h``, default 0.05.

    Returns
    -------
    MannKendallResult
        Fields ``enough``, ``reason``, ``trend``, ``h``, ``p``, ``z``, ``tau``, ``s``,
        ``var_s``, ``slope``, ``intercept``, ``n``. With fewer than 4 finite values
        ``enough`` is False and ``reason`` is ``"not enough periods"``.

    Raises
    ------
    ValueError
        If the series is not 1-D, holds infinity, or alpha is not in (0, 1).

    Notes
    -----
    Over the n finite values in order: S = Σ_{i<j} sign(yⱼ − yᵢ);
    Var(S) = [n(n−1)(2n+5) − Σ_g t_g(t_g−1)(2t_g+5)]/18 with t_g the size of each
    group of tied values; z = (S − 1)/√Var(S) if S > 0, (S + 1)/√Var(S) if S < 0,
    0 otherwise; p = 2(1 − Φ(|z|)); tau = S/(n(n−1)/2). The slope is the Theil–Sen
    median of pairwise slopes against the period index (gaps keep their place), the
    intercept median(y) − slope·median(t). Matches ``pymannkendall.original_test``.

    References
    ----------
    H. B. Mann, "Nonparametric tests against trend", Econometrica 13 (1945) 245–259.
    M. G. Kendall, Rank Correlation Methods, 4th ed., Griffin, 1975.
    R. O. Gilbert, Statistical Methods for Environmental Pollution Monitoring, 1987.
    M. M. Hussain, I. Mahmud, "pyMannKendall", J. Open Source Softw. 4 (2019) 1556.

    Examples
    --------
    >>> r = mann_kendall([0.80, 0.82, 0.81, 0.85, 0.86, 0.88])
    >>> r.trend, r.s, round(r.p, 4), round(r.slope, 4)
    ('increasing', 13.0, 0.0242, 0.015)
    >>> mann_kendall([0.8, 0.9, float("nan")]).reason
    'not enough periods'
    """
    if isinstance(alpha, bool) or not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}.")
    y_all = as_real_array(series, "series", allow_nan=True)
    t_all = np.arange(y_all.size, dtype=np.float64)
    finite = ~np.isnan(y_all)
    y = y_all[finite]
    t = t_all[finite]
    n = int(y.size)
    if n < MIN_PERIODS:
        return MannKendallResult(
            False, "not enough periods", None, None, None, None, None, None, None, None, None, n
        )
    diff = y[None, :] - y[:, None]
    s = float(np.sum(np.sign(diff[np.triu_indices(n, k=1)])))
    var_s = (n * (n - 1) * (2 * n + 5) - _tie_term(y)) / 18.0
    if var_s <= 0 or s == 0:
        z = 0.0
    else:
        z = (s - 1.0 if s > 0 else s + 1.0) / math.sqrt(var_s)
    p = float(2.0 * stats.norm.sf(abs(z)))
    h = bool(abs(z) > stats.norm.ppf(1.0 - float(alpha) / 2.0))
    trend = ("increasing" if z > 0 else "decreasing") if h else "no trend"
    slopes = _sen_slopes(t, y)
    slope = float(np.median(slopes))
    intercept = float(np.median(y) - slope * np.median(t))
    return MannKendallResult(
        enough=True,
        reason=None,
        trend=trend,
        h=h,
        p=p,
        z=float(z),
        tau=s / (0.5 * n * (n - 1)),
        s=s,
        var_s=float(var_s),
        slope=slope,
        intercept=intercept,
        n=n,
    )


def period_change(
    s1: int, n1: int, s2: int, n2: int, confidence: float = 0.95
) -> PeriodChange:
    """Change of a satisfied share between two periods.

    Parameters
    ----------
    s1, n1 : int
        Satisfied answers and all answers in the earlier period.
    s2, n2 : int
        The same for the later period.
    confidence : float, optional
        Confidence level of the interval, default 0.95.

    Returns
    -------
    PeriodChange
        Fields ``share1``, ``share2``, ``difference``, ``low``, ``high``, ``z``, ``p``.

    Raises
    ------
    ValueError
        If a count is invalid, n1 or n2 is 0, or s > n.

    Notes
    -----
    d = p₂ − p₁. Test: pooled p = (s₁ + s₂)/(n₁ + n₂),
    z = d / √(p(1 − p)(1/n₁ + 1/n₂)), p-value 2(1 − Φ(|z|)); when p is 0 or 1 the
    shares are equal and z = 0, p-value 1. Interval (Newcombe's hybrid score, method
    10) from the Wilson limits (lᵢ, uᵢ) of each share:
    [d − √((p₂ − l₂)² + (u₁ − p₁)²), d + √((u₂ − p₂)² + (p₁ − l₁)²)].

    References
    ----------
    R. G. Newcombe, "Interval estimation for the difference between independent
    proportions: comparison of eleven methods", Stat. Med. 17 (1998) 873–890.

    Examples
    --------
    >>> r = period_change(80, 100, 90, 100)
    >>> round(r.difference, 2), round(r.z, 3), round(r.p, 4), round(r.low, 4)
    (0.1, 1.98, 0.0477, 0.0001)
    """
    c = check_confidence(confidence)
    a1, m1 = as_count(s1, "s1"), as_count(n1, "n1")
    a2, m2 = as_count(s2, "s2"), as_count(n2, "n2")
    if m1 == 0 or m2 == 0:
        raise ValueError("both periods need at least one answer (n1, n2 >= 1).")
    if a1 > m1 or a2 > m2:
        raise ValueError("a period's satisfied count cannot exceed its n.")
    p1, p2 = a1 / m1, a2 / m2
    d = p2 - p1
    pooled = (a1 + a2) / (m1 + m2)
    if pooled in (0.0, 1.0):
        z_stat, p_value = 0.0, 1.0
    else:
        z_stat = d / math.sqrt(pooled * (1 - pooled) * (1 / m1 + 1 / m2))
        p_value = float(2.0 * stats.norm.sf(abs(z_stat)))
    zc = z_value(c)
    l1, u1 = wilson(a1, m1, zc)
    l2, u2 = wilson(a2, m2, zc)
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return PeriodChange(p1, p2, d, low, high, float(z_stat), p_value)


def mann_whitney_from_counts(
    counts_a: Sequence[int], counts_b: Sequence[int]
) -> MannWhitneyResult:
    """Mann–Whitney U test for two ordinal count tables over the same levels.

    Parameters
    ----------
    counts_a, counts_b : sequence of int
        Answers per level, lowest level first, same length.

    Returns
    -------
    MannWhitneyResult
        Fields ``u``, ``z``, ``p``, ``n_a``, ``n_b``, ``prob_superiority``.

    Raises
    ------
    ValueError
        If the tables differ in length, hold invalid counts, or a group is empty.

    Notes
    -----
    Every answer at level l gets the mid-rank of its tie block,
    r_l = C_{l−1} + (c_l + 1)/2 with C the cumulative count of both groups.
    U_A = Σ_l a_l·r_l − n_A(n_A + 1)/2; μ = n_A n_B / 2;
    σ² = n_A n_B/12 · [(N + 1) − Σ_l (c_l³ − c_l)/(N(N − 1))];
    z = sign(U_A − μ)·max(|U_A − μ| − ½, 0)/σ; p = min(1, 2(1 − Φ(|z|))).
    When every answer is at one level (σ = 0) there is no evidence of a difference and
    z = 0, p = 1. Same p as ``scipy.stats.mannwhitneyu(method='asymptotic')`` on the
    expanded data.

    References
    ----------
    H. B. Mann, D. R. Whitney, "On a test of whether one of two random variables is
    stochastically larger than the other", Ann. Math. Stat. 18 (1947) 50–60.

    Examples
    --------
    >>> r = mann_whitney_from_counts([5, 10, 20, 40, 25], [10, 15, 25, 35, 15])
    >>> r.u, round(r.p, 4), round(r.prob_superiority, 4)
    (5962.5, 0.0146, 0.5962)
    """
    a = as_count_array(counts_a, "counts_a", ndim=1)
    b = as_count_array(counts_b, "counts_b", ndim=1)
    if a.size != b.size:
        raise ValueError(f"counts_a has {a.size} levels but counts_b has {b.size}.")
    n_a, n_b = int(a.sum()), int(b.sum())
    if n_a == 0 or n_b == 0:
        raise ValueError("both groups need at least one answer.")
    c = (a + b).astype(np.float64)
    n = n_a + n_b
    cum = np.cumsum(c) - c
    ranks = cum + (c + 1.0) / 2.0
    u = float(np.dot(a, ranks) - n_a * (n_a + 1) / 2.0)
    mu = n_a * n_b / 2.0
    tie = float(np.sum(c**3 - c))
    var = n_a * n_b / 12.0 * ((n + 1) - tie / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        z = 0.0
    else:
        dev = u - mu
        z = math.copysign(max(abs(dev) - 0.5, 0.0), dev) / math.sqrt(var)
    p = min(1.0, float(2.0 * stats.norm.sf(abs(z))))
    return MannWhitneyResult(u, float(z), p, n_a, n_b, u / (n_a * n_b))


#: Fewest kept periods :func:`trend_test` will test.
TREND_MIN_PERIODS = 6


@dataclass(frozen=True)
class TrendTest:
    """A trend test on the periods with enough respondents, slope per true time step.

    When fewer than ``min_periods`` periods are kept, ``enough`` is False, ``reason``
    says why, ``direction`` is ``"none"``, ``solid`` is False and every statistic is None.

    Attributes
    ----------
    enough : bool
        Whether the test was run.
    reason : str or None
        Why it was not run (``"not enough periods"``), else None.
    positions : numpy.ndarray of int
        Kept periods' positions (months or quarters since an origin), increasing.
    values : numpy.ndarray of float
        Kept periods' values, in time order.
    n : numpy.ndarray of int
        Kept periods' respondents.
    excluded : tuple of (int, str)
        (position, reason) of each left-out period, reason ``"empty"`` (no respondent or
        no value) or ``"low n"`` (fewer than ``low_n`` respondents), in time order.
    periods : int
        Number of kept periods.
    s, var_s, z, p, tau : float or None
        Mann–Kendall S, tie-corrected Var(S), z, two-sided p and tau on the kept values
        (as :func:`mann_kendall`).
    slope : float or None
        Theil–Sen slope per unit of position (per month, or per quarter).
    intercept : float or None
        median(values) − slope·median(positions): the line's value at position 0.
    low, high : float or None
        Sen's confidence interval of the slope.
    direction : str
        ``"up"`` or ``"down"`` when p < alpha (by the sign of S), else ``"none"``.
    solid : bool
        p < alpha and the slope interval lies entirely on the side of ``direction``
        (excludes 0): only then should a public page state a trend in words.
    """

    enough: bool
    reason: str | None
    positions: np.ndarray
    values: np.ndarray
    n: np.ndarray
    excluded: tuple[tuple[int, str], ...]
    periods: int
    s: float | None
    var_s: float | None
    z: float | None
    p: float | None
    tau: float | None
    slope: float | None
    intercept: float | None
    low: float | None
    high: float | None
    direction: str
    solid: bool


def trend_test(
    positions: Sequence[int],
    values: Sequence[float],
    n: Sequence[int],
    low_n: int = 10,
    min_periods: int = TREND_MIN_PERIODS,
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> TrendTest:
    """Trend over periods that have enough respondents, with the slope per month.

    Parameters
    ----------
    positions : sequence of int
        Each period's position on the time axis: months (or quarters) since a fixed
        origin, e.g. 12·year + month. Distinct; any order (sorted here). Months with no
        data may be left out or given with n = 0: either way the slope is per month.
    values : sequence of float
        The period's official estimate; ``nan`` when it has none.
    n : sequence of int
        Respondents in the period.
    low_n : int, optional
        Periods with fewer respondents are left out, default 10.
    min_periods : int, optional
        Fewest kept periods to test, default 6 (at least 4).
    alpha : float, optional
        Significance level of the Mann–Kendall test, default 0.05.
    confidence : float, optional
        Level of Sen's slope interval, default 0.95.

    Returns
    -------
    TrendTest
        Fields ``enough``, ``reason``, ``positions``, ``values``, ``n``, ``excluded``,
        ``periods``, ``s``, ``var_s``, ``z``, ``p``, ``tau``, ``slope``, ``intercept``,
        ``low``, ``high``, ``direction``, ``solid``.

    Raises
    ------
    ValueError
        If lengths differ, positions are not distinct whole numbers, a value is
        infinite, an n is not a count, or a setting is out of range.

    Notes
    -----
    The sampling unit is the period's respondents: a period with n < ``low_n``
    respondents (its estimate is one or two citizens' opinion) or without a value is
    excluded, never given the weight of a period with 400 respondents. On the kept
    periods, in time order, Mann–Kendall: S = Σ_{i<j} sign(yⱼ − yᵢ), Var(S) =
    [m(m−1)(2m+5) − Σt(t−1)(2t+5)]/18, z = (S ∓ 1)/√Var(S), p = 2(1 − Φ(|z|)),
    tau = S/(m(m−1)/2) (:func:`mann_kendall`; S depends only on the order, so gaps do
    not change it). The Theil–Sen slope is the median of (yⱼ − yᵢ)/(xⱼ − xᵢ) over pairs
    with x the TRUE positions (:func:`theil_sen`), so with a missing month the slope is
    still per month; numbering the kept periods 0, 1, 2, … instead would overstate a
    slope per month by about (span)/(m − 1). Sen's interval at ``confidence``.
    direction = "up"/"down" by the sign of S when p < alpha; solid = p < alpha and
    (low > 0 for "up", high < 0 for "down").

    References
    ----------
    H. B. Mann, Econometrica 13 (1945) 245–259. M. G. Kendall, Rank Correlation Methods,
    4th ed., Griffin, 1975. P. K. Sen, J. Am. Stat. Assoc. 63 (1968) 1379–1389.
    H. Theil, Indag. Math. 12 (1950) 85–91.

    Examples
    --------
    Months 0–9; month 3 had no respondent and month 6 only two:

    >>> r = trend_test(range(10), [0.70, 0.71, 0.73, float("nan"), 0.74, 0.76, 0.2,
    ...                            0.77, 0.80, 0.81], [50, 40, 60, 0, 45, 55, 2, 70, 40, 65])
    >>> r.excluded, r.periods, r.direction, r.solid
    (((3, 'empty'), (6, 'low n')), 8, 'up', True)
    >>> round(r.slope, 4), round(r.p, 4)
    (0.0121, 0.0008)
    """
    if isinstance(alpha, bool) or not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}.")
    c = check_confidence(confidence)
    for name, val, least in (("low_n", low_n, 1), ("min_periods", min_periods, MIN_PERIODS)):
        if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < least:
            raise ValueError(f"{name} must be a whole number of at least {least}, got {val!r}.")
    x = as_real_array(positions, "positions")
    if np.any(x != np.floor(x)):
        raise ValueError("positions must be whole numbers (months or quarters since an origin).")
    y = as_real_array(values, "values", allow_nan=True)
    m = as_count_array(n, "n", ndim=1)
    if not (x.size == y.size == m.size):
        raise ValueError(f"positions, values and n must have one entry per period; got "
                         f"{x.size}, {y.size} and {m.size}.")
    if np.unique(x).size != x.size:
        raise ValueError("positions must be distinct: one value per period.")
    order = np.argsort(x, kind="stable")
    x, y, m = x[order], y[order], m[order]
    empty = (m == 0) | np.isnan(y)
    low = ~empty & (m < low_n)
    keep = ~empty & ~low
    excluded = tuple((int(p), "empty" if e else "low n")
                     for p, e, lo in zip(x, empty, low) if e or lo)
    xk, yk, mk = x[keep].astype(np.int64), y[keep], m[keep]
    periods = int(xk.size)
    if periods < min_periods:
        return TrendTest(False, "not enough periods", xk, yk, mk, excluded, periods,
                         None, None, None, None, None, None, None, None, None, "none", False)
    mk_res = mann_kendall(yk, alpha)
    ts = theil_sen(xk.astype(np.float64), yk, c)
    p = float(mk_res.p)
    s = float(mk_res.s)
    if p < float(alpha) and s != 0:
        direction = "up" if s > 0 else "down"
    else:
        direction = "none"
    solid = (direction == "up" and ts.low > 0) or (direction == "down" and ts.high < 0)
    return TrendTest(
        enough=True, reason=None, positions=xk, values=yk, n=mk, excluded=excluded,
        periods=periods, s=s, var_s=mk_res.var_s, z=mk_res.z, p=p, tau=mk_res.tau,
        slope=ts.slope, intercept=ts.intercept, low=ts.low, high=ts.high,
        direction=direction, solid=bool(solid))
