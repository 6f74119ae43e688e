"""Keeping the petitioner informed (issue #18, item 4): one notice row per public event of
a petition that is (to be) e-mailed to a petitioner who consented to be contacted, and the
moment they unsubscribed. A new table and a new nullable column; nothing is rewritten.

Revision ID: 0019_petition_notices
Revises: 0018_job_runs
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_petition_notices"
down_revision = "0018_job_runs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("petition_contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unsubscribed_at", sa.DateTime(), nullable=True))
    op.create_table(
        "petition_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent', 'skipped')", name=op.f("ck_petition_notice_status")),
        sa.ForeignKeyConstraint(["petition_id"], ["petition.id"], name=op.f("fk_petition_notice_petition_id_petition"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["petition_event.id"],
                                name=op.f("fk_petition_notice_event_id_petition_event"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition_notice")),
        sa.UniqueConstraint("event_id", name=op.f("uq_petition_notice_event_id")),
    )
    op.create_index(op.f("ix_petition_notice_petition_id"), "petition_notice", ["petition_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_petition_notice_petition_id"), table_name="petition_notice")
    op.drop_table("petition_notice")
    with op.batch_alter_table("petition_contact", schema=None) as batch_op:
        batch_op.drop_column("unsubscribed_at")
