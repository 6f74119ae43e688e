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
portal_petition_satisfaction
    The national portal's petition-satisfaction figure (Quyết định 766/QĐ-TTg): petitions
    less those the public disliked more than liked, overdue or repeated, each once.
stage_on_time_shares
    The on-time share of each stage clock (refuse, info, resolve, publish) by the
    portal's working-day limits, from each petition's clock states.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._common import check_confidence
from .scores import wilson_interval
from .suppress import DEFAULT_THRESHOLD, suppress_table

__all__ = [
    "AccountabilityFigures",
    "FigureSuppression",
    "PortalPetitionFigures",
    "STAGES",
    "StageOnTime",
    "accountability_figures",
    "portal_petition_satisfaction",
    "stage_on_time_shares",
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


# ----------------------------------------------------------------------------- the portal's

#: The stage clocks, in the order of ``survey_app/services/petitions/clocks.py``.
STAGES = ("refuse", "info", "resolve", "publish")


@dataclass(frozen=True)
class PortalPetitionFigures:
    """The national portal's petition satisfaction for one group of petitions.

    Attributes
    ----------
    petitions : int
        Petitions in the group (the denominator).
    disliked : int
        Petitions whose answer the public disliked more than liked (more "not satisfied"
        than "satisfied" marks; suspect marks are the caller's to leave out).
    overdue : int
        Petitions past their resolve due day unanswered, or answered late.
    repeated : int
        Petitions filed again about a matter already answered (repeats).
    excluded : int
        Petitions in at least one of the three groups: each counted once.
    satisfaction : float or None
        ``100 × (petitions − excluded) ÷ petitions`` in percent, rounded to two
        decimals; ``None`` ("N/A") when there are no petitions.
    """

    petitions: int
    disliked: int
    overdue: int
    repeated: int
    excluded: int
    satisfaction: float | None


def _flags(values: object, name: str) -> np.ndarray:
    items = list(values)
    if any(not isinstance(v, (bool, np.bool_)) for v in items):
        raise ValueError(f"{name} must hold True or False for each petition.")
    return np.array(items, dtype=bool)


def _whole(values: object, name: str) -> np.ndarray:
    items = list(values)
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0 for v in items):
        raise ValueError(f"{name} must hold whole numbers, 0 or more.")
    return np.array(items, dtype=np.int64)


def portal_petition_satisfaction(
    overdue: Sequence[bool], repeated: Sequence[bool], satisfied: Sequence[int], dissatisfied: Sequence[int],
) -> PortalPetitionFigures:
    """The national portal's petition satisfaction (Quyết định 766/QĐ-TTg).

    Parameters
    ----------
    overdue : sequence of bool
        For each petition: past its resolve due day and not answered, or answered after it.
    repeated : sequence of bool
        For each petition: a repeat of a matter already answered.
    satisfied, dissatisfied : sequence of int
        For each petition: the public's (trusted) "satisfied" and "not satisfied" marks on
        its answer; 0 and 0 for one not published or not marked.

    Returns
    -------
    PortalPetitionFigures
        Fields ``petitions, disliked, overdue, repeated, excluded, satisfaction``.

    Raises
    ------
    ValueError
        If the sequences differ in length, a flag is not a bool, or a count is not a whole
        number of 0 or more.

    Notes
    -----
    With n petitions, D = {i : dissatisfiedᵢ > satisfiedᵢ} (disliked more than liked; a
    tie is not), O the overdue and R the repeated petitions,

    .. math:: S = 100 \\cdot \\frac{n - |D \\cup O \\cup R|}{n}

    rounded to two decimals, "N/A" (``None``) when n = 0. "Each counted once": a
    petition both overdue and a repeat is subtracted once, so S lies in [0, 100]. A
    petition nobody marked is not disliked.

    References
    ----------
    Quyết định 766/QĐ-TTg (23/6/2022) của Thủ tướng Chính phủ, satisfaction group
    (transcription of the formula's description; not the official annex).

    Examples
    --------
    >>> f = portal_petition_satisfaction([True, False, False, False], [True, False, False, False],
    ...                                  [0, 1, 3, 0], [0, 2, 3, 0])
    >>> f.disliked, f.overdue, f.repeated, f.excluded, f.satisfaction
    (1, 1, 1, 2, 50.0)
    >>> portal_petition_satisfaction([], [], [], []).satisfaction is None
    True
    """
    o, r = _flags(overdue, "overdue"), _flags(repeated, "repeated")
    s, d = _whole(satisfied, "satisfied"), _whole(dissatisfied, "dissatisfied")
    if not (o.shape == r.shape == s.shape == d.shape):
        raise ValueError("overdue, repeated, satisfied and dissatisfied must have the same length.")
    disliked = d > s
    excluded = disliked | o | r
    n = int(o.size)
    share = round(100.0 * (n - int(excluded.sum())) / n, 2) if n else None
    return PortalPetitionFigures(petitions=n, disliked=int(disliked.sum()), overdue=int(o.sum()),
                                 repeated=int(r.sum()), excluded=int(excluded.sum()), satisfaction=share)


@dataclass(frozen=True)
class StageOnTime:
    """One stage's clocks over a group of petitions.

    Attributes
    ----------
    stage : str
        ``refuse``, ``info``, ``resolve`` or ``publish``.
    on_time, late, overdue : int
        Clocks of the stage done by their due day, done after it, and not done with the
        due day past.
    decided : int
        ``on_time + late + overdue``: clocks whose timeliness is known (running, due-soon
        and paused clocks are left out).
    share : float or None
        ``100 × on_time ÷ decided`` in percent, two decimals; ``None`` ("N/A") when
        ``decided`` is 0.
    """

    stage: str
    on_time: int
    late: int
    overdue: int
    decided: int
    share: float | None


def stage_on_time_shares(states: Sequence[Mapping[str, str]]) -> dict[str, StageOnTime]:
    """The on-time share of each stage clock.

    Parameters
    ----------
    states : sequence of mappings
        For each petition, stage name → the state of that stage's clock: ``on_time``,
        ``late``, ``overdue``, ``running``, ``due_soon`` or ``paused`` (the
        ``StageClock.state`` of ``survey_app/services/petitions/clocks.py``). A stage that
        does not apply to a petition (``refuse`` for one not refused, ``info`` when nothing
        was asked, ``publish`` before the answer) is absent.

    Returns
    -------
    dict of str to StageOnTime
        One entry per stage of :data:`STAGES`, in that order.

    Raises
    ------
    ValueError
        If a stage or a state is unknown.

    Notes
    -----
    For stage k: on time = #{i : stateᵢₖ = on_time}, late = #{late}, overdue =
    #{overdue}, decided = their sum, share = 100 · on time ÷ decided (two decimals;
    "N/A" when decided = 0). The clocks count working days on the Vietnamese calendar; a
    stage done on its due day is on time; the resolve clock stands still while the
    citizen is asked for information (so a waiting petition is never overdue), and a
    second request for information makes the info stage late.

    References
    ----------
    Quyết định 766/QĐ-TTg (23/6/2022), the petition clocks in working days: refuse ≤ 2,
    ask for more information ≤ 5 (the clock stops while waiting for the citizen), resolve
    ≤ 15, publish the answer ≤ 2 after it; a zero denominator shows "N/A"; two decimals
    (transcription, ``INSTRUMENTS.md``).

    Examples
    --------
    >>> r = stage_on_time_shares([{"resolve": "on_time", "publish": "late"}, {"resolve": "overdue"},
    ...                           {"resolve": "running"}])
    >>> r["resolve"].on_time, r["resolve"].decided, r["resolve"].share, r["publish"].share, r["refuse"].share
    (1, 2, 50.0, 0.0, None)
    """
    known = {"on_time", "late", "overdue", "running", "due_soon", "paused"}
    tally = {stage: {"on_time": 0, "late": 0, "overdue": 0} for stage in STAGES}
    for petition in states:
        for stage, state in petition.items():
            if stage not in tally:
                raise ValueError(f"unknown stage {stage!r}; the stages are {', '.join(STAGES)}.")
            if state not in known:
                raise ValueError(f"unknown clock state {state!r}.")
            if state in tally[stage]:
                tally[stage][state] += 1
    result = {}
    for stage in STAGES:
        t = tally[stage]
        decided = t["on_time"] + t["late"] + t["overdue"]
        share = round(100.0 * t["on_time"] / decided, 2) if decided else None
        result[stage] = StageOnTime(stage, t["on_time"], t["late"], t["overdue"], decided, share)
    return result
