"""The differencing audit of a new release against every figure already public.

A release's public counts — its total, each row of "units below", the row "at the unit
itself" and each month of its trend — are sums of whole numbers per (place where
responses were given, calendar month). Every active release of the same survey in the
province is public at the same time, at every level and for every period, so a count
withheld on one page could be worked out from others: the ward's total minus its other
points, a quarter minus its months. :func:`protect_release` gives all of them to
:func:`analysis.disclosure.protect`, with the releases already out as ``frozen`` (a
published figure cannot be taken back), and withholds whatever more of the new release
it names. A count below the threshold in a month at one place is *sensitive* even where
no page shows it alone, so no combination of pages may narrow it either.

Only counts of trusted responses are modelled. Index values are averages of several
shares, not linear in the counts; each is shown only where its count is shown.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Any, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.disclosure import figures_for_tree, protect
from analysis.report import period_bounds, period_labels, period_of

from ...models import Publication, RollupResponse, Unit
from ..officials.scope import path_under

__all__ = ["protect_release"]

log = logging.getLogger(__name__)


def _province(path: str) -> str:
    """The province's path above a unit's path (``/vn/qt/p2/`` → ``/vn/qt/``)."""
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts[:2]) + "/"


class _Page:
    """One release's count figures as (unit or leaf, period) pairs, each published or not."""

    def __init__(self, unit_id: int, label: str, results: Mapping[str, Any], child_ids: Mapping[str, int]):
        self.unit_id = unit_id
        self.label = label
        self.rows: list[tuple[str, Any, tuple[Any, str], bool]] = []  # (kind, ref, (unit, period), shown)
        whole = bool(results.get("withheld"))
        self.rows.append(("total", None, (unit_id, label), not whole))
        for row in results.get("units") or []:
            cid = child_ids.get(row["unit"])
            if cid is not None:
                self.rows.append(("unit", row["unit"], (cid, label), not whole and not row["withheld"]))
        direct = results.get("direct")
        if direct:
            self.rows.append(("direct", None, (("at", unit_id), label), not whole and not direct["withheld"]))
        for row in results.get("trend") or []:
            if row["period"] != label:
                self.rows.append(("trend", row["period"], (unit_id, row["period"]), not whole and not row["withheld"]))


def protect_release(session: Session, unit: Unit, view, results: dict[str, Any], *, threshold: int,
                    releases: Sequence[Publication] | None = None, excluding: int | None = None
                    ) -> dict[str, Any]:
    """``results`` (the new release's suppressed report) with more figures withheld until
    no withheld count, on any public page, can be narrowed below the rule. ``view`` is the
    report view it was computed from (its versions and window)."""
    if results.get("withheld"):
        return results  # nothing of it is public
    instrument_id = view.versions[-1].instrument_id
    version_ids = [v.id for v in view.versions]
    province = _province(unit.path)
    if releases is None:
        releases = list(session.scalars(
            select(Publication).join(Unit, Unit.id == Publication.unit_id)
            .where(Publication.instrument_id == instrument_id, Publication.unpublished_at.is_(None),
                   Publication.figures.is_not(None), path_under(Unit.path, province))))
    new_first, new_last = view.filters.date_from, view.filters.date_to
    new_label = view.filters.window  # a release is one calendar period, named as its window

    units = {u.id: u for u in session.scalars(select(Unit).where(path_under(Unit.path, province)))}
    by_path = {u.path: u.id for u in units.values()}

    pages: list[tuple[_Page, bool]] = [(_Page(unit.id, new_label, results, by_path), False)]
    months = set(period_labels(new_first, new_last, "month"))
    for pub in releases:
        if pub.unit_id not in units or pub.id == excluding:
            continue
        pages.append((_Page(pub.unit_id, period_of(pub.date_from, pub.period), pub.figures["results"], by_path),
                      True))
        months.update(period_labels(pub.date_from, pub.date_to, "month"))

    # Atoms: trusted responses per (place answered, month).
    counts: dict[tuple[int, str], int] = defaultdict(int)
    rows = session.execute(
        select(RollupResponse.unit_id, RollupResponse.day, func.sum(RollupResponse.responses))
        .where(RollupResponse.instrument_version_id.in_(version_ids), RollupResponse.trust == "ok",
               RollupResponse.unit_id.in_(list(units)))
        .group_by(RollupResponse.unit_id, RollupResponse.day)).all()
    for unit_id, day, n in rows:
        label = period_of(day if isinstance(day, date) else date.fromisoformat(str(day)[:10]), "month")
        if label in months:
            counts[(unit_id, label)] += int(n or 0)
    places = sorted({u for u, _m in counts} | {p.unit_id for p, _f in pages})
    leaves = {("at", u): _ancestors(units, u) for u in places}
    calendar = {m: [period_of(period_bounds(m)[0], "quarter"), m[:4]] for m in sorted(months)}
    tree = figures_for_tree(leaves, calendar)
    true_values = {atom: counts.get((atom[0][1], atom[1]), 0) for atom in tree.atoms}

    new_figures, frozen, withheld_before = [], [], []
    where: dict[Any, list[tuple[str, Any]]] = defaultdict(list)
    for page, is_frozen in pages:
        for kind, ref, (target, label), shown in page.rows:
            try:
                expr = tree.count(target, label)
            except ValueError:
                continue  # a unit or month with nothing under it in this tree
            if is_frozen:
                (frozen if shown else withheld_before).append(expr)
            else:
                new_figures.append(expr)
                where[expr].append((kind, ref))
    sensitive = list(tree.sensitive_cells(true_values, threshold=threshold)) + withheld_before
    try:
        result = protect(tree.atoms, new_figures, true_values, threshold=threshold, sensitive=sensitive,
                         frozen=[f for f in frozen if f not in set(withheld_before)])
        hide = set(result.withheld)
    except ValueError as exc:
        # What is already public discloses something by itself (releases made before the
        # audit existed): this release adds nothing if all of it is withheld.
        log.warning("release of %s %s withheld whole: %s", unit.path, new_label, exc)
        hide = set(new_figures)
    return _apply(results, {loc for expr in hide for loc in where.get(expr, ())})


def _ancestors(units: Mapping[int, Unit], unit_id: int) -> list[int]:
    out = []
    u = units.get(unit_id)
    while u is not None:
        out.append(u.id)
        u = units.get(u.parent_id) if u.parent_id else None
    return out


def _apply(results: dict[str, Any], hide: set[tuple[str, Any]]) -> dict[str, Any]:
    if not hide:
        return results
    out = dict(results)
    if ("total", None) in hide:
        out.update(responses=None, withheld=True, index=None, factors=[], trend=[], trend_test=None, units=[],
                   direct=None, moh=None, audited=True)
        return out
    out["units"] = [dict(u, withheld=True, n=None, index=None, low=None, high=None) if ("unit", u["unit"]) in hide
                    else u for u in results.get("units") or []]
    if results.get("direct") and ("direct", None) in hide:
        out["direct"] = {"withheld": True, "n": None}
    out["trend"] = [dict(t, withheld=True, n=None, index=None, low=None, high=None) if ("trend", t["period"]) in hide
                    else t for t in results.get("trend") or []]
    return out
