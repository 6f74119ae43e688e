"""Monthly partitions of ``response`` and ``answer`` (issue #19, item 3): the migration up
and down with every row kept, the partitions' upkeep, and the rules the partitioned layout
keeps (idempotency, dossier links, comment flags). PostgreSQL only: SQLite keeps plain tables.
"""
from __future__ import annotations

from datetime import datetime, timezone

import flask_migrate
import pytest
import sqlalchemy as sa

from survey_app.extensions import db
from survey_app.services.data import partitions

#: A "now" for ensure_partitions later than any month the migration made (it makes up to two after today).
NOW = datetime(2040, 3, 15, 9, tzinfo=timezone.utc)


@pytest.fixture
def pg_app(empty_app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: on SQLite response and answer stay plain tables (no partitions to test)")
    return empty_app


def run(sql: str, **params):
    with db.engine.begin() as conn:
        return conn.execute(sa.text(sql), params)


def rows(sql: str, **params) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def children(table: str) -> set[str]:
    return {name for (name,) in rows(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE p.relname = :t AND p.relnamespace = current_schema()::regnamespace", t=table)}


def seed() -> None:
    """At 0020: two responses in January and February 2026, three answers, a dossier linked to
    the first response, a hidden comment flag on its text answer."""
    run("INSERT INTO unit (id, slug, path, kind, name_vi, name_en, code, is_service_point, active, created_at) "
        "VALUES (1, 'p', '/p/', 'one_stop', 'Điểm', 'Point', 'pt1', true, true, '2026-01-01 00:00:00')")
    run("INSERT INTO instrument (id, key, created_at) VALUES (1, 'x', '2026-01-01 00:00:00')")
    run("INSERT INTO instrument_version (id, instrument_id, number, content_hash, snapshot, source_name, created_at) "
        "VALUES (1, 1, 1, 'h', '{}', 'x.toml', '2026-01-01 00:00:00')")
    run("INSERT INTO campaign (id, name, instrument_version_id, access_mode, status, created_at) "
        "VALUES (1, 'c', 1, 'open', 'open', '2026-01-01 00:00:00')")
    for rid, at in ((1, "2026-01-20 03:00:00"), (2, "2026-02-03 23:59:59")):
        run("INSERT INTO response (campaign_id, unit_id, instrument_version_id, channel, language, submitted_at, "
            "trust, idempotency_key, device_hash) VALUES (1, 1, 1, 'qr', 'vi', :at, 'ok', :k, 'abc')", at=at, k=f"k{rid}")
    run("INSERT INTO answer (response_id, question_key, value_int) VALUES (1, 'q1', 5), (2, 'q1', 3)")
    run("INSERT INTO answer (response_id, question_key, value_text) VALUES (1, 'comment', 'Nhanh, tốt')")
    run("INSERT INTO comment_flag (answer_id, hidden, changed_at) VALUES (3, true, '2026-01-21 00:00:00')")
    run("INSERT INTO dossier (code, unit_id, procedure_code, procedure_name, sector, received_at, status, "
        "waited_minutes, document_requests, petition, check_code, response_id, source, created_at, updated_at, created_by) "
        "VALUES ('HS1', 1, 'p', 'Thủ tục', 'Tư pháp', '2026-01-19 02:00:00', 'returned', 5, 0, false, 'abcd', 1, "
        "'api', '2026-01-19 02:00:00', '2026-01-19 02:00:00', 'test')")


def snapshot() -> dict:
    return {
        "response": rows("SELECT id, submitted_at, idempotency_key, device_hash FROM response ORDER BY id"),
        "answer": rows("SELECT id, response_id, question_key, value_int, value_text FROM answer ORDER BY id"),
        "flag": rows("SELECT answer_id, hidden FROM comment_flag ORDER BY answer_id"),
        "dossier": rows("SELECT code, response_id FROM dossier ORDER BY code"),
    }


def add_response(key: str, at: str) -> int:
    return run("INSERT INTO response (campaign_id, unit_id, instrument_version_id, channel, language, submitted_at, "
               "trust, idempotency_key) VALUES (1, 1, 1, 'qr', 'vi', :at, 'ok', :k) RETURNING id",
               at=at, k=key).scalar_one()


def test_the_migration_partitions_keeps_every_row_and_goes_back(pg_app):
    flask_migrate.upgrade(revision="0021_export_jobs")
    seed()
    before = snapshot()

    flask_migrate.upgrade(revision="0022_partitions")
    assert snapshot() == before
    assert rows("SELECT id, submitted_at FROM answer ORDER BY id") == [
        (1, datetime(2026, 1, 20, 3)), (2, datetime(2026, 2, 3, 23, 59, 59)), (3, datetime(2026, 1, 20, 3))]
    assert {"response_p2026_01", "response_p2026_02", "response_default"} <= children("response")
    assert {"answer_p2026_01", "answer_p2026_02", "answer_default"} <= children("answer")
    assert rows("SELECT count(*) FROM ONLY response_p2026_02") == [(1,)]
    assert rows("SELECT count(*) FROM ONLY answer_p2026_01") == [(2,)]
    assert rows("SELECT id, campaign_id, idempotency_key FROM response_key ORDER BY id") == [(1, 1, "k1"), (2, 1, "k2")]

    # ids go on from the kept sequences; a month without a partition lands in DEFAULT
    new = add_response("k3", "2031-07-04 10:00:00")
    assert new == 3
    run("INSERT INTO answer (response_id, submitted_at, question_key, value_int) VALUES (3, '2031-07-04 10:00:00', 'q1', 4)")
    assert rows("SELECT count(*) FROM ONLY response_default") == [(1,)]
    # the idempotency key stays unique across partitions
    with pytest.raises(sa.exc.IntegrityError):
        add_response("k1", "2026-02-10 00:00:00")
    after = snapshot()

    flask_migrate.downgrade(revision="0021_export_jobs")
    assert not partitions.is_partitioned(db.engine.connect())
    assert snapshot() == after
    assert "submitted_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns("answer")}
    with pytest.raises(sa.exc.IntegrityError):  # the plain table's unique key is back
        add_response("k2", "2026-02-10 00:00:00")
    assert add_response("k4", "2026-03-01 00:00:00") == 6  # the sequence went on: the two refused inserts took 4 and 5

    flask_migrate.upgrade(revision="0022_partitions")
    assert len(snapshot()["response"]) == 4 and len(snapshot()["answer"]) == 4
    assert "response_p2031_07" in children("response")
    assert rows("SELECT count(*) FROM response_default") == [(0,)]


def test_deleting_a_response_keeps_the_rules_of_the_plain_tables(pg_app):
    """Cascade to answers and their flags, the dossier's link cleared, the key freed."""
    flask_migrate.upgrade(revision="0021_export_jobs")
    seed()
    flask_migrate.upgrade(revision="heads")
    run("DELETE FROM response WHERE id = 1")
    assert rows("SELECT id FROM answer ORDER BY id") == [(2,)]
    assert rows("SELECT count(*) FROM comment_flag") == [(0,)]
    assert rows("SELECT response_id FROM dossier") == [(None,)]
    assert rows("SELECT id FROM response_key") == [(2,)]
    add_response("k1", "2026-03-02 00:00:00")  # the key is free again


def test_ensure_creates_the_coming_months_and_moves_rows_out_of_default(pg_app):
    flask_migrate.upgrade(revision="0021_export_jobs")
    seed()
    flask_migrate.upgrade(revision="heads")
    late = add_response("late", "2032-05-06 07:00:00")
    run("INSERT INTO answer (response_id, submitted_at, question_key, value_text) "
        "VALUES (:r, '2032-05-06 07:00:00', 'comment', 'Chậm')", r=late)
    answer_id = rows("SELECT id FROM answer WHERE response_id = :r", r=late)[0][0]
    run("INSERT INTO comment_flag (answer_id, hidden, changed_at) VALUES (:a, true, '2032-05-07 00:00:00')", a=answer_id)
    run("UPDATE dossier SET response_id = :r", r=late)
    before = snapshot()

    done = partitions.ensure_partitions(db.session, months_ahead=2, now=NOW)
    assert {"response_p2040_03", "response_p2040_04", "response_p2040_05", "answer_p2040_05", "response_p2032_05",
            "answer_p2032_05"} <= set(done.created)
    assert done.moved == {"answer_p2032_05": 1, "response_p2032_05": 1}
    assert snapshot() == before  # moved, not lost: keys, flags and the dossier's link stay
    assert rows("SELECT count(*) FROM ONLY response_p2032_05") == [(1,)]
    assert rows("SELECT count(*) FROM response_default") == [(0,)]
    assert rows("SELECT id FROM response_key WHERE idempotency_key = 'late'") == [(late,)]
    # twice is harmless
    assert partitions.ensure_partitions(db.session, months_ahead=2, now=NOW).created == ()
    listed = {p.name: p for p in partitions.list_partitions(db.session)}
    assert listed["response_p2032_05"].month.isoformat() == "2032-05-01"
    assert listed["response_default"].month is None
    # the moved rows keep the rules: deleting the response cascades as before
    run("DELETE FROM response WHERE id = :r", r=late)
    assert rows("SELECT count(*) FROM comment_flag") == [(1,)]  # the January flag stays
    assert rows("SELECT response_id FROM dossier") == [(None,)]


def test_the_test_schema_is_partitioned_as_production(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: on SQLite the test schema has the plain tables")
    assert partitions.is_partitioned(db.session.connection(), "response")
    assert partitions.is_partitioned(db.session.connection(), "answer")
    assert "response_default" in children("response")


def test_the_daily_job_and_the_command(variant):
    """``flask partitions ensure|list`` and the worker's ``ensure_partitions``: on PostgreSQL
    they prepare and show the months; on SQLite they say the tables are plain."""
    from survey_app.jobs import get_jobs
    from survey_app.models import JobRun

    app = variant(HUEY_IMMEDIATE=True, PARTITION_MONTHS_AHEAD=3)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["partitions", "list"])
    ensured = runner.invoke(args=["partitions", "ensure"])
    assert listed.exit_code == 0 and ensured.exit_code == 0, (listed.output, ensured.output)
    get_jobs(app).ensure_partitions()
    runs = db.session.scalars(sa.select(JobRun).where(JobRun.task == "ensure_partitions")).all()
    assert [r.status for r in runs] == ["complete"]
    if db.engine.dialect.name != "postgresql":
        assert "PostgreSQL only" in listed.output and "plain tables" in ensured.output
        return
    month = partitions.next_month(partitions.month_start(datetime.now(timezone.utc)), 3)
    assert f"{partitions.partition_name('response', month)}" in ensured.output  # the third month ahead is new
    assert "DEFAULT" in listed.output and "response_p" in listed.output
    again = runner.invoke(args=["partitions", "ensure"])
    assert "created 0 partition(s)" in again.output


def _report(start, end) -> tuple:
    from survey_app.services.reports import build as reports

    unit = reports.find_unit(db.session, "/vn/qt/")
    r = reports.make_report(db.session, reports.ReportRequest(unit=unit, instrument_key="sipas", date_from=start,
                                                              date_to=end, include_suspect=True))
    return (r["responses"], r["index"]["value"], tuple((t["period"], t["n"]) for t in r["trend"]),
            tuple((q["key"], tuple(q["counts"].items())) for q in r["questions"] if q["type"] == "scale"))


def test_old_months_are_archived_and_dropped_whole_and_the_reports_keep_their_figures(demo_app, tmp_path):
    """RESPONSE_KEEP_MONTHS: older months archived (CSV.gz per partition, every row), their
    flags and keys gone, the partitions dropped, one audit event; the report over those months
    is the same after, from the rollups. SQLite: refused with a sentence, nothing deleted."""
    import csv
    import gzip
    from datetime import date, timedelta

    from helpers import add_response
    from survey_app.services.collect.instruments import latest_version
    from survey_app.models import AuditEvent
    from survey_app.services.data import partition_retention
    from survey_app.services.officials import audit_text

    now = datetime.now(timezone.utc)
    old = datetime(now.year - 2, 1, 10, 3, tzinfo=timezone.utc)  # January two years ago
    keys = [q["key"] for q in latest_version(db.session, "sipas").snapshot["questions"] if q["type"] == "scale"]
    for i in range(6):
        add_response("p2motcua", [(k, 1 + (i + j) % 5, None) for j, k in enumerate(keys)], old + timedelta(days=i))
    if db.engine.dialect.name != "postgresql":
        with pytest.raises(partition_retention.NotPartitioned, match="PostgreSQL"):
            partition_retention.retire_old_months(db.session, keep_months=12, archive_dir=tmp_path)
        assert db.session.scalar(sa.text("SELECT count(*) FROM response WHERE submitted_at < :t"),
                                 {"t": old.replace(tzinfo=None) + timedelta(days=10)}) == 6
        return
    from survey_app.services.reports import rollup

    rollup.catch_up(db.session)
    window = (date(old.year, 1, 1), date(old.year, 1, 31))
    before = _report(*window)
    assert before[0] == 6
    cutoff = partition_retention.cutoff_month(now, 12)
    old_ids = [r for (r,) in db.session.execute(sa.text("SELECT id FROM response WHERE submitted_at < :c"),
                                                {"c": cutoff})]
    old_answers = db.session.scalar(sa.text("SELECT count(*) FROM answer WHERE submitted_at < :c"), {"c": cutoff})
    kept = db.session.scalar(sa.text("SELECT count(*) FROM response WHERE submitted_at >= :c"), {"c": cutoff})
    some_answer = db.session.scalar(sa.text("SELECT min(id) FROM answer WHERE response_id = :r"), {"r": old_ids[0]})
    db.session.execute(sa.text("INSERT INTO comment_flag (answer_id, hidden, changed_at) VALUES (:a, true, now())"),
                       {"a": some_answer})
    db.session.commit()

    dry = partition_retention.retire_old_months(db.session, keep_months=12, archive_dir=tmp_path, dry_run=True)
    assert dry.responses == len(old_ids) and dry.answers == old_answers and not list(tmp_path.iterdir())
    done = partition_retention.retire_old_months(db.session, keep_months=12, archive_dir=tmp_path)
    assert f"{old:%Y-%m}" in done.months and done.responses == len(old_ids) and done.answers == old_answers
    assert db.session.scalar(sa.text("SELECT count(*) FROM response WHERE submitted_at < :c"), {"c": cutoff}) == 0
    assert db.session.scalar(sa.text("SELECT count(*) FROM response")) == kept
    assert db.session.scalar(sa.text("SELECT count(*) FROM response_key WHERE id = ANY(:ids)"), {"ids": old_ids}) == 0
    assert db.session.scalar(sa.text("SELECT count(*) FROM comment_flag WHERE answer_id = :a"), {"a": some_answer}) == 0
    assert partitions.partition_name("response", partitions.month_start(old)) not in children("response")
    with gzip.open(tmp_path / f"{partitions.partition_name('response', partitions.month_start(old))}.csv.gz", "rt") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and {r["unit_id"] for r in rows} and all(r["idempotency_key"] for r in rows)
    archived = sum(1 for p in tmp_path.glob("response_p*.csv.gz") for _ in gzip.open(p, "rt")) - len(done.months)
    assert archived == len(old_ids)  # every archived line is a response (a header per file)
    assert _report(*window) == before  # the figures come from the rollups, which stay

    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "retention.responses")).one()
    assert event.detail["responses"] == len(old_ids) and event.detail["keep_months"] == 12
    assert len(event.detail["archives"]) == len(done.months)
    with demo_app.test_request_context("/"):
        assert audit_text.left_over(event) == []
    # a second run finds nothing old enough, and says so in the audit too
    again = partition_retention.retire_old_months(db.session, keep_months=12, archive_dir=tmp_path)
    assert again.months == () and db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "retention.responses")) == 2


def test_the_retention_command_retires_whole_months_on_postgresql_only(variant, tmp_path):
    plain = variant().test_cli_runner().invoke(args=["retention"])
    assert plain.exit_code == 0 and "kept for ever" in plain.output
    app = variant(RESPONSE_KEEP_MONTHS=12, RESPONSE_ARCHIVE_DIR=str(tmp_path / "archive"))
    done = app.test_cli_runner().invoke(args=["retention", "--dry-run"])
    if db.engine.dialect.name != "postgresql":
        assert done.exit_code == 1 and "works on PostgreSQL" in done.output and "nothing was deleted" in done.output
        return
    assert done.exit_code == 0 and "would archive and drop" in done.output, done.output
    done = app.test_cli_runner().invoke(args=["retention"])
    assert done.exit_code == 0 and "archived and dropped" in done.output, done.output
