"""Published results: a period of one unit's report for one instrument, made public."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .instrument import Instrument
from .unit import Unit
from .user import User

PUBLICATION_PERIODS = ("month", "quarter")


class Publication(Base):
    """A manager's decision to show ``unit``'s results for ``instrument`` from
    ``date_from`` to ``date_to`` (local days, inclusive) on the public page ``/p/<unit>``.

    Rows are never deleted: un-publishing sets ``unpublished_at`` (and who did it), so the
    record of what was public, and when, stays. ``period`` is the trend's grouping
    (month or quarter). The public page always counts trusted responses only.
    """

    __tablename__ = "publication"
    __table_args__ = (
        CheckConstraint("period IN ('month', 'quarter')", name="period"),
        CheckConstraint("date_to >= date_from", name="window"),
        Index("ix_publication_unit_active", "unit_id", "unpublished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"), index=True)
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(10), default="month")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official.id", ondelete="SET NULL"))
    published_by_name: Mapped[str] = mapped_column(String(64))
    unpublished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    unpublished_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official.id", ondelete="SET NULL"))
    unpublished_by_name: Mapped[Optional[str]] = mapped_column(String(64))

    unit: Mapped[Unit] = relationship()
    instrument: Mapped[Instrument] = relationship()
    published_by: Mapped[Optional[User]] = relationship(foreign_keys=[published_by_id])
    unpublished_by: Mapped[Optional[User]] = relationship(foreign_keys=[unpublished_by_id])

    @property
    def active(self) -> bool:
        return self.unpublished_at is None

    def __repr__(self) -> str:
        state = "public" if self.active else "withdrawn"
        return (f"<Publication {self.id} unit={self.unit_id} instrument={self.instrument_id} "
                f"{self.date_from}..{self.date_to} {state}>")
