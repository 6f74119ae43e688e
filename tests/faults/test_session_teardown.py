"""The database dying after a request's last statement: the ROLLBACK that closes the
request's session fails at teardown, after the view has answered. The restart test found
it as a bare gunicorn 500 on a survey page that had rendered; here it is made to happen on
every request, on SQLite and PostgreSQL."""
from __future__ import annotations

import gc
import logging
import warnings

import pytest

from survey_app.extensions import db


class FailingRollback:
    """While ``on``, the driver's ROLLBACK fails as on a connection the server has closed."""

    def __init__(self, engine):
        self.on = False
        self.calls = 0
        self.dialect = engine.dialect
        self.real = engine.dialect.do_rollback

    def __call__(self, dbapi_connection):
        if self.on:
            self.calls += 1
            raise self.dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")
        return self.real(dbapi_connection)


@pytest.fixture
def failing_rollback(demo_app, monkeypatch):
    switch = FailingRollback(db.engine)
    monkeypatch.setattr(db.engine.dialect, "do_rollback", switch)
    yield switch
    # The faked failure leaves the failed session's driver connection healthy (a server that
    # really went away leaves it marked closed) and unreferenced: collect it now, so that its
    # "deleted while still open" warning is not raised in whichever test runs next.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def test_a_page_rendered_before_the_database_died_is_still_served(client, failing_rollback, caplog):
    failing_rollback.on = True
    with caplog.at_level(logging.INFO):
        with client.get("/s/p2motcua") as page:
            assert page.status_code == 200 and 'name="form_token"' in page.get_data(as_text=True)
    assert failing_rollback.calls >= 1, "the request's session was closed with a ROLLBACK that failed"
    lines = [r.getMessage() for r in caplog.records if r.name == "survey_app" and r.levelno >= logging.WARNING]
    assert len(lines) == 1 and lines[0].startswith("database unavailable: ") and "closing a session" in lines[0]
    failing_rollback.on = False
    for _ in range(3):
        with client.get("/s/p2motcua") as page:
            assert page.status_code == 200, "the next requests get a fresh session"
    assert not db.session.registry.has() or db.session.is_active
