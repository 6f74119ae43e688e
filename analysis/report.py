"""Assemble a report from count tables: the numbers officials read and publish.

:func:`build_report` is pure: it takes an instrument definition, the units, and the
:class:`~analysis.counts.CountTables` for a window, and returns a JSON-ready dict whose
names are documented in ``analysis/README.md``. Shares are fractions 0–1; a number that
cannot be computed (too few answers) is ``None``, never ``NaN``.

**The respondent is the sampling unit.** Point estimates are the official formulas,
computed from the answer counts of the window. Their variances come from the
respondents' feature moments (:mod:`analysis.respondent`): the linearization of the
official estimator, so one citizen's 19 correlated answers count as one observation, not
19. Moments are kept per calendar month; for a window that cuts a month, the covariance
of the features is estimated from the whole months the window touches and divided by the
window's own number of respondents.

Periods: every month (or quarter) of the window keeps its place, empty or not. A period
that the window cuts, or that has not ended on ``as_of``, is *partial*: it is shown,
labelled, and never used for the change or the trend test. Periods with fewer than
``low_n`` respondents are marked and left out of the trend test.
"""
from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from . import respondent as rl
from .compare import compare_units
from ._common import group_rows, z_value
from .counts import CountTables, UnitInfo
from .instrument import Scoring, decimals_of, plain, scoring_of, unscale
from .patterns import hour_weekday_pattern
from .reliability import cronbach_alpha
from .scores import (grade_for, level_summary, mean_from_counts, mean_from_moments, moh_comprehensive_satisfaction,
                     moh_return_rate, satisfied_share_index)
from .trends import trend_test

__all__ = ["build_report", "period_of", "period_label", "period_labels", "period_bounds", "PERIODS", "LOW_N", "MIN_TREND_PERIODS"]

PERIODS = ("month", "quarter")
LOW_N = 10  # official reports show smaller cells, marked low n; public pages withhold them
MIN_TREND_PERIODS = 6


def period_of(day: date, grouping: str) -> str:
    """The period label of a local day: ``2026-03`` (month), ``2026-Q1`` (quarter) or
    ``2026`` (year, the longest period a release covers)."""
    if grouping == "month":
        return f"{day.year}-{day.month:02d}"
    if grouping == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if grouping == "year":
        return f"{day.year}"
    raise ValueError(f"period must be 'month', 'quarter' or 'year', not {grouping!r}")


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PERIOD_KEY = re.compile(r"^(\d{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])))?$")


def _lang_of(locale: object) -> str:
    """``"vi"`` / ``"en"`` from a language code or a locale (``"vi_VN"``, ``babel.Locale``)."""
    code = str(locale).replace("-", "_").split("_")[0].lower()
    if code not in ("vi", "en"):
        raise ValueError(f"locale must be Vietnamese (vi) or English (en), got {locale!r}.")
    return code


def period_label(key: str, locale: object = "vi") -> str:
    """A period key as readers write it, for chart axes and report tables.

    Parameters
    ----------
    key : str
        A key of :func:`analysis.report.period_of`: ``"2026-01"`` (month), ``"2026-Q1"``
        (quarter) or ``"2026"`` (year).
    locale : str or babel.Locale, optional
        ``"vi"`` (default) or ``"en"``; a region (``"vi_VN"``) is ignored.

    Returns
    -------
    str
        Vietnamese: ``"Th1/2026"``, ``"Q1/2026"``, ``"2026"``; English: ``"Jan 2026"``,
        ``"Q1 2026"``, ``"2026"``.

    Raises
    ------
    ValueError
        If ``key`` is not a period key or the locale is neither Vietnamese nor English.

    Notes
    -----
    "Th" is the short form of "tháng" (month) that Vietnamese spreadsheets print on chart
    axes (Th1 … Th12); quarters are written Q1 … Q4 in both languages. Short enough for
    24 monthly ticks.

    References
    ----------
    ISO 8601-1:2019, calendar dates (the ``YYYY-MM`` keys this function reads).

    Examples
    --------
    >>> period_label("2026-01"), period_label("2026-Q1"), period_label("2026-12", "en")
    ('Th1/2026', 'Q1/2026', 'Dec 2026')
    """
    lang = _lang_of(locale)
    match = _PERIOD_KEY.match(str(key))
    if match is None:
        raise ValueError(f"not a period key like 2026-01, 2026-Q1 or 2026: {key!r}.")
    year, month, quarter = match.groups()
    if month:
        return f"Th{int(month)}/{year}" if lang == "vi" else f"{_MONTHS_EN[int(month) - 1]} {year}"
    if quarter:
        return f"Q{quarter}/{year}" if lang == "vi" else f"Q{quarter} {year}"
    return year


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def period_bounds(label: str) -> tuple[date, date]:
    """First and last day of a period label (``2026-03``, ``2026-Q1`` or ``2026``)."""
    year_text, _sep, part = label.partition("-")
    year = int(year_text)
    if not part:
        return date(year, 1, 1), date(year, 12, 31)
    if part.startswith("Q"):
        q = int(part[1:])
        if not 1 <= q <= 4:
            raise ValueError(f"no quarter {label!r}")
        first = date(year, 3 * q - 2, 1)
        return first, _month_end(date(year, 3 * q, 1))
    first = date(year, int(part), 1)
    return first, _month_end(first)


def _position(label: str) -> int:
    """Months (or quarters) since year 0: consecutive periods differ by 1, gaps keep their size."""
    year_text, _sep, part = label.partition("-")
    if part.startswith("Q"):
        return int(year_text) * 4 + int(part[1:]) - 1
    return int(year_text) * 12 + int(part) - 1


def period_labels(date_from: date, date_to: date, grouping: str) -> list[str]:
    """The labels of every period from ``date_from`` to ``date_to``, in order, empty or not."""
    labels: list[str] = []
    day = date_from.replace(day=1)
    while day <= date_to:
        label = period_of(day, grouping)
        if not labels or labels[-1] != label:
            labels.append(label)
        day = _month_end(day) + timedelta(days=1)
    return labels


def _num(value: Any) -> Any:
    """JSON-safe number: NaN and infinities become ``None``; numpy scalars become Python."""
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    return value


@dataclass
class _Slice:
    """Counts of one slice of the data (the whole window, one period, or one unit), and
    the respondent moments of the months it touches (``None`` when there are none)."""

    cells: dict[tuple[str, str], int]
    responses: list[int]
    moments: rl.Moments | None = None

    @classmethod
    def empty(cls) -> "_Slice":
        return cls(defaultdict(int), [0] * 7)


def _int_matrix(values: list, columns: int) -> np.ndarray:
    """A rows × ``columns`` matrix of the whole numbers ``values`` (row by row): int64
    when sums of all of them cannot overflow, Python integers otherwise (exact either way)."""
    try:
        arr = np.array(values, dtype=np.int64)
    except OverflowError:
        arr = np.array(values, dtype=object)
    if arr.dtype != object and arr.size and int(np.abs(arr).max()) * max(1, arr.size) >= 2**62:
        arr = np.array(values, dtype=object)
    return arr.reshape(-1, columns)


# Row of (weekday, hour) in a 168-row grid, by the string keys of the JSON documents.
_GRID_AT = {str(w): {str(h): w * 24 + h for h in range(24)} for w in range(7)}


def _grouped_slices(tables: CountTables, layout: rl.FeatureLayout,
                    groupings: Sequence[Callable[[int, date], Any]]
                    ) -> tuple[list[dict[Any, _Slice]], np.ndarray]:
    """The (unit, month) counts of ``tables`` summed into slices, once per grouping.

    A grouping maps (unit id, month) to a group key (``None``: left out). Every number
    of every month is read once into a matrix (answers by question and value, the seven
    per-response sums, the respondent moments in the report's layout) and each grouping
    adds up rows of those matrices, so a town over two years (hundreds of thousands of
    cells) costs a few matrix sums, not a Python operation per cell and grouping. Exact:
    the counts and moments are integers. Also returns the seven per-response sums by
    local weekday and hour over everything (a 7 × 24 × 7 array)."""
    slots = list(tables.months.items())
    S = len(slots)
    names: list[tuple[str, str]] = []
    index: dict[str, dict[str, int]] = {}
    cell_slot, cell_col, cell_n = [], [], []
    hour_slot, hour_at, hour_sums = [], [], []
    columns: dict[tuple[str, tuple[str, ...]], list[int]] = {}  # the columns of a question's value keys
    hour_rows: dict[tuple[str, tuple[str, ...]], list[int]] = {}  # the grid rows of a weekday's hours
    chain = itertools.chain.from_iterable
    for i, (_key, mc) in enumerate(slots):
        for q, values in mc.cells.items():
            vkeys = tuple(values)
            cols = columns.get((q, vkeys))
            if cols is None:
                qi = index.setdefault(q, {})
                for v in vkeys:
                    if v not in qi:
                        qi[v] = len(names)
                        names.append((q, v))
                cols = columns[(q, vkeys)] = [qi[v] for v in vkeys]
            cell_col.extend(cols)
            cell_n.extend(values.values())
            cell_slot.extend([i] * len(cols))
        for weekday, by_hour in mc.hours.items():
            hkeys = tuple(by_hour)
            at = hour_rows.get((weekday, hkeys))
            if at is None:
                at = hour_rows[(weekday, hkeys)] = [_GRID_AT[weekday][h] for h in hkeys]
            hour_sums.extend(chain(by_hour.values()))
            hour_at.extend(at)
            hour_slot.extend([i] * len(at))

    cells = np.zeros((S, len(names)), dtype=np.int64)
    if cell_n:
        values = _int_matrix(cell_n, 1)[:, 0]
        if values.dtype == object:
            cells = cells.astype(object)
        cells[np.asarray(cell_slot), np.asarray(cell_col)] = values  # one entry per (month, question, value)
    per_hour = _int_matrix(hour_sums, 7)
    responses = group_rows(per_hour, np.asarray(hour_slot, dtype=np.int64), S)
    grid = group_rows(per_hour, np.asarray(hour_at, dtype=np.int64), 7 * 24).reshape(7, 24, 7)
    slot_keys = [key for key, _mc in slots]
    m_slot, m_n, m_sums, m_upper = tables.moment_rows(layout.items)
    m_at = np.asarray(m_slot, dtype=np.int64)
    plans = []
    for grouping in groupings:
        keys_of = [grouping(u, m) for u, m in slot_keys]
        labels = list(dict.fromkeys(k for k in keys_of if k is not None))
        at = {k: gi for gi, k in enumerate(labels)}
        plans.append((labels, np.array([at[k] if k is not None else -1 for k in keys_of], dtype=np.int64)))
    moments_by = rl.group_stored_moments_by(m_n, m_sums, m_upper,
                                            [(groups[m_at] if m_slot else [], len(labels)) for labels, groups in plans])
    out = []
    for (labels, groups), moments in zip(plans, moments_by):
        g_cells = group_rows(cells, groups, len(labels))
        g_resp = group_rows(responses, groups, len(labels))
        slices = {}
        for gi, label in enumerate(labels):
            row = g_cells[gi]
            nz = np.flatnonzero(row)
            slices[label] = _Slice({names[j]: int(c) for j, c in zip(nz.tolist(), row[nz].tolist())},
                                   [int(v) for v in g_resp[gi].tolist()], moments[gi])
        out.append(slices)
    return out, grid


def _level_counts(s: _Slice, key: str, levels: Sequence[int]) -> list[int]:
    return [s.cells.get((key, f"i:{lv}"), 0) for lv in levels]


@dataclass(frozen=True)
class _Estimate:
    """An index of one slice: the official value, its respondent-level variance, and the
    interval; ``var`` is ``nan`` when it cannot be estimated (fewer than 2 respondents)."""

    value: float | None
    low: float | None
    high: float | None
    var: float
    n: int
    unit: str
    extra: Mapping[str, Any] = field(default_factory=dict)
    rl: rl.Estimate | None = None

    def as_dict(self) -> dict[str, Any]:
        se = math.sqrt(self.var) if self.var == self.var and self.var >= 0 else None
        out = {"value": _num(self.value), "low": _num(self.low), "high": _num(self.high), "se": _num(se),
               "n": self.n, "unit": self.unit}
        out.update(self.extra)
        return out


_NONE = float("nan")


def _window_variance(estimate: rl.Estimate | None, n_window: int) -> float:
    """The window's variance from the months' estimate: the per-respondent variance of
    the linearized score (estimated on the months the window touches) over the window's
    respondents."""
    if estimate is None or n_window < 2 or not math.isfinite(estimate.score_variance):
        return _NONE
    return estimate.score_variance / n_window


def _share_estimate(value: float, var: float, n: int, answers: int) -> _Estimate:
    est = rl.share_estimate(value, var, n, answers)
    return _Estimate(value, est.low, est.high, var, n, "share", rl=est)


def _criteria(scoring: Scoring, s: _Slice, keys: Iterable[str]) -> list[tuple[int, int]]:
    by_key = scoring.by_key
    out = []
    for key in keys:
        q = by_key[key]
        counts = _level_counts(s, key, q.levels)
        out.append((sum(c for lv, c in zip(q.levels, counts) if lv in q.satisfied), sum(counts)))
    return out


def _index(scoring: Scoring, layout: rl.FeatureLayout, s: _Slice) -> _Estimate:
    """The instrument's index for one slice, as its file declares it, with its
    respondent-level interval."""
    method = scoring.method
    respondents = s.responses[0]
    if method == "points":
        n, total, total_sq = s.responses[4], s.responses[5], s.responses[6]
        if n == 0:
            return _Estimate(None, None, None, _NONE, 0, "points")
        scale = scoring.points_scale
        m = mean_from_moments(n, total / scale if scale != 1 else total,
                              total_sq / (scale * scale) if scale != 1 else total_sq)
        grade = grade_for(m.mean, scoring.params.get("grades", ()))
        var = m.sd ** 2 / n if n > 1 else _NONE
        return _Estimate(m.mean, m.low, m.high, var, n, "points", rl=rl.mean_estimate(m.mean, var, n), extra={
            "max": scoring.params.get("max_total"),
            "grade": {"vi": grade.vi, "en": grade.en} if grade else None})
    if method == "moh":
        scored, satisfied = s.responses[1], s.responses[2]
        if scored == 0:
            return _Estimate(None, None, None, _NONE, respondents, "share")
        months = rl.moh_general_rate(s.moments, layout) if s.moments is not None and s.moments.n else None
        return _share_estimate(satisfied / scored, _window_variance(months, respondents), respondents, scored)
    groups: dict[str, list[str]] = {}
    for q in scoring.questions:
        groups.setdefault(q.factor or "_all", []).append(q.key)
    usable = {f: [c for c in _criteria(scoring, s, keys)] for f, keys in groups.items()}
    usable = {f: crit for f, crit in usable.items() if any(n for _s, n in crit)}
    if not usable:
        return _Estimate(None, None, None, _NONE, respondents, "share")
    value = satisfied_share_index(usable).value
    answers = sum(n for crit in usable.values() for _s, n in crit)
    months = (rl.share_index(s.moments, layout, _factor_items(scoring)) if s.moments is not None and s.moments.n
              else None)
    return _share_estimate(value, _window_variance(months, respondents), respondents, answers)


def _factor_items(scoring: Scoring) -> dict[str, tuple[str, ...]]:
    return dict(scoring.factors) if scoring.factors else {"_all": tuple(q.key for q in scoring.questions)}


def _factors(definition: Mapping[str, Any], scoring: Scoring, layout: rl.FeatureLayout, s: _Slice
             ) -> list[dict[str, Any]]:
    out = []
    names = {f["key"]: f for f in definition.get("factors", [])}
    by_key = scoring.by_key
    respondents = s.responses[0]
    for fkey, items in scoring.factors.items():
        crit = _criteria(scoring, s, items)
        n = sum(c for _s, c in crit)
        entry: dict[str, Any] = {"key": fkey, "name": {"vi": names[fkey]["vi"], "en": names[fkey]["en"]},
                                 "items": len(items), "index": None, "low": None, "high": None, "n": 0}
        if scoring.method in ("satisfied_share", "moh") and n:
            if scoring.method == "satisfied_share":
                value = satisfied_share_index({fkey: [c for c in crit if c[1]]}).value
                months = (rl.share_index(s.moments, layout, {fkey: items})
                          if s.moments is not None and s.moments.n else None)
            else:
                value = sum(sat for sat, _c in crit) / n
                months = (rl.moh_general_rate(s.moments, layout, items=items)
                          if s.moments is not None and s.moments.n else None)
            est = _share_estimate(value, _window_variance(months, respondents), respondents, n)
            entry.update(index=_num(est.value), low=_num(est.low), high=_num(est.high), n=respondents)
            if scoring.method == "moh":
                total = sum(lv * c for key in items for lv, c in zip(by_key[key].levels,
                                                                      _level_counts(s, key, by_key[key].levels)))
                entry["mean"] = _num(total / n)
        elif scoring.method == "points":  # mean points per indicator in the factor
            pts = 0.0
            for key in items:
                q = by_key[key]
                counts = _level_counts(s, key, q.levels)
                pts += sum((q.points or {}).get(lv, 0) * c for lv, c in zip(q.levels, counts))
            entry.update(n=n, index=_num(pts / n) if n else None)
        out.append(entry)
    return out


def _questions(definition: Mapping[str, Any], s: _Slice, low_n: int) -> list[dict[str, Any]]:
    out = []
    for q in definition["questions"]:
        qtype = q["type"]
        entry: dict[str, Any] = {"key": q["key"], "type": qtype, "text": q["text"], "factor": q.get("factor"),
                                 "n": 0, "counts": {}, "mean": None, "mean_low": None, "mean_high": None,
                                 "satisfied": None, "satisfied_low": None, "satisfied_high": None}
        if qtype in ("text", "longtext"):
            continue
        if qtype == "scale":
            scale = definition["scales"][q["scale"]]
            levels = [lv["value"] for lv in scale["levels"]]
            counts = _level_counts(s, q["key"], levels)
            entry["counts"] = {str(lv): c for lv, c in zip(levels, counts)}
            if sum(counts):
                ls = level_summary(levels, counts, scale["satisfied"])
                entry.update(n=ls.n, mean=_num(ls.mean), mean_low=_num(ls.mean_low), mean_high=_num(ls.mean_high),
                             satisfied=_num(ls.satisfied), satisfied_low=_num(ls.satisfied_low),
                             satisfied_high=_num(ls.satisfied_high))
        elif qtype == "number" and decimals_of(q):
            entry.update(_decimal_entry(q, s))
        elif qtype in ("rating", "percent", "number", "yesno"):
            lo, hi = (0, 1) if qtype == "yesno" else (q["min"], q["max"])
            values = list(range(lo, hi + 1))
            counts = [s.cells.get((q["key"], f"i:{v}"), 0) for v in values]
            entry["counts"] = {str(v): c for v, c in zip(values, counts) if c or qtype not in ("percent", "number")}
            n = sum(counts)
            if n:
                m = mean_from_counts(values, counts)
                entry.update(n=n, mean=_num(m.mean), mean_low=_num(m.low), mean_high=_num(m.high))
        else:  # single / multi: counts per option; n is answers (multi: choices)
            counts = {o["key"]: s.cells.get((q["key"], f"t:{o['key']}"), 0) for o in q["options"]}
            entry.update(counts=counts, n=sum(counts.values()))
        entry["low_n"] = entry["n"] < low_n
        out.append(entry)
    return out


def _decimal_entry(q: Mapping[str, Any], s: _Slice) -> dict[str, Any]:
    """Counts and mean of a ``number`` question with decimals. Its answers are stored as
    whole numbers x = value × 10^d (``instrument.decimals_of``); the counts are read by
    those exact values and keyed by the value written out (``"3.5"``), and since the mean
    and its t interval are linear in the values, they are computed on x and divided by
    10^d: x̄/10^d ± t·(s_x/10^d)/√n, the same numbers as on the values themselves."""
    d = decimals_of(q)
    prefix = "i:"
    found = sorted((int(v[len(prefix):]), c) for (key, v), c in s.cells.items()
                   if key == q["key"] and c and v.startswith(prefix))
    out: dict[str, Any] = {"counts": {plain(unscale(v, d)): c for v, c in found}}
    n = sum(c for _v, c in found)
    if n:
        m = mean_from_counts([v for v, _c in found], [c for _v, c in found])
        factor = 10 ** d
        out.update(n=n, mean=_num(m.mean / factor), mean_low=_num(m.low / factor), mean_high=_num(m.high / factor))
    return out


def _moh_block(definition, scoring: Scoring, layout: rl.FeatureLayout, s: _Slice) -> dict[str, Any]:
    """The Bộ Y tế measures: mean score, general and comprehensive satisfaction, return
    rate and expectation met, each with a respondent-level interval."""
    block: dict[str, Any] = {}
    by_q = {q["key"]: q for q in definition["questions"]}
    respondents = s.responses[0]
    has_moments = s.moments is not None and s.moments.n > 0
    means = [(lv * c, c) for q in scoring.questions for lv, c in zip(q.levels, _level_counts(s, q.key, q.levels))]
    answers = sum(c for _t, c in means)
    if answers:
        value = sum(t for t, _c in means) / answers
        months = rl.moh_mean_score(s.moments, layout) if has_moments else None
        var = _window_variance(months, respondents)
        est = rl.mean_estimate(value, var, respondents)
        block["mean_score"] = {"value": _num(value), "low": _num(est.low), "high": _num(est.high), "n": respondents}
    scored_n = s.responses[1]
    if scored_n:
        months = rl.moh_general_rate(s.moments, layout) if has_moments else None
        est = _share_estimate(s.responses[2] / scored_n, _window_variance(months, respondents), respondents,
                              scored_n)
        block["general"] = {"value": _num(est.value), "low": _num(est.low), "high": _num(est.high),
                            "n": respondents}
    if respondents:
        c = moh_comprehensive_satisfaction(s.responses[3], respondents)
        block["comprehensive"] = {"value": _num(c.share), "low": _num(c.low), "high": _num(c.high), "n": respondents}
    rq = scoring.params.get("return_question")
    if rq:
        excluded = set(scoring.params.get("return_exclude", ()))
        option_counts = {o["key"]: s.cells.get((rq, f"t:{o['key']}"), 0) for o in by_q[rq]["options"]
                         if o["key"] not in excluded}
        if sum(option_counts.values()):
            r = moh_return_rate(option_counts, scoring.params.get("return_options", []))
            block["return_rate"] = {"value": _num(r.share), "low": _num(r.low), "high": _num(r.high), "n": r.n,
                                    "excluded": sorted(excluded)}
    eq = scoring.params.get("expectation_question")
    if eq:
        q = by_q[eq]
        values = list(range(q["min"], q["max"] + 1))
        counts = [s.cells.get((eq, f"i:{v}"), 0) for v in values]
        if sum(counts):
            m = mean_from_counts(values, counts)
            block["expectation"] = {"value": _num(m.mean), "low": _num(m.low), "high": _num(m.high), "n": m.n}
    return block


def _compared(root: UnitInfo, units: Sequence[UnitInfo],
              compare: Sequence[str]) -> tuple[list[UnitInfo], dict[int, int]]:
    """The units at the paths ``compare`` (below ``root``), and the compared unit each unit
    counts under: the deepest one whose subtree holds it (a compared unit below another
    takes its own subtree out of the upper one's row)."""
    wanted = set(compare)
    compared = [u for u in units if u.path in wanted and u.path != root.path and u.path.startswith(root.path)]
    by_depth = sorted(compared, key=lambda u: -u.path.count("/"))
    child_of: dict[int, int] = {}
    for u in units:
        home = next((c for c in by_depth if u.path.startswith(c.path)), None)
        if home is not None:
            child_of[u.id] = home.id
    return compared, child_of


def _children(root: UnitInfo, units: Sequence[UnitInfo],
              merged_into: Mapping[str, str] | None = None) -> tuple[list[UnitInfo], dict[int, int]]:
    """``root``'s direct children, and the child each unit below counts under. With
    ``merged_into`` (a predecessor's path → its successor's path, both below ``root``), a
    predecessor's units count under the successor's child, and a predecessor that is a
    direct child is no row of its own."""
    depth = root.path.count("/")

    def child_prefix(path: str) -> str:
        return "/".join(path.split("/")[: depth + 1]) + "/"

    merged = {p: s for p, s in (merged_into or {}).items()
              if p.startswith(root.path) and s.startswith(root.path) and child_prefix(p) != child_prefix(s)}
    children = [u for u in units if u.path.count("/") == depth + 1 and u.path.startswith(root.path)
                and u.path not in merged]
    child_by_path = {c.path: c.id for c in children}
    child_of: dict[int, int] = {}
    for u in units:
        if u.id == root.id:
            continue
        target = next((s for p, s in merged.items() if u.path.startswith(p)), u.path)
        prefix = child_prefix(target)
        if prefix in child_by_path:
            child_of[u.id] = child_by_path[prefix]
    return children, child_of


def _trend(scoring: Scoring, layout: rl.FeatureLayout, by_period: Mapping[str, _Slice], *, date_from: date,
           date_to: date, period: str, as_of: date | None, low_n: int) -> list[dict[str, Any]]:
    rows = []
    for label in period_labels(date_from, date_to, period):
        first, last = period_bounds(label)
        s = by_period.get(label) or _Slice.empty()
        est = _index(scoring, layout, s)
        partial = first < date_from or last > date_to or (as_of is not None and last >= as_of)
        n = s.responses[0]
        rows.append({"period": label, "from": first.isoformat(), "to": last.isoformat(),
                     "position": _position(label), "n": n, "index": _num(est.value), "low": _num(est.low),
                     "high": _num(est.high), "low_n": n < low_n, "partial": partial, "_est": est})
    return rows


def _trend_block(trend: Sequence[Mapping[str, Any]], period: str, low_n: int) -> dict[str, Any]:
    complete = [t for t in trend if not t["partial"]]
    test = trend_test([t["position"] for t in complete],
                      [math.nan if t["index"] is None else t["index"] for t in complete],
                      [t["n"] for t in complete], low_n=low_n, min_periods=MIN_TREND_PERIODS)
    block: dict[str, Any] = {
        "enough": test.enough, "reason": test.reason, "per": period,
        "periods": int(test.periods), "excluded": len(trend) - int(test.periods),
        "tau": None, "p": None, "slope": None, "slope_low": None, "slope_high": None,
        "direction": "none", "solid": False, "trend": None,
    }
    if test.enough:
        block.update(tau=_num(test.tau), p=_num(test.p), slope=_num(test.slope), slope_low=_num(test.low),
                     slope_high=_num(test.high), direction=test.direction, solid=bool(test.solid),
                     trend={"up": "increasing", "down": "decreasing"}.get(test.direction, "no trend"))
    return block


def _change(trend: Sequence[Mapping[str, Any]], low_n: int) -> dict[str, Any] | None:
    """The last complete period against the one right before it, on the index itself."""
    complete = [i for i, t in enumerate(trend) if not t["partial"]]
    if not complete:
        return None
    last = complete[-1]
    b = trend[last]
    if last == 0 or trend[last - 1]["partial"]:
        return {"from": None, "to": b["period"], "enough": False, "reason": "no earlier period",
                "unit": b["_est"].unit}
    a = trend[last - 1]
    out: dict[str, Any] = {"from": a["period"], "to": b["period"], "unit": b["_est"].unit,
                           "n_from": a["n"], "n_to": b["n"], "difference": None, "low": None, "high": None,
                           "p": None, "enough": False, "reason": None}
    ea, eb = a["_est"], b["_est"]
    if a["n"] < low_n or b["n"] < low_n:
        out["reason"] = "low n"
        return out
    if ea.rl is None or eb.rl is None or not (ea.var == ea.var and eb.var == eb.var):
        out["reason"] = "no index"
        return out
    ch = rl.index_change(ea.rl, eb.rl)
    out.update(difference=_num(ch.difference), low=_num(ch.low), high=_num(ch.high), p=_num(ch.p), enough=True)
    return out


def _units_block(scoring: Scoring, definition, layout: rl.FeatureLayout, children: Sequence[UnitInfo],
                 by_child: Mapping[int, _Slice], low_n: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    rows = []
    estimates = []
    for child in children:
        s = by_child.get(child.id)
        est = _index(scoring, layout, s) if s else None
        n = s.responses[0] if s else 0
        rows.append({"unit": child.path, "code": child.code, "name": {"vi": child.name_vi, "en": child.name_en},
                     "n": n, "index": _num(est.value) if est else None,
                     "low": _num(est.low) if est else None, "high": _num(est.high) if est else None,
                     "shrunk": None, "shrunk_low": None, "shrunk_high": None, "rank": None, "rank_low": None,
                     "rank_high": None, "funnel": None, "low_n": n < low_n,
                     "factors": {f["key"]: f["index"] for f in _factors(definition, scoring, layout, s)} if s else {}})
        estimates.append(est)
    active = [i for i, e in enumerate(estimates) if e is not None and e.value is not None and e.n >= 2
              and e.var == e.var]
    if len(active) < 2:
        return rows, None
    bounds = (0.0, 1.0) if estimates[active[0]].unit == "share" else (0.0, float(scoring.params.get("max_total") or
                                                                                  math.inf))
    result = compare_units([estimates[i].value for i in active], [estimates[i].var for i in active],
                           [estimates[i].n for i in active],
                           score_variances=[estimates[i].var * estimates[i].n for i in active], bounds=bounds)
    z = z_value(0.95)
    for j, i in enumerate(active):
        shrunk, sd = float(result.shrunk[j]), float(result.shrunk_sd[j])
        rows[i].update(shrunk=_num(shrunk), shrunk_low=_num(max(bounds[0], shrunk - z * sd)),
                       shrunk_high=_num(min(bounds[1], shrunk + z * sd)), funnel=result.flags[j])
        if result.detectable:
            rows[i].update(rank=int(result.rank[j]), rank_low=int(result.rank_low[j]),
                           rank_high=int(result.rank_high[j]))
    re_ = result.random_effects
    comparison = {"detectable": bool(result.detectable), "q": _num(result.q_pooled), "dof": len(active) - 1,
                  "p": _num(result.p_pooled), "tau2": _num(re_.tau2), "i2": _num(re_.i2),
                  "mean": _num(result.target), "units": len(active), "score_variance": _num(result.s2_pooled)}
    return rows, comparison


def build_report(definition: Mapping[str, Any], root: UnitInfo, units: Sequence[UnitInfo], tables: CountTables, *,
                 date_from: date, date_to: date, period: str = "month", include_suspect: bool = False,
                 low_n: int = LOW_N, versions: Sequence[int] = (), as_of: date | None = None,
                 merged_into: Mapping[str, str] | None = None,
                 compare: Sequence[str] | None = None) -> dict[str, Any]:
    """Build the report of ``root``'s subtree for the window ``date_from``–``date_to``.

    ``units`` are ``root`` and every unit below it (as :func:`analysis.counts.units_below`
    returns them); the comparison covers ``root``'s direct children, each with its whole
    subtree. ``as_of`` is the local day of the report: a period that has not ended before
    it is partial (``None``: only periods cut by the window are partial).
    ``merged_into`` maps a former unit's path to its successor's (both below ``root``): in
    the comparison the former unit's answers count under the successor's row.
    ``compare`` (paths of units below ``root``, at any depth) replaces the direct children
    in the comparison: a province ranks all its communes, or all its points of a kind.
    Each compared unit counts its subtree less the compared units below it; ``merged_into``
    is then not applied (every compared unit is a row of its own).
    """
    if period not in PERIODS:
        raise ValueError(f"period must be 'month' or 'quarter', not {period!r}")
    scoring = scoring_of(definition)
    layout = rl.feature_layout(scoring)
    if compare is None:
        children, child_of = _children(root, units, merged_into)
    else:
        children, child_of = _compared(root, units, compare)

    (whole_, by_period, by_child), grid = _grouped_slices(tables, layout, (
        lambda _u, _m: "all", lambda _u, m: period_of(m, period), lambda u, _m: child_of.get(u)))
    whole = whole_.get("all") or _Slice.empty()

    index = _index(scoring, layout, whole).as_dict()
    report: dict[str, Any] = {
        "unit": {"path": root.path, "name": {"vi": root.name_vi, "en": root.name_en}, "code": root.code},
        "instrument": {"key": definition["key"], "title": definition["title"], "method": scoring.method,
                       "versions": list(versions)},
        "window": {"from": date_from.isoformat(), "to": date_to.isoformat(), "period": period,
                   "include_suspect": include_suspect, "as_of": as_of.isoformat() if as_of else None},
        "responses": whole.responses[0],
        "low_n_threshold": low_n,
        "index": {k: index.get(k) for k in ("value", "low", "high", "se", "unit", "max", "grade") if k in index},
        "factors": _factors(definition, scoring, layout, whole),
        "questions": _questions(definition, whole, low_n),
    }
    report["index"]["n"] = whole.responses[0]
    report["index"]["low_n"] = whole.responses[0] < low_n
    if scoring.method == "moh":
        report["moh"] = _moh_block(definition, scoring, layout, whole)

    trend = _trend(scoring, layout, by_period, date_from=date_from, date_to=date_to, period=period, as_of=as_of,
                   low_n=low_n)
    report["trend_test"] = _trend_block(trend, period, low_n)
    report["change"] = _change(trend, low_n)
    report["trend"] = [{k: v for k, v in t.items() if k != "_est"} for t in trend]

    report["units"], report["comparison"] = _units_block(scoring, definition, layout, children, by_child, low_n)

    # Reliability per factor, from the factor moments of the window's months.
    reliability = []
    for fkey in scoring.factors:
        n, sums, cross = tables.factors.get(fkey, (0, None, None))
        entry = {"factor": fkey, "alpha": None, "n": int(n)}
        if n >= 3 and len(scoring.factors[fkey]) >= 2:
            try:
                entry["alpha"] = _num(cronbach_alpha(int(n), np.asarray(sums, dtype=float),
                                                     np.asarray(cross, dtype=float)).alpha)
            except ValueError:
                entry["alpha"] = None
        reliability.append(entry)
    report["reliability"] = reliability

    # Hour × weekday (local time; weekday 0 = Monday), summed over the units and months.
    wk, hr, sat_flags, cnt = [], [], [], []
    for weekday in range(7):
        for hour in range(24):
            responses, scored, satisfied = (int(v) for v in grid[weekday, hour, :3])
            if responses:
                wk += [weekday, weekday]
                hr += [hour, hour]
                sat_flags += [True, False]
                cnt += [satisfied, scored - satisfied]
    if wk and sum(cnt):
        pattern = hour_weekday_pattern(wk, hr, sat_flags, cnt)
        report["pattern"] = {"responses": [[int(v) for v in row] for row in grid[:, :, 0].tolist()],
                             "share": [[_num(v) for v in row] for row in pattern.share]}
    else:
        report["pattern"] = None
    return report
