"""Dossiers (hồ sơ thủ tục hành chính) reported by the one-stop software.

A dossier is a procedure a citizen filed at a one-stop service point: the software sends
its code, the procedure, the sector and its times (received, due, returned) and, later,
its status. Each dossier gets one evaluation code (a :class:`~.token.VisitToken` of an
open one-stop campaign at its point, ``token_id``) and a short ``check_code`` printed
with the dossier code on the receipt, so the citizen can also type both at ``/d``.
Dossiers are the denominator of the response rate and of the national portal's figures
(Quyết định 766/QĐ-TTg). ``response_id`` is the rating the citizen gave for it, if any:
a dossier, never a person.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .token import VisitToken
from .unit import Unit

#: ``processing`` (received, not returned yet), ``waiting`` (for the citizen's extra
#: documents; the clock stops), ``returned`` (result handed back), ``returned_late``.
DOSSIER_STATUSES = ("processing", "waiting", "returned", "returned_late")
DOSSIER_SOURCES = ("api", "csv")


class Dossier(Base):
    __tablename__ = "dossier"
    __table_args__ = (
        CheckConstraint("status IN ('processing', 'waiting', 'returned', 'returned_late')", name="status"),
        CheckConstraint("source IN ('api', 'csv')", name="source"),
        CheckConstraint("waited_minutes >= 0", name="waited"),
        CheckConstraint("document_requests >= 0", name="requests"),
        CheckConstraint("due_at IS NULL OR due_at >= received_at", name="due_after_received"),
        CheckConstraint("returned_at IS NULL OR returned_at >= received_at", name="returned_after_received"),
        Index("ix_dossier_unit_received", "unit_id", "received_at"),
        Index("ix_dossier_unit_returned", "unit_id", "returned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    procedure_code: Mapped[str] = mapped_column(String(64))
    procedure_name: Mapped[str] = mapped_column(String(500))
    sector: Mapped[str] = mapped_column(String(200))
    # Who handled it at the counter, as the one-stop software names them (optional). Never
    # shown on a public page; the breakdown by staff is for managers, and audited.
    staff: Mapped[Optional[str]] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    returned_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="processing")
    # Total time the dossier waited for the citizen's extra documents, and how many times
    # they were asked for (766/QĐ-TTg: the wait is left out of the clock; a second request is late).
    waited_minutes: Mapped[int] = mapped_column(Integer, default=0)
    document_requests: Mapped[int] = mapped_column(Integer, default=0)
    # A petition (phản ánh, kiến nghị) was filed about this dossier (reported by the software).
    petition: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    token_id: Mapped[Optional[int]] = mapped_column(ForeignKey("visit_token.id", ondelete="SET NULL"), unique=True)
    check_code: Mapped[str] = mapped_column(String(8))
    response_id: Mapped[Optional[int]] = mapped_column(ForeignKey("response.id", ondelete="SET NULL"), unique=True)
    source: Mapped[str] = mapped_column(String(8), default="api")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))

    unit: Mapped[Unit] = relationship()
    token: Mapped[Optional[VisitToken]] = relationship()

    @property
    def late(self) -> bool:
        """Resolved late in the sense of 766/QĐ-TTg: reported late, or returned (or still
        open) after the due time once the wait for the citizen is added to it, or the
        citizen was asked for documents more than once."""
        from datetime import timedelta

        if self.status == "returned_late" or self.document_requests > 1:
            return True
        if self.due_at is None:
            return False
        end = self.returned_at
        if end is None:
            return False
        return end - timedelta(minutes=self.waited_minutes) > self.due_at

    def __repr__(self) -> str:
        return f"<Dossier {self.code} unit={self.unit_id} {self.status}>"
