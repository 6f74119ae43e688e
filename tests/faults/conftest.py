"""Fixtures of the fault tests: a PostgreSQL cluster of the test's own, the app migrated
into it with the instruments and the demo campaigns loaded."""
from __future__ import annotations

import os
import secrets

import pytest

from faults.servers import PgCluster, flask_command, postgres_bin_dir

# Settings of the outer shell that must not leak into the servers under test.
LEAKY = ("DATABASE_URL", "RATELIMIT_STORAGE_URI", "RATELIMIT_TRY_REDIS", "HAILONG_ENV", "FLASK_ENV",
         "PUBLIC_BASE_URL", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS")


def server_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY and not k.startswith("RATELIMIT_")}
    env.update({"SECRET_KEY": secrets.token_hex(32), "PYTHONUNBUFFERED": "1"})
    env.update(settings)
    return env


@pytest.fixture(scope="module")
def cluster():
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) in PG_BIN, /usr/lib/postgresql/*/bin or PATH")
    pg = PgCluster(bin_dir)
    try:
        pg.init_and_start()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture(scope="module")
def demo_database(cluster):
    """The cluster's database as ``make run`` prepares one: migrated by Alembic, the
    instruments and the demo campaigns loaded (no history). Shared by a module's tests:
    each uses a service point of its own."""
    prepare_demo(cluster.url)
    return cluster


def prepare_demo(url: str) -> None:
    """The database at ``url`` as ``make run`` prepares one: migrated by Alembic, the
    instruments and the demo campaigns loaded (no history)."""
    env = server_env(DATABASE_URL=url)
    flask_command(env, "db", "upgrade", "heads")
    flask_command(env, "instruments", "load")
    flask_command(env, "demo", "load", "--no-history")
