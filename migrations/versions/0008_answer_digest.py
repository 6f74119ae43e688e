"""The answer digest on each response, and the indexes the abuse checks count by.

* ``response.answer_digest``: the order-independent SHA-256 of the response's answer set
  (``survey_app.models.response.answer_digest``), so "the same answer set arrived here k
  times in the window" is one indexed count instead of reading and hashing the answers
  of every recent response.
* ``ix_response_identical`` (campaign, unit, digest, trust, submitted_at) and
  ``ix_response_device`` (campaign, unit, device hash, trust, submitted_at): the counts of
  an identical run and of a device burst, and the set-based UPDATE that flags the earlier
  members still ``ok``, each reach only the rows they are about.

Existing rows are not backfilled: their digest stays NULL, which the checks read as
"unknown", never alike. The checks only look at the last burst window
(``SURVEY_BURST_WINDOW_SECONDS``, ten minutes by default), so one window after the
upgrade every response they can see has a digest; backfilling would mean reading and
hashing every answer ever stored (millions of rows on a large database) to improve
ten minutes of flagging.

Revision ID: 0008_answer_digest
Revises: 0007_honest_numbers
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_answer_digest"
down_revision = "0007_honest_numbers"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("response", sa.Column("answer_digest", sa.String(length=64), nullable=True))
    op.create_index("ix_response_identical", "response",
                    ["campaign_id", "unit_id", "answer_digest", "trust", "submitted_at"], unique=False)
    op.create_index("ix_response_device", "response",
                    ["campaign_id", "unit_id", "device_hash", "trust", "submitted_at"], unique=False)


def downgrade():
    op.drop_index("ix_response_device", table_name="response")
    op.drop_index("ix_response_identical", table_name="response")
    # Not in batch mode: on SQLite a batch drop recreates "response", and dropping the old
    # table with foreign keys on would cascade into "answer" (as in 0002). SQLite >= 3.35
    # drops a plain, unindexed column in place.
    op.drop_column("response", "answer_digest")
