"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``TEST_DATABASE_URL`` (``.ci/run`` sets it); each test gets a
schema of its own, dropped afterwards. Without the variable the PostgreSQL half is
skipped, and the skip says why.
"""
from __future__ import annotations

import contextvars
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from flask.globals import _cv_app
from flask.testing import FlaskClient

from survey_app import create_app
from survey_app.extensions import db

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgresql"]


def _pg_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


_TRIGRAM_READY = False


def _trigram_in_public(conn) -> None:
    """pg_trgm (the similar-petition suggestions) lives in ``public``, as on a real server:
    migration 0023 creates it where the search path points, which in a test is that test's
    schema, dropped with it. Created once per process; two workers racing is harmless."""
    global _TRIGRAM_READY
    if _TRIGRAM_READY:
        return
    try:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
    except sa.exc.DBAPIError:
        pass  # another worker made it a moment ago, or the server does not offer it (then: the fallback)
    _TRIGRAM_READY = True


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[tuple[str, dict]]:
    """A fresh, empty database: yields (URL, engine options)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}", {}
        return
    url = _pg_url()
    if not url:
        pytest.skip("PostgreSQL half skipped: TEST_DATABASE_URL is not set (.ci/run sets it)")
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        _trigram_in_public(conn)
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class IsolatedClient(FlaskClient):
    """Runs each request in an app context of its own, as a real server does.

    The tests hold an app context to read the database; without this the test client
    would reuse it, and ``g`` (the locale, later the logged-in user) would leak from one
    request into the next.
    """

    def open(self, *args, **kwargs):
        def run():
            _cv_app.set(None)
            return super(IsolatedClient, self).open(*args, **kwargs)

        return contextvars.copy_context().run(run)


def make_app(url: str, engine_options: dict, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-" + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "SURVEYS_DIR": str(ROOT / "surveys"),
        "RATELIMIT_ENABLED": False,
        # Tests submit at once; the ones about the minimum fill time set it themselves.
        "SURVEY_MIN_FILL_SECONDS": 0,
    }
    config.update(extra)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def empty_app(backend, tmp_path):
    """An app on an empty database (no tables)."""
    with database_url(backend, tmp_path) as (url, options):
        # instance/ of its own: the kept development key and demo address never leak in or out.
        app = make_app(url, options, INSTANCE_PATH=str(tmp_path / "instance"))
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(empty_app):
    """An app whose database has every table (created from the models; on PostgreSQL
    ``response`` and ``answer`` partitioned by month, as the migrations leave them)."""
    from survey_app.services.data import partitions

    with db.engine.begin() as connection:
        partitions.create_schema(connection)
    yield empty_app


@pytest.fixture
def demo_app(app):
    """An app with the shipped instruments and the demo tree loaded."""
    from survey_app.services.collect import instruments
    from survey_app.services.data import demo

    instruments.load_directory(db.session, ROOT / "surveys")
    demo.load_demo(db.session)
    return app


# Settings a variant app keeps from the test app (the same database, the same key).
INHERITED = ("TESTING", "SECRET_KEY", "INSTANCE_PATH", "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "SURVEYS_DIR",
             "RATELIMIT_ENABLED", "SURVEY_MIN_FILL_SECONDS")


def release_sessions() -> None:
    """Close every session of every app context (Flask-SQLAlchemy keeps one registry for
    all apps): a session of the test app that ran a statement while a variant's context
    was current holds a connection of the variant's engine (``db.engines`` is the current
    app's), which must go back to that pool before the pool is disposed, or it is left
    open for the garbage collector (a ResourceWarning in a later test)."""
    for session in list(db.session.registry.registry.values()):
        session.close()
    db.session.remove()


@pytest.fixture
def variant(demo_app):
    """A second app on the same database with other settings; its context is pushed."""
    made = []

    def make(**config):
        settings = {k: demo_app.config[k] for k in INHERITED}
        settings.update(config)
        app = create_app(settings)
        app.test_client_class = demo_app.test_client_class
        ctx = app.app_context()
        ctx.push()
        made.append(ctx)
        return app

    yield make
    for ctx in reversed(made):
        release_sessions()
        db.engine.dispose()
        ctx.pop()


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()
