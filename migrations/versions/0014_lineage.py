"""The administration since 1 July 2025: official codes and levels of units, kinds of
office of service points, lineage (a unit succeeds others from a date), and the commune a
citizen lives in on a response.

Nothing existing is rewritten: new nullable columns and a new table only. An existing
three-level tree is moved to the new one by declaring successions (``flask tree
import-lineage``), which leaves every response where it was.

Revision ID: 0014_lineage
Revises: 0013_dossiers
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_lineage"
down_revision = "0013_dossiers"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("official_code", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("division", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("office", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_unit_official_code"), ["official_code"])
        batch_op.create_check_constraint(
            "division", "division IN ('province', 'city', 'commune', 'ward', 'special_zone')")
        batch_op.create_check_constraint(
            "office", "office IN ('centre', 'reception', 'station', 'school', 'class')")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("residence_unit_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_response_residence_unit_id"), ["residence_unit_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_response_residence_unit_id_unit"), "unit",
                                    ["residence_unit_id"], ["id"])
    op.create_table(
        "unit_succession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("share", sa.Numeric(5, 4), nullable=True),
        sa.Column("grants_carried", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("predecessor_id <> successor_id", name=op.f("ck_unit_succession_distinct_units")),
        sa.CheckConstraint("change IN ('merger', 'split', 'rename')", name=op.f("ck_unit_succession_change")),
        sa.CheckConstraint("share IS NULL OR (share > 0 AND share <= 1)", name=op.f("ck_unit_succession_share")),
        sa.ForeignKeyConstraint(["predecessor_id"], ["unit.id"], name=op.f("fk_unit_succession_predecessor_id_unit")),
        sa.ForeignKeyConstraint(["successor_id"], ["unit.id"], name=op.f("fk_unit_succession_successor_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_succession")),
        sa.UniqueConstraint("predecessor_id", "successor_id",
                            name=op.f("uq_unit_succession_predecessor_id_successor_id")),
    )
    with op.batch_alter_table("unit_succession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_succession_predecessor_id"), ["predecessor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_unit_succession_successor_id"), ["successor_id"], unique=False)


def downgrade():
    with op.batch_alter_table("unit_succession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_succession_successor_id"))
        batch_op.drop_index(batch_op.f("ix_unit_succession_predecessor_id"))
    op.drop_table("unit_succession")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_response_residence_unit_id_unit"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_response_residence_unit_id"))
        batch_op.drop_column("residence_unit_id")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_constraint("office", type_="check")
        batch_op.drop_constraint("division", type_="check")
        batch_op.drop_constraint(batch_op.f("uq_unit_official_code"), type_="unique")
        batch_op.drop_column("office")
        batch_op.drop_column("division")
        batch_op.drop_column("official_code")
