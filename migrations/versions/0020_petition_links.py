"""Petitions that point at another petition (issue #18, item 3): ``repeat_of_id`` when a
petition is the same matter filed again after it was answered (a repeat, which the national
portal's petition-satisfaction figure leaves out), ``merged_into_id`` when staff merged a
duplicate into the petition that carries the answer. Two nullable columns; nothing is
rewritten.

Revision ID: 0020_petition_links
Revises: 0019_petition_notices
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_petition_links"
down_revision = "0019_petition_notices"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("petition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat_of_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_petition_repeat_of_id_petition"), "petition",
                                    ["repeat_of_id"], ["id"], ondelete="SET NULL")
        batch_op.create_foreign_key(batch_op.f("fk_petition_merged_into_id_petition"), "petition",
                                    ["merged_into_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index(batch_op.f("ix_petition_repeat_of_id"), ["repeat_of_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_petition_merged_into_id"), ["merged_into_id"], unique=False)


def downgrade():
    with op.batch_alter_table("petition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_petition_merged_into_id"))
        batch_op.drop_index(batch_op.f("ix_petition_repeat_of_id"))
        batch_op.drop_constraint(batch_op.f("fk_petition_merged_into_id_petition"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_petition_repeat_of_id_petition"), type_="foreignkey")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("repeat_of_id")
