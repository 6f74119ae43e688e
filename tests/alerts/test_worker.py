"""The real Huey consumer (``flask --app wsgi jobs worker``, SqliteHuey on a temp file) runs
the evaluation task end to end: it opens the alert in the database, queues its e-mail, and
the e-mail task delivers it to a real SMTP server; SIGTERM stops the worker."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select

from alerts.smtp import smtp_server
from survey_app import create_app
from survey_app.extensions import db
from survey_app.jobs import get_jobs
from survey_app.models import Alert, JobRun, User
from survey_app.services.alerts import rules
from survey_app.services.reports.build import local_today

ROOT = Path(__file__).resolve().parents[2]


def worker_database_url(app) -> str:
    """The test database as a URL another process can open (PostgreSQL: with its schema)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args", {}).get("options")
    if options:
        url += ("&" if "?" in url else "?") + "options=" + quote(options)
    return url


def test_the_worker_evaluates_alerts_and_mails_them(demo_app, point, admin_scope, officials, tmp_path):
    actor = db.session.scalar(select(User).where(User.username == "demo-admin"))
    rules.create_rule(db.session, admin_scope, point.unit, kind="below", instrument_key="quick-feedback",
                      threshold=70, actor=actor)
    last_month = local_today().replace(day=1) - timedelta(days=1)
    point.add(2, last_month.replace(day=10), 11)
    point.add(5, last_month.replace(day=11), 4)  # 4 of 15 satisfied: 26.7 %
    queue = tmp_path / "huey.sqlite3"

    with smtp_server() as (inbox, port):
        env = {**os.environ, "DATABASE_URL": worker_database_url(demo_app), "SECRET_KEY": demo_app.config["SECRET_KEY"],
               "SURVEYS_DIR": demo_app.config["SURVEYS_DIR"], "HUEY_SQLITE_PATH": str(queue),
               "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port), "MAIL_FROM": "canhbao@example.gov.vn",
               "PUBLIC_BASE_URL": "https://hailong.example.gov.vn", "RATELIMIT_STORAGE_URI": "memory://"}
        env.pop("HUEY_REDIS_URL", None)
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--workers", "2",
                                   "--no-periodic"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        producer = create_app({**{k: demo_app.config[k] for k in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI",
                                                                 "SQLALCHEMY_ENGINE_OPTIONS", "SURVEYS_DIR")},
                               "HUEY_SQLITE_PATH": str(queue)})
        try:
            # The web side enqueues on the same SQLite queue file, as the periodic task would.
            jobs = get_jobs(producer)
            assert type(jobs.huey).__name__ == "SqliteHuey" and not jobs.huey.immediate
            result = jobs.evaluate_alerts_now()
            opened = result.get(blocking=True, timeout=120)
            assert len(opened) == 1
            deadline = time.monotonic() + 60  # the e-mail task runs after the evaluation
            while not inbox.messages and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            with producer.app_context():
                db.engine.dispose()
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output
    assert "job worker on SQLite" in output
    [(sender, to, msg)] = inbox.messages
    assert to == ["quanly.p2@example.gov.vn"] and msg["X-HaiLong-Alert"] == str(opened[0])
    assert f"https://hailong.example.gov.vn/admin/alerts/{opened[0]}" in msg.get_content()
    db.session.expire_all()
    alert = db.session.get(Alert, opened[0])
    assert alert.unit_id == point.unit.id and alert.status == "open" and alert.detail["n"] == 15
    assert alert.emailed_at is not None
    # the queue is empty: the two tasks ran once each
    assert jobs.huey.pending_count() == 0 and jobs.huey.scheduled_count() == 0
    # ... and the worker recorded each run for the jobs page
    runs = db.session.execute(select(JobRun.task, JobRun.status).order_by(JobRun.id)).all()
    assert [tuple(r) for r in runs] == [("evaluate_alerts_now", "complete"), ("send_alert_email", "complete")]


def test_immediate_mode_runs_jobs_in_the_caller(demo_app, point, admin_scope):
    app = create_app({**{k: demo_app.config[k] for k in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI",
                                                         "SQLALCHEMY_ENGINE_OPTIONS", "SURVEYS_DIR")},
                      "HUEY_IMMEDIATE": True})
    jobs = get_jobs(app)
    assert jobs.huey.immediate and type(jobs.huey.storage).__name__ == "MemoryStorage"
    try:
        assert jobs.evaluate_alerts_now().get() == []  # no rules yet
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_factory_opens_no_queue(tmp_path):
    path = tmp_path / "q" / "huey.sqlite3"
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "HUEY_SQLITE_PATH": str(path)})
    assert not path.exists()
    get_jobs(app)
    assert path.exists()
    redis_app = create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                            "HUEY_REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/6")})
    assert type(get_jobs(redis_app).huey).__name__ == "RedisHuey"
