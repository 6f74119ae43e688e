"""Background jobs on Huey (MIT): one queue for every job of the service.

Why Huey: its SQLite storage keeps the embedded default one file in ``instance/`` (no
server to run for one ward on a laptop), its Redis storage scales out to separate worker
processes beside several app servers, and it has periodic tasks, retries with backoff and
an immediate (synchronous) mode built in.

Storage (``config.py``): ``HUEY_REDIS_URL`` set → ``RedisHuey``; else ``SqliteHuey`` on
``HUEY_SQLITE_PATH`` (default ``instance/huey.sqlite3``). ``HUEY_IMMEDIATE`` runs each
job in the caller, in memory (tests). Nothing is opened at import or in the factory:
:func:`init_app` only records the app; :func:`get_huey` builds the queue on first use.

Jobs (names as the queue stores them):

* ``evaluate_alerts`` — every ``ALERTS_EVERY_MINUTES`` (15): every alert rule
  (``services/alerts/evaluate.py``); each alert it opens gets one ``send_alert_email``.
* ``send_alert_email`` — one alert's e-mail through SMTP, retried ``MAIL_RETRIES`` times
  with a wait doubling from ``MAIL_RETRY_DELAY`` seconds; sends at most once.
* ``rollup_catch_up`` — every minute: the report rollups catch up, so reports rarely wait.
* ``petition_notices`` — every minute: a notice for each new public step of a petition whose
  petitioner consented to e-mail (``services/petitions/notify.py``); each is one
  ``send_petition_notice``, retried like the alert e-mail, sent at most once.
* ``build_export`` — one large export (CSV, XLSX, PDF) an official asked for
  (``services/reports/export_jobs.py``), retried ``EXPORT_RETRIES`` times with a wait
  doubling from ``EXPORT_RETRY_DELAY`` seconds; a job already done is not rebuilt.
* ``retention`` — daily at ``RETENTION_HOUR_UTC``: device hashes and old petition contacts
  purged (``services/data/retention.py``), each run audited.

Every attempt is recorded in ``job_run`` (:func:`_record_runs`), shown with its failures
on the admin page ``/admin/jobs``.

``flask --app wsgi jobs worker`` runs the consumer (``cli/jobs.py``); ``make run`` starts
it beside gunicorn. Every job runs inside an app context of its own.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app

__all__ = ["Jobs", "get_jobs", "init_app", "make_huey"]

EXTENSION = "hailong.jobs"


def make_huey(app: Flask):
    """The queue the settings ask for (opens the SQLite file or the Redis pool)."""
    from huey import RedisHuey, SqliteHuey

    config = app.config
    immediate = bool(config.get("HUEY_IMMEDIATE"))
    name = config.get("HUEY_NAME") or "hailong"
    if config.get("HUEY_REDIS_URL"):
        return RedisHuey(name, url=config["HUEY_REDIS_URL"], immediate=immediate)
    path = config.get("HUEY_SQLITE_PATH") or os.path.join(app.instance_path, "huey.sqlite3")
    if not immediate:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return SqliteHuey(name, filename=path, immediate=immediate)


@dataclass
class Jobs:
    """The queue and its tasks (call a task to enqueue it; ``.call_local`` runs it here)."""

    huey: Any
    evaluate_alerts: Callable
    evaluate_alerts_now: Callable
    send_alert_email: Callable
    rollup_catch_up: Callable
    retention: Callable
    petition_notices: Callable
    send_petition_notice: Callable
    build_export: Callable
    ensure_partitions: Callable


def alert_link(config, alert_id: int) -> str:
    return (config.get("PUBLIC_BASE_URL") or "") + f"/admin/alerts/{alert_id}"


def _register(app: Flask, huey) -> Jobs:
    from huey import crontab

    def in_app(fn):
        def run(*args, **kwargs):
            with app.app_context():
                return fn(*args, **kwargs)
        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        return run

    def evaluate() -> list[int]:
        from .extensions import db
        from .services.alerts.evaluate import evaluate_all
        from .services.petitions.workdays import calendar_for

        opened = evaluate_all(db.session, calendar=calendar_for(app), logger=app.logger)
        for alert_id in opened:
            jobs.send_alert_email(alert_id)
        if opened:
            app.logger.info("alerts opened: %s", opened)
        return opened

    @huey.task(name="send_alert_email", retries=app.config.get("MAIL_RETRIES", 6),
               retry_delay=app.config.get("MAIL_RETRY_DELAY", 60), retry_backoff=2)
    @in_app
    def send_alert_email(alert_id: int) -> str:
        """One alert's e-mail; raises on an SMTP failure so Huey retries it."""
        from .extensions import db
        from .services.alerts.mail import deliver

        return deliver(db.session, current_app.config, alert_id, alert_link(current_app.config, alert_id))

    every = max(1, min(60, int(app.config.get("ALERTS_EVERY_MINUTES", 15))))

    @huey.periodic_task(crontab(minute=f"*/{every}"), name="evaluate_alerts")
    @in_app
    def evaluate_alerts() -> list[int]:
        return evaluate()

    @huey.task(name="evaluate_alerts_now")
    @in_app
    def evaluate_alerts_now() -> list[int]:
        return evaluate()

    @huey.periodic_task(crontab(), name="rollup_catch_up")
    @in_app
    def rollup_catch_up() -> int:
        from .extensions import db
        from .services.reports import rollup

        return rollup.catch_up(db.session).responses

    @huey.task(name="build_export", retries=app.config.get("EXPORT_RETRIES", 3),
               retry_delay=app.config.get("EXPORT_RETRY_DELAY", 30), retry_backoff=2, context=True)
    @in_app
    def build_export(job_id: int, task=None) -> str:
        """One large export's file; raises on a failure (recorded on the job) so Huey retries it."""
        from .extensions import db
        from .services.petitions.operations import PetitionSettings, local_day
        from .services.petitions.workdays import calendar_for
        from .services.reports import export_jobs
        from .models import utcnow

        config = current_app.config
        return export_jobs.run(
            db.session, job_id, directory=export_jobs.export_dir(current_app.instance_path, current_app.config.get("EXPORT_DIR")),
            today=local_day(utcnow(), config["DISPLAY_TIMEZONE"]),
            petition_settings=PetitionSettings.from_config(config, calendar_for(current_app)),
            last_attempt=task is None or not task.retries)

    hour = max(0, min(23, int(app.config.get("RETENTION_HOUR_UTC", 20))))

    @huey.periodic_task(crontab(minute="7", hour=str(hour)), retries=3, retry_delay=600, name="retention")
    @in_app
    def retention() -> dict:
        from .extensions import db
        from .services.data import retention as purge

        from .services.data import partition_retention

        done = purge.run(db.session, purge.Policy.from_config(current_app.config))
        app.logger.info("retention: %s hashes cleared, %s contacts deleted", done.hashes_cleared,
                        done.contacts_deleted)
        result = {"hashes_cleared": done.hashes_cleared, "contacts_deleted": done.contacts_deleted}
        keep = current_app.config.get("RESPONSE_KEEP_MONTHS")
        if keep:  # unset: responses are kept for ever
            try:
                retired = partition_retention.retire_old_months(
                    db.session, keep_months=keep, archive_dir=current_app.config.get("RESPONSE_ARCHIVE_DIR"))
            except partition_retention.NotPartitioned as refused:
                app.logger.warning("retention: RESPONSE_KEEP_MONTHS is set but %s", refused)
            else:
                app.logger.info("retention: months of responses dropped: %s", ", ".join(retired.months) or "none")
                result["months_dropped"] = list(retired.months)
        return result

    @huey.periodic_task(crontab(minute="17", hour="1"), retries=3, retry_delay=600, name="ensure_partitions")
    @in_app
    def ensure_partitions() -> dict:
        """PostgreSQL: this month's and the next months' partitions of response and answer,
        and rows that landed in DEFAULT moved to their month (nothing on SQLite)."""
        from .extensions import db
        from .services.data import partitions

        months = int(current_app.config.get("PARTITION_MONTHS_AHEAD", 2))
        done = partitions.ensure_partitions(db.session, months_ahead=months)
        if done.created:
            app.logger.info("partitions created: %s; rows moved out of DEFAULT: %s", ", ".join(done.created), done.moved)
        return {"created": list(done.created), "moved": done.moved}

    @huey.task(name="send_petition_notice", retries=app.config.get("MAIL_RETRIES", 6),
               retry_delay=app.config.get("MAIL_RETRY_DELAY", 60), retry_backoff=2)
    @in_app
    def send_petition_notice(notice_id: int) -> str:
        """One e-mail to a petitioner; raises on an SMTP failure so Huey retries it."""
        from .cli.qr_helpers import stored_base_url
        from .extensions import db
        from .services.petitions import notify

        base = current_app.config.get("PUBLIC_BASE_URL") or stored_base_url() or ""
        return notify.deliver(db.session, current_app.config, notice_id, base)

    @huey.periodic_task(crontab(), name="petition_notices")
    @in_app
    def petition_notices() -> list[int]:
        from .extensions import db
        from .services.petitions import notify

        made = notify.queue_new(db.session)
        for notice_id in made:
            jobs.send_petition_notice(notice_id)
        return made

    _record_runs(app, huey)
    jobs = Jobs(huey, evaluate_alerts, evaluate_alerts_now, send_alert_email, rollup_catch_up, retention,
                petition_notices, send_petition_notice, build_export,
                ensure_partitions)
    return jobs


def _record_runs(app: Flask, huey) -> None:
    """Every attempt of every task into ``job_run`` (the admin "jobs" page): a row when it
    starts, its end (complete / error / retrying) when it ends."""
    import time

    from huey import signals as S

    from .services.data import job_runs

    running: dict[str, tuple[int, float]] = {}

    @huey.signal(S.SIGNAL_EXECUTING)
    def on_start(signal, task, *args):
        with app.app_context():
            from .extensions import db

            running[task.id] = (job_runs.started(db.engine, task.name, task.id, task.retries), time.monotonic())

    @huey.signal(S.SIGNAL_COMPLETE, S.SIGNAL_ERROR, S.SIGNAL_RETRYING, S.SIGNAL_TIMEOUT, S.SIGNAL_LOCKED,
                 S.SIGNAL_CANCELED, S.SIGNAL_INTERRUPTED)
    def on_end(signal, task, exc=None, *args):
        entry = running.pop(task.id, None)
        if entry is None:
            return
        run_id, t0 = entry
        if signal == S.SIGNAL_COMPLETE:
            status, error = "complete", None
        else:
            # SIGNAL_ERROR comes before the retry is scheduled: retries left means it will run again.
            status = "retrying" if task.retries else "error"
            error = job_runs.describe(exc) if exc is not None else signal
        with app.app_context():
            from .extensions import db

            job_runs.finished(db.engine, run_id, status, round(time.monotonic() - t0, 3), error)


def init_app(app: Flask) -> None:
    """Record the app; the queue itself is built on first use (no I/O in the factory)."""
    app.extensions[EXTENSION] = None


def get_jobs(app: Flask | None = None) -> Jobs:
    """The app's queue and tasks, built once per app."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    jobs = app.extensions.get(EXTENSION)
    if jobs is None:
        jobs = app.extensions[EXTENSION] = _register(app, make_huey(app))
    return jobs
