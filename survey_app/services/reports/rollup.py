"""Keeping the rollups up to date (see ``survey_app/models/rollup.py``).

``catch_up`` adds every response not yet rolled up to the rollup tables and marks it, one
batch per transaction. Catch-ups are serialised by writing the ``rollup_state`` row first:
on PostgreSQL that row lock makes a second catch-up wait, on SQLite the write takes the
database's write lock; either way no response is counted twice. ``reclassify`` moves a
rolled-up response between trust levels by subtracting and re-adding its contribution.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from itertools import compress
from typing import Any, Iterable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import JSON, Date, not_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis import respondent as rl
from analysis._common import group_rows
from analysis.instrument import scoring_of, value_key

from ...models import (InstrumentVersion, Response, RollupCell, RollupCellMonth, RollupFactor, RollupMoments,
                      RollupResponse, RollupResponseMonth, RollupState)
from .gcpause import gc_paused

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COUNTED_TYPES = frozenset({"scale", "single", "multi", "yesno", "rating", "percent", "number"})
STATE_NAME = "main"
# "Not rolled up yet", written as the predicate of the partial index ix_response_pending_rollup
# (`NOT rolled_up`) so that PostgreSQL uses it: `rolled_up IS false` is another expression
# (it differs on NULL), which the planner cannot match to the index, and scanned the table.
_PENDING = not_(Response.rolled_up)


@dataclass(frozen=True)
class CatchUp:
    responses: int
    batches: int


def local_day_hour(moment: datetime) -> tuple[date, int]:
    local = moment.astimezone(LOCAL_TZ)
    return local.date(), local.hour


class _Version:
    """What a catch-up needs of one instrument version, worked out once: its scoring plan,
    the questions whose answers are counted, the respondent feature layout, and for the
    scored questions their column, valid levels, satisfied levels and points."""

    def __init__(self, snapshot: Mapping[str, Any]):
        self.scoring = scoring = scoring_of(snapshot)
        self.counted = frozenset(q["key"] for q in snapshot["questions"] if q["type"] in COUNTED_TYPES)
        self.layout = rl.feature_layout(scoring)
        questions = scoring.questions
        self.position = {q.key: c for c, q in enumerate(questions)}
        # Which numbers are levels: level_table[c, v - low] for low <= v <= high.
        every = [v for q in questions for v in q.levels]
        self.level_range = (min(every, default=0), max(every, default=0))
        low, high = self.level_range
        self.level_table = np.zeros((max(len(questions), 1), high - low + 1), dtype=bool)
        for c, q in enumerate(questions):
            self.level_table[c, [v - low for v in q.levels]] = True
        self.satisfied = tuple(sorted(q.satisfied) for q in questions)
        self.points = scoring.method == "points"
        if self.points:
            self.level_points = tuple(dict(q.points or {}) for q in questions)
            self.best = np.array([max((q.points or {}).values(), default=0) for q in questions], dtype=np.int64)
            self.answered_scale = scoring.answered_scale
            self.max_total = int(scoring.params.get("max_total") or 0)
        self.factor_columns = {f: [self.position[k] for k in items] for f, items in scoring.factors.items()}


class _Plans:
    """Instrument versions by id, read once per catch-up."""

    def __init__(self, session: Session):
        self.session = session
        self.versions: dict[int, _Version] = {}

    def version(self, version_id: int) -> _Version:
        if version_id not in self.versions:
            snapshot = self.session.scalar(select(InstrumentVersion.snapshot).where(InstrumentVersion.id == version_id))
            self.versions[version_id] = _Version(snapshot)
        return self.versions[version_id]


# Array element types for PostgreSQL's unnest(), by SQLAlchemy column type.
_PG_ARRAY_TYPES = (("BigInteger", "bigint"), ("SmallInteger", "smallint"), ("Integer", "integer"),
                   ("Date", "date"), ("String", "text"), ("JSON", "text"))


def _pg_array_type(column) -> str:
    names = {type(column.type).__name__} | {t.__name__ for t in type(column.type).__mro__}
    for name, sql in _PG_ARRAY_TYPES:
        if name in names:
            return sql
    raise TypeError(f"no array type for {column.name} ({column.type})")


def _upsert(session: Session, table, names: Sequence[str], rows: list[tuple], add: Sequence[str] = (),
            replace: Sequence[str] = ()) -> None:
    """Insert ``rows`` (tuples of the columns ``names``), or on a primary-key conflict add
    the columns ``add`` to the stored row and overwrite ``replace``.

    One statement for all the rows: on PostgreSQL ``INSERT … SELECT FROM unnest(arrays)
    … ON CONFLICT DO UPDATE`` with one array parameter per column; on SQLite (in process,
    no round trips) the driver's ``executemany`` of ``INSERT … ON CONFLICT DO UPDATE``.
    The rows' keys must be distinct (they are summed before).
    """
    if not rows:
        return
    conn = session.connection()
    columns = [table.c[name] for name in names]
    quote = conn.dialect.identifier_preparer.quote
    names = [quote(c.name) for c in columns]
    pk = ", ".join(quote(c.name) for c in table.primary_key.columns)
    target = quote(table.name)
    sets = [f"{quote(c)} = {target}.{quote(c)} + excluded.{quote(c)}" for c in add]
    sets += [f"{quote(c)} = excluded.{quote(c)}" for c in replace]
    json_at = [i for i, c in enumerate(columns) if isinstance(c.type, JSON)]
    if json_at:
        rows = [tuple(json.dumps(v) if i in json_at else v for i, v in enumerate(row)) for row in rows]
    head = f"INSERT INTO {target} ({', '.join(names)}) "
    tail = f" ON CONFLICT ({pk}) DO UPDATE SET {', '.join(sets)}"
    if conn.dialect.name == "postgresql":
        # %b: arrays go in binary form (no quoting of JSON text; dumped in C by psycopg).
        arrays = [f"CAST(%b AS {_pg_array_type(c)}[])" for c in columns]
        aliases = [f"c{i}" for i in range(len(columns))]
        select_list = ", ".join(f"CAST({a} AS json)" if i in json_at else a for i, a in enumerate(aliases))
        sql = (head + f"SELECT {select_list} FROM unnest({', '.join(arrays)}) AS u({', '.join(aliases)})" + tail)
        conn.exec_driver_sql(sql, tuple(list(col) for col in zip(*rows)))
    else:
        date_at = [i for i, c in enumerate(columns) if isinstance(c.type, Date)]
        rows = [tuple(v.isoformat() if i in date_at else v for i, v in enumerate(row)) for row in rows]
        sql = head + f"VALUES ({', '.join('?' * len(columns))})" + tail
        conn.exec_driver_sql(sql, rows)


def _answers_of(conn, ids: Sequence[int]) -> list[tuple[int, str, int | None, str | None]]:
    """The answers ``(response_id, question_key, value_int, value_text)`` of the responses
    ``ids``, in no particular order.

    Read through the driver's cursor on the session's connection (same transaction):
    a batch has some 200,000 answers, and building a SQLAlchemy row for each cost more
    than the query. One statement per chunk of ids (:func:`_id_chunk`)."""
    rows: list[tuple[int, str, int | None, str | None]] = []
    postgresql = conn.dialect.name == "postgresql"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        size = _id_chunk(conn)
        for start in range(0, len(ids), size):
            chunk = list(ids[start:start + size])
            where = "= ANY(%b)" if postgresql else f"IN ({', '.join('?' * len(chunk))})"
            cursor.execute(f"SELECT response_id, question_key, value_int, value_text FROM answer "
                           f"WHERE response_id {where}", (chunk,) if postgresql else chunk)
            rows.extend(cursor.fetchall())
    finally:
        cursor.close()
    return rows


def _mark_rolled_up(session: Session, ids: Sequence[int]) -> None:
    """``rolled_up = true`` on the responses ``ids``: one statement with an array on
    PostgreSQL (not ten thousand bound parameters to render and parse), chunks on SQLite."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("UPDATE response SET rolled_up = true WHERE id = ANY(%b)", (list(ids),))
        return
    chunk = _id_chunk(conn)
    for start in range(0, len(ids), chunk):
        part = list(ids[start:start + chunk])
        conn.exec_driver_sql(f"UPDATE response SET rolled_up = 1 WHERE id IN ({', '.join('?' * len(part))})",
                             tuple(part))


def _id_chunk(conn) -> int:
    """How many ids go in one ``IN (…)``: SQLite builds may allow only 999 parameters."""
    return 10_000 if conn.dialect.name == "postgresql" else 900


def _existing(session: Session, table, columns: Sequence[str], keys: Iterable[tuple], values: Sequence[str]) -> dict:
    """The stored ``values`` of the rows of ``table`` whose ``columns`` are one of ``keys``,
    by key: one SELECT bounded by the units, months and versions of the keys."""
    keys = set(keys)
    if not keys:
        return {}
    c = table.c
    where = [c[name].in_(sorted({k[i] for k in keys})) for i, name in enumerate(columns)
             if name in ("unit_id", "day", "month", "instrument_version_id", "campaign_id")]
    out = {}
    for row in session.connection().execute(select(*(c[n] for n in columns), *(c[v] for v in values)).where(*where)):
        key = tuple(row[:len(columns)])
        if key in keys:
            out[key] = tuple(row[len(columns):])
    return out


def _exact_dtype(largest: int, rows: int):
    """int64 when no sum of ``rows`` products of two numbers up to ``largest`` can
    overflow it, Python integers (``object``) otherwise: the sums stay exact either way."""
    return np.int64 if largest * largest * max(rows, 1) < 2 ** 62 else object


def _grouped(groups: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """``(group, row indices)`` for each distinct value of ``groups``, rows in order."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    for begin, end in zip(starts, np.r_[starts[1:], len(order)]):
        yield int(sorted_groups[begin]), order[begin:end]


def _moments(matrix: np.ndarray, groups: np.ndarray) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """``(group, n, Σx, Σxxᵀ)`` of the rows of ``matrix`` by group."""
    for group, rows in _grouped(groups):
        part = matrix[rows]
        yield group, len(rows), part.sum(axis=0), part.T @ part


_DAY_COLS = ("campaign_id", "unit_id", "instrument_version_id", "day", "channel", "trust")
_MONTH_COLS = ("campaign_id", "unit_id", "instrument_version_id", "month", "channel", "trust")
_FACTOR_COLS = _MONTH_COLS + ("factor_key",)


class _Indexer(dict):
    """Distinct keys numbered in order of first appearance."""

    def of(self, key: tuple) -> int:
        index = self.get(key)
        if index is None:
            index = self[key] = len(self)
        return index

    def keys_in_order(self) -> list[tuple]:
        return list(self)


def _apply(session: Session, responses: Sequence[Any], sign: int, plans: _Plans,
           trust_override: str | None = None) -> None:
    """Add (sign=+1) or subtract (sign=-1) the contribution of ``responses``.

    Each item has ``id, campaign_id, unit_id, instrument_version_id, submitted_at,
    channel, trust``. The contribution is summed for the whole batch first, then written
    with a fixed number of statements whatever the number of responses: the answers are
    read in chunks of ids (:func:`_id_chunk`), and each of the six rollup tables gets one
    SELECT of the stored rows of the batch's keys and one set-based upsert of the sums.

    The sums are the ones of :func:`analysis.instrument.summarise_response` and
    :func:`analysis.respondent.respondent_features` response by response (the test
    ``tests/rollup/test_batch_sums.py`` holds them equal), computed for the batch at once:
    answers are counted with :class:`collections.Counter`, and each version's scored
    answers go into a responses × questions matrix of levels from which the satisfied
    flags, feature vectors, per-response deltas and their sums by key follow as array
    operations.
    """
    if not responses:
        return
    n = len(responses)
    ids = [r.id for r in responses]
    conn = session.connection()
    answers = _answers_of(conn, ids)

    # Each response's day key and month key (campaign, unit, version, day or month,
    # channel, trust), numbered; its local hour and weekday.
    day_keys, month_keys = _Indexer(), _Indexer()
    day_of = np.empty(n, dtype=np.int64)
    month_of = np.empty(n, dtype=np.int64)
    hour_of = np.empty(n, dtype=np.int64)
    weekday_of = np.empty(n, dtype=np.int64)
    version_of = [r.instrument_version_id for r in responses]
    for i, r in enumerate(responses):
        day, hour = local_day_hour(r.submitted_at)
        base = (r.campaign_id, r.unit_id, r.instrument_version_id)
        trust = trust_override or r.trust
        day_of[i] = day_keys.of(base + (day, r.channel, trust))
        month_of[i] = month_keys.of(base + (day.replace(day=1), r.channel, trust))
        hour_of[i] = hour
        weekday_of[i] = day.weekday()

    # The answers as arrays: the response's row in the batch, the question (numbered in
    # order of appearance), the number (NaN for a text answer) and the version's index.
    if answers:
        a_rid, a_key, a_int, a_text = zip(*answers)
    else:
        a_rid = a_key = a_int = a_text = ()
    id_array = np.array(ids, dtype=np.int64)
    by_id = np.argsort(id_array, kind="stable")
    a_row = by_id[np.searchsorted(id_array[by_id], np.array(a_rid, dtype=np.int64))]
    key_names = list(dict.fromkeys(a_key))
    a_code = np.fromiter(map(dict(zip(key_names, range(len(key_names)))).__getitem__, a_key),
                         dtype=np.int64, count=len(a_key))
    a_number = np.array(a_int, dtype=float)  # exact: stored numbers are 32-bit integers
    version_ids = sorted(set(version_of))
    versions = {v: plans.version(v) for v in version_ids}
    version_index = np.array([version_ids.index(v) for v in version_of], dtype=np.int64)
    a_version = version_index[a_row]

    # Counts by (day or month key, question, value) of the counted questions' answers.
    counted = np.array([[name in versions[v].counted for name in key_names] for v in version_ids], dtype=bool)
    is_counted = counted[a_version, a_code].tolist() if len(a_code) else []
    value_keys = list(map(value_key, a_int, a_text))
    # (Every key gets its row, as an empty document when none of its answers is counted.)
    cells: dict[tuple, dict] = {key: {} for key in day_keys}
    cells_month: dict[tuple, dict] = {key: {} for key in month_keys}
    day_list, month_list = day_keys.keys_in_order(), month_keys.keys_in_order()
    for target, keys, key_of in ((cells, day_list, day_of), (cells_month, month_list, month_of)):
        tally = Counter(compress(zip(key_of[a_row].tolist(), a_key, value_keys), is_counted))
        for (k, question, value), count in tally.items():
            doc = target[keys[k]]
            values = doc.get(question)
            if values is None:
                values = doc[question] = {}
            values[value] = sign * count

    # Per response: Δ = (1, scored, satisfied, all satisfied, has points, points, points²);
    # per version: the feature vectors and the factors' item vectors.
    largest_points = max((int(v.answered_scale * v.max_total) if v.points else 0) for v in versions.values())
    delta = np.zeros((n, 7), dtype=_exact_dtype(largest_points, n))
    delta[:, 0] = 1
    features: dict[tuple, tuple[int, np.ndarray, np.ndarray]] = {}
    factors: dict[tuple, tuple[int, np.ndarray, np.ndarray]] = {}
    for j, version_id in enumerate(version_ids):
        plan = versions[version_id]
        rows_of_version = np.flatnonzero(version_index == j)
        k = plan.layout.k
        # A scored question's answer counts when its number is one of the scale's levels.
        column = np.array([plan.position.get(name, -1) for name in key_names] + [-1], dtype=np.int64)[a_code]
        take = (a_version == j) & (column >= 0) & ~np.isnan(a_number)
        rows, columns, numbers = a_row[take], column[take], a_number[take]
        low, high = plan.level_range
        inside = (numbers >= low) & (numbers <= high)
        rows, columns, numbers = rows[inside], columns[inside], numbers[inside].astype(np.int64)
        is_level = plan.level_table[columns, numbers - low]
        levels = np.zeros((n, max(k, 1)), dtype=np.int64)
        answered = np.zeros((n, max(k, 1)), dtype=bool)
        levels[rows[is_level], columns[is_level]] = numbers[is_level]
        answered[rows[is_level], columns[is_level]] = True
        levels, answered = levels[rows_of_version, :k], answered[rows_of_version, :k]
        satisfied = np.zeros_like(answered)
        for c, good in enumerate(plan.satisfied):
            satisfied[:, c] = answered[:, c] & np.isin(levels[:, c], good)
        scored = answered.sum(axis=1)
        n_satisfied = satisfied.sum(axis=1)
        largest = max(int(np.abs(levels).max(initial=0)) * max(k, 1), largest_points, 1)
        dtype = _exact_dtype(largest, len(rows_of_version))
        layout = plan.layout
        vectors = np.zeros((len(rows_of_version), layout.size), dtype=dtype)
        vectors[:, layout.y] = satisfied
        vectors[:, layout.x] = answered
        vectors[:, layout.level_sum] = (levels * answered).sum(axis=1)
        vectors[:, layout.respondent] = scored > 0
        block = delta[rows_of_version]
        block[:, 1] = scored
        block[:, 2] = n_satisfied
        block[:, 3] = (scored > 0) & (n_satisfied == scored)
        if plan.points:
            earned = np.zeros(len(rows_of_version), dtype=object if dtype is object else np.int64)
            for c, by_level in enumerate(plan.level_points):
                for level, points in by_level.items():
                    earned += (answered[:, c] & (levels[:, c] == level)) * points
            best = (answered * plan.best).sum(axis=1)
            reached = best > 0
            scaled = np.zeros_like(earned)
            scaled[reached] = plan.answered_scale * earned[reached] * plan.max_total // best[reached]
            vectors[:, layout.total] = scaled
            stored = scaled if plan.scoring.scale_to_answered else earned
            has = scored > 0
            block[:, 4] = has
            block[:, 5] = np.where(has, stored, 0)
            block[:, 6] = np.where(has, stored * stored, 0)
        delta[rows_of_version] = block
        version_months = month_of[rows_of_version]
        for group, count, sums, cross in _moments(vectors, version_months):
            features[month_list[group]] = (sign * count, sign * sums, sign * cross)
        for factor, columns in plan.factor_columns.items():
            complete = answered[:, columns].all(axis=1)
            if not complete.any():
                continue
            items = levels[complete][:, columns].astype(dtype)
            for group, count, sums, cross in _moments(items, version_months[complete]):
                factors[month_list[group] + (factor,)] = (sign * count, sign * sums, sign * cross)
    delta = delta * sign

    # Δ summed by (day key, hour) and by (month key, weekday, hour).
    hours: dict[tuple, dict] = {}
    grid_month: dict[tuple, dict] = {}
    codes, inverse = np.unique(day_of * 24 + hour_of, return_inverse=True)
    for code, sums in zip(codes.tolist(), group_rows(delta, inverse.ravel(), len(codes)).tolist()):
        day, hour = divmod(code, 24)
        hours.setdefault(day_list[day], {})[str(hour)] = sums
    codes, inverse = np.unique((month_of * 7 + weekday_of) * 24 + hour_of, return_inverse=True)
    for code, sums in zip(codes.tolist(), group_rows(delta, inverse.ravel(), len(codes)).tolist()):
        cell, hour = divmod(code, 24)
        month, weekday = divmod(cell, 7)
        grid_month.setdefault(month_list[month], {}).setdefault(str(weekday), {})[str(hour)] = sums

    _write_documents(session, RollupCell.__table__, _DAY_COLS, "counts", cells, sign)
    _write_documents(session, RollupResponse.__table__, _DAY_COLS, "hours", hours, sign,
                     added=("responses", {key: sum(v[0] for v in doc.values()) for key, doc in hours.items()}))
    _write_documents(session, RollupCellMonth.__table__, _MONTH_COLS, "counts", cells_month, sign)
    _write_documents(session, RollupResponseMonth.__table__, _MONTH_COLS, "grid", grid_month, sign)

    # Factor and moment sums: read the stored rows of these keys once, add, write back
    # (the catch-up lock serialises writers, so nothing changes them in between).
    stored = _existing(session, RollupFactor.__table__, _FACTOR_COLS, factors, ("n", "sums", "cross"))
    rows = []
    for key, (count, sums, cross) in factors.items():
        if key in stored:
            n0, sums0, cross0 = stored[key]
            count += n0
            sums = sums + np.asarray(_json(sums0), dtype=sums.dtype)
            cross = cross + np.asarray(_json(cross0), dtype=cross.dtype)
        rows.append(key + (int(count), sums.tolist(), cross.tolist()))
    _upsert(session, RollupFactor.__table__, _FACTOR_COLS + ("n", "sums", "cross"), rows,
            replace=("n", "sums", "cross"))

    stored = _existing(session, RollupMoments.__table__, _MONTH_COLS, features, ("moments",))
    rows = []
    for key, (count, sums, cross) in features.items():
        layout = versions[key[2]].layout
        upper = cross[np.triu_indices(layout.size)]  # the stored form: upper triangle, row by row
        if key in stored:
            payload = _json(stored[key][0])
            if tuple(payload["keys"]) != tuple(layout.items):
                raise ValueError(f"rollup_moments {key} holds another item layout than its version")
            count += int(payload["n"])
            sums = sums + np.asarray(payload["sums"], dtype=sums.dtype)
            upper = upper + np.asarray(payload["cross"], dtype=upper.dtype)
        if count < 0:
            raise ValueError(f"rollup_moments {key} would count {count} respondents")
        rows.append(key + (int(count), {"keys": list(layout.items), "n": int(count), "sums": sums.tolist(),
                                        "cross": upper.tolist()}))
    _upsert(session, RollupMoments.__table__, _MONTH_COLS + ("n", "moments"), rows, replace=("n", "moments"))


def _add_into(target: dict, doc: Mapping) -> dict:
    """Add the document ``doc`` into ``target`` in place: nested dicts by key, leaves are
    integers or equal-length lists of integers. Keys become strings (as JSON has them)."""
    for key, value in doc.items():
        key = str(key)
        if isinstance(value, Mapping):
            _add_into(target.setdefault(key, {}), value)
        elif isinstance(value, list):
            have = target.get(key)
            target[key] = list(value) if have is None else [a + b for a, b in zip(have, value)]
        else:
            target[key] = target.get(key, 0) + value
    return target


def _pruned(doc: Mapping) -> dict:
    """``doc`` without its zero leaves (0, or a list of zeros) and the dicts left empty."""
    out = {}
    for key, value in doc.items():
        if isinstance(value, Mapping):
            value = _pruned(value)
            if value:
                out[key] = value
        elif isinstance(value, list) and any(value) or not isinstance(value, list) and value:
            out[key] = value
    return out


def _write_documents(session: Session, table, key_columns: Sequence[str], column: str, docs: Mapping,
                     sign: int, added: tuple[str, Mapping[tuple, int]] | None = None) -> None:
    """Add the documents ``docs`` (by row key) to the JSON column ``column`` of ``table``:
    one SELECT of the stored rows of these keys, then one upsert of the sums. Zero leaves
    can appear only when subtracting or adding to a stored row; those are pruned.
    ``added`` is an integer column and its amounts by key, added in SQL."""
    stored = _existing(session, table, key_columns, docs, (column,))
    rows = []
    month = "state_name" in table.c
    for key, doc in docs.items():
        if key in stored:
            doc = _pruned(_add_into(doc, _json(stored[key][0])))
        elif sign < 0:
            doc = _pruned(doc)
        extra = (added[1][key],) if added else ()
        rows.append(key + ((STATE_NAME,) if month else ()) + extra + (doc,))
    names = tuple(key_columns) + (("state_name",) if month else ()) + ((added[0],) if added else ()) + (column,)
    _upsert(session, table, names, rows, add=(added[0],) if added else (), replace=(column,))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _lock_state(session: Session) -> RollupState:
    """Take the catch-up lock by writing the state row (creating it the first time)."""
    result = session.execute(
        update(RollupState).where(RollupState.name == STATE_NAME)
        .values(responses_rolled=RollupState.responses_rolled + 0)
    )
    if result.rowcount == 0:
        try:
            with session.begin_nested():
                session.add(RollupState(name=STATE_NAME, responses_rolled=0))
        except IntegrityError:
            session.execute(update(RollupState).where(RollupState.name == STATE_NAME)
                            .values(responses_rolled=RollupState.responses_rolled + 0))
    return session.get(RollupState, STATE_NAME, populate_existing=True)


def catch_up(session: Session, batch_size: int = 10_000, max_batches: int | None = None) -> CatchUp:
    """Roll up every pending response; returns how many were added, in how many batches.

    A read replica's session (``database.read_session``) cannot write: its
    ``info["primary"]``, the request's session on the primary, does the catch-up."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    session = session.info.get("primary", session)
    plans = _Plans(session)
    total = batches = 0
    session.commit()
    if not _has_pending(session):
        return CatchUp(0, 0)  # nothing waits: no lock taken, nothing written
    after = 0  # the batches go up by id: each starts after the last (see below)
    while max_batches is None or batches < max_batches:
        state = _lock_state(session)
        # `id > after` keeps each batch's index scan from walking again over the entries of
        # the rows just marked (dead in the partial index until a vacuum). A response with
        # a smaller id that commits only now is left for the next catch-up.
        pending = session.execute(
            select(Response.id, Response.campaign_id, Response.unit_id, Response.instrument_version_id,
                   Response.submitted_at, Response.channel, Response.trust)
            .where(_PENDING, Response.id > after)
            .order_by(Response.id)
            .limit(batch_size)
        ).all()
        if not pending:
            session.commit()
            break
        with gc_paused():
            _apply(session, pending, +1, plans)
        ids = [r.id for r in pending]
        _mark_rolled_up(session, ids)
        after = ids[-1]
        state.responses_rolled += len(pending)
        state.last_response_id = max(ids + [state.last_response_id or 0])
        session.commit()
        total += len(pending)
        batches += 1
    return CatchUp(total, batches)


def _has_pending(session: Session) -> bool:
    """Whether any response waits (an indexed look-up on the pending-rollup index)."""
    return session.scalar(select(Response.id).where(_PENDING).limit(1)) is not None


@dataclass(frozen=True)
class Backlog:
    """What a report request left for the every-minute job: ``pending`` responses not yet in
    the figures, which count the responses up to ``as_of`` (the time the last rolled-up one
    was sent; ``None`` before any). ``pending == 0``: the figures are up to date."""

    pending: int = 0
    as_of: datetime | None = None

    @property
    def behind(self) -> bool:
        return self.pending > 0


UP_TO_DATE = Backlog()
REQUEST_MAX_DEFAULT = 5_000


def _request_max() -> int:
    from flask import current_app, has_app_context

    if has_app_context():
        return int(current_app.config.get("ROLLUP_REQUEST_MAX", REQUEST_MAX_DEFAULT))
    return REQUEST_MAX_DEFAULT


def catch_up_for_request(session: Session, limit: int | None = None) -> Backlog:
    """The catch-up a report request may wait for: at most ``limit`` responses
    (``ROLLUP_REQUEST_MAX``, default 5,000) are rolled up inline, as :func:`catch_up` does.
    A larger backlog is left to the every-minute job ``rollup_catch_up``: no lock is taken,
    nothing is written, and the returned :class:`Backlog` says how many responses the
    figures miss, so the page can say so. The backlog is counted on the partial index
    ``ix_response_pending_rollup``, first only up to ``limit + 1`` entries."""
    from sqlalchemy import func

    limit = _request_max() if limit is None else limit
    session.commit()
    head = select(Response.id).where(_PENDING).limit(limit + 1).subquery()
    waiting = session.scalar(select(func.count()).select_from(head)) or 0
    if waiting == 0:
        return UP_TO_DATE
    if waiting <= limit:
        catch_up(session)
        return UP_TO_DATE
    pending = pending_count(session)
    as_of = session.scalar(
        select(Response.submitted_at).join(RollupState, RollupState.last_response_id == Response.id)
        .where(RollupState.name == STATE_NAME))
    session.commit()  # the request holds no transaction open on the backlog's reads
    return Backlog(pending, as_of)


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(Response).where(_PENDING)) or 0


def reclassify(session: Session, response_ids: Iterable[int], trust: str, reason: str | None) -> int:
    """Set the trust level of responses, keeping the rollups exact. Returns rows changed."""
    if trust not in ("ok", "suspect"):
        raise ValueError("trust must be 'ok' or 'suspect'")
    plans = _Plans(session)
    _lock_state(session)
    rows = session.execute(
        select(Response.id, Response.campaign_id, Response.unit_id, Response.instrument_version_id,
               Response.submitted_at, Response.channel, Response.trust, Response.rolled_up)
        .where(Response.id.in_(list(response_ids)), Response.trust != trust)
    ).all()
    rolled = [r for r in rows if r.rolled_up]
    with gc_paused():
        _apply(session, rolled, -1, plans)
        _apply(session, rolled, +1, plans, trust_override=trust)
    if rows:
        session.execute(update(Response).where(Response.id.in_([r.id for r in rows]))
                        .values(trust=trust, trust_reason=reason))
    session.commit()
    return len(rows)
