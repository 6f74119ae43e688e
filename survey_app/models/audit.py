"""The audit log: who did what, when, in the name of which unit."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .unit import Unit
from .user import User


class AuditEvent(Base):
    """One recorded action. Rows are only ever added.

    ``unit_path`` keeps the unit's path at the time of the event, so the event stays in
    its subtree's log even if the unit is deleted later (``unit_id`` then becomes NULL).
    ``actor_name`` keeps the username for the same reason.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_unit_path", "unit_path", postgresql_ops={"unit_path": "varchar_pattern_ops"}),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official.id", ondelete="SET NULL"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"), index=True)
    unit_path: Mapped[Optional[str]] = mapped_column(String(400))
    target: Mapped[Optional[str]] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[Optional[User]] = relationship()
    unit: Mapped[Optional[Unit]] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} by {self.actor_name} at {self.unit_path}>"
