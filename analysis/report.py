"""Assemble a report from count tables: the numbers officials read and publish.

:func:`build_report` is pure: it takes an instrument definition, the units, and the
:class:`~analysis.counts.CountTables` for a window, and returns a JSON-ready dict whose
names are documented in ``analysis/README.md``. Shares are fractions 0–1; a number that
cannot be computed (too few answers) is ``None``, never ``NaN``.

Units below the report's unit are compared on their *satisfied share*: satisfied scored
answers ÷ scored answers. One respondent's answers are correlated, so the interval, the
funnel position, the homogeneity test and the shrinkage treat the unit's respondents as
its sample size (effective n = respondents, successes = share × respondents, rounded).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .compare import funnel_flags, homogeneity_test, shrink_shares
from .counts import CountTables, UnitInfo
from .instrument import Scoring, scoring_of
from .patterns import hour_weekday_pattern
from .reliability import cronbach_alpha
from .scores import (level_summary, mean_from_counts, mean_from_moments, moh_comprehensive_satisfaction,
                     moh_return_rate, satisfied_share_index, wilson_interval)
from .trends import mann_kendall, period_change

__all__ = ["build_report", "period_of", "PERIODS", "LOW_N"]

PERIODS = ("month", "quarter")
LOW_N = 10  # official reports show smaller cells, marked low n; public pages withhold them


def period_of(day: date, grouping: str) -> str:
    """The period label of a local day: ``2026-03`` (month) or ``2026-Q1`` (quarter)."""
    if grouping == "month":
        return f"{day.year}-{day.month:02d}"
    if grouping == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    raise ValueError(f"period must be 'month' or 'quarter', not {grouping!r}")


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
    """Counts of one slice of the data (the whole window, one period, or one unit)."""

    cells: dict[tuple[str, str], int]
    responses: list[int]

    @classmethod
    def empty(cls) -> "_Slice":
        return cls(defaultdict(int), [0] * 7)


def _slices(tables: CountTables, key_of_unit, key_of_day) -> dict[Any, _Slice]:
    out: dict[Any, _Slice] = defaultdict(_Slice.empty)
    for (unit_id, day, q, v), n in tables.cells.items():
        k = key_of_unit(unit_id), key_of_day(day)
        out[k].cells[(q, v)] += n
    for (unit_id, month, _weekday, _hour), values in tables.responses.items():
        k = key_of_unit(unit_id), key_of_day(month)
        acc = out[k].responses
        for i, value in enumerate(values):
            acc[i] += value
    return out


def _merge(slices: Iterable[_Slice]) -> _Slice:
    total = _Slice.empty()
    for s in slices:
        for k, n in s.cells.items():
            total.cells[k] += n
        for i, value in enumerate(s.responses):
            total.responses[i] += value
    return total


def _level_counts(s: _Slice, key: str, levels: Sequence[int]) -> list[int]:
    return [s.cells.get((key, f"i:{lv}"), 0) for lv in levels]


def _index(definition: Mapping[str, Any], scoring: Scoring, s: _Slice) -> dict[str, Any]:
    """The instrument's index for one slice, as its file declares it."""
    method = scoring.method
    if method == "points":
        n, total, total_sq = s.responses[4], s.responses[5], s.responses[6]
        if n == 0:
            return {"value": None, "low": None, "high": None, "n": 0, "unit": "points"}
        m = mean_from_moments(n, total, total_sq)
        from .scores import grade_for

        grade = grade_for(m.mean, scoring.params.get("grades", ()))
        return {"value": _num(m.mean), "low": _num(m.low), "high": _num(m.high), "n": n, "unit": "points",
                "max": scoring.params.get("max_total"),
                "grade": {"vi": grade.vi, "en": grade.en} if grade else None}
    if method == "moh":
        scored, satisfied = s.responses[1], s.responses[2]
        if scored == 0:
            return {"value": None, "low": None, "high": None, "n": 0, "unit": "share"}
        w = wilson_interval(satisfied, scored)
        return {"value": _num(w.share), "low": _num(w.low), "high": _num(w.high), "n": s.responses[0], "unit": "share"}
    groups: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for q in scoring.questions:
        counts = _level_counts(s, q.key, q.levels)
        n = sum(counts)
        sat = sum(c for lv, c in zip(q.levels, counts) if lv in q.satisfied)
        groups[q.factor or "_all"].append((sat, n))
    usable = {f: crit for f, crit in groups.items() if any(n for _s, n in crit)}
    if not usable:
        return {"value": None, "low": None, "high": None, "n": 0, "unit": "share", "factors": []}
    result = satisfied_share_index(usable)
    return {"value": _num(result.value), "low": _num(result.low), "high": _num(result.high), "n": s.responses[0],
            "unit": "share", "factors": [
                {"key": f.key, "index": _num(f.index), "low": _num(f.low), "high": _num(f.high), "n": f.n}
                for f in result.factors if f.key != "_all"]}


def _factors(definition: Mapping[str, Any], scoring: Scoring, s: _Slice) -> list[dict[str, Any]]:
    out = []
    names = {f["key"]: f for f in definition.get("factors", [])}
    for fkey, items in scoring.factors.items():
        by_key = scoring.by_key
        sat = n = 0
        total = total_sq = 0.0
        for key in items:
            q = by_key[key]
            counts = _level_counts(s, key, q.levels)
            n += sum(counts)
            sat += sum(c for lv, c in zip(q.levels, counts) if lv in q.satisfied)
            total += sum(lv * c for lv, c in zip(q.levels, counts))
            total_sq += sum(lv * lv * c for lv, c in zip(q.levels, counts))
        entry: dict[str, Any] = {"key": fkey, "name": {"vi": names[fkey]["vi"], "en": names[fkey]["en"]},
                                 "items": len(items), "index": None, "low": None, "high": None, "n": 0}
        if scoring.method in ("satisfied_share", "moh"):
            if n:
                if scoring.method == "satisfied_share":
                    crit = []
                    for key in items:
                        q = by_key[key]
                        counts = _level_counts(s, key, q.levels)
                        crit.append((sum(c for lv, c in zip(q.levels, counts) if lv in q.satisfied), sum(counts)))
                    crit = [c for c in crit if c[1]]
                    f = satisfied_share_index({fkey: crit}).factors[0]
                    entry.update(index=_num(f.index), low=_num(f.low), high=_num(f.high), n=f.n)
                else:
                    w = wilson_interval(sat, n)
                    entry.update(index=_num(w.share), low=_num(w.low), high=_num(w.high), n=n)
                    entry["mean"] = _num(total / n)
        else:  # points: mean points per indicator in the factor
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
        elif qtype in ("rating", "percent", "yesno"):
            lo, hi = (0, 1) if qtype == "yesno" else (q["min"], q["max"])
            values = list(range(lo, hi + 1))
            counts = [s.cells.get((q["key"], f"i:{v}"), 0) for v in values]
            entry["counts"] = {str(v): c for v, c in zip(values, counts) if c or qtype != "percent"}
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


def _moh_block(definition, scoring: Scoring, s: _Slice) -> dict[str, Any]:
    block: dict[str, Any] = {}
    by_q = {q["key"]: q for q in definition["questions"]}
    scored_n = s.responses[1]
    means = [(lv * c, c) for q in scoring.questions for lv, c in zip(q.levels, _level_counts(s, q.key, q.levels))]
    answers = sum(c for _t, c in means)
    block["mean_score"] = _num(sum(t for t, _c in means) / answers) if answers else None
    if scored_n:
        w = wilson_interval(s.responses[2], scored_n)
        block["general"] = {"value": _num(w.share), "low": _num(w.low), "high": _num(w.high), "n": scored_n}
    respondents = s.responses[0]
    if respondents:
        c = moh_comprehensive_satisfaction(s.responses[3], respondents)
        block["comprehensive"] = {"value": _num(c.share), "low": _num(c.low), "high": _num(c.high), "n": respondents}
    rq = scoring.params.get("return_question")
    if rq:
        option_counts = {o["key"]: s.cells.get((rq, f"t:{o['key']}"), 0) for o in by_q[rq]["options"]}
        if sum(option_counts.values()):
            r = moh_return_rate(option_counts, scoring.params.get("return_options", []))
            block["return_rate"] = {"value": _num(r.share), "low": _num(r.low), "high": _num(r.high), "n": r.n}
    eq = scoring.params.get("expectation_question")
    if eq:
        q = by_q[eq]
        values = list(range(q["min"], q["max"] + 1))
        counts = [s.cells.get((eq, f"i:{v}"), 0) for v in values]
        if sum(counts):
            m = mean_from_counts(values, counts)
            block["expectation"] = {"value": _num(m.mean), "low": _num(m.low), "high": _num(m.high), "n": m.n}
    return block


def _share_counts(s: _Slice) -> tuple[int, int, int]:
    """(satisfied answers, scored answers, respondents) of a slice."""
    return s.responses[2], s.responses[1], s.responses[0]


def build_report(definition: Mapping[str, Any], root: UnitInfo, units: Sequence[UnitInfo], tables: CountTables, *,
                 date_from: date, date_to: date, period: str = "month", include_suspect: bool = False,
                 low_n: int = LOW_N, versions: Sequence[int] = ()) -> dict[str, Any]:
    """Build the report of ``root``'s subtree for the window ``date_from``–``date_to``.

    ``units`` are ``root`` and every unit below it (as :func:`analysis.counts.units_below`
    returns them); the comparison covers ``root``'s direct children, each with its whole
    subtree.
    """
    if period not in PERIODS:
        raise ValueError(f"period must be 'month' or 'quarter', not {period!r}")
    scoring = scoring_of(definition)
    by_id = {u.id: u for u in units}
    depth = root.path.count("/")
    child_of: dict[int, int] = {}
    children = [u for u in units if u.path.count("/") == depth + 1 and u.path.startswith(root.path)]
    child_by_path = {c.path: c.id for c in children}
    for u in units:
        if u.id == root.id:
            continue
        prefix = "/".join(u.path.split("/")[: depth + 1]) + "/"
        if prefix in child_by_path:
            child_of[u.id] = child_by_path[prefix]

    whole = _merge(_slices(tables, lambda _u: None, lambda _d: None).values())
    by_period = {k[1]: v for k, v in _slices(tables, lambda _u: None, lambda d: period_of(d, period)).items()}
    by_child = {k[0]: v for k, v in _slices(tables, lambda u: child_of.get(u), lambda _d: None).items() if k[0] is not None}

    index = _index(definition, scoring, whole)
    report: dict[str, Any] = {
        "unit": {"path": root.path, "name": {"vi": root.name_vi, "en": root.name_en}, "code": root.code},
        "instrument": {"key": definition["key"], "title": definition["title"], "method": scoring.method,
                       "versions": list(versions)},
        "window": {"from": date_from.isoformat(), "to": date_to.isoformat(), "period": period,
                   "include_suspect": include_suspect},
        "responses": whole.responses[0],
        "low_n_threshold": low_n,
        "index": {k: index.get(k) for k in ("value", "low", "high", "unit", "max", "grade") if k in index},
        "factors": _factors(definition, scoring, whole),
        "questions": _questions(definition, whole, low_n),
    }
    report["index"]["n"] = whole.responses[0]
    report["index"]["low_n"] = whole.responses[0] < low_n
    if scoring.method == "moh":
        report["moh"] = _moh_block(definition, scoring, whole)

    # Trend per period, with the test and the change from the previous period.
    trend = []
    for label in sorted(by_period):
        s = by_period[label]
        ix = _index(definition, scoring, s)
        sat, scored, _resp = _share_counts(s)
        trend.append({"period": label, "n": s.responses[0], "index": ix["value"], "low": ix["low"], "high": ix["high"],
                      "satisfied": sat, "scored": scored, "low_n": s.responses[0] < low_n})
    report["trend"] = [{k: t[k] for k in ("period", "n", "index", "low", "high", "low_n")} for t in trend]
    series = [t["index"] for t in trend if t["index"] is not None]
    mk = mann_kendall(series) if series else None
    if mk is not None and mk.enough:
        report["trend_test"] = {"tau": _num(mk.tau), "p": _num(mk.p), "slope": _num(mk.slope), "trend": mk.trend,
                                "periods": mk.n, "enough": True}
    else:
        report["trend_test"] = {"tau": None, "p": None, "slope": None, "trend": None, "periods": len(series),
                                "enough": False, "reason": "not enough periods"}
    usable = [t for t in trend if t["scored"]]
    if len(usable) >= 2:
        a, b = usable[-2], usable[-1]
        ch = period_change(a["satisfied"], a["scored"], b["satisfied"], b["scored"])
        report["change"] = {"from": a["period"], "to": b["period"], "difference": _num(ch.difference),
                            "low": _num(ch.low), "high": _num(ch.high), "p": _num(ch.p)}
    else:
        report["change"] = None

    # Units below: share with interval, shrunken rank, funnel flag, homogeneity.
    rows = []
    for child in children:
        s = by_child.get(child.id)
        sat, scored, resp = _share_counts(s) if s else (0, 0, 0)
        share = sat / scored if scored else None
        rows.append({"unit": child.path, "code": child.code, "name": {"vi": child.name_vi, "en": child.name_en},
                     "n": resp, "answers": scored, "share": share, "low": None, "high": None, "shrunk": None,
                     "rank": None, "funnel": None, "low_n": resp < low_n,
                     "index": _index(definition, scoring, s)["value"] if s else None,
                     "factors": {f["key"]: f["index"] for f in _factors(definition, scoring, s)} if s else {}})
    active = [r for r in rows if r["n"] > 0 and r["answers"] > 0]
    successes = [int(round(r["share"] * r["n"])) for r in active]
    ns = [r["n"] for r in active]
    for r, k in zip(active, successes):
        w = wilson_interval(k, r["n"])
        r["low"], r["high"] = _num(w.low), _num(w.high)
    report["homogeneity"] = None
    if len(active) >= 2 and 0 < sum(successes) < sum(ns):
        funnel = funnel_flags(successes, ns)
        for r, flag in zip(active, funnel.flags):
            r["funnel"] = flag
        table = [[k, n - k] for k, n in zip(successes, ns)]
        h = homogeneity_test(table)
        report["homogeneity"] = {"chi2": _num(h.chi2), "dof": h.dof, "p": _num(h.p)}
        shrink = shrink_shares(successes, ns)
        for r, shrunk, rank in zip(active, shrink.shrunk, shrink.rank):
            r["shrunk"], r["rank"] = _num(shrunk), int(rank)
    report["units"] = rows

    # Reliability per factor, from the factor moments of the window's months.
    moments: dict[str, list[Any]] = {}
    for (_u, _month, fkey), (n, sums, cross) in tables.factors.items():
        if fkey not in moments:
            moments[fkey] = [0, np.zeros(len(sums)), np.zeros((len(sums), len(sums)))]
        moments[fkey][0] += n
        moments[fkey][1] += np.asarray(sums, dtype=float)
        moments[fkey][2] += np.asarray(cross, dtype=float)
    reliability = []
    for fkey in scoring.factors:
        n, sums, cross = moments.get(fkey, [0, None, None])
        entry = {"factor": fkey, "alpha": None, "n": int(n)}
        if n >= 3 and len(scoring.factors[fkey]) >= 2:
            try:
                entry["alpha"] = _num(cronbach_alpha(int(n), sums, cross).alpha)
            except ValueError:
                entry["alpha"] = None
        reliability.append(entry)
    report["reliability"] = reliability

    # Hour × weekday (local time; weekday 0 = Monday).
    wk, hr, sat_flags, cnt = [], [], [], []
    for (_unit, _month, weekday, hour), values in tables.responses.items():
        responses, scored, satisfied = values[0], values[1], values[2]
        if responses:
            wk += [weekday, weekday]
            hr += [hour, hour]
            sat_flags += [True, False]
            cnt += [satisfied, scored - satisfied]
    if wk and sum(cnt):
        pattern = hour_weekday_pattern(wk, hr, sat_flags, cnt)
        responses_grid = np.zeros((7, 24), dtype=int)
        for (_unit, _month, weekday, hour), values in tables.responses.items():
            responses_grid[weekday, hour] += values[0]
        report["pattern"] = {"responses": responses_grid.tolist(),
                             "share": [[_num(v) for v in row] for row in pattern.share]}
    else:
        report["pattern"] = None
    return report
