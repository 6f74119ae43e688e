"""Kiosks: tablets at a counter that collect answers for one service point.

A manager enrols a kiosk (:func:`enrol_kiosk`) and gets a one-time link
``/k/enrol/<secret>``; confirming it on the tablet (:func:`complete_enrolment`) trades
the secret for a long-lived kiosk key that the tablet keeps in an HttpOnly,
SameSite=Strict cookie. ``/k/<code>`` then accepts only a tablet whose key belongs to
that point (:func:`kiosk_for_key`), so nobody can fake the kiosk channel. Both secrets
are 256 random bits and stored only as SHA-256 digests.

Which survey a kiosk shows (:func:`kiosk_target`): the campaign its manager chose
(:func:`choose_campaign`) while that one is open at the point; otherwise the point's open
campaign of the quick instrument (``QUICK_INSTRUMENT``: one question, for a citizen
standing at the counter); otherwise the point's first open campaign. A point may have an
open quick campaign beside its full survey; its poster keeps showing the full survey.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import Campaign, Kiosk, Unit, utcnow
from ..collect import surveys
from ..collect.text import clean_text
from ..officials.scope import Scope
from ..officials.units import subtree

__all__ = [
    "ENROL_PATH", "QUICK_INSTRUMENT", "KioskEnrolment", "KioskError", "campaign_choices", "choose_campaign",
    "complete_enrolment", "enrolment_state", "enrol_kiosk", "kiosk_for_key", "kiosk_target", "list_kiosks",
    "revoke_kiosk",
]

ENROL_PATH = "/k/enrol/"
LABEL_MAX = 80
#: The instrument a kiosk answers when no campaign was chosen for it (``surveys/quick-feedback.toml``).
QUICK_INSTRUMENT = surveys.QUICK_INSTRUMENT


class KioskError(ValueError):
    """A kiosk operation cannot be done as asked; the message says why."""


def _digest(kind: str, secret: str) -> str:
    return hashlib.sha256(f"hailong.kiosk-{kind}\x00{secret}".encode()).hexdigest()


@dataclass(frozen=True)
class KioskEnrolment:
    kiosk: Kiosk
    secret: str
    expires_at: datetime

    @property
    def path(self) -> str:
        """The enrolment link's path; put ``PUBLIC_BASE_URL`` (or the host) in front."""
        return ENROL_PATH + self.secret


def enrol_kiosk(session: Session, unit: Unit, label: str | None = None, *,
                valid_for: timedelta = timedelta(hours=24), now: datetime | None = None) -> KioskEnrolment:
    """Create a pending kiosk for service point ``unit`` (flushed; the caller commits, so
    an audit record can share the transaction).

    The returned secret is the only copy: show it once as the enrolment link. Raises
    :class:`KioskError` for a unit that is not an active service point or a label over 80
    characters.
    """
    now = now or utcnow()
    if not unit.is_service_point or not unit.code or not unit.active:
        raise KioskError(f"{unit.code or unit.path} is not an active service point")
    label = clean_text(label or "")
    if len(label) > LABEL_MAX:
        raise KioskError(f"the label must be at most {LABEL_MAX} characters")
    secret = secrets.token_urlsafe(32)
    kiosk = Kiosk(unit_id=unit.id, label=label, enrol_hash=_digest("enrol", secret),
                  enrol_expires_at=now + valid_for, created_at=now)
    session.add(kiosk)
    session.flush()
    return KioskEnrolment(kiosk, secret, kiosk.enrol_expires_at)


def _by_enrol_secret(session: Session, secret: str | None) -> Kiosk | None:
    if not secret or len(secret) > 100:
        return None
    return session.scalar(select(Kiosk).where(Kiosk.enrol_hash == _digest("enrol", secret)))


def enrolment_state(session: Session, secret: str | None, now: datetime | None = None) -> tuple[str, Kiosk | None]:
    """``(state, kiosk)`` for an enrolment link: ``pending`` (usable), ``used``,
    ``expired``, ``revoked`` or ``unknown``."""
    now = now or utcnow()
    kiosk = _by_enrol_secret(session, secret)
    if kiosk is None:
        return "unknown", None
    state = kiosk.state_at(now)
    return ("used" if state == "active" else state), kiosk


def complete_enrolment(session: Session, secret: str | None, now: datetime | None = None) -> tuple[Kiosk, str] | None:
    """Spend the enrolment link and return ``(kiosk, key)``; the key goes into the cookie.

    One conditional UPDATE decides, so a link opened twice at once enrols one tablet.
    Returns ``None`` when the link is unknown, used, expired or revoked.
    """
    now = now or utcnow()
    kiosk = _by_enrol_secret(session, secret)
    if kiosk is None:
        return None
    key = secrets.token_urlsafe(32)
    result = session.execute(
        update(Kiosk)
        .where(Kiosk.id == kiosk.id, Kiosk.enrolled_at.is_(None), Kiosk.revoked_at.is_(None),
               Kiosk.enrol_expires_at > now)
        .values(key_hash=_digest("key", key), enrolled_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        return None
    session.commit()
    session.refresh(kiosk)
    return kiosk, key


def kiosk_for_key(session: Session, key: str | None, unit: Unit | None = None) -> Kiosk | None:
    """The enrolled, unrevoked kiosk holding ``key`` (if ``unit`` is given: only if it
    belongs to that unit)."""
    if not key or len(key) > 100:
        return None
    query = select(Kiosk).where(Kiosk.key_hash == _digest("key", key), Kiosk.revoked_at.is_(None),
                                Kiosk.enrolled_at.is_not(None))
    if unit is not None:
        query = query.where(Kiosk.unit_id == unit.id)
    return session.scalar(query)


def kiosk_target(session: Session, code: str, kiosk: Kiosk | None, now: datetime | None = None
                 ) -> surveys.SurveyTarget:
    """The campaign a kiosk at service point ``code`` answers now: ``kiosk``'s chosen
    campaign if it is open there, else the point's open campaign of ``QUICK_INSTRUMENT``,
    else its first open campaign. ``kiosk`` may be ``None`` (or a kiosk of another point:
    the caller refuses it), which gives the point's quick campaign. Raises
    :class:`~survey_app.services.collect.surveys.SurveyUnavailable` as
    :func:`~survey_app.services.collect.surveys.resolve_open_campaign` does."""
    chosen = kiosk.campaign_id if kiosk is not None else None
    return surveys.resolve_open_campaign(session, code, now=now, prefer_campaign=chosen,
                                         prefer_instrument=QUICK_INSTRUMENT)


def campaign_choices(session: Session, scope: Scope, kiosk: Kiosk, now: datetime | None = None) -> list[Campaign]:
    """The campaigns a manager may choose for ``kiosk``: poster-style (``open`` access, as a
    kiosk's answers are), covering the kiosk's point, open now or opening later, and
    within ``scope`` (every unit of the campaign visible to the official), newest first."""
    now = now or utcnow()
    query = scope.campaigns_query("viewer").where(
        Campaign.access_mode == "open", Campaign.status == "open", Campaign.units.any(Unit.id == kiosk.unit_id))
    return [c for c in session.scalars(query) if c.state_at(now) in ("open", "not_started")]


def choose_campaign(session: Session, scope: Scope, kiosk: Kiosk, campaign_id: int | None, *,
                    now: datetime | None = None) -> Campaign | None:
    """Make ``kiosk`` answer campaign ``campaign_id`` (``None``: back to the quick
    instrument); flushed, the caller audits and commits. Raises :class:`KioskError` for a
    revoked kiosk or a campaign that is not one of :func:`campaign_choices`."""
    if kiosk.revoked_at is not None:
        raise KioskError(f"kiosk {kiosk.id} is revoked")
    campaign = None
    if campaign_id is not None:
        campaign = next((c for c in campaign_choices(session, scope, kiosk, now) if c.id == campaign_id), None)
        if campaign is None:
            raise KioskError(f"campaign {campaign_id} cannot be chosen for kiosk {kiosk.id}")
    kiosk.campaign_id = campaign_id
    session.flush()
    return campaign


def list_kiosks(session: Session, unit: Unit | None = None, *, include_revoked: bool = False) -> list[Kiosk]:
    """Kiosks of every service point in ``unit``'s subtree (all kiosks when ``None``), by
    point and creation; revoked ones only when asked."""
    query = select(Kiosk).join(Unit, Unit.id == Kiosk.unit_id)
    if unit is not None:
        query = query.where(Unit.id.in_(subtree(unit).with_only_columns(Unit.id)))
    if not include_revoked:
        query = query.where(Kiosk.revoked_at.is_(None))
    return list(session.scalars(query.order_by(Unit.path, Kiosk.id)))


def revoke_kiosk(session: Session, kiosk_id: int, *, within: Unit | None = None,
                 now: datetime | None = None) -> Kiosk:
    """Revoke a kiosk: its cookie and any unused enrolment link stop working once the
    caller commits (flushed here, so an audit record can share the transaction).

    ``within`` limits the operation to kiosks in that unit's subtree, for an official
    whose grant covers only part of the tree. Revoking twice is harmless. Raises
    :class:`KioskError` for an unknown kiosk or one outside ``within``.
    """
    now = now or utcnow()
    kiosk = session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise KioskError(f"there is no kiosk {kiosk_id}")
    if within is not None and not kiosk.unit.path.startswith(within.path):
        raise KioskError(f"kiosk {kiosk_id} is not under {within.path}")
    if kiosk.revoked_at is None:
        kiosk.revoked_at = now
        session.flush()
    return kiosk
