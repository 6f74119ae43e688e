"""Publishing results ("công khai") as releases: a manager makes one complete calendar
period — a month, a quarter or a year — of a unit's report public at ``/p/<unit>``.

A release is frozen when it is published: :func:`publish` computes its public figures
once and stores them in ``Publication.figures``; the public page shows exactly those,
however many late answers arrive afterwards. A period that has not ended cannot be
published. A correction is a new release of the same period: it says what changed
(``correction_note``), supersedes the earlier one (withdrawn, kept) and is numbered
``release_no`` + 1. Publishing and withdrawing are audited.

What a release shows is the report of its period counting trusted responses only (never
suspect ones, every channel, every campaign), with small cells withheld:

* fewer than 10 responses in all → nothing but the fact is shown;
* the units below: their respondent counts sum to the unit's published total, so they are
  one group for :func:`~analysis.suppress.suppress_counts` — a unit under 10 is withheld,
  and if it is the only one, the next smallest is withheld too. A withheld unit shows none
  of its numbers;
* the trend's months are another such group (their counts also sum to the total);
* zero counts are published (they disclose nobody) and never count as the protecting
  second cell;
* then :mod:`analysis.disclosure` audits every count public at that moment — this
  release's and those of every other active release of the same survey in the province,
  at every level and for every period — with integer linear programming, and withholds
  more of this release's figures until no withheld count can be narrowed to fewer than
  10 values (or pinned inside 0…9) by differencing. Earlier releases are never changed.

Index values are averages of shares; they are shown only where their count is shown. The
trend test is recomputed on the published periods only. Comments are never public.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.report import MIN_TREND_PERIODS, period_bounds, period_of
from analysis.suppress import DEFAULT_THRESHOLD, suppress_counts
from analysis.trends import trend_test

from ...models import Instrument, Publication, Unit, User, utcnow
from ..officials import audit
from ..officials.scope import Scope, not_found
from .build import local_today
from .views import ReportFilters, compute

__all__ = ["PublicationError", "publish", "unpublish", "publications_of", "public_filters", "public_results",
           "suppress_report", "release_kind", "release_choices", "THRESHOLD"]

THRESHOLD = DEFAULT_THRESHOLD
_KINDS = {"month": re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "quarter": re.compile(r"^\d{4}-Q[1-4]$"),
          "year": re.compile(r"^\d{4}$")}
NOTE_MAX = 1000


class PublicationError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def release_kind(window: str) -> str | None:
    """``month``, ``quarter`` or ``year`` for a window such as ``2026-05``, ``2026-Q2`` or
    ``2026``; ``None`` for anything else (``12m``, ``custom``)."""
    for kind, pattern in _KINDS.items():
        if pattern.match(window or ""):
            return kind
    return None


def release_choices(today: date) -> list[tuple[str, str]]:
    """(window, label) of the calendar periods that have ended by ``today`` and can be
    published: recent years, quarters and months."""
    from .views import window_choices

    return [(value, label) for value, label in window_choices(today)
            if release_kind(value) and period_bounds(value)[1] < today]


def _active_release(session: Session, unit: Unit, instrument: Instrument, date_from: date, date_to: date
                    ) -> Publication | None:
    return session.scalar(select(Publication).where(
        Publication.unit_id == unit.id, Publication.instrument_id == instrument.id,
        Publication.date_from == date_from, Publication.date_to == date_to,
        Publication.unpublished_at.is_(None)).order_by(Publication.id.desc()))


def publish(session: Session, scope: Scope, unit: Unit, filters: ReportFilters, *, actor: User,
            correction_note: str | None = None, today: date | None = None, petition_settings=None) -> Publication:
    """Publish ``filters``' survey for ``unit`` (manager there) over the calendar period
    ``filters.window`` names, frozen now.

    Publishing a period already public returns that release unchanged. With a
    ``correction_note`` it makes a new release of the period instead, which says what
    changed and supersedes the old one. A period that has not ended (on ``today``, local)
    is refused. The caller commits.
    """
    scope.require(unit, "manager")
    instrument = session.scalar(select(Instrument).where(Instrument.key == filters.instrument))
    if instrument is None:
        raise PublicationError(_("There is no survey “%(key)s”.", key=filters.instrument))
    kind = release_kind(filters.window)
    if kind is None:
        raise PublicationError(_("Choose a month, a quarter or a year: a release covers one complete calendar "
                                 "period."))
    today = today or local_today()
    if filters.date_to >= today:
        raise PublicationError(_("This period has not ended yet: it can be published from %(day)s.",
                                 day=_day_after(filters.date_to)))
    from ..officials.lineage import covered, merged_below

    before = covered(session, unit, filters.date_from)
    if not before and merged_below(session, unit, filters.date_from, filters.date_to):
        # the same for a unit above a merger: its comparison would count the former units
        # under their successor's row
        raise PublicationError(_("Units below %(name)s were merged during this period, so its comparison would "
                                 "count the former units under the new one. Publish periods that end before the "
                                 "merger or begin on its day.", name=unit.name_vi))
    if before:
        # The differencing audit (release_audit) models each figure as the sum of the unit's
        # own subtree; a release that also counts former units would be modelled wrongly.
        raise PublicationError(_("This period begins before %(name)s was formed (%(day)s), so its figures would "
                                 "include the former units' answers. Publish a period from that day on, or publish "
                                 "the former units' own releases for the months before.", name=unit.name_vi,
                                 day=max(p.effective_on for p in before).strftime("%d/%m/%Y")))
    note = (correction_note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise PublicationError(_("Please keep the note on what changed under %(n)d characters.", n=NOTE_MAX))
    existing = _active_release(session, unit, instrument, filters.date_from, filters.date_to)
    if existing is not None and note is None:
        return existing
    if existing is None and note is not None:
        raise PublicationError(_("This period is not published yet, so there is nothing to correct: publish it "
                                 "without a note."))
    figures = freeze(session, unit, public_filters_for(filters.instrument, filters.window, filters.date_from,
                                                       filters.date_to),
                     petition_settings=petition_settings, today=today, replacing=existing)
    now = utcnow()
    pub = Publication(unit=unit, instrument=instrument, date_from=filters.date_from, date_to=filters.date_to,
                      period=kind, published_at=now, published_by_id=actor.id, published_by_name=actor.username,
                      figures=figures, release_no=(existing.release_no + 1) if existing else 1,
                      supersedes_id=existing.id if existing else None, correction_note=note)
    if existing is not None:
        existing.unpublished_at = now
        existing.unpublished_by_id = actor.id
        existing.unpublished_by_name = actor.username
    session.add(pub)
    session.flush()
    detail = {"instrument": instrument.key, "period": filters.window, "from": filters.date_from.isoformat(),
              "to": filters.date_to.isoformat(), "release": pub.release_no}
    if existing is not None:
        detail.update(supersedes=existing.id, note=note)
    audit.record(session, "report.published", actor=actor, unit=unit, target=f"publication:{pub.id}", detail=detail)
    return pub


def _day_after(day: date) -> str:
    return (day + timedelta(days=1)).strftime("%d/%m/%Y")


def unpublish(session: Session, scope: Scope, publication_id: int, *, actor: User, within: Unit | None = None
              ) -> Publication:
    """Withdraw a release (manager of its unit). Audited; the caller commits."""
    pub = session.get(Publication, publication_id) if 0 < publication_id < 2**31 else None
    if pub is None or (within is not None and not pub.unit.path.startswith(within.path)):
        not_found()
    scope.require(pub.unit, "manager")
    if pub.unpublished_at is None:
        pub.unpublished_at = utcnow()
        pub.unpublished_by_id = actor.id
        pub.unpublished_by_name = actor.username
        audit.record(session, "report.unpublished", actor=actor, unit=pub.unit, target=f"publication:{pub.id}",
                     detail={"instrument": pub.instrument.key, "from": pub.date_from.isoformat(),
                             "to": pub.date_to.isoformat()})
    return pub


def publications_of(session: Session, unit: Unit, *, active_only: bool = True) -> list[Publication]:
    """``unit``'s releases, the latest period first (frozen releases only when ``active_only``)."""
    query = select(Publication).where(Publication.unit_id == unit.id)
    if active_only:
        query = query.where(Publication.unpublished_at.is_(None), Publication.figures.is_not(None))
    return list(session.scalars(query.order_by(Publication.date_to.desc(), Publication.date_from.desc(),
                                               Publication.id.desc())))


def public_filters_for(instrument: str, window: str, date_from: date, date_to: date) -> ReportFilters:
    """What a release counts: its period (trend by month), trusted responses, every channel
    and campaign."""
    return ReportFilters(instrument=instrument, window=window, date_from=date_from, date_to=date_to,
                         period="month", channels=(), include_suspect=False, campaign_id=None)


def public_filters(pub: Publication) -> ReportFilters:
    return public_filters_for(pub.instrument.key, period_of(pub.date_from, pub.period), pub.date_from, pub.date_to)


def _withheld_group(counts: list[int]) -> list[bool]:
    """Which counts of one group (summing to a published total) to withhold. Zeros are
    published and left out of the group: a withheld zero would protect nothing, so the
    partner of a small count is always another non-zero count."""
    nonzero = [i for i, c in enumerate(counts) if c > 0]
    hidden = [False] * len(counts)
    if nonzero:
        cells = suppress_counts([counts[i] for i in nonzero], threshold=THRESHOLD).cells.tolist()
        for i, h in zip(nonzero, cells):
            hidden[i] = bool(h)
    return hidden


def suppress_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The public form of a report (see the module doc). Withheld values are ``None`` and
    their entries carry ``withheld: True``; nothing under the threshold survives. No
    p-values: the trend is kept as a direction and a size, to be said in words only when
    it is solid."""
    total = int(report["responses"])
    index = dict(report["index"])
    out: dict[str, Any] = {
        "unit": report["unit"], "instrument": report["instrument"], "window": report["window"],
        "threshold": THRESHOLD, "responses": total, "withheld": False, "moh": None,
    }
    if total < THRESHOLD:
        out.update(responses=None, withheld=True, index=None, factors=[], trend=[], trend_test=None, units=[],
                   direct=None)
        return out
    out["index"] = {k: index.get(k) for k in ("value", "low", "high", "unit", "max", "grade", "n")}
    out["factors"] = [{"key": f["key"], "name": f["name"], "index": f["index"], "low": f["low"], "high": f["high"]}
                      for f in report["factors"]]
    if report.get("moh"):
        out["moh"] = {k: {"value": v.get("value"), "low": v.get("low"), "high": v.get("high")}
                      for k, v in report["moh"].items()}

    trend = report["trend"]
    hidden = _withheld_group([int(p["n"]) for p in trend])
    out["trend"] = [
        {"period": p["period"], "withheld": True, "n": None, "index": None, "low": None, "high": None} if h else
        {"period": p["period"], "withheld": False, "n": p["n"], "index": p["index"], "low": p["low"], "high": p["high"]}
        for p, h in zip(trend, hidden)
    ]
    out["trend_test"] = _public_trend(out["trend"], trend)

    units = report["units"]
    counts = [int(u["n"]) for u in units]
    direct = total - sum(counts)  # responses given at the unit itself, not below it
    group = counts + ([direct] if direct > 0 else [])
    hidden_all = _withheld_group(group)
    hidden = hidden_all[:len(units)]
    out["units"] = [_unit_row(u, h) for u, h in zip(units, hidden)]
    # Responses at the unit itself (a unit that is also a service point): a row of its own.
    out["direct"] = None
    if direct > 0:
        out["direct"] = {"withheld": bool(hidden_all[-1]), "n": None if hidden_all[-1] else direct}
    return out


def _unit_row(u: Mapping[str, Any], withheld: bool) -> dict[str, Any]:
    base = {"unit": u["unit"], "code": u["code"], "name": u["name"]}
    if withheld:
        return {**base, "withheld": True, "n": None, "index": None, "low": None, "high": None}
    return {**base, "withheld": False, "n": u["n"], "index": u["index"], "low": u["low"], "high": u["high"]}


def _public_trend(public: list[dict[str, Any]], trend: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The trend test on the published months only (withheld months are left out)."""
    rows = [(t["position"], p["index"], p["n"]) for p, t in zip(public, trend)
            if not p["withheld"] and p["index"] is not None and not t.get("partial")]
    test = trend_test([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                      low_n=THRESHOLD, min_periods=MIN_TREND_PERIODS)
    if not test.enough:
        return {"enough": False, "periods": int(test.periods), "solid": False, "direction": "none", "per": "month"}
    return {"enough": True, "periods": int(test.periods), "solid": bool(test.solid), "direction": test.direction,
            "slope": _finite(test.slope), "slope_low": _finite(test.low), "slope_high": _finite(test.high),
            "per": "month"}


def _finite(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def freeze(session: Session, unit: Unit, filters: ReportFilters, *, petition_settings=None,
           today: date | None = None, replacing: Publication | None = None) -> dict[str, Any]:
    """The figures of a release, computed now: the suppressed report (audited against
    differencing with every other public release but the one it ``replacing``), the
    petition figures as they stand, and what they were computed from. JSON-ready; stored
    and never recomputed.

    A correction is audited without the release it replaces: the two differ by the
    answers that came late, which the correction exists to count."""
    from ..petitions import operations as petitions
    from . import release_audit

    view = compute(session, unit, filters)
    results = suppress_report(view.report)
    results = release_audit.protect_release(session, unit, view, results, threshold=THRESHOLD,
                                            excluding=replacing.id if replacing is not None else None)
    figures = petitions.accountability(session, unit, filters.date_from, filters.date_to, public=True,
                                       settings=petition_settings, as_of=today)
    return {"results": results, "title": view.definition["title"], "accountability": figures,
            "computed_on": (today or local_today()).isoformat(), "watermark": list(view.mark)}


@dataclass
class PublicResults:
    publication: Publication
    results: dict[str, Any]
    title: Mapping[str, str]
    accountability: dict[str, Any]


def public_results(pub: Publication) -> PublicResults:
    """A release's frozen figures (withdrawn releases and old live ones are not public)."""
    if not pub.active or not pub.figures:
        not_found()
    figures = pub.figures
    return PublicResults(publication=pub, results=figures["results"], title=figures["title"],
                         accountability=figures["accountability"])
