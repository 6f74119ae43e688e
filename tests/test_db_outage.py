"""A database outage is a 503 with Retry-After and one log line per burst, not a 500 and a
traceback per request; and a citizen whose answer was saved is never told it was not.

The outage is simulated by making every statement fail with the error a dropped
connection raises (on SQLite and PostgreSQL), and for real by a PostgreSQL address where
nothing listens."""
from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from conftest import ROOT, make_app
from helpers import full_answers, hidden_fields
from survey_app.errors import OutageLog
from survey_app.extensions import db
from survey_app.models import Petition, Response
from survey_app.services.collect import surveys
from survey_app.services.data.demo import DEMO_PASSWORD
from test_survey import definition_for

UNAVAILABLE = "Tạm thời gián đoạn"
NOT_SAVED = "Chưa có gì được lưu"  # the 500 page: "Nothing was saved"


class Outage:
    """While ``on``, every SQL statement fails as if the server had gone away."""

    def __init__(self, engine):
        self.on = False
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._fail)

    def _fail(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            raise OperationalError(statement, parameters, ConnectionError("server closed the connection unexpectedly"))

    def remove(self):
        event.remove(self.engine, "before_cursor_execute", self._fail)


@pytest.fixture
def outage(demo_app):
    switch = Outage(db.engine)
    yield switch
    switch.remove()


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def outage_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "survey_app" and r.levelno >= logging.WARNING]


def login_client(app):
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"csrf_token": token, "username": "demo-manager",
                                       "password": DEMO_PASSWORD}).status_code == 303
    return client


def test_an_outage_is_a_503_with_retry_after_and_one_log_line(demo_app, client, outage, caplog):
    fields = hidden_fields(client.get("/s/p2motcua").get_data(as_text=True))
    answers = full_answers(definition_for("p2motcua"))
    official = login_client(demo_app)
    surveys.forget_kept_reads()  # as after SURVEY_PAGE_REUSE_SECONDS: the page asks the database again
    outage.on = True
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            with client.get("/s/p2motcua") as page:
                assert page.status_code == 503 and page.headers["Retry-After"] == "5"
                html = page.get_data(as_text=True)
                assert UNAVAILABLE in html and NOT_SAVED not in html
        with client.post("/s/p2motcua", data={**fields, **answers}) as sent:
            assert sent.status_code == 503 and NOT_SAVED not in sent.get_data(as_text=True)
        with official.get("/api/v1/reports/p2motcua") as api:
            assert api.status_code == 503 and api.get_json()["error"]["status"] == 503
        with official.get("/admin/") as page:
            assert page.status_code == 503, "an official's page too, without loading the official"
        with client.get("/healthz") as health:
            assert health.status_code == 503 and health.headers["Retry-After"] == "5"
    lines = outage_lines(caplog)
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].getMessage().startswith("database unavailable: ConnectionError: server closed the connection")
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    outage.on = False
    assert client.get("/s/p2motcua").status_code == 200, "back as soon as the database is"


def test_a_page_kept_from_before_an_outage_stores_nothing_and_the_next_page_says_so(demo_app, client, outage):
    """Within SURVEY_PAGE_REUSE_SECONDS of its last read a survey page needs no database, so
    it may still be served as the outage begins; the answer is refused whole (503, nothing
    half-written), and that failure drops the kept reads: the next page is the 503 too."""
    fields = hidden_fields(client.get("/s/p2motcua").get_data(as_text=True))
    answers = full_answers(definition_for("p2motcua"))
    before = db.session.scalar(select(func.count()).select_from(Response))
    outage.on = True
    assert client.get("/s/p2motcua").status_code == 200  # the kept read
    with client.post("/s/p2motcua", data={**fields, **answers}) as sent:
        assert sent.status_code == 503 and sent.headers["Retry-After"] == "5"
    with client.get("/s/p2motcua") as page:
        assert page.status_code == 503 and UNAVAILABLE in page.get_data(as_text=True)
    outage.on = False
    assert db.session.scalar(select(func.count()).select_from(Response)) == before
    assert client.get("/s/p2motcua").status_code == 200


def fail_after_the_next_commit(outage):
    """The database goes away the moment the next transaction is committed (the real
    COMMIT: SQLAlchemy also calls ``after_commit`` when a SAVEPOINT is released, as the
    similar-petition search does before a petition is stored)."""
    def on(session):
        if session.in_nested_transaction() or outage.on:
            return
        outage.on = True
    event.listen(db.session, "after_commit", on)


def test_the_database_failing_right_after_the_commit_still_thanks_the_citizen(client, outage):
    fields = hidden_fields(client.get("/s/p2motcua").get_data(as_text=True))
    answers = full_answers(definition_for("p2motcua"))
    fail_after_the_next_commit(outage)
    with client.post("/s/p2motcua", data={**fields, **answers}) as response:
        assert response.status_code == 303, response.get_data(as_text=True)[-400:]
        assert response.headers["Location"].startswith("/s/p2motcua/thanks")
    outage.on = False
    assert count(Response) == 1


def test_a_petition_saved_just_before_the_database_fails_gets_its_tracking_code(client, outage):
    fields = hidden_fields(client.get("/f/p2motcua").get_data(as_text=True))
    data = {**fields, "category": "procedure", "text": "Đèn đường trước nhà văn hoá khu phố 3 bị hỏng đã hai tuần."}
    fail_after_the_next_commit(outage)
    with client.post("/f/p2motcua", data=data) as response:
        assert response.status_code == 303 and response.headers["Location"].startswith("/t/")
    outage.on = False
    assert count(Petition) == 1


def test_a_commit_whose_answer_is_lost_is_a_503_and_sending_again_stores_it_once(client, outage, monkeypatch):
    """The commit reached the database but its reply did not: the citizen is told the
    service is unavailable (not "nothing was saved"), and sending the same form again is a
    thank-you for the one stored answer."""
    real = surveys.submit_response

    def commit_then_lose_the_reply(*args, **kwargs):
        real(*args, **kwargs)
        raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection unexpectedly"))

    monkeypatch.setattr(surveys, "submit_response", commit_then_lose_the_reply)
    fields = hidden_fields(client.get("/s/p2motcua").get_data(as_text=True))
    form = {**fields, **full_answers(definition_for("p2motcua"))}
    with client.post("/s/p2motcua", data=form) as first:
        assert first.status_code == 503 and first.headers["Retry-After"]
        assert NOT_SAVED not in first.get_data(as_text=True)
    monkeypatch.setattr(surveys, "submit_response", real)
    with client.post("/s/p2motcua", data=form) as again:
        assert again.status_code == 303
    assert count(Response) == 1


def test_a_database_that_refuses_connections(tmp_path, caplog):
    """For real: PostgreSQL at an address where nothing listens."""
    app = make_app("postgresql+psycopg://postgres@127.0.0.1:1/hailong", {"connect_args": {"connect_timeout": 2}},
                   SURVEYS_DIR=str(ROOT / "surveys"))
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        for url in ("/s/p2motcua", "/f/p2motcua", "/t/7K3QM-XD9FP", "/p/vn/qt", "/healthz", "/s/p2motcua"):
            with client.get(url) as response:
                assert response.status_code == 503, (url, response.status_code)
                assert response.headers["Retry-After"] == "5"
        with client.get("/") as home:
            assert home.status_code == 200, "a page without the database still works"
    assert len(outage_lines(caplog)) == 1
    assert not [r for r in caplog.records if r.exc_info]


def test_the_outage_log_writes_one_line_per_burst(caplog):
    log = OutageLog(quiet=0.2, remind=60)
    logger = logging.getLogger("survey_app.test_outage")
    error = OperationalError("SELECT 1", {}, ConnectionError("connection refused"))
    with caplog.at_level(logging.INFO, logger="survey_app.test_outage"):
        for _ in range(50):
            log.record(logger, error, "GET /s/x")
        time.sleep(0.3)
        log.record(logger, error, "GET /s/y")
    lines = [r.getMessage() for r in caplog.records if r.name == "survey_app.test_outage"]
    assert len(lines) == 2
    assert "ConnectionError: connection refused (first on GET /s/x)" in lines[0]
    assert lines[1].endswith("the previous burst had 50 errors")
