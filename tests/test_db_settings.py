"""The database settings of a deployment (docs/DEPLOY.md): pool sizes and PostgreSQL's
statement_timeout (``DB_*``, survey_app/database.py:engine_options), and a statement the
server cancels answers 503 with Retry-After, like an outage, never a bare 500."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from conftest import database_url, make_app
from survey_app.config import ConfigError, load_settings
from survey_app.database import engine_options
from survey_app.extensions import db

PG = "postgresql+psycopg://hl@db.example/hailong"


def test_unset_keeps_sqlalchemys_defaults_and_no_timeout():
    settings = load_settings({})
    assert [settings[k] for k in ("DB_POOL_SIZE", "DB_MAX_OVERFLOW", "DB_POOL_RECYCLE_SECONDS",
                                  "DB_STATEMENT_TIMEOUT_MS")] == [None, None, None, None]
    assert engine_options(settings["SQLALCHEMY_ENGINE_OPTIONS"], PG, settings) == {"pool_pre_ping": True}
    app = make_app("sqlite://", {})
    with app.app_context():
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {}


def test_the_settings_are_parsed_and_applied():
    settings = load_settings({"DB_POOL_SIZE": "8", "DB_MAX_OVERFLOW": "0", "DB_POOL_RECYCLE_SECONDS": "1800",
                              "DB_STATEMENT_TIMEOUT_MS": "15000"})
    assert engine_options({"pool_pre_ping": True}, PG, settings) == {
        "pool_pre_ping": True, "pool_size": 8, "max_overflow": 0, "pool_recycle": 1800,
        "connect_args": {"options": "-c statement_timeout=15000"}}
    # 0: no statement timeout, as PostgreSQL reads it
    assert "connect_args" not in engine_options({}, PG, load_settings({"DB_STATEMENT_TIMEOUT_MS": "0"}))


def test_the_timeout_is_added_to_the_search_path_not_in_place_of_it():
    settings = {"DB_STATEMENT_TIMEOUT_MS": 500}
    # the tests' own options (conftest.database_url)
    given = {"connect_args": {"options": "-csearch_path=t_abc", "connect_timeout": 3}, "pool_pre_ping": True}
    merged = engine_options(given, PG, settings)
    assert merged["connect_args"] == {"options": "-csearch_path=t_abc -c statement_timeout=500", "connect_timeout": 3}
    assert given["connect_args"]["options"] == "-csearch_path=t_abc", "the caller's options are not changed"
    # a search_path in the URL (a DATABASE_URL for another process)
    url = PG + "?options=-csearch_path%3Dt_abc"
    assert engine_options({}, url, settings)["connect_args"]["options"] == "-csearch_path=t_abc -c statement_timeout=500"


def test_sqlite_ignores_the_timeout_and_an_in_memory_one_the_pool():
    settings = {"DB_STATEMENT_TIMEOUT_MS": 500, "DB_POOL_SIZE": 3, "DB_MAX_OVERFLOW": 2, "DB_POOL_RECYCLE_SECONDS": 60}
    assert engine_options({}, "sqlite:////srv/hailong.sqlite3", settings) == {
        "pool_size": 3, "max_overflow": 2, "pool_recycle": 60}
    assert engine_options({}, "sqlite://", settings) == {}
    app = make_app("sqlite://", {}, **settings)  # starts and answers: the static pool takes no size
    with app.test_client().get("/") as page:
        assert page.status_code == 200


@pytest.mark.parametrize("name, raw, message", [
    ("DB_POOL_SIZE", "ten", "DB_POOL_SIZE must be a whole number of connections, not 'ten'"),
    ("DB_POOL_SIZE", "0", "DB_POOL_SIZE must be at least 1, not 0"),
    ("DB_MAX_OVERFLOW", "-1", "DB_MAX_OVERFLOW must be a whole number of connections, not '-1'"),
    ("DB_POOL_RECYCLE_SECONDS", "0", "DB_POOL_RECYCLE_SECONDS must be at least 1, not 0"),
    ("DB_POOL_RECYCLE_SECONDS", "30m", "DB_POOL_RECYCLE_SECONDS must be a whole number of seconds, not '30m'"),
    ("DB_STATEMENT_TIMEOUT_MS", "30s",
     "DB_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds (30000 for 30 s), not '30s'"),
    ("DB_STATEMENT_TIMEOUT_MS", "1.5", "DB_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds"),
])
def test_a_bad_value_stops_the_start_with_a_clear_message(name, raw, message):
    with pytest.raises(ConfigError) as caught:
        load_settings({name: raw})
    assert message in str(caught.value)


@pytest.fixture
def pg_timed(tmp_path):
    """An app on PostgreSQL with a 300 ms statement timeout, and a page whose statement takes 2 s."""
    with database_url("postgresql", tmp_path) as (url, options):
        # The tables first, without the timeout: on a loaded machine a CREATE TABLE can take
        # longer than 300 ms, and the test is about requests, not about building the schema.
        builder = sa.create_engine(url, **options)
        try:
            db.Model.metadata.create_all(builder)
        finally:
            builder.dispose()
        app = make_app(url, options, DB_STATEMENT_TIMEOUT_MS=300, DB_RETRY_AFTER_SECONDS=7)

        def slow():
            db.session.execute(sa.text("SELECT pg_sleep(2)"))
            return "done"

        app.add_url_rule("/slow-statement", "slow_statement", slow)
        with app.app_context():
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()


def test_the_timeout_reaches_the_server_with_the_schema(pg_timed):
    with db.engine.connect() as conn:
        assert conn.scalar(sa.text("SHOW statement_timeout")) == "300ms"
        assert conn.scalar(sa.text("SELECT current_schema()")).startswith("t_")


def test_a_canceled_statement_is_a_503_with_retry_after(pg_timed, caplog):
    client = pg_timed.test_client()
    with client.get("/slow-statement") as page:
        assert page.status_code == 503, page.get_data(as_text=True)[:300]
        assert page.headers["Retry-After"] == "7"
        assert "Tạm thời gián đoạn" in page.get_data(as_text=True)
    with client.get("/slow-statement", headers={"Accept": "application/json"}) as api:
        assert api.status_code == 503 and api.get_json()["error"]["status"] == 503
    assert any("QueryCanceled" in r.getMessage() and "statement timeout" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    # the connection was rolled back and works for the next request
    with db.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT 1")) == 1
    with client.get("/") as home:
        assert home.status_code == 200
