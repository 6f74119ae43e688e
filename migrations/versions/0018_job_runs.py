"""The runs of the background jobs (issue #19): one row per attempt, for the admin "jobs"
page with its failures. A new table; nothing existing changes.

Revision ID: 0018_job_runs
Revises: 0017_retention
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_job_runs"
down_revision = "0017_retention"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("retries_left", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'complete', 'error', 'retrying')", name=op.f("ck_job_run_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    op.create_index("ix_job_run_task_started", "job_run", ["task", "started_at"], unique=False)
    op.create_index("ix_job_run_status_started", "job_run", ["status", "started_at"], unique=False)


def downgrade():
    op.drop_index("ix_job_run_status_started", table_name="job_run")
    op.drop_index("ix_job_run_task_started", table_name="job_run")
    op.drop_table("job_run")
