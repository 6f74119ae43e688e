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

import sqlalchemy as sa

from . import respondent as rl
from .instrument import Scoring, summarise_response, value_key

__all__ = ["Filters", "CountTables", "from_rollups", "from_raw", "UnitInfo", "units_below", "stored_moments",
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
    (``None`` for all campaigns).
    """

    unit_path: str
    version_ids: tuple[int, ...]
    date_from: date
    date_to: date
    channels: tuple[str, ...] | None = None
    include_suspect: bool = False
    campaign_id: int | None = None

    def __post_init__(self) -> None:
        if not self.unit_path.startswith("/") or not self.unit_path.endswith("/"):
            raise ValueError("unit_path must be a materialized path such as '/vn/qt/'")
        if not self.version_ids:
            raise ValueError("at least one instrument version must be included")
        if self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")


@dataclass
class CountTables:
    """Sufficient statistics for a report.

    Attributes:
    ``cells`` — (unit_id, month, question_key, value_key) → answers given on the
    window's days, summed by calendar month (``month`` is its first day: reports group
    by month or quarter, so the month is the finest grain they need, and it keeps the
    table small — one row per unit, month, question and value however many answers);
    ``responses`` — (unit_id, month, weekday, hour) → [responses, scored, satisfied,
    all_satisfied, points_n, points_sum, points_sumsq], local weekday 0 = Monday;
    ``factors`` — (unit_id, month, factor_key) → (n, sums, cross), whole months that the
    window touches;
    ``moments`` — (unit_id, month) → (item keys, :class:`analysis.respondent.Moments`): the
    respondents' feature moments of the whole months that the window touches, in the
    feature layout of those item keys (versions with the same items are summed).
    """

    cells: dict[tuple[int, date, str, str], int] = field(default_factory=dict)
    responses: dict[tuple[int, date, int], list[int]] = field(default_factory=dict)
    factors: dict[tuple[int, date, str], tuple[int, list[int], list[list[int]]]] = field(default_factory=dict)
    moments: dict[tuple[int, date], tuple[tuple[str, ...], rl.Moments]] = field(default_factory=dict)

    def add_moments(self, unit_id: int, month: date, keys: tuple[str, ...], moments: rl.Moments) -> None:
        """Add a month's moments; moments of another item layout are mapped onto the first."""
        key = (unit_id, month)
        if key not in self.moments:
            self.moments[key] = (keys, moments)
            return
        keys0, m0 = self.moments[key]
        self.moments[key] = (keys0, m0 + (moments if keys == keys0 else rl.remap_items(moments, keys, keys0)))


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
    where = [
        table.c.unit_id.in_(sa.select(_unit.c.id).where(_unit.c.path.like(_like_prefix(filters.unit_path), escape="\\"))),
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
    """
    out = CountTables()
    months, edges = month_split(filters.date_from, filters.date_to)
    cells, responses = out.cells, out.responses
    if months is not None:
        for unit_id, month, payload in conn.execute(
            sa.select(_cell_month.c.unit_id, _cell_month.c.month, _cell_month.c.counts)
            .where(*_window_where(filters, _cell_month, _cell_month.c.month, months, ()))
        ).all():
            _add_counts(cells, unit_id, _as_date(month), _json(payload))
        for unit_id, month, payload in conn.execute(
            sa.select(_resp_month.c.unit_id, _resp_month.c.month, _resp_month.c.grid)
            .where(*_window_where(filters, _resp_month, _resp_month.c.month, months, ()))
        ).all():
            month = _as_date(month)
            for weekday, by_hour in _json(payload).items():
                _add_sums(responses, (unit_id, month, int(weekday)), by_hour)
    if edges:
        for unit_id, day, payload in conn.execute(
            sa.select(_cell.c.unit_id, _cell.c.day, _cell.c.counts)
            .where(*_window_where(filters, _cell, _cell.c.day, None, edges))
        ).all():
            _add_counts(cells, unit_id, _as_date(day).replace(day=1), _json(payload))
        for unit_id, day, payload in conn.execute(
            sa.select(_resp.c.unit_id, _resp.c.day, _resp.c.hours)
            .where(*_window_where(filters, _resp, _resp.c.day, None, edges))
        ).all():
            day = _as_date(day)
            _add_sums(responses, (unit_id, day.replace(day=1), day.weekday()), _json(payload))
    for key in [k for k, n in cells.items() if not n]:
        del cells[key]
    for key in [k for k, v in responses.items() if not v[0]]:
        del responses[key]

    month_from = filters.date_from.replace(day=1)
    factor_filters = Filters(filters.unit_path, filters.version_ids, month_from, filters.date_to,
                             filters.channels, filters.include_suspect, filters.campaign_id)
    for unit_id, month, fkey, n, fsums, cross in conn.execute(
        sa.select(_factor.c.unit_id, _factor.c.month, _factor.c.factor_key, _factor.c.n, _factor.c.sums,
                  _factor.c.cross)
        .where(*_common_where(_factor, factor_filters, _factor.c.month))
    ):
        fsums, cross = _json(fsums), _json(cross)
        key = (unit_id, _as_date(month), fkey)
        if key in out.factors:
            n0, s0, c0 = out.factors[key]
            n, fsums = n0 + n, [a + b for a, b in zip(s0, fsums)]
            cross = [[a + b for a, b in zip(r0, r1)] for r0, r1 in zip(c0, cross)]
        out.factors[key] = (int(n), fsums, cross)  # fresh lists from the JSON or the sums above
    out.factors = {k: v for k, v in out.factors.items() if v[0]}
    for unit_id, month, n, payload in conn.execute(
        sa.select(_moments.c.unit_id, _moments.c.month, _moments.c.n, _moments.c.moments)
        .where(*_common_where(_moments, factor_filters, _moments.c.month))
        .order_by(_moments.c.unit_id, _moments.c.month, _moments.c.instrument_version_id, _moments.c.channel,
                  _moments.c.trust, _moments.c.campaign_id)
    ):
        if n:
            keys, moments = stored_moments(_json(payload))
            out.add_moments(unit_id, _as_date(month), keys, moments)
    return out


def stored_moments(payload: Mapping[str, Any]) -> tuple[tuple[str, ...], rl.Moments]:
    """The item keys and moments of a ``rollup_moments.moments`` value
    (``{"keys": [...], "n": …, "sums": […], "cross": […]}``)."""
    return tuple(payload["keys"]), rl.Moments.from_json({k: payload[k] for k in ("n", "sums", "cross")})


def moments_payload(keys: Sequence[str], moments: rl.Moments) -> dict[str, Any]:
    """What ``rollup_moments.moments`` stores: the layout's item keys and the moments."""
    return {"keys": list(keys), **moments.to_json()}


def _add_counts(cells: dict, unit_id: int, month: date, counts: Mapping[str, Mapping[str, int]]) -> None:
    """Add a ``counts`` document (``{question_key: {value_key: n}}``) to ``cells``."""
    for key, values in counts.items():
        for vkey, n in values.items():
            cell = (unit_id, month, key, vkey)
            cells[cell] = cells.get(cell, 0) + n


_HOURS = {str(h): h for h in range(24)}


def add_into(target: dict, key: Any, values: Sequence[int]) -> None:
    """``target[key] += values`` element by element; a copy of ``values`` if ``key`` is new.
    The one way per-response sums are accumulated, by the catch-up and by the reader."""
    acc = target.get(key)
    if acc is None:
        target[key] = list(values)
    else:
        for i, value in enumerate(values):
            acc[i] += value


def _add_sums(responses: dict, head: tuple[int, date, int], by_hour: Mapping[str, Sequence[int]]) -> None:
    """Add ``{hour: [7 sums]}`` to ``responses`` under (unit, month, weekday, hour)."""
    unit_id, month, weekday = head
    for hour, sums in by_hour.items():
        add_into(responses, (unit_id, month, weekday, _HOURS.get(hour) if type(hour) is str else int(hour)), sums)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        import json

        return json.loads(value)
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
            for key, vi, vt in given:
                if key in counted[version_id]:
                    ck = (unit_id, day.replace(day=1), key, value_key(vi, vt))
                    out.cells[ck] = out.cells.get(ck, 0) + 1
            acc = out.responses.setdefault((unit_id, day.replace(day=1), day.weekday(), hour), [0] * 7)
            acc[0] += 1
            acc[1] += summary.scored
            acc[2] += summary.satisfied
            acc[3] += summary.all_satisfied
            if summary.points is not None:
                acc[4] += 1
                acc[5] += summary.points
                acc[6] += summary.points ** 2
        month = day.replace(day=1)
        for factor, vector in summary.factor_vectors.items():
            fk = (unit_id, month, factor)
            k = len(vector)
            n, sums, cross = out.factors.get(fk, (0, [0] * k, [[0] * k for _ in range(k)]))
            sums = [s + x for s, x in zip(sums, vector)]
            cross = [[c + xi * xj for c, xj in zip(row, vector)] for row, xi in zip(cross, vector)]
            out.factors[fk] = (n + 1, sums, cross)
    for (unit_id, month, version_id), rows in sorted(features.items()):
        out.add_moments(unit_id, month, layouts[version_id].items, rl.Moments.of(rows))
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
