"""Real servers for the fault tests: a PostgreSQL cluster of the test's own (never the
shared one on 5432), the app behind gunicorn with the project's ``gunicorn.conf.py``, and a
citizen's browser (cookies kept, redirects not followed)."""
from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
HIDDEN_RE = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------- PostgreSQL

def postgres_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: ``PG_BIN`` if set (``.ci/run`` sets it; the test fails
    if they are not there), else the newest /usr/lib/postgresql/<version>/bin, else the PATH."""
    if os.environ.get("PG_BIN"):
        path = Path(os.environ["PG_BIN"])
        if not ((path / "initdb").is_file() and (path / "pg_ctl").is_file()):
            pytest.fail(f"PG_BIN={path} has no initdb and pg_ctl")
        return path
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.glob("*/bin") if p.parent.name.isdigit()),
                      key=lambda p: int(p.parent.name), reverse=True) if root.is_dir() else []
    candidates = [*versions]
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).parent)
    for path in candidates:
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


class PgCluster:
    """A throwaway cluster in a temporary directory on a free port of 127.0.0.1.

    initdb refuses to run as root: as root the cluster belongs to the ``postgres`` system
    user (commands run through ``runuser``); as anyone else, to that user. Trust
    authentication, superuser ``postgres``; the socket lives in the cluster's directory."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hailong-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._as = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                pytest.skip("running as root without runuser: cannot run initdb as the postgres user")
            try:
                shutil.chown(self.dir, "postgres", "postgres")
            except (LookupError, PermissionError) as exc:
                pytest.skip(f"running as root and cannot hand a directory to the postgres user: {exc}")
            self._as = [runuser, "-u", "postgres", "--"]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/hailong"

    def _run(self, *args: str, timeout: float = 60) -> None:
        done = subprocess.run([*self._as, str(self.bin / args[0]), *args[1:]], capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stdout}{done.stderr}\n"
                               f"{self.server_log()[-2000:]}")

    def server_log(self) -> str:
        try:
            return self.log.read_text("utf-8", "replace")
        except OSError:
            return ""

    def init_and_start(self) -> None:
        # --no-sync: a throwaway cluster; fsync=off below, as the crashes here are the
        # server process's, not the machine's (the kernel keeps what was written).
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start")
        self.psql("CREATE DATABASE hailong")

    def psql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    def restart(self, mode: str) -> float:
        """Restart with shutdown ``mode`` (``fast``: backends terminated, a clean
        checkpoint; ``immediate``: every process killed, crash recovery on start). Returns
        the wall-clock time at which the server accepted a connection again."""
        import psycopg

        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", mode, "-W", "restart")
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2):
                    return time.time()
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the cluster did not come back:\n" + self.server_log()[-2000:])
                time.sleep(0.02)

    def hold_commits(self) -> None:
        """From now on every COMMIT that wrote something is flushed to the WAL and then
        waits for a synchronous standby that does not exist: committed on this server,
        never acknowledged to the app (the in-doubt window, held open)."""
        self.psql("ALTER SYSTEM SET synchronous_standby_names = 'no_such_standby'")
        self.psql("SELECT pg_reload_conf()")

    def waiting_commits(self) -> int:
        """How many backends are waiting in their COMMIT for that standby."""
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'").fetchone()[0]

    def release_on_next_start(self) -> None:
        """The next start has no synchronous standby (the running server keeps waiting)."""
        self.psql("ALTER SYSTEM RESET synchronous_standby_names")

    def destroy(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", timeout=30)
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------------------------------- the app

def flask_command(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def point_campaign(url: str, point: str) -> tuple[int, dict]:
    """The id and the instrument definition of the first campaign at service point ``point``,
    read from the database at ``url`` (SQLite or PostgreSQL) as the citizen page would serve it."""
    import json

    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            campaign_id, snapshot = conn.execute(text(
                "SELECT c.id, v.snapshot FROM campaign c JOIN campaign_unit cu ON cu.campaign_id = c.id "
                "JOIN unit u ON u.id = cu.unit_id JOIN instrument_version v ON v.id = c.instrument_version_id "
                "WHERE u.code = :code ORDER BY c.id LIMIT 1"), {"code": point}).one()
    finally:
        engine.dispose()
    return campaign_id, json.loads(snapshot) if isinstance(snapshot, str) else snapshot


class Gunicorn:
    """``gunicorn --config gunicorn.conf.py wsgi:app`` as ``make run`` serves it (plus any
    ``extra`` arguments), its output in files under ``log_dir``."""

    def __init__(self, env: dict[str, str], log_dir: Path, extra: tuple[str, ...] = ()):
        gunicorn = VENV_BIN / "gunicorn"
        if not gunicorn.exists():
            pytest.skip("gunicorn is not installed next to this Python")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stdout = log_dir / f"gunicorn-{self.port}.out"
        self.stderr = log_dir / f"gunicorn-{self.port}.err"
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.process = subprocess.Popen(
                [str(gunicorn), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}", *extra,
                 "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=err)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.base + "/", timeout=5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("gunicorn did not start:\n" + self.errors()[-3000:])
                time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        """The worker processes (the arbiter's children)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def errors(self) -> str:
        return self.stderr.read_text("utf-8", "replace") if self.stderr.exists() else ""

    def output(self) -> str:
        return self.stdout.read_text("utf-8", "replace") if self.stdout.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# ------------------------------------------------------------------------- the citizen

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str


class Browser:
    """One citizen's phone: its own cookies and user agent; 3xx answers are returned, not
    followed. A connection that fails gives status 0."""

    def __init__(self, base: str, user_agent: str):
        self.base = base
        self.user_agent = user_agent
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def request(self, path: str, data: dict[str, str] | None = None, timeout: float = 30) -> Reply:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers={"User-Agent": self.user_agent})
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return Reply(response.status, dict(response.headers), response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            with exc:
                return Reply(exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace"))
        except (OSError, http.client.HTTPException) as exc:
            return Reply(0, {}, f"{type(exc).__name__}: {exc}")


def hidden_fields(html: str) -> dict[str, str]:
    return dict(HIDDEN_RE.findall(html))
