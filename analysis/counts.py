"""Count tables from the database: the only module of ``analysis`` that talks to it.

It uses SQLAlchemy Core only (lightweight ``table()``/``column()`` constructs naming the
service's tables), so ``analysis`` imports nothing of the web application. The same
:class:`CountTables` come either from the rollups (:func:`from_rollups`, cost grows with
units × months: whole months are read from month-level rows) or straight from the raw
answers (:func:`from_raw`, cost grows with the number of responses); the report built from either is the same, which the tests check
on random data.

Local days are Asia/Ho_Chi_Minh days. That zone has been UTC+7 without daylight saving
since 1975, so the raw path shifts UTC timestamps by seven hours in SQL.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import orjson
import sqlalchemy as sa

from . import respondent as rl
from .instrument import Scoring, summarise_response, value_key

__all__ = ["Filters", "CountTables", "MonthCounts", "from_rollups", "from_raw", "UnitInfo", "units_below", "stored_moments",
           "moments_payload", "month_split"]

LOCAL_OFFSET = timedelta(hours=7)

_unit = sa.table("unit", sa.column("id"), sa.column("path"), sa.column("parent_id"), sa.column("name_vi"),
                 sa.column("name_en"), sa.column("code"), sa.column("kind"), sa.column("active"))
_response = sa.table("response", sa.column("id"), sa.column("campaign_id"), sa.column("unit_id"),
                     sa.column("instrument_version_id"), sa.column("channel"), sa.column("trust"),
                     sa.column("submitted_at", sa.DateTime()))
_answer = sa.table("answer", sa.column("response_id"), sa.column("question_key"), sa.column("value_int"),
                   sa.column("value_text"))
# JSON documents are read as text and decoded here (``_json``).
_TYPES = {"day": sa.Date(), "month": sa.Date(), "sums": sa.JSON(), "cross": sa.JSON()}
_DIMS = ("campaign_id", "unit_id", "instrument_version_id", "channel", "trust")
_cell = sa.table("rollup_cell", *(sa.column(c, _TYPES.get(c)) for c in _DIMS + ("day", "counts")))
_resp = sa.table("rollup_response", *(sa.column(c, _TYPES.get(c)) for c in _DIMS + ("day", "hours")))
_cell_month = sa.table("rollup_cell_month", *(sa.column(c, _TYPES.get(c)) for c in _DIMS + ("month", "counts")))
_resp_month = sa.table("rollup_response_month", *(sa.column(c, _TYPES.get(c)) for c in _DIMS + ("month", "grid")))
_moments = sa.table("rollup_moments", *(sa.column(c, {"month": sa.Date(), "moments": sa.JSON()}.get(c)) for c in (
    "campaign_id", "unit_id", "instrument_version_id", "month", "channel", "trust", "n", "moments")))
_factor = sa.table("rollup_factor", *(sa.column(c, _TYPES.get(c)) for c in (
    "campaign_id", "unit_id", "instrument_version_id", "month", "channel", "trust", "factor_key", "n", "sums",
    "cross")))


@dataclass(frozen=True)
class Filters:
    """What a report covers.

    Attributes: ``unit_path`` (the unit whose subtree is covered, a materialized path),
    ``version_ids`` (instrument versions included), ``date_from``/``date_to`` (local days,
    inclusive), ``channels`` (``None`` for all), ``include_suspect``, ``campaign_id``
    (``None`` for all campaigns), ``also_paths`` (further subtrees covered: the predecessors
    of a unit that succeeded others, whose answers its report includes).
    """

    unit_path: str
    version_ids: tuple[int, ...]
    date_from: date
    date_to: date
    channels: tuple[str, ...] | None = None
    include_suspect: bool = False
    campaign_id: int | None = None
    also_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.unit_path.startswith("/") or not self.unit_path.endswith("/"):
            raise ValueError("unit_path must be a materialized path such as '/vn/qt/'")
        if not self.version_ids:
            raise ValueError("at least one instrument version must be included")
        if self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")
        if any(not p.startswith("/") or not p.endswith("/") for p in self.also_paths):
            raise ValueError("also_paths must be materialized paths such as '/vn/qt/p1/'")


@dataclass(eq=False)
class MonthCounts:
    """The sufficient statistics of one unit and one calendar month of a window.

    Attributes:
    ``cells`` — ``{question_key: {value_key: n}}``, the answers given on the window's
    days of that month;
    ``hours`` — ``{weekday: {hour: [responses, scored, satisfied, all_satisfied,
    points_n, points_sum, points_sumsq]}}``, per-response sums by local weekday
    (0 = Monday) and hour, on the window's days of that month; weekday and hour are
    strings (``"0"``–``"6"``, ``"0"``–``"23"``), as the JSON documents have them;
    ``moments`` — the stored respondent moments of the whole month, one entry per
    stored row: ``(item keys, n, sums, upper triangle of the cross-products)`` in the
    form of :meth:`analysis.respondent.Moments.to_json` (versions, channels, trust
    levels and campaigns give separate rows; a report sums them in its own layout).

    The documents are kept as decoded (plain dicts and lists), so reading a month costs
    one JSON decoding, not one Python operation per number.
    """

    cells: dict[str, dict[str, int]] = field(default_factory=dict)
    hours: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    moments: list[tuple[tuple[str, ...], int, list[int], list[int]]] = field(default_factory=list)


@dataclass(eq=False)
class CountTables:
    """Sufficient statistics for a report, by (unit, month).

    Attributes:
    ``months`` — (unit_id, month) → :class:`MonthCounts` (``month`` is its first day:
    reports group by month or quarter, so the month is the finest grain they need);
    ``factors`` — factor_key → (n, sums, cross): over the respondents of the whole
    months that the window touches who answered every item of the factor, their
    number, Σx per item and Σxxᵀ (all Cronbach's alpha needs; reports only need the
    window's total).

    The flat views :attr:`cells` (unit, month, question, value) → answers, and
    :attr:`responses` (unit, month, weekday, hour) → the seven sums, are built on
    demand. Two tables are equal when their counts, sums and factor moments are, and
    their respondent moments summed per (unit, month, item layout) are.
    """

    months: dict[tuple[int, date], MonthCounts] = field(default_factory=dict)
    factors: dict[str, tuple[int, list[int], list[list[int]]]] = field(default_factory=dict)

    def month(self, unit_id: int, month: date) -> MonthCounts:
        key = (unit_id, month)
        got = self.months.get(key)
        if got is None:
            got = self.months[key] = MonthCounts()
        return got

    @property
    def cells(self) -> dict[tuple[int, date, str, str], int]:
        return {(u, m, q, v): n for (u, m), mc in self.months.items() for q, values in mc.cells.items()
                for v, n in values.items() if n}

    @property
    def responses(self) -> dict[tuple[int, date, int, int], list[int]]:
        return {(u, m, int(wd), int(h)): list(sums) for (u, m), mc in self.months.items()
                for wd, by_hour in mc.hours.items() for h, sums in by_hour.items() if sums[0]}

    def summed_moments(self) -> dict[tuple[int, date, tuple[str, ...]], tuple[int, tuple[int, ...], tuple[int, ...]]]:
        """Respondent moments summed per (unit, month, item keys), exactly (Python ints)."""
        out: dict = {}
        for (u, m), mc in self.months.items():
            for keys, n, sums, upper in mc.moments:
                if not n:
                    continue
                key = (u, m, tuple(keys))
                if key in out:
                    n0, s0, u0 = out[key]
                    out[key] = (n0 + n, tuple(a + b for a, b in zip(s0, sums)),
                                tuple(a + b for a, b in zip(u0, upper)))
                else:
                    out[key] = (int(n), tuple(sums), tuple(upper))
        return out

    def moment_rows(self, items: Sequence[str]) -> tuple[list[int], list[int], list[list[int]], list[list[int]]]:
        """The stored respondent moments of every month, in the layout of ``items``:
        ``(month index, n, sums, upper)`` as four columns, one entry per stored row with
        respondents (``month index`` counts the months in :attr:`months`' order). Rows of
        another layout (another version) are mapped by item key
        (:func:`analysis.respondent.remap_items`)."""
        items = tuple(items)
        at, ns, sums_, uppers = [], [], [], []
        for i, mc in enumerate(self.months.values()):
            for keys, n, sums, upper in mc.moments:
                if not n:
                    continue
                if tuple(keys) != items:
                    moved = rl.remap_items(stored_moments({"keys": keys, "n": n, "sums": sums, "cross": upper})[1],
                                           keys, items).to_json()
                    n, sums, upper = moved["n"], moved["sums"], moved["cross"]
                at.append(i)
                ns.append(n)
                sums_.append(sums)
                uppers.append(upper)
        return at, ns, sums_, uppers

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CountTables):
            return NotImplemented
        return (self.cells == other.cells and self.responses == other.responses
                and self.factors == other.factors and self.summed_moments() == other.summed_moments())


@dataclass(frozen=True)
class UnitInfo:
    """A unit as reports show it: ``id``, ``path``, ``name_vi``, ``name_en``, ``code``, ``kind``."""

    id: int
    path: str
    name_vi: str
    name_en: str
    code: str | None
    kind: str


def _like_prefix(path: str) -> str:
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def units_below(conn: sa.Connection, path: str) -> list[UnitInfo]:
    """The unit at ``path`` and every unit below it, by path."""
    rows = conn.execute(
        sa.select(_unit.c.id, _unit.c.path, _unit.c.name_vi, _unit.c.name_en, _unit.c.code, _unit.c.kind)
        .where(_unit.c.path.like(_like_prefix(path), escape="\\")).order_by(_unit.c.path)
    ).all()
    return [UnitInfo(*r) for r in rows]


def _filter_clauses(table, filters: Filters) -> list[Any]:
    """What every count respects, on ``response`` and on the rollup tables alike: the
    unit's subtree, the versions, the channels, trust and campaign."""
    paths = (filters.unit_path, *filters.also_paths)
    where = [
        table.c.unit_id.in_(sa.select(_unit.c.id).where(
            sa.or_(*(_unit.c.path.like(_like_prefix(p), escape="\\") for p in paths)))),
        table.c.instrument_version_id.in_(filters.version_ids),
    ]
    if filters.channels is not None:
        where.append(table.c.channel.in_(filters.channels))
    if not filters.include_suspect:
        where.append(table.c.trust == "ok")
    if filters.campaign_id is not None:
        where.append(table.c.campaign_id == filters.campaign_id)
    return where


def _common_where(table, filters: Filters, day_col) -> list[Any]:
    return _filter_clauses(table, filters) + [day_col >= filters.date_from, day_col <= filters.date_to]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def month_split(date_from: date, date_to: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """How a window of local days is read from the rollups.

    Returns ``(months, edges)``: ``months`` is ``(first, after)``, the first days of the
    first whole month inside the window and of the month after the last one (``None``
    when no whole month fits), read from the month-level tables; ``edges`` are the
    inclusive day ranges of the months that the window starts or ends inside (at most
    two), read from the day-level tables.

    >>> months, edges = month_split(date(2026, 1, 15), date(2026, 3, 10))
    >>> [d.isoformat() for d in months], [(a.isoformat(), b.isoformat()) for a, b in edges]
    (['2026-02-01', '2026-03-01'], [('2026-01-15', '2026-01-31'), ('2026-03-01', '2026-03-10')])
    >>> month_split(date(2026, 1, 1), date(2026, 12, 31))
    ((datetime.date(2026, 1, 1), datetime.date(2027, 1, 1)), [])
    >>> month_split(date(2026, 1, 15), date(2026, 2, 10))
    (None, [(datetime.date(2026, 1, 15), datetime.date(2026, 2, 10))])
    """
    first = date_from if date_from.day == 1 else _next_month(date_from)
    after = (date_to + timedelta(days=1)).replace(day=1) if date_to.day != _last_day(date_to) else _next_month(date_to)
    if first >= after:
        return None, [(date_from, date_to)]
    edges = []
    if date_from < first:
        edges.append((date_from, first - timedelta(days=1)))
    if after <= date_to:
        edges.append((after, date_to))
    return (first, after), edges


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _last_day(day: date) -> int:
    return (_next_month(day) - timedelta(days=1)).day


def _window_where(filters: Filters, table, column, months: tuple[date, date] | None,
                  edges: Sequence[tuple[date, date]]) -> list[Any]:
    """``_filter_clauses`` plus the window: whole months on a month column, or edge day
    ranges on a day column."""
    if months is not None:
        when = sa.and_(column >= months[0], column < months[1])
    else:
        when = sa.or_(*(sa.and_(column >= a, column <= b) for a, b in edges))
    return _filter_clauses(table, filters) + [when]


def from_rollups(conn: sa.Connection, filters: Filters) -> CountTables:
    """Count tables summed from the rollup tables (call the catch-up first).

    The whole months inside the window come from the month-level documents
    (``rollup_cell_month``, ``rollup_response_month``: one row per unit, month, version,
    channel, trust and campaign) and only the months that the window starts or ends
    inside from the day-level ones (:func:`month_split`), so the rows read grow with
    units × months, not with days or responses. Factor and moment sums are monthly and
    cover the whole months that the window touches.

    JSON documents are read as text and decoded with orjson; a month document read once
    is kept as decoded (a second row of the same unit and month, another channel or
    campaign, is added into it).
    """
    out = CountTables()
    months, edges = month_split(filters.date_from, filters.date_to)
    if months is not None:
        for unit_id, month, payload in conn.execute(
            sa.select(_cell_month.c.unit_id, _cell_month.c.month, sa.cast(_cell_month.c.counts, sa.Text))
            .where(*_window_where(filters, _cell_month, _cell_month.c.month, months, ()))
        ):
            mc = out.month(unit_id, _as_date(month))
            _add_doc(mc.cells, _loads(payload))
        for unit_id, month, payload in conn.execute(
            sa.select(_resp_month.c.unit_id, _resp_month.c.month, sa.cast(_resp_month.c.grid, sa.Text))
            .where(*_window_where(filters, _resp_month, _resp_month.c.month, months, ()))
        ):
            hours = out.month(unit_id, _as_date(month)).hours
            for weekday, by_hour in _loads(payload).items():
                _add_hours(hours, weekday, by_hour)
    if edges:
        for unit_id, day, payload in conn.execute(
            sa.select(_cell.c.unit_id, _cell.c.day, sa.cast(_cell.c.counts, sa.Text))
            .where(*_window_where(filters, _cell, _cell.c.day, None, edges))
        ):
            _add_doc(out.month(unit_id, _as_date(day).replace(day=1)).cells, _loads(payload))
        for unit_id, day, payload in conn.execute(
            sa.select(_resp.c.unit_id, _resp.c.day, sa.cast(_resp.c.hours, sa.Text))
            .where(*_window_where(filters, _resp, _resp.c.day, None, edges))
        ):
            day = _as_date(day)
            _add_hours(out.month(unit_id, day.replace(day=1)).hours, str(day.weekday()), _loads(payload))

    month_from = filters.date_from.replace(day=1)
    factor_filters = Filters(filters.unit_path, filters.version_ids, month_from, filters.date_to,
                             filters.channels, filters.include_suspect, filters.campaign_id, filters.also_paths)
    # Factor moments: only their sums over the window are needed, so the database
    # concatenates each factor's stored arrays into one JSON text, decoded at once.
    def concat(column):
        text = sa.cast(column, sa.Text)
        if conn.dialect.name == "postgresql":
            return sa.func.string_agg(text, sa.literal_column("','"))
        return sa.func.group_concat(text, ",")

    for fkey, n, fsums, cross in conn.execute(
        sa.select(_factor.c.factor_key, sa.func.sum(_factor.c.n), concat(_factor.c.sums), concat(_factor.c.cross))
        .where(*_common_where(_factor, factor_filters, _factor.c.month), _factor.c.n != 0)
        .group_by(_factor.c.factor_key)
    ):
        out.factors[fkey] = (int(n), *_sum_arrays(_loads(f"[{fsums}]"), _loads(f"[{cross}]")))
    for unit_id, month, n, payload in conn.execute(
        sa.select(_moments.c.unit_id, _moments.c.month, _moments.c.n, sa.cast(_moments.c.moments, sa.Text))
        .where(*_common_where(_moments, factor_filters, _moments.c.month))
        .order_by(_moments.c.unit_id, _moments.c.month, _moments.c.instrument_version_id, _moments.c.channel,
                  _moments.c.trust, _moments.c.campaign_id)
    ):
        if n:
            doc = _loads(payload)
            out.month(unit_id, _as_date(month)).moments.append(
                (tuple(doc["keys"]), doc["n"], doc["sums"], doc["cross"]))
    return out


def stored_moments(payload: Mapping[str, Any]) -> tuple[tuple[str, ...], rl.Moments]:
    """The item keys and moments of a ``rollup_moments.moments`` value
    (``{"keys": [...], "n": …, "sums": […], "cross": […]}``)."""
    return tuple(payload["keys"]), rl.Moments.from_json({k: payload[k] for k in ("n", "sums", "cross")})


def moments_payload(keys: Sequence[str], moments: rl.Moments) -> dict[str, Any]:
    """What ``rollup_moments.moments`` stores: the layout's item keys and the moments."""
    return {"keys": list(keys), **moments.to_json()}


def _add_doc(target: dict, doc: Mapping[str, Mapping[str, int]]) -> None:
    """Add a ``counts`` document (``{question_key: {value_key: n}}``) into ``target``;
    the first document of a question is taken as it is (no copy: it was just decoded)."""
    for key, values in doc.items():
        have = target.get(key)
        if have is None:
            target[key] = dict(values) if not isinstance(values, dict) else values
        else:
            for vkey, n in values.items():
                have[vkey] = have.get(vkey, 0) + n


def _add_hours(hours: dict, weekday: str, by_hour: dict[str, list[int]]) -> None:
    """Add ``{hour: [7 sums]}`` (just decoded: taken as it is when new) under ``weekday``
    of ``hours`` (``{weekday: {hour: sums}}``, string keys)."""
    target = hours.get(weekday)
    if target is None:
        hours[weekday] = by_hour
        return
    for hour, sums in by_hour.items():
        add_into(target, hour, sums)


def add_into(target: dict, key: Any, values: Sequence[int]) -> None:
    """``target[key] += values`` element by element; a copy of ``values`` if ``key`` is new.
    The one way per-response sums are accumulated, by the catch-up and by the reader."""
    acc = target.get(key)
    if acc is None:
        target[key] = list(values)
    else:
        for i, value in enumerate(values):
            acc[i] += value


def _sum_arrays(sums: Sequence[Sequence[int]], cross: Sequence[Sequence[Sequence[int]]]
                ) -> tuple[list[int], list[list[int]]]:
    """Element-wise sums of factor rows' Σx vectors and Σxxᵀ matrices (exact integers:
    int64 when no sum can overflow, Python integers otherwise)."""
    try:
        s_arr, c_arr = np.array(sums, dtype=np.int64), np.array(cross, dtype=np.int64)
        big = max(int(np.abs(s_arr).max(initial=0)), int(np.abs(c_arr).max(initial=0)))
        if s_arr.ndim == 2 and c_arr.ndim == 3 and big * max(1, len(sums)) < 2**62:
            return s_arr.sum(axis=0).tolist(), c_arr.sum(axis=0).tolist()
    except (ValueError, OverflowError):  # ragged rows or numbers beyond int64
        pass
    total_s = [sum(col) for col in zip(*sums)]
    total_c = [[sum(col) for col in zip(*rows)] for rows in zip(*cross)]
    return total_s, total_c


def _loads(value: Any) -> Any:
    """A JSON column read as text (``CAST(… AS TEXT)``), decoded; already-decoded values pass."""
    if isinstance(value, (str, bytes)):
        return orjson.loads(value)
    return value


def from_raw(conn: sa.Connection, filters: Filters, scorings: Mapping[int, Scoring],
             counted_questions: Mapping[int, Iterable[str]]) -> CountTables:
    """Count tables computed straight from responses and answers.

    ``scorings`` and ``counted_questions`` give, per instrument version id, its scoring
    plan and the keys of the questions whose answers are counted (not free text).

    Factor statistics (Cronbach's alpha) are kept in monthly cells, so they cover the
    whole months that the window touches, from the month of ``date_from`` to the end of
    the month of ``date_to``, exactly as the rollup's monthly cells do.
    """
    out = CountTables()
    month_from = filters.date_from.replace(day=1)
    month_to_end = (filters.date_to.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    rows = conn.execute(
        sa.select(_response.c.id, _response.c.unit_id, _response.c.instrument_version_id, _response.c.submitted_at)
        .where(*_raw_where(filters, month_from, month_to_end))
        .order_by(_response.c.id)
    ).all()
    meta = {}
    for rid, unit_id, version_id, submitted in rows:
        local = _as_utc(submitted) + LOCAL_OFFSET
        meta[rid] = (unit_id, version_id, local.date(), local.hour)
    answers: dict[int, list[tuple[str, int | None, str | None]]] = defaultdict(list)
    ids = list(meta)
    for start in range(0, len(ids), 900):
        for rid, key, vi, vt in conn.execute(
            sa.select(_answer.c.response_id, _answer.c.question_key, _answer.c.value_int, _answer.c.value_text)
            .where(_answer.c.response_id.in_(ids[start:start + 900]))
        ):
            answers[rid].append((key, vi, vt))
    counted = {v: frozenset(keys) for v, keys in counted_questions.items()}
    layouts = {v: rl.feature_layout(sc) for v, sc in scorings.items()}
    features: dict[tuple[int, date, int], list[tuple[int, ...]]] = defaultdict(list)
    for rid, (unit_id, version_id, day, hour) in meta.items():
        given = answers.get(rid, [])
        summary = summarise_response(scorings[version_id], given)
        vector = rl.respondent_features(scorings[version_id], given, layouts[version_id])
        features[(unit_id, day.replace(day=1), version_id)].append(vector)
        if filters.date_from <= day <= filters.date_to:
            mc = out.month(unit_id, day.replace(day=1))
            for key, vi, vt in given:
                if key in counted[version_id]:
                    values = mc.cells.setdefault(key, {})
                    vk = value_key(vi, vt)
                    values[vk] = values.get(vk, 0) + 1
            acc = mc.hours.setdefault(str(day.weekday()), {}).setdefault(str(hour), [0] * 7)
            acc[0] += 1
            acc[1] += summary.scored
            acc[2] += summary.satisfied
            acc[3] += summary.all_satisfied
            if summary.points is not None:
                acc[4] += 1
                acc[5] += summary.points
                acc[6] += summary.points ** 2
        for factor, vector in summary.factor_vectors.items():
            fk = factor
            k = len(vector)
            n, sums, cross = out.factors.get(fk, (0, [0] * k, [[0] * k for _ in range(k)]))
            sums = [s + x for s, x in zip(sums, vector)]
            cross = [[c + xi * xj for c, xj in zip(row, vector)] for row, xi in zip(cross, vector)]
            out.factors[fk] = (n + 1, sums, cross)
    for (unit_id, month, version_id), rows in sorted(features.items()):
        doc = rl.Moments.of(rows).to_json()
        out.month(unit_id, month).moments.append((tuple(layouts[version_id].items), doc["n"], doc["sums"],
                                                  doc["cross"]))
    return out


def _as_utc(value: Any):
    from datetime import datetime, timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(timezone.utc).replace(tzinfo=None)


def _raw_where(filters: Filters, first_day: date, last_day: date) -> list[Any]:
    # Stored timestamps are naive UTC; local day d starts at d 00:00 +07:00 = (d - 7h) UTC.
    from datetime import datetime

    start = datetime.combine(first_day, datetime.min.time()) - LOCAL_OFFSET
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time()) - LOCAL_OFFSET
    return _filter_clauses(_response, filters) + [_response.c.submitted_at >= start, _response.c.submitted_at < end]
