"""A response carries the keyed daily hash of its address alone, beside the device's.

``response.address_hash`` is ``ratelimit.daily_address_hash``: an HMAC with the secret key
over the UTC day and the IP address, 32 hex characters, never the address itself. The
burst flag ``address_burst`` counts it, so a client that changes its user agent at every
answer (a new "device" each time) is still seen as one sender. Earlier responses have
none (NULL): they were judged by the device hash alone, and stay as judged.

Revision ID: 0010_address_hash
Revises: 0007_honest_numbers
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_address_hash"
down_revision = "0007_honest_numbers"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("response") as batch:
        batch.add_column(sa.Column("address_hash", sa.String(32), nullable=True))


def downgrade():
    with op.batch_alter_table("response") as batch:
        batch.drop_column("address_hash")
