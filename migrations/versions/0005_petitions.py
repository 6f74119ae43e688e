"""Petitions: tracking codes, status history, answers, consented contact details, photos.

Revision ID: 0005_petitions
Revises: 0004_rollups
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_petitions"
down_revision = "0004_rollups"
branch_labels = None
# petition_event.actor_id refers to the officials' table of 0003.
depends_on = None

CATEGORIES = ("procedure", "health", "education", "infrastructure", "public_order", "environment",
              "staff_conduct", "other")
STATUSES = ("received", "assigned", "answered", "closed")
EVENT_KINDS = ("received", "assigned", "note", "answer_saved", "answered", "text_approved", "text_withheld",
               "closed", "reopened", "contact_deleted")


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade():
    op.create_table(
        "petition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_code", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("origin_unit_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("answer_draft", sa.Text(), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answer_published_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("publish_consent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("publish_consent_at", sa.DateTime(), nullable=True),
        sa.Column("text_approved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("trust_reason", sa.String(length=200), nullable=True),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.CheckConstraint(f"category IN ({_in(CATEGORIES)})", name=op.f("ck_petition_category")),
        sa.CheckConstraint(f"status IN ({_in(STATUSES)})", name=op.f("ck_petition_status")),
        sa.CheckConstraint("trust IN ('ok', 'suspect')", name=op.f("ck_petition_trust")),
        sa.CheckConstraint("language IN ('vi', 'en')", name=op.f("ck_petition_language")),
        sa.ForeignKeyConstraint(["origin_unit_id"], ["unit.id"], name=op.f("fk_petition_origin_unit_id_unit")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_petition_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_petition_submission_key")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_petition_tracking_code")),
    )
    with op.batch_alter_table("petition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_petition_origin_unit_id"), ["origin_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_petition_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_petition_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index("ix_petition_unit_status_due", ["unit_id", "status", "due_on"], unique=False)

    op.create_table(
        "petition_contact",
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consent_language", sa.String(length=5), nullable=False),
        sa.Column("consent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["petition_id"], ["petition.id"], name=op.f("fk_petition_contact_petition_id_petition"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("petition_id", name=op.f("pk_petition_contact")),
    )

    op.create_table(
        "petition_photo",
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["petition_id"], ["petition.id"], name=op.f("fk_petition_photo_petition_id_petition"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("petition_id", name=op.f("pk_petition_photo")),
    )

    op.create_table(
        "petition_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("unit_name_vi", sa.String(length=200), nullable=True),
        sa.Column("unit_name_en", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(f"kind IN ({_in(EVENT_KINDS)})", name=op.f("ck_petition_event_kind")),
        sa.ForeignKeyConstraint(["actor_id"], ["official.id"], name=op.f("fk_petition_event_actor_id_official"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["petition_id"], ["petition.id"], name=op.f("fk_petition_event_petition_id_petition"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_petition_event_unit_id_unit"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition_event")),
    )
    with op.batch_alter_table("petition_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_petition_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_petition_event_petition_id"), ["petition_id"], unique=False)


def downgrade():
    with op.batch_alter_table("petition_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_petition_event_petition_id"))
        batch_op.drop_index(batch_op.f("ix_petition_event_actor_id"))
    op.drop_table("petition_event")
    op.drop_table("petition_photo")
    op.drop_table("petition_contact")
    with op.batch_alter_table("petition", schema=None) as batch_op:
        batch_op.drop_index("ix_petition_unit_status_due")
        batch_op.drop_index(batch_op.f("ix_petition_unit_id"))
        batch_op.drop_index(batch_op.f("ix_petition_received_at"))
        batch_op.drop_index(batch_op.f("ix_petition_origin_unit_id"))
    op.drop_table("petition")
