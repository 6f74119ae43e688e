"""A response carries the keyed daily hash of its address alone, beside the device's.

``response.address_hash`` is ``ratelimit.daily_address_hash``: an HMAC with the secret key
over the UTC day and the IP address, 32 hex characters, never the address itself. The
burst flag ``address_burst`` counts it, so a client that changes its user agent at every
answer (a new "device" each time) is still seen as one sender. Earlier responses have
none (NULL): they were judged by the device hash alone, and stay as judged.
``ix_response_address`` serves the count and the flagging UPDATE, as
``ix_response_device`` does for the device (0008).

Revision ID: 0010_address_hash
Revises: 0009_month_rollups
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_address_hash"
down_revision = "0009_month_rollups"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("response", sa.Column("address_hash", sa.String(32), nullable=True))
    op.create_index("ix_response_address", "response",
                    ["campaign_id", "unit_id", "address_hash", "trust", "submitted_at"], unique=False)


def downgrade():
    op.drop_index("ix_response_address", table_name="response")
    # Not in batch mode (see 0008): SQLite >= 3.35 drops a plain, unindexed column in place.
    op.drop_column("response", "address_hash")
