"""Comparisons at any depth: a province ranks all its communes, or all its service points
of a kind, not only its direct children.

The numbers are the dashboard's own comparison (``analysis.report.build_report`` with
``compare``: the same index, 95% intervals, random-effects shrinkage, rank intervals and
funnel flags, and the same funnel chart), computed through :func:`views.compute` with the
compared units' paths. Each compared unit counts its own subtree; a compared point below
another (a reception point under its centre) takes its answers out of the upper row.

Levels (``level``)
------------------
``communes``
    the commune-level units (xã, phường, đặc khu) below the unit;
``points``
    the service points below the unit, of one ``kind`` (``one_stop``, ``health``,
    ``education``) or of every kind.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Unit
from ..officials.scope import Scope, path_under
from .views import (FilterError, ReportFilters, ReportView, chart_cache, compute, own_instrument_args,
                    parse_filters, render_charts)

__all__ = ["LEVELS", "POINT_KINDS", "COMMUNE_DIVISIONS", "Ranking", "RankingChoice", "parse_choice",
           "compared_units", "rank", "funnel_svg", "sorted_rows"]

LEVELS = ("communes", "points")
POINT_KINDS = ("one_stop", "health", "education")
COMMUNE_DIVISIONS = ("commune", "ward", "special_zone")


@dataclass(frozen=True)
class RankingChoice:
    level: str
    kind: str | None  # None: every kind

    def args(self) -> dict[str, str]:
        out = {"level": self.level}
        if self.kind:
            out["kind"] = self.kind
        return out


@dataclass
class Ranking:
    unit: Unit
    choice: RankingChoice
    view: ReportView
    units: list[Unit]                       # the compared units, by path
    rows: list[dict[str, Any]]              # the report's unit rows, each with ``id``, ``within``, ``args``

    @property
    def filters(self) -> ReportFilters:
        return self.view.filters


def _one(args: Any, name: str) -> str:
    values = args.getlist(name)
    if len(values) > 1:
        raise FilterError(_("“%(name)s” was given more than once.", name=name), name)
    return values[0].strip() if values else ""


def _units_below(session: Session, unit: Unit) -> list[Unit]:
    return list(session.scalars(select(Unit).where(path_under(Unit.path, unit.path), Unit.id != unit.id,
                                                   Unit.active.is_(True)).order_by(Unit.path)))


def compared_units(session: Session, unit: Unit, choice: RankingChoice) -> list[Unit]:
    """The active units ``choice`` compares below ``unit``, by path."""
    below = _units_below(session, unit)
    if choice.level == "communes":
        return [u for u in below if u.kind == "admin" and u.division in COMMUNE_DIVISIONS]
    return [u for u in below if u.is_service_point and (choice.kind is None or u.kind == choice.kind)]


def parse_choice(session: Session, unit: Unit, args: Any) -> RankingChoice:
    """``level`` and ``kind`` from a query string; without ``level``, communes when there
    are some below the unit, else service points."""
    level, kind = _one(args, "level"), _one(args, "kind")
    if level and level not in LEVELS:
        raise FilterError(_("The level must be “communes” or “points”."), "level")
    if kind and kind not in POINT_KINDS:
        raise FilterError(_("The kind must be one-stop, health or education."), "kind")
    if not level:
        level = "communes" if compared_units(session, unit, RankingChoice("communes", None)) else "points"
    return RankingChoice(level, kind or None)


def sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ranked rows by rank (then more respondents first), as the dashboard's default sort;
    unranked rows after them, higher index first, rows without an index last."""
    return sorted(rows, key=lambda u: (u["rank"] is None, u["rank"] or 0, u["index"] is None,
                                       -(u["index"] or 0), -u["n"], u["unit"]))


def rank(session: Session, scope: Scope, unit: Unit, args: Any, today: date) -> Ranking:
    """The comparison of every unit ``choice`` selects below ``unit``, for the dashboard's
    filters in ``args``; without ``instrument``, the instrument those units collect with
    most. Raises :class:`FilterError` for a value that cannot be used."""
    choice = parse_choice(session, unit, args)
    filters = parse_filters(session, scope, unit, args, today, kind=choice.kind)
    units = compared_units(session, unit, choice)
    view = compute(session, unit, filters, compare=tuple(u.path for u in units))
    by_path = {u.path: u for u in units}
    admin = {u.path: u for u in _units_below(session, unit) if u.kind == "admin"}
    rows = []
    for row in view.report["units"]:
        u = by_path[row["unit"]]
        parent = next((admin[p] for p in _ancestors(u.path) if p in admin), None)
        rows.append(dict(row, id=u.id, within=parent, args=own_instrument_args(session, u, filters, today)))
    return Ranking(unit=unit, choice=choice, view=view, units=units, rows=sorted_rows(rows))


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) + "/" for i in range(len(parts) - 1, 0, -1)]


def funnel_key(ranking: Ranking, lang: str) -> str:
    raw = json.dumps([ranking.unit.id, ranking.filters.key(), ranking.choice.level, ranking.choice.kind,
                      [u.path for u in ranking.units], list(ranking.view.mark), "ranking-funnel", lang])
    return hashlib.sha256(raw.encode()).hexdigest()


def funnel_svg(ranking: Ranking, lang: str) -> bytes | None:
    """The funnel plot of the ranking (the dashboard's funnel chart), as SVG; ``None`` when
    fewer than two units can be compared."""
    bundle = chart_cache().get_or_make(funnel_key(ranking, lang), lambda: render_charts(
        ranking.view.report, ranking.view.definition, lang, "svg", only=("funnel",)))
    return bundle.get("funnel")
