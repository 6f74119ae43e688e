"""QR codes in the real world: one-time visit codes, enrolled kiosks, and the keyed daily
device hash on responses (for spotting bursts; never a raw IP or device id).

Revision ID: 0002_qr
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_qr"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "visit_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("spent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_visit_token_campaign_id_campaign"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_visit_token_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_token")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_visit_token_code_hash")),
    )
    with op.batch_alter_table("visit_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_token_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_token_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "kiosk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("enrol_hash", sa.String(length=64), nullable=False),
        sa.Column("enrol_expires_at", sa.DateTime(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_kiosk_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk")),
        sa.UniqueConstraint("enrol_hash", name=op.f("uq_kiosk_enrol_hash")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_kiosk_key_hash")),
    )
    with op.batch_alter_table("kiosk", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_unit_id"), ["unit_id"], unique=False)

    op.add_column("response", sa.Column("device_hash", sa.String(length=32), nullable=True))


def downgrade():
    # Not in batch mode: on SQLite a batch drop recreates "response", and dropping the old
    # table with foreign keys on would cascade into "answer". SQLite >= 3.35 drops a plain
    # column in place.
    op.drop_column("response", "device_hash")

    with op.batch_alter_table("kiosk", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_unit_id"))
    op.drop_table("kiosk")

    with op.batch_alter_table("visit_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_token_unit_id"))
        batch_op.drop_index(batch_op.f("ix_visit_token_campaign_id"))
    op.drop_table("visit_token")
