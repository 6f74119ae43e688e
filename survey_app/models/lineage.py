"""Lineage of the tree: a unit succeeds one or more others from a date.

A merger is several rows with the same successor; a split is several rows with the same
predecessor, each with the ``share`` of the predecessor's area that went to that part; a
rename is one row. Nothing about old responses changes: a predecessor keeps its own path,
service points and answers, and reports of the successor over a window that begins before
``effective_on`` also cover the predecessors' subtrees (``services/officials/lineage.py``).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .unit import Unit

SUCCESSION_CHANGES = ("merger", "split", "rename")


class Succession(Base):
    """``successor`` continues ``predecessor`` from ``effective_on`` (a local day)."""

    __tablename__ = "unit_succession"
    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id"),
        CheckConstraint("predecessor_id <> successor_id", name="distinct_units"),
        CheckConstraint("change IN ('merger', 'split', 'rename')", name="change"),
        CheckConstraint("share IS NULL OR (share > 0 AND share <= 1)", name="share"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    effective_on: Mapped[date] = mapped_column(Date)
    change: Mapped[str] = mapped_column(String(10))
    #: For a split: the share (0–1] of the predecessor's area that went to this successor.
    share: Mapped[Optional[Decimal]] = mapped_column(Numeric(5, 4))
    #: Set when an administrator carried the predecessor's grants over to the successor.
    grants_carried: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[Optional[str]] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    predecessor: Mapped[Unit] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[Unit] = relationship(foreign_keys=[successor_id])

    def __repr__(self) -> str:
        return f"<Succession {self.predecessor_id} -> {self.successor_id} {self.change} {self.effective_on}>"
