"""Keeping the rollups up to date (see ``survey_app/models/rollup.py``).

``catch_up`` adds every response not yet rolled up to the rollup tables and marks it, one
batch per transaction. Catch-ups are serialised by writing the ``rollup_state`` row first:
on PostgreSQL that row lock makes a second catch-up wait, on SQLite the write takes the
database's write lock; either way no response is counted twice. ``reclassify`` moves a
rolled-up response between trust levels by subtracting and re-adding its contribution.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import JSON, Date, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis import respondent as rl
from analysis.counts import add_into
from analysis.instrument import Scoring, scoring_of, summarise_response, value_key

from ...models import (InstrumentVersion, Response, RollupCell, RollupCellMonth, RollupFactor, RollupMoments,
                      RollupResponse, RollupResponseMonth, RollupState)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COUNTED_TYPES = frozenset({"scale", "single", "multi", "yesno", "rating", "percent", "number"})
STATE_NAME = "main"


@dataclass(frozen=True)
class CatchUp:
    responses: int
    batches: int


def local_day_hour(moment: datetime) -> tuple[date, int]:
    local = moment.astimezone(LOCAL_TZ)
    return local.date(), local.hour


class _Plans:
    """Instrument definitions by version id, read once per catch-up."""

    def __init__(self, session: Session):
        self.session = session
        self.cache: dict[int, tuple[Scoring, frozenset[str]]] = {}
        self.layouts: dict[int, rl.FeatureLayout] = {}

    def get(self, version_id: int) -> tuple[Scoring, frozenset[str]]:
        if version_id not in self.cache:
            snapshot = self.session.scalar(select(InstrumentVersion.snapshot).where(InstrumentVersion.id == version_id))
            counted = frozenset(q["key"] for q in snapshot["questions"] if q["type"] in COUNTED_TYPES)
            self.cache[version_id] = (scoring_of(snapshot), counted)
        return self.cache[version_id]

    def layout(self, version_id: int) -> rl.FeatureLayout:
        """The respondent feature layout of a version, computed once per catch-up."""
        if version_id not in self.layouts:
            self.layouts[version_id] = rl.feature_layout(self.get(version_id)[0])
        return self.layouts[version_id]


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


def _answers_of(conn, ids: Sequence[int]) -> dict[int, list[tuple[str, int | None, str | None]]]:
    """The answers ``(question_key, value_int, value_text)`` of the responses ``ids``.

    Read through the driver's cursor on the session's connection (same transaction):
    a batch has some 200,000 answers, and building a SQLAlchemy row for each cost more
    than the query. One statement per chunk of ids (:func:`_id_chunk`)."""
    answers: dict[int, list[tuple[str, int | None, str | None]]] = defaultdict(list)
    postgresql = conn.dialect.name == "postgresql"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        size = _id_chunk(conn)
        for start in range(0, len(ids), size):
            chunk = list(ids[start:start + size])
            where = "= ANY(%s)" if postgresql else f"IN ({', '.join('?' * len(chunk))})"
            cursor.execute(f"SELECT response_id, question_key, value_int, value_text FROM answer "
                           f"WHERE response_id {where}", (chunk,) if postgresql else chunk)
            for rid, key, vi, vt in cursor.fetchall():
                answers[rid].append((key, vi, vt))
    finally:
        cursor.close()
    return answers


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


def _signed_sums(signed: Sequence[tuple[int, Sequence[int]]]) -> tuple[int, np.ndarray, np.ndarray]:
    """Σsign, Σsign·v and Σsign·v·vᵀ of (sign, integer vector) pairs, exactly in int64
    (the vectors hold small whole numbers: levels and feature counts)."""
    signs = np.fromiter((sg for sg, _v in signed), dtype=np.int64, count=len(signed))
    v = np.array([f for _sg, f in signed], dtype=np.int64)
    weighted = signs[:, None] * v
    return int(signs.sum()), weighted.sum(axis=0), v.T @ weighted


_DAY_COLS = ("campaign_id", "unit_id", "instrument_version_id", "day", "channel", "trust")
_MONTH_COLS = ("campaign_id", "unit_id", "instrument_version_id", "month", "channel", "trust")
_FACTOR_COLS = _MONTH_COLS + ("factor_key",)


def _apply(session: Session, responses: Sequence[Any], sign: int, plans: _Plans,
           trust_override: str | None = None) -> None:
    """Add (sign=+1) or subtract (sign=-1) the contribution of ``responses``.

    Each item has ``id, campaign_id, unit_id, instrument_version_id, submitted_at,
    channel, trust``. The contribution is summed in Python first, then written with a
    fixed number of statements whatever the number of responses: the answers are read
    in chunks of ids (:func:`_id_chunk`), and each of the six rollup tables gets one
    SELECT of the stored rows of the batch's keys and one set-based upsert of the sums.
    """
    if not responses:
        return
    ids = [r.id for r in responses]
    conn = session.connection()
    answers = _answers_of(conn, ids)

    # Documents by row key (campaign, unit, version, day or month, channel, trust), with
    # string keys as JSON has them; leaves are signed counts or lists of the seven sums.
    cells: dict[tuple, dict] = {}
    hours: dict[tuple, dict] = {}
    cells_month: dict[tuple, dict] = {}
    grid_month: dict[tuple, dict] = {}
    factors: dict[tuple, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    features: dict[tuple, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    for r in responses:
        scoring, counted = plans.get(r.instrument_version_id)
        trust = trust_override or r.trust
        day, hour = local_day_hour(r.submitted_at)
        base = (r.campaign_id, r.unit_id, r.instrument_version_id)
        given = answers.get(r.id, [])
        day_key = base + (day, r.channel, trust)
        month_key = base + (day.replace(day=1), r.channel, trust)
        day_counts = cells.get(day_key)
        if day_counts is None:
            day_counts = cells[day_key] = {}
        month_counts = cells_month.get(month_key)
        if month_counts is None:
            month_counts = cells_month[month_key] = {}
        for key, vi, vt in given:
            if key in counted:
                v = value_key(vi, vt)
                for counts in (day_counts, month_counts):
                    values = counts.get(key)
                    if values is None:
                        counts[key] = {v: sign}
                    else:
                        values[v] = values.get(v, 0) + sign
        s = summarise_response(scoring, given)
        delta = [sign, sign * s.scored, sign * s.satisfied, sign * s.all_satisfied, 0, 0, 0]
        if s.points is not None:
            delta[4:] = [sign, sign * s.points, sign * s.points * s.points]
        hour_key, weekday_key = str(hour), str(day.weekday())
        add_into(hours.setdefault(day_key, {}), hour_key, delta)
        add_into(grid_month.setdefault(month_key, {}).setdefault(weekday_key, {}), hour_key, delta)
        layout = plans.layout(r.instrument_version_id)
        features[month_key].append((sign, rl.respondent_features(scoring, given, layout)))
        for factor, vector in s.factor_vectors.items():
            factors[month_key + (factor,)].append((sign, vector))

    _write_documents(session, RollupCell.__table__, _DAY_COLS, "counts", cells, sign)
    _write_documents(session, RollupResponse.__table__, _DAY_COLS, "hours", hours, sign,
                     added=("responses", {key: sum(v[0] for v in doc.values()) for key, doc in hours.items()}))
    _write_documents(session, RollupCellMonth.__table__, _MONTH_COLS, "counts", cells_month, sign)
    _write_documents(session, RollupResponseMonth.__table__, _MONTH_COLS, "grid", grid_month, sign)

    # Factor and moment sums: read the stored rows of these keys once, add, write back
    # (the catch-up lock serialises writers, so nothing changes them in between).
    stored = _existing(session, RollupFactor.__table__, _FACTOR_COLS, factors, ("n", "sums", "cross"))
    rows = []
    for key, signed in factors.items():
        n, sums, cross = _signed_sums(signed)
        if key in stored:
            n0, sums0, cross0 = stored[key]
            n += n0
            sums = sums + np.asarray(_json(sums0), dtype=np.int64)
            cross = cross + np.asarray(_json(cross0), dtype=np.int64)
        rows.append(key + (n, sums.tolist(), cross.tolist()))
    _upsert(session, RollupFactor.__table__, _FACTOR_COLS + ("n", "sums", "cross"), rows,
            replace=("n", "sums", "cross"))

    stored = _existing(session, RollupMoments.__table__, _MONTH_COLS, features, ("moments",))
    rows = []
    for key, signed in features.items():
        layout = plans.layout(key[2])
        n, sums, cross = _signed_sums(signed)
        upper = cross[np.triu_indices(layout.size)]  # the stored form: upper triangle, row by row
        if key in stored:
            payload = _json(stored[key][0])
            if tuple(payload["keys"]) != tuple(layout.items):
                raise ValueError(f"rollup_moments {key} holds another item layout than its version")
            n += int(payload["n"])
            sums = sums + np.asarray(payload["sums"], dtype=np.int64)
            upper = upper + np.asarray(payload["cross"], dtype=np.int64)
        if n < 0:
            raise ValueError(f"rollup_moments {key} would count {n} respondents")
        rows.append(key + (n, {"keys": list(layout.items), "n": n, "sums": sums.tolist(), "cross": upper.tolist()}))
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
    """Roll up every pending response; returns how many were added, in how many batches."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    plans = _Plans(session)
    total = batches = 0
    session.commit()
    if not _has_pending(session):
        return CatchUp(0, 0)  # nothing waits: no lock taken, nothing written
    while max_batches is None or batches < max_batches:
        state = _lock_state(session)
        pending = session.execute(
            select(Response.id, Response.campaign_id, Response.unit_id, Response.instrument_version_id,
                   Response.submitted_at, Response.channel, Response.trust)
            .where(Response.rolled_up.is_(False))
            .order_by(Response.id)
            .limit(batch_size)
        ).all()
        if not pending:
            session.commit()
            break
        _apply(session, pending, +1, plans)
        ids = [r.id for r in pending]
        chunk = _id_chunk(session.connection())
        for start in range(0, len(ids), chunk):
            session.execute(update(Response).where(Response.id.in_(ids[start:start + chunk])).values(rolled_up=True))
        state.responses_rolled += len(pending)
        state.last_response_id = max(ids + [state.last_response_id or 0])
        session.commit()
        total += len(pending)
        batches += 1
    return CatchUp(total, batches)


def _has_pending(session: Session) -> bool:
    """Whether any response waits (an indexed look-up on the pending-rollup index)."""
    return session.scalar(select(Response.id).where(Response.rolled_up.is_(False)).limit(1)) is not None


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(Response).where(Response.rolled_up.is_(False))) or 0


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
    _apply(session, rolled, -1, plans)
    _apply(session, rolled, +1, plans, trust_override=trust)
    if rows:
        session.execute(update(Response).where(Response.id.in_([r.id for r in rows]))
                        .values(trust=trust, trust_reason=reason))
    session.commit()
    return len(rows)
