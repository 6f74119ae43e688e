"""API keys: machine access to the JSON reports, scoped like a viewer's grant."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .unit import Unit
from .user import User

#: What a key may do. ``reports:read``: read the reports of its unit's subtree;
#: ``dossiers:write``: report dossiers served at the service points of its subtree (the
#: one-stop software, ``/api/v1/dossiers``).
API_SCOPES = ("reports:read", "dossiers:write")


class ApiKey(Base):
    """A key handed to one client (a province dashboard, a portal) once, at creation.

    Only the SHA-256 digest of the key is stored (the key is 32 random bytes, so a plain
    digest cannot be brute-forced); ``prefix`` is its public first part, to find the row
    and to tell keys apart in lists and the audit log. A key reads exactly what a viewer
    granted ``unit`` would: that unit and everything below it.
    """

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    scopes: Mapped[str] = mapped_column(String(200), default="reports:read")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official.id", ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[Optional[User]] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split() if s]

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiKey {self.id} {self.prefix} unit={self.unit_id}{'' if self.active else ' revoked'}>"
