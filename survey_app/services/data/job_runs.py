"""The record of background-job runs (``job_run``): written by the worker's Huey signal
handlers (``survey_app/jobs.py``), read by the admin "jobs" page, pruned by retention.

The handlers write through the engine in a short transaction of their own, apart from
the task's session, so a task that rolls back still leaves its run recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ...models import JobRun, utcnow

__all__ = ["ERROR_MAX", "TaskSummary", "started", "finished", "summaries", "failures", "prune"]

ERROR_MAX = 1000
KEEP_COMPLETE = timedelta(days=7)
KEEP_FAILED = timedelta(days=90)


def started(engine: Engine, task: str, task_id: str, retries_left: int) -> int:
    with engine.begin() as conn:
        return conn.execute(sa.insert(JobRun).values(task=task[:64], task_id=str(task_id)[:64], status="running",
                                                     retries_left=int(retries_left or 0), started_at=utcnow())
                            .returning(JobRun.id)).scalar_one()


def describe(exc: BaseException | None) -> str | None:
    """The exception's type and message (no traceback, no arguments), capped."""
    if exc is None:
        return None
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= ERROR_MAX else text[:ERROR_MAX - 1] + "…"


def finished(engine: Engine, run_id: int, status: str, seconds: float | None, error: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(JobRun).where(JobRun.id == run_id)
                     .values(status=status, finished_at=utcnow(), seconds=seconds, error=error))


@dataclass(frozen=True)
class TaskSummary:
    task: str
    last: JobRun
    last_complete_at: datetime | None
    runs: int
    failed: int


def summaries(session: Session, since: datetime) -> list[TaskSummary]:
    """Per task seen since ``since``: its last run, last success, runs and failures."""
    counts = session.execute(
        sa.select(JobRun.task, sa.func.count(),
                  sa.func.sum(sa.case((JobRun.status.in_(("error", "retrying")), 1), else_=0)),
                  sa.func.max(JobRun.id))
        .where(JobRun.started_at >= since).group_by(JobRun.task).order_by(JobRun.task)).all()
    done = dict(session.execute(sa.select(JobRun.task, sa.func.max(JobRun.finished_at))
                                .where(JobRun.status == "complete").group_by(JobRun.task)).all())
    last = {r.id: r for r in session.scalars(sa.select(JobRun).where(JobRun.id.in_([c[3] for c in counts])))}
    return [TaskSummary(task, last[last_id], done.get(task), n, int(failed or 0))
            for task, n, failed, last_id in counts]


def failures(session: Session, limit: int = 50) -> list[JobRun]:
    return list(session.scalars(sa.select(JobRun).where(JobRun.status.in_(("error", "retrying")))
                                .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)))


def prune(session: Session, now: datetime | None = None) -> int:
    """Drop completed runs older than 7 days and failed ones older than 90 (caller commits)."""
    now = now or utcnow()
    done = session.execute(sa.delete(JobRun).where(
        sa.or_(sa.and_(JobRun.status == "complete", JobRun.started_at < now - KEEP_COMPLETE),
               sa.and_(JobRun.status != "complete", JobRun.started_at < now - KEEP_FAILED)))
        .execution_options(synchronize_session=False))
    return done.rowcount or 0
