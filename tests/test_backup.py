"""``flask backup`` / ``flask restore``: a round trip gives back every table, row for row.

On SQLite (online backup API) and PostgreSQL (pg_dump / pg_restore of the test's own
schema). The database holds the demo (instruments, tree, officials, responses, rollups).
"""
from __future__ import annotations

import sqlalchemy as sa

from survey_app.extensions import db
from survey_app.services.data import backup as service


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    engine = db.engine
    tables = {}
    with engine.connect() as conn:
        for name in sorted(sa.inspect(engine).get_table_names()):
            rows = conn.execute(sa.select(sa.text("*")).select_from(sa.table(name))).all()
            tables[name] = sorted((tuple(r) for r in rows), key=repr)
    return tables


def test_round_trip_keeps_every_table(demo_app, tmp_path):
    from survey_app.services.data import demo_history
    from survey_app.services.reports import rollup

    assert demo_history.add_history(db.session, months=2) > 0
    rollup.catch_up(db.session)
    db.session.commit()
    before = snapshot()
    assert before["response"], "the demo should hold responses for this test to mean anything"
    runner = demo_app.test_cli_runner()
    path = tmp_path / "b" / "hailong.backup"
    done = runner.invoke(args=["backup", "--output", str(path)])
    assert done.exit_code == 0, done.output
    assert f"{len(before)} tables" in done.output
    assert path.stat().st_size > 0 and (path.stat().st_mode & 0o777) == 0o600

    # Damage the live database: rows gone, rows changed, rows added.
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM answer"))
        conn.execute(sa.text("DELETE FROM response"))
        conn.execute(sa.text("UPDATE unit SET name_vi = 'hỏng'"))
    db.session.remove()
    assert snapshot() != before

    done = runner.invoke(args=["restore", str(path), "--yes"])
    assert done.exit_code == 0, done.output
    db.session.remove()
    after = snapshot()
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], f"table {name} differs after the round trip"


def test_restore_asks_first_and_refuses_what_is_not_a_backup(demo_app, tmp_path):
    before = snapshot()
    runner = demo_app.test_cli_runner()
    path = tmp_path / "x.backup"
    assert runner.invoke(args=["backup", "-o", str(path)]).exit_code == 0

    # A backup never overwrites a file.
    again = runner.invoke(args=["backup", "-o", str(path)])
    assert again.exit_code != 0 and "exists already" in again.output

    # Answering no to the question leaves the database alone.
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE unit SET name_vi = 'đổi'"))
    db.session.remove()
    changed = snapshot()
    no = runner.invoke(args=["restore", str(path)], input="n\n")
    assert no.exit_code != 0 and "Aborted" in no.output
    db.session.remove()
    assert snapshot() == changed

    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a database\n" * 10)
    bad = runner.invoke(args=["restore", str(junk), "--yes"])
    assert bad.exit_code != 0 and "not a" in bad.output
    missing = runner.invoke(args=["restore", str(tmp_path / "none"), "--yes"])
    assert missing.exit_code != 0 and "no such backup file" in missing.output
    db.session.remove()
    assert snapshot() == changed  # nothing half-written

    assert runner.invoke(args=["restore", str(path), "--yes"]).exit_code == 0
    db.session.remove()
    assert snapshot() == before


def test_backup_of_the_other_kind_is_refused(demo_app, tmp_path, backend):
    other = tmp_path / "other"
    if backend == "sqlite":
        other.write_bytes(service.PGDUMP_MAGIC + b"\x01\x0e" + b"\0" * 64)
        expected = "not a SQLite backup"
    else:
        import sqlite3
        sqlite3.connect(other).close()
        other.write_bytes(service.SQLITE_MAGIC + other.read_bytes()[16:])
        expected = "not a pg_dump archive"
    bad = demo_app.test_cli_runner().invoke(args=["restore", str(other), "--yes"])
    assert bad.exit_code != 0 and expected in bad.output, bad.output
