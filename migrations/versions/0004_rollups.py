"""Rollups: counts per cell, per-response statistics, factor moments, and the watermark.

Revision ID: 0004_rollups
Revises: 0003_officials
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_rollups"
down_revision = "0003_officials"
branch_labels = None
depends_on = None

DIMENSIONS = ("campaign_id", "unit_id", "instrument_version_id")


def _dimension_columns():
    return [
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("instrument_version_id", sa.Integer(), nullable=False),
    ]


def _foreign_keys(table):
    return [
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f(f"fk_{table}_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f(f"fk_{table}_unit_id_unit")),
        sa.ForeignKeyConstraint(["instrument_version_id"], ["instrument_version.id"],
                                name=op.f(f"fk_{table}_instrument_version_id_instrument_version")),
    ]


def upgrade():
    # A plain ADD COLUMN (SQLite supports it with a constant default): batch mode would
    # recreate "response".
    op.add_column("response", sa.Column("rolled_up", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_response_pending_rollup", "response", ["id"], unique=False,
                    postgresql_where=sa.text("NOT rolled_up"), sqlite_where=sa.text("rolled_up = 0"))

    op.create_table(
        "rollup_cell", *_dimension_columns(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("question_key", sa.String(length=32), nullable=False),
        sa.Column("value_key", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        *_foreign_keys("rollup_cell"),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "day", "channel", "trust", "question_key", "value_key",
                                name=op.f("pk_rollup_cell")),
    )
    op.create_index(op.f("ix_rollup_cell_unit_id"), "rollup_cell", ["unit_id"], unique=False)

    op.create_table(
        "rollup_response", *_dimension_columns(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("all_satisfied", sa.Integer(), nullable=False),
        sa.Column("points_n", sa.Integer(), nullable=False),
        sa.Column("points_sum", sa.BigInteger(), nullable=False),
        sa.Column("points_sumsq", sa.BigInteger(), nullable=False),
        *_foreign_keys("rollup_response"),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "day", "hour", "channel", "trust", name=op.f("pk_rollup_response")),
    )
    op.create_index(op.f("ix_rollup_response_unit_id"), "rollup_response", ["unit_id"], unique=False)

    op.create_table(
        "rollup_factor", *_dimension_columns(),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("factor_key", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sums", sa.JSON(), nullable=False),
        sa.Column("cross", sa.JSON(), nullable=False),
        *_foreign_keys("rollup_factor"),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "month", "channel", "trust", "factor_key", name=op.f("pk_rollup_factor")),
    )
    op.create_index(op.f("ix_rollup_factor_unit_id"), "rollup_factor", ["unit_id"], unique=False)

    op.create_table(
        "rollup_state",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("responses_rolled", sa.BigInteger(), nullable=False),
        sa.Column("last_response_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_state")),
    )


def downgrade():
    op.drop_table("rollup_state")
    for table in ("rollup_factor", "rollup_response", "rollup_cell"):
        op.drop_index(op.f(f"ix_{table}_unit_id"), table_name=table)
        op.drop_table(table)
    op.drop_index("ix_response_pending_rollup", table_name="response")
    # Not in batch mode: on SQLite that recreates "response", and with foreign keys on the
    # old table's removal would cascade-delete every answer. SQLite ≥ 3.35 drops columns.
    op.drop_column("response", "rolled_up")
