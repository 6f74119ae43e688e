"""The first migration builds the whole schema from empty, and agrees with the models."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from survey_app.extensions import db
from survey_app.services.data import partitions

EXPECTED_TABLES = {"unit", "instrument", "instrument_version", "campaign", "campaign_unit", "response", "answer"}


def test_upgrade_from_empty_creates_every_table(empty_app):
    inspector = sa.inspect(db.engine)
    assert set(inspector.get_table_names()) == set()
    flask_migrate.upgrade(revision="heads")
    tables = set(sa.inspect(db.engine).get_table_names())
    assert EXPECTED_TABLES <= tables
    assert "alembic_version" in tables


def _named(difference) -> tuple[str, str, str] | None:
    """(kind, table, name) of one autogenerate difference that concerns one object."""
    if not isinstance(difference, tuple) or len(difference) != 2:
        return None
    kind, obj = difference
    table = getattr(obj, "table", None)
    return (kind, getattr(table, "name", None), getattr(obj, "name", None))


def test_models_and_migrations_agree(empty_app):
    """Equal on SQLite; on PostgreSQL equal but for the differences the monthly partitions
    force, each listed in ``partitions.PG_ONLY_DIFFERENCES`` (and explained there), all of
    which must be there: a partitioned schema that lost one is a regression too."""
    flask_migrate.upgrade(revision="heads")
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                        "include_name": partitions.include_name})
        diff = compare_metadata(context, db.metadata)
    if db.engine.dialect.name == "postgresql":
        assert {_named(d) for d in diff} == partitions.PG_ONLY_DIFFERENCES, f"models and migrations differ: {diff}"
        assert len(diff) == len(partitions.PG_ONLY_DIFFERENCES)
    else:
        assert diff == [], f"models and migrations differ: {diff}"


def test_test_schemas_are_the_migrated_schema(app):
    """The test databases (``create_schema``) differ from the models exactly as a migrated
    one does: the same partitioned layout on PostgreSQL, none on SQLite."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                        "include_name": partitions.include_name})
        diff = compare_metadata(context, db.metadata)
    expected = partitions.PG_ONLY_DIFFERENCES if db.engine.dialect.name == "postgresql" else set()
    assert {_named(d) for d in diff} == expected and len(diff) == len(expected), diff


def test_downgrade_to_empty_and_back(empty_app):
    flask_migrate.upgrade(revision="heads")
    flask_migrate.downgrade(revision="base")
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
    flask_migrate.upgrade(revision="heads")
    assert EXPECTED_TABLES <= set(sa.inspect(db.engine).get_table_names())


def test_data_survives_upgrade_and_downgrade(empty_app):
    """Answers given before a migration are still there after it, and after going back.

    On SQLite a batch-mode ALTER recreates a table; with foreign keys on, dropping the old
    ``response`` would cascade-delete every answer. This guards against that.
    """
    flask_migrate.upgrade(revision="0001")
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO unit (id, slug, path, kind, name_vi, name_en, code, is_service_point, active, created_at) "
                             "VALUES (1, 'p', '/p/', 'one_stop', 'Điểm', 'Point', 'pt1', true, true, '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO instrument (id, key, created_at) VALUES (1, 'x', '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO instrument_version (id, instrument_id, number, content_hash, snapshot, source_name, created_at) "
                             "VALUES (1, 1, 1, 'h', '{}', 'x.toml', '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO campaign (id, name, instrument_version_id, access_mode, status, created_at) "
                             "VALUES (1, 'c', 1, 'open', 'open', '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO response (id, campaign_id, unit_id, instrument_version_id, channel, language, submitted_at, trust, idempotency_key) "
                             "VALUES (1, 1, 1, 1, 'qr', 'vi', '2026-01-02 03:00:00', 'ok', 'k1')"))
        conn.execute(sa.text("INSERT INTO answer (id, response_id, question_key, value_int) VALUES (1, 1, 'q1', 5)"))

    def answers() -> int:
        with db.engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM answer")).scalar_one()

    flask_migrate.upgrade(revision="heads")
    assert answers() == 1
    flask_migrate.downgrade(revision="0001")
    assert answers() == 1


def test_sqlite_connections_keep_foreign_keys_after_migrating(empty_app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite pragma: PostgreSQL always enforces foreign keys")
    flask_migrate.upgrade(revision="heads")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1


def test_a_kiosk_keeps_its_row_through_0015_and_loses_only_a_deleted_campaign(empty_app):
    """0015 adds the campaign a kiosk shows (issue #15): existing kiosks keep every column
    and have no choice; deleting the chosen campaign clears the choice (ON DELETE SET NULL);
    going back drops only the column."""
    flask_migrate.upgrade(revision="0014_lineage")
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO unit (id, slug, path, kind, name_vi, name_en, code, is_service_point, active, created_at) "
                             "VALUES (1, 'p', '/p/', 'one_stop', 'Điểm', 'Point', 'pt1', true, true, '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO instrument (id, key, created_at) VALUES (1, 'quick-feedback', '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO instrument_version (id, instrument_id, number, content_hash, snapshot, source_name, created_at) "
                             "VALUES (1, 1, 1, 'h', '{}', 'x.toml', '2026-01-01 00:00:00')"))
        for campaign_id in (1, 2):
            conn.execute(sa.text("INSERT INTO campaign (id, name, instrument_version_id, access_mode, status, created_at) "
                                 f"VALUES ({campaign_id}, 'c', 1, 'open', 'open', '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO kiosk (id, unit_id, label, enrol_hash, enrol_expires_at, key_hash, created_at, enrolled_at) "
                             "VALUES (1, 1, 'Quầy 1', 'e', '2026-01-02 00:00:00', 'k', '2026-01-01 00:00:00', '2026-01-01 01:00:00')"))

    def kiosk() -> dict:
        with db.engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT * FROM kiosk")).mappings().one())

    flask_migrate.upgrade(revision="0015_kiosk_campaign")
    row = kiosk()
    assert (row["label"], row["key_hash"], row["campaign_id"]) == ("Quầy 1", "k", None)
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE kiosk SET campaign_id = 2"))
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM campaign WHERE id = 1"))
    assert kiosk()["campaign_id"] == 2, "deleting another campaign changes nothing"
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM campaign WHERE id = 2"))
    assert kiosk()["campaign_id"] is None
    flask_migrate.downgrade(revision="0014_lineage")
    row = kiosk()
    assert "campaign_id" not in row and (row["label"], row["key_hash"]) == ("Quầy 1", "k")
