"""Campaigns: an instrument version deployed to units for a time window."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .instrument import InstrumentVersion
from .unit import Unit

ACCESS_MODES = ("open", "visit_token", "respondent_token")
CAMPAIGN_STATUSES = ("draft", "open", "paused", "closed")

campaign_unit = Table(
    "campaign_unit",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("unit.id"), primary_key=True, index=True),
)


class Campaign(Base):
    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint(
            "access_mode IN ('open', 'visit_token', 'respondent_token')", name="access_mode"
        ),
        CheckConstraint("status IN ('draft', 'open', 'paused', 'closed')", name="status"),
        CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"), index=True)
    access_mode: Mapped[str] = mapped_column(String(20), default="open")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    starts_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    ends_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    instrument_version: Mapped[InstrumentVersion] = relationship()
    units: Mapped[list[Unit]] = relationship(secondary=campaign_unit)

    def state_at(self, now: datetime) -> str:
        """``open``, ``not_started``, ``ended``, ``closed``, ``paused`` or ``draft``."""
        if self.status != "open":
            return self.status
        if self.starts_at is not None and now < self.starts_at:
            return "not_started"
        if self.ends_at is not None and now >= self.ends_at:
            return "ended"
        return "open"

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name!r} {self.access_mode} {self.status}>"
