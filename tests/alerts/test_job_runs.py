"""The record of job runs and the admin "jobs" page: every attempt is a row (complete,
failed, failed-and-retrying, with the error's type and message), the page lists them for
an administrator of the whole tree only, and retention prunes old rows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.jobs import get_jobs
from survey_app.models import JobRun
from survey_app.services.data import job_runs, retention


@pytest.fixture
def immediate(variant):
    return variant(HUEY_IMMEDIATE=True)


def test_each_attempt_is_recorded(immediate):
    jobs = get_jobs(immediate)
    huey = jobs.huey

    @huey.task(name="always_fails", retries=2, retry_delay=3600)
    def always_fails():
        raise ConnectionRefusedError("SMTP 127.0.0.1:2525 refused the connection")

    @huey.task(name="fails_once_more")
    def fails_at_last():
        raise ValueError("x" * 3000)

    jobs.retention()  # a periodic task: Huey keeps no result, the row is the record
    always_fails()  # the first attempt fails; its retry waits an hour in the schedule
    fails_at_last()
    db.session.expire_all()
    runs = {r.task: r for r in db.session.scalars(select(JobRun))}
    assert runs["retention"].status == "complete" and runs["retention"].error is None
    assert runs["retention"].finished_at is not None and runs["retention"].seconds >= 0
    assert runs["always_fails"].status == "retrying" and runs["always_fails"].retries_left == 2
    assert runs["always_fails"].error == "ConnectionRefusedError: SMTP 127.0.0.1:2525 refused the connection"
    assert runs["fails_once_more"].status == "error" and runs["fails_once_more"].retries_left == 0
    assert len(runs["fails_once_more"].error) == job_runs.ERROR_MAX and runs["fails_once_more"].error.endswith("…")
    assert huey.scheduled_count() == 1  # the retry, not run yet


def test_the_page_shows_runs_and_failures_to_a_tree_admin_only(demo_app, immediate, login):
    jobs = get_jobs(immediate)

    @jobs.huey.task(name="send_alert_email_broken")
    def broken():
        raise TimeoutError("smtp.example.gov.vn did not answer in 10 s")

    jobs.retention()
    broken()
    admin = login("demo-admin")
    with admin.get("/admin/jobs/") as page:
        assert page.status_code == 200
        html = page.get_data(as_text=True)
    assert "Lưu giữ dữ liệu" in html or "Retention" in html
    assert "TimeoutError: smtp.example.gov.vn did not answer in 10 s" in html
    assert "thất bại" in html  # the failed status, in Vietnamese
    assert 'href="/admin/jobs/"' in html  # in the admin's menu
    manager = login("demo-manager")
    with manager.get("/admin/jobs/") as page:
        assert page.status_code == 403
        assert 'href="/admin/jobs/"' not in page.get_data(as_text=True)


def test_retention_prunes_old_runs(demo_app):
    now = datetime(2026, 12, 2, 3, tzinfo=timezone.utc)

    def run(status: str, days_ago: float) -> None:
        db.session.add(JobRun(task="rollup_catch_up", task_id="t", status=status, retries_left=0,
                              started_at=now - timedelta(days=days_ago)))

    run("complete", 8), run("complete", 6), run("error", 30), run("error", 91), run("retrying", 100)
    db.session.commit()
    done = retention.run(db.session, retention.Policy(), now=now)
    kept = sorted((r.status, round((now - r.started_at).days)) for r in db.session.scalars(select(JobRun)))
    assert kept == [("complete", 6), ("error", 30)]
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 2
    assert done.hashes_cleared == 0
