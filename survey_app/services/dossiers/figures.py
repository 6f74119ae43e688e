"""Response rates and the national portal's figures, from the dossiers of a unit's subtree.

For a window of local days: the dossiers returned in it (the denominator), those rated
through their evaluation code, and the response rate, per service point and month; the
766/QĐ-TTg figures (:func:`analysis.portal.portal_figures`); breakdowns by procedure and
sector (by counter staff only through :func:`by_staff`, for managers, audited by the
caller); for one-time-code campaigns, codes issued against codes used. A point-month whose
ratings (every trusted response at the point, from any channel) exceed the dossiers it
returned is flagged, and so is one whose response rate jumps far above the point's own
history (:func:`_jumps`); :func:`flag_excess` marks those responses suspect (never deletes).

A rating is "not satisfied" when any indicator it answered is at a level its scale does
not count as satisfied (the one-stop form: "Không hài lòng").
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.portal import portal_figures

from ...models import Answer, Campaign, Dossier, InstrumentVersion, Response, Unit, VisitToken
from ..reports import rollup
from ..reports.rollup import LOCAL_TZ

__all__ = ["EXCESS_REASON", "JUMP_REASON", "by_staff", "dossier_section", "excess_periods", "flag_excess"]

EXCESS_REASON = "more ratings than dossiers served in the month"


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    return (datetime.combine(date_from, time(), tzinfo=LOCAL_TZ),
            datetime.combine(date_to + timedelta(days=1), time(), tzinfo=LOCAL_TZ))


def _month(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m")


@dataclass
class _Row:
    dossier: Any
    unit_code: str
    unit_name: str
    unit_path: str


def _returned(session: Session, path: str, date_from: date, date_to: date) -> list[_Row]:
    start, end = _bounds(date_from, date_to)
    rows = session.execute(
        select(Dossier, Unit.code, Unit.name_vi, Unit.path).join(Unit, Unit.id == Dossier.unit_id)
        .where(Unit.path.like(path + "%"), Dossier.returned_at >= start, Dossier.returned_at < end))
    return [_Row(d, code, name, p) for d, code, name, p in rows]


def _not_satisfied(session: Session, response_ids: Iterable[int]) -> set[int]:
    """The responses among ``response_ids`` with an indicator below "satisfied"."""
    ids = list(response_ids)
    if not ids:
        return set()
    versions = dict(session.execute(select(Response.id, Response.instrument_version_id)
                                    .where(Response.id.in_(ids))).all())
    unhappy: dict[int, set[tuple[str, int]]] = {}
    for version in session.scalars(select(InstrumentVersion).where(InstrumentVersion.id.in_(set(versions.values())))):
        snapshot = version.snapshot
        levels = set()
        for q in snapshot.get("questions", []):
            scale = snapshot.get("scales", {}).get(q.get("scale") or "")
            if q.get("type") == "scale" and scale:
                levels |= {(q["key"], lv["value"]) for lv in scale["levels"] if lv["value"] not in scale["satisfied"]}
        unhappy[version.id] = levels
    found = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for rid, key, value in session.execute(select(Answer.response_id, Answer.question_key, Answer.value_int)
                                               .where(Answer.response_id.in_(chunk), Answer.value_int.is_not(None))):
            if (key, value) in unhappy.get(versions[rid], ()):
                found.add(rid)
    return found


def _rate(rated: int, returned: int) -> float | None:
    return round(rated / returned, 4) if returned else None


def _ratings_by_point_month(session: Session, path: str, date_from: date, date_to: date) -> dict[tuple[str, str], int]:
    start, end = _bounds(date_from, date_to)
    out: dict[tuple[str, str], int] = defaultdict(int)
    for code, when in session.execute(
            select(Unit.code, Response.submitted_at).join(Unit, Unit.id == Response.unit_id)
            .where(Unit.path.like(path + "%"), Unit.kind == "one_stop", Response.trust == "ok",
                   Response.submitted_at >= start, Response.submitted_at < end)):
        out[(code, _month(when))] += 1
    return out


#: A month's response rate "jumps" when, with at least JUMP_MIN_DOSSIERS dossiers in it and
#: JUMP_HISTORY earlier months of as many, it is at least twice the median of those months
#: and JUMP_MARGIN above it: codes rated by someone other than the citizens, for instance.
JUMP_MIN_DOSSIERS = 10
JUMP_HISTORY = 3
JUMP_MARGIN = 0.25
JUMP_REASON = "response rate far above the point's own history"


def _jumps(returned: int, rated: int, earlier: list[tuple[int, int]]) -> bool:
    rates = sorted(r / n for n, r in earlier if n >= JUMP_MIN_DOSSIERS)
    if returned < JUMP_MIN_DOSSIERS or len(rates) < JUMP_HISTORY:
        return False
    middle = len(rates) // 2
    median = rates[middle] if len(rates) % 2 else (rates[middle - 1] + rates[middle]) / 2
    rate = rated / returned
    return rate >= 2 * median and rate - median >= JUMP_MARGIN


def _history(session: Session, path: str, date_from: date, months: int = 12) -> dict[str, list[tuple[int, int]]]:
    """(returned, rated) per earlier month of each point, oldest first, for the jump test."""
    start = datetime.combine(date_from, time(), tzinfo=LOCAL_TZ) - timedelta(days=31 * months)
    end = datetime.combine(date_from, time(), tzinfo=LOCAL_TZ)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for code, returned_at, response_id in session.execute(
            select(Unit.code, Dossier.returned_at, Dossier.response_id).join(Unit, Unit.id == Dossier.unit_id)
            .where(Unit.path.like(path + "%"), Dossier.returned_at >= start, Dossier.returned_at < end)):
        bucket = counts[(code, _month(returned_at))]
        bucket[0] += 1
        bucket[1] += response_id is not None
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for (code, _name), (returned, rated) in sorted(counts.items()):
        out[code].append((returned, rated))
    return out


def _breakdown(rows: list[_Row], unhappy: set[int], key) -> list[dict[str, Any]]:
    groups: dict[Any, list[_Row]] = defaultdict(list)
    for row in rows:
        groups[key(row.dossier)].append(row)
    out = []
    for name, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), str(kv[0]))):
        rated = [r for r in members if r.dossier.response_id is not None]
        satisfied = sum(1 for r in rated if r.dossier.response_id not in unhappy)
        out.append({"name": name, "returned": len(members), "rated": len(rated),
                    "response_rate": _rate(len(rated), len(members)),
                    "late": sum(1 for r in members if r.dossier.late),
                    "satisfied_share": round(satisfied / len(rated), 4) if rated else None})
    return out


def dossier_section(session: Session, unit: Unit, date_from: date, date_to: date) -> dict[str, Any] | None:
    """The report JSON's ``dossiers`` section, or ``None`` when the subtree returned no
    dossier and issued no one-time code in the window. Never names counter staff."""
    rows = _returned(session, unit.path, date_from, date_to)
    codes = _codes(session, unit.path, date_from, date_to)
    if not rows and not codes:
        return None
    rated_ids = [r.dossier.response_id for r in rows if r.dossier.response_id is not None]
    unhappy = _not_satisfied(session, rated_ids)
    late = sum(1 for r in rows if r.dossier.late)
    complained = sum(1 for r in rows if r.dossier.petition or r.dossier.response_id in unhappy)
    portal = portal_figures(len(rows), late, complained)
    ratings = _ratings_by_point_month(session, unit.path, date_from, date_to)
    points: dict[str, dict[str, Any]] = {}
    for row in rows:
        point = points.setdefault(row.unit_code, {"code": row.unit_code, "name": row.unit_name, "returned": 0,
                                                  "rated": 0, "months": {}})
        month = point["months"].setdefault(_month(row.dossier.returned_at), {"returned": 0, "rated": 0})
        for bucket in (point, month):
            bucket["returned"] += 1
            bucket["rated"] += row.dossier.response_id is not None
    flags = []
    history = _history(session, unit.path, date_from)
    for point in points.values():
        point["response_rate"] = _rate(point["rated"], point["returned"])
        months = []
        earlier = list(history.get(point["code"], []))
        for name, month in sorted(point["months"].items()):
            all_ratings = ratings.get((point["code"], name), 0)
            excess = all_ratings > month["returned"]
            jump = _jumps(month["returned"], month["rated"], earlier)
            months.append({"month": name, "returned": month["returned"], "rated": month["rated"],
                           "response_rate": _rate(month["rated"], month["returned"]), "ratings": all_ratings,
                           "flagged": excess or jump, "excess": excess, "jump": jump})
            for reason, hit in (("excess", excess), ("jump", jump)):
                if hit:
                    flags.append({"point": point["code"], "month": name, "reason": reason, "ratings": all_ratings,
                                  "rated": month["rated"], "dossiers": month["returned"]})
            earlier.append((month["returned"], month["rated"]))
        point["months"] = months
    return {
        "returned": len(rows),
        "rated": len(rated_ids),
        "response_rate": _rate(len(rated_ids), len(rows)),
        "points": sorted(points.values(), key=lambda p: p["code"]),
        "portal": {"resolved": portal.resolved, "late": portal.late, "complained": portal.complained,
                   "on_time": portal.on_time, "satisfaction": portal.satisfaction},
        "by_procedure": _breakdown(rows, unhappy, lambda d: f"{d.procedure_code} {d.procedure_name}"),
        "by_sector": _breakdown(rows, unhappy, lambda d: d.sector),
        "codes": codes,
        "flags": flags,
    }


def by_staff(session: Session, unit: Unit, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """The same breakdown by counter staff, for managers only (the caller audits the view)."""
    rows = _returned(session, unit.path, date_from, date_to)
    unhappy = _not_satisfied(session, [r.dossier.response_id for r in rows if r.dossier.response_id is not None])
    return _breakdown(rows, unhappy, lambda d: d.staff or "—")


def _codes(session: Session, path: str, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """One-time codes issued in the window, and how many of them were used, per campaign."""
    start, end = _bounds(date_from, date_to)
    rows = session.execute(
        select(Campaign.id, Campaign.name, func.count(VisitToken.id), func.count(VisitToken.spent_at))
        .join(VisitToken, VisitToken.campaign_id == Campaign.id).join(Unit, Unit.id == VisitToken.unit_id)
        .where(Unit.path.like(path + "%"), VisitToken.created_at >= start, VisitToken.created_at < end)
        .group_by(Campaign.id, Campaign.name).order_by(Campaign.id))
    return [{"campaign": cid, "name": name, "issued": issued, "used": used, "use_rate": _rate(used, issued)}
            for cid, name, issued, used in rows]


def excess_periods(session: Session, unit: Unit, date_from: date, date_to: date) -> list[dict[str, Any]]:
    section = dossier_section(session, unit, date_from, date_to)
    return section["flags"] if section else []


def flag_excess(session: Session, unit: Unit, date_from: date, date_to: date) -> int:
    """Mark suspect, for each month of more ratings than dossiers, the trusted responses at
    the point that are not a dossier's own rating (those came through a one-time code); for
    each month whose response rate jumped, the dossiers' own ratings of that month. Through
    :func:`survey_app.services.reports.rollup.reclassify`. Returns how many; the caller
    audits and commits. Nothing is deleted; an official can still include them."""
    flagged = 0
    for flag in excess_periods(session, unit, date_from, date_to):
        year, month = map(int, flag["month"].split("-"))
        first = date(year, month, 1)
        last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))
        start, end = _bounds(max(first, date_from), min(last, date_to))
        point = session.scalar(select(Unit).where(Unit.code == flag["point"]))
        if flag["reason"] == "excess":
            # More ratings than dossiers: the ratings that did not come with a dossier's code.
            linked = select(Dossier.response_id).where(Dossier.response_id.is_not(None))
            ids = list(session.scalars(select(Response.id).where(
                Response.unit_id == point.id, Response.trust == "ok", Response.submitted_at >= start,
                Response.submitted_at < end, Response.id.not_in(linked))))
            reason = EXCESS_REASON
        else:
            # A jump: the ratings of the dossiers returned that month (those the rate counts).
            ids = list(session.scalars(select(Response.id).join(Dossier, Dossier.response_id == Response.id).where(
                Dossier.unit_id == point.id, Dossier.returned_at >= start, Dossier.returned_at < end,
                Response.trust == "ok")))
            reason = JUMP_REASON
        # The trust-flag machinery of the reports: the rollups stay exact.
        flagged += rollup.reclassify(session, ids, "suspect", reason) if ids else 0
    return flagged
