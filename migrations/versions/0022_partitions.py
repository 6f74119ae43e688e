"""Monthly partitions of ``response`` and ``answer`` on PostgreSQL (issue #19, items 3 and 4).

Both databases: ``answer.submitted_at`` (NOT NULL), its response's, copied in, so an answer
lives in the partition of its response's month. PostgreSQL only: both tables become
``PARTITION BY RANGE (submitted_at)`` with a partition per UTC month and a DEFAULT one, every
row kept and the id sequences kept (ids go on); ``response_key`` keeps the idempotency
(campaign, key) unique across partitions. What changes in the keys and foreign keys, and why,
is written in ``survey_app/services/data/partitions.py``, whose :func:`partition_tables` and
:func:`unpartition_tables` this migration runs (the test schemas are built by the same
functions). SQLite keeps plain tables.

Revision ID: 0022_partitions
Revises: 0021_export_jobs
"""
import sqlalchemy as sa
from alembic import op

from survey_app.services.data import partitions

revision = "0022_partitions"
down_revision = "0021_export_jobs"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.add_column("answer", sa.Column("submitted_at", sa.DateTime(), nullable=True))
        op.execute("UPDATE answer SET submitted_at = response.submitted_at FROM response "
                   "WHERE response.id = answer.response_id")
        op.alter_column("answer", "submitted_at", nullable=False)
        partitions.partition_tables(bind)
    else:
        with op.batch_alter_table("answer", schema=None) as batch_op:
            batch_op.add_column(sa.Column("submitted_at", sa.DateTime(), nullable=True))
        op.execute("UPDATE answer SET submitted_at = (SELECT submitted_at FROM response "
                   "WHERE response.id = answer.response_id)")
        with op.batch_alter_table("answer", schema=None) as batch_op:
            batch_op.alter_column("submitted_at", existing_type=sa.DateTime(), nullable=False)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        partitions.unpartition_tables(bind)
        op.drop_column("answer", "submitted_at")
    else:
        with op.batch_alter_table("answer", schema=None) as batch_op:
            batch_op.drop_column("submitted_at")
