"""Large exports through the job queue (issue #19 item 1): above the inline threshold a CSV,
XLSX or PDF is built by the job ``build_export``; the official gets a "being prepared"
page that refreshes itself and then links the file, which equals what the immediate path
gives for the same filters. Only its requester, while their scope still covers the unit,
can read the page or the file; a failing build says so on the job, in ``job_run`` and on
the page; the retention job deletes expired files."""
from __future__ import annotations

import csv
import io
import os
import re
import subprocess
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey_app import create_app
from survey_app.extensions import db
from survey_app.jobs import get_jobs
from survey_app.models import ExportJob, Grant, JobRun, utcnow
from survey_app.services.data import retention
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.reports import export_jobs

from .conftest import PASSWORD, csrf_from

SMALL = {"EXPORT_INLINE_MAX_RESPONSES": 5, "PDF_INLINE_MAX_RESPONSES": 5}
EXTS = {"csv": "export.csv", "xlsx": "export.xlsx", "pdf": "report.pdf"}


def login_to(app, username: str):
    client = app.test_client()
    with client.get("/login") as page:
        token = csrf_from(page.get_data(as_text=True))
    password = DEMO_PASSWORD if username.startswith("demo-") else PASSWORD
    with client.post("/login", data={"csrf_token": token, "username": username, "password": password}) as r:
        assert r.status_code == 303
    return client


def ask(client, unit, kind: str, h) -> str:
    """Request a large export; returns the job's page (the redirect's target)."""
    with client.get(f"/reports/{unit.id}/{EXTS[kind]}?{h.qs()}") as r:
        assert r.status_code == 303, r.get_data(as_text=True)[:300]
        location = r.headers["Location"]
    assert re.fullmatch(r"/reports/exports/[A-Za-z0-9_-]{32}", location), location
    return location


def page_of(client, url: str, status: int = 200) -> str:
    with client.get(url) as r:
        assert r.status_code == status
        return r.get_data(as_text=True)


def job_of(url: str) -> ExportJob:
    db.session.expire_all()
    return db.session.scalar(select(ExportJob).where(ExportJob.token == url.rsplit("/", 1)[1]))


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_cells(data: bytes) -> dict[str, list[list]]:
    book = load_workbook(io.BytesIO(data))
    out = {}
    for ws in book.worksheets:
        out[ws.title] = [[c.value for c in row] for row in ws.iter_rows()]
    return out


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return re.sub(r"\d{2}:\d{2}", "HH:MM", text)  # the minute it was made


from conftest import INHERITED, release_sessions  # noqa: E402  (the settings a variant app keeps)


@pytest.fixture
def queue_app(demo_app):
    """``queue_app(**settings)``: a second app on the test database with the small
    thresholds (as ``variant``), its context pushed. At the end, once its context is gone,
    every session is closed before its engine is disposed (``conftest.release_sessions``:
    the test app's session, used while this app's context is current, holds a connection of
    this app's engine)."""
    made = []

    def make(**config):
        settings = {k: demo_app.config[k] for k in INHERITED}
        settings.update(SMALL)
        settings.update(config)
        app = create_app(settings)
        app.test_client_class = demo_app.test_client_class
        ctx = app.app_context()
        ctx.push()
        made.append((ctx, db.engine))
        return app

    yield make
    for ctx, engine in reversed(made):
        release_sessions()
        ctx.pop()
        engine.dispose()


@pytest.fixture
def immediate(queue_app):
    return queue_app(HUEY_IMMEDIATE=True)


def test_a_large_export_goes_through_the_queue_and_equals_the_immediate_one(demo_app, place, sipas, login, h,
                                                                            immediate, tmp_path):
    unit = place.p2
    inline = login("demo-manager")  # demo_app: the default thresholds, every export at once
    queued = login_to(immediate, "demo-manager")
    before = len(h.audits("export.created"))
    for kind in ("csv", "xlsx", "pdf"):
        with inline.get(f"/reports/{unit.id}/{EXTS[kind]}?{h.qs()}") as r:
            assert r.status_code == 200
            at_once = r.data
            name = r.headers["Content-Disposition"]
        url = ask(queued, unit, kind, h)
        job = job_of(url)
        assert job.status == "done" and job.kind == kind and job.error is None
        assert job.file_path.startswith(os.path.join(immediate.instance_path, "exports"))
        assert not os.path.exists(job.file_path + ".partial") and os.path.getsize(job.file_path) == job.size
        html = page_of(queued, url)
        assert 'http-equiv="refresh"' not in html and "Tệp đã sẵn sàng." in html
        with queued.get(url + "/download") as r:
            assert r.status_code == 200
            built = r.data
            assert r.headers["Content-Disposition"].replace("attachment; filename=", "").strip('"') \
                == name.replace("attachment; filename=", "").strip('"')
        if kind == "csv":
            assert csv_rows(built) == csv_rows(at_once)
            assert len(csv_rows(built)) == 1 + 30 == 1 + job.rows  # p2's trusted responses
        elif kind == "xlsx":
            a, b = xlsx_cells(built), xlsx_cells(at_once)
            assert list(a) == list(b)
            assert a[list(a)[0]] == b[list(b)[0]] and len(a[list(a)[0]]) == 31  # the responses, exactly
            for title in a:  # every sheet, but for the time it was made
                assert _same_but_times(a[title], b[title]), title
        else:
            assert pdf_text(built, tmp_path) == pdf_text(at_once, tmp_path)
    exported = h.audits("export.created")[before:]
    assert [e.detail["format"] for e in exported] == ["csv", "csv", "xlsx", "xlsx", "pdf", "pdf"]
    assert all(e.actor_name == "demo-manager" for e in exported)
    assert exported[0].detail == exported[1].detail  # the same filters and rows, audited alike
    runs = db.session.scalars(select(JobRun).where(JobRun.task == "build_export")).all()
    assert len(runs) == 3 and {r.status for r in runs} == {"complete"}


def _same_but_times(a: list[list], b: list[list]) -> bool:
    """Equal sheets except for date-time cells (the generation time)."""
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        if len(ra) != len(rb):
            return False
        for va, vb in zip(ra, rb):
            if va != vb and not (hasattr(va, "hour") and hasattr(vb, "hour")):
                return False
    return True


def test_only_the_requester_within_scope_reads_the_job(demo_app, place, sipas, h, immediate):
    unit = place.p2
    owner = login_to(immediate, "demo-manager")
    url = ask(owner, unit, "csv", h)
    assert page_of(owner, url + "/download", 200)
    for other in ("p1manager", "demo-admin"):  # another ward's manager; an admin who sees the unit
        client = login_to(immediate, other)
        page_of(client, url, 404)
        page_of(client, url + "/download", 404)
    page_of(owner, "/reports/exports/" + "x" * 32, 404)
    # the owner's scope no longer covers the unit: 404 too
    grant = db.session.scalar(select(Grant).where(Grant.user_id == job_of(url).user_id))
    grant.unit_id = place.p1.id
    db.session.commit()
    owner = login_to(immediate, "demo-manager")
    page_of(owner, url, 404)
    page_of(owner, url + "/download", 404)


def test_a_failing_build_is_recorded_and_said_in_vietnamese(demo_app, place, sipas, h, queue_app, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(export_jobs, "build_file", broken)
    app = queue_app(HUEY_IMMEDIATE=True, EXPORT_RETRIES=0)
    client = login_to(app, "demo-manager")
    url = ask(client, place.p2, "xlsx", h)
    job = job_of(url)
    assert job.status == "failed" and job.error == "OSError: No space left on device"
    assert job.file_path is None and job.finished_at is not None
    run = db.session.scalar(select(JobRun).where(JobRun.task == "build_export"))
    assert run.status == "error" and run.error == "OSError: No space left on device"
    html = page_of(client, url)
    assert "Không tạo được tệp." in html and "OSError: No space left on device" in html
    assert 'http-equiv="refresh"' not in html
    page_of(client, url + "/download", 404)
    assert h.audits("export.created") == []  # nothing left the system


def test_a_failed_attempt_with_retries_left_stays_queued(demo_app, place, sipas, h, queue_app, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(export_jobs, "build_file", broken)
    app = queue_app(HUEY_IMMEDIATE=True, EXPORT_RETRIES=2, EXPORT_RETRY_DELAY=3600)
    client = login_to(app, "demo-manager")
    url = ask(client, place.p2, "csv", h)
    job = job_of(url)
    assert job.status == "queued" and job.error == "OSError: No space left on device"
    assert db.session.scalar(select(JobRun.status).where(JobRun.task == "build_export")) == "retrying"
    assert get_jobs(app).huey.scheduled_count() == 1  # the retry, an hour later
    html = page_of(client, url)
    assert "Lần thử vừa rồi không thành công; hệ thống sẽ thử lại." in html
    assert 'http-equiv="refresh"' in html


def test_the_being_prepared_page_while_queued(demo_app, place, sipas, h, queue_app, tmp_path):
    app = queue_app(HUEY_IMMEDIATE=False, HUEY_SQLITE_PATH=str(tmp_path / "huey.sqlite3"))
    client = login_to(app, "demo-manager")
    url = ask(client, place.p2, "csv", h)
    assert ask(client, place.p2, "csv", h) == url  # the same filters while queued: the same job
    other = ask(client, place.p2, "xlsx", h)
    assert other != url
    huey = get_jobs(app).huey
    assert huey.pending_count() == 2
    job = job_of(url)
    assert job.status == "queued" and job.file_path is None
    assert job.args["from"] == "2026-01-01" and job.args["to"] == "2026-06-30" and job.language == "vi"
    html = page_of(client, url)
    assert '<meta http-equiv="refresh" content="5">' in html
    assert "Tệp đang được chuẩn bị" in html and 'id="export-download"' not in html
    page_of(client, url + "/download", 404)

    assert get_jobs(app).build_export.call_local(job.id) == "built"  # the worker's turn
    assert get_jobs(app).build_export.call_local(job.id) == "done already"  # idempotent
    html = page_of(client, url)
    assert 'http-equiv="refresh"' not in html and 'id="export-download"' in html
    with client.get(url + "/download") as r:
        assert len(csv_rows(r.data)) == 31
    assert ask(client, place.p2, "csv", h) != url  # done: a new request makes a new file

    # past its time the retention job deletes the file and the row
    job = job_of(url)
    path = job.file_path
    job.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page_of(client, url)  # says it is no longer kept
    done = retention.run(db.session, retention.Policy())
    assert done.exports_purged == 1
    assert not os.path.exists(path) and job_of(url) is None
    page_of(client, url, 404)
