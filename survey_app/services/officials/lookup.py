"""Finding a unit the way people name it: a service point by its public code, any unit
(admin units have no code) by its materialized path."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Unit


def find_unit(session: Session, ref: str) -> Unit | None:
    """``p2motcua`` (a code) or ``/vn/qt/p2/`` (a path; the slashes at either end
    may be left out when the value contains a slash)."""
    ref = (ref or "").strip()
    if not ref or len(ref) > 400:
        return None
    if "/" in ref:
        path = "/" + ref.strip("/") + "/"
        return session.scalar(select(Unit).where(Unit.path == path))
    return session.scalar(select(Unit).where(Unit.code == ref.lower()))


def find_point(session: Session, code: str) -> Unit | None:
    """The active service point with public code ``code``."""
    if not code or len(code) > 16:
        return None
    return session.scalar(select(Unit).where(Unit.code == code, Unit.active.is_(True),
                                             Unit.is_service_point.is_(True)))
