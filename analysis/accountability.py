"""Accountability figures for petitions: answered, answered on time, time to answer.

Pure functions over one array per petition of the day it was received, the day it was
answered (or nothing) and its due day. Days are local calendar dates
(``datetime.date``, ``numpy.datetime64`` or ISO strings). Working days are Monday to
Friday minus the ``holidays`` the caller passes (its holiday calendar), plus the weekend
days it names as worked (``weekend_workdays``, government day swaps).

Functions
---------
working_days_to_answer
    Working days from receipt to answer, for each answered petition.
accountability_figures
    Counts, the on-time share with its Wilson interval, median and 90th percentile of
    working days to answer, open and overdue petitions.
suppress_figures
    Which of those figures a public page must withhold (cells below 10).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._common import check_confidence
from .scores import wilson_interval
from .suppress import DEFAULT_THRESHOLD, suppress_table

__all__ = [
    "AccountabilityFigures",
    "FigureSuppression",
    "accountability_figures",
    "suppress_figures",
    "working_days_to_answer",
]


@dataclass(frozen=True)
class AccountabilityFigures:
    """Figures for one group of petitions (a unit and a period).

    Attributes
    ----------
    received : int
        Petitions in the group.
    answered : int
        Answered on or before ``as_of``.
    answered_on_time : int
        Answered on or before their due day.
    answered_late : int
        Answered after their due day.
    open : int
        Not answered by ``as_of``.
    overdue_open : int
        Open, and ``as_of`` is after their due day.
    decided : int
        ``answered + overdue_open``: petitions whose timeliness is known (the on-time
        share's denominator; open ones still within their limit are left out).
    on_time_share, on_time_low, on_time_high : float
        ``answered_on_time / decided`` with its Wilson interval; ``nan`` when
        ``decided`` is 0.
    median_days : float
        Median working days to answer over answered petitions; ``nan`` if none.
    p90_days : float
        90th percentile (nearest rank) of working days to answer; ``nan`` if none.
    """

    received: int
    answered: int
    answered_on_time: int
    answered_late: int
    open: int
    overdue_open: int
    decided: int
    on_time_share: float
    on_time_low: float
    on_time_high: float
    median_days: float
    p90_days: float


@dataclass(frozen=True)
class FigureSuppression:
    """Which figures a public table withholds (True = withhold).

    Attributes
    ----------
    received, answered, answered_on_time, open, overdue_open : bool
        The counts of :class:`AccountabilityFigures` with the same names.
    on_time_share : bool
        The share and its interval (withheld when any count it is made of is).
    days : bool
        Median and 90th percentile of working days (withheld with ``answered``).
    """

    received: bool
    answered: bool
    answered_on_time: bool
    open: bool
    overdue_open: bool
    on_time_share: bool
    days: bool


def _days(values: object, name: str, allow_missing: bool) -> np.ndarray:
    items = list(values) if not isinstance(values, np.ndarray) else values.tolist()
    try:
        arr = np.array([np.datetime64("NaT") if v is None else v for v in items], dtype="datetime64[D]")
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold dates (datetime.date, numpy.datetime64 or 'YYYY-MM-DD').") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional.")
    if not allow_missing and np.isnat(arr).any():
        raise ValueError(f"{name} must not contain missing dates.")
    return arr


class _Calendar:
    """Holidays and weekend working days, checked once."""

    def __init__(self, holidays: object, weekend_workdays: object):
        self.holidays = _days(holidays, "holidays", allow_missing=False)
        self.extra = np.unique(_days(weekend_workdays, "weekend_workdays", allow_missing=False))
        if self.extra.size and np.any(np.is_busday(self.extra)):
            raise ValueError("weekend_workdays must be Saturdays or Sundays.")

    def elapsed(self, received: np.ndarray, answered: np.ndarray) -> np.ndarray:
        """Working days in (received, answered] for each pair (no missing values here)."""
        one = np.timedelta64(1, "D")
        weekdays = np.busday_count(received + one, answered + one, holidays=self.holidays)
        worked = (np.searchsorted(self.extra, answered, side="right")
                  - np.searchsorted(self.extra, received, side="right"))
        return (weekdays + worked).astype(np.int64)


def working_days_to_answer(
    received: Sequence[object], answered: Sequence[object], *, holidays: Sequence[object] = (),
    weekend_workdays: Sequence[object] = (),
) -> np.ndarray:
    """Working days each answered petition took.

    Parameters
    ----------
    received : sequence of dates
        Day of receipt of each petition.
    answered : sequence of dates or None
        Day of the answer, ``None`` (or NaT) for petitions not answered; these are left
        out of the result.
    holidays : sequence of dates, optional
        Days off besides Saturdays and Sundays (public holidays, days in lieu, swapped
        days off), e.g. from the service's holiday calendar.
    weekend_workdays : sequence of dates, optional
        Saturdays or Sundays worked instead (làm bù).

    Returns
    -------
    numpy.ndarray of int
        One value per answered petition, in input order.

    Raises
    ------
    ValueError
        If the arrays differ in length, hold something other than dates, an answer
        precedes its receipt, or a weekend working day is not a Saturday or Sunday.

    Notes
    -----
    With W the working days (Monday–Friday minus ``holidays``, plus
    ``weekend_workdays``), the time to answer is

    .. math:: d = |\\{w \\in W : r < w \\le a\\}|

    so an answer on the day of receipt takes 0 days and an answer on the due day of an
    ``n``-day limit (counted from the next working day after receipt) takes ``n``.

    References
    ----------
    Luật Tiếp công dân 2013 and Nghị định 61/2018/NĐ-CP count time limits for
    answering citizens in working days (ngày làm việc).

    Examples
    --------
    >>> working_days_to_answer(["2026-03-06", "2026-03-06"], ["2026-03-06", "2026-03-09"]).tolist()
    [0, 1]
    """
    r = _days(received, "received", allow_missing=False)
    a = _days(answered, "answered", allow_missing=True)
    if r.shape != a.shape:
        raise ValueError("received and answered must have the same length.")
    done = ~np.isnat(a)
    if np.any(a[done] < r[done]):
        raise ValueError("an answer cannot come before its petition was received.")
    return _Calendar(holidays, weekend_workdays).elapsed(r[done], a[done])


def accountability_figures(
    received: Sequence[object],
    answered: Sequence[object],
    due: Sequence[object],
    *,
    as_of: object,
    holidays: Sequence[object] = (),
    weekend_workdays: Sequence[object] = (),
    confidence: float = 0.95,
) -> AccountabilityFigures:
    """Received, answered, answered on time, time to answer, and overdue petitions.

    Parameters
    ----------
    received : sequence of dates
        Day each petition was received.
    answered : sequence of dates or None
        Day of its (first published) answer, or ``None`` if not answered.
    due : sequence of dates
        Last day of its legal time limit.
    as_of : date
        The day the figures describe: answers after it count as not (yet) given.
    holidays : sequence of dates, optional
        Days off besides weekends (see :func:`working_days_to_answer`).
    weekend_workdays : sequence of dates, optional
        Saturdays or Sundays worked instead.
    confidence : float, optional
        Level of the Wilson interval, default 0.95.

    Returns
    -------
    AccountabilityFigures
        Fields ``received, answered, answered_on_time, answered_late, open,
        overdue_open, decided, on_time_share, on_time_low, on_time_high, median_days,
        p90_days``.

    Raises
    ------
    ValueError
        If the arrays differ in length or hold something other than dates, a due day or
        an answer precedes its receipt, a weekend working day is not a weekend day, or
        the confidence is not in (0, 1).

    Notes
    -----
    For petition i with receipt rᵢ, answer aᵢ (missing if none by ``as_of`` = t) and due
    day uᵢ:

    * answered on time: aᵢ ≤ uᵢ; late: aᵢ > uᵢ (calendar days; the whole due day counts);
    * overdue open: aᵢ missing and t > uᵢ;
    * decided = answered + overdue open; the on-time share is on-time ÷ decided with the
      Wilson score interval (``analysis.scores.wilson_interval``). Open petitions still
      within their limit cannot be judged yet and are left out of it;
    * time to answer dᵢ = number of working days w with rᵢ < w ≤ aᵢ
      (:func:`working_days_to_answer`); the median is the usual one (mean of the two
      middle values for an even count), the 90th percentile the nearest rank
      d₍⌈0.9·n⌉₎ of the sorted values, an observed whole number of days.

    References
    ----------
    E. B. Wilson, "Probable inference, the law of succession, and statistical
    inference", J. Am. Stat. Assoc. 22 (1927) 209–212. R. J. Hyndman, Y. Fan, "Sample
    quantiles in statistical packages", Am. Stat. 50 (1996) 361–365 (definition 1, the
    inverted empirical distribution function).

    Examples
    --------
    >>> f = accountability_figures(
    ...     ["2026-03-02", "2026-03-02", "2026-03-02"],
    ...     ["2026-03-04", "2026-03-20", None],
    ...     ["2026-03-16", "2026-03-16", "2026-03-16"], as_of="2026-03-31")
    >>> f.answered, f.answered_on_time, f.overdue_open, f.decided
    (2, 1, 1, 3)
    >>> round(f.on_time_share, 3), f.median_days, f.p90_days
    (0.333, 8.0, 14.0)
    """
    c = check_confidence(confidence)
    r = _days(received, "received", allow_missing=False)
    a = _days(answered, "answered", allow_missing=True)
    u = _days(due, "due", allow_missing=False)
    if not (r.shape == a.shape == u.shape):
        raise ValueError("received, answered and due must have the same length.")
    t = _days([as_of], "as_of", allow_missing=False)[0]
    if np.any(u < r):
        raise ValueError("a due day cannot come before its petition was received.")
    given = ~np.isnat(a)
    if np.any(a[given] < r[given]):
        raise ValueError("an answer cannot come before its petition was received.")
    # An answer after as_of was not given yet on that day.
    done = given & (np.where(given, a, t) <= t)
    on_time = done & (np.where(done, a, u) <= u)
    overdue = ~done & (t > u)
    n_done, n_on_time, n_overdue = int(done.sum()), int(on_time.sum()), int(overdue.sum())
    decided = n_done + n_overdue
    if decided:
        w = wilson_interval(n_on_time, decided, c)
        share, low, high = w.share, w.low, w.high
    else:
        share = low = high = math.nan
    elapsed = _Calendar(holidays, weekend_workdays).elapsed(r[done], a[done])
    if elapsed.size:
        median = float(np.median(elapsed))
        p90 = float(np.sort(elapsed)[math.ceil(0.9 * elapsed.size) - 1])
    else:
        median = p90 = math.nan
    return AccountabilityFigures(
        received=int(r.size), answered=n_done, answered_on_time=n_on_time, answered_late=n_done - n_on_time,
        open=int(r.size) - n_done, overdue_open=n_overdue, decided=decided,
        on_time_share=share, on_time_low=low, on_time_high=high, median_days=median, p90_days=p90,
    )


def suppress_figures(figures: AccountabilityFigures, threshold: int = DEFAULT_THRESHOLD) -> FigureSuppression:
    """Which accountability figures a public page must withhold.

    Parameters
    ----------
    figures : AccountabilityFigures
        The figures of one unit and period.
    threshold : int, optional
        Counts below this are withheld, default 10 (as for satisfaction figures).

    Returns
    -------
    FigureSuppression
        Fields ``received, answered, answered_on_time, open, overdue_open,
        on_time_share, days``.

    Raises
    ------
    ValueError
        If the threshold is below 1.

    Notes
    -----
    The counts partition the petitions as a 2 × 2 table
    [[on time, late], [open within the limit, overdue]] whose row totals are
    ``answered`` and ``open`` and whose grand total is ``received``; a published count
    can be subtracted from another, so the table goes through
    :func:`analysis.suppress.suppress_table` (primary cells below the threshold,
    secondary suppression so no withheld cell can be recovered). Zeros are published
    (``withhold_zeros=False``): "no petition was overdue" says nothing about a person.
    The on-time share is withheld when any of on time, late or overdue is; the median
    and 90th percentile of days are withheld with ``answered``.

    References
    ----------
    A. Hundepool et al., Statistical Disclosure Control, Wiley, 2012, ch. 4.

    Examples
    --------
    >>> f = accountability_figures(["2026-03-02"] * 12, ["2026-03-03"] * 12, ["2026-03-16"] * 12,
    ...                            as_of="2026-03-31")
    >>> s = suppress_figures(f)
    >>> s.received, s.answered_on_time, s.overdue_open, s.on_time_share
    (False, False, False, False)
    >>> suppress_figures(accountability_figures(["2026-03-02"], [None], ["2026-03-16"],
    ...                                         as_of="2026-03-31")).overdue_open
    True
    """
    f = figures
    open_in_time = f.open - f.overdue_open
    table = [[f.answered_on_time, f.answered_late], [open_in_time, f.overdue_open]]
    m = suppress_table(table, threshold=threshold, withhold_zeros=False)
    cells = m.cells
    share = bool(cells[0, 0] or cells[0, 1] or cells[1, 1])
    return FigureSuppression(
        received=bool(m.grand_total), answered=bool(m.row_totals[0]), answered_on_time=bool(cells[0, 0]),
        open=bool(m.row_totals[1]), overdue_open=bool(cells[1, 1]), on_time_share=share,
        days=bool(m.row_totals[0]),
    )
