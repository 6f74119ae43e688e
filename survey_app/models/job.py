"""One run of a background job (``survey_app/jobs.py``), as the admin "jobs" page shows it.

A row is written when the worker starts a task and updated when it ends: complete, error
(with the exception's type and message, never a traceback or the task's arguments), or
error-and-retrying. The retention job keeps completed runs 7 days and failed ones 90.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

JOB_STATUSES = ("running", "complete", "error", "retrying")


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'complete', 'error', 'retrying')", name="status"),
        Index("ix_job_run_task_started", "task", "started_at"),
        Index("ix_job_run_status_started", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="running")
    #: Retries left when this attempt started (0: the last attempt).
    retries_left: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    seconds: Mapped[Optional[float]] = mapped_column(Float)
    error: Mapped[Optional[str]] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<JobRun {self.id} {self.task} {self.status}>"
