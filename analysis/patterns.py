"""When answers come in: the hour × weekday pattern of counts and satisfied shares.

Functions
---------
hour_weekday_pattern
    7 × 24 matrices of answer counts, satisfied counts and satisfied shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._common import as_count_array

__all__ = ["HourWeekday", "hour_weekday_pattern"]


@dataclass(frozen=True)
class HourWeekday:
    """Hour × weekday pattern.

    Attributes
    ----------
    count : numpy.ndarray of int, shape (7, 24)
        Answers per weekday (row, 0 = Monday … 6 = Sunday) and local hour (column).
    satisfied : numpy.ndarray of int, shape (7, 24)
        Satisfied answers per cell.
    share : numpy.ndarray of float, shape (7, 24)
        satisfied / count; ``nan`` where count is 0.
    """

    count: np.ndarray
    satisfied: np.ndarray
    share: np.ndarray


def hour_weekday_pattern(
    weekday: Sequence[int],
    hour: Sequence[int],
    satisfied: Sequence[bool],
    counts: Sequence[int] | None = None,
) -> HourWeekday:
    """Answer counts and satisfied shares by weekday and hour.

    Parameters
    ----------
    weekday : sequence of int
        0 = Monday … 6 = Sunday (Python's ``datetime.weekday()``), in local time
        (Asia/Ho_Chi_Minh). SQLite's ``strftime('%w')`` (0 = Sunday) and PostgreSQL's
        ``isodow`` (1 = Monday) must be converted by the caller.
    hour : sequence of int
        Local hour 0–23.
    satisfied : sequence of bool
        Whether the row's answers are at a satisfied level.
    counts : sequence of int, optional
        How many answers each row stands for (a GROUP BY weekday, hour, satisfied);
        default one per row.

    Returns
    -------
    HourWeekday
        Fields ``count``, ``satisfied``, ``share`` (7 × 24 arrays).

    Raises
    ------
    ValueError
        If the arrays differ in length, a weekday or hour is out of range, or a count
        or flag is invalid.

    Notes
    -----
    count[d, h] = Σ cᵣ over rows with (weekday, hour) = (d, h);
    satisfied[d, h] = Σ cᵣ·[satisfiedᵣ]; share = satisfied / count (``nan`` if 0).

    References
    ----------
    ISO 8601 weekday numbering shifted to start at 0 (Python ``datetime.weekday``).

    Examples
    --------
    >>> p = hour_weekday_pattern([0, 0, 6], [8, 8, 20], [True, False, True], [30, 10, 5])
    >>> int(p.count[0, 8]), float(p.share[0, 8]), float(p.share[6, 20])
    (40, 0.75, 1.0)
    """
    d = as_count_array(weekday, "weekday", ndim=1)
    h = as_count_array(hour, "hour", ndim=1)
    sat_raw = np.asarray(satisfied)
    if sat_raw.ndim != 1 or sat_raw.dtype == object:
        raise ValueError("satisfied must be a 1-D sequence of booleans.")
    if sat_raw.size == 0:
        sat_raw = np.zeros(0, dtype=bool)
    elif sat_raw.dtype.kind != "b":
        if sat_raw.dtype.kind not in "iu" or not np.all((sat_raw == 0) | (sat_raw == 1)):
            raise ValueError("satisfied must hold booleans (or 0/1).")
    sat = sat_raw.astype(bool)
    w = np.ones(d.size, dtype=np.int64) if counts is None else as_count_array(counts, "counts", ndim=1)
    if not d.size == h.size == sat.size == w.size:
        raise ValueError("weekday, hour, satisfied and counts must have the same length.")
    if np.any(d > 6):
        raise ValueError("weekday must be 0 (Monday) to 6 (Sunday).")
    if np.any(h > 23):
        raise ValueError("hour must be 0 to 23.")
    count = np.zeros((7, 24), dtype=np.int64)
    good = np.zeros((7, 24), dtype=np.int64)
    np.add.at(count, (d, h), w)
    np.add.at(good, (d[sat], h[sat]), w[sat])
    share = np.full((7, 24), np.nan)
    np.divide(good, count, out=share, where=count > 0)
    return HourWeekday(count=count, satisfied=good, share=share)
