"""Old responses retired by whole monthly partitions (issue #19, item 4; PostgreSQL only).

The policy (docs/PRIVACY.md, Law 91/2025/QH15 on personal data): responses and their answers
are kept ``RESPONSE_KEEP_MONTHS`` whole months after the month they were sent in (unset, the
default: kept for ever). A month older than that is, in this order:

1. brought into the rollups if any of its responses is not yet (reports read the rollups,
   so every figure of that month stays as it was; the free-text answers go with the month);
2. archived: each partition (``answer_p2024_01``, ``response_p2024_01``) written by ``COPY``
   as a CSV with a header, gzip-compressed, to ``RESPONSE_ARCHIVE_DIR`` (one file each, and
   its SHA-256 in the audit); a month is dropped only after both files are complete;
3. unlinked: the comment flags of its answers deleted, the idempotency keys of its responses
   deleted (``response_key``), which clears the links of the dossiers rated by them;
4. detached from its table and dropped, answers before responses.

Each run writes one audit event, ``retention.responses``, with the months dropped, the rows
and the files, also when nothing was old enough. Rows still in DEFAULT are first moved into
their month (:func:`partitions.ensure_partitions`), so nothing old hides there. On SQLite
(plain tables) nothing is deleted: :class:`NotPartitioned` says so, and the command prints it.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..officials import audit
from . import partitions

__all__ = ["NotPartitioned", "Retired", "cutoff_month", "retire_old_months"]


class NotPartitioned(Exception):
    """Whole-month retention needs PostgreSQL's monthly partitions."""


@dataclass(frozen=True)
class Retired:
    cutoff: date  # months before this one were old enough
    months: tuple[str, ...]  # "2024-01", … dropped (or, dry run, that would be)
    responses: int
    answers: int
    files: tuple[str, ...] = ()
    dry_run: bool = False
    skipped: dict = field(default_factory=dict)  # month → why it stays


def cutoff_month(now: datetime, keep_months: int) -> date:
    """The first month kept: this month and the ``keep_months`` before it stay."""
    return partitions.next_month(partitions.month_start(now), -keep_months)


def _archive(session: Session, name: str, directory: Path) -> tuple[str, str, int]:
    """``COPY`` one partition to ``directory/name.csv.gz`` (written aside, then renamed into
    place, so a file under that name is always whole); (path, sha256 of the file, rows)."""
    target = directory / f"{name}.csv.gz"
    partial = directory / f".{name}.csv.gz.partial"
    digest = hashlib.sha256()
    rows = session.connection().scalar(sa.text(f"SELECT count(*) FROM {name}"))
    cursor = session.connection().connection.driver_connection.cursor()
    with gzip.open(partial, "wb") as out, cursor.copy(f"COPY {name} TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
        for chunk in copy:
            out.write(bytes(chunk))
    with open(partial, "rb") as done:
        for block in iter(lambda: done.read(1 << 20), b""):
            digest.update(block)
    os.replace(partial, target)
    return str(target), digest.hexdigest(), rows


def retire_old_months(session: Session, *, keep_months: int, archive_dir: str | os.PathLike | None,
                      now: datetime | None = None, dry_run: bool = False) -> Retired:
    """Archive and drop every monthly partition older than ``keep_months`` (see the module)."""
    if not partitions.is_partitioned(session.connection()):
        session.rollback()
        raise NotPartitioned("Whole-month retention of responses works on PostgreSQL, whose response and answer "
                             "tables are partitioned by month; this database has plain tables and nothing was deleted.")
    if keep_months < 1:
        raise ValueError("keep_months must be at least 1")
    now = now or datetime.now(timezone.utc)
    cutoff = cutoff_month(now, keep_months)
    if not dry_run:
        partitions.ensure_partitions(session, now=now)
    existing = {(p.table, p.month) for p in partitions.list_partitions(session) if p.month is not None}
    connection = session.connection()
    count = lambda sql, **kw: connection.scalar(sa.text(sql), kw)  # noqa: E731
    months = {m for t, m in existing if t == "response" and m < cutoff}
    # (a dry run moves nothing: old rows still waiting in DEFAULT count with their month)
    months |= {partitions.month_start(m) for (m,) in connection.execute(sa.text(
        "SELECT DISTINCT date_trunc('month', submitted_at) FROM response_default WHERE submitted_at < :c"),
        {"c": cutoff})}
    months = sorted(months)
    totals = {"responses": count("SELECT count(*) FROM response WHERE submitted_at < :c", c=cutoff),
              "answers": count("SELECT count(*) FROM answer WHERE submitted_at < :c", c=cutoff)}
    if dry_run:
        session.rollback()
        return Retired(cutoff, tuple(f"{m:%Y-%m}" for m in months), totals["responses"], totals["answers"],
                       dry_run=True)
    months = [m for m in months if ("response", m) in existing]  # DEFAULT was emptied just now
    if months and not archive_dir:
        raise ValueError("RESPONSE_ARCHIVE_DIR is not set: old months are archived before they are dropped; "
                         "set it to a directory to write the archives to.")
    skipped: dict[str, str] = {}
    if months and count(f"SELECT count(*) FROM response WHERE NOT rolled_up AND submitted_at < '{cutoff:%Y-%m-%d}'"):
        from ..reports import rollup  # the figures of those months first

        rollup.catch_up(session)
    dropped, files, details, done = [], [], [], {"responses": 0, "answers": 0}
    directory = Path(archive_dir) if archive_dir else None
    if directory is not None and months:
        directory.mkdir(parents=True, exist_ok=True)
    for month in months:
        label = f"{month:%Y-%m}"
        response_name = partitions.partition_name("response", month)
        answer_name = partitions.partition_name("answer", month)
        if count(f"SELECT count(*) FROM {response_name} WHERE NOT rolled_up"):
            skipped[label] = "not rolled up"
            continue
        # No row can come into this month while it is archived and dropped (a back-dated
        # import waits, then lands in DEFAULT, to be archived by a later run).
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('hl.ensure_partitions'))"))
        names = [n for t, n in (("answer", answer_name), ("response", response_name)) if (t, month) in existing]
        connection.exec_driver_sql(f"LOCK TABLE {', '.join(names)} IN SHARE MODE")
        archived = []
        for table, name in (("answer", answer_name), ("response", response_name)):
            if (table, month) in existing:
                path, sha, rows = _archive(session, name, directory)
                archived.append({"file": path, "sha256": sha, "rows": rows})
                files.append(path)
                done["answers" if table == "answer" else "responses"] += rows
        if ("answer", month) in existing:
            connection.exec_driver_sql(f"DELETE FROM comment_flag WHERE answer_id IN (SELECT id FROM {answer_name})")
        connection.exec_driver_sql(f"DELETE FROM response_key WHERE id IN (SELECT id FROM {response_name})")
        for table, name in (("answer", answer_name), ("response", response_name)):
            if (table, month) in existing:
                connection.exec_driver_sql(f"ALTER TABLE {table} DETACH PARTITION {name}")
                connection.exec_driver_sql(f"DROP TABLE {name}")
        session.commit()
        dropped.append(label)
        details.append({"month": label, "archives": archived})
    audit.record(session, "retention.responses", target="retention",
                 detail={"months": dropped, "responses": done["responses"], "answers": done["answers"],
                         "keep_months": keep_months, "cutoff": cutoff.isoformat(),
                         "archive_dir": str(directory) if directory else "", "archives": details,
                         "skipped": sorted(skipped)})
    session.commit()
    return Retired(cutoff, tuple(dropped), done["responses"], done["answers"], tuple(files), False, skipped)
