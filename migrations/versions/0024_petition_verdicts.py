"""The public's verdict on a published petition answer (issue #18 item 2): table
``petition_verdict``, one row per mark ("satisfied" / "dissatisfied"), once per device
(unique ``(petition_id, device_hash)``, the survey's keyed daily device hash; no raw
address or device identifier), flagged ``trust = 'suspect'`` with a reason rather than
dropped.

Revision ID: 0024_petition_verdicts
Revises: 0023_petition_stages
"""
import sqlalchemy as sa
from alembic import op

revision = "0024_petition_verdicts"
down_revision = "0023_petition_stages"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "petition_verdict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=True),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("trust_reason", sa.String(length=200), nullable=True),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.CheckConstraint("verdict IN ('satisfied', 'dissatisfied')", name=op.f("ck_petition_verdict_verdict")),
        sa.CheckConstraint("trust IN ('ok', 'suspect')", name=op.f("ck_petition_verdict_trust")),
        sa.ForeignKeyConstraint(["petition_id"], ["petition.id"], name=op.f("fk_petition_verdict_petition_id_petition"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition_verdict")),
        sa.UniqueConstraint("petition_id", "device_hash", name=op.f("uq_petition_verdict_petition_id_device_hash")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_petition_verdict_submission_key")),
    )
    op.create_index("ix_petition_verdict_petition_trust", "petition_verdict", ["petition_id", "trust"], unique=False)


def downgrade():
    op.drop_index("ix_petition_verdict_petition_trust", table_name="petition_verdict")
    op.drop_table("petition_verdict")
