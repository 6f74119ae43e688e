"""Kiosks: tablets at a counter that collect answers for one service point.

A manager enrols a kiosk (:func:`enrol_kiosk`) and gets a one-time link
``/k/enrol/<secret>``; confirming it on the tablet (:func:`complete_enrolment`) trades
the secret for a long-lived kiosk key that the tablet keeps in an HttpOnly,
SameSite=Strict cookie. ``/k/<code>`` then accepts only a tablet whose key belongs to
that point (:func:`kiosk_for_key`), so nobody can fake the kiosk channel. Both secrets
are 256 random bits and stored only as SHA-256 digests.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import Kiosk, Unit, utcnow
from ..collect.text import clean_text
from ..officials.units import subtree

__all__ = [
    "ENROL_PATH", "KioskEnrolment", "KioskError", "complete_enrolment", "enrolment_state",
    "enrol_kiosk", "kiosk_for_key", "list_kiosks", "revoke_kiosk",
]

ENROL_PATH = "/k/enrol/"
LABEL_MAX = 80


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


def kiosk_for_key(session: Session, key: str | None, unit: Unit) -> Kiosk | None:
    """The enrolled, unrevoked kiosk holding ``key`` if it belongs to ``unit``."""
    if not key or len(key) > 100:
        return None
    return session.scalar(select(Kiosk).where(
        Kiosk.key_hash == _digest("key", key), Kiosk.unit_id == unit.id,
        Kiosk.revoked_at.is_(None), Kiosk.enrolled_at.is_not(None)))


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
