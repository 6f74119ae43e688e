"""Backup and restore of the whole database, with the database's own tools.

- **SQLite**: the online backup API (``sqlite3.Connection.backup``), which copies a
  consistent snapshot page by page while the service keeps running; the backup is itself a
  SQLite file. Restore copies the file back into the live database the same way, in one
  step, so a reader sees either the old database or the restored one.
- **PostgreSQL**: ``pg_dump --format=custom`` of the schema the service's tables live in
  (``current_schema()``: ``public`` in a normal deployment), and ``pg_restore --clean
  --if-exists --single-transaction`` back into it, so a failed restore leaves the database
  as it was.

Both keep ``alembic_version``: a restored database is at the revision it was backed up at,
and ``flask --app wsgi db upgrade`` brings it forward. Nothing here reads or prints the
data; the summary is table names and row counts.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["BackupError", "Summary", "backup", "restore", "default_path", "table_counts"]

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    path: Path
    backend: str
    tables: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every table the service sees (its schema), by name."""
    inspector = sa.inspect(engine)
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for name in sorted(inspector.get_table_names()):
            counts[name] = conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
    return counts


def default_path(instance_path: str | os.PathLike, backend: str, now: datetime | None = None) -> Path:
    """``instance/backups/hailong-20261202T101500Z.sqlite3`` (or ``.dump`` on PostgreSQL)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if backend == "sqlite" else "dump"
    return Path(instance_path) / "backups" / f"hailong-{stamp}.{suffix}"


def _backend(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups are made for SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_file(engine: Engine) -> str:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("this SQLite database lives in memory: there is no file to back up or restore")
    return database


def _pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: from ``PG_BIN`` when set, else from ``PATH``."""
    pg_bin = os.environ.get("PG_BIN")
    candidate = str(Path(pg_bin) / name) if pg_bin else shutil.which(name)
    if not candidate or not Path(candidate).exists():
        raise BackupError(f"{name} was not found: install PostgreSQL's client tools or set PG_BIN")
    return candidate


def _pg_args(engine: Engine) -> tuple[list[str], dict[str, str], str]:
    """Connection arguments for the PostgreSQL tools, the environment, and the schema."""
    url = engine.url
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    args += ["--dbname", url.database or "postgres"]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    with engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    return args, env, schema


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BackupError(f"{Path(cmd[0]).name} failed: " + " / ".join(tail))


# What ``pg_restore --clean`` cannot drop: the keys and indexes a monthly partition inherits
# from its table (services/data/partitions.py); dropping the table drops them.
_INHERITED_DROP = re.compile(r"^(?:ALTER TABLE IF EXISTS ONLY \S+\.|DROP INDEX IF EXISTS \S+\.)"
                             r"(?:response|answer)_(?:p\d{4}_\d{2}|default)(?=[\s_;])")


def _restore_through_psql(tool: str, args: list[str], env: dict[str, str], source: Path) -> None:
    """``pg_restore --clean`` as a script, less the drops of what partitions inherit, run by
    ``psql`` in one transaction that stops at the first error: all or nothing, as before.
    Streamed (the script holds every row), never held in memory or written to disk."""
    with subprocess.Popen([tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--file", "-",
                           str(source)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as script, \
            subprocess.Popen([_pg_tool("psql"), *args, "--no-psqlrc", "--quiet", "--single-transaction",
                              "--set", "ON_ERROR_STOP=1", "--file", "-"], env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as psql:
        in_copy = False
        try:
            for line in script.stdout:
                if in_copy:
                    in_copy = line != b"\\.\n"
                elif line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
                    in_copy = True
                elif _INHERITED_DROP.match(line.decode("utf-8", "replace")):
                    continue
                psql.stdin.write(line)
            psql.stdin.close()
        except BrokenPipeError:
            pass  # psql stopped at an error: its message follows
        script_errors = script.stderr.read().decode("utf-8", "replace")
        errors = psql.stderr.read().decode("utf-8", "replace")
        script_failed, psql_failed = script.wait() != 0, psql.wait() != 0
    if script_failed:
        raise BackupError("pg_restore failed: " + " / ".join(script_errors.strip().splitlines()[-3:]))
    if psql_failed:
        raise BackupError("pg_restore failed: " + " / ".join(errors.strip().splitlines()[-3:]))


def backup(engine: Engine, path: str | os.PathLike) -> Summary:
    """Write a consistent copy of the database to ``path`` (which must not exist yet)."""
    backend = _backend(engine)
    target = Path(path)
    if target.exists():
        raise BackupError(f"{target} exists already: choose another file, a backup never overwrites one")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if backend == "sqlite":
            with sqlite3.connect(_sqlite_file(engine)) as src, sqlite3.connect(partial) as dst:
                src.backup(dst)
        else:
            args, env, schema = _pg_args(engine)
            _run([_pg_tool("pg_dump"), *args, "--format=custom", "--no-owner", "--no-privileges",
                  "--schema", schema, "--file", str(partial)], env)
        os.chmod(partial, 0o600)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return Summary(target, backend, table_counts(engine))


def _check_file(path: Path, backend: str) -> None:
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    with path.open("rb") as fh:
        head = fh.read(16)
    if backend == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite backup (this service runs on SQLite)")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if ok != "ok":
            raise BackupError(f"{path} is damaged (integrity check: {ok})")
        if "unit" not in tables:
            raise BackupError(f"{path} is a SQLite file but not a Hài Lòng database (it has no unit table)")
    elif not head.startswith(PGDUMP_MAGIC):
        raise BackupError(f"{path} is not a pg_dump archive (this service runs on PostgreSQL)")


def restore(engine: Engine, path: str | os.PathLike) -> Summary:
    """Replace the whole database with the backup at ``path``; all or nothing."""
    backend = _backend(engine)
    source = Path(path)
    _check_file(source, backend)
    engine.dispose()  # no pooled connection keeps the old database open
    if backend == "sqlite":
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, \
                sqlite3.connect(_sqlite_file(engine)) as dst:
            src.backup(dst)
    else:
        args, env, schema = _pg_args(engine)
        tool = _pg_tool("pg_restore")
        # The archive's schema must be the one the service uses: a dump of "public" restores
        # into "public" only. A mismatch is refused before anything is dropped.
        listing = subprocess.run([tool, "--list", str(source)], env=env, capture_output=True, text=True)
        if listing.returncode != 0:
            raise BackupError(f"{source} is not a readable pg_dump archive")
        schemas = set()
        # "217; 1259 16390 TABLE public unit postgres"; a monthly partition adds
        # "3811; 0 0 TABLE ATTACH public response_p2026_01 postgres"
        for line in listing.stdout.splitlines():
            words = line.split()
            if not line.startswith(";") and len(words) > 5 and words[3] == "TABLE" and words[4] not in ("DATA", "ATTACH"):
                schemas.add(words[4])
        if schemas and schemas != {schema}:
            raise BackupError(f"{source} holds schema {', '.join(sorted(schemas))}, "
                              f"but this service uses {schema}")
        _restore_through_psql(tool, args, env, source)
    engine.dispose()
    return Summary(source, backend, table_counts(engine))
