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
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis import respondent as rl
from analysis.counts import moments_payload, stored_moments
from analysis.instrument import Scoring, scoring_of, summarise_response, value_key

from ...models import (Answer, InstrumentVersion, Response, RollupCell, RollupFactor, RollupMoments, RollupResponse,
                      RollupState)

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


def _upsert(session: Session, table, rows: list[dict[str, Any]], add: Sequence[str], replace: Sequence[str] = ()) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    pk = [c.name for c in table.primary_key.columns]
    set_ = {c: table.c[c] + stmt.excluded[c] for c in add}
    set_.update({c: stmt.excluded[c] for c in replace})
    session.execute(stmt.on_conflict_do_update(index_elements=pk, set_=set_), rows)


def _apply(session: Session, responses: Sequence[Any], sign: int, plans: _Plans,
           trust_override: str | None = None) -> None:
    """Add (sign=+1) or subtract (sign=-1) the contribution of ``responses``.

    Each item has ``id, campaign_id, unit_id, instrument_version_id, submitted_at,
    channel, trust``.
    """
    if not responses:
        return
    ids = [r.id for r in responses]
    answers: dict[int, list[tuple[str, int | None, str | None]]] = defaultdict(list)
    for chunk_start in range(0, len(ids), 900):
        chunk = ids[chunk_start:chunk_start + 900]
        for rid, key, vi, vt in session.execute(
            select(Answer.response_id, Answer.question_key, Answer.value_int, Answer.value_text)
            .where(Answer.response_id.in_(chunk))
        ):
            answers[rid].append((key, vi, vt))

    cells: dict[tuple, int] = defaultdict(int)
    per_response: dict[tuple, list[int]] = defaultdict(lambda: [0] * 8)
    factors: dict[tuple, list[Any]] = {}
    features: dict[tuple, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    for r in responses:
        scoring, counted = plans.get(r.instrument_version_id)
        trust = trust_override or r.trust
        day, hour = local_day_hour(r.submitted_at)
        base = (r.campaign_id, r.unit_id, r.instrument_version_id)
        given = answers.get(r.id, [])
        for key, vi, vt in given:
            if key in counted:
                cells[base + (day, r.channel, trust, key, value_key(vi, vt))] += sign
        s = summarise_response(scoring, given)
        acc = per_response[base + (day, hour, r.channel, trust)]
        acc[0] += sign
        acc[1] += sign * s.scored
        acc[2] += sign * s.satisfied
        acc[3] += sign * s.all_satisfied
        if s.points is not None:
            acc[4] += sign
            acc[5] += sign * s.points
            acc[6] += sign * s.points * s.points
        month = day.replace(day=1)
        features[base + (month, r.channel, trust)].append((sign, rl.respondent_features(scoring, given, plans.layout(r.instrument_version_id))))
        for factor, vector in s.factor_vectors.items():
            fkey = base + (month, r.channel, trust, factor)
            k = len(vector)
            entry = factors.setdefault(fkey, [0, [0] * k, [[0] * k for _ in range(k)]])
            entry[0] += sign
            for i, xi in enumerate(vector):
                entry[1][i] += sign * xi
                row = entry[2][i]
                for j, xj in enumerate(vector):
                    row[j] += sign * xi * xj

    cell_cols = ("campaign_id", "unit_id", "instrument_version_id", "day", "channel", "trust", "question_key", "value_key")
    _upsert(session, RollupCell.__table__,
            [dict(zip(cell_cols, k), n=n) for k, n in cells.items() if n], add=("n",))
    resp_cols = ("campaign_id", "unit_id", "instrument_version_id", "day", "hour", "channel", "trust")
    _upsert(session, RollupResponse.__table__, [
        dict(zip(resp_cols, k), responses=a[0], scored=a[1], satisfied=a[2], all_satisfied=a[3],
             points_n=a[4], points_sum=a[5], points_sumsq=a[6])
        for k, a in per_response.items()
    ], add=("responses", "scored", "satisfied", "all_satisfied", "points_n", "points_sum", "points_sumsq"))

    if factors:
        fcols = ("campaign_id", "unit_id", "instrument_version_id", "month", "channel", "trust", "factor_key")
        table = RollupFactor.__table__
        rows = []
        for key, (n, sums, cross) in factors.items():
            where = [table.c[c] == v for c, v in zip(fcols, key)]
            existing = session.execute(select(table.c.n, table.c.sums, table.c.cross).where(*where)).first()
            if existing is not None:
                n += existing.n
                sums = [a + b for a, b in zip(sums, existing.sums)]
                cross = [[a + b for a, b in zip(r1, r2)] for r1, r2 in zip(cross, existing.cross)]
            rows.append(dict(zip(fcols, key), n=n, sums=sums, cross=cross))
        _upsert(session, table, rows, add=(), replace=("n", "sums", "cross"))

    if features:
        mcols = ("campaign_id", "unit_id", "instrument_version_id", "month", "channel", "trust")
        table = RollupMoments.__table__
        rows = []
        for key, signed in features.items():
            layout = plans.layout(key[2])
            where = [table.c[c] == v for c, v in zip(mcols, key)]
            existing = session.execute(select(table.c.moments).where(*where)).scalar()
            base = (stored_moments(existing if isinstance(existing, dict) else json.loads(existing))[1]
                    if existing is not None else rl.Moments.zeros(layout.size))
            total = _moments_plus(base, signed)
            rows.append(dict(zip(mcols, key), n=total.n, moments=moments_payload(layout.items, total)))
        _upsert(session, table, rows, add=(), replace=("n", "moments"))


def _moments_plus(base: rl.Moments, signed: Sequence[tuple[int, tuple[int, ...]]]) -> rl.Moments:
    """``base`` with each (sign, feature vector) added (+1) or taken away (−1), exactly
    (features are small whole numbers, so int64 products cannot overflow)."""
    signs = np.array([sg for sg, _v in signed], dtype=np.int64)
    v = np.array([f for _sg, f in signed], dtype=np.int64)
    sums = (signs[:, None] * v).sum(axis=0)
    cross = v.T @ (signs[:, None] * v)
    n = base.n + int(signs.sum())
    return rl.Moments(n, tuple(int(a) + int(b) for a, b in zip(base.sums, sums.tolist())),
                      tuple(tuple(int(a) + int(b) for a, b in zip(r0, r1)) for r0, r1 in zip(base.cross, cross.tolist())))


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


def catch_up(session: Session, batch_size: int = 2000, max_batches: int | None = None) -> CatchUp:
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
        for start in range(0, len(ids), 900):
            session.execute(update(Response).where(Response.id.in_(ids[start:start + 900])).values(rolled_up=True))
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
