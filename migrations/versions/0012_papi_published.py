"""Published PAPI dimension scores, entered by an official beside the PAPI mirror's report.

One row per (unit, year): the eight dimension scores (1–10, checked by the database as
well as by the form), where they come from (``source``), who entered them and when.

Revision ID: 0012_papi_published
Revises: 0010_address_hash
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_papi_published"
down_revision = "0010_address_hash"
branch_labels = None
depends_on = None

DIMENSIONS = ("participation", "transparency", "accountability", "corruption", "procedures", "services",
              "environment", "egovernance")


def upgrade():
    op.create_table(
        "papi_published",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        *(sa.Column(d, sa.Numeric(6, 4), nullable=False) for d in DIMENSIONS),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_by_name", sa.String(length=64), nullable=False),
        sa.CheckConstraint("year >= 2009 AND year <= 2100", name=op.f("ck_papi_published_year")),
        *(sa.CheckConstraint(f"{d} >= 1 AND {d} <= 10", name=op.f(f"ck_papi_published_{d}_range"))
          for d in DIMENSIONS),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_papi_published_unit_id_unit")),
        sa.ForeignKeyConstraint(["entered_by_id"], ["official.id"],
                                name=op.f("fk_papi_published_entered_by_id_official"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_papi_published")),
        sa.UniqueConstraint("unit_id", "year", name=op.f("uq_papi_published_unit_id_year")),
    )
    with op.batch_alter_table("papi_published", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_papi_published_unit_id"), ["unit_id"], unique=False)


def downgrade():
    with op.batch_alter_table("papi_published", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_papi_published_unit_id"))
    op.drop_table("papi_published")
