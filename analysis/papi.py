"""The PAPI mirror: satisfied-share factor indexes shown on a declared range (PAPI's 1–10).

An instrument whose ``[scoring]`` says ``rescale = { min, max, total }`` (``surveys/README.md``)
is scored as any ``satisfied_share`` instrument — a criterion's share of favourable answers,
a factor's index the mean of its criteria's shares, the overall index the mean of the
factors' — and each factor's index p is then *shown* as ``min + (max − min) × p``. For the
``papi-mirror`` instrument that puts each of PAPI's eight dimensions on 1–10 (1: no household
gave a favourable answer, 10: every household did) and, with ``total = "sum"``, the total on
8–80 (the sum of the eight).

What is estimated, and its sampling unit. A dimension's score estimates ``min + (max − min) ×
I_f`` for the population the respondents were drawn from (the households that answered the
campaign), where I_f is the mean over the dimension's questions of the share of favourable
answers; the sampling unit is the respondent (one household's answers are one observation).
It is the same estimator as the report's factor index (:func:`analysis.respondent.share_index`),
changed in unit only: a linear map sends the point estimate, the standard error and the
confidence limits (Wilson at the df-adjusted effective sample size) to the new scale, and the
change between two rounds is :func:`analysis.respondent.index_change` of the shares, rescaled
(its p-value unchanged). No new variance formula is introduced; the tests check the
rescaled numbers against a linearization written out independently in numpy and by a
coverage simulation on correlated household answers.

This is not PAPI's own computation: PAPI aggregates its own indicators into sub-dimensions
with its own weights, from a national random sample; see the methods note of the mirror's
report page.

Pure functions; numpy only through :mod:`analysis.respondent`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from . import respondent as rl

__all__ = ["Rescale", "RescaledEstimate", "MirrorScores", "RescaledChange", "PublishedGap", "rescale_of",
           "mirror_scores", "mirror_change", "published_gaps"]

_NAN = float("nan")


@dataclass(frozen=True)
class Rescale:
    """A declared range for the shares of an instrument.

    Attributes
    ----------
    min, max : float
        What a share of 0 and of 1 become.
    total : str
        ``"sum"``: the overall figure is the sum of the rescaled factors (from F × min to
        F × max); ``"mean"``: their mean (from min to max).
    """

    min: float
    max: float
    total: str = "mean"

    @property
    def span(self) -> float:
        """max − min: what one unit of share is worth on the new scale."""
        return float(self.max) - float(self.min)

    def total_range(self, factors: int) -> tuple[float, float]:
        """The lowest and highest overall figure for ``factors`` factors."""
        if self.total == "sum":
            return (factors * float(self.min), factors * float(self.max))
        return (float(self.min), float(self.max))


@dataclass(frozen=True)
class RescaledEstimate:
    """A share estimate shown on the declared range.

    Attributes
    ----------
    key : str or None
        The factor's key (``None`` for the overall figure).
    value, low, high : float
        Point estimate and confidence limits on the new scale (``nan`` when unknown).
    se : float
        Standard error on the new scale (``nan`` when n < 2).
    n : int
        Respondents behind it.
    criteria : int
        Criteria with at least one answer (all of the factors' for the overall figure).
    share : analysis.respondent.Estimate
        The underlying share estimate (0–1), for change tests.
    """

    key: str | None
    value: float
    low: float
    high: float
    se: float
    n: int
    criteria: int
    share: rl.Estimate


@dataclass(frozen=True)
class MirrorScores:
    """Every factor (dimension) and the overall figure of one round, on the declared range.

    Attributes
    ----------
    dimensions : tuple of RescaledEstimate
        One per factor, in the instrument's order (``value`` ``nan`` when nobody answered it).
    total : RescaledEstimate or None
        The overall figure: the sum (or mean) of the rescaled factors; ``None`` for a sum
        when some factor has no answer (a sum over fewer factors is not on the same range).
    total_range : tuple of float
        The lowest and highest possible overall figure.
    rescale : Rescale
        The range used.
    n : int
        Respondents.
    """

    dimensions: tuple[RescaledEstimate, ...]
    total: RescaledEstimate | None
    total_range: tuple[float, float]
    rescale: Rescale
    n: int


@dataclass(frozen=True)
class RescaledChange:
    """Change of a rescaled figure from one round to the next (different respondents).

    Attributes
    ----------
    key : str or None
        The factor's key (``None`` for the overall figure).
    before, after, difference, low, high, se : float
        On the new scale: the two rounds' values, after − before, its confidence limits
        and standard error.
    p : float
        Two-sided p-value of no change (the same as for the shares).
    """

    key: str | None
    before: float
    after: float
    difference: float
    low: float
    high: float
    se: float
    p: float


@dataclass(frozen=True)
class PublishedGap:
    """The mirror's score beside a published score of the same dimension.

    Attributes
    ----------
    key : str
        The dimension's key.
    mirror, low, high : float
        The mirror's score and its interval (``nan`` when unknown).
    published : float
        The published score.
    difference : float
        mirror − published (``nan`` when the mirror has no score).
    position : str
        ``"above"`` when the whole interval lies above the published score, ``"below"``
        when it lies below it, ``"within"`` when the interval holds it, ``"unknown"``
        without an interval.
    """

    key: str
    mirror: float
    low: float
    high: float
    published: float
    difference: float
    position: str


def rescale_of(definition: Mapping[str, Any]) -> Rescale | None:
    """The declared range of an instrument definition, or ``None`` when it declares none.

    Parameters
    ----------
    definition : mapping
        A validated instrument definition (the JSON snapshot of a ``surveys/*.toml`` file).

    Returns
    -------
    Rescale or None
        ``Rescale(min, max, total)`` from ``scoring.rescale``.

    Raises
    ------
    ValueError
        If ``scoring.rescale`` is present but not a range with min < max and total
        ``"sum"`` or ``"mean"``.

    Notes
    -----
    Only ``satisfied_share`` instruments carry a range (the loader checks it).

    References
    ----------
    ``surveys/README.md``, "Scoring methods".

    Examples
    --------
    >>> rescale_of({"scoring": {"method": "satisfied_share", "rescale": {"min": 1, "max": 10, "total": "sum"}}})
    Rescale(min=1, max=10, total='sum')
    >>> rescale_of({"scoring": {"method": "satisfied_share"}}) is None
    True
    """
    raw = (definition.get("scoring") or {}).get("rescale")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError("scoring.rescale must be a table with min, max and total.")
    lo, hi, total = raw.get("min"), raw.get("max"), raw.get("total", "mean")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lo, hi)):
        raise ValueError("scoring.rescale needs numbers min and max.")
    if not lo < hi:
        raise ValueError("scoring.rescale: max must be larger than min.")
    if total not in ("sum", "mean"):
        raise ValueError("scoring.rescale: total must be 'sum' or 'mean'.")
    return Rescale(lo, hi, total)


def _map(est: rl.Estimate, offset: float, factor: float) -> tuple[float, float, float, float]:
    """(value, low, high, se) of ``offset + factor × est``."""
    def f(x: float) -> float:
        return offset + factor * x if x == x else _NAN

    se = factor * est.se if est.se == est.se else _NAN
    return f(est.value), f(est.low), f(est.high), se


def mirror_scores(moments: rl.Moments, layout: rl.FeatureLayout, factors: Mapping[str, Sequence[str]],
                  rescale: Rescale, confidence: float = 0.95) -> MirrorScores:
    """The factors and the overall figure of one round on the declared range.

    Parameters
    ----------
    moments : analysis.respondent.Moments
        The round's respondent feature moments (whole months of one campaign, say).
    layout : analysis.respondent.FeatureLayout
        The instrument's feature layout.
    factors : mapping of str to sequence of str
        Factor key → its scored item keys, in order (``Scoring.factors``).
    rescale : Rescale
        The declared range (:func:`rescale_of`).
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    MirrorScores
        Fields ``dimensions``, ``total``, ``total_range``, ``rescale``, ``n``.

    Raises
    ------
    ValueError
        If there are no factors, no criterion has an answer, or the moments do not fit
        the layout (as :func:`analysis.respondent.share_index`).

    Notes
    -----
    With I_f the factor's satisfied-share index and I = (1/F) Σ I_f the overall index
    (:func:`analysis.respondent.share_index`, respondent-level linearized variance,
    Wilson limits at the df-adjusted effective sample size), a factor is shown as
    S_f = a + b·I_f with a = min, b = max − min, so se(S_f) = b·se(I_f) and the limits
    are a + b·low, a + b·high. The overall figure is Σ S_f = F·a + F·b·I for
    ``total = "sum"`` (given only when all F factors have answers, so that I is the mean
    of all of them) and a + b·I for ``"mean"``. A linear map keeps the coverage of the
    shares' intervals exactly.

    References
    ----------
    K. M. Wolter, *Introduction to Variance Estimation*, 2nd ed., Springer, 2007, ch. 6
    (linearization); E. L. Korn and B. I. Graubard, "Confidence intervals for proportions
    with small expected number of positive counts estimated from survey data", *Survey
    Methodology* 24 (1998) 193–201.

    Examples
    --------
    >>> from analysis.instrument import scoring_of
    >>> d = {"key": "x", "scales": {"yn": {"levels": [{"value": 1}, {"value": 2}], "satisfied": [2]}},
    ...      "factors": [{"key": "a"}, {"key": "b"}],
    ...      "questions": [{"key": "q1", "type": "scale", "scale": "yn", "factor": "a"},
    ...                    {"key": "q2", "type": "scale", "scale": "yn", "factor": "b"}],
    ...      "scoring": {"method": "satisfied_share", "rescale": {"min": 1, "max": 10, "total": "sum"}}}
    >>> s = scoring_of(d)
    >>> layout = rl.feature_layout(s)
    >>> rows = [rl.respondent_features(s, [("q1", a, None), ("q2", b, None)])
    ...         for a, b in [(2, 2), (2, 1), (1, 1), (2, 2)]]
    >>> out = mirror_scores(rl.Moments.of(rows), layout, s.factors, rescale_of(d))
    >>> [round(x.value, 2) for x in out.dimensions], round(out.total.value, 2), out.total_range
    ([7.75, 5.5], 13.25, (2.0, 20.0))
    """
    if not factors:
        raise ValueError("The PAPI mirror needs factors (dimensions) to rescale.")
    index = rl.share_index(moments, layout, factors, confidence)
    a, b = float(rescale.min), rescale.span
    dims = []
    for f in index.factors:
        value, low, high, se = _map(f, a, b)
        dims.append(RescaledEstimate(f.key, value, low, high, se, f.n, f.criteria, f))
    count = len(dims)
    total = None
    complete = all(f.criteria > 0 for f in index.factors)
    if rescale.total == "mean" or complete:
        offset, factor = (count * a, count * b) if rescale.total == "sum" else (a, b)
        value, low, high, se = _map(index, offset, factor)
        total = RescaledEstimate(None, value, low, high, se, index.n, sum(f.criteria for f in index.factors), index)
    return MirrorScores(tuple(dims), total, rescale.total_range(count), rescale, index.n)


def _change(key: str | None, a: RescaledEstimate | None, b: RescaledEstimate | None, factor: float,
            confidence: float) -> RescaledChange | None:
    if a is None or b is None or a.n < 2 or b.n < 2:
        return None
    if not all(math.isfinite(x) for x in (a.share.value, b.share.value, a.share.se, b.share.se)):
        return None
    ch = rl.index_change(a.share, b.share, confidence)
    return RescaledChange(key, a.value, b.value, factor * ch.difference, factor * ch.low,
                          factor * ch.high, factor * ch.se, ch.p)


def mirror_change(before: MirrorScores, after: MirrorScores, confidence: float = 0.95
                  ) -> tuple[dict[str, RescaledChange | None], RescaledChange | None]:
    """The change of every dimension and of the total from one round to the next.

    Parameters
    ----------
    before, after : MirrorScores
        Two rounds of the same instrument, with different respondents (two campaigns).
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    tuple
        (dimension key → :class:`RescaledChange` or ``None``, the total's change or
        ``None``). ``None`` where either round has fewer than 2 respondents or no value.

    Raises
    ------
    ValueError
        If the two rounds are not on the same range.

    Notes
    -----
    :func:`analysis.respondent.index_change` on the shares (Welch interval with
    Satterthwaite df; score test with the per-respondent score variances pooled), times
    b = max − min for a dimension, F·b for a summed total, b for a mean total. The
    p-value is that of the shares.

    References
    ----------
    K. M. Wolter, *Introduction to Variance Estimation*, 2nd ed., Springer, 2007, ch. 6;
    F. E. Satterthwaite, "An approximate distribution of estimates of variance
    components", *Biometrics Bulletin* 2 (1946) 110–114.

    Examples
    --------
    >>> from analysis.instrument import scoring_of
    >>> d = {"key": "x", "scales": {"yn": {"levels": [{"value": 1}, {"value": 2}], "satisfied": [2]}},
    ...      "factors": [{"key": "a"}], "questions": [{"key": "q1", "type": "scale", "scale": "yn", "factor": "a"}],
    ...      "scoring": {"method": "satisfied_share", "rescale": {"min": 1, "max": 10}}}
    >>> s = scoring_of(d); layout = rl.feature_layout(s); r = rescale_of(d)
    >>> def round_of(values):
    ...     rows = [rl.respondent_features(s, [("q1", v, None)]) for v in values]
    ...     return mirror_scores(rl.Moments.of(rows), layout, s.factors, r)
    >>> dims, total = mirror_change(round_of([1, 1, 2, 2]), round_of([2, 2, 2, 1]))
    >>> round(dims["a"].difference, 2), round(total.difference, 2)
    (2.25, 2.25)
    """
    if before.rescale != after.rescale or len(before.dimensions) != len(after.dimensions):
        raise ValueError("Both rounds must be scored on the same range with the same dimensions.")
    b = before.rescale.span
    prior = {d.key: d for d in before.dimensions}
    dims = {d.key: _change(d.key, prior.get(d.key), d, b, confidence) for d in after.dimensions}
    factor = b * len(after.dimensions) if after.rescale.total == "sum" else b
    return dims, _change(None, before.total, after.total, factor, confidence)


def published_gaps(scores: MirrorScores, published: Mapping[str, float]) -> list[PublishedGap]:
    """Each dimension's mirror score beside the published score of the same key.

    Parameters
    ----------
    scores : MirrorScores
        One round of the mirror.
    published : mapping of str to float
        Dimension key → the published score (e.g. the province's PAPI score, 1–10).
        Keys without a mirror dimension are ignored.

    Returns
    -------
    list of PublishedGap
        One per dimension that has a published score, in the mirror's order.

    Raises
    ------
    ValueError
        If a published score is not a finite number.

    Notes
    -----
    difference = S_f − P_f. ``position`` only says where the published number lies
    relative to the mirror's confidence interval: it treats the published score as a
    fixed reference (its own sampling error, and the difference between the two
    surveys' questions and samples, are not part of the interval), so "above" reads as
    "residents of this ward answered more favourably than the province's score would
    suggest", not as a test that the ward's PAPI score is higher.

    References
    ----------
    CECODES, VFF-CRT and UNDP, *The Viet Nam Provincial Governance and Public
    Administration Performance Index (PAPI)*, yearly reports (the published scores).

    Examples
    --------
    >>> from analysis.instrument import scoring_of
    >>> d = {"key": "x", "scales": {"yn": {"levels": [{"value": 1}, {"value": 2}], "satisfied": [2]}},
    ...      "factors": [{"key": "a"}], "questions": [{"key": "q1", "type": "scale", "scale": "yn", "factor": "a"}],
    ...      "scoring": {"method": "satisfied_share", "rescale": {"min": 1, "max": 10}}}
    >>> s = scoring_of(d)
    >>> rows = [rl.respondent_features(s, [("q1", 2, None)])] * 30 + [rl.respondent_features(s, [("q1", 1, None)])] * 10
    >>> out = mirror_scores(rl.Moments.of(rows), rl.feature_layout(s), s.factors, rescale_of(d))
    >>> [(g.key, round(g.difference, 2), g.position) for g in published_gaps(out, {"a": 5.0})]
    [('a', 2.75, 'above')]
    """
    out = []
    for d in scores.dimensions:
        if d.key not in published:
            continue
        p = published[d.key]
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not math.isfinite(p):
            raise ValueError(f"The published score of {d.key!r} must be a finite number.")
        p = float(p)
        if math.isfinite(d.low) and math.isfinite(d.high):
            position = "above" if d.low > p else "below" if d.high < p else "within"
        else:
            position = "unknown"
        out.append(PublishedGap(d.key, d.value, d.low, d.high, p, d.value - p if d.value == d.value else _NAN,
                                position))
    return out
