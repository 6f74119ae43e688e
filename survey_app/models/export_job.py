"""An export built by the worker (issue #19): a large CSV, XLSX or PDF that would make the
official's request wait. The official gets a "being prepared" page at
``/reports/exports/<token>`` and downloads the file there once it is done.

``token`` is random (``secrets.token_urlsafe``) and is the only name of the job in a URL;
the download also checks the job is the requester's and that their scope still covers
the unit. ``args`` are the report filters with the dates written out (``fixed_args``), so
a rebuild selects the same days. The file lives under ``instance/exports/`` (``file_path``,
written as ``.partial`` and renamed when complete); the retention job deletes it and the
row after ``expires_at``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

EXPORT_JOB_STATUSES = ("queued", "running", "done", "failed")
EXPORT_JOB_KINDS = ("csv", "xlsx", "pdf")


class ExportJob(Base):
    __tablename__ = "export_job"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("kind IN ('csv', 'xlsx', 'pdf')", name="kind"),
        Index("ix_export_job_user_status", "user_id", "status"),
        Index("ix_export_job_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("official.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(5), default="vi")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    error: Mapped[Optional[str]] = mapped_column(Text)
    file_path: Mapped[Optional[str]] = mapped_column(String(500))
    size: Mapped[Optional[int]] = mapped_column(BigInteger)
    rows: Mapped[Optional[int]] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ExportJob {self.id} {self.kind} {self.status}>"
