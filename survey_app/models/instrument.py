"""Survey instruments and their immutable versions."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class Instrument(Base):
    __tablename__ = "instrument"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list["InstrumentVersion"]] = relationship(
        back_populates="instrument", order_by="InstrumentVersion.number"
    )

    @property
    def latest(self) -> Optional["InstrumentVersion"]:
        return self.versions[-1] if self.versions else None

    def __repr__(self) -> str:
        return f"<Instrument {self.key}>"


class InstrumentVersion(Base):
    """One immutable definition: the validated file as a JSON snapshot plus its hash.

    Editing an instrument makes a new version; responses always point at the version
    they answered, so reports never mix versions silently.
    """

    __tablename__ = "instrument_version"
    __table_args__ = (
        UniqueConstraint("instrument_id", "number"),
        UniqueConstraint("instrument_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    instrument: Mapped[Instrument] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<InstrumentVersion {self.instrument_id} v{self.number} {self.content_hash[:8]}>"
