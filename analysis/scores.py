"""Scores of one survey: shares, means and the official indexes.

Every function here works on count tables (how many answers at each level) or on
sufficient statistics (n, sum, sum of squares), never on respondent rows, so a report
costs O(cells). Shares are fractions in [0, 1].

Functions
---------
wilson_interval
    Satisfied share with its Wilson score interval.
mean_from_counts, mean_from_moments
    Mean with a Student t interval, from a count table or from (n, Σx, Σx²).
level_summary
    Everything a report shows for one scale question.
satisfied_share_index
    SIPAS / education index: criteria → factors → overall, with an interval.
moh_mean_scores, moh_general_satisfaction, moh_comprehensive_satisfaction, moh_return_rate
    Bộ Y tế 3869/QĐ-BYT measures (expectation met is ``mean_from_counts`` or
    ``mean_from_moments`` of the percent question).
grade_for, one_stop_points
    One-stop evaluation (Nghị định 61/2018): points, mean total, grade band.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._common import (
    as_count,
    as_count_array,
    as_real,
    as_real_array,
    check_confidence,
    level_values,
    satisfied_mask,
    wilson,
    z_value,
)

__all__ = [
    "ShareInterval",
    "MeanInterval",
    "LevelSummary",
    "FactorIndex",
    "SatisfiedShareIndex",
    "SectionMean",
    "MohMeanScores",
    "Grade",
    "OneStopPoints",
    "wilson_interval",
    "mean_from_counts",
    "mean_from_moments",
    "level_summary",
    "satisfied_share_index",
    "moh_mean_scores",
    "moh_general_satisfaction",
    "moh_comprehensive_satisfaction",
    "moh_return_rate",
    "grade_for",
    "one_stop_points",
]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ShareInterval:
    """A share with its confidence interval.

    Attributes
    ----------
    share : float
        Point estimate, successes / n, in [0, 1].
    low, high : float
        Confidence limits, in [0, 1].
    n : int
        Number of trials (answers or respondents) the share is taken over.
    """

    share: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class MeanInterval:
    """A mean with its Student t confidence interval.

    Attributes
    ----------
    mean : float
        Sample mean.
    low, high : float
        Confidence limits; ``nan`` when n < 2.
    sd : float
        Sample standard deviation (divisor n − 1); ``nan`` when n < 2.
    n : int
        Number of observations.
    """

    mean: float
    low: float
    high: float
    sd: float
    n: int


@dataclass(frozen=True)
class LevelSummary:
    """Summary of one scale question.

    Attributes
    ----------
    values : tuple of float
        The scale's level values, in the order given.
    counts : tuple of int
        Answers at each level, aligned with ``values``.
    n : int
        Number of answers.
    mean, mean_low, mean_high : float
        Mean level value and its t interval (limits ``nan`` when n < 2).
    sd : float
        Standard deviation of the answers (``nan`` when n < 2).
    satisfied, satisfied_low, satisfied_high : float
        Share of answers at a satisfied level and its Wilson interval.
    """

    values: tuple[float, ...]
    counts: tuple[int, ...]
    n: int
    mean: float
    mean_low: float
    mean_high: float
    sd: float
    satisfied: float
    satisfied_low: float
    satisfied_high: float


@dataclass(frozen=True)
class FactorIndex:
    """Index of one factor (a group of criteria).

    Attributes
    ----------
    key : str
        The factor's key.
    index : float
        Mean of its answered criteria's satisfied shares; ``nan`` when none was answered.
    low, high : float
        Normal-approximation interval (see ``satisfied_share_index``); ``nan`` when
        ``index`` is ``nan``.
    n : int
        The largest number of answers any of its criteria received (the number of
        respondents when every criterion is required).
    criteria : int
        Number of criteria with at least one answer (those that enter the mean).
    """

    key: str
    index: float
    low: float
    high: float
    n: int
    criteria: int


@dataclass(frozen=True)
class SatisfiedShareIndex:
    """The overall satisfied-share index (SIPAS / education method).

    Attributes
    ----------
    value : float
        Mean of the factor indexes (factors without answers left out).
    low, high : float
        Normal-approximation interval, clipped to [0, 1].
    factors : tuple of FactorIndex
        One entry per factor, in input order.
    """

    value: float
    low: float
    high: float
    factors: tuple[FactorIndex, ...]


@dataclass(frozen=True)
class SectionMean:
    """Mean score of one MOH section.

    Attributes
    ----------
    key : str
        The section's key.
    mean : float
        Mean of the section's item mean scores; ``nan`` when no item was answered.
    items : int
        Number of items with at least one answer.
    answers : int
        Number of answers over all its items.
    """

    key: str
    mean: float
    items: int
    answers: int


@dataclass(frozen=True)
class MohMeanScores:
    """MOH mean scores per section and overall.

    Attributes
    ----------
    overall : float
        Mean of all answered items' mean scores (over every section).
    sections : tuple of SectionMean
        One entry per section, in input order.
    """

    overall: float
    sections: tuple[SectionMean, ...]


@dataclass(frozen=True)
class Grade:
    """A grade band of a points instrument.

    Attributes
    ----------
    min : float
        The band's threshold.
    strict : bool
        True when the total must exceed ``min``; False when reaching it is enough.
    vi, en : str
        Band name in Vietnamese and English.
    """

    min: float
    strict: bool
    vi: str
    en: str


@dataclass(frozen=True)
class OneStopPoints:
    """One-stop evaluation score (Nghị định 61/2018).

    Attributes
    ----------
    indicators : tuple of float
        Mean points of each indicator (``nan`` for an indicator nobody answered).
    mean_total : float
        Mean of the respondents' totals.
    low, high : float
        t interval of the mean total (``nan`` when n < 2), clipped to [0, max_total].
    sd : float
        Standard deviation of the totals (``nan`` when n < 2).
    n : int
        Number of respondents (totals).
    max_total : float
        The maximum possible total, e.g. 18.
    grade : Grade or None
        The band of ``mean_total``; None when no band applies or none was given.
    """

    indicators: tuple[float, ...]
    mean_total: float
    low: float
    high: float
    sd: float
    n: int
    max_total: float
    grade: Grade | None


# --------------------------------------------------------------------------- shares


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> ShareInterval:
    """Share of successes with its Wilson score interval.

    Parameters
    ----------
    successes : int
        Number of successes (e.g. answers at a satisfied level), 0 ≤ successes ≤ n.
    n : int
        Number of trials; must be at least 1.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    ShareInterval
        Fields ``share``, ``low``, ``high``, ``n``.

    Raises
    ------
    ValueError
        If a count is negative or fractional, ``n`` is 0, ``successes > n`` or the
        confidence is not in (0, 1).

    Notes
    -----
    With p̂ = s/n and z the 1 − (1 − confidence)/2 normal quantile,

    .. math:: \\frac{p̂ + z^2/2n \\pm z\\sqrt{p̂(1-p̂)/n + z^2/4n^2}}{1 + z^2/n}

    The interval never leaves [0, 1] and keeps a sensible width at 0 % and 100 %.

    References
    ----------
    E. B. Wilson, "Probable inference, the law of succession, and statistical
    inference", J. Am. Stat. Assoc. 22 (1927) 209–212.
    A. Agresti, B. A. Coull, "Approximate is better than 'exact' for interval
    estimation of binomial proportions", Am. Stat. 52 (1998) 119–126.

    Examples
    --------
    >>> r = wilson_interval(45, 50)
    >>> round(r.share, 3), round(r.low, 4), round(r.high, 4), r.n
    (0.9, 0.7864, 0.9565, 50)
    """
    c = check_confidence(confidence)
    s = as_count(successes, "successes")
    nn = as_count(n, "n")
    if nn == 0:
        raise ValueError("n must be at least 1: a share of no answers is undefined.")
    if s > nn:
        raise ValueError(f"successes ({s}) cannot exceed n ({nn}).")
    low, high = wilson(s, nn, z_value(c))
    return ShareInterval(share=s / nn, low=low, high=high, n=nn)


# --------------------------------------------------------------------------- means


def _t_interval(mean: float, var: float, n: int, confidence: float) -> MeanInterval:
    if n < 2:
        return MeanInterval(mean=mean, low=math.nan, high=math.nan, sd=math.nan, n=n)
    sd = math.sqrt(var)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / math.sqrt(n)
    return MeanInterval(mean=mean, low=mean - half, high=mean + half, sd=sd, n=n)


def mean_from_counts(
    values: Sequence[float], counts: Sequence[int], confidence: float = 0.95
) -> MeanInterval:
    """Mean of a count table with its Student t interval.

    Parameters
    ----------
    values : sequence of float
        Distinct values (e.g. the levels 1–5, or 0–100 for a percent question).
    counts : sequence of int
        How many answers took each value, aligned with ``values``.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    MeanInterval
        Fields ``mean``, ``low``, ``high``, ``sd``, ``n``.

    Raises
    ------
    ValueError
        If the lengths differ, a value repeats, a count is negative or fractional, or
        there are no answers.

    Notes
    -----
    With n = Σcᵢ, x̄ = Σcᵢvᵢ/n and s² = Σcᵢ(vᵢ − x̄)²/(n − 1), the interval is
    x̄ ± t_{n−1, 1−(1−confidence)/2} · s/√n. For n < 2 the limits are ``nan``.
    MOH "expectation met" is this mean over the percent question.

    References
    ----------
    "Student", "The probable error of a mean", Biometrika 6 (1908) 1–25.

    Examples
    --------
    >>> r = mean_from_counts([1, 2, 3, 4, 5], [2, 3, 10, 20, 15])
    >>> round(r.mean, 2), round(r.low, 3), round(r.high, 3), r.n
    (3.86, 3.562, 4.158, 50)
    """
    c = check_confidence(confidence)
    v = level_values(values)
    k = as_count_array(counts, "counts", ndim=1)
    if k.size != v.size:
        raise ValueError(f"counts has {k.size} entries but values has {v.size}.")
    n = int(k.sum())
    if n == 0:
        raise ValueError("there are no answers: the counts sum to 0.")
    w = k.astype(np.float64)
    mean = float(np.dot(w, v) / n)
    var = float(np.dot(w, (v - mean) ** 2) / (n - 1)) if n > 1 else math.nan
    return _t_interval(mean, var, n, c)


def mean_from_moments(
    n: int, total: float, sum_sq: float, confidence: float = 0.95
) -> MeanInterval:
    """Mean with its Student t interval from n, Σx and Σx².

    This is the form the database returns cheaply (``COUNT(x), SUM(x), SUM(x*x)``).

    Parameters
    ----------
    n : int
        Number of observations, at least 1.
    total : float
        Σx.
    sum_sq : float
        Σx².
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    MeanInterval
        Fields ``mean``, ``low``, ``high``, ``sd``, ``n``.

    Raises
    ------
    ValueError
        If n < 1 or Σx² < (Σx)²/n (impossible for real data).

    Notes
    -----
    x̄ = Σx/n, s² = (nΣx² − (Σx)²) / (n(n − 1)), interval x̄ ± t_{n−1} · s/√n.
    Whole-number inputs are combined in exact integer arithmetic, so large n loses no
    precision. For n < 2 the limits are ``nan``.

    References
    ----------
    B. P. Welford, "Note on a method for calculating corrected sums of squares and
    products", Technometrics 4 (1962) 419–420 (on the cancellation the exact integer
    path avoids).

    Examples
    --------
    >>> r = mean_from_moments(4, 300, 23000)  # 60, 70, 80, 90
    >>> r.mean, round(r.sd, 4), round(r.low, 3), round(r.high, 3)
    (75.0, 12.9099, 54.457, 95.543)
    """
    c = check_confidence(confidence)
    nn = as_count(n, "n")
    if nn == 0:
        raise ValueError("n must be at least 1: the mean of no observations is undefined.")
    t = as_real(total, "total")
    q = as_real(sum_sq, "sum_sq")
    if q < 0:
        raise ValueError("sum_sq must not be negative.")
    if t == math.floor(t) and q == math.floor(q) and abs(t) < 2**53 and q < 2**53:
        num: float = nn * int(q) - int(t) ** 2  # exact integer arithmetic
        tolerance = 0.0
    else:
        num = nn * q - t * t
        tolerance = 1e-9 * max(nn * q, t * t, 1.0)
    if num < -tolerance:
        raise ValueError("sum_sq is smaller than total**2 / n, which no data can give.")
    var = max(num, 0) / (nn * (nn - 1)) if nn > 1 else math.nan
    return _t_interval(t / nn, var, nn, c)


def level_summary(
    values: Sequence[float],
    counts: Sequence[int],
    satisfied_levels: Iterable[float],
    confidence: float = 0.95,
) -> LevelSummary:
    """Counts, mean and satisfied share of one scale question.

    Parameters
    ----------
    values : sequence of float
        The scale's level values, e.g. ``[1, 2, 3, 4, 5]``.
    counts : sequence of int
        Answers at each level, aligned with ``values``.
    satisfied_levels : iterable of float
        The levels that count as satisfied, e.g. ``[4, 5]``; each must be in ``values``.
    confidence : float, optional
        Two-sided confidence level for both intervals, default 0.95.

    Returns
    -------
    LevelSummary
        Fields ``values``, ``counts``, ``n``, ``mean``, ``mean_low``, ``mean_high``,
        ``sd``, ``satisfied``, ``satisfied_low``, ``satisfied_high``.

    Raises
    ------
    ValueError
        If the table is malformed, a satisfied level is not a level, or there are no
        answers (skip unanswered questions before calling).

    Notes
    -----
    Mean: x̄ = Σcᵢvᵢ/n with the t interval of :func:`mean_from_counts`.
    Satisfied share: p̂ = Σ_{i∈S} cᵢ / n with the Wilson interval of
    :func:`wilson_interval`.

    References
    ----------
    E. B. Wilson (1927), J. Am. Stat. Assoc. 22:209–212; "Student" (1908),
    Biometrika 6:1–25.

    Examples
    --------
    >>> r = level_summary([1, 2, 3, 4, 5], [2, 3, 10, 20, 15], satisfied_levels=[4, 5])
    >>> r.n, round(r.mean, 2), r.satisfied, round(r.satisfied_low, 4)
    (50, 3.86, 0.7, 0.5625)
    """
    c = check_confidence(confidence)
    v = level_values(values)
    k = as_count_array(counts, "counts", ndim=1)
    if k.size != v.size:
        raise ValueError(f"counts has {k.size} entries but values has {v.size}.")
    mask = satisfied_mask(v, satisfied_levels)
    m = mean_from_counts(v, k, c)
    sat = wilson_interval(int(k[mask].sum()), m.n, c)
    return LevelSummary(
        values=tuple(float(x) for x in v),
        counts=tuple(int(x) for x in k),
        n=m.n,
        mean=m.mean,
        mean_low=m.low,
        mean_high=m.high,
        sd=m.sd,
        satisfied=sat.share,
        satisfied_low=sat.low,
        satisfied_high=sat.high,
    )


# --------------------------------------------------------------------------- SIPAS


def satisfied_share_index(
    factors: Mapping[str, Sequence[tuple[int, int]]], confidence: float = 0.95
) -> SatisfiedShareIndex:
    """Satisfied-share index: criteria → factors → overall (SIPAS, education).

    Parameters
    ----------
    factors : mapping of str to sequence of (int, int)
        For each factor key, in report order, one ``(satisfied, n)`` pair per
        criterion: answers at a satisfied level and all answers. An instrument without
        factors passes all its criteria under a single key; the overall index is then
        the mean of the criteria.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    SatisfiedShareIndex
        Fields ``value``, ``low``, ``high``, ``factors`` (a tuple of
        :class:`FactorIndex` with ``key``, ``index``, ``low``, ``high``, ``n``,
        ``criteria``).

    Raises
    ------
    ValueError
        If there are no factors, a factor lists no criteria, a pair is malformed
        (negative, fractional, satisfied > n), or no criterion has any answer.

    Notes
    -----
    Point estimates (the official method): criterion index pᵢ = sᵢ/nᵢ; factor index
    I_f = (1/k_f) Σ pᵢ over its k_f answered criteria; overall I = (1/F) Σ I_f over
    the F factors with answers. Criteria with nᵢ = 0 are left out of their factor's
    mean, and factors without answers out of the overall mean.

    Interval: each criterion is treated as an independent binomial estimate and the
    variance of the means is propagated (normal approximation):
    Var(I_f) = Σ vᵢ / k_f², Var(I) = Σ Var(I_f) / F², limits I ± z·√Var clipped to
    [0, 1]. To keep the interval from collapsing to zero width at 0 % or 100 %, vᵢ
    uses the Agresti–Coull adjusted share: p̃ᵢ = (sᵢ + z²/2)/(nᵢ + z²),
    vᵢ = p̃ᵢ(1 − p̃ᵢ)/(nᵢ + z²). This takes the answer as the sampling unit and the
    criteria as independent, but one respondent's answers are positively correlated:
    with realistic data the interval is 2.5–2.8 times too narrow and covers about
    55–60 % instead of 95 %. Reports use :func:`analysis.respondent.share_index`,
    which has the same point estimate and a respondent-level (linearized) variance
    (``report.py`` switches to it in the integration step); this interval remains
    for callers that have nothing but counts per criterion.

    References
    ----------
    Bộ Nội vụ, 1001/QĐ-BNV (2023) and 2640/QĐ-BNV (2017), SIPAS methodology.
    A. Agresti, B. A. Coull, Am. Stat. 52 (1998) 119–126.

    Examples
    --------
    >>> r = satisfied_share_index({"access": [(80, 100), (90, 100)],
    ...                            "staff": [(70, 100)]})
    >>> round(r.value, 3), [round(f.index, 3) for f in r.factors]
    (0.775, [0.85, 0.7])
    >>> round(r.low, 4), round(r.high, 4)
    (0.7241, 0.8259)
    """
    c = check_confidence(confidence)
    if not isinstance(factors, Mapping) or len(factors) == 0:
        raise ValueError("factors must be a non-empty mapping of factor key to criteria.")
    z = z_value(c)
    z2 = z * z
    out: list[FactorIndex] = []
    variances: list[float] = []
    for key, criteria in factors.items():
        if not isinstance(key, str):
            raise ValueError(f"factor keys must be strings, got {key!r}.")
        pairs = list(criteria)
        if not pairs:
            raise ValueError(f"factor {key!r} lists no criteria.")
        shares: list[float] = []
        var_sum = 0.0
        n_max = 0
        for j, pair in enumerate(pairs):
            try:
                s_raw, n_raw = pair
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"factor {key!r} criterion {j} must be a (satisfied, n) pair."
                ) from exc
            s = as_count(s_raw, f"factor {key!r} criterion {j} satisfied")
            n = as_count(n_raw, f"factor {key!r} criterion {j} n")
            if s > n:
                raise ValueError(f"factor {key!r} criterion {j}: satisfied ({s}) exceeds n ({n}).")
            n_max = max(n_max, n)
            if n == 0:
                continue
            shares.append(s / n)
            p_adj = (s + z2 / 2.0) / (n + z2)
            var_sum += p_adj * (1.0 - p_adj) / (n + z2)
        k = len(shares)
        if k == 0:
            out.append(FactorIndex(key, math.nan, math.nan, math.nan, n_max, 0))
            continue
        index = float(sum(shares) / k)
        var_f = var_sum / (k * k)
        half = z * math.sqrt(var_f)
        out.append(
            FactorIndex(key, index, max(0.0, index - half), min(1.0, index + half), n_max, k)
        )
        variances.append(var_f)
    answered = [f for f in out if f.criteria > 0]
    if not answered:
        raise ValueError("no criterion has any answer, so there is no index.")
    f_count = len(answered)
    value = float(sum(f.index for f in answered) / f_count)
    half = z * math.sqrt(sum(variances) / (f_count * f_count))
    return SatisfiedShareIndex(
        value=value,
        low=max(0.0, value - half),
        high=min(1.0, value + half),
        factors=tuple(out),
    )


# --------------------------------------------------------------------------- MOH


def moh_mean_scores(
    values: Sequence[float], sections: Mapping[str, Sequence[Sequence[int]]]
) -> MohMeanScores:
    """MOH mean score per section and overall (Bộ Y tế 3869/QĐ-BYT).

    Parameters
    ----------
    values : sequence of float
        The scale's level values, e.g. ``[1, 2, 3, 4, 5]``.
    sections : mapping of str to sequence of count rows
        For each section key (A–E), one row of level counts per item, each aligned
        with ``values``.

    Returns
    -------
    MohMeanScores
        Fields ``overall`` and ``sections`` (a tuple of :class:`SectionMean` with
        ``key``, ``mean``, ``items``, ``answers``).

    Raises
    ------
    ValueError
        If the tables are malformed, a section lists no items, or no item has any
        answer.

    Notes
    -----
    Item score mⱼ = Σ_l c_{jl} v_l / Σ_l c_{jl}. Section mean = mean of its items'
    mⱼ; overall = mean of all items' mⱼ over every section (not the mean of the
    section means). Items without answers are left out.

    References
    ----------
    Bộ Y tế, Quyết định 3869/QĐ-BYT (2019), hướng dẫn khảo sát hài lòng người bệnh.

    Examples
    --------
    >>> r = moh_mean_scores([1, 2, 3, 4, 5], {"A": [[0, 0, 0, 5, 5], [0, 0, 5, 5, 0]],
    ...                                      "B": [[0, 0, 0, 0, 10]]})
    >>> r.overall, [(s.key, s.mean, s.items) for s in r.sections]
    (4.333333333333333, [('A', 4.0, 2), ('B', 5.0, 1)])
    """
    v = level_values(values)
    if not isinstance(sections, Mapping) or len(sections) == 0:
        raise ValueError("sections must be a non-empty mapping of section key to items.")
    all_means: list[float] = []
    out: list[SectionMean] = []
    for key, rows in sections.items():
        table = as_count_array(rows, f"section {key!r}", ndim=2)
        if table.shape[0] == 0:
            raise ValueError(f"section {key!r} lists no items.")
        if table.shape[1] != v.size:
            raise ValueError(
                f"section {key!r} rows have {table.shape[1]} counts but values has {v.size}."
            )
        n_item = table.sum(axis=1)
        answered = n_item > 0
        means = (table[answered] @ v) / n_item[answered]
        all_means.extend(float(x) for x in means)
        mean = float(means.mean()) if means.size else math.nan
        out.append(SectionMean(str(key), mean, int(answered.sum()), int(n_item.sum())))
    if not all_means:
        raise ValueError("no item has any answer, so there is no mean score.")
    return MohMeanScores(overall=float(np.mean(all_means)), sections=tuple(out))


def moh_general_satisfaction(
    values: Sequence[float],
    item_counts: Sequence[Sequence[int]],
    satisfied_levels: Iterable[float],
    confidence: float = 0.95,
) -> ShareInterval:
    """MOH general satisfaction rate: satisfied item answers ÷ all item answers.

    Parameters
    ----------
    values : sequence of float
        The scale's level values.
    item_counts : 2-D array of int
        One row of level counts per item (all sections together).
    satisfied_levels : iterable of float
        The satisfied levels, e.g. ``[4, 5]``.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    ShareInterval
        Fields ``share``, ``low``, ``high``, ``n`` (``n`` = number of item answers).

    Raises
    ------
    ValueError
        If the table is malformed or has no answers.

    Notes
    -----
    rate = Σⱼ Σ_{l∈S} c_{jl} / Σⱼ Σ_l c_{jl}, with the Wilson interval over all item
    answers. Answers of one respondent are correlated, so this interval is too narrow
    (about 55–60 % coverage in simulation); the respondent-level interval of the same
    rate is :func:`analysis.respondent.moh_general_rate`.

    References
    ----------
    Bộ Y tế, Quyết định 3869/QĐ-BYT (2019); Wilson (1927).

    Examples
    --------
    >>> r = moh_general_satisfaction([1, 2, 3, 4, 5], [[0, 1, 1, 4, 4], [1, 0, 1, 3, 5]], [4, 5])
    >>> r.share, r.n
    (0.8, 20)
    """
    v = level_values(values)
    table = as_count_array(item_counts, "item_counts", ndim=2)
    if table.shape[1] != v.size:
        raise ValueError(f"item_counts rows have {table.shape[1]} counts but values has {v.size}.")
    mask = satisfied_mask(v, satisfied_levels)
    n = int(table.sum())
    if n == 0:
        raise ValueError("there are no item answers.")
    return wilson_interval(int(table[:, mask].sum()), n, confidence)


def moh_comprehensive_satisfaction(
    all_satisfied: int, respondents: int, confidence: float = 0.95
) -> ShareInterval:
    """MOH comprehensive satisfaction: respondents satisfied with every item they rated.

    Parameters
    ----------
    all_satisfied : int
        Respondents who rated every item they answered at a satisfied level.
    respondents : int
        Respondents who answered at least one item.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    ShareInterval
        Fields ``share``, ``low``, ``high``, ``n``.

    Raises
    ------
    ValueError
        As :func:`wilson_interval`.

    Notes
    -----
    rate = all_satisfied / respondents, Wilson interval. The database counts
    ``all_satisfied`` per respondent (``MIN(value) >= lowest satisfied level`` when the
    satisfied levels are the top levels).

    References
    ----------
    Bộ Y tế, Quyết định 3869/QĐ-BYT (2019); Wilson (1927).

    Examples
    --------
    >>> r = moh_comprehensive_satisfaction(30, 40)
    >>> r.share, round(r.low, 4)
    (0.75, 0.5981)
    """
    return wilson_interval(all_satisfied, respondents, confidence)


def moh_return_rate(
    option_counts: Mapping[str, int], top_options: Iterable[str], confidence: float = 0.95
) -> ShareInterval:
    """MOH return/recommend rate: share choosing one of the top options.

    Parameters
    ----------
    option_counts : mapping of str to int
        Answers per option key of the return question, including "other". An option
        nobody chose may be absent.
    top_options : iterable of str
        The option keys that count as "would return" (the instrument's
        ``return_options``).
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    ShareInterval
        Fields ``share``, ``low``, ``high``, ``n`` (``n`` = answers to the question).

    Raises
    ------
    ValueError
        If ``top_options`` is empty, a count is invalid, or nobody answered.

    Notes
    -----
    rate = Σ_{o ∈ top} c_o / Σ_o c_o, Wilson interval.

    References
    ----------
    Bộ Y tế, Quyết định 3869/QĐ-BYT (2019); Wilson (1927).

    Examples
    --------
    >>> r = moh_return_rate({"surely": 50, "maybe": 30, "no": 15, "other": 5},
    ...                     ["surely", "maybe"])
    >>> r.share, r.n
    (0.8, 100)
    """
    if not isinstance(option_counts, Mapping):
        raise ValueError("option_counts must be a mapping of option key to count.")
    top = set(top_options)
    if not top:
        raise ValueError("top_options must name at least one option.")
    counts = {str(k): as_count(v, f"count of option {k!r}") for k, v in option_counts.items()}
    n = sum(counts.values())
    if n == 0:
        raise ValueError("nobody answered the return question.")
    return wilson_interval(sum(counts.get(str(o), 0) for o in top), n, confidence)


# --------------------------------------------------------------------------- one-stop


def _parse_grades(grades: Sequence[Mapping[str, object]]) -> list[Grade]:
    out: list[Grade] = []
    for i, g in enumerate(grades):
        if not isinstance(g, Mapping):
            raise ValueError(f"grades[{i}] must be a mapping with min, vi and en.")
        if "min" not in g:
            raise ValueError(f"grades[{i}] has no min.")
        strict = g.get("strict", False)
        if not isinstance(strict, bool):
            raise ValueError(f"grades[{i}].strict must be true or false.")
        vi, en = g.get("vi"), g.get("en")
        if not isinstance(vi, str) or not isinstance(en, str):
            raise ValueError(f"grades[{i}] needs text vi and en.")
        out.append(Grade(as_real(g["min"], f"grades[{i}].min"), strict, vi, en))
    for i in range(1, len(out)):
        if out[i].min > out[i - 1].min:
            raise ValueError("grades must be ordered highest first.")
    return out


def grade_for(total: float, grades: Sequence[Mapping[str, object]]) -> Grade | None:
    """The grade band of a (mean) total.

    Parameters
    ----------
    total : float
        The total to grade.
    grades : sequence of mapping
        Bands ``{min, strict (optional, default False), vi, en}``, highest first.

    Returns
    -------
    Grade or None
        The first band with ``total > min`` (strict) or ``total >= min``; None if no
        band applies.

    Raises
    ------
    ValueError
        If a band is malformed or the bands are not ordered highest first.

    Notes
    -----
    Bands are scanned in order; the first satisfied threshold wins, so
    ``[{min: 15, strict: true}, {min: 12}]`` puts 15 itself in the second band.

    References
    ----------
    Nghị định 61/2018/NĐ-CP; Thông tư 01/2018/TT-VPCP (the bands are those of
    provincial software, see INSTRUMENTS.md).

    Examples
    --------
    >>> bands = [{"min": 15, "strict": True, "vi": "Xuất sắc", "en": "Excellent"},
    ...          {"min": 12, "vi": "Tốt", "en": "Good"}]
    >>> grade_for(15, bands).en, grade_for(15.5, bands).en, grade_for(3, bands)
    ('Good', 'Excellent', None)
    """
    t = as_real(total, "total")
    for g in _parse_grades(grades):
        if (t > g.min) if g.strict else (t >= g.min):
            return g
    return None


def one_stop_points(
    values: Sequence[float],
    points: Sequence[float],
    indicator_counts: Sequence[Sequence[int]],
    n: int,
    total_sum: float,
    total_sum_sq: float,
    max_total: float = 18,
    grades: Sequence[Mapping[str, object]] = (),
    confidence: float = 0.95,
) -> OneStopPoints:
    """One-stop evaluation (Nghị định 61/2018): indicator points, mean total, grade.

    Parameters
    ----------
    values : sequence of float
        The scale's level values (e.g. ``[1, 2, 3]``).
    points : sequence of float
        Points for each level, aligned with ``values`` (e.g. ``[0, 1, 2]``).
    indicator_counts : 2-D array of int
        One row of level counts per indicator.
    n : int
        Number of respondents (one total each).
    total_sum, total_sum_sq : float
        Σ of the respondents' totals and Σ of their squares.
    max_total : float, optional
        Highest possible total, default 18 (9 indicators × 2 points).
    grades : sequence of mapping, optional
        Bands for :func:`grade_for`; empty means no grade.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    OneStopPoints
        Fields ``indicators``, ``mean_total``, ``low``, ``high``, ``sd``, ``n``,
        ``max_total``, ``grade``.

    Raises
    ------
    ValueError
        If the tables are malformed, points are negative, n is 0, the moments are
        inconsistent, or the mean total exceeds ``max_total``.

    Notes
    -----
    Indicator mean points = Σ_l c_l·pts_l / Σ_l c_l. A respondent's total Tᵣ is the sum of
    points over the indicators they answered; mean total T̄ = ΣTᵣ/n with the t interval
    T̄ ± t_{n−1}·s/√n, s² = (nΣTᵣ² − (ΣTᵣ)²)/(n(n − 1)), clipped to [0, max_total].
    The grade is that of T̄ (its interval may straddle bands).

    References
    ----------
    Nghị định 61/2018/NĐ-CP; Thông tư 01/2018/TT-VPCP.

    Examples
    --------
    >>> bands = [{"min": 15, "strict": True, "vi": "Xuất sắc", "en": "Excellent"},
    ...          {"min": 12, "vi": "Tốt", "en": "Good"}]
    >>> r = one_stop_points([1, 2, 3], [0, 1, 2], [[0, 2, 8], [1, 1, 8]],
    ...                     n=10, total_sum=160, total_sum_sq=2600, grades=bands)
    >>> r.indicators, r.mean_total, r.grade.vi
    ((1.8, 1.7), 16.0, 'Xuất sắc')
    """
    c = check_confidence(confidence)
    v = level_values(values)
    pts = as_real_array(list(points) if not isinstance(points, np.ndarray) else points, "points")
    if pts.size != v.size:
        raise ValueError(f"points has {pts.size} entries but values has {v.size}.")
    if np.any(pts < 0):
        raise ValueError("points must not be negative.")
    table = as_count_array(indicator_counts, "indicator_counts", ndim=2)
    if table.shape[1] != v.size:
        raise ValueError(
            f"indicator_counts rows have {table.shape[1]} counts but values has {v.size}."
        )
    mx = as_real(max_total, "max_total")
    if mx <= 0:
        raise ValueError("max_total must be positive.")
    parsed = _parse_grades(grades)
    answers = table.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ind = np.where(answers > 0, (table @ pts) / np.maximum(answers, 1), np.nan)
    m = mean_from_moments(n, total_sum, total_sum_sq, c)
    if m.mean > mx + 1e-9 or m.mean < 0:
        raise ValueError(f"the mean total {m.mean} is outside 0..max_total ({mx}).")
    grade = None
    for g in parsed:
        if (m.mean > g.min) if g.strict else (m.mean >= g.min):
            grade = g
            break
    low = m.low if math.isnan(m.low) else max(0.0, m.low)
    high = m.high if math.isnan(m.high) else min(mx, m.high)
    return OneStopPoints(
        indicators=tuple(float(x) for x in ind),
        mean_total=m.mean,
        low=low,
        high=high,
        sd=m.sd,
        n=m.n,
        max_total=mx,
        grade=grade,
    )
