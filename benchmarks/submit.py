"""Submission benchmark: the real app against a bare Flask + SQLAlchemy app doing the same
essential work (``benchmarks/bare_app.py``), on SQLite and on PostgreSQL.

For each database it

1. creates two fresh databases, one per app: SQLite files in a temporary folder, or
   ``hailong_submit_<pid>`` (real) and ``hailong_submit_<pid>_bare`` on the server of
   ``--pg-url``; both are dropped at the end, also after an error;
2. sets the real app up as an operator would: ``flask db upgrade heads``, ``flask
   instruments load``, then a province › commune › two one-stop points (poster codes
   ``bench01``, ``bench02``) and an open SIPAS campaign through the app's services;
3. starts both apps under gunicorn with the same settings (``--workers`` sync workers, no
   access log), the real app with its rate limits raised by environment for the run and
   ``SURVEY_MIN_FILL_SECONDS=0`` (every trust check still runs);
4. drives both with one client (threads, raw HTTP/1.1, a new connection per request, as
   gunicorn's sync workers close it anyway), alternating real / bare phases round by round
   so a change in machine load hits both:
   - **GET+POST pairs** at ``bench01``: each pair is a new phone (its own user agent):
     GET the survey page, take the CSRF token, the signed form token and the form's action
     from the HTML (real app), POST a full SIPAS answer set with random levels and
     sometimes a comment, with the session cookie of the GET; a 303 is a stored answer;
   - **GET alone** of the survey page;
5. checks that the rows stored equal the redirects received, in both databases;
6. runs the **stuffing** case on the real app: one device (one user agent) sends the same
   answers to ``bench02`` over and over, each pair followed by a control pair (a new
   phone with varied answers at ``bench01``); it prints the median POST time around the
   500th and around the 5,000th stored response, the control's at the same moments, and
   how many of the stuffed responses were flagged suspect.

Not part of the test run (``pyproject.toml`` collects only ``tests/``)::

    .venv/bin/python benchmarks/submit.py                      # both databases
    .venv/bin/python benchmarks/submit.py --backend sqlite     # one
    .venv/bin/python benchmarks/submit.py --backend postgresql --preload-answers 20000000
                                           # the same with 20 M answers stored before the run
    .venv/bin/python benchmarks/submit.py --backend postgresql --preload-answers 9600000 \
                                          --grow-preload 20000000
                                           # 9.6 M, then the same database grown to 20 M: one run

``--preload-answers N`` (PostgreSQL) writes N answers (N / 20 responses, 24 months of them at
102 points, ending before last month) into the real app's partitioned tables
before the apps start (:func:`preload`); the bare app's database stays empty: its figure is
the floor the real app is measured against in the same run. ``--grow-preload M`` (repeatable)
then deletes the rounds' own rows from both databases, grows the real app's preloaded
answers to M at the same points and months, restarts both apps and runs the same rounds
again: one column per size, each with its own floor (the stuffing case at the first size only).

The exit status is 1 if a check fails (rows ≠ redirects, stuffing not flagged).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlencode

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
for path in (ROOT, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import bare_app  # noqa: E402

HIDDEN_RE = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
ACTION_RE = re.compile(r'<form method="post" action="([^"]+)"')
COMMENTS = ["", "", "", "Cán bộ nhiệt tình, chu đáo.", "Thời gian chờ hơi lâu.", "Thủ tục rõ ràng.",
            "Cần thêm ghế ngồi chờ."]
POINT, STUFFED_POINT = "bench01", "bench02"
PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- HTTP client

@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def cookies(self) -> str:
        pairs = [v.split(";", 1)[0] for k, v in self.headers if k == "set-cookie"]
        return "; ".join(pairs)


def phone_address(ua: str) -> str:
    """The loopback address a phone connects from: each phone (user agent) its own one in
    127.0.0.0/8 (Linux accepts any of them as a source), so the app sees distinct addresses
    as it would from real phones, and its per-address limits and flags see one sender per
    phone, not the whole benchmark as one."""
    n = zlib.crc32(ua.encode()) % (250 * 250) + 1
    return f"127.1.{n // 250}.{n % 250 + 1}"


def http(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Reply:
    """One request on a new connection; reads the reply to the end (the server closes)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    source = (phone_address(headers["User-Agent"]), 0) if "User-Agent" in headers else None
    with socket.create_connection(("127.0.0.1", port), timeout=60, source_address=source) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _sep, content = data.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    status = int(head_lines[0].split(" ", 2)[1])
    parsed = []
    for line in head_lines[1:]:
        name, _colon, value = line.partition(":")
        parsed.append((name.strip().lower(), value.strip()))
    return Reply(status, parsed, content)


def answer_form(rng: random.Random, keys: list[str], comment_key: str | None) -> dict[str, str]:
    """A full SIPAS answer set with random levels (mostly satisfied) and sometimes a comment."""
    form = {f"q_{k}": str(rng.choices((1, 2, 3, 4, 5), (1, 2, 4, 8, 8))[0]) for k in keys}
    if comment_key:
        form[f"q_{comment_key}"] = rng.choice(COMMENTS)
    return form


@dataclass
class Target:
    """One app under test: how to make a pair and a GET against it."""

    name: str
    port: int
    real: bool

    def get(self, ua: str, path: str) -> Reply:
        return http(self.port, "GET", path, {"User-Agent": ua, "Accept-Language": "vi"})

    def pair(self, ua: str, path: str, answers: dict[str, str]) -> tuple[bool, float]:
        """GET the form, POST the answers; (stored?, seconds the POST took)."""
        page = self.get(ua, path)
        if page.status != 200:
            return False, 0.0
        html = page.body.decode("utf-8")
        fields = dict(HIDDEN_RE.findall(html))
        action = ACTION_RE.search(html).group(1).replace("&amp;", "&")
        if self.real and not ("csrf_token" in fields and "form_token" in fields):
            raise RuntimeError("the real app's page has no CSRF or form token")
        headers = {"User-Agent": ua}
        if page.cookies():
            headers["Cookie"] = page.cookies()
        started = time.perf_counter()
        sent = http(self.port, "POST", action, headers, urlencode({**fields, **answers}).encode())
        return sent.status == 303, time.perf_counter() - started


@dataclass
class Tally:
    seconds: float = 0.0
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)

    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_phase(n: int, threads: int, work: Callable[[int], bool], tally: Tally) -> None:
    """``n`` calls of ``work(i)`` spread over ``threads`` threads; adds to ``tally``."""
    counter = iter(range(n))
    lock = threading.Lock()
    latencies: list[float] = []
    results = {"ok": 0, "failed": 0}

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            started = time.perf_counter()
            ok = work(i)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                results["ok" if ok else "failed"] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    tally.seconds += time.perf_counter() - started
    tally.ok += results["ok"]
    tally.failed += results["failed"]
    tally.latencies.extend(latencies)


# --------------------------------------------------------------------------- databases

@contextmanager
def databases(backend: str, pg_url: str, tmp: Path) -> Iterator[tuple[str, str]]:
    """(real URL, bare URL): fresh, and removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'real.sqlite3'}", f"sqlite:///{tmp / 'bare.sqlite3'}"
        return
    names = [f"hailong_submit_{os.getpid()}", f"hailong_submit_{os.getpid()}_bare"]
    admin = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = pg_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        log(f"dropped {', '.join(names)}")


# autovacuum's defaults (PostgreSQL 15 documentation, "The Autovacuum Daemon")
AUTOVACUUM_NAPTIME = 60.0
AUTOVACUUM_RULES = """
SELECT c.relname,
       s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0)
         OR s.n_ins_since_vacuum > 1000 + 0.2 * greatest(c.reltuples, 0) AS vacuum,
       s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0) AS analyze
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
"""


@contextmanager
def autovacuum_stand_in(backend: str, urls: tuple[str, ...]) -> Iterator[list[str]]:
    """What PostgreSQL's autovacuum would do during the run, when the server has it off.

    Production servers run autovacuum (PostgreSQL's default). This machine's server has
    ``autovacuum = off`` (``/etc/postgresql/15/main/conf.d/90-ci.conf``), so a fresh
    database is never analysed: with ``reltuples = -1`` the planner takes the tables for
    empty and counts a device's or an answer set's responses through whichever index comes
    first, reading the point's whole window (a per-POST cost that grows with the run). When
    ``SHOW autovacuum`` says ``off``, a thread does autovacuum's work on both apps'
    databases alike: every ``autovacuum_naptime`` (60 s) it VACUUMs and ANALYZEs each table
    past autovacuum's default thresholds (dead or inserted rows for VACUUM, changed rows for
    ANALYZE, 50 or 1,000 plus a share of the table). Yields the log of what it ran."""
    done: list[str] = []
    if backend != "postgresql":
        yield done
        return
    engines = [sa.create_engine(sa_url(url), isolation_level="AUTOCOMMIT", pool_size=1) for url in urls]
    with engines[0].connect() as conn:
        off = conn.execute(sa.text("SHOW autovacuum")).scalar_one() == "off"
    stop = threading.Event()

    def work() -> None:
        started = time.perf_counter()
        while not stop.wait(AUTOVACUUM_NAPTIME):
            for engine in engines:
                with engine.connect() as conn:
                    for table, vacuum, analyze in conn.execute(sa.text(AUTOVACUUM_RULES)).all():
                        if vacuum or analyze:
                            what = "VACUUM ANALYZE" if vacuum else "ANALYZE"
                            conn.execute(sa.text(f'{what} "{table}"'))
                            done.append(f"{time.perf_counter() - started:.0f} s {what} {engine.url.database}.{table}")

    thread = threading.Thread(target=work, daemon=True) if off else None
    if thread is not None:
        log(f"{backend}: the server runs with autovacuum = off; the benchmark does its work every "
            f"{AUTOVACUUM_NAPTIME:.0f} s on both databases")
        thread.start()
    try:
        yield done
    finally:
        stop.set()
        if thread is not None:
            thread.join()
        for engine in engines:
            engine.dispose()


def sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def real_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SURVEY_", "RATELIMIT_", "DATABASE_URL"))}
    env.update({
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        # The trust checks all run; the limits that would refuse a benchmark's traffic are raised.
        "SURVEY_MIN_FILL_SECONDS": "0",
        "RATELIMIT_SURVEY_DEVICE": "1000000 per minute",
        "RATELIMIT_SURVEY_ADDRESS": "1000000 per minute",
        "RATELIMIT_SURVEY_POINT": "1000000 per minute",
        # Since issue #15 the poster's device and address limits only flag; these refuse a flood.
        "RATELIMIT_SURVEY_FLOOD_DEVICE": "1000000 per minute",
        "RATELIMIT_SURVEY_FLOOD_ADDRESS": "1000000 per minute",
        "PYTHONPATH": str(ROOT),
    })
    return env


def set_up_real(url: str, env: dict[str, str]) -> tuple[list[str], str | None]:
    """Schema, instruments, two points and an open SIPAS campaign; the scale keys and the comment key."""
    flask = str(VENV_BIN / "flask")
    for command in (["db", "upgrade", "heads"], ["instruments", "load"]):
        subprocess.run([flask, "--app", "wsgi", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.models import Campaign
    from survey_app.services.collect import instruments
    from survey_app.services.officials.units import create_unit

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["SECRET_KEY"]})
    with app.app_context():
        version = instruments.latest_version(db.session, "sipas")
        vn = create_unit(db.session, None, "vn", "admin", "Việt Nam", "Viet Nam")
        qt = create_unit(db.session, vn, "qt", "admin", "Tỉnh Quảng Trị", "Quang Tri Province")
        ward = create_unit(db.session, qt, "p-dong-ha", "admin", "Phường Đông Hà", "Dong Ha Ward")
        points = [create_unit(db.session, ward, f"mot-cua-{i}", "one_stop", f"Bộ phận Một cửa {i}",
                              f"One-stop counter {i}", code) for i, code in enumerate((POINT, STUFFED_POINT), 1)]
        db.session.add(Campaign(name="SIPAS benchmark", instrument_version=version, access_mode="open",
                                status="open", starts_at=datetime.now(timezone.utc) - timedelta(days=1),
                                units=points))
        db.session.commit()
        questions = version.snapshot["questions"]
        keys = [q["key"] for q in questions if q["type"] == "scale"]
        comment = next((q["key"] for q in questions if q["type"] in ("text", "longtext")), None)
        db.session.remove()
        db.engine.dispose()
    return keys, comment


PRELOAD_POINTS = 100
PRELOAD_MONTHS = 24


def preload(url: str, answers: int, *, grow: bool = False) -> dict[str, float]:
    """PostgreSQL: ``answers`` stored answers already there before the run (20 a response: the
    19 SIPAS levels and a comment), as a service two years in holds them: at 100 other one-stop
    points of the same campaign and at the two measured ones, over the 24 whole months before
    last month (so the abuse checks' windows hold only the run's own rows, as in the run
    without them). Written by ``report.py``'s bulk path (``COPY``, the secondary indexes and
    foreign keys of ``response`` and ``answer`` built again after it, as defined) into the
    monthly partitions made first; then ``VACUUM ANALYZE``. ``grow``: the points are there
    from an earlier preload; ``answers`` more are added at the same points and months."""
    import numpy as np

    import report as report_bench
    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.models import Campaign, Unit
    from survey_app.services.collect import instruments
    from survey_app.services.data import partitions
    from survey_app.services.officials.units import create_unit

    app = create_app({"SQLALCHEMY_DATABASE_URI": sa_url(url), "SECRET_KEY": secrets.token_hex(32)})
    took: dict[str, float] = {}
    with app.app_context():
        started = time.perf_counter()
        version = instruments.latest_version(db.session, "sipas")
        campaign = db.session.scalars(sa.select(Campaign)).one()
        if not grow:
            ward = db.session.scalars(sa.select(Unit).where(Unit.slug == "p-dong-ha")).one()
            others = [create_unit(db.session, ward, f"pre-{i:03d}", "one_stop", f"Điểm {i}", f"Point {i}",
                                  f"pre{i:03d}") for i in range(PRELOAD_POINTS)]
            campaign.units.extend(others)
            db.session.commit()
        unit_ids = sorted(u.id for u in campaign.units)
        keys = [q["key"] for q in version.snapshot["questions"] if q["type"] == "scale"]
        first = report_bench.month_start(partitions.month_start(datetime.now(timezone.utc)), -(PRELOAD_MONTHS + 1))
        partitions.create_months(db.session, first, report_bench.month_start(first, PRELOAD_MONTHS))
        per_month = max(1, round(answers / (len(keys) + 1) / len(unit_ids) / PRELOAD_MONTHS))
        plan = report_bench.Plan(campaign_id=campaign.id, version_id=version.id, unit_ids=unit_ids, scale_keys=keys,
                                 start=first, months=PRELOAD_MONTHS, per_month=per_month,
                                 rng=np.random.default_rng(20261203 + grow))
        plan.next_response_id = (db.session.scalar(sa.text("SELECT max(id) FROM response")) or 0) + 1
        plan.next_answer_id = (db.session.scalar(sa.text("SELECT max(id) FROM answer")) or 0) + 1
        first_answer = plan.next_answer_id
        report_bench.write_batches(report_bench.all_batches(plan), plan, defer_indexes=True)
        took["load_s"] = time.perf_counter() - started
        took["written"] = plan.next_answer_id - first_answer
        took["responses"] = db.session.scalar(sa.text("SELECT count(*) FROM response"))
        took["answers"] = db.session.scalar(sa.text("SELECT count(*) FROM answer"))
        took["partitions"] = len(partitions.list_partitions(db.session))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            started = time.perf_counter()
            conn.execute(sa.text("VACUUM ANALYZE"))
            took["vacuum_s"] = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return took


def clear_run_rows(real_url: str, bare_url: str) -> dict[str, int]:
    """Between two sizes: the rows the measured rounds and the stuffing stored go, in both
    databases (the preloaded ones, keyed ``bench-…``, stay), so the next size's rounds start
    as the first did: the abuse checks' windows hold only that size's own rows."""
    gone = {}
    for name, url, sql in (
        ("real", real_url, "DELETE FROM response WHERE idempotency_key NOT LIKE 'bench-%'"),
        ("bare", bare_url, "DELETE FROM bare_response"),
    ):
        engine = sa.create_engine(sa_url(url))
        with engine.begin() as conn:
            gone[name] = conn.execute(sa.text(sql)).rowcount
        engine.dispose()
    return gone


GUNICORN_CONF = """workers = {workers}
worker_class = "sync"
accesslog = None
errorlog = {errorlog!r}
loglevel = "warning"
"""


@contextmanager
def gunicorn(name: str, app: str, port: int, env: dict[str, str], cwd: Path, tmp: Path, workers: int) -> Iterator[None]:
    conf = tmp / f"gunicorn-{name}.conf.py"
    conf.write_text(GUNICORN_CONF.format(workers=workers, errorlog=str(tmp / f"gunicorn-{name}.log")))
    process = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-c", str(conf), "-b", f"127.0.0.1:{port}", app],
                               cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if http(port, "GET", f"/s/{POINT}", {"User-Agent": "warm-up"}).status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{name} did not start; see {tmp / f'gunicorn-{name}.log'}")
            time.sleep(0.2)
        for i in range(20 * workers):  # every worker imports and warms up
            http(port, "GET", f"/s/{POINT}", {"User-Agent": f"warm-up {i}"})
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- the run

@dataclass
class Result:
    backend: str
    pairs: dict[str, Tally]
    gets: dict[str, Tally]
    stored: dict[str, int]
    stuffing: dict[str, float]
    client_cpu: float
    wall: float
    preloaded: dict = field(default_factory=dict)
    load: tuple[tuple[float, ...], ...] = ()  # load average before and after the rounds
    label: str = ""


def measure(backend: str, args: argparse.Namespace) -> list[Result]:
    """One result per preload size (``--preload-answers``, then each ``--grow-preload``), all
    on the same two databases: the real app's grown between sizes, the bare app's kept empty
    of preloaded rows (the floor), the rounds' own rows cleared from both between sizes."""
    sizes = [args.preload_answers, *args.grow_preload]
    tmp = Path(tempfile.mkdtemp(prefix="hailong-submit-"))
    results = []
    try:
        with ExitStack() as outer:
            real_url, bare_url = outer.enter_context(databases(backend, args.pg_url, tmp))
            env = real_env(real_url)
            log(f"{backend}: setting up the real app (flask db upgrade heads, flask instruments load, points, campaign)")
            keys, comment = set_up_real(real_url, env)
            bare_app.create_tables(sa_url(bare_url))
            bare_env = {**os.environ, "BARE_DATABASE_URL": sa_url(bare_url)}
            loaded = 0
            for size_no, size in enumerate(sizes):
                preloaded = {}
                if size > loaded:
                    if backend != "postgresql":
                        raise SystemExit("--preload-answers is for PostgreSQL (its partitioned tables)")
                    if size_no:
                        gone = clear_run_rows(real_url, bare_url)
                        log(f"{backend}: the last size's own rows deleted (real {gone['real']:,}, bare {gone['bare']:,})")
                    log(f"{backend}: preloading {size - loaded:,} answers" + (f" (to {size:,})" if loaded else ""))
                    preloaded = preload(real_url, size - loaded, grow=loaded > 0)
                    loaded += preloaded["written"]
                    log(f"{backend}: preloaded {preloaded['responses']:,.0f} responses / {preloaded['answers']:,.0f} "
                        f"answers in {preloaded['load_s']:.0f} s (+ VACUUM ANALYZE {preloaded['vacuum_s']:.0f} s)")
                results.append(measure_size(backend, args, env, bare_env, real_url, bare_url, keys, comment, tmp,
                                            preloaded, stuffing=size_no == 0))
            return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure_size(backend: str, args: argparse.Namespace, env: dict[str, str], bare_env: dict[str, str],
                 real_url: str, bare_url: str, keys: list[str], comment: str | None, tmp: Path,
                 preloaded: dict, *, stuffing: bool) -> Result:
    """Both apps started afresh, the alternating rounds, the row check, the stuffing case (first size only)."""
    with ExitStack() as stack:
        real = Target("real", free_port(), True)
        bare = Target("bare", free_port(), False)
        stack.enter_context(gunicorn("real", "wsgi:app", real.port, env, ROOT, tmp, args.workers))
        stack.enter_context(gunicorn("bare", "bare_app:app", bare.port, bare_env, BENCH, tmp, args.workers))
        log(f"{backend}: both apps up ({args.workers} gunicorn workers each)")
        maintenance = stack.enter_context(autovacuum_stand_in(backend, (real_url, bare_url)))
        load_before = os.getloadavg()

        pairs = {"real": Tally(), "bare": Tally()}
        gets = {"real": Tally(), "bare": Tally()}
        sequence = iter(range(10**9))
        cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for round_no in range(args.rounds):
            order = (real, bare) if round_no % 2 == 0 else (bare, real)
            for target in order:
                def one_pair(i: int, target=target) -> bool:
                    n = next(sequence)
                    rng = random.Random(n)
                    return target.pair(f"{PHONE} phone/{n}", f"/s/{POINT}", answer_form(rng, keys, comment))[0]
                run_phase(args.pairs, args.threads, one_pair, pairs[target.name])
            for target in order:
                def one_get(i: int, target=target) -> bool:
                    return target.get(f"{PHONE} reader/{i}", f"/s/{POINT}").status == 200
                run_phase(args.gets, args.threads, one_get, gets[target.name])
            log(f"{backend}: round {round_no + 1}/{args.rounds}: pairs/s real {pairs['real'].rate():.0f}, "
                f"bare {pairs['bare'].rate():.0f}; GET/s real {gets['real'].rate():.0f}, bare {gets['bare'].rate():.0f}")
        cpu1, wall1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        client_cpu = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / (wall1 - wall0)
        load_rounds = os.getloadavg()

        stored = count_rows(real_url, bare_url)
        stuffed = {}
        if stuffing:
            stuffed = stuff(real, keys, comment, args)
            stuffed.update(count_suspect(real_url))
        if maintenance:
            log(f"{backend}: autovacuum's work done by the benchmark: " + "; ".join(maintenance))
        return Result(backend, pairs, gets, stored, stuffed, client_cpu, wall1 - wall0, preloaded,
                      (load_before, load_rounds))


def count_rows(real_url: str, bare_url: str) -> dict[str, int]:
    counts = {}
    for name, url, sql in (
        ("real", real_url, "SELECT count(*) FROM response r JOIN unit u ON u.id = r.unit_id WHERE u.code = :code"
                    " AND r.idempotency_key NOT LIKE 'bench-%'"),
        ("bare", bare_url, "SELECT count(*) FROM bare_response WHERE code = :code"),
    ):
        engine = sa.create_engine(sa_url(url))
        with engine.connect() as conn:
            counts[name] = conn.execute(sa.text(sql), {"code": POINT}).scalar_one()
        engine.dispose()
    return counts


def count_suspect(real_url: str) -> dict[str, float]:
    engine = sa.create_engine(sa_url(real_url))
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text(
            "SELECT r.trust, count(*) FROM response r JOIN unit u ON u.id = r.unit_id WHERE u.code = :code "
            "AND r.idempotency_key NOT LIKE 'bench-%' "
            "GROUP BY r.trust"), {"code": STUFFED_POINT}).all())
    engine.dispose()
    return {"stuffed_rows": float(sum(rows.values())), "stuffed_suspect": float(rows.get("suspect", 0))}


def stuff(real: Target, keys: list[str], comment: str | None, args: argparse.Namespace) -> dict[str, float]:
    """One device, the same answers, one point, ``--stuff`` times: POST time by position.

    Each stuffing pair is followed by a control pair (a new phone, varied answers, at the
    other point), so a change in machine load during the run shows in both and the
    stuffing-to-control ratio at ~500 and at the end says whether the run itself costs."""
    answers = answer_form(random.Random(0), keys, None)
    samples: list[tuple[int, float, float]] = []  # (stuffed so far, stuffing POST s, control POST s)
    lock = threading.Lock()
    stored = [0]

    def one(i: int) -> bool:
        ok, post = real.pair(PHONE, f"/s/{STUFFED_POINT}", answers)
        _control_ok, control = real.pair(f"{PHONE} control/{i}", f"/s/{POINT}",
                                         answer_form(random.Random(10**6 + i), keys, comment))
        with lock:
            stored[0] += ok
            samples.append((stored[0], post, control))
        return ok

    log(f"stuffing: {args.stuff} identical answers from one device to {STUFFED_POINT}, each with a control pair")
    tally = Tally()
    run_phase(args.stuff, args.threads, one, tally)

    def around(n: int, key: int) -> float:
        near = [t[key] for t in samples if n - 100 <= t[0] < n + 100]
        return statistics.median(near) * 1000 if near else float("nan")

    late = args.stuff - 100
    return {"stuff_ok": float(tally.ok), "late_at": float(late),
            "post_500": around(500, 1), "post_late": around(late, 1),
            "control_500": around(500, 2), "control_late": around(late, 2)}


# --------------------------------------------------------------------------- report

def report(results: list[Result], args: argparse.Namespace, load: tuple[str, str]) -> bool:
    ok = True
    print(f"Hài Lòng submission benchmark: real app vs bare Flask + SQLAlchemy app, gunicorn -w {args.workers} each, "
          f"{args.threads} client threads, {args.rounds} alternating rounds of {args.pairs} GET+POST pairs "
          f"and {args.gets} GETs per app")
    print(f"load average before: {load[0]}")
    for r in results:
        if r.preloaded:
            print(f"{r.backend}: preloaded before the run: {r.preloaded['responses']:,.0f} responses / "
                  f"{r.preloaded['answers']:,.0f} answers in {r.preloaded['partitions']:.0f} partitions "
                  f"({r.preloaded['load_s']:.0f} s to write)")
    names = [r.label or r.backend for r in results]
    width = max(24, *(len(n) + 2 for n in names))
    print(f"{'':46}" + "".join(f"{n:>{width}}" for n in names))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:46}" + "".join(f"{v:>{width}}" for v in values))

    def stuffed(fmt: Callable[[Result], str]) -> list[str]:
        return [fmt(r) if r.stuffing else "–" for r in results]

    if any(r.load for r in results):
        row("load average (1 / 5 / 15) before the rounds", [" / ".join(f"{v:.2f}" for v in r.load[0]) for r in results])
        row("load average (1 / 5 / 15) after the rounds", [" / ".join(f"{v:.2f}" for v in r.load[1]) for r in results])
    for kind, attr in (("GET+POST pairs", "pairs"), ("GET alone", "gets")):
        unit = "stored answers/s" if attr == "pairs" else "pages/s"
        for app in ("real", "bare"):
            row(f"{kind}: {app} {unit}", [f"{getattr(r, attr)[app].rate():,.0f}" for r in results])
            row(f"  {app} p50 / p99 ms", [f"{getattr(r, attr)[app].quantile(0.5) * 1000:.1f} / "
                                          f"{getattr(r, attr)[app].quantile(0.99) * 1000:.1f}" for r in results])
        row(f"  ratio real / bare", [f"{getattr(r, attr)['real'].rate() / getattr(r, attr)['bare'].rate():.2f}×"
                                     for r in results])
        row(f"  failed requests (real / bare)", [f"{getattr(r, attr)['real'].failed} / {getattr(r, attr)['bare'].failed}"
                                                 for r in results])
    for r in results:
        for app in ("real", "bare"):
            if r.stored[app] != r.pairs[app].ok:
                ok = False
    row("rows stored = redirects (real)", [f"{r.stored['real']:,} = {r.pairs['real'].ok:,}"
                                           + ("" if r.stored['real'] == r.pairs['real'].ok else " NO") for r in results])
    row("rows stored = redirects (bare)", [f"{r.stored['bare']:,} = {r.pairs['bare'].ok:,}"
                                           + ("" if r.stored['bare'] == r.pairs['bare'].ok else " NO") for r in results])
    row("client CPU (cores) while measuring", [f"{r.client_cpu:.2f}" for r in results])
    row("stuffing: rows stored / flagged suspect", stuffed(lambda r: f"{r.stuffing['stuffed_rows']:,.0f} / "
                                                                     f"{r.stuffing['stuffed_suspect']:,.0f}"))
    row("  stuffing POST ms (median) at ~500 stored", stuffed(lambda r: f"{r.stuffing['post_500']:.1f}"))
    row(f"  stuffing POST ms (median) at ~{args.stuff - 100:,}", stuffed(lambda r: f"{r.stuffing['post_late']:.1f}"))
    row("  control POST ms (median) at ~500 / late", stuffed(lambda r: f"{r.stuffing['control_500']:.1f} / "
                                                                      f"{r.stuffing['control_late']:.1f}"))
    row("  stuffing ÷ control at ~500 / late", stuffed(lambda r: f"{r.stuffing['post_500'] / r.stuffing['control_500']:.2f} / "
                                                                f"{r.stuffing['post_late'] / r.stuffing['control_late']:.2f}"))
    for r in results:  # every one of them: the first ones are flagged when the burst is found
        if r.stuffing and (r.stuffing["stuffed_suspect"] != r.stuffing["stuffed_rows"]
                           or r.stuffing["stuff_ok"] != args.stuff):
            ok = False
    print(f"load average after: {load[1]}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="client threads (concurrent connections)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--pairs", type=int, default=300, help="GET+POST pairs per app and round")
    parser.add_argument("--gets", type=int, default=600, help="GETs per app and round")
    parser.add_argument("--stuff", type=int, default=5100, help="identical submissions in the stuffing case")
    parser.add_argument("--preload-answers", type=int, default=0,
                        help="PostgreSQL: answers already stored before the run (e.g. 20000000)")
    parser.add_argument("--grow-preload", type=int, action="append", default=[], metavar="ANSWERS",
                        help="PostgreSQL: after the run at --preload-answers, grow the real app's preloaded answers "
                             "to ANSWERS (same points and months) and run the rounds again, the bare app's floor in "
                             "the same rounds; repeat for more sizes. The stuffing case runs at the first size only")
    args = parser.parse_args(argv)
    sizes = [args.preload_answers, *args.grow_preload]
    if any(b <= a for a, b in zip(sizes, sizes[1:])):
        parser.error("each --grow-preload must be more than the size before it")
    backends = args.backend or ["sqlite", "postgresql"]
    if args.grow_preload and backends != ["postgresql"]:
        parser.error("--grow-preload needs --backend postgresql (alone)")
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results = [result for backend in backends for result in measure(backend, args)]
    if args.grow_preload:
        for r in results:
            answers = r.preloaded.get("answers") if r.preloaded else None
            r.label = f"{r.backend}, {answers / 1e6:.1f} M answers" if answers else r.label
        labelled = [r.label for r in results]
        for i, r in enumerate(results):  # a size with nothing preloaded keeps the last one's count
            if not r.label:
                r.label = f"{r.backend}, {'no' if i == 0 else labelled[i - 1]} preload"
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return 0 if report(results, args, (load_before, load_after)) else 1


if __name__ == "__main__":
    sys.exit(main())
