"""The first migration builds the whole schema from empty, and agrees with the models."""
from __future__ import annotations

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from survey_app.extensions import db

EXPECTED_TABLES = {"unit", "instrument", "instrument_version", "campaign", "campaign_unit", "response", "answer"}


def test_upgrade_from_empty_creates_every_table(empty_app):
    inspector = sa.inspect(db.engine)
    assert set(inspector.get_table_names()) == set()
    flask_migrate.upgrade(revision="heads")
    tables = set(sa.inspect(db.engine).get_table_names())
    assert EXPECTED_TABLES <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_agree(empty_app):
    flask_migrate.upgrade(revision="heads")
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_downgrade_to_empty_and_back(empty_app):
    flask_migrate.upgrade(revision="heads")
    flask_migrate.downgrade(revision="base")
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
    flask_migrate.upgrade(revision="heads")
    assert EXPECTED_TABLES <= set(sa.inspect(db.engine).get_table_names())
