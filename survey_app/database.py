"""Database setup: SQLite gets WAL, a busy timeout and foreign keys on every connection.

The request's session is closed at the end of the app context by :func:`_close_session`,
which survives the database dying after the request's last statement (see there)."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .errors import OUTAGE_ERRORS, outage_log
from .extensions import db


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _close_session(exc: BaseException | None) -> None:
    """Close the context's session, even when the database went away after its last statement.

    A request that read something ends with a ROLLBACK when its session closes. If the
    server died meanwhile (restarted, crashed, the connection cut) that ROLLBACK raises, at
    teardown, after the view has answered: the page it rendered would be replaced by the
    WSGI server's bare 500. Nothing is lost by ignoring it: the server ends the transaction
    with the connection, and SQLAlchemy has discarded the connection from the pool. The
    session is dropped from the registry all the same, so no later context can get it.
    (Flask-SQLAlchemy's own teardown runs after this one and finds nothing left to close.)
    """
    try:
        db.session.remove()
    except OUTAGE_ERRORS as error:
        outage_log(current_app).record(current_app.logger, error, "closing a session")
        try:
            # Session.invalidate: close, invalidating the connection in use (its DBAPI
            # connection closed, errors ignored) instead of trying another ROLLBACK on it, so
            # no open driver connection is left for the garbage collector.
            db.session.invalidate()
        except Exception:  # noqa: BLE001  (the connection is gone; the session is discarded below)
            pass
        db.session.registry.clear()


def init_database(app: Flask) -> None:
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:///:memory:"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if uri.startswith("postgresql://"):
        # psycopg 3 is the driver we ship.
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    db.init_app(app)
    # Registered after Flask-SQLAlchemy's teardown, so it runs before it (Flask runs them in reverse).
    app.teardown_appcontext(_close_session)
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
