"""The overview of a unit: every service kind below it on one page, each survey with its
own headline.

Each card is the report the dashboard computes (:func:`views.compute`, same filters, same
rollups) for one instrument the unit collects with (:func:`views.unit_instruments`): the
index with its 95% interval, the change from the previous period, a sparkline of the
trend, and — for the one-stop surveys, where the one-stop software reported dossiers — the
share of dossiers rated. Nothing is recomputed here. A headline the dashboard marks as low
n (fewer than the report's ``low_n`` respondents) is not shown as a number: the card says
there are not enough answers.

Open petitions are counted as they stand now, per service kind of the unit responsible.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ...models import Campaign, Instrument, InstrumentVersion, Petition, Unit, campaign_unit
from ..officials.scope import Scope, path_under
from ..petitions.operations import OPEN_STATUSES, clock_running
from . import rollup, text
from .sparkline import sparkline_svg
from .views import ReportFilters, ReportView, compute, parse_filters, unit_instruments

__all__ = ["KIND_ORDER", "Card", "KindGroup", "Overview", "unit_overview", "kind_label"]

#: The service kinds in the order the page shows them; "admin" holds the surveys of no one
#: service (the quick feedback at the counters, the PAPI mirror).
KIND_ORDER = ("one_stop", "health", "education", "admin")
#: The filters an overview passes on to its cards (the instrument is each card's own).
PASSED_ON = ("window", "from", "to", "shown_from", "shown_to", "period")


def kind_label(kind: str) -> str:
    return {"one_stop": _("One-stop service"), "health": _("Health"), "education": _("Education"),
            "admin": _("Quick feedback and other surveys")}.get(kind, kind)


@dataclass
class Card:
    """One instrument's headline in the unit."""

    kind: str
    instrument: str
    title: dict[str, str]
    filters: ReportFilters
    report: dict[str, Any]
    points: int                       # service points below the unit with a campaign of it
    enough: bool                      # the headline may be shown as a number
    spark: Markup | None
    response_rate: dict[str, Any] | None = None  # {rate, rated, returned} of the dossiers

    @property
    def index(self) -> dict[str, Any]:
        return self.report["index"]

    @property
    def change(self) -> dict[str, Any] | None:
        return self.report.get("change")


@dataclass
class KindGroup:
    kind: str
    label: str
    cards: list[Card] = field(default_factory=list)
    open_petitions: int = 0
    overdue_petitions: int = 0


@dataclass
class Overview:
    unit: Unit
    groups: list[KindGroup]
    filters: ReportFilters | None     # the window shared by the cards (None: no card)
    open_petitions: int
    overdue_petitions: int


def _points_with(session: Session, unit: Unit, key: str) -> int:
    return int(session.scalar(
        select(func.count(func.distinct(Unit.id))).select_from(campaign_unit)
        .join(Unit, Unit.id == campaign_unit.c.unit_id)
        .join(Campaign, Campaign.id == campaign_unit.c.campaign_id)
        .join(InstrumentVersion, InstrumentVersion.id == Campaign.instrument_version_id)
        .join(Instrument, Instrument.id == InstrumentVersion.instrument_id)
        .where(path_under(Unit.path, unit.path), Unit.is_service_point.is_(True), Instrument.key == key)) or 0)


def _open_petitions(session: Session, unit: Unit, today: date) -> dict[str, tuple[int, int]]:
    """Kind of the unit responsible → (open, overdue) petitions of the subtree now
    (suspect ones left out; one waiting for the citizen's information is open, never overdue)."""
    overdue = case((and_(Petition.due_on < today, clock_running()), 1), else_=0)
    rows = session.execute(
        select(Unit.kind, func.count(Petition.id), func.sum(overdue))
        .join(Unit, Unit.id == Petition.unit_id)
        .where(path_under(Unit.path, unit.path), Petition.status.in_(OPEN_STATUSES), Petition.trust == "ok")
        .group_by(Unit.kind)).all()
    return {kind: (int(n), int(late or 0)) for kind, n, late in rows}


def _title(title: dict[str, str]) -> str:
    return title.get(text._lang()) or title.get("vi") or ""


def _card(session: Session, scope: Scope, unit: Unit, key: str, args: Any, today: date) -> Card:
    passed = MultiDict([(name, value) for name in PASSED_ON for value in args.getlist(name)])
    passed["instrument"] = key
    filters = parse_filters(session, scope, unit, passed, today)
    view: ReportView = compute(session, unit, filters)
    report = view.report
    index = report["index"]
    enough = bool(report["responses"]) and not index.get("low_n") and index.get("value") is not None
    spark = sparkline_svg(report["trend"], index.get("unit"), max_value=index.get("max"),
                          label=_("Trend of %(survey)s: %(sentence)s", survey=_title(report["instrument"]["title"]),
                                  sentence=text.trend_sentence(report["trend_test"], index.get("unit"))))
    rate = None
    dossiers = report.get("dossiers")
    kind = view.definition.get("kind", "admin")
    if kind == "one_stop" and dossiers and dossiers.get("returned"):
        rate = {"rate": dossiers["response_rate"], "rated": dossiers["rated"], "returned": dossiers["returned"]}
    return Card(kind=kind if kind in KIND_ORDER else "admin", instrument=key, title=report["instrument"]["title"],
                filters=filters, report=report, points=_points_with(session, unit, key), enough=enough, spark=spark,
                response_rate=rate)


def unit_overview(session: Session, scope: Scope, unit: Unit, args: Any, today: date) -> Overview:
    """The overview of ``unit`` for the window in ``args`` (a ``MultiDict``: ``window``,
    ``from``, ``to``, ``period`` as the dashboard takes them; default the last 12 months).
    Raises :class:`views.FilterError` for a window that cannot be used."""
    rollup.catch_up_for_request(session)  # once, before the instruments are listed from the rollups
    cards = [_card(session, scope, unit, key, args, today) for key in unit_instruments(session, unit, today)]
    petitions = _open_petitions(session, unit, today)
    groups = []
    for kind in KIND_ORDER:
        mine = [c for c in cards if c.kind == kind]
        # petitions addressed to an administrative unit itself count in the total only
        open_, late = petitions.get(kind, (0, 0)) if kind != "admin" else (0, 0)
        if mine or open_:
            groups.append(KindGroup(kind=kind, label=kind_label(kind), cards=mine, open_petitions=open_,
                                    overdue_petitions=late))
    return Overview(unit=unit, groups=groups, filters=cards[0].filters if cards else None,
                    open_petitions=sum(n for n, _late in petitions.values()),
                    overdue_petitions=sum(late for _n, late in petitions.values()))
