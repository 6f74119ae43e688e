"""Lineage: a unit succeeds one or more predecessors from a date (merger, split, rename).

Declaring a succession (:func:`declare`, :func:`import_mapping`) writes rows of
``unit_succession`` and nothing else: no response, path or grant changes. What it changes is
*which units a report covers* (:func:`covered`): the report of a successor over a window that
begins before the succession's date also covers its predecessors' subtrees (and theirs, for
a chain), and the periods before the date are marked "before the merger" (:func:`mark_report`).
A predecessor stays readable on its own, by its own path, for its own dates.

Access follows the same rule, read-only: an official with a grant on a successor may *read*
its predecessors (``Scope.for_user`` adds derived viewer grants); an official of a
predecessor gets nothing on the successor unless an administrator carries the grants over
(:func:`carry_grants`).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Sequence

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from ...models import SUCCESSION_CHANGES, Grant, Succession, Unit, User
from . import audit
from .scope import Scope
from .units import path_under

MAX_CHAIN = 20  # successions followed back from one unit (a chain is rarely longer than 2)


class LineageError(ValueError):
    """A succession that cannot be declared; the message is for the person."""


@dataclass(frozen=True)
class Predecessor:
    """A unit a report of ``successor_path`` also covers: its ``path`` (whole subtree)."""

    unit_id: int
    path: str
    name_vi: str
    name_en: str
    effective_on: date
    change: str
    share: float | None
    successor_path: str


def _edges(session: Session, *, successor_paths: Sequence[str] = (), under: Sequence[str] = ()) -> list[tuple]:
    """Successions whose successor is one of ``successor_paths`` or lies under one of ``under``
    (indexed lookups: the table may hold a whole country's mapping)."""
    pred, succ = aliased(Unit), aliased(Unit)
    conditions = []
    if successor_paths:
        conditions.append(succ.path.in_(list(successor_paths)))
    conditions += [path_under(succ.path, p) for p in under]
    if not conditions:
        return []
    return session.execute(
        select(Succession.predecessor_id, pred.path, pred.name_vi, pred.name_en, Succession.effective_on,
               Succession.change, Succession.share, Succession.successor_id, succ.path)
        .join(pred, pred.id == Succession.predecessor_id).join(succ, succ.id == Succession.successor_id)
        .where(or_(*conditions)).order_by(pred.path)
    ).all()


def predecessors_of(session: Session, unit: Unit | str) -> list[Predecessor]:
    """Every predecessor of ``unit`` (a unit or a path), transitively, nearest first."""
    path = unit if isinstance(unit, str) else unit.path
    out: list[Predecessor] = []
    seen = {path}
    frontier = [path]
    for _depth in range(MAX_CHAIN):
        following = []
        for pid, ppath, name_vi, name_en, effective_on, change, share, _sid, spath in _edges(
                session, successor_paths=frontier):
            if ppath in seen:
                continue
            seen.add(ppath)
            out.append(Predecessor(pid, ppath, name_vi, name_en, effective_on, change,
                                   float(share) if share is not None else None, spath))
            following.append(ppath)
        if not following:
            break
        frontier = following
    return out


def covered(session: Session, unit: Unit, date_from: date) -> list[Predecessor]:
    """The predecessors a report of ``unit`` from ``date_from`` also covers: those whose
    succession takes effect after ``date_from`` (the window begins before it), outside
    ``unit``'s own subtree and not nested in another one covered."""
    found = [p for p in predecessors_of(session, unit) if p.effective_on > date_from
             and not p.path.startswith(unit.path)]
    found.sort(key=lambda p: p.path)
    kept: list[Predecessor] = []
    for p in found:
        if not any(p.path.startswith(k.path) for k in kept):
            kept.append(p)
    return kept


def merged_below(session: Session, unit: Unit, date_from: date, date_to: date) -> dict[str, str]:
    """For the comparison of ``unit``'s children over a window that crosses a succession
    (begins before its date, ends on or after it): each predecessor below ``unit`` → its
    successor below ``unit``, so the successor's row includes its predecessors' answers."""
    rows = _edges(session, under=[unit.path])
    return {row[1]: row[8] for row in rows
            if row[1].startswith(unit.path) and date_from < row[4] <= date_to}


def successors_reading(session: Session, granted_paths: Iterable[str]) -> list[tuple[int, str]]:
    """The predecessors (id, path) that grants on ``granted_paths`` may read (a grant on a
    unit, or above it, reads that unit's predecessors), transitively; for ``Scope.for_user``.
    One indexed query per generation (none when the table is empty)."""
    covered_paths = list(granted_paths)
    if not covered_paths or session.scalar(select(Succession.id).limit(1)) is None:
        return []
    readable: list[tuple[int, str]] = []
    frontier = list(covered_paths)
    for _depth in range(MAX_CHAIN):
        following = []
        for row in _edges(session, under=frontier):
            pid, ppath = row[0], row[1]
            if not any(ppath.startswith(g) for g in covered_paths):
                covered_paths.append(ppath)
                readable.append((pid, ppath))
                following.append(ppath)
        if not following:
            break
        frontier = following
    return readable


def _check_share(change: str, share: Any) -> Decimal | None:
    if share in (None, ""):
        if change == "split":
            raise LineageError(_("A split needs the share of the former unit's area that went to this part."))
        return None
    try:
        value = Decimal(str(share).replace(",", "."))
    except InvalidOperation:
        raise LineageError(_("The share must be a number between 0 and 1, e.g. 0.4.")) from None
    if not (0 < value <= 1):
        raise LineageError(_("The share must be a number between 0 and 1, e.g. 0.4."))
    return value.quantize(Decimal("0.0001"))


def declare(session: Session, scope: Scope, successor: Unit, predecessors: Sequence[tuple[Unit, Any]], *,
            effective_on: date, change: str, note: str | None = None, actor: User | None = None,
            commit: bool = True) -> list[Succession]:
    """``successor`` continues each of ``predecessors`` (``(unit, share or None)``) from
    ``effective_on``. Needs the admin role on every unit named. Checks everything first,
    then writes the rows, one audit event each, and commits once."""
    if change not in SUCCESSION_CHANGES:
        raise LineageError(_("Please choose merger, split or rename."))
    if not predecessors:
        raise LineageError(_("Please name at least one former unit."))
    if change == "rename" and len(predecessors) != 1:
        raise LineageError(_("A rename has exactly one former unit."))
    scope.require(successor, "admin")
    ancestors_of_successor = {p.path for p in predecessors_of(session, successor)}
    rows = []
    seen = set()
    for predecessor, share in predecessors:
        scope.require(predecessor, "admin")
        if predecessor.id == successor.id:
            raise LineageError(_("A unit cannot succeed itself."))
        if predecessor.parent_id is None or successor.parent_id is None:
            raise LineageError(_("The top of the tree cannot take part in a succession."))
        if successor.path.startswith(predecessor.path) or predecessor.path.startswith(successor.path):
            raise LineageError(_("%(a)s and %(b)s are in one another's subtree: a succession joins separate units.",
                                 a=predecessor.name_vi, b=successor.name_vi))
        if predecessor.id in seen:
            raise LineageError(_("%(name)s is named twice.", name=predecessor.name_vi))
        seen.add(predecessor.id)
        if any(p.path == successor.path for p in predecessors_of(session, predecessor)):
            raise LineageError(_("%(name)s already succeeds %(successor)s: a succession cannot go in a circle.",
                                 name=predecessor.name_vi, successor=successor.name_vi))
        if predecessor.path in ancestors_of_successor and session.scalar(select(Succession.id).where(
                Succession.predecessor_id == predecessor.id, Succession.successor_id == successor.id)) is not None:
            raise LineageError(_("%(successor)s already succeeds %(name)s.", name=predecessor.name_vi,
                                 successor=successor.name_vi))
        value = _check_share(change, share)
        if value is not None:
            given = sum((s for s in session.scalars(select(Succession.share).where(
                Succession.predecessor_id == predecessor.id, Succession.share.is_not(None)))), Decimal(0))
            if given + value > 1:
                raise LineageError(_("The shares of %(name)s's area would add up to more than 1.",
                                     name=predecessor.name_vi))
        rows.append(Succession(predecessor=predecessor, successor=successor, effective_on=effective_on, change=change,
                               share=value, note=(note or "").strip()[:300] or None))
    for row in rows:
        session.add(row)
        session.flush()
        audit.record(session, "unit.succeeded", actor=actor, unit=successor, target=f"unit:{successor.id}",
                     detail={"successor": successor.path, "predecessor": row.predecessor.path,
                             "effective_on": effective_on.isoformat(), "change": change,
                             "share": str(row.share) if row.share is not None else None})
    if commit:
        session.commit()
    return rows


def carry_grants(session: Session, scope: Scope, succession: Succession, *, actor: User | None = None) -> int:
    """An administrator's decision: every grant on the predecessor is given on the successor
    too (same user and role; a user who already holds that role there is skipped). The
    grants on the predecessor stay. Returns the number of grants added."""
    scope.require(succession.successor, "admin")
    scope.require(succession.predecessor, "admin")
    added = 0
    existing = {(g.user_id, g.role) for g in session.scalars(
        select(Grant).where(Grant.unit_id == succession.successor_id))}
    for grant in session.scalars(select(Grant).where(Grant.unit_id == succession.predecessor_id)):
        if (grant.user_id, grant.role) in existing:
            continue
        session.add(Grant(user_id=grant.user_id, unit_id=succession.successor_id, role=grant.role,
                          created_by=actor))
        existing.add((grant.user_id, grant.role))
        added += 1
    succession.grants_carried = True
    audit.record(session, "grants.carried", actor=actor, unit=succession.successor,
                 target=f"unit:{succession.successor_id}",
                 detail={"from": succession.predecessor.path, "to": succession.successor.path, "grants": added})
    session.commit()
    return added


def _find(session: Session, ref: str) -> Unit | None:
    from .lookup import find_unit

    ref = ref.strip()
    if ref.isdigit():  # an official code (the national list's), else a path or a point's code
        unit = session.scalar(select(Unit).where(Unit.official_code == ref))
        if unit is not None:
            return unit
    return find_unit(session, ref)


MAPPING_COLUMNS = ("predecessor", "successor", "effective_on", "change", "share")


def import_mapping(session: Session, scope: Scope, text: str, *, actor: User | None = None) -> int:
    """Declare many successions from a legacy → 2025 mapping (CSV, UTF-8, a header row).

    Columns: ``predecessor`` and ``successor`` (an official code, a path or a service
    point's code), ``effective_on`` (YYYY-MM-DD), ``change`` (merger, split or rename; empty:
    merger), ``share`` (a split's share of the area, 0–1; optional otherwise). The rows of one
    successor make one declaration. Every row is checked first; any error names its row and
    nothing is written. Rows already declared are skipped, so importing twice adds nothing.
    Returns the successions added."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in MAPPING_COLUMNS[:3] if c not in (reader.fieldnames or [])]
    if missing:
        raise LineageError(_("The mapping needs the columns %(columns)s.", columns=", ".join(missing)))
    planned: dict[tuple[int, date, str], list[tuple[Unit, Any]]] = {}
    successors: dict[int, Unit] = {}
    for number, row in enumerate(reader, start=2):
        def problem(message: str) -> LineageError:
            return LineageError(_("Row %(row)d: %(message)s", row=number, message=message))

        pred, succ = _find(session, row.get("predecessor") or ""), _find(session, row.get("successor") or "")
        if pred is None:
            raise problem(_("no unit %(ref)s.", ref=(row.get("predecessor") or "").strip()))
        if succ is None:
            raise problem(_("no unit %(ref)s.", ref=(row.get("successor") or "").strip()))
        try:
            when = date.fromisoformat((row.get("effective_on") or "").strip())
        except ValueError:
            raise problem(_("the date must be written YYYY-MM-DD.")) from None
        change = (row.get("change") or "merger").strip() or "merger"
        if session.scalar(select(Succession.id).where(Succession.predecessor_id == pred.id,
                                                      Succession.successor_id == succ.id)) is not None:
            continue
        successors[succ.id] = succ
        planned.setdefault((succ.id, when, change), []).append((pred, row.get("share")))
    made: list[Succession] = []
    try:
        for (succ_id, when, change), preds in planned.items():
            try:
                made += declare(session, scope, successors[succ_id], preds, effective_on=when, change=change,
                                actor=actor, commit=False)
            except LineageError as exc:
                raise LineageError(_("%(successor)s: %(message)s", successor=successors[succ_id].path,
                                     message=str(exc))) from None
    except Exception:
        session.rollback()
        raise
    session.commit()
    return len(made)


def mark_report(report: dict[str, Any], lineage: Sequence[Predecessor]) -> dict[str, Any]:
    """Say in ``report`` which predecessors it covers, and mark each trend period that ended
    before the (latest) succession date ``before_merger``; the chart draws the line there."""
    if not lineage:
        return report
    day = max(p.effective_on for p in lineage)
    report["lineage"] = {
        "effective_on": day.isoformat(),
        "predecessors": [{"unit": p.path, "name": {"vi": p.name_vi, "en": p.name_en},
                          "effective_on": p.effective_on.isoformat(), "change": p.change, "share": p.share}
                         for p in lineage],
    }
    for entry in report.get("trend", []):
        last = entry.get("to") or entry.get("last")
        entry["before_merger"] = bool(last) and date.fromisoformat(str(last)[:10]) < day
    return report
