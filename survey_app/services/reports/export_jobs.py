"""Exports built by the worker (issue #19 item 1): a CSV, XLSX or PDF of a view that reads
more responses than ``EXPORT_INLINE_MAX_RESPONSES`` (PDFs: ``PDF_INLINE_MAX_RESPONSES``) is
not built in the official's request. :func:`request` records an :class:`ExportJob` (or
returns the one already waiting for the same user, unit, format, filters and language),
the route enqueues the job ``build_export`` and sends the official to the "being
prepared" page; :func:`run` builds the file in the worker. Smaller exports are built at
once, exactly as before, by the same :func:`build_file`, so both paths give the same file
for the same filters.

The size is judged on the view the route computes anyway (from the rollups): the number of
responses it counts, plus any not rolled up yet: no extra query.

:func:`run` is idempotent: a job already done (its file present) is not rebuilt. It is
retried with a doubling wait (``EXPORT_RETRIES``, ``EXPORT_RETRY_DELAY``); between attempts
the job stays ``queued`` with the last error, after the last one it is ``failed``. The
file is written as ``<token>.<ext>.partial`` and renamed when complete, so a download
never sees half a file. The export is audited (``export.created``, with its rows) when the
file is built, as the immediate path audits when it answers. The retention job deletes
files and rows past ``expires_at`` (``EXPORT_KEEP_HOURS``).
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ...models import ExportJob, Unit, User, utcnow
from ..data.job_runs import describe
from ..officials.scope import Scope
from ..petitions import operations as petitions
from . import exports, rollup
from .pdf import build_report_pdf
from .views import ReportFilters, ReportView, chart_bundle, compute, parse_filters

__all__ = ["Built", "MIMETYPES", "ExportJobError", "build_file", "is_large", "request", "run", "filename",
           "job_filename", "export_dir", "WAITING"]

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "pdf": "application/pdf"}
WAITING = ("queued", "running")


class ExportJobError(RuntimeError):
    """The job cannot be built (its official or unit is gone, or out of scope)."""


@dataclass(frozen=True)
class Built:
    data: bytes
    rows: int | None  # responses written (CSV, XLSX); None for a PDF


def build_file(session: Session, scope: Scope, view: ReportView, kind: str, *, lang: str, actor: User,
               generated_at: datetime, petition_settings: petitions.PetitionSettings) -> Built:
    """The export file of ``view`` (``csv``, ``xlsx`` or ``pdf``), in the current locale."""
    f = view.filters
    if kind == "pdf":
        charts = chart_bundle(view, "vi", "png") if view.report["responses"] else {}
        figures = petitions.accountability(session, view.unit, f.date_from, f.date_to, settings=petition_settings)
        return Built(build_report_pdf(view, charts, generated_at=generated_at, generated_by=actor.username,
                                      accountability=figures, signer=actor.display_name or actor.username), None)
    columns = exports.response_columns(view.versions, f.include_suspect)
    rows = exports.Counted(exports.response_rows(session, scope, view, lang))
    if kind == "csv":
        return Built(exports.csv_bytes(columns, rows), rows.count)
    if kind == "xlsx":
        figures = petitions.accountability(session, view.unit, f.date_from, f.date_to, settings=petition_settings,
                                           children=False)
        data = exports.xlsx_bytes(view, columns, rows, lang=lang, generated_at=generated_at,
                                  generated_by=actor.username, accountability=figures)
        return Built(data, rows.count)
    raise ValueError(f"unknown export kind {kind!r}")


def is_large(config: Mapping[str, Any], view: ReportView, kind: str) -> bool:
    """Whether the export reads more responses than may be built in a request."""
    if kind == "pdf":
        limit = int(config.get("PDF_INLINE_MAX_RESPONSES", 50_000))
    else:
        limit = int(config.get("EXPORT_INLINE_MAX_RESPONSES", 20_000))
    return int(view.report["responses"]) + view.backlog.pending > limit


def _same_args(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def request(session: Session, user: User, view: ReportView, kind: str, lang: str, *,
            keep_hours: int = 48, now: datetime | None = None) -> tuple[ExportJob, bool]:
    """The job building ``kind`` of ``view`` for ``user``: the one already queued or running
    for the same unit, filters and language, else a new one (``True``). The caller commits,
    then enqueues a new job."""
    args = view.filters.fixed_args()
    waiting = session.scalars(
        select(ExportJob).where(ExportJob.user_id == user.id, ExportJob.unit_id == view.unit.id,
                                ExportJob.kind == kind, ExportJob.language == lang,
                                ExportJob.status.in_(WAITING)).order_by(ExportJob.id)).all()
    for job in waiting:
        if _same_args(job.args, args):
            return job, False
    now = now or utcnow()
    job = ExportJob(token=secrets.token_urlsafe(24), user_id=user.id, unit_id=view.unit.id, kind=kind, args=args,
                    language=lang, status="queued", created_at=now, expires_at=now + timedelta(hours=keep_hours))
    session.add(job)
    session.flush()
    return job, True


def export_dir(instance_path: str, configured: str | None = None) -> str:
    """Where the prepared files go: ``EXPORT_DIR`` if set, else ``instance/exports``. With
    several hosts the workers write there and the app servers read there: one shared
    directory (docs/DEPLOY.md)."""
    return configured or os.path.join(instance_path, "exports")


def _write_atomically(directory: str, name: str, data: bytes) -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    partial = path + ".partial"
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    return path


def _slug(unit: Unit) -> str:
    return unit.code or (unit.path.strip("/").replace("/", "-") or "root")


def filename(unit: Unit, filters: ReportFilters, ext: str) -> str:
    return (f"hailong-{_slug(unit)}-{filters.instrument}-{filters.date_from.isoformat()}-"
            f"{filters.date_to.isoformat()}.{ext}")


def job_filename(job: ExportJob, unit: Unit) -> str:
    a = job.args
    return f"hailong-{_slug(unit)}-{a.get('instrument', '')}-{a.get('from', '')}-{a.get('to', '')}.{job.kind}"


def run(session: Session, job_id: int, *, directory: str, today, petition_settings: petitions.PetitionSettings,
        last_attempt: bool = True) -> str:
    """Build the job's file (the worker's side). Returns what happened; raises on a failure
    (after recording it on the job) so that the queue retries."""
    job = session.get(ExportJob, job_id)
    if job is None:
        return "gone"
    if job.status == "done" and job.file_path and os.path.exists(job.file_path):
        return "done already"  # idempotent: a retry or a second delivery does not rebuild it
    job.status = "running"
    session.commit()
    try:
        user = session.get(User, job.user_id)
        unit = session.get(Unit, job.unit_id)
        if user is None or unit is None:
            raise ExportJobError("the official or the unit no longer exists")
        scope = Scope.for_user(user, session)
        if not scope.covers(unit, "manager"):
            raise ExportJobError("the unit is no longer in the official's scope")
        rollup.catch_up(session)  # the worker may wait: every response is counted
        kind, lang, token, args = job.kind, job.language, job.token, dict(job.args)
        with force_locale(lang):
            filters = parse_filters(session, scope, unit, MultiDict(_multi(args)), today)
            view = compute(session, unit, filters)
            built = build_file(session, scope, view, kind, lang=lang, actor=user, generated_at=utcnow(),
                               petition_settings=petition_settings)
        path = _write_atomically(directory, f"{token}.{kind}", built.data)
        job = session.get(ExportJob, job_id)
        job.status, job.error, job.file_path = "done", None, path
        job.size, job.rows, job.finished_at = len(built.data), built.rows, utcnow()
        exports.record_export(session, view, kind, actor=user, rows=built.rows)
        session.commit()
        return "built"
    except Exception as exc:
        session.rollback()
        job = session.get(ExportJob, job_id)
        if job is not None:
            job.error = describe(exc)
            job.status = "failed" if last_attempt else "queued"
            job.finished_at = utcnow() if last_attempt else None
            session.commit()
        raise


def _multi(args: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for key, value in args.items():
        for one in value if isinstance(value, list) else [value]:
            out.append((key, str(one)))
    return out
