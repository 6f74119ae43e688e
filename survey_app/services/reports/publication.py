"""Publishing results ("công khai"): a manager makes a period of a unit's report public
at ``/p/<unit>``, and can withdraw it. Both are audited.

What the public page shows is :func:`public_results`: the report of the published period
counting trusted responses only (never suspect ones, every channel, every campaign), with
small cells withheld by :mod:`analysis.suppress`:

* fewer than 10 responses in all → nothing but the fact is shown;
* the units below: their respondent counts sum to the unit's published total, so they are
  one group for :func:`~analysis.suppress.suppress_counts` — a unit under 10 is withheld,
  and if it is the only one, the next smallest is withheld too, so the small one cannot be
  worked out as the total minus the others. A withheld unit shows none of its numbers;
* the trend's periods are another such group (their counts also sum to the total);
* zero counts are published (they disclose nobody) and never count as the protecting
  second cell.

The trend test is recomputed on the published periods only. Comments are never public.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.suppress import DEFAULT_THRESHOLD, suppress_counts
from analysis.trends import mann_kendall

from ...models import Instrument, Publication, Unit, User, utcnow
from ..officials import audit
from ..officials.scope import Scope, not_found
from .views import ReportFilters, compute

__all__ = ["PublicationError", "publish", "unpublish", "publications_of", "public_filters", "public_results",
           "suppress_report", "THRESHOLD"]

THRESHOLD = DEFAULT_THRESHOLD


class PublicationError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def publish(session: Session, scope: Scope, unit: Unit, filters: ReportFilters, *, actor: User) -> Publication:
    """Publish ``filters``' survey and window for ``unit`` (manager there). Publishing the
    same period again returns the publication already public. The caller commits."""
    scope.require(unit, "manager")
    instrument = session.scalar(select(Instrument).where(Instrument.key == filters.instrument))
    if instrument is None:
        raise PublicationError(_("There is no survey “%(key)s”.", key=filters.instrument))
    existing = session.scalar(select(Publication).where(
        Publication.unit_id == unit.id, Publication.instrument_id == instrument.id,
        Publication.date_from == filters.date_from, Publication.date_to == filters.date_to,
        Publication.unpublished_at.is_(None)))
    if existing is not None:
        if existing.period != filters.period:
            existing.period = filters.period
        return existing
    pub = Publication(unit=unit, instrument=instrument, date_from=filters.date_from, date_to=filters.date_to,
                      period=filters.period, published_at=utcnow(), published_by_id=actor.id,
                      published_by_name=actor.username)
    session.add(pub)
    session.flush()
    audit.record(session, "report.published", actor=actor, unit=unit, target=f"publication:{pub.id}",
                 detail={"instrument": instrument.key, "from": filters.date_from.isoformat(),
                         "to": filters.date_to.isoformat(), "period": filters.period})
    return pub


def unpublish(session: Session, scope: Scope, publication_id: int, *, actor: User, within: Unit | None = None
              ) -> Publication:
    """Withdraw a publication (manager of its unit). Audited; the caller commits."""
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
    """``unit``'s publications, the latest period first."""
    query = select(Publication).where(Publication.unit_id == unit.id)
    if active_only:
        query = query.where(Publication.unpublished_at.is_(None))
    return list(session.scalars(query.order_by(Publication.date_to.desc(), Publication.id.desc())))


def public_filters(pub: Publication) -> ReportFilters:
    """What the public page counts: the period, trusted responses, every channel and campaign."""
    return ReportFilters(instrument=pub.instrument.key, window="custom", date_from=pub.date_from,
                         date_to=pub.date_to, period=pub.period, channels=(), include_suspect=False,
                         campaign_id=None)


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
    their entries carry ``withheld: True``; nothing under the threshold survives."""
    total = int(report["responses"])
    index = dict(report["index"])
    out: dict[str, Any] = {
        "unit": report["unit"], "instrument": report["instrument"], "window": report["window"],
        "threshold": THRESHOLD, "responses": total, "withheld": False,
    }
    if total < THRESHOLD:
        out.update(responses=None, withheld=True, index=None, factors=[], trend=[], trend_test=None, units=[])
        return out
    out["index"] = {k: index.get(k) for k in ("value", "low", "high", "unit", "max", "grade", "n")}
    out["factors"] = [{"key": f["key"], "name": f["name"], "index": f["index"], "low": f["low"], "high": f["high"]}
                      for f in report["factors"]]

    trend = report["trend"]
    hidden = _withheld_group([int(p["n"]) for p in trend])
    out["trend"] = [
        {"period": p["period"], "withheld": True, "n": None, "index": None, "low": None, "high": None} if h else
        {"period": p["period"], "withheld": False, "n": p["n"], "index": p["index"], "low": p["low"], "high": p["high"]}
        for p, h in zip(trend, hidden)
    ]
    series = [p["index"] for p in out["trend"] if not p["withheld"] and p["index"] is not None]
    test = mann_kendall(series) if series else None
    out["trend_test"] = ({"enough": True, "trend": test.trend, "p": _finite(test.p), "periods": test.n}
                         if test is not None and test.enough else {"enough": False, "periods": len(series)})

    units = report["units"]
    counts = [int(u["n"]) for u in units]
    direct = total - sum(counts)  # responses given at the unit itself, not below it
    group = counts + ([direct] if direct > 0 else [])
    hidden_all = _withheld_group(group)
    hidden = hidden_all[:len(units)]
    out["units"] = [
        {"unit": u["unit"], "code": u["code"], "name": u["name"], "withheld": True, "n": None, "share": None,
         "low": None, "high": None, "index": None} if h else
        {"unit": u["unit"], "code": u["code"], "name": u["name"], "withheld": False, "n": u["n"],
         "share": u["share"], "low": u["low"], "high": u["high"], "index": u["index"]}
        for u, h in zip(units, hidden)
    ]
    # Responses at the unit itself (a unit that is also a service point): a row of its own.
    out["direct"] = None
    if direct > 0:
        out["direct"] = {"withheld": bool(hidden_all[-1]), "n": None if hidden_all[-1] else direct}
    return out


def _finite(x: float | None) -> float | None:
    import math

    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


@dataclass
class PublicResults:
    publication: Publication
    results: dict[str, Any]
    definition: dict[str, Any]
    accountability: dict[str, Any]
    mark: tuple[int, int]


def public_results(session: Session, pub: Publication, *, petition_settings=None, as_of: date | None = None
                   ) -> PublicResults:
    """The suppressed report and petition figures of one active publication."""
    from ..petitions import operations as petitions

    if not pub.active:
        not_found()
    view = compute(session, pub.unit, public_filters(pub))
    figures = petitions.accountability(session, pub.unit, pub.date_from, pub.date_to, public=True,
                                       settings=petition_settings, as_of=as_of)
    return PublicResults(publication=pub, results=suppress_report(view.report), definition=view.definition,
                         accountability=figures, mark=view.mark)
