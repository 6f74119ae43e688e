"""API keys for the JSON reports (``Authorization: Bearer <key>``).

A key looks like ``hl_<prefix>_<secret>``: the prefix (8 hex digits) finds the row and
names the key in lists and the audit log; only the SHA-256 digest of the whole key is
stored. The key is shown once, when it is made. A key reads what a viewer granted its
unit would read: that unit and everything below it (:func:`scope_for`).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import API_SCOPES, ApiKey, Unit, User, utcnow
from . import audit
from .scope import GrantInfo, Scope

__all__ = ["ApiKeyError", "NewKey", "create_key", "authenticate", "revoke", "scope_for", "list_keys"]

KEY_RE = re.compile(r"^hl_([0-9a-f]{8})_([A-Za-z0-9_-]{32,64})$")


class ApiKeyError(ValueError):
    pass


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the whole key, shown once


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(session: Session, unit: Unit, label: str, *, scopes: tuple[str, ...] = ("reports:read",),
               actor: User | None = None) -> NewKey:
    """Make a key for ``unit``'s subtree. Audited; the caller commits."""
    label = (label or "").strip()
    if not label or len(label) > 200:
        raise ApiKeyError("the label must be 1–200 characters (who uses the key, for what)")
    unknown = [s for s in scopes if s not in API_SCOPES]
    if unknown or not scopes:
        raise ApiKeyError(f"scopes must be among {', '.join(API_SCOPES)}")
    while True:
        prefix = secrets.token_hex(4)
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    raw = f"hl_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(prefix=prefix, key_hash=_digest(raw), label=label, unit=unit, scopes=" ".join(scopes),
                 created_at=utcnow(), created_by_id=actor.id if actor else None,
                 created_by_name=actor.username if actor else audit.SYSTEM)
    session.add(key)
    session.flush()
    audit.record(session, "apikey.created", actor=actor, unit=unit, target=f"apikey:{prefix}",
                 detail={"label": label, "scopes": list(scopes)})
    return NewKey(key, raw)


def authenticate(session: Session, presented: str | None, scope_name: str = "reports:read") -> ApiKey | None:
    """The active key ``presented`` is, if it has ``scope_name``; else ``None``."""
    match = KEY_RE.match((presented or "").strip())
    if not match:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
    if key is None or not hmac.compare_digest(key.key_hash, _digest(match.group(0))):
        return None
    if key.revoked_at is not None or scope_name not in key.scope_list or not key.unit.active:
        return None
    return key


def revoke(session: Session, key: ApiKey, *, actor: User | None = None) -> bool:
    """Revoke a key at once; False if it was already revoked. The caller commits."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    audit.record(session, "apikey.revoked", actor=actor, unit=key.unit, target=f"apikey:{key.prefix}",
                 detail={"label": key.label})
    return True


def scope_for(session: Session, key: ApiKey) -> Scope:
    """The key's scope: exactly a viewer's grant on the key's unit."""
    grant = GrantInfo(grant_id=0, unit_id=key.unit_id, path=key.unit.path, role="viewer")
    return Scope(session, None, [grant], current_app.config.get("SHARED_ADMIN_MAX_DEPTH", 1))


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))
