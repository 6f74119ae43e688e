"""Monthly partitions of ``response`` and ``answer`` on PostgreSQL (issue #19, item 3).

On PostgreSQL both tables are ``PARTITION BY RANGE (submitted_at)``: one partition per UTC
calendar month (``response_p2026_01`` holds ``[2026-01-01, 2026-02-01)``) and a DEFAULT
partition (``response_default``) for a month that has none yet. ``answer.submitted_at`` is
its response's, copied by every write path, so a response and its answers always live in
the partitions of the same month, and a whole month can be archived and dropped at once
(:mod:`.partition_retention`). SQLite keeps plain tables: nothing here runs there.

What a partitioned table cannot hold, and what holds it instead (PostgreSQL only; the
models describe the SQLite layout, and ``tests/test_migrations.py`` lists these
differences one by one, :data:`PG_ONLY_DIFFERENCES`):

- primary keys are ``(id, submitted_at)``; ids still come from the one sequence per table,
  so ``id`` alone stays unique in practice and the ORM keeps using it alone;
- the unique ``(campaign_id, idempotency_key)`` of a response: a unique key must contain the
  partition key, so it lives in the small table ``response_key`` (id, campaign_id,
  idempotency_key, unique over the last two), filled and emptied by a trigger on
  ``response``. A repeated form still fails its INSERT with a unique violation, which
  ``collect.surveys.submit_response`` turns into "the same response" as before;
- ``answer.response_id → response.id`` becomes ``(response_id, submitted_at) → response(id,
  submitted_at)``, still ``ON DELETE CASCADE``;
- ``dossier.response_id`` refers to ``response_key(id)`` (``ON DELETE SET NULL``): deleting a
  response deletes its key (trigger), which clears the dossier's link as before;
- ``comment_flag.answer_id`` has no foreign key (``answer.id`` alone is not a key of the
  partitioned table): a trigger on ``answer`` deletes the flag of a deleted answer (the
  cascade it had), and dropping a partition deletes the flags of its answers first.
- ``response.submitted_at`` (and so ``answer.submitted_at``) is not changed once stored: the
  service never does, and the composite foreign key refuses it.

:func:`partition_tables` turns the plain tables into partitioned ones, data kept (the
migration ``0022_partitions`` and the test schemas both call it, so tests run on the layout
production has); :func:`unpartition_tables` goes back. :func:`ensure_partitions` (the daily
job, ``flask --app wsgi partitions ensure``) creates the coming months' partitions and moves
rows that landed in DEFAULT into the partition of their month.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, CreateIndex

from ...models import Base

__all__ = ["PARTITIONED", "Partition", "PG_ONLY_DIFFERENCES", "create_months", "create_schema", "ensure_partitions", "is_partitioned",
           "list_partitions", "month_start", "next_month", "partition_name", "partition_tables",
           "unpartition_tables", "include_name"]

#: The partitioned tables, the parent before the child (answers refer to responses).
PARTITIONED = ("response", "answer")
#: Set (``SET LOCAL``) while rows move between partitions of their own table: the triggers
#: that keep ``response_key`` and ``comment_flag`` in step then leave them alone.
MOVING = "hl.partition_move"

#: What ``tests/test_migrations.py`` allows between the models and a PostgreSQL schema, and
#: nothing else: (kind of difference, table, what).
PG_ONLY_DIFFERENCES = frozenset({
    ("add_constraint", "response", "uq_response_campaign_id_idempotency_key"),  # → response_key
    ("remove_fk", "answer", "fk_answer_response_id_response"),  # composite (…, submitted_at)
    ("add_fk", "answer", "fk_answer_response_id_response"),
    ("remove_fk", "dossier", "fk_dossier_response_id_response_key"),  # → response_key(id)
    ("add_fk", "dossier", "fk_dossier_response_id_response"),
    ("add_fk", "comment_flag", "fk_comment_flag_answer_id_answer"),  # a trigger instead
    ("remove_index", "response", "ix_response_idempotency"),  # the lookup of a repeated form
})

_KEY_FUNCTION = f"""
CREATE FUNCTION hl_response_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{MOVING}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO response_key (id, campaign_id, idempotency_key)
        VALUES (NEW.id, NEW.campaign_id, NEW.idempotency_key);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE response_key SET campaign_id = NEW.campaign_id, idempotency_key = NEW.idempotency_key
        WHERE id = NEW.id;
    ELSE
        DELETE FROM response_key WHERE id = OLD.id;
    END IF;
    RETURN NULL;
END $$
"""
_FLAG_FUNCTION = f"""
CREATE FUNCTION hl_answer_flag() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{MOVING}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    DELETE FROM comment_flag WHERE answer_id = OLD.id;
    RETURN NULL;
END $$
"""


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    month: date | None  # None: the DEFAULT partition
    rows: int


def month_start(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def next_month(month: date, step: int = 1) -> date:
    index = month.year * 12 + month.month - 1 + step
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date | None) -> str:
    return f"{table}_default" if month is None else f"{table}_p{month:%Y_%m}"


def _month_of(name: str) -> date | None:
    tail = name.rsplit("_p", 1)[-1]
    try:
        return date(int(tail[:4]), int(tail[5:7]), 1)
    except ValueError:
        return None


def is_partitioned(connection: Connection, table: str = "response") -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return bool(connection.scalar(sa.text(
        "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = :t AND c.relnamespace = current_schema()::regnamespace"), {"t": table}))


def include_name(name, type_, parent_names) -> bool:
    """Alembic's ``include_name``: the partitions and ``response_key`` are not in the models
    (they are this module's), so autogenerate and the models comparison leave them out; so
    are the copies PostgreSQL makes of ``answer``'s foreign key for each partition of
    ``response`` (``answer_response_id_submitted_at_fkey1``, …: internal, unnamed by us)."""
    if type_ == "foreign_key_constraint" and name and name.startswith("answer_response_id_submitted_at_fkey"):
        return False
    if type_ == "table" and name is not None:
        if name == "response_key":
            return False
        for table in PARTITIONED:
            if name == partition_name(table, None) or (name.startswith(f"{table}_p") and _month_of(name)):
                return False
    return True


def _exec(connection: Connection, statement: str, **params) -> None:
    connection.execute(sa.text(statement), params) if params else connection.exec_driver_sql(statement)


def _sequence(connection: Connection, table: str) -> str:
    return connection.scalar(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})


def _create_partition(connection: Connection, table: str, month: date) -> None:
    _exec(connection, f"CREATE TABLE IF NOT EXISTS {partition_name(table, month)} PARTITION OF {table} "
                      f"FOR VALUES FROM ('{month:%Y-%m-%d}') TO ('{next_month(month):%Y-%m-%d}')")


def _model_indexes(connection: Connection, table: str) -> None:
    for index in sorted(Base.metadata.tables[table].indexes, key=lambda i: i.name):
        _exec(connection, str(CreateIndex(index).compile(dialect=connection.dialect)))


def _fk(table: str, referred: str):
    return next(fk for fk in Base.metadata.tables[table].foreign_key_constraints if fk.referred_table.name == referred)


def _add(connection: Connection, constraint) -> None:
    _exec(connection, str(AddConstraint(constraint, isolate_from_table=False).compile(dialect=connection.dialect)))


def partition_tables(connection: Connection, *, now: datetime | None = None, months_ahead: int = 2) -> None:
    """Turn the plain ``response`` and ``answer`` into partitioned tables, every row kept.

    The old tables are renamed, the new ones made ``LIKE`` them (columns, defaults — the
    same id sequences, so ids go on —, checks), one partition per month from the oldest
    response to ``months_ahead`` after ``now`` plus DEFAULT, the rows copied, the old tables
    dropped, then the keys and the models' indexes (partial ones included) built once over
    the copied rows. Does nothing on SQLite or on tables already partitioned."""
    if connection.dialect.name != "postgresql" or is_partitioned(connection):
        return
    now = now or datetime.now(timezone.utc)
    sequences = {table: _sequence(connection, table) for table in PARTITIONED}
    for table in PARTITIONED:
        _exec(connection, f"ALTER SEQUENCE {sequences[table]} OWNED BY NONE")
    _exec(connection, "ALTER TABLE dossier DROP CONSTRAINT IF EXISTS fk_dossier_response_id_response")
    _exec(connection, "ALTER TABLE comment_flag DROP CONSTRAINT IF EXISTS fk_comment_flag_answer_id_answer")
    # Every month from the oldest response to ``months_ahead`` after now, and any later month
    # that has responses (a clock far off): no row has to wait in DEFAULT.
    present = {month_start(m) for (m,) in connection.execute(sa.text(
        "SELECT DISTINCT date_trunc('month', submitted_at) FROM response"))}
    month, last = min(present | {month_start(now)}), next_month(month_start(now), months_ahead)
    months = present | set()
    while month <= last:
        months.add(month)
        month = next_month(month)
    for table in PARTITIONED:
        _exec(connection, f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
        _exec(connection, f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
                          "PARTITION BY RANGE (submitted_at)")
        _exec(connection, f"CREATE TABLE {partition_name(table, None)} PARTITION OF {table} DEFAULT")
    for month in sorted(months):
        for table in PARTITIONED:
            _create_partition(connection, table, month)
    for table in PARTITIONED:
        _exec(connection, f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned")
    for table in reversed(PARTITIONED):
        _exec(connection, f"DROP TABLE {table}_unpartitioned")
    for table in PARTITIONED:
        _exec(connection, f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id, submitted_at)")
        _exec(connection, f"ALTER SEQUENCE {sequences[table]} OWNED BY {table}.id")
        _model_indexes(connection, table)
    _exec(connection, "CREATE INDEX ix_response_idempotency ON response (campaign_id, idempotency_key)")
    for fk in sorted(Base.metadata.tables["response"].foreign_key_constraints, key=lambda c: c.name):
        _add(connection, fk)  # to campaign, unit, instrument_version: LIKE copies no foreign keys
    _exec(connection, "ALTER TABLE answer ADD CONSTRAINT fk_answer_response_id_response FOREIGN KEY "
                      "(response_id, submitted_at) REFERENCES response (id, submitted_at) ON DELETE CASCADE")
    _exec(connection, "CREATE TABLE response_key (id integer NOT NULL CONSTRAINT pk_response_key PRIMARY KEY, "
                      "campaign_id integer NOT NULL, idempotency_key varchar(64) NOT NULL, "
                      "CONSTRAINT uq_response_key_campaign_id UNIQUE (campaign_id, idempotency_key))")
    _exec(connection, "INSERT INTO response_key (id, campaign_id, idempotency_key) "
                      "SELECT id, campaign_id, idempotency_key FROM response")
    _exec(connection, _KEY_FUNCTION)
    _exec(connection, "CREATE TRIGGER hl_response_key AFTER INSERT OR DELETE OR UPDATE OF campaign_id, idempotency_key "
                      "ON response FOR EACH ROW EXECUTE FUNCTION hl_response_key()")
    _exec(connection, _FLAG_FUNCTION)
    _exec(connection, "CREATE TRIGGER hl_answer_flag AFTER DELETE ON answer FOR EACH ROW EXECUTE FUNCTION hl_answer_flag()")
    _exec(connection, "ALTER TABLE dossier ADD CONSTRAINT fk_dossier_response_id_response_key FOREIGN KEY (response_id) "
                      "REFERENCES response_key (id) ON DELETE SET NULL")


def unpartition_tables(connection: Connection) -> None:
    """The way back: plain ``response`` and ``answer`` with every row, the models' keys,
    indexes and foreign keys; ``response_key`` and the triggers go."""
    if connection.dialect.name != "postgresql" or not is_partitioned(connection):
        return
    sequences = {table: _sequence(connection, table) for table in PARTITIONED}
    _exec(connection, "ALTER TABLE dossier DROP CONSTRAINT IF EXISTS fk_dossier_response_id_response_key")
    _exec(connection, "DROP TRIGGER IF EXISTS hl_answer_flag ON answer")
    _exec(connection, "DROP TRIGGER IF EXISTS hl_response_key ON response")
    _exec(connection, "DROP FUNCTION IF EXISTS hl_answer_flag()")
    _exec(connection, "DROP FUNCTION IF EXISTS hl_response_key()")
    for table in PARTITIONED:
        _exec(connection, f"ALTER SEQUENCE {sequences[table]} OWNED BY NONE")
        _exec(connection, f"ALTER TABLE {table} RENAME TO {table}_partitioned")
        _exec(connection, f"CREATE TABLE {table} (LIKE {table}_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        _exec(connection, f"INSERT INTO {table} SELECT * FROM {table}_partitioned")
    for table in reversed(PARTITIONED):
        _exec(connection, f"DROP TABLE {table}_partitioned CASCADE")
    _exec(connection, "DROP TABLE response_key")
    for table in PARTITIONED:
        _exec(connection, f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
        _exec(connection, f"ALTER SEQUENCE {sequences[table]} OWNED BY {table}.id")
        _model_indexes(connection, table)
    for fk in sorted(Base.metadata.tables["response"].foreign_key_constraints, key=lambda c: c.name):
        _add(connection, fk)
    for constraint in Base.metadata.tables["response"].constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            _add(connection, constraint)
    _add(connection, _fk("answer", "response"))
    _exec(connection, "DELETE FROM comment_flag WHERE answer_id NOT IN (SELECT id FROM answer)")
    _add(connection, _fk("comment_flag", "answer"))
    _add(connection, _fk("dossier", "response"))


def list_partitions(session: Session) -> list[Partition]:
    """Every partition of the two tables with its (estimated, ``pg_class.reltuples``) row count;
    empty on SQLite or on plain tables."""
    connection = session.connection()
    if not is_partitioned(connection):
        return []
    rows = connection.execute(sa.text(
        "SELECT parent.relname, child.relname, greatest(child.reltuples, 0)::bigint FROM pg_inherits i "
        "JOIN pg_class parent ON parent.oid = i.inhparent JOIN pg_class child ON child.oid = i.inhrelid "
        "WHERE parent.relname IN ('response', 'answer') AND parent.relnamespace = current_schema()::regnamespace "
        "ORDER BY parent.relname DESC, child.relname"))
    return [Partition(table, name, None if name.endswith("_default") else _month_of(name), int(n))
            for table, name, n in rows]


@dataclass(frozen=True)
class Ensured:
    created: tuple[str, ...]  # partitions made
    moved: dict  # partition name → rows moved into it out of DEFAULT


def ensure_partitions(session: Session, months_ahead: int = 2, *, now: datetime | None = None) -> Ensured:
    """The partitions of this month and the ``months_ahead`` next, and of every month that
    has rows in DEFAULT (a back-dated paper import, a clock far off): each is created, and
    the DEFAULT rows of its month moved into it, answers before their responses. Commits;
    safe to run twice; does nothing on SQLite (plain tables)."""
    connection = session.connection()
    if not is_partitioned(connection):
        session.rollback()
        return Ensured((), {})
    now = now or datetime.now(timezone.utc)
    # One run at a time (the job and the command): a transaction-scoped advisory lock.
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('hl.ensure_partitions'))"))
    existing = {p.name for p in list_partitions(session)}
    months = {next_month(month_start(now), step) for step in range(months_ahead + 1)}
    for table in PARTITIONED:
        months |= {month_start(m) for (m,) in connection.execute(sa.text(
            f"SELECT DISTINCT date_trunc('month', submitted_at) FROM {partition_name(table, None)}"))}
    created, moved = [], {}
    for month in sorted(months):
        names = {table: partition_name(table, month) for table in PARTITIONED}
        if all(name in existing for name in names.values()):
            continue
        low, high = month, next_month(month)
        waiting = connection.scalar(sa.text(
            "SELECT count(*) FROM response_default WHERE submitted_at >= :low AND submitted_at < :high"),
            {"low": low, "high": high})
        if not waiting:
            for table in PARTITIONED:
                if names[table] not in existing:
                    _create_partition(connection, table, month)
                    created.append(names[table])
            continue
        # Rows of this month wait in DEFAULT: a partition cannot be attached over them. Copy
        # them into a table of their own, delete them from DEFAULT (answers first, so no
        # cascade reaches them; the triggers stand aside), then attach the table.
        connection.execute(sa.text(f"SET LOCAL {MOVING} = 'on'"))
        for table in reversed(PARTITIONED):  # answer, then response
            _exec(connection, f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        bounds = {"low": low, "high": high}
        for table in reversed(PARTITIONED):
            name = names[table]
            if name in existing:  # only the other table's partition was missing
                continue
            _exec(connection, f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            count = connection.execute(sa.text(
                f"WITH gone AS (DELETE FROM {partition_name(table, None)} "
                "WHERE submitted_at >= :low AND submitted_at < :high RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM gone"), bounds).rowcount
            moved[name] = count
        for table in PARTITIONED:  # response, then answer (its foreign key needs the responses)
            name = names[table]
            if name in existing:
                continue
            _exec(connection, f"ALTER TABLE {table} ATTACH PARTITION {name} "
                              f"FOR VALUES FROM ('{low:%Y-%m-%d}') TO ('{high:%Y-%m-%d}')")
            created.append(name)
        connection.execute(sa.text(f"SET LOCAL {MOVING} = 'off'"))
    session.commit()
    return Ensured(tuple(created), moved)


def create_months(session: Session, first: date, last: date) -> list[str]:
    """The partitions of every month from ``first`` to ``last`` (before a bulk load of past
    months, so no row goes through DEFAULT); a month with rows waiting in DEFAULT is left to
    :func:`ensure_partitions`, which moves them. Commits; nothing on plain tables."""
    connection = session.connection()
    if not is_partitioned(connection):
        return []
    existing = {p.name for p in list_partitions(session)}
    made, month = [], month_start(first)
    while month <= last:
        waiting = connection.scalar(sa.text(
            "SELECT count(*) FROM response_default WHERE submitted_at >= :low AND submitted_at < :high"),
            {"low": month, "high": next_month(month)})
        for table in PARTITIONED:
            if not waiting and partition_name(table, month) not in existing:
                _create_partition(connection, table, month)
                made.append(partition_name(table, month))
        month = next_month(month)
    session.commit()
    return made


def create_schema(connection: Connection) -> None:
    """Every table of the models, partitioned on PostgreSQL as the migrations leave it: what
    the tests build their databases with."""
    Base.metadata.create_all(connection)
    partition_tables(connection)
