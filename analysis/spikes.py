"""A spike of negative responses in one day against the unit's usual daily rate.

Functions
---------
daily_spike
    One-sided exact test: is the share of negative responses of the last day higher than
    in the days before it?
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import hypergeom

__all__ = ["SpikeTest", "daily_spike"]


@dataclass(frozen=True)
class SpikeTest:
    """Result of :func:`daily_spike`.

    Attributes
    ----------
    enough : bool
        Both the day and the baseline have at least ``min_n`` responses.
    negative, n : int
        Negative responses and responses of the day.
    baseline_negative, baseline_n : int
        The same over the baseline days.
    share, baseline_share : float or None
        negative / n and baseline_negative / baseline_n (``None`` when a count is 0).
    expected : float or None
        n × baseline_share: the negative responses a usual day of this size has.
    p : float or None
        One-sided p-value (``None`` when not ``enough``).
    spike : bool
        ``enough`` and p < alpha.
    alpha : float
        The level of the test.
    """

    enough: bool
    negative: int
    n: int
    baseline_negative: int
    baseline_n: int
    share: float | None
    baseline_share: float | None
    expected: float | None
    p: float | None
    spike: bool
    alpha: float


def _count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of 0 or more, not {value!r}")
    return value


def daily_spike(negative: int, n: int, baseline_negative: int, baseline_n: int, *, alpha: float = 0.01,
                min_n: int = 10) -> SpikeTest:
    """Test whether the day's share of negative responses exceeds the baseline's.

    Parameters
    ----------
    negative, n : int
        Negative responses and all responses of the day tested.
    baseline_negative, baseline_n : int
        The same summed over the baseline (for alerts: the 28 days before).
    alpha : float, default 0.01
        Level of the one-sided test, 0 < alpha < 1.
    min_n : int, default 10
        Fewest responses the day and the baseline each need (the report's low-n
        threshold); below it the result is ``enough=False`` and never a spike.

    Returns
    -------
    SpikeTest
        See the class for the fields.

    Raises
    ------
    ValueError
        A count that is negative or not whole, more negative than responses, or alpha
        outside (0, 1).

    Notes
    -----
    Under "no change" the day and the baseline share one probability π that a response
    is negative. Conditional on the negatives of both together, K = x + X, the day's
    count x is hypergeometric: of the N + n responses, K negative, n drawn. The p-value is
    the upper tail P(H ≥ x) — Fisher's exact test, one-sided. It does not need π, and
    estimating π from the baseline costs it nothing: conditioning removes it, so the false
    alarm rate is at most ``alpha`` on every stable day whatever its size (conservative:
    the discreteness makes it lower). A naive binomial test against the estimated rate
    x ~ Bin(n, X/N) ignores the error of X/N and alarms more often than ``alpha``.

    The sampling unit is the respondent (one response, negative or not), never the
    answer: a respondent's answers are correlated, and counting them as independent
    would alarm far too often.

    References
    ----------
    Fisher, R. A. (1935). The logic of inductive inference. JRSS 98(1), 39–82.
    Agresti, A. (2013). Categorical Data Analysis, 3rd ed., §3.5 (exact conditional tests).

    Examples
    --------
    >>> r = daily_spike(12, 30, 140, 840)
    >>> r.spike, round(r.expected, 1), round(r.p, 5)
    (True, 5.0, 0.00257)
    >>> daily_spike(3, 5, 140, 840).enough
    False
    """
    negative, n = _count("negative", negative), _count("n", n)
    baseline_negative, baseline_n = _count("baseline_negative", baseline_negative), _count("baseline_n", baseline_n)
    if negative > n or baseline_negative > baseline_n:
        raise ValueError("negative responses cannot outnumber responses")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be between 0 and 1, not {alpha!r}")
    share = negative / n if n else None
    base = baseline_negative / baseline_n if baseline_n else None
    expected = n * base if base is not None else None
    enough = n >= min_n and baseline_n >= min_n
    p = None
    if enough:
        total, successes = n + baseline_n, negative + baseline_negative
        p = float(hypergeom.sf(negative - 1, total, successes, n))
    return SpikeTest(enough=enough, negative=negative, n=n, baseline_negative=baseline_negative,
                     baseline_n=baseline_n, share=share, baseline_share=base, expected=expected, p=p,
                     spike=bool(enough and p is not None and p < alpha), alpha=float(alpha))
