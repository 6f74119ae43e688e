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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._common import as_count_array, as_real, check_confidence, wilson_arrays, z_value

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
