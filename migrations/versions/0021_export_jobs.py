"""Exports built by the worker (issue #19 item 1): table export_job, one row per large
CSV, XLSX or PDF an official asked for. A new table; nothing existing changes.

Revision ID: 0021_export_jobs
Revises: 0020_petition_links
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_export_jobs"
down_revision = "0020_petition_links"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("file_path", sa.String(length=500), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_export_job_status")),
        sa.CheckConstraint("kind IN ('csv', 'xlsx', 'pdf')", name=op.f("ck_export_job_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["official.id"], name=op.f("fk_export_job_user_id_official"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_export_job_unit_id_unit"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_job")),
        sa.UniqueConstraint("token", name=op.f("uq_export_job_token")),
    )
    op.create_index("ix_export_job_user_status", "export_job", ["user_id", "status"], unique=False)
    op.create_index("ix_export_job_expires_at", "export_job", ["expires_at"], unique=False)


def downgrade():
    op.drop_index("ix_export_job_expires_at", table_name="export_job")
    op.drop_index("ix_export_job_user_status", table_name="export_job")
    op.drop_table("export_job")
