"""PostgreSQL: a pooled connection is checked on checkout without a round trip when it is
healthy, and one the server dropped while it sat in the pool is replaced before a request
uses it, as the pool's pre-ping did (``survey_app/database.py:_ping_if_spoken``)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey_app.extensions import db

POINT = "/s/p2motcua"


@pytest.fixture
def pings(demo_app, backend, monkeypatch):
    if backend != "postgresql":
        pytest.skip("SQLite runs in the process: nothing to ping")
    seen = []
    real = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: seen.append(conn) or real(conn))
    return seen


def _backend_pids() -> set[int]:
    """The server processes behind the connections in the app's pool."""
    pids = set()
    for record in list(db.engine.pool._pool.queue):  # idle connections only
        if record.dbapi_connection is not None:
            pids.add(record.dbapi_connection.info.backend_pid)
    return pids


def test_a_healthy_pooled_connection_is_used_without_a_ping(client, pings):
    assert client.get(POINT).status_code == 200
    pings.clear()
    for _ in range(3):
        assert client.get(POINT).status_code == 200
    assert pings == []
    assert db.engine.pool._pre_ping is False  # and not the pool's SELECT 1 either


def test_a_connection_the_server_dropped_is_replaced_before_use(demo_app, client, pings):
    assert client.get(POINT).status_code == 200
    db.session.remove()  # the test's own connection back to the pool too
    victims = _backend_pids()
    assert victims
    admin = sa.create_engine(demo_app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for pid in victims:
            assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True
        for _ in range(50):  # until the server processes are gone
            if not conn.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"),
                               {"p": list(victims)}):
                break
    admin.dispose()
    page = client.get(POINT)
    assert page.status_code == 200, "not a 503: the dropped connection was not used"
    assert pings, "the dropped connection had something to read, so it was checked"
    assert not victims & _backend_pids()
