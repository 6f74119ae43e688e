"""Dossiers reported by the one-stop software (``/api/v1/dossiers``, ``flask dossiers import``).

One row per dossier code: its service point, procedure, sector, times (UTC), status, the
time it waited for the citizen, its one-time evaluation code (``token_id``), the short
check code printed on the receipt, and the rating given for it (``response_id``), if any.

Revision ID: 0013_dossiers
Revises: 0012_papi_published
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_dossiers"
down_revision = "0012_papi_published"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dossier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=False),
        sa.Column("procedure_name", sa.String(length=500), nullable=False),
        sa.Column("sector", sa.String(length=200), nullable=False),
        sa.Column("staff", sa.String(length=100), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("returned_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("waited_minutes", sa.Integer(), nullable=False),
        sa.Column("document_requests", sa.Integer(), nullable=False),
        sa.Column("petition", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("check_code", sa.String(length=8), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("status IN ('processing', 'waiting', 'returned', 'returned_late')",
                           name=op.f("ck_dossier_status")),
        sa.CheckConstraint("source IN ('api', 'csv')", name=op.f("ck_dossier_source")),
        sa.CheckConstraint("waited_minutes >= 0", name=op.f("ck_dossier_waited")),
        sa.CheckConstraint("document_requests >= 0", name=op.f("ck_dossier_requests")),
        sa.CheckConstraint("due_at IS NULL OR due_at >= received_at", name=op.f("ck_dossier_due_after_received")),
        sa.CheckConstraint("returned_at IS NULL OR returned_at >= received_at",
                           name=op.f("ck_dossier_returned_after_received")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_dossier_unit_id_unit")),
        sa.ForeignKeyConstraint(["token_id"], ["visit_token.id"], name=op.f("fk_dossier_token_id_visit_token"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"], name=op.f("fk_dossier_response_id_response"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier")),
        sa.UniqueConstraint("code", name=op.f("uq_dossier_code")),
        sa.UniqueConstraint("token_id", name=op.f("uq_dossier_token_id")),
        sa.UniqueConstraint("response_id", name=op.f("uq_dossier_response_id")),
    )
    op.create_index("ix_dossier_unit_received", "dossier", ["unit_id", "received_at"], unique=False)
    op.create_index("ix_dossier_unit_returned", "dossier", ["unit_id", "returned_at"], unique=False)


def downgrade():
    op.drop_index("ix_dossier_unit_returned", table_name="dossier")
    op.drop_index("ix_dossier_unit_received", table_name="dossier")
    op.drop_table("dossier")
