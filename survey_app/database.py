"""Database setup: SQLite gets WAL, a busy timeout and foreign keys on every connection;
PostgreSQL connections are checked on checkout without a round trip (:func:`_ping_if_spoken`).
The pool sizes and PostgreSQL's ``statement_timeout`` come from the ``DB_*`` settings
(:func:`engine_options`).

The request's session is closed at the end of the app context by :func:`_close_session`,
which survives the database dying after the request's last statement (see there)."""
from __future__ import annotations

import os
import select
from pathlib import Path

from typing import Any, Mapping

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url

from .errors import OUTAGE_ERRORS, outage_log
from .extensions import db


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _ping_if_spoken(engine: Engine):
    """A pool ``checkout`` listener for PostgreSQL, in place of ``pool_pre_ping``: the same
    outcome without a round trip for a healthy connection.

    The pool's pre-ping sends ``SELECT 1`` at every checkout, one round trip per request
    before any work (on a loaded machine, a wait for the server process to be scheduled).
    But an idle connection that the server has dropped (a restart, a crash, a terminated
    backend, an idle timeout) has had something sent to it: the server's last message and
    the end of the stream, which the kernel delivers even when the server process was
    killed. So a pooled connection whose socket has nothing to read is as the server left
    it after the last request, and is used as it is; one that has something to read gets
    the pre-ping's own check (``dialect.do_ping``, which also consumes an unsolicited
    message such as a parameter change), and if that fails the pool is invalidated and a
    fresh connection taken, exactly as the pre-ping does. The pre-ping's setting
    (``pool_pre_ping``, on by default) turns this on instead."""
    dialect = engine.dialect

    def check(dbapi_connection, connection_record, connection_proxy) -> None:
        try:
            poller = select.poll()  # not select.select: no limit on the descriptor's number
            poller.register(dbapi_connection.fileno(), select.POLLIN)
            spoken = bool(poller.poll(0))  # readable, hung up or in error
        except (OSError, ValueError, dialect.loaded_dbapi.Error):  # closed on our side
            raise sa_exc.InvalidatePoolError("the connection is closed") from None
        if spoken:
            try:
                dialect.do_ping(dbapi_connection)
            except dialect.loaded_dbapi.Error as error:
                raise sa_exc.InvalidatePoolError(f"the server closed the connection: {error}") from error

    return check


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


def engine_options(options: Mapping[str, Any], uri: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """``SQLALCHEMY_ENGINE_OPTIONS`` with the ``DB_*`` settings of ``settings`` applied (a
    new dict; the settings win over the same keys, unset ones leave SQLAlchemy's defaults).

    ``DB_POOL_SIZE``, ``DB_MAX_OVERFLOW``, ``DB_POOL_RECYCLE_SECONDS``: the pool's
    ``pool_size``, ``max_overflow``, ``pool_recycle`` (not for an in-memory SQLite, which
    has one static connection). ``DB_STATEMENT_TIMEOUT_MS`` (PostgreSQL only; 0 or unset:
    none): ``-c statement_timeout=N`` added to the connection's ``options``, after the
    options that apply already (``connect_args``' if any, else the URL's ``?options=``,
    such as a ``search_path``), so both hold."""
    out = dict(options)
    url = make_url(uri)
    backend = url.get_backend_name()
    in_memory = backend == "sqlite" and url.database in (None, "", ":memory:")
    if not in_memory:
        for key, name in (("pool_size", "DB_POOL_SIZE"), ("max_overflow", "DB_MAX_OVERFLOW"),
                          ("pool_recycle", "DB_POOL_RECYCLE_SECONDS")):
            if settings.get(name) is not None:
                out[key] = int(settings[name])
    timeout = settings.get("DB_STATEMENT_TIMEOUT_MS")
    if backend == "postgresql" and timeout:
        connect_args = dict(out.get("connect_args") or {})
        before = connect_args.get("options")
        if before is None:  # connect_args' options replace the URL's: only one of them applies
            before = url.query.get("options")
            if isinstance(before, tuple):
                before = " ".join(before)
        connect_args["options"] = " ".join(filter(None, [before, f"-c statement_timeout={int(timeout)}"]))
        out["connect_args"] = connect_args
    return out


def init_database(app: Flask) -> None:
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:///:memory:"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = with_driver(uri)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {},
                                                             app.config["SQLALCHEMY_DATABASE_URI"], app.config)
    db.init_app(app)
    # Registered after Flask-SQLAlchemy's teardown, so it runs before it (Flask runs them in reverse).
    app.teardown_appcontext(_close_session)
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        if engine.dialect.name == "postgresql" and engine.pool._pre_ping:
            # The pool's pre-ping setting stays what turns the check on; the pool (SQLAlchemy
            # 2.1, pinned) keeps it in ``_pre_ping`` and has no public switch.
            engine.pool._pre_ping = False
            event.listen(engine, "checkout", _ping_if_spoken(engine))


# ------------------------------------------------------------------ the read replica

REPLICA = "hailong.replica"


def with_driver(uri: str) -> str:
    """``postgresql://`` URLs with the driver we ship (psycopg 3); others unchanged."""
    return "postgresql+psycopg://" + uri.removeprefix("postgresql://") if uri.startswith("postgresql://") else uri


def init_replica(app: Flask) -> None:
    """The engine of ``DATABASE_REPLICA_URL`` (none when unset): report reads go there
    through :func:`read_session`. Its connections are opened read-only
    (``default_transaction_read_only``), so nothing can write through it even when it points
    at a primary; a real streaming standby refuses writes anyway. Same ``DB_*`` pool and
    timeout settings as the primary. No connection is opened here."""
    uri = app.config.get("DATABASE_REPLICA_URL")
    if not uri:
        return
    from sqlalchemy import create_engine

    uri = with_driver(uri)
    url = make_url(uri)
    options = {"pool_pre_ping": True}
    if url.get_backend_name() == "postgresql":
        before = url.query.get("options")
        if isinstance(before, tuple):
            before = " ".join(before)
        options["connect_args"] = {"options": " ".join(filter(None, [before, "-c default_transaction_read_only=on"]))}
    engine = create_engine(uri, **engine_options(options, uri, app.config))
    if engine.dialect.name == "postgresql":
        engine.pool._pre_ping = False  # the same cheap check as the primary's (init_database)
        event.listen(engine, "checkout", _ping_if_spoken(engine))
    elif engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    app.extensions[REPLICA] = engine
    app.teardown_appcontext(_close_replica_session)


def replica_engine(app: Flask | None = None) -> Engine | None:
    return (app or current_app).extensions.get(REPLICA)


def read_session():
    """The session for what only reads reports: on the replica when one is configured and
    answers, else the request's own ``db.session``.

    The replica's session carries ``info["primary"]``, the request's session: what must
    write (the rollup catch-up, ``services/reports/rollup.py``) writes there, and the
    reads then see it once the replica has replayed it (streaming replication: well under
    a second). A replica that does not answer is logged once per burst (like an outage)
    and the report is read from the primary: slower, never wrong."""
    from flask import g
    from sqlalchemy.orm import Session

    engine = replica_engine()
    if engine is None:
        return db.session
    session = g.get("_hailong_replica_session")
    if session is not None:
        return session
    session = Session(bind=engine, info={"replica": True, "primary": db.session()}, autoflush=False)
    try:
        session.connection()  # a connection now: a replica that is down is found here, not mid-report
    except OUTAGE_ERRORS as error:
        session.close()
        _log_replica_down(error)
        g._hailong_replica_session = db.session
        return db.session
    g._hailong_replica_session = session
    return session


def _log_replica_down(error: BaseException) -> None:
    """One warning a minute at most per process while the replica does not answer."""
    import time

    state = current_app.extensions.setdefault("hailong.replica_down", {"last": float("-inf"), "missed": 0})
    now = time.monotonic()
    state["missed"] += 1
    if now - state["last"] >= 60:
        cause = getattr(error, "orig", None) or error
        current_app.logger.warning("read replica unavailable (%s: %s); reports read from the primary (%d time(s) "
                                   "since the last line)", type(cause).__name__,
                                   (str(cause).strip().splitlines() or [""])[0][:200], state["missed"])
        state["last"], state["missed"] = now, 0


def _close_replica_session(exc: BaseException | None) -> None:
    from flask import g

    session = g.pop("_hailong_replica_session", None)
    if session is None or session is db.session:
        return
    try:
        session.close()
    except OUTAGE_ERRORS:
        session.invalidate()
