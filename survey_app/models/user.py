"""Officials and their grants: a grant is (user, unit, role) and covers the unit's subtree."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .unit import Unit

ROLES = ("viewer", "manager", "admin")
#: viewer < manager < admin
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}


def new_session_token() -> str:
    return secrets.token_hex(16)


class User(Base):
    """An official who logs in with a username and a password (never stored, only its hash).

    ``session_token`` is part of the id Flask-Login keeps in the session cookie; replacing
    it (logout, password change, deactivation) invalidates every session of the user.
    """

    __tablename__ = "official"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    #: Where alerts of the units the official has grants on are sent (optional).
    email: Mapped[Optional[str]] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    #: The unit under which the account was created; admins of that unit manage it.
    home_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    failure_window_start: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    home_unit: Mapped[Unit] = relationship()
    grants: Mapped[list["Grant"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="Grant.user_id",
        order_by="Grant.id",
    )

    # Flask-Login's user protocol.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}{'' if self.active else ' inactive'}>"


class Grant(Base):
    """``role`` on ``unit`` and everything below it. One grant per (user, unit)."""

    __tablename__ = "official_grant"
    __table_args__ = (
        UniqueConstraint("user_id", "unit_id"),
        CheckConstraint("role IN ('viewer', 'manager', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("official.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])
    unit: Mapped[Unit] = relationship()
    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])

    @property
    def rank(self) -> int:
        return ROLE_RANK[self.role]

    def __repr__(self) -> str:
        return f"<Grant user={self.user_id} unit={self.unit_id} {self.role}>"
