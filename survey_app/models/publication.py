"""Published results: a release of one unit's report for one instrument and one complete
calendar period, frozen when it is published."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .instrument import Instrument
from .unit import Unit
from .user import User

PUBLICATION_PERIODS = ("month", "quarter", "year")


class Publication(Base):
    """A release: ``unit``'s results for ``instrument`` over one complete calendar
    ``period`` (``month``, ``quarter`` or ``year``, from ``date_from`` to ``date_to``, local
    days inclusive), shown on the public page ``/p/<unit>``.

    ``figures`` holds what the public page shows, computed and checked against
    differencing when the release was published; it never changes afterwards, so late
    answers cannot move a published figure. A correction is a new release
    (``release_no`` + 1) that ``supersedes`` this one and says what changed in
    ``correction_note``; the old one is withdrawn, not deleted. Rows are never deleted:
    withdrawing sets ``unpublished_at`` (and who did it), so the record of what was public,
    and when, stays. The public page always counts trusted responses only.
    """

    __tablename__ = "publication"
    __table_args__ = (
        CheckConstraint("period IN ('month', 'quarter', 'year')", name="period"),
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
    figures: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    release_no: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    supersedes_id: Mapped[Optional[int]] = mapped_column(ForeignKey("publication.id", ondelete="SET NULL"))
    correction_note: Mapped[Optional[str]] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    instrument: Mapped[Instrument] = relationship()
    published_by: Mapped[Optional[User]] = relationship(foreign_keys=[published_by_id])
    unpublished_by: Mapped[Optional[User]] = relationship(foreign_keys=[unpublished_by_id])
    supersedes: Mapped[Optional["Publication"]] = relationship(remote_side=[id], foreign_keys=[supersedes_id])

    @property
    def active(self) -> bool:
        return self.unpublished_at is None

    def __repr__(self) -> str:
        state = "public" if self.active else "withdrawn"
        return (f"<Publication {self.id} unit={self.unit_id} instrument={self.instrument_id} "
                f"{self.date_from}..{self.date_to} {state}>")
