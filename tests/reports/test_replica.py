"""Reports read from a replica (issue #19, item 3: ``DATABASE_REPLICA_URL``,
``database.read_session``), tested against a second connection to the test database: on
PostgreSQL a second engine whose connections are read-only, on SQLite the same file opened
read-only (``mode=ro``). The report pages read their figures through it, the rollup
catch-up still writes on the primary, nothing can write through it, and a replica that does
not answer leaves the reports on the primary, logged.
"""
from __future__ import annotations

import html
import logging
from datetime import date, datetime, timezone
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from survey_app.database import read_session, replica_engine
from survey_app.extensions import db
from survey_app.models import Response
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.reports import build as reports

ROLLUP_READ = ("from rollup_cell", "from rollup_response", "from rollup_factor", "from rollup_moments")


def replica_url(demo_app, backend: str, reachable: bool = True) -> str:
    url = demo_app.config["SQLALCHEMY_DATABASE_URI"]
    if backend == "sqlite":
        path = url.removeprefix("sqlite:///")
        if not reachable:
            path += ".missing"
        return f"sqlite:///file:{path}?mode=ro&uri=true"
    options = demo_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    if not reachable:  # a port nothing listens on
        url = sa.engine.make_url(url).set(port=1).render_as_string(hide_password=False)
    return url + "?options=" + quote(options)


@pytest.fixture
def replica_app(backend, demo_app):
    """``replica_app(reachable=True)``: a second app on the test database whose reports read
    through a replica URL; its context pushed, then popped and both engines disposed."""
    from conftest import INHERITED, release_sessions
    from survey_app import create_app

    made = []

    def make(reachable: bool = True):
        settings = {k: demo_app.config[k] for k in INHERITED}
        settings["DATABASE_REPLICA_URL"] = replica_url(demo_app, backend, reachable)
        app = create_app(settings)
        app.test_client_class = demo_app.test_client_class
        ctx = app.app_context()
        ctx.push()
        made.append((app, ctx))
        return app

    yield make
    for app, ctx in reversed(made):
        release_sessions()
        ctx.pop()
        with app.app_context():
            db.engine.dispose()
        replica_engine(app).dispose()


class Statements:
    """Every statement an engine runs, lower-cased."""

    def __init__(self, engine):
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._add)
        self.engine = engine

    def _add(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append(" ".join(statement.lower().split()))

    def reading_rollups(self) -> list[str]:
        return [s for s in self.seen if any(t in s for t in ROLLUP_READ)]

    def clear(self):
        self.seen.clear()

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._add)


def logged_in(app, h):
    client = app.test_client()
    with client.get("/login") as page:
        token = h.csrf_from(page.get_data(as_text=True))
    with client.post("/login", data={"csrf_token": token, "username": "demo-viewer", "password": DEMO_PASSWORD}) as r:
        assert r.status_code == 303
    return client


def page(client, url: str) -> str:
    with client.get(url) as response:
        body = response.get_data(as_text=True)
        assert response.status_code == 200, (url, response.status_code, body[-600:])
        return html.unescape(body)


def pct(x: float) -> str:
    return f"{100 * x:.1f}".replace(".", ",") + "%"


def p2_report(place) -> dict:
    return reports.make_report(db.session, reports.ReportRequest(
        unit=place.p2, instrument_key="sipas", date_from=date(2026, 1, 1), date_to=date(2026, 6, 30)))


def test_the_reports_read_their_figures_from_the_replica_and_catch_up_on_the_primary(
        replica_app, place, sipas, h):
    expected = p2_report(place)
    assert expected["responses"] == 30
    app = replica_app()
    assert replica_engine(app) is not None and replica_engine(app) is not db.engine
    on_replica, on_primary = Statements(replica_engine(app)), Statements(db.engine)
    try:
        client = logged_in(app, h)
        on_replica.clear(), on_primary.clear()
        body = page(client, f"/reports/{place.p2.id}?{h.qs()}")
        assert "30 phiếu" in body and pct(expected["index"]["value"]) in body
        assert on_replica.reading_rollups(), "the figures come from the replica"
        assert not on_primary.reading_rollups(), on_primary.reading_rollups()[:3]

        for url in (f"/reports/{place.p2.id}/charts/likert.svg?{h.qs(period='quarter')}",
                    f"/reports/{place.p2.id}/overview", f"/reports/{place.p2.id}/ranking?{h.qs()}"):
            on_replica.clear(), on_primary.clear()
            page(client, url)  # the chart: another period than the dashboard's, so not from its cache
            assert on_replica.reading_rollups(), url
            assert not on_primary.reading_rollups(), (url, on_primary.reading_rollups()[:3])

        # a new response waits for the rollups: the catch-up writes it on the primary, the
        # replica's reading then counts it
        keys = h.sipas_keys()
        new = h.submit(place.p2_point, [(k, 5, None) for k in keys], datetime(2026, 6, 20, 3, tzinfo=timezone.utc))
        on_replica.clear(), on_primary.clear()
        body = page(client, f"/reports/{place.p2.id}?{h.qs()}")
        assert "31 phiếu" in body
        db.session.expire_all()
        assert db.session.get(Response, new).rolled_up
        assert any(s.startswith("update response") for s in on_primary.seen), "rolled up on the primary"
        assert not any(s.startswith(("update", "insert", "delete")) for s in on_replica.seen), on_replica.seen
    finally:
        on_replica.close(), on_primary.close()


def test_nothing_can_be_written_through_the_replica(replica_app):
    app = replica_app()
    with app.test_request_context("/"):
        session = read_session()
        assert session is not db.session() and session.info["primary"] is db.session()
        assert session.scalar(sa.select(sa.func.count()).select_from(Response)) == db.session.scalar(
            sa.select(sa.func.count()).select_from(Response))
        with pytest.raises(sa.exc.DBAPIError) as refused:
            session.execute(sa.text("UPDATE response SET language = 'en'"))
        message = str(refused.value).lower()
        assert "read-only" in message or "readonly" in message, message
        session.close()


def test_a_replica_that_does_not_answer_leaves_the_reports_on_the_primary(
        replica_app, place, sipas, h, caplog):
    expected = p2_report(place)
    app = replica_app(reachable=False)
    client = logged_in(app, h)
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            body = page(client, f"/reports/{place.p2.id}?{h.qs()}")
            assert "30 phiếu" in body and pct(expected["index"]["value"]) in body
    warned = [r.getMessage() for r in caplog.records if "read replica unavailable" in r.getMessage()]
    assert len(warned) == 1, warned  # once a minute at most, not once per request
    assert "reports read from the primary" in warned[0]
