"""Report benchmark: rollups against raw answers, and the rollup catch-up rate.

Fills a fresh SQLite file and a fresh PostgreSQL database with synthetic SIPAS responses
(``--units`` service points below one town × ``--months`` months × ``--per-month``
responses per point and month; 19 scale answers and a comment each, i.e. 20 answers),
then measures, on each database:

1. ``rollup.catch_up`` from zero (responses per second);
2. the town's report over the whole window from the rollups (median of ``--runs``), and
   one over a window that starts and ends inside a month (read by day at those edges);
3. the same report computed from the raw answers (median of ``--raw-runs``);
4. 1,000 new responses: ``catch_up``, then the report from the rollups again.

It also checks that the report from the rollups equals the report from the raw answers.
Not part of the test run. See ``benchmarks/README.md`` for the figures::

    .venv/bin/python benchmarks/report.py --units 20 --months 24 --per-month 100
    .venv/bin/python benchmarks/report.py --backend postgresql        # the issue's size
    .venv/bin/python benchmarks/report.py --backend postgresql --grow-to-per-month 417 --defer-indexes
                                  # 480,000 responses, then the same database at 1,000,800

``--grow-to-per-month N`` measures at ``--per-month`` first, then bulk-loads the extra
responses into the same database (same points and months, so the same window), rolls them
up and measures again: two columns from one run on one schema. ``--raw-runs 0`` skips the
report from raw answers (and so the comparison with it).

Both databases are created here and removed at the end: SQLite in a temporary folder
under /tmp, PostgreSQL as ``hailong_bench_<pid>`` on the server of ``--pg-url`` (a user
allowed to create databases).
"""
from __future__ import annotations

import argparse
import calendar
import gc
import logging
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis import counts  # noqa: E402
from survey_app import create_app  # noqa: E402
from survey_app.extensions import db  # noqa: E402
from survey_app.models import Campaign  # noqa: E402
from survey_app.services.collect import instruments  # noqa: E402
from survey_app.services.data import partitions  # noqa: E402
from survey_app.services.officials.units import create_unit  # noqa: E402
from survey_app.services.reports import build as reports  # noqa: E402
from survey_app.services.reports import rollup  # noqa: E402

TOWN = "/vn/qt/tx-qt/"
LOCAL_OFFSET = timedelta(hours=7)  # Asia/Ho_Chi_Minh, no daylight saving since 1975
INCREMENT = 1_000
ROLLUP_TABLES = ("rollup_cell", "rollup_response", "rollup_cell_month", "rollup_response_month", "rollup_factor",
                 "rollup_moments")
COMMENTS = ["Cán bộ nhiệt tình, chu đáo.", "Thời gian chờ hơi lâu.", "Thủ tục rõ ràng.",
            "Cần thêm ghế ngồi chờ.", "Rất hài lòng."]
RESPONSE_COLUMNS = ("id", "campaign_id", "unit_id", "instrument_version_id", "channel", "language",
                    "submitted_at", "trust", "idempotency_key", "rolled_up")
ANSWER_COLUMNS = ("id", "response_id", "submitted_at", "question_key", "value_int", "value_text")
CHUNK = 20_000  # responses generated and written at a time


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- synthetic data

@dataclass
class Plan:
    """What to generate: ids continue from ``next_response_id`` / ``next_answer_id``."""

    campaign_id: int
    version_id: int
    unit_ids: list[int]
    scale_keys: list[str]
    start: date
    months: int
    per_month: int
    rng: np.random.Generator
    quality: np.ndarray = field(init=False)
    next_response_id: int = 1
    next_answer_id: int = 1

    def __post_init__(self) -> None:
        # Each point has its own mean level, so the comparison across units has something to find.
        self.quality = self.rng.normal(3.8, 0.35, size=len(self.unit_ids))


def month_start(first: date, offset: int) -> date:
    month0 = first.month - 1 + offset
    return date(first.year + month0 // 12, month0 % 12 + 1, 1)


@dataclass
class Batch:
    """Responses as parallel columns, plus their answers' levels (responses × scale questions)."""

    ids: list[int]
    unit_ids: list[int]
    submitted: list[datetime]  # naive UTC
    levels: np.ndarray
    comments: list[str]
    first_answer_id: int


def generate(plan: Plan, unit_index: np.ndarray, month_offsets: np.ndarray) -> Batch:
    """Responses for the given (unit index, month offset) pairs, in time order."""
    rng = plan.rng
    n = len(unit_index)
    starts = [month_start(plan.start, int(m)) for m in month_offsets]
    days = np.array([calendar.monthrange(s.year, s.month)[1] for s in starts])
    day = (rng.random(n) * days).astype(int)
    seconds = rng.integers(7 * 3600, 17 * 3600, size=n)  # office hours, local time
    local = [datetime(s.year, s.month, 1) + timedelta(days=int(d), seconds=int(sec))
             for s, d, sec in zip(starts, day, seconds)]
    order = sorted(range(n), key=local.__getitem__)
    unit_index = unit_index[order]
    local = [local[i] for i in order]
    month_offsets = month_offsets[order]
    latent = rng.normal(plan.quality[unit_index] + 0.01 * month_offsets, 0.6)
    levels = np.clip(np.rint(latent[:, None] + rng.normal(0, 0.7, size=(n, len(plan.scale_keys)))), 1, 5)
    first_id = plan.next_response_id
    plan.next_response_id += n
    first_answer = plan.next_answer_id
    plan.next_answer_id += n * (len(plan.scale_keys) + 1)
    return Batch(ids=list(range(first_id, first_id + n)),
                 unit_ids=[plan.unit_ids[i] for i in unit_index.tolist()],
                 submitted=[t - LOCAL_OFFSET for t in local],
                 levels=levels.astype(np.int64),
                 comments=[COMMENTS[i] for i in rng.integers(0, len(COMMENTS), size=n).tolist()],
                 first_answer_id=first_answer)


def all_batches(plan: Plan) -> Iterator[Batch]:
    """The whole data set, month by month (so response ids grow with time), in chunks."""
    units = len(plan.unit_ids)
    for month in range(plan.months):
        pairs = np.repeat(np.arange(units), plan.per_month)
        for start in range(0, len(pairs), CHUNK):
            part = pairs[start:start + CHUNK]
            yield generate(plan, part, np.full(len(part), month))


def grow_batches(plan: Plan, extra: int) -> Iterator[Batch]:
    """``extra`` more responses per point and month, over the same points and months: the
    data set a run measured, grown in place (ids continue after the ones already written)."""
    units = len(plan.unit_ids)
    for month in range(plan.months):
        pairs = np.repeat(np.arange(units), extra)
        for start in range(0, len(pairs), CHUNK):
            part = pairs[start:start + CHUNK]
            yield generate(plan, part, np.full(len(part), month))


def increment_batch(plan: Plan, count: int) -> Batch:
    """``count`` new responses at random points in the last month of the window."""
    return generate(plan, plan.rng.integers(0, len(plan.unit_ids), size=count),
                    np.full(count, plan.months - 1))


def response_rows(plan: Plan, batch: Batch, *, sqlite: bool) -> Iterator[tuple]:
    fmt = "%Y-%m-%d %H:%M:%S.%f" if sqlite else "%Y-%m-%d %H:%M:%S"
    not_rolled = 0 if sqlite else "f"
    for rid, unit_id, when in zip(batch.ids, batch.unit_ids, batch.submitted):
        yield (rid, plan.campaign_id, unit_id, plan.version_id, "qr", "vi", when.strftime(fmt), "ok",
               f"bench-{rid}", not_rolled)


def answer_rows(plan: Plan, batch: Batch, *, sqlite: bool) -> Iterator[tuple]:
    answer_id = batch.first_answer_id
    keys = plan.scale_keys
    fmt = "%Y-%m-%d %H:%M:%S.%f" if sqlite else "%Y-%m-%d %H:%M:%S"
    for rid, when, levels, comment in zip(batch.ids, batch.submitted, batch.levels.tolist(), batch.comments):
        at = when.strftime(fmt)  # the response's: answers are partitioned by it on PostgreSQL
        for key, level in zip(keys, levels):
            yield (answer_id, rid, at, key, level, None)
            answer_id += 1
        yield (answer_id, rid, at, "comment", None, comment)
        answer_id += 1


# --------------------------------------------------------------------------- bulk writers

def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _copy_text(rows: Iterator[tuple]) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return "\\N"
        return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    return "".join("\t".join(cell(v) for v in row) + "\n" for row in rows)


#: The secondary indexes and the foreign keys of ``response`` and ``answer`` (not their
#: primary keys, not a unique index): what a bulk load with ``defer_indexes`` drops first
#: and builds again after, from PostgreSQL's own definitions of them.
_DEFERRABLE_INDEXES = """
SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE c.relname IN ('response', 'answer') AND c.relnamespace = current_schema()::regnamespace
  AND NOT i.indisprimary AND NOT i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY c.relname, ic.relname
"""
_DEFERRABLE_FKS = """
SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relname IN ('response', 'answer') AND c.relnamespace = current_schema()::regnamespace
  AND k.contype = 'f' AND k.conparentid = 0
ORDER BY c.relname DESC, k.conname
"""


def drop_deferrable(cursor: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """PostgreSQL: drop the secondary indexes and foreign keys of the two tables; returns their definitions."""
    cursor.execute(_DEFERRABLE_INDEXES)
    indexes = [(name, definition) for name, definition in cursor.fetchall()]
    cursor.execute(_DEFERRABLE_FKS)
    fks = [(table, name, definition) for table, name, definition in cursor.fetchall()]
    for table, name, _definition in fks:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return indexes, fks


def rebuild_deferrable(cursor: Any, dropped: tuple[list[tuple[str, str]], list[tuple[str, str, str]]]) -> None:
    """Build again what :func:`drop_deferrable` dropped, each as it was defined (an index of a
    partitioned table on the parent, which builds every partition's)."""
    indexes, fks = dropped
    cursor.execute("SET maintenance_work_mem = '512MB'")  # this session only
    for _name, definition in indexes:
        cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
    for table, name, definition in reversed(fks):  # response's first, then answer's to response
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    cursor.execute("RESET maintenance_work_mem")


def write_batches(batches: Iterator[Batch], plan: Plan, *, defer_indexes: bool = False) -> int:
    """Write responses and answers with the driver's fastest bulk path; returns responses written.

    ``defer_indexes`` (PostgreSQL): drop the two tables' secondary indexes and foreign keys
    first and build them again, as defined, after the rows are in (one sort per index and
    one check per key instead of one per row; the primary keys and the trigger that fills
    ``response_key`` stay). The same transaction: a failure leaves the schema as it was."""
    written = 0
    db.session.commit()  # the session's read locks would keep the ALTER TABLEs waiting
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        sqlite = db.engine.dialect.name == "sqlite"
        dropped = drop_deferrable(cursor) if defer_indexes and not sqlite else None
        for batch in batches:
            if sqlite:
                cursor.executemany(_insert_sql("response", RESPONSE_COLUMNS), response_rows(plan, batch, sqlite=True))
                cursor.executemany(_insert_sql("answer", ANSWER_COLUMNS), answer_rows(plan, batch, sqlite=True))
            else:
                with cursor.copy(f"COPY response ({', '.join(RESPONSE_COLUMNS)}) FROM STDIN") as copy:
                    copy.write(_copy_text(response_rows(plan, batch, sqlite=False)))
                with cursor.copy(f"COPY answer ({', '.join(ANSWER_COLUMNS)}) FROM STDIN") as copy:
                    copy.write(_copy_text(answer_rows(plan, batch, sqlite=False)))
            written += len(batch.ids)
        if dropped is not None:
            started = time.perf_counter()
            rebuild_deferrable(cursor, dropped)
            log(f"{len(dropped[0])} indexes and {len(dropped[1])} foreign keys built again in "
                f"{time.perf_counter() - started:.0f} s")
        if not sqlite:
            for table in ("response", "answer"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.commit()
        cursor.close()
    finally:
        raw.close()
    return written


# --------------------------------------------------------------------------- databases

def pg_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


class Database:
    """A fresh database for one backend, removed on exit."""

    def __init__(self, backend: str, admin_url: str):
        self.backend = backend
        self.admin_url = pg_url(admin_url)
        self.folder: str | None = None
        self.name = f"hailong_bench_{os.getpid()}"
        self.url = ""

    def __enter__(self) -> "Database":
        if self.backend == "sqlite":
            self.folder = tempfile.mkdtemp(prefix="hailong_bench_", dir="/tmp")
            self.url = f"sqlite:///{self.folder}/bench.sqlite3"
        else:
            admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
            self.url = sa.make_url(self.admin_url).set(database=self.name).render_as_string(hide_password=False)
        return self

    def size(self) -> int:
        if self.folder is not None:
            return sum(p.stat().st_size for p in Path(self.folder).iterdir())
        return int(db.session.scalar(sa.text("SELECT pg_database_size(current_database())")))

    def __exit__(self, *exc) -> None:
        if self.backend == "sqlite":
            if self.folder:
                shutil.rmtree(self.folder, ignore_errors=True)
            return
        admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


# --------------------------------------------------------------------------- the run

@dataclass
class Result:
    backend: str
    responses: int = 0
    answers: int = 0
    load_s: float = 0.0
    catch_up_s: float = 0.0
    catch_up_batches: int = 0
    rollup_rows: int = 0
    rollups_s: list[float] = field(default_factory=list)
    count_query_s: float = 0.0
    count_cells: int = 0
    count_buckets: int = 0
    month_rows: int = 0
    edge_s: float = 0.0
    load: list[float] = field(default_factory=list)
    profile: str = ""
    raw_s: list[float] = field(default_factory=list)
    increment_catch_up_s: float = 0.0
    increment_report_s: float = 0.0
    same_report: bool | None = False  # None: no report from raw answers to compare with
    size_bytes: int = 0
    rollup_bytes: tuple[int, int] | None = None  # the rollup tables' size before / after --compact-rollups
    label: str = ""
    catch_up_responses: int = 0
    load_avg: tuple[float, ...] = ()  # 1, 5, 15 min, when the reports start
    load_avg_end: tuple[float, ...] = ()  # after the +1,000 increment


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def setup(plan_args: argparse.Namespace) -> tuple[Plan, Any]:
    """Instruments, the tree (a town with the synthetic points right below it), one campaign."""
    from flask_migrate import upgrade

    upgrade(revision="heads")
    instruments.load_directory(db.session, ROOT / "surveys")
    version = instruments.latest_version(db.session, "sipas")
    vn = create_unit(db.session, None, "vn", "admin", "Việt Nam", "Viet Nam")
    qt = create_unit(db.session, vn, "qt", "admin", "Tỉnh Quảng Trị", "Quang Tri Province")
    town = create_unit(db.session, qt, "tx-qt", "admin", "Thị xã Quảng Trị", "Quang Tri Town")
    points = [create_unit(db.session, town, f"b{i:03d}", "one_stop", f"Bộ phận Một cửa số {i}",
                          f"One-stop counter {i}", f"bench{i:03d}") for i in range(1, plan_args.units + 1)]
    start = date(plan_args.start_year, 1, 1)
    # PostgreSQL: the partitions of the window's months before the load (a month without one
    # would go to DEFAULT, as a back-dated import would, until the daily job moves it).
    made = partitions.create_months(db.session, start, month_start(start, plan_args.months))
    if made:
        log(f"{len(made)} monthly partitions created")
    campaign = Campaign(name="SIPAS benchmark", instrument_version=version, access_mode="open", status="open",
                        starts_at=datetime(start.year, 1, 1, tzinfo=timezone.utc) - LOCAL_OFFSET, units=points)
    db.session.add(campaign)
    db.session.commit()
    scale_keys = [q["key"] for q in version.snapshot["questions"] if q["type"] == "scale"]
    plan = Plan(campaign_id=campaign.id, version_id=version.id, unit_ids=[p.id for p in points],
                scale_keys=scale_keys, start=start, months=plan_args.months, per_month=plan_args.per_month,
                rng=np.random.default_rng(plan_args.seed))
    return plan, town


def vacuum_analyze() -> None:
    """PostgreSQL only: what autovacuum would have done after a bulk load or a large update."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))


def rollup_bytes() -> int:
    return sum(db.session.scalar(sa.text(f"SELECT pg_total_relation_size('{t}')")) for t in ROLLUP_TABLES)


def compact_rollups() -> None:
    """``VACUUM FULL`` of the rollup tables: rewrites them without the room their rows' old
    versions took. A catch-up over responses of months already rolled up updates nearly every
    existing rollup row once (the grown data set's months are the first size's), which
    leaves the tables about twice their packed size; in service, a month's rows stop
    changing once its responses are in, and autovacuum reuses the room. Measures the grown
    database as its packed self (the first size was written by inserts only)."""
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for t in ROLLUP_TABLES:
            conn.execute(sa.text(f"VACUUM FULL ANALYZE {t}"))


def run(backend: str, args: argparse.Namespace) -> list[Result]:
    """One database: the figures at ``--per-month``, then (``--grow-to-per-month``) the same
    figures again on the same database grown to the larger size."""
    results = []
    with Database(backend, args.pg_url) as database:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "SECRET_KEY": secrets.token_hex(32),
                          "SURVEYS_DIR": str(ROOT / "surveys")})
        with app.app_context():
            try:
                plan, town = setup(args)
                result = Result(backend)
                log(f"{backend}: writing {args.units * args.months * args.per_month:,} responses")
                result.load_s, written = timed(lambda: write_batches(all_batches(plan), plan,
                                                                     defer_indexes=args.defer_indexes))
                log(f"{backend}: written in {result.load_s:.1f} s; rolling up")
                measure(result, plan, town, database, args, written)
                results.append(result)
                if args.grow_to_per_month:
                    extra = args.grow_to_per_month - args.per_month
                    grown = Result(backend)
                    log(f"{backend}: growing by {args.units * args.months * extra:,} responses "
                        f"to {args.grow_to_per_month} per point and month")
                    grown.load_s, written = timed(lambda: write_batches(grow_batches(plan, extra), plan,
                                                                        defer_indexes=args.defer_indexes))
                    log(f"{backend}: written in {grown.load_s:.1f} s; rolling up the added responses")
                    measure(grown, plan, town, database, args, written)
                    results.append(grown)
            finally:
                db.session.remove()
                db.engine.dispose()
    return results


def measure(result: Result, plan: Plan, town: Any, database: Database, args: argparse.Namespace,
            written: int) -> None:
    """The figures at the database's present size; ``written`` responses wait for the catch-up."""
    backend = result.backend
    result.label = f"{backend}, {db.session.scalar(sa.text('SELECT count(*) FROM response')):,} responses"
    vacuum_analyze()
    result.responses = db.session.scalar(sa.text("SELECT count(*) FROM response"))
    result.answers = db.session.scalar(sa.text("SELECT count(*) FROM answer"))
    db.session.commit()

    result.catch_up_s, done = timed(lambda: rollup.catch_up(db.session))
    result.catch_up_batches = done.batches
    result.catch_up_responses = done.responses
    if done.responses != written:
        raise RuntimeError(f"catch-up rolled up {done.responses}, expected {written}")
    vacuum_analyze()
    if args.compact_rollups and db.engine.dialect.name == "postgresql":
        result.rollup_bytes = (rollup_bytes(), 0)
        compact_rollups()
        result.rollup_bytes = (result.rollup_bytes[0], rollup_bytes())
        log(f"{backend}: rollup tables compacted: {result.rollup_bytes[0] / 2**20:,.0f} → "
            f"{result.rollup_bytes[1] / 2**20:,.0f} MiB")
    result.rollup_rows = sum(db.session.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in ROLLUP_TABLES)
    result.month_rows = sum(db.session.scalar(sa.text(f"SELECT count(*) FROM {t}"))
                            for t in ("rollup_cell_month", "rollup_response_month"))
    log(f"{backend}: catch-up {result.catch_up_s:.1f} s; reports")

    result.load_avg = os.getloadavg()
    last = month_start(plan.start, plan.months) - timedelta(days=1)
    request = reports.ReportRequest(unit=town, instrument_key="sipas", date_from=plan.start, date_to=last)
    report = None
    for _ in range(args.runs):
        result.load.append(os.getloadavg()[0])
        elapsed, report = timed(lambda: reports.make_report(db.session, request, source="rollups"))
        result.rollups_s.append(elapsed)
        db.session.commit()
    # A window that starts and ends inside a month reads those two months by day.
    edge_request = reports.ReportRequest(unit=town, instrument_key="sipas",
                                         date_from=plan.start + timedelta(days=14),
                                         date_to=last - timedelta(days=9))
    result.edge_s, _ = timed(lambda: reports.make_report(db.session, edge_request))
    db.session.commit()
    if args.profile:
        result.profile = profile_report(request)
    filters = counts.Filters(unit_path=TOWN, version_ids=(plan.version_id,), date_from=request.date_from,
                             date_to=request.date_to)
    with reports.gc_paused():  # as report_tables reads them
        result.count_query_s, tables = timed(lambda: counts.from_rollups(db.session.connection(), filters))
    result.count_cells = len(tables.cells)
    result.count_buckets = len(tables.responses)
    db.session.commit()
    del tables
    if len(report["units"]) != args.units:
        raise RuntimeError(f"the report compares {len(report['units'])} units, expected {args.units}")
    raw_report = None
    for _ in range(args.raw_runs):
        elapsed, raw_report = timed(lambda: reports.make_report(db.session, request, source="raw"))
        result.raw_s.append(elapsed)
        db.session.commit()
        log(f"{backend}: report from raw answers {elapsed:.1f} s")
    result.same_report = None if raw_report is None else report == raw_report
    del raw_report

    write_batches(iter([increment_batch(plan, INCREMENT)]), plan)
    result.increment_catch_up_s, done = timed(lambda: rollup.catch_up(db.session))
    if done.responses != INCREMENT:
        raise RuntimeError(f"incremental catch-up rolled up {done.responses}, expected {INCREMENT}")
    result.increment_report_s, _ = timed(lambda: reports.make_report(db.session, request))
    db.session.commit()
    result.load_avg_end = os.getloadavg()
    result.size_bytes = database.size()


def profile_report(request: Any) -> str:
    """cProfile of one report from the rollups: the functions with the most own time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    reports.make_report(db.session, request)
    profiler.disable()
    db.session.commit()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


# --------------------------------------------------------------------------- output

def seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 1 else f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def table(results: list[Result], args: argparse.Namespace) -> str:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    def raw(r: Result) -> str:
        return seconds(median(r.raw_s)) if r.raw_s else "not run"

    def same(r: Result) -> str:
        return "not checked" if r.same_report is None else "yes" if r.same_report else "NO"

    grown = len({r.backend for r in results}) < len(results)
    rows: list[tuple[str, Callable[[Result], str]]] = [
        ("responses / answers", lambda r: f"{r.responses:,} / {r.answers:,}"),
        ("bulk load (not the app's write path)" + (", of the added rows" if grown else ""),
         lambda r: seconds(r.load_s)),
        ("rollup catch-up from zero" + (" / of the added responses" if grown else ""),
         lambda r: f"{seconds(r.catch_up_s)} ({r.catch_up_batches} batches)"),
        ("  catch-up rate", lambda r: f"{r.catch_up_responses / r.catch_up_s:,.0f} responses/s"),
        ("  rollup rows (all six tables)", lambda r: f"{r.rollup_rows:,}"),
        ("  of which month-level cell/response rows", lambda r: f"{r.month_rows:,}"),
        ("load average (1 / 5 / 15 min) before the reports", lambda r: " / ".join(f"{v:.2f}" for v in r.load_avg)),
        (f"report from rollups (median of {args.runs})", lambda r: seconds(median(r.rollups_s))),
        ("  all runs", lambda r: " / ".join(seconds(v) for v in r.rollups_s)),
        ("  load average (1 min) at those runs", lambda r: " / ".join(f"{v:.1f}" for v in r.load)),
        ("  of which the rollup read (from_rollups)", lambda r: seconds(r.count_query_s)),
        ("  count-table cells it returns", lambda r: f"{r.count_cells:,}"),
        ("  weekday × hour entries it returns", lambda r: f"{r.count_buckets:,}"),
        ("report, window with edges (15th → 22nd)", lambda r: seconds(r.edge_s)),
        (f"report from raw answers (median of {args.raw_runs})", raw),
        ("  raw ÷ rollups", lambda r: f"{median(r.raw_s) / median(r.rollups_s):,.0f}×" if r.raw_s else "–"),
        ("rollup report == raw report", same),
        (f"+{INCREMENT:,} responses: catch-up", lambda r: seconds(r.increment_catch_up_s)),
        (f"+{INCREMENT:,} responses: report from rollups", lambda r: seconds(r.increment_report_s)),
        ("load average (1 / 5 / 15 min) after them", lambda r: " / ".join(f"{v:.2f}" for v in r.load_avg_end)),
        ("rollup tables before / after VACUUM FULL", lambda r: (f"{r.rollup_bytes[0] / 2**20:,.0f} / "
                                                                 f"{r.rollup_bytes[1] / 2**20:,.0f} MiB")
         if r.rollup_bytes else "not compacted"),
        ("database size at the end", lambda r: f"{r.size_bytes / 2**20:,.0f} MiB"),
    ]
    width = max(len(label) for label, _ in rows)
    heads = [r.label if grown else r.backend for r in results]
    columns = [[fmt(r) for label, fmt in rows] for r in results]
    col_width = [max(len(h), *(len(c) for c in col)) for h, col in zip(heads, columns)]
    lines = ["  ".join([" " * width] + [h.rjust(w) for h, w in zip(heads, col_width)])]
    for i, (label, _) in enumerate(rows):
        lines.append("  ".join([label.ljust(width)] + [col[i].rjust(w) for col, w in zip(columns, col_width)]))
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=100, help="service points below the town (default 100)")
    parser.add_argument("--months", type=int, default=24, help="months of responses (default 24)")
    parser.add_argument("--per-month", type=int, default=200, help="responses per point and month (default 200)")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"],
                        help="repeat to run several (default: both)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server to create the benchmark database on (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="reports from rollups to time (default 3)")
    parser.add_argument("--raw-runs", type=int, default=3, help="reports from raw answers to time (default 3)")
    parser.add_argument("--start-year", type=int, default=2024, help="first year of the window (default 2024)")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--grow-to-per-month", type=int, default=0, metavar="N",
                        help="after the figures at --per-month, bulk-load more responses into the same database "
                             "(same points, same months) up to N per point and month, roll them up, and measure "
                             "again: two columns from one run on one schema")
    parser.add_argument("--defer-indexes", action="store_true",
                        help="PostgreSQL bulk load: drop the secondary indexes and foreign keys of response and "
                             "answer first, build them again as defined after (faster; not the app's write path)")
    parser.add_argument("--compact-rollups", action="store_true",
                        help="PostgreSQL: VACUUM FULL the rollup tables after each catch-up, before the reports")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of one more report from the rollups after the table")
    args = parser.parse_args(argv)
    for name in ("units", "months", "per_month", "runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.raw_runs < 0:
        parser.error("--raw-runs must be at least 0 (0: no report from raw answers, nothing compared)")
    if args.grow_to_per_month and args.grow_to_per_month <= args.per_month:
        parser.error("--grow-to-per-month must be more than --per-month")
    if args.units > 999:
        parser.error("--units must be at most 999")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)  # keeps Alembic's INFO lines out of the output
    backends = args.backend or ["sqlite", "postgresql"]
    results = [result for backend in backends for result in run(backend, args)]
    print(f"Hài Lòng report benchmark: {args.units} units × {args.months} months × {args.per_month} responses "
          f"= {args.units * args.months * args.per_month:,} responses (19 SIPAS scale answers + 1 comment each)")
    if args.grow_to_per_month:
        print(f"then the same database grown to {args.grow_to_per_month} responses per point and month "
              f"= {args.units * args.months * args.grow_to_per_month:,} responses (+ the first size's "
              f"{INCREMENT:,} increment), measured again")
    print(table(results, args))
    for r in results:
        if r.profile:
            print(f"\nProfile of one report from the rollups, {r.label} (own time):")
            print(r.profile)
    return 0 if all(r.same_report is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
