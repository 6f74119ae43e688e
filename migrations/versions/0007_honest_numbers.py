"""Respondent-level moments for honest intervals; publications become frozen releases.

* ``rollup_moments``: per (campaign, unit, version, local month, channel, trust) the
  number of respondents and the sums and cross-products of each respondent's feature
  vector (``analysis/respondent.py``), from which every interval and test takes the
  respondent as its sampling unit. Rollups are derived data: the new table is filled by
  marking every response as not yet rolled up and clearing the old cells, so the next
  catch-up rebuilds all of them from the answers, consistently.
* ``publication``: a release covers one complete calendar period (month, quarter or
  year) and stores its public figures (``figures``) when it is published; a correction is
  a new release (``release_no`` + 1, ``supersedes_id``, ``correction_note``). Earlier
  publications were live views of arbitrary windows: they are withdrawn here (kept, with
  who and when), to be published again as frozen releases.

Revision ID: 0007_honest_numbers
Revises: 0006_reports
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_honest_numbers"
down_revision = "0006_reports"
branch_labels = None
depends_on = None

DIMENSIONS = ("campaign_id", "unit_id", "instrument_version_id")


def upgrade():
    op.create_table(
        "rollup_moments",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("instrument_version_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("moments", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f("fk_rollup_moments_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_rollup_moments_unit_id_unit")),
        sa.ForeignKeyConstraint(["instrument_version_id"], ["instrument_version.id"],
                                name=op.f("fk_rollup_moments_instrument_version_id_instrument_version")),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "month", "channel", "trust", name=op.f("pk_rollup_moments")),
    )
    op.create_index(op.f("ix_rollup_moments_unit_id"), "rollup_moments", ["unit_id"], unique=False)

    # Rebuild every rollup from the answers at the next catch-up (reports run it).
    for table in ("rollup_cell", "rollup_response", "rollup_factor", "rollup_state"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("UPDATE response SET rolled_up = :f").bindparams(f=False))

    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("figures", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("release_no", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("correction_note", sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_publication_supersedes_id_publication"), "publication",
                                    ["supersedes_id"], ["id"], ondelete="SET NULL")
        batch_op.drop_constraint(batch_op.f("ck_publication_period"), type_="check")
        batch_op.create_check_constraint("period", "period IN ('month', 'quarter', 'year')")
    # Live publications of arbitrary windows are withdrawn: a release is frozen.
    op.execute(sa.text(
        "UPDATE publication SET unpublished_at = CURRENT_TIMESTAMP, "
        "unpublished_by_name = 'migration 0007: republish as a frozen release' "
        "WHERE unpublished_at IS NULL"))


def downgrade():
    op.execute(sa.text("UPDATE publication SET period = 'quarter' WHERE period = 'year'"))
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_publication_period"), type_="check")
        batch_op.create_check_constraint("period", "period IN ('month', 'quarter')")
        batch_op.drop_constraint(batch_op.f("fk_publication_supersedes_id_publication"), type_="foreignkey")
        batch_op.drop_column("correction_note")
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("release_no")
        batch_op.drop_column("figures")
    op.drop_index(op.f("ix_rollup_moments_unit_id"), table_name="rollup_moments")
    op.drop_table("rollup_moments")
