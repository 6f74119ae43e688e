"""Month-level rollups beside the day-level ones, so a report's cost does not grow with days.

* ``rollup_cell_month``: ``rollup_cell`` summed by local month;
* ``rollup_response_month``: ``rollup_response`` summed by local month, local weekday
  (0 = Monday) and hour (the hour × weekday pattern needs no day);
* the day-level tables are indexed by (unit, day) instead of unit alone, for the edges.

Both are kept by the catch-up beside the day-level tables. A report reads the whole
months of its window from them and the day-level tables only for a month it starts or
ends inside. ``rollup_factor`` and ``rollup_moments`` are already monthly.

Unlike 0007 (whose new table needed the answers), the new tables are exact sums of the
existing day-level rollups, so they are filled from them here in SQL (one INSERT …
SELECT … GROUP BY each); no response has to be rolled up again. If day-level rollups exist
without their ``rollup_state`` row (which the month rows refer to), the rollups are
cleared and every response marked not rolled up instead, as 0007 does, so the next
catch-up rebuilds all of them consistently.

Self-contained: it only reads ``rollup_cell``, ``rollup_response`` and ``rollup_state``
(0004) and writes its own tables, so it can follow any revision after 0007.

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
        sa.Column("month", sa.Date(), nullable=False),
    ]


def _foreign_keys(table):
    return [
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f(f"fk_{table}_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f(f"fk_{table}_unit_id_unit")),
        sa.ForeignKeyConstraint(["instrument_version_id"], ["instrument_version.id"],
                                name=op.f(f"fk_{table}_instrument_version_id_instrument_version")),
        sa.ForeignKeyConstraint(["state_name"], ["rollup_state.name"], ondelete="CASCADE",
                                name=op.f(f"fk_{table}_state_name_rollup_state")),
    ]


def upgrade():
    op.create_table(
        "rollup_cell_month", *_dimension_columns(),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("question_key", sa.String(length=32), nullable=False),
        sa.Column("value_key", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("state_name", sa.String(length=20), nullable=False),
        *_foreign_keys("rollup_cell_month"),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "month", "channel", "trust", "question_key", "value_key",
                                name=op.f("pk_rollup_cell_month")),
    )
    op.create_index(op.f("ix_rollup_cell_month_unit_id"), "rollup_cell_month", ["unit_id"], unique=False)
    op.create_table(
        "rollup_response_month", *_dimension_columns(),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
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
        sa.Column("state_name", sa.String(length=20), nullable=False),
        *_foreign_keys("rollup_response_month"),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "month", "weekday", "hour", "channel", "trust",
                                name=op.f("pk_rollup_response_month")),
    )
    op.create_index(op.f("ix_rollup_response_month_unit_id"), "rollup_response_month", ["unit_id"], unique=False)
    # Day-level rows are read only for a window's edge months: index them by unit and day
    # (the index by unit alone is a prefix of it).
    for table in ("rollup_cell", "rollup_response"):
        op.create_index(op.f(f"ix_{table}_unit_id_day"), table, ["unit_id", "day"], unique=False)
        op.drop_index(op.f(f"ix_{table}_unit_id"), table_name=table)
    _fill()


def _fill():
    bind = op.get_bind()
    state = bind.execute(sa.text("SELECT count(*) FROM rollup_state WHERE name = 'main'")).scalar()
    if not state:
        # Rollups without their bookkeeping row: rebuild them from the answers (as 0007).
        for table in ("rollup_cell", "rollup_response", "rollup_factor", "rollup_moments", "rollup_state"):
            op.execute(sa.text(f"DELETE FROM {table}"))
        op.execute(sa.text("UPDATE response SET rolled_up = :f").bindparams(f=False))
        return
    if bind.dialect.name == "postgresql":
        month = "CAST(date_trunc('month', day) AS date)"
        weekday = "CAST(extract(isodow FROM day) AS integer) - 1"
    else:
        month = "strftime('%Y-%m-01', day)"
        weekday = "(CAST(strftime('%w', day) AS integer) + 6) % 7"
    dims = ", ".join(DIMENSIONS)
    op.execute(sa.text(
        f"INSERT INTO rollup_cell_month ({dims}, month, channel, trust, question_key, value_key, n, state_name) "
        f"SELECT {dims}, {month}, channel, trust, question_key, value_key, SUM(n), 'main' FROM rollup_cell "
        f"GROUP BY {dims}, {month}, channel, trust, question_key, value_key HAVING SUM(n) <> 0"))
    sums = ", ".join(SUMS)
    op.execute(sa.text(
        f"INSERT INTO rollup_response_month ({dims}, month, weekday, hour, channel, trust, {sums}, state_name) "
        f"SELECT {dims}, {month}, {weekday}, hour, channel, trust, "
        f"{', '.join(f'SUM({c})' for c in SUMS)}, 'main' FROM rollup_response "
        f"GROUP BY {dims}, {month}, {weekday}, hour, channel, trust"))


def downgrade():
    for table in ("rollup_cell", "rollup_response"):
        op.create_index(op.f(f"ix_{table}_unit_id"), table, ["unit_id"], unique=False)
        op.drop_index(op.f(f"ix_{table}_unit_id_day"), table_name=table)
    for table in ("rollup_response_month", "rollup_cell_month"):
        op.drop_index(op.f(f"ix_{table}_unit_id"), table_name=table)
        op.drop_table(table)
