"""Comparing units: shares with intervals, funnel plots, homogeneity, fair rankings.

Functions
---------
unit_shares
    Satisfied share of each unit with its Wilson interval.
funnel_limits, funnel_flags
    Spiegelhalter funnel-plot control limits (95 % and 99.8 %) and each unit's flag.
homogeneity_test
    Pearson chi-square test that all units share one answer distribution.
kruskal_from_counts
    Kruskal–Wallis H for ordinal level counts per unit.
shrink_shares
    Beta-binomial empirical-Bayes shrinkage and the ranking it gives, so a unit with
    six answers does not top the table.

On the official index with respondent-level variances (θᵢ, vᵢ = sᵢ²/nᵢ, nᵢ per unit):

random_effects
    DerSimonian–Laird, REML or Paule–Mandel τ², the random-effects mean, Cochran's Q
    and I².
funnel_limits_variance, funnel_flags_variance
    Funnel limits θ0 ± z·√(s²/n) from the pooled per-respondent variance, and flags.
compare_units
    Intervals, empirical-Bayes shrinkage, ranks with rank intervals, funnel flags and
    whether any difference between units is detectable at all.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ._common import (
    as_count_array,
    as_real,
    as_real_array,
    check_confidence,
    wilson_arrays,
    z_value,
)

__all__ = [
    "FLAGS",
    "UnitShares",
    "FunnelLimits",
    "Funnel",
    "HomogeneityResult",
    "KruskalResult",
    "Shrinkage",
    "unit_shares",
    "funnel_limits",
    "funnel_flags",
    "homogeneity_test",
    "kruskal_from_counts",
    "shrink_shares",
    "RE_METHODS",
    "RandomEffects",
    "FunnelVarianceLimits",
    "FunnelVariance",
    "UnitComparison",
    "random_effects",
    "funnel_limits_variance",
    "funnel_flags_variance",
    "compare_units",
]

#: The funnel flags, from best to worst.
FLAGS = ("above_998", "above_95", "within", "below_95", "below_998")


@dataclass(frozen=True)
class UnitShares:
    """Satisfied share per unit.

    Attributes
    ----------
    share, low, high : numpy.ndarray of float
        s/n and its Wilson limits, one per unit.
    n : numpy.ndarray of int
        Answers per unit.
    """

    share: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: np.ndarray


@dataclass(frozen=True)
class FunnelLimits:
    """Funnel-plot control limits around a target share.

    Attributes
    ----------
    p0 : float
        Target share.
    n : numpy.ndarray of int
        Sample sizes the limits are computed for.
    low95, high95 : numpy.ndarray of float
        95 % limits (2.5 % in each tail).
    low998, high998 : numpy.ndarray of float
        99.8 % limits (0.1 % in each tail).
    method : str
        ``"exact"`` (interpolated binomial) or ``"normal"``.
    """

    p0: float
    n: np.ndarray
    low95: np.ndarray
    high95: np.ndarray
    low998: np.ndarray
    high998: np.ndarray
    method: str


@dataclass(frozen=True)
class Funnel:
    """Each unit's position on a funnel plot.

    Attributes
    ----------
    p0 : float
        Target share (pooled share of all units unless given).
    share : numpy.ndarray of float
        s/n per unit.
    n : numpy.ndarray of int
        Answers per unit.
    flags : tuple of str
        One of :data:`FLAGS` per unit.
    limits : FunnelLimits
        The limits at each unit's n.
    """

    p0: float
    share: np.ndarray
    n: np.ndarray
    flags: tuple[str, ...]
    limits: FunnelLimits


@dataclass(frozen=True)
class HomogeneityResult:
    """Pearson chi-square test of homogeneity.

    Attributes
    ----------
    chi2 : float
        Pearson's X² (no continuity correction).
    dof : int
        (rows − 1)(columns − 1) after dropping empty rows and columns.
    p : float
        Upper-tail p-value.
    n : int
        Total count.
    min_expected : float
        Smallest expected count; below 5 the chi-square approximation is rough.
    """

    chi2: float
    dof: int
    p: float
    n: int
    min_expected: float


@dataclass(frozen=True)
class KruskalResult:
    """Kruskal–Wallis test from level counts.

    Attributes
    ----------
    h : float
        Tie-corrected H statistic.
    dof : int
        Groups − 1.
    p : float
        Upper-tail chi-square p-value.
    n : int
        Total count.
    """

    h: float
    dof: int
    p: float
    n: int


@dataclass(frozen=True)
class Shrinkage:
    """Beta-binomial empirical-Bayes estimates per unit.

    Attributes
    ----------
    mean : float
        Pooled share μ = Σs/Σn.
    rho : float
        Estimated intra-unit correlation ρ = 1/(α + β + 1), in [0, 1].
    alpha, beta : float
        Prior parameters; ``math.inf`` when ρ = 0 (no between-unit variation beyond
        chance: every unit shrinks to μ).
    share : numpy.ndarray of float
        Raw shares s/n.
    shrunk : numpy.ndarray of float
        (s + α)/(n + α + β).
    rank : numpy.ndarray of int
        1 = highest shrunk share; equal shrunk shares share the lowest rank (1, 1, 3).
    """

    mean: float
    rho: float
    alpha: float
    beta: float
    share: np.ndarray
    shrunk: np.ndarray
    rank: np.ndarray


def _units(successes: Sequence[int], n: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    s = as_count_array(successes, "successes", ndim=1)
    m = as_count_array(n, "n", ndim=1)
    if s.size != m.size:
        raise ValueError(f"successes has {s.size} units but n has {m.size}.")
    if s.size == 0:
        raise ValueError("there are no units.")
    if np.any(m == 0):
        raise ValueError("every unit needs at least one answer (n >= 1); leave empty units out.")
    if np.any(s > m):
        raise ValueError("a unit's successes cannot exceed its n.")
    return s, m


def unit_shares(
    successes: Sequence[int], n: Sequence[int], confidence: float = 0.95
) -> UnitShares:
    """Satisfied share of each unit with its Wilson score interval.

    Parameters
    ----------
    successes, n : sequence of int
        Satisfied answers and all answers per unit.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    UnitShares
        Fields ``share``, ``low``, ``high``, ``n`` (arrays, one entry per unit).

    Raises
    ------
    ValueError
        If the arrays differ in length, are empty, a unit has n = 0 or s > n.

    Notes
    -----
    pᵢ = sᵢ/nᵢ with limits (pᵢ + z²/2nᵢ ± z√(pᵢ(1 − pᵢ)/nᵢ + z²/4nᵢ²))/(1 + z²/nᵢ).

    References
    ----------
    E. B. Wilson, J. Am. Stat. Assoc. 22 (1927) 209–212.

    Examples
    --------
    >>> r = unit_shares([45, 6], [50, 6])
    >>> r.share.tolist(), [round(float(x), 4) for x in r.low]
    ([0.9, 1.0], [0.7864, 0.6097])
    """
    c = check_confidence(confidence)
    s, m = _units(successes, n)
    low, high = wilson_arrays(s, m, z_value(c))
    return UnitShares(share=s / m, low=low, high=high, n=m)


_TAILS = {"low95": 0.025, "high95": 0.975, "low998": 0.001, "high998": 0.999}


def _exact_limit(p: float, n: np.ndarray, p0: float) -> np.ndarray:
    nf = n.astype(np.float64)
    r = stats.binom.ppf(p, nf, p0)
    # Guard the quantile against rounding: smallest r with F(r) >= p.
    r = np.where(stats.binom.cdf(r - 1, nf, p0) >= p, r - 1, r)
    r = np.where(stats.binom.cdf(r, nf, p0) < p, r + 1, r)
    f_r = stats.binom.cdf(r, nf, p0)
    f_prev = stats.binom.cdf(r - 1, nf, p0)
    a = (f_r - p) / (f_r - f_prev)
    return np.clip((r - a) / nf, 0.0, 1.0)


def funnel_limits(p0: float, n: Sequence[int], method: str = "exact") -> FunnelLimits:
    """Funnel-plot control limits for a share, at 95 % and 99.8 %.

    Parameters
    ----------
    p0 : float
        Target share, strictly between 0 and 1 (usually the pooled share).
    n : sequence of int
        Sample sizes (each at least 1); for a smooth plot pass ``range(1, N + 1)``.
    method : {"exact", "normal"}, optional
        ``"exact"`` (default): interpolated binomial quantiles as in Spiegelhalter
        (2005), Appendix A.1.1. ``"normal"``: p0 ± z·√(p0(1 − p0)/n).

    Returns
    -------
    FunnelLimits
        Fields ``p0``, ``n``, ``low95``, ``high95``, ``low998``, ``high998``, ``method``.

    Raises
    ------
    ValueError
        If p0 is not in (0, 1), an n is below 1, or the method is unknown.

    Notes
    -----
    Exact: for tail probability q ∈ {0.001, 0.025, 0.975, 0.999}, let r_q be the
    smallest r with P(R ≤ r) ≥ q for R ~ Binomial(n, p0), and
    a = [P(R ≤ r_q) − q]/[P(R ≤ r_q) − P(R ≤ r_q − 1)]; the limit is (r_q − a)/n.
    This interpolation makes the limits continuous in n. Normal: p0 ± z_q·√(p0(1 − p0)/n)
    with z = 1.960 (95 %) and 3.090 (99.8 %). Limits are clipped to [0, 1].

    References
    ----------
    D. J. Spiegelhalter, "Funnel plots for comparing institutional performance",
    Stat. Med. 24 (2005) 1185–1202.

    Examples
    --------
    >>> lim = funnel_limits(0.5, [10])
    >>> round(float(lim.high95[0]), 6), round(float(lim.low95[0]), 6)
    (0.767556, 0.132444)
    """
    p = as_real(p0, "p0")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p0 must be strictly between 0 and 1, got {p0!r}.")
    m = as_count_array(n, "n", ndim=1)
    if np.any(m < 1):
        raise ValueError("every n must be at least 1.")
    if method == "exact":
        lim = {k: _exact_limit(q, m, p) for k, q in _TAILS.items()}
    elif method == "normal":
        se = np.sqrt(p * (1 - p) / m)
        lim = {k: np.clip(p + float(stats.norm.ppf(q)) * se, 0.0, 1.0) for k, q in _TAILS.items()}
    else:
        raise ValueError(f"method must be 'exact' or 'normal', got {method!r}.")
    return FunnelLimits(p0=p, n=m, method=method, **lim)


def funnel_flags(
    successes: Sequence[int],
    n: Sequence[int],
    p0: float | None = None,
    method: str = "exact",
) -> Funnel:
    """Place each unit on a funnel plot and flag it.

    Parameters
    ----------
    successes, n : sequence of int
        Satisfied answers and all answers per unit.
    p0 : float, optional
        Target share; default the pooled share Σs/Σn. Must be in (0, 1).
    method : {"exact", "normal"}, optional
        Passed to :func:`funnel_limits`.

    Returns
    -------
    Funnel
        Fields ``p0``, ``share``, ``n``, ``flags``, ``limits``.

    Raises
    ------
    ValueError
        As :func:`unit_shares`, or if the pooled share is 0 or 1 (everyone agrees, so
        there is nothing to compare).

    Notes
    -----
    ``"exact"``: with R ~ Binomial(n, p0) at the unit's n, the unit is ``above_998`` if
    P(R ≥ s) < 0.001, else ``above_95`` if P(R ≥ s) < 0.025; ``below_998`` if
    P(R ≤ s) < 0.001, else ``below_95`` if P(R ≤ s) < 0.025; otherwise ``within``.
    This is the exact one-sided binomial test at each tail of the two limits. The
    drawn (interpolated) limits can sit just below 100 % for small n, so a point such
    as 6/6 may plot beyond the line yet is rightly not flagged: P(R = 6) is large.
    ``"normal"``: the unit is compared with the normal limits at its n (p > high998 →
    ``above_998`` and so on); a share exactly on a limit is within it.

    References
    ----------
    D. J. Spiegelhalter, Stat. Med. 24 (2005) 1185–1202.

    Examples
    --------
    >>> f = funnel_flags([950, 80, 300, 6], [1000, 100, 400, 6])
    >>> round(f.p0, 4), f.flags
    (0.8871, ('above_998', 'below_95', 'below_998', 'within'))
    """
    s, m = _units(successes, n)
    target = float(s.sum() / m.sum()) if p0 is None else as_real(p0, "p0")
    if not 0.0 < target < 1.0:
        raise ValueError(
            f"the target share must be strictly between 0 and 1, got {target}; "
            "with every answer the same there is nothing to compare."
        )
    lim = funnel_limits(target, m, method)
    share = s / m
    if method == "exact":
        upper_tail = stats.binom.sf(s - 1, m, target)  # P(R >= s)
        lower_tail = stats.binom.cdf(s, m, target)  # P(R <= s)
        above998, above95 = upper_tail < 0.001, upper_tail < 0.025
        below998, below95 = lower_tail < 0.001, lower_tail < 0.025
    else:
        above998, above95 = share > lim.high998, share > lim.high95
        below998, below95 = share < lim.low998, share < lim.low95
    flags = []
    for i in range(s.size):
        if above998[i]:
            flags.append("above_998")
        elif above95[i]:
            flags.append("above_95")
        elif below998[i]:
            flags.append("below_998")
        elif below95[i]:
            flags.append("below_95")
        else:
            flags.append("within")
    return Funnel(p0=target, share=share, n=m, flags=tuple(flags), limits=lim)


def _drop_empty(table: Sequence[Sequence[int]], name: str) -> np.ndarray:
    t = as_count_array(table, name, ndim=2)
    t = t[t.sum(axis=1) > 0]
    t = t[:, t.sum(axis=0) > 0]
    if t.shape[0] < 2:
        raise ValueError(f"{name} needs at least two units with answers.")
    return t


def homogeneity_test(table: Sequence[Sequence[int]]) -> HomogeneityResult:
    """Pearson chi-square test that all units have the same answer distribution.

    Parameters
    ----------
    table : 2-D array of int
        One row per unit; columns are (satisfied, not satisfied) or the level counts.

    Returns
    -------
    HomogeneityResult
        Fields ``chi2``, ``dof``, ``p``, ``n``, ``min_expected``.

    Raises
    ------
    ValueError
        If the table is malformed or fewer than two rows have answers.

    Notes
    -----
    All-zero rows (units without answers) and columns (levels nobody chose) are
    dropped first. Eᵢⱼ = RᵢCⱼ/N, X² = Σ(Oᵢⱼ − Eᵢⱼ)²/Eᵢⱼ, dof = (r − 1)(c − 1),
    p = P(χ²_dof ≥ X²). No Yates correction, so a 2×2 table gives the plain Pearson
    statistic. If a single column is left (every answer the same) X² = 0, dof = 0 and
    p = 1.

    References
    ----------
    K. Pearson, "On the criterion that a given system of deviations …", Philos. Mag.
    50 (1900) 157–175. A. Agresti, Categorical Data Analysis, 3rd ed., Wiley, 2013, §3.2.

    Examples
    --------
    >>> r = homogeneity_test([[80, 20], [60, 40], [90, 10]])
    >>> round(r.chi2, 3), r.dof, r.p < 0.001
    (26.087, 2, True)
    """
    t = _drop_empty(table, "table").astype(np.float64)
    n = float(t.sum())
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / n
    if t.shape[1] < 2:
        return HomogeneityResult(0.0, 0, 1.0, int(n), float(expected.min()))
    chi2 = float(np.sum((t - expected) ** 2 / expected))
    dof = (t.shape[0] - 1) * (t.shape[1] - 1)
    return HomogeneityResult(chi2, dof, float(stats.chi2.sf(chi2, dof)), int(n), float(expected.min()))


def kruskal_from_counts(table: Sequence[Sequence[int]]) -> KruskalResult:
    """Kruskal–Wallis test across units from ordinal level counts.

    Parameters
    ----------
    table : 2-D array of int
        One row per unit, one column per level (lowest first).

    Returns
    -------
    KruskalResult
        Fields ``h``, ``dof``, ``p``, ``n``.

    Raises
    ------
    ValueError
        If the table is malformed or fewer than two rows have answers.

    Notes
    -----
    Level l gets the mid-rank r_l = C_{l−1} + (c_l + 1)/2 (C cumulative over all units).
    Rᵢ = Σ_l o_{il} r_l; H = [12/(N(N + 1)) Σ Rᵢ²/nᵢ − 3(N + 1)] / [1 − Σ(c_l³ − c_l)/(N³ − N)],
    p = P(χ²_{k−1} ≥ H). Units without answers are dropped. If every answer is at one
    level, H = 0 and p = 1.

    References
    ----------
    W. H. Kruskal, W. A. Wallis, "Use of ranks in one-criterion variance analysis",
    J. Am. Stat. Assoc. 47 (1952) 583–621.

    Examples
    --------
    >>> r = kruskal_from_counts([[1, 2, 5, 10, 12], [4, 6, 10, 8, 2], [2, 3, 6, 10, 9]])
    >>> round(r.h, 3), r.dof
    (13.131, 2)
    """
    t = as_count_array(table, "table", ndim=2)
    t = t[t.sum(axis=1) > 0].astype(np.float64)
    if t.shape[0] < 2:
        raise ValueError("table needs at least two units with answers.")
    c = t.sum(axis=0)
    n = float(c.sum())
    ranks = np.cumsum(c) - c + (c + 1.0) / 2.0
    r_sum = t @ ranks
    n_i = t.sum(axis=1)
    dof = t.shape[0] - 1
    denom = 1.0 - float(np.sum(c**3 - c)) / (n**3 - n) if n > 1 else 0.0
    if denom <= 0:
        return KruskalResult(0.0, dof, 1.0, int(n))
    h = (12.0 / (n * (n + 1.0)) * float(np.sum(r_sum**2 / n_i)) - 3.0 * (n + 1.0)) / denom
    h = max(h, 0.0)  # H >= 0; identical groups can give -1e-15 from rounding
    return KruskalResult(float(h), dof, float(stats.chi2.sf(h, dof)), int(n))


def shrink_shares(successes: Sequence[int], n: Sequence[int]) -> Shrinkage:
    """Beta-binomial empirical-Bayes shrinkage of unit shares, and the ranking.

    Parameters
    ----------
    successes, n : sequence of int
        Satisfied answers and all answers per unit (at least two units).

    Returns
    -------
    Shrinkage
        Fields ``mean``, ``rho``, ``alpha``, ``beta``, ``share``, ``shrunk``, ``rank``.

    Raises
    ------
    ValueError
        As :func:`unit_shares`, or if fewer than two units are given.

    Notes
    -----
    Model: sᵢ ~ Binomial(nᵢ, πᵢ), πᵢ ~ Beta(α, β), so Var(pᵢ) = μ(1 − μ)[1 + (nᵢ − 1)ρ]/nᵢ
    with μ = α/(α + β), ρ = 1/(α + β + 1). Method of moments (Kleinman 1973, weights nᵢ):
    μ̂ = Σsᵢ/N, N = Σnᵢ, S = Σnᵢ(pᵢ − μ̂)², whose expectation is
    μ(1 − μ)[(k − 1) + ρ(N − Σnᵢ²/N − (k − 1))], so

    ρ̂ = [S/(μ̂(1 − μ̂)) − (k − 1)] / [N − Σnᵢ²/N − (k − 1)], clipped to [0, 1];
    α̂ + β̂ = 1/ρ̂ − 1, α̂ = μ̂(α̂ + β̂), β̂ = (1 − μ̂)(α̂ + β̂).

    Shrunk share (posterior mean) = (sᵢ + α̂)/(nᵢ + α̂ + β̂): a unit with few answers
    moves most of the way to μ̂, a large unit barely moves. ρ̂ = 0 (all units alike,
    every nᵢ = 1, or μ̂ ∈ {0, 1}) gives α̂ = β̂ = ∞ and every shrunk share = μ̂, so all
    tie at rank 1. Ranks: 1 = best, ties take the lowest rank.

    References
    ----------
    J. C. Kleinman, "Proportions with extraneous variance: single and independent
    samples", J. Am. Stat. Assoc. 68 (1973) 46–54.
    B. Efron, C. Morris, "Data analysis using Stein's estimator and its
    generalizations", J. Am. Stat. Assoc. 70 (1975) 311–319.
    G. K. Robinson, "That BLUP is a good thing: the estimation of random effects",
    Stat. Sci. 6 (1991) 15–32.

    Examples
    --------
    >>> r = shrink_shares([2, 5, 9], [10, 10, 10])
    >>> round(r.rho, 5), round(r.alpha, 5), round(r.beta, 5)
    (0.43948, 0.68021, 0.59518)
    >>> r.rank.tolist()
    [3, 2, 1]
    """
    s, m = _units(successes, n)
    k = s.size
    if k < 2:
        raise ValueError("shrinkage needs at least two units.")
    sf = s.astype(np.float64)
    nf = m.astype(np.float64)
    total = float(nf.sum())
    mu = float(sf.sum() / total)
    share = sf / nf
    denom = total - float(np.sum(nf**2)) / total - (k - 1)
    if mu in (0.0, 1.0) or denom <= 0:
        rho = 0.0
    else:
        big_s = float(np.sum(nf * (share - mu) ** 2))
        rho = (big_s / (mu * (1.0 - mu)) - (k - 1)) / denom
        rho = min(max(rho, 0.0), 1.0)
    if rho == 0.0:
        alpha = beta = math.inf
        shrunk = np.full(k, mu)
    else:
        m_prior = 1.0 / rho - 1.0
        alpha, beta = mu * m_prior, (1.0 - mu) * m_prior
        shrunk = (sf + alpha) / (nf + alpha + beta)
    rank = stats.rankdata(-shrunk, method="min").astype(np.int64)
    return Shrinkage(mu, rho, alpha, beta, share, shrunk, rank)


# --------------------------------------------------------------------------------------
# Comparisons on the official index, with respondent-level sampling variances.
#
# The functions below take, per unit, the official estimate θᵢ, its linearization
# variance vᵢ = sᵢ²/nᵢ (sᵢ² = per-respondent variance of the linearized score) and the
# respondents nᵢ, so the respondent is the sampling unit throughout.
# --------------------------------------------------------------------------------------

#: Ways to estimate the between-unit variance τ² in :func:`random_effects`.
RE_METHODS = ("reml", "dl", "pm")

_Z95 = float(stats.norm.ppf(0.975))
_Z998 = float(stats.norm.ppf(0.999))


@dataclass(frozen=True)
class RandomEffects:
    """Random-effects (normal–normal) summary of unit estimates.

    Attributes
    ----------
    method : str
        How τ² was estimated: ``"reml"``, ``"dl"`` or ``"pm"``.
    k : int
        Number of units.
    tau2 : float
        Estimated between-unit variance of the true values, τ̂² ≥ 0.
    mu : float
        μ̂ = Σwᵢθᵢ/Σwᵢ with wᵢ = 1/(vᵢ + τ̂²).
    se : float
        Standard error of μ̂, √(1/Σwᵢ) (τ̂² treated as known).
    low, high : float
        μ̂ ∓ z·se at the requested confidence.
    q : float
        Cochran's Q = Σ(θᵢ − θ̄)²/vᵢ, θ̄ = Σθᵢ/vᵢ ÷ Σ1/vᵢ.
    df : int
        k − 1.
    p : float
        P(χ²_df ≥ Q), the test of no difference between units.
    i2 : float
        I² = max(0, (Q − df)/Q) (0 when Q = 0), in [0, 1).
    weights : numpy.ndarray of float
        wᵢ = 1/(vᵢ + τ̂²), one per unit.
    """

    method: str
    k: int
    tau2: float
    mu: float
    se: float
    low: float
    high: float
    q: float
    df: int
    p: float
    i2: float
    weights: np.ndarray


@dataclass(frozen=True)
class FunnelVarianceLimits:
    """Funnel-plot limits θ0 ± z·√(s²/n) from a per-respondent variance.

    Attributes
    ----------
    theta0 : float
        Target value.
    s2 : float
        Per-respondent variance of the linearized score (pooled over units).
    n : numpy.ndarray of int
        Respondents the limits are computed for.
    low95, high95 : numpy.ndarray of float
        θ0 ∓ 1.960·√(s²/n) (2.5 % in each tail), clipped to ``bounds``.
    low998, high998 : numpy.ndarray of float
        θ0 ∓ 3.090·√(s²/n) (0.1 % in each tail), clipped to ``bounds``.
    bounds : tuple of float or None
        The range the index can take (``(0.0, 1.0)`` for a share), or None.
    """

    theta0: float
    s2: float
    n: np.ndarray
    low95: np.ndarray
    high95: np.ndarray
    low998: np.ndarray
    high998: np.ndarray
    bounds: tuple[float, float] | None


@dataclass(frozen=True)
class FunnelVariance:
    """Units placed on a respondent-variance funnel plot.

    Attributes
    ----------
    theta0 : float
        Target value.
    estimate : numpy.ndarray of float
        Each unit's estimate.
    n : numpy.ndarray of int
        Each unit's respondents.
    flags : tuple of str
        One of :data:`FLAGS` per unit.
    limits : FunnelVarianceLimits
        The limits at each unit's n.
    """

    theta0: float
    estimate: np.ndarray
    n: np.ndarray
    flags: tuple[str, ...]
    limits: FunnelVarianceLimits


@dataclass(frozen=True)
class UnitComparison:
    """Units compared on the official index with respondent-level variances.

    Every array has one entry per unit, in the order given.

    Attributes
    ----------
    estimate : numpy.ndarray of float
        The official estimate θᵢ as given.
    variance : numpy.ndarray of float
        The sampling variance used: vᵢ as given, or s²_pooled/nᵢ where ``floored``.
    floored : numpy.ndarray of bool
        True where the unit's own variance was replaced (vᵢ = 0 or unknown, or nᵢ < min_n).
    n : numpy.ndarray of int
        Respondents per unit.
    low, high : numpy.ndarray of float
        θᵢ ∓ z√vᵢ, clipped to ``bounds``.
    shrunk : numpy.ndarray of float
        Empirical-Bayes estimate θ*ᵢ = μ̂ + Bᵢ(θᵢ − μ̂).
    shrunk_sd : numpy.ndarray of float
        Its posterior SD √(Bᵢvᵢ + (1 − Bᵢ)²·se(μ̂)²).
    weight : numpy.ndarray of float
        Bᵢ = τ̂²/(τ̂² + vᵢ), the weight on the unit's own estimate (0 = all μ̂).
    rank : numpy.ndarray of int
        Rank of θ*ᵢ, 1 = best (highest); equal θ* share the lowest rank.
    rank_low, rank_high : numpy.ndarray of int
        Rank interval at the requested confidence, from posterior draws.
    flags : tuple of str
        Funnel flag per unit, one of :data:`FLAGS`.
    target : float
        Funnel target θ0.
    s2_pooled : float
        Pooled per-respondent variance Σ(nᵢ − 1)sᵢ²/Σ(nᵢ − 1).
    funnel : FunnelVarianceLimits
        Funnel limits at each unit's n.
    random_effects : RandomEffects
        τ̂², μ̂, I², and Cochran's Q with the units' own variances (for reference).
    q_pooled : float
        The heterogeneity statistic behind ``detectable``: Q with every unit's variance
        s²_pooled/nᵢ, i.e. Σnᵢ(θᵢ − θ0)²/s²_pooled, the sum of squared funnel z-scores.
    p_pooled : float
        Its p-value, P(F(k − 1, Σ(nᵢ − 1)) ≥ q_pooled/(k − 1)).
    detectable : bool
        True when ``p_pooled`` < ``alpha``; when False a page should say "no detectable
        difference between units" instead of ranking them.
    """

    estimate: np.ndarray
    variance: np.ndarray
    floored: np.ndarray
    n: np.ndarray
    low: np.ndarray
    high: np.ndarray
    shrunk: np.ndarray
    shrunk_sd: np.ndarray
    weight: np.ndarray
    rank: np.ndarray
    rank_low: np.ndarray
    rank_high: np.ndarray
    flags: tuple[str, ...]
    target: float
    s2_pooled: float
    funnel: FunnelVarianceLimits
    random_effects: RandomEffects
    q_pooled: float
    p_pooled: float
    detectable: bool


def _check_bounds(bounds: object) -> tuple[float, float] | None:
    if bounds is None:
        return None
    try:
        lo, hi = bounds  # type: ignore[misc]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bounds must be None or a pair (low, high), got {bounds!r}.") from exc
    lo_f, hi_f = as_real(lo, "the lower bound"), as_real(hi, "the upper bound")
    if not lo_f < hi_f:
        raise ValueError(f"bounds must have low < high, got {bounds!r}.")
    return (lo_f, hi_f)


def _clip(a: np.ndarray, bounds: tuple[float, float] | None) -> np.ndarray:
    return a if bounds is None else np.clip(a, bounds[0], bounds[1])


def _weighted_mean(y: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * y) / np.sum(w))


def _cochran_q(y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / v
    return float(np.sum(w * (y - _weighted_mean(y, w)) ** 2))


def _tau2_dl(y: np.ndarray, v: np.ndarray, q: float) -> float:
    w = 1.0 / v
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max(0.0, (q - (y.size - 1)) / c)


def _reml_loglik(t2: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Restricted log-likelihood (up to a constant) at each τ² in the 1-D array ``t2``."""
    w = 1.0 / (v[None, :] + t2[:, None])
    sw = w.sum(axis=1)
    mu = (w * y[None, :]).sum(axis=1) / sw
    rss = (w * (y[None, :] - mu[:, None]) ** 2).sum(axis=1)
    return -0.5 * (np.log(v[None, :] + t2[:, None]).sum(axis=1) + np.log(sw) + rss)


def _reml_score(t2: float, y: np.ndarray, v: np.ndarray) -> float:
    """d(restricted log-likelihood)/dτ²."""
    w = 1.0 / (v + t2)
    sw = float(w.sum())
    r = y - float(np.sum(w * y)) / sw
    return 0.5 * (float(np.sum(w**2 * r**2)) - sw + float(np.sum(w**2)) / sw)


def _tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    # At the REML maximum τ² = Σw²((y − μ)² − v)/Σw² + 1/Σw ≤ 2(range² + max v) for k ≥ 2,
    # so the maximum lies in [0, upper]. Grid on τ = √τ², then a root of the score.
    upper = 2.0 * (float(np.ptp(y)) ** 2 + float(v.max()))
    taus = np.linspace(0.0, math.sqrt(upper), 401)
    grid = taus**2
    ll = _reml_loglik(grid, y, v)
    j = int(np.argmax(ll))
    lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
    candidates = [float(grid[j])]
    s_lo, s_hi = _reml_score(lo, y, v), _reml_score(hi, y, v)
    if lo == 0.0 and s_lo <= 0.0:
        candidates.append(0.0)
    elif s_lo > 0.0 > s_hi:
        candidates.append(optimize.brentq(_reml_score, lo, hi, args=(y, v),
                                          xtol=1e-15 * upper, rtol=4 * np.finfo(float).eps))
    else:  # flat or irregular neighbourhood: bounded search on the likelihood itself
        res = optimize.minimize_scalar(lambda t: -float(_reml_loglik(np.array([t]), y, v)[0]),
                                       bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-14 * upper})
        candidates.append(float(res.x))
    cand = np.array(candidates)
    return float(max(cand[int(np.argmax(_reml_loglik(cand, y, v)))], 0.0))


def _generalised_q(t2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / (v + t2)
    return float(np.sum(w * (y - _weighted_mean(y, w)) ** 2))


def _tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    df = y.size - 1
    if _generalised_q(0.0, y, v) <= df:
        return 0.0
    # Q(τ²) < Σ(y − ȳ)²/τ², so Q(upper) < df at upper = Σ(y − ȳ)²/df.
    upper = float(np.sum((y - y.mean()) ** 2)) / df
    return float(optimize.brentq(lambda t: _generalised_q(t, y, v) - df, 0.0, upper,
                                 xtol=1e-15 * upper, rtol=4 * np.finfo(float).eps))


def random_effects(
    estimates: Sequence[float],
    variances: Sequence[float],
    method: str = "reml",
    confidence: float = 0.95,
) -> RandomEffects:
    """Random-effects summary of unit estimates: τ², the mean, Cochran's Q and I².

    Parameters
    ----------
    estimates : sequence of float
        θᵢ, one per unit (at least two).
    variances : sequence of float
        Their sampling variances vᵢ > 0 (respondent-level: vᵢ = sᵢ²/nᵢ).
    method : {"reml", "dl", "pm"}, optional
        Estimator of τ²: restricted maximum likelihood (default), DerSimonian–Laird, or
        Paule–Mandel.
    confidence : float, optional
        Confidence level of the interval for μ, default 0.95.

    Returns
    -------
    RandomEffects
        Fields ``method``, ``k``, ``tau2``, ``mu``, ``se``, ``low``, ``high``, ``q``,
        ``df``, ``p``, ``i2``, ``weights``.

    Raises
    ------
    ValueError
        If the arrays differ in length, hold fewer than two units, a value is not
        finite, a variance is not positive, or the method is unknown.

    Notes
    -----
    Model: θᵢ = μ + uᵢ + eᵢ, uᵢ ~ N(0, τ²) (true differences between units),
    eᵢ ~ N(0, vᵢ) (sampling error of the unit's respondents), vᵢ known.

    Heterogeneity (method-free): with fixed-effect weights 1/vᵢ and
    θ̄ = Σ(θᵢ/vᵢ)/Σ(1/vᵢ), Q = Σ(θᵢ − θ̄)²/vᵢ ~ χ²_{k−1} when τ² = 0; p = P(χ²_{k−1} ≥ Q);
    I² = max(0, (Q − (k − 1))/Q) (Higgins & Thompson 2002).

    τ² estimators, all truncated at 0:

    * ``"dl"``: τ̂² = max(0, (Q − (k − 1)) / (Σwᵢ − Σwᵢ²/Σwᵢ)), wᵢ = 1/vᵢ
      (DerSimonian & Laird 1986, a moment estimator).
    * ``"reml"``: maximises ℓ_R(τ²) = −½[Σlog(vᵢ + τ²) + log Σwᵢ + Σwᵢ(θᵢ − μ̂)²],
      wᵢ = 1/(vᵢ + τ²), over τ² ≥ 0 (Viechtbauer 2005). Computed robustly: ℓ_R on a grid
      of 401 values of τ in [0, √(2(range² + max vᵢ)))] (the maximum cannot lie above,
      by the REML equation τ² = Σwᵢ²((θᵢ − μ̂)² − vᵢ)/Σwᵢ² + 1/Σwᵢ), then Brent's root
      of dℓ_R/dτ² = ½[Σwᵢ²(θᵢ − μ̂)² − Σwᵢ + Σwᵢ²/Σwᵢ] next to the best grid point
      (τ̂² = 0 when the slope at 0 is ≤ 0). REML is the default: it is less biased than
      DL when variances are unequal and here always converges (a 1-D search).
    * ``"pm"``: the τ² ≥ 0 at which the generalised Q, Σwᵢ(θᵢ − μ̂)², equals k − 1
      (Paule & Mandel 1982), found by Brent's method (it is decreasing in τ²).

    Then wᵢ = 1/(vᵢ + τ̂²), μ̂ = Σwᵢθᵢ/Σwᵢ, se = √(1/Σwᵢ), interval μ̂ ± z·se.

    References
    ----------
    R. DerSimonian, N. Laird, "Meta-analysis in clinical trials", Control. Clin. Trials
    7 (1986) 177–188.
    W. Viechtbauer, "Bias and efficiency of meta-analytic variance estimators in the
    random-effects model", J. Educ. Behav. Stat. 30 (2005) 261–293.
    J. P. T. Higgins, S. G. Thompson, "Quantifying heterogeneity in a meta-analysis",
    Stat. Med. 21 (2002) 1539–1558.
    R. C. Paule, J. Mandel, "Consensus values and weighting factors", J. Res. Natl.
    Bur. Stand. 87 (1982) 377–385.

    Examples
    --------
    Viechtbauer (2005), example 1 (his Table, p. 271: DL 0.277, REML 0.223):

    >>> y = [-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232]
    >>> v = [0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040]
    >>> round(random_effects(y, v, "dl").tau2, 3), round(random_effects(y, v).tau2, 3)
    (0.277, 0.223)
    >>> r = random_effects(y, v)
    >>> round(r.q, 2), r.df, round(r.i2, 3), r.p < 0.001
    (46.02, 9, 0.804, True)
    """
    if method not in RE_METHODS:
        raise ValueError(f"method must be one of {', '.join(RE_METHODS)}, got {method!r}.")
    c = check_confidence(confidence)
    y = as_real_array(estimates, "estimates")
    v = as_real_array(variances, "variances")
    if y.size != v.size:
        raise ValueError(f"estimates has {y.size} units but variances has {v.size}.")
    if y.size < 2:
        raise ValueError("a random-effects summary needs at least two units.")
    if np.any(v <= 0):
        raise ValueError("every variance must be positive; floor zero variances first "
                         "(compare_units does).")
    k = int(y.size)
    q = _cochran_q(y, v)
    if method == "dl":
        tau2 = _tau2_dl(y, v, q)
    elif method == "pm":
        tau2 = _tau2_pm(y, v)
    else:
        tau2 = _tau2_reml(y, v)
    w = 1.0 / (v + tau2)
    mu = _weighted_mean(y, w)
    se = math.sqrt(1.0 / float(w.sum()))
    z = z_value(c)
    df = k - 1
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    return RandomEffects(method=method, k=k, tau2=tau2, mu=mu, se=se, low=mu - z * se,
                         high=mu + z * se, q=q, df=df, p=float(stats.chi2.sf(q, df)), i2=i2,
                         weights=w)


def funnel_limits_variance(
    theta0: float,
    s2_pooled: float,
    n: Sequence[int],
    bounds: tuple[float, float] | None = (0.0, 1.0),
) -> FunnelVarianceLimits:
    """Funnel-plot limits for an index from its per-respondent variance.

    Parameters
    ----------
    theta0 : float
        Target value (e.g. the overall index), inside ``bounds``.
    s2_pooled : float
        Per-respondent variance of the linearized score, pooled over units (> 0).
    n : sequence of int
        Respondents (each ≥ 1); for the curve pass a grid such as ``range(2, 501)``.
    bounds : (float, float) or None, optional
        Range of the index, default (0, 1) for a share; None for no clipping.

    Returns
    -------
    FunnelVarianceLimits
        Fields ``theta0``, ``s2``, ``n``, ``low95``, ``high95``, ``low998``, ``high998``,
        ``bounds``.

    Raises
    ------
    ValueError
        If theta0 is outside the bounds, s2_pooled is not positive, or an n is below 1.

    Notes
    -----
    Under "no difference between units", a unit with n respondents has an estimate
    ≈ N(θ0, s²/n), since the linearization variance of the official estimator is s²/n
    with s² the variance of the respondents' linearized scores. Limits (normal
    approximation of Spiegelhalter 2005, with the respondent-level variance in place of
    the binomial one): θ0 ± 1.960·√(s²/n) (95 %) and θ0 ± 3.090·√(s²/n) (99.8 %),
    clipped to ``bounds``.

    References
    ----------
    D. J. Spiegelhalter, "Funnel plots for comparing institutional performance",
    Stat. Med. 24 (2005) 1185–1202.

    Examples
    --------
    >>> lim = funnel_limits_variance(0.8, 0.04, [16, 100])
    >>> [round(float(x), 4) for x in lim.low95], [round(float(x), 4) for x in lim.high998]
    ([0.702, 0.7608], [0.9545, 0.8618])
    """
    b = _check_bounds(bounds)
    t0 = as_real(theta0, "theta0")
    if b is not None and not b[0] <= t0 <= b[1]:
        raise ValueError(f"theta0 {t0} is outside the bounds {b}.")
    s2 = as_real(s2_pooled, "s2_pooled")
    if s2 <= 0:
        raise ValueError(f"s2_pooled must be positive, got {s2_pooled!r}.")
    m = as_count_array(n, "n", ndim=1)
    if np.any(m < 1):
        raise ValueError("every n must be at least 1.")
    se = np.sqrt(s2 / m)
    return FunnelVarianceLimits(
        theta0=t0, s2=s2, n=m,
        low95=_clip(t0 - _Z95 * se, b), high95=_clip(t0 + _Z95 * se, b),
        low998=_clip(t0 - _Z998 * se, b), high998=_clip(t0 + _Z998 * se, b), bounds=b)


def _flags_from_limits(est: np.ndarray, lim: FunnelVarianceLimits) -> tuple[str, ...]:
    flags = []
    for i, e in enumerate(est):
        if e > lim.high998[i]:
            flags.append("above_998")
        elif e > lim.high95[i]:
            flags.append("above_95")
        elif e < lim.low998[i]:
            flags.append("below_998")
        elif e < lim.low95[i]:
            flags.append("below_95")
        else:
            flags.append("within")
    return tuple(flags)


def funnel_flags_variance(
    estimates: Sequence[float],
    n: Sequence[int],
    s2_pooled: float,
    theta0: float | None = None,
    bounds: tuple[float, float] | None = (0.0, 1.0),
) -> FunnelVariance:
    """Flag units on a funnel plot built from the per-respondent variance.

    Parameters
    ----------
    estimates : sequence of float
        Official estimate per unit.
    n : sequence of int
        Respondents per unit (each ≥ 1).
    s2_pooled : float
        Pooled per-respondent variance of the linearized score.
    theta0 : float, optional
        Target; default the respondent-weighted mean Σnᵢθᵢ/Σnᵢ.
    bounds : (float, float) or None, optional
        Range of the index, default (0, 1).

    Returns
    -------
    FunnelVariance
        Fields ``theta0``, ``estimate``, ``n``, ``flags``, ``limits``.

    Raises
    ------
    ValueError
        As :func:`funnel_limits_variance`, or if the arrays differ in length or are empty.

    Notes
    -----
    With the limits of :func:`funnel_limits_variance` at the unit's n: θᵢ > high998 →
    ``above_998``, else > high95 → ``above_95``; θᵢ < low998 → ``below_998``, else
    < low95 → ``below_95``; otherwise ``within``. A value exactly on a limit is within
    it, so a unit at 100 % when the clipped limit is 100 % is not flagged. The default
    target Σnᵢθᵢ/Σnᵢ is the inverse-variance mean when every unit has variance s²/nᵢ.

    References
    ----------
    D. J. Spiegelhalter, Stat. Med. 24 (2005) 1185–1202.

    Examples
    --------
    >>> f = funnel_flags_variance([0.90, 0.70, 0.80, 0.95], [400, 100, 300, 5], 0.04)
    >>> round(f.theta0, 4), f.flags
    (0.8382, ('above_998', 'below_998', 'below_998', 'within'))
    """
    est = as_real_array(estimates, "estimates")
    m = as_count_array(n, "n", ndim=1)
    if est.size != m.size:
        raise ValueError(f"estimates has {est.size} units but n has {m.size}.")
    if est.size == 0:
        raise ValueError("there are no units.")
    if np.any(m < 1):
        raise ValueError("every unit needs at least one respondent; leave empty units out.")
    t0 = float(np.sum(m * est) / np.sum(m)) if theta0 is None else as_real(theta0, "theta0")
    lim = funnel_limits_variance(t0, s2_pooled, m, bounds)
    return FunnelVariance(theta0=t0, estimate=est, n=m, flags=_flags_from_limits(est, lim),
                          limits=lim)


def _pooled_variance(s2: np.ndarray, m: np.ndarray) -> float:
    use = (m >= 2) & np.isfinite(s2)
    dof = float(np.sum(m[use] - 1))
    if dof == 0:
        raise ValueError("no unit has two respondents with a known score variance, so "
                         "there is no respondent-level variance to pool.")
    pooled = float(np.sum((m[use] - 1) * s2[use]) / dof)
    if pooled <= 0:
        raise ValueError("every respondent gave the same score in every unit (pooled "
                         "variance 0), so there is no sampling variability to compare against.")
    return pooled


def compare_units(
    estimates: Sequence[float],
    variances: Sequence[float],
    n: Sequence[int],
    score_variances: Sequence[float] | None = None,
    confidence: float = 0.95,
    seed: int = 0,
    *,
    bounds: tuple[float, float] | None = (0.0, 1.0),
    method: str = "reml",
    min_n: int = 10,
    alpha: float = 0.05,
    draws: int = 4000,
    target: float | None = None,
) -> UnitComparison:
    """Compare units on the official index, the respondent being the sampling unit.

    Parameters
    ----------
    estimates : sequence of float
        Official estimate θᵢ per unit (at least two units).
    variances : sequence of float
        Its linearization variance vᵢ ≥ 0; ``nan`` = unknown (e.g. one respondent).
    n : sequence of int
        Respondents per unit, each ≥ 1.
    score_variances : sequence of float, optional
        Per-respondent variance sᵢ² of the linearized score (``nan`` = unknown);
        default nᵢ·vᵢ.
    confidence : float, optional
        Level of the unit intervals and rank intervals, default 0.95.
    seed : int, optional
        Seed of the numpy Generator for the posterior draws, default 0 (same input,
        same output).
    bounds : (float, float) or None, optional
        Range of the index, default (0, 1) for a share; None for an unbounded mean.
    method : {"reml", "dl", "pm"}, optional
        τ² estimator, see :func:`random_effects`.
    min_n : int, optional
        Units with fewer respondents use the pooled variance, default 10.
    alpha : float, optional
        Level of the heterogeneity test behind ``detectable``, default 0.05.
    draws : int, optional
        Posterior draws for the rank intervals, default 4000.
    target : float, optional
        Funnel target; default Σnᵢθᵢ/Σnᵢ.

    Returns
    -------
    UnitComparison
        Fields ``estimate``, ``variance``, ``floored``, ``n``, ``low``, ``high``,
        ``shrunk``, ``shrunk_sd``, ``weight``, ``rank``, ``rank_low``, ``rank_high``,
        ``flags``, ``target``, ``s2_pooled``, ``funnel``, ``random_effects``,
        ``q_pooled``, ``p_pooled``, ``detectable``.

    Raises
    ------
    ValueError
        If the arrays differ in length, fewer than two units are given, an estimate is
        outside ``bounds``, a variance is negative, an n is 0, or no respondent-level
        variability can be pooled.

    Notes
    -----
    Variance floor: s²_pooled = Σ(nᵢ − 1)sᵢ²/Σ(nᵢ − 1) over units with nᵢ ≥ 2 and a known
    sᵢ². A unit with vᵢ = 0 (all its respondents alike), vᵢ unknown, or nᵢ < ``min_n``
    uses vᵢ = s²_pooled/nᵢ instead (``floored``), so nothing divides by zero and a
    five-respondent unit that happens to agree is not treated as exact.

    Interval: θᵢ ± z√vᵢ, clipped to ``bounds``.

    Random effects (:func:`random_effects`): τ̂², μ̂ and se(μ̂)² = 1/Σ(vᵢ + τ̂²)⁻¹.
    Empirical Bayes (Morris 1983): Bᵢ = τ̂²/(τ̂² + vᵢ), θ*ᵢ = μ̂ + Bᵢ(θᵢ − μ̂), posterior SD
    √(Bᵢvᵢ + (1 − Bᵢ)²se(μ̂)²); the uncertainty of τ̂² itself is not added (Morris's
    further correction), which the simulation tests show is acceptable for ranks.

    Ranks: 1 = highest θ*. Rank interval: D posterior draws, μ⁽ᵈ⁾ ~ N(μ̂, se(μ̂)²),
    θᵢ⁽ᵈ⁾ = (1 − Bᵢ)μ⁽ᵈ⁾ + Bᵢθᵢ + √(Bᵢvᵢ)·εᵢ⁽ᵈ⁾ (the joint posterior, whose margins
    have the SD above); rank_low is the lower (1 − c)/2 quantile of each unit's
    smallest possible rank within a draw (ties counted in its favour), rank_high the
    upper (1 + c)/2 quantile of its largest; the interval is widened to contain
    ``rank``. When τ̂² = 0 all units are alike: θ* = μ̂ for all, every rank is 1 and
    every rank interval is [1, k].

    Funnel: :func:`funnel_flags_variance` with s²_pooled and the target θ0
    (default Σnᵢθᵢ/Σnᵢ).

    ``detectable``: the test of "no difference between units" is Cochran's Q with the
    pooled respondent variance, Q_p = Σnᵢ(θᵢ − θ0)²/s²_pooled (θ0 the default target),
    referred to F(k − 1, Σ(nᵢ − 1)) as Q_p/(k − 1) — the one-way analysis of variance of
    the respondents' linearized scores. ``detectable`` = p_pooled < ``alpha``. Q with
    each unit's own estimated vᵢ (``random_effects.q``) is not used for this: a unit
    with 10–50 respondents estimates vᵢ noisily, 1/v̂ᵢ is biased upwards and correlated
    with θᵢ for a share, and in simulation (30 units, 5–400 respondents, no true
    difference) that Q rejected about 20 % of the time at α = 0.05, Q_p 5–6.7 %.

    References
    ----------
    C. N. Morris, "Parametric empirical Bayes inference: theory and applications",
    J. Am. Stat. Assoc. 78 (1983) 47–55.
    R. DerSimonian, N. Laird, Control. Clin. Trials 7 (1986) 177–188.
    W. Viechtbauer, J. Educ. Behav. Stat. 30 (2005) 261–293.
    D. J. Spiegelhalter, Stat. Med. 24 (2005) 1185–1202.
    H. Goldstein, D. J. Spiegelhalter, "League tables and their limitations", J. R.
    Stat. Soc. A 159 (1996) 385–443.

    Examples
    --------
    The third unit's respondents all agree (v = 0) and the fourth has four respondents,
    so both take the pooled variance:

    >>> r = compare_units([0.91, 0.80, 0.84, 1.0, 0.86],
    ...                   [0.0004, 0.0009, 0.0, 0.0, 0.0006], [400, 150, 50, 4, 200])
    >>> r.floored.tolist(), round(r.s2_pooled, 4), round(r.p_pooled, 4), r.detectable
    ([False, False, True, True, False], 0.135, 0.026, True)
    >>> r.rank.tolist(), r.rank_low.tolist(), r.rank_high.tolist()
    ([1, 5, 4, 2, 3], [1, 2, 1, 1, 1], [3, 5, 5, 5, 5])
    >>> r.flags
    ('above_95', 'below_95', 'within', 'within', 'within')
    """
    c = check_confidence(confidence)
    if isinstance(alpha, bool) or not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}.")
    b = _check_bounds(bounds)
    y = as_real_array(estimates, "estimates")
    v_in = as_real_array(variances, "variances", allow_nan=True)
    m = as_count_array(n, "n", ndim=1)
    if not (y.size == v_in.size == m.size):
        raise ValueError(f"estimates, variances and n must have one entry per unit; got "
                         f"{y.size}, {v_in.size} and {m.size}.")
    if y.size < 2:
        raise ValueError("comparing units needs at least two units.")
    if np.any(m < 1):
        raise ValueError("every unit needs at least one respondent; leave empty units out.")
    if b is not None and np.any((y < b[0]) | (y > b[1])):
        raise ValueError(f"every estimate must lie within the bounds {b}.")
    if np.any(v_in[np.isfinite(v_in)] < 0):
        raise ValueError("a variance cannot be negative.")
    if score_variances is None:
        s2 = m * v_in
    else:
        s2 = as_real_array(score_variances, "score_variances", allow_nan=True)
        if s2.size != y.size:
            raise ValueError(f"score_variances has {s2.size} units but estimates has {y.size}.")
        if np.any(s2[np.isfinite(s2)] < 0):
            raise ValueError("a score variance cannot be negative.")
    if isinstance(min_n, bool) or not isinstance(min_n, numbers.Integral) or min_n < 1:
        raise ValueError(f"min_n must be a whole number of at least 1, got {min_n!r}.")
    if isinstance(draws, bool) or not isinstance(draws, numbers.Integral) or draws < 100:
        raise ValueError(f"draws must be a whole number of at least 100, got {draws!r}.")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number, got {seed!r}.")

    s2_pooled = _pooled_variance(s2, m)
    floored = (m < min_n) | ~np.isfinite(v_in) | (v_in == 0)
    v = np.where(floored, s2_pooled / m, v_in)

    z = z_value(c)
    half = z * np.sqrt(v)
    low, high = _clip(y - half, b), _clip(y + half, b)

    re = random_effects(y, v, method, c)
    mu_var = re.se**2
    weight = re.tau2 / (re.tau2 + v)
    shrunk = re.mu + weight * (y - re.mu)
    shrunk_sd = np.sqrt(weight * v + (1.0 - weight) ** 2 * mu_var)
    rank = stats.rankdata(-shrunk, method="min").astype(np.int64)

    rng = np.random.default_rng(int(seed))
    mu_d = re.mu + math.sqrt(mu_var) * rng.standard_normal(int(draws))
    eps = rng.standard_normal((int(draws), y.size))
    theta_d = ((1.0 - weight)[None, :] * mu_d[:, None] + (weight * y)[None, :]
               + np.sqrt(weight * v)[None, :] * eps)
    r_min = stats.rankdata(-theta_d, method="min", axis=1)
    r_max = stats.rankdata(-theta_d, method="max", axis=1)
    rank_low = np.quantile(r_min, (1.0 - c) / 2.0, axis=0, method="lower").astype(np.int64)
    rank_high = np.quantile(r_max, (1.0 + c) / 2.0, axis=0, method="higher").astype(np.int64)
    rank_low, rank_high = np.minimum(rank_low, rank), np.maximum(rank_high, rank)

    theta_bar = float(np.sum(m * y) / np.sum(m))
    q_pooled = float(np.sum(m * (y - theta_bar) ** 2) / s2_pooled)
    dof = float(np.sum(m[(m >= 2) & np.isfinite(s2)] - 1))
    p_pooled = float(stats.f.sf(q_pooled / (y.size - 1), y.size - 1, dof))

    theta0 = theta_bar if target is None else as_real(target, "target")
    fun = funnel_flags_variance(y, m, s2_pooled, theta0, b)
    return UnitComparison(
        estimate=y, variance=v, floored=floored, n=m, low=low, high=high, shrunk=shrunk,
        shrunk_sd=shrunk_sd, weight=weight, rank=rank, rank_low=rank_low,
        rank_high=rank_high, flags=fun.flags, target=theta0, s2_pooled=s2_pooled,
        funnel=fun.limits, random_effects=re, q_pooled=q_pooled, p_pooled=p_pooled,
        detectable=bool(p_pooled < float(alpha)))
