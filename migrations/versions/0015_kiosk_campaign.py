"""The campaign a kiosk answers, when a manager chose one (issue #15): a nullable link to
a campaign, cleared when that campaign is deleted. A kiosk without a choice answers its
point's quick instrument (``quick-feedback``), or else the point's first open campaign.

Nothing existing is rewritten: one new nullable column.

Revision ID: 0015_kiosk_campaign
Revises: 0014_lineage
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_kiosk_campaign"
down_revision = "0014_lineage"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kiosk", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_kiosk_campaign_id_campaign"), "campaign",
                                    ["campaign_id"], ["id"], ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("kiosk", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_kiosk_campaign_id_campaign"), type_="foreignkey")
        batch_op.drop_column("campaign_id")
