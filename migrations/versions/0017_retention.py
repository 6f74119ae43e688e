"""Retention (issue #19, item 4): a partial index over the responses that still hold a keyed
device or address hash, so the daily purge reads only those rows (the last day or two),
not the whole table.

Revision ID: 0017_retention
Revises: 0016_alerts
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_retention"
down_revision = "0016_alerts"
branch_labels = None
depends_on = None

HASHED = "device_hash IS NOT NULL OR address_hash IS NOT NULL"


def upgrade():
    op.create_index("ix_response_hashed", "response", ["submitted_at"], unique=False,
                    sqlite_where=sa.text(HASHED), postgresql_where=sa.text(HASHED))


def downgrade():
    op.drop_index("ix_response_hashed", table_name="response",
                  sqlite_where=sa.text(HASHED), postgresql_where=sa.text(HASHED))
