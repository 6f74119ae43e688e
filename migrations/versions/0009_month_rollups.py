"""Month-level rollups beside the day-level ones; one JSON row per day or month.

A report's cost grew with the number of days (it grouped 4.3 million day-level cells by
month at two years of a 100-point town) and the catch-up wrote about one row per 1.7
answers. The count tables become one row per (campaign, unit, version, local day or
month, channel, trust) holding a JSON document (see ``survey_app/models/rollup.py``):

* ``rollup_cell`` (day, ``counts``) and the new ``rollup_cell_month`` (month,
  ``counts``): ``{question_key: {value_key: n}}``;
* ``rollup_response`` (day, ``hours``): ``{hour: [7 sums]}``, keeping ``responses``
  (the day's count) as a column for the queries that sum it in SQL, and the new
  ``rollup_response_month`` (month, ``grid``): ``{weekday: {hour: [7 sums]}}``;
* the day tables are indexed by (unit, day): reports read them only for a month that the
  window starts or ends inside. The month tables refer to ``rollup_state`` (ON DELETE
  CASCADE), so clearing the rollups and their state row clears them too.

``rollup_factor`` and ``rollup_moments`` are already monthly and do not change.

Rollups are derived data. As in 0007, they are rebuilt rather than converted: every
rollup table is cleared (with ``rollup_state``) and every response marked not yet rolled
up, so the next catch-up (reports run it; so does ``flask rollup``) rebuilds all of them,
day and month levels alike, from the answers, consistently. The downgrade does the same
with the old layout.

Self-contained: it touches only the rollup tables of 0004/0007 and ``response.rolled_up``
(0004), so it can follow any revision after 0007.

Revision ID: 0009_month_rollups
Revises: 0008_answer_digest
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_month_rollups"
down_revision = "0008_answer_digest"
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
    """Empty every rollup table and mark every response not rolled up (rebuilt by catch-up);
    the month tables, where they exist, are emptied by the cascade from ``rollup_state``."""
    for table in ("rollup_cell", "rollup_response", "rollup_factor", "rollup_moments", "rollup_state"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("UPDATE response SET rolled_up = :f").bindparams(f=False))


def _day_table(name, document, *extra):
    op.create_table(
        name, *_dimension_columns(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        *extra,
        sa.Column(document, sa.JSON(), nullable=False),
        *_foreign_keys(name),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "day", "channel", "trust", name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_unit_id_day"), name, ["unit_id", "day"], unique=False)


def _month_table(name, document):
    op.create_table(
        name, *_dimension_columns(),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("state_name", sa.String(length=20), nullable=False),
        sa.Column(document, sa.JSON(), nullable=False),
        *_foreign_keys(name, state=True),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "month", "channel", "trust", name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_unit_id"), name, ["unit_id"], unique=False)


def upgrade():
    _clear_rollups()
    for table in ("rollup_cell", "rollup_response"):
        op.drop_index(op.f(f"ix_{table}_unit_id"), table_name=table)
        op.drop_table(table)
    _day_table("rollup_cell", "counts")
    # The day's responses stay a column: the release audit and the busiest-instrument
    # query sum them in SQL.
    _day_table("rollup_response", "hours", sa.Column("responses", sa.Integer(), nullable=False))
    _month_table("rollup_cell_month", "counts")
    _month_table("rollup_response_month", "grid")


def downgrade():
    for table in ("rollup_response_month", "rollup_cell_month"):
        op.drop_index(op.f(f"ix_{table}_unit_id"), table_name=table)
        op.drop_table(table)
    _clear_rollups()
    for table in ("rollup_response", "rollup_cell"):
        op.drop_index(op.f(f"ix_{table}_unit_id_day"), table_name=table)
        op.drop_table(table)
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
        *(sa.Column(c, sa.BigInteger() if c.startswith("points_s") else sa.Integer(), nullable=False) for c in SUMS),
        *_foreign_keys("rollup_response"),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "day", "hour", "channel", "trust", name=op.f("pk_rollup_response")),
    )
    op.create_index(op.f("ix_rollup_response_unit_id"), "rollup_response", ["unit_id"], unique=False)
