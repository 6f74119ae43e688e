"""Month-level rollups beside the day-level ones, so a report's cost does not grow with days.

* ``rollup_cell_month``: answers per (campaign, unit, version, local month, channel,
  trust, question, value);
* ``rollup_response_month``: ``rollup_response`` summed by local month, local weekday
  (0 = Monday) and hour (the hour × weekday pattern needs no day);
* ``rollup_cell`` becomes one row per (campaign, unit, version, local day, channel,
  trust) with the day's counts by question and value in a JSON object (``counts``),
  instead of one row per question and value: with a few responses per point and day that
  table was nearly as large as the answers, and writing it was most of the catch-up;
* the day-level tables are indexed by (unit, day) instead of unit alone: reports read
  them only for a month that their window starts or ends inside.

Both month tables are kept by the catch-up beside the day-level tables.
``rollup_factor`` and ``rollup_moments`` are already monthly and do not change.

Rollups are derived data. As in 0007, they are rebuilt rather than converted: every
rollup table is cleared (with ``rollup_state``) and every response marked not yet rolled
up, so the next catch-up (reports run it; ``flask rollup`` does too) rebuilds all of them,
day and month levels alike, from the answers, consistently. The downgrade does the same
with the old layout.

Self-contained: it touches only the rollup tables of 0004/0007 and ``response.rolled_up``
(0004), so it can follow any revision after 0007.

Revision ID: 0009_month_rollups
Revises: 0007_honest_numbers
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_month_rollups"
down_revision = "0007_honest_numbers"
branch_labels = None
depends_on = None

DIMENSIONS = ("campaign_id", "unit_id", "instrument_version_id")
SUMS = ("responses", "scored", "satisfied", "all_satisfied", "points_n", "points_sum", "points_sumsq")


def _dimension_columns():
    return [
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("instrument_version_id", sa.Integer(), nullable=False),
    ]


def _foreign_keys(table, state=False):
    keys = [
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f(f"fk_{table}_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f(f"fk_{table}_unit_id_unit")),
        sa.ForeignKeyConstraint(["instrument_version_id"], ["instrument_version.id"],
                                name=op.f(f"fk_{table}_instrument_version_id_instrument_version")),
    ]
    if state:
        keys.append(sa.ForeignKeyConstraint(["state_name"], ["rollup_state.name"], ondelete="CASCADE",
                                            name=op.f(f"fk_{table}_state_name_rollup_state")))
    return keys


def _clear_rollups():
    """Empty every rollup table and mark every response not rolled up (rebuilt by catch-up)."""
    for table in ("rollup_cell", "rollup_response", "rollup_factor", "rollup_moments", "rollup_state"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("UPDATE response SET rolled_up = :f").bindparams(f=False))


def upgrade():
    _clear_rollups()
    op.drop_index(op.f("ix_rollup_cell_unit_id"), table_name="rollup_cell")
    op.drop_table("rollup_cell")
    op.create_table(
        "rollup_cell", *_dimension_columns(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        *_foreign_keys("rollup_cell"),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "day", "channel", "trust", name=op.f("pk_rollup_cell")),
    )
    op.create_index(op.f("ix_rollup_cell_unit_id_day"), "rollup_cell", ["unit_id", "day"], unique=False)
    op.create_index(op.f("ix_rollup_response_unit_id_day"), "rollup_response", ["unit_id", "day"], unique=False)
    op.drop_index(op.f("ix_rollup_response_unit_id"), table_name="rollup_response")

    op.create_table(
        "rollup_cell_month", *_dimension_columns(),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("question_key", sa.String(length=32), nullable=False),
        sa.Column("value_key", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("state_name", sa.String(length=20), nullable=False),
        *_foreign_keys("rollup_cell_month", state=True),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "month", "channel", "trust", "question_key", "value_key",
                                name=op.f("pk_rollup_cell_month")),
    )
    op.create_index(op.f("ix_rollup_cell_month_unit_id"), "rollup_cell_month", ["unit_id"], unique=False)
    op.create_table(
        "rollup_response_month", *_dimension_columns(),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        *(sa.Column(c, sa.BigInteger() if c.startswith("points_s") else sa.Integer(), nullable=False) for c in SUMS),
        sa.Column("state_name", sa.String(length=20), nullable=False),
        *_foreign_keys("rollup_response_month", state=True),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "month", "weekday", "hour", "channel", "trust",
                                name=op.f("pk_rollup_response_month")),
    )
    op.create_index(op.f("ix_rollup_response_month_unit_id"), "rollup_response_month", ["unit_id"], unique=False)


def downgrade():
    for table in ("rollup_response_month", "rollup_cell_month"):
        op.drop_index(op.f(f"ix_{table}_unit_id"), table_name=table)
        op.drop_table(table)
    _clear_rollups()
    op.create_index(op.f("ix_rollup_response_unit_id"), "rollup_response", ["unit_id"], unique=False)
    op.drop_index(op.f("ix_rollup_response_unit_id_day"), table_name="rollup_response")
    op.drop_index(op.f("ix_rollup_cell_unit_id_day"), table_name="rollup_cell")
    op.drop_table("rollup_cell")
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
