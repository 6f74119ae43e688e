"""Campaigns from the official pages: create, open / pause / close, live counts.

Every operation checks the official's scope (manager on every unit of the campaign),
records an audit event and commits once — or raises :class:`CampaignError` with a message
for the person before writing anything.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ...models import ACCESS_MODES, Campaign, Instrument, InstrumentVersion, Response, Unit, User, campaign_unit, utcnow
from ..collect.surveys import QUICK_INSTRUMENT
from . import audit
from .scope import Scope

#: action → (statuses it applies to, resulting status, audit action)
TRANSITIONS = {
    "open": ({"draft", "paused"}, "open", "campaign.opened"),
    "pause": ({"open"}, "paused", "campaign.paused"),
    "close": ({"draft", "open", "paused"}, "closed", "campaign.closed"),
}


class CampaignError(ValueError):
    """A campaign change that cannot be made; the message is for the person."""


def version_choices(session: Session) -> list[InstrumentVersion]:
    """The latest version of every instrument, by key."""
    latest = (select(InstrumentVersion.instrument_id, func.max(InstrumentVersion.number).label("number"))
              .group_by(InstrumentVersion.instrument_id).subquery())
    return list(session.scalars(
        select(InstrumentVersion)
        .join(latest, (latest.c.instrument_id == InstrumentVersion.instrument_id)
              & (latest.c.number == InstrumentVersion.number))
        .join(Instrument, Instrument.id == InstrumentVersion.instrument_id)
        .order_by(Instrument.key)
    ))


def fits(version: InstrumentVersion, unit: Unit) -> bool:
    """An instrument of kind ``admin`` fits every unit; the others fit their own kind."""
    kind = version.snapshot.get("kind")
    return kind == "admin" or kind == unit.kind


def create_campaign(session: Session, scope: Scope, *, name: str, version: InstrumentVersion,
                    units: Sequence[Unit], access_mode: str, starts_at: datetime | None,
                    ends_at: datetime | None, actor: User | None = None, now: datetime | None = None) -> Campaign:
    """A new campaign in ``draft``: nothing is collected until it is opened."""
    now = now or utcnow()
    name = unicodedata.normalize("NFC", name or "").strip()
    if not name:
        raise CampaignError(_("Please give the campaign a name."))
    if len(name) > 200:
        raise CampaignError(_("A name can have at most 200 characters."))
    if not units:
        raise CampaignError(_("Please choose at least one service point."))
    for unit in units:
        scope.require(unit, "manager")
        if not unit.is_service_point or not unit.active:
            raise CampaignError(_("%(unit)s is not an active service point.", unit=unit.name_vi))
        if not fits(version, unit):
            raise CampaignError(_("The survey %(survey)s does not fit %(unit)s.",
                                  survey=version.snapshot["title"]["vi"], unit=unit.name_vi))
    if access_mode not in ACCESS_MODES:
        raise CampaignError(_("Please choose how citizens reach the survey."))
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise CampaignError(_("The end must be after the start."))
    if ends_at is not None and ends_at <= now:
        raise CampaignError(_("The end is already in the past."))
    campaign = Campaign(name=name, instrument_version=version, access_mode=access_mode, status="draft",
                        starts_at=starts_at, ends_at=ends_at)
    campaign.units.extend(units)
    session.add(campaign)
    session.flush()
    audit.record(session, "campaign.created", actor=actor, unit=scope.acting_unit("manager", within=units),
                 target=f"campaign:{campaign.id}",
                 detail={"name": name, "instrument": version.snapshot["key"], "version": version.number,
                         "access_mode": access_mode, "points": [u.path for u in units]})
    session.commit()
    return campaign


def _overlaps(a: Campaign, b: Campaign) -> bool:
    a_before_b_ends = a.starts_at is None or b.ends_at is None or a.starts_at < b.ends_at
    b_before_a_ends = b.starts_at is None or a.ends_at is None or b.starts_at < a.ends_at
    return a_before_b_ends and b_before_a_ends


def _quick(campaign: Campaign) -> bool:
    return campaign.instrument_version.instrument.key == QUICK_INSTRUMENT


def conflicts(session: Session, campaign: Campaign, now: datetime) -> list[tuple[Unit, Campaign]]:
    """Open campaigns with the same access mode at one of ``campaign``'s units whose
    window overlaps: a point answers one campaign per access mode at a time, except that
    one of the quick survey (``QUICK_INSTRUMENT``, for its kiosks) may be open beside one
    of another instrument (for its poster): see ``surveys.resolve_open_campaign``."""
    unit_ids = [u.id for u in campaign.units]
    others = session.scalars(
        select(Campaign).join(campaign_unit, campaign_unit.c.campaign_id == Campaign.id)
        .where(campaign_unit.c.unit_id.in_(unit_ids), Campaign.id != campaign.id,
               Campaign.status == "open", Campaign.access_mode == campaign.access_mode)
        .distinct()
    ).all()
    found = []
    for other in others:
        if other.ends_at is not None and other.ends_at <= now:
            continue
        if _quick(other) != _quick(campaign):
            continue
        if _overlaps(campaign, other):
            shared = next(u for u in campaign.units if u in other.units)
            found.append((shared, other))
    return found


def change_status(session: Session, scope: Scope, campaign: Campaign, action: str, *,
                  actor: User | None = None, now: datetime | None = None) -> Campaign:
    """``open``, ``pause`` or ``close`` a campaign. Closing is final."""
    now = now or utcnow()
    scope.require_campaign(campaign, "manager")
    if action not in TRANSITIONS:
        raise CampaignError(_("Unknown action."))
    allowed_from, new_status, audit_action = TRANSITIONS[action]
    if campaign.status not in allowed_from:
        if campaign.status == "closed":
            raise CampaignError(_("This campaign is closed; a closed campaign cannot change."))
        raise CampaignError(_("This campaign is already %(status)s.", status=status_label(campaign.status)))
    if action == "open":
        if campaign.ends_at is not None and campaign.ends_at <= now:
            raise CampaignError(_("This campaign's end has passed, so it cannot be opened."))
        if any(not u.active for u in campaign.units):
            raise CampaignError(_("Some service points of this campaign are deactivated."))
        clashes = conflicts(session, campaign, now)
        if clashes:
            unit, other = clashes[0]
            raise CampaignError(_("%(unit)s already has an open campaign of the same kind: %(campaign)s. "
                                  "Pause or close it first.", unit=unit.name_vi, campaign=other.name))
    old = campaign.status
    campaign.status = new_status
    audit.record(session, audit_action, actor=actor, unit=scope.acting_unit("manager", within=campaign.units),
                 target=f"campaign:{campaign.id}", detail={"name": campaign.name, "from": old, "to": new_status})
    session.commit()
    return campaign


def status_label(status: str) -> str:
    return {"draft": _("draft"), "open": _("open"), "paused": _("paused"), "closed": _("closed")}.get(status, status)


@dataclass(frozen=True)
class UnitCount:
    unit: Unit
    total: int
    suspect: int
    last_at: datetime | None


def response_counts(session: Session, campaign: Campaign) -> list[UnitCount]:
    """Responses per unit of the campaign, live (every unit listed, zero included)."""
    rows = session.execute(
        select(Response.unit_id, func.count(Response.id),
               func.coalesce(func.sum(case((Response.trust == "suspect", 1), else_=0)), 0),
               func.max(Response.submitted_at))
        .where(Response.campaign_id == campaign.id)
        .group_by(Response.unit_id)
    ).all()
    by_unit = {unit_id: (total, suspect, last) for unit_id, total, suspect, last in rows}
    result = []
    for unit in sorted(campaign.units, key=lambda u: u.path):
        total, suspect, last = by_unit.get(unit.id, (0, 0, None))
        result.append(UnitCount(unit, int(total), int(suspect), last))
    return result


def totals(session: Session, campaign_ids: Sequence[int]) -> dict[int, int]:
    """Responses per campaign, for lists."""
    if not campaign_ids:
        return {}
    rows = session.execute(select(Response.campaign_id, func.count(Response.id))
                           .where(Response.campaign_id.in_(campaign_ids)).group_by(Response.campaign_id)).all()
    return {campaign_id: int(n) for campaign_id, n in rows}
