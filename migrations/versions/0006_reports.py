"""Reports: publications of results, moderation of comments, API keys.

Revision ID: 0006_reports
Revises: 0005_petitions
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_reports"
down_revision = "0005_petitions"
branch_labels = None
# publication, comment_flag and api_key refer to the officials' table of 0003.
depends_on = None


def upgrade():
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_to", sa.Date(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_by_name", sa.String(length=64), nullable=False),
        sa.Column("unpublished_at", sa.DateTime(), nullable=True),
        sa.Column("unpublished_by_id", sa.Integer(), nullable=True),
        sa.Column("unpublished_by_name", sa.String(length=64), nullable=True),
        sa.CheckConstraint("period IN ('month', 'quarter')", name=op.f("ck_publication_period")),
        sa.CheckConstraint("date_to >= date_from", name=op.f("ck_publication_window")),
        sa.ForeignKeyConstraint(["instrument_id"], ["instrument.id"],
                                name=op.f("fk_publication_instrument_id_instrument")),
        sa.ForeignKeyConstraint(["published_by_id"], ["official.id"],
                                name=op.f("fk_publication_published_by_id_official"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_publication_unit_id_unit")),
        sa.ForeignKeyConstraint(["unpublished_by_id"], ["official.id"],
                                name=op.f("fk_publication_unpublished_by_id_official"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
    )
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_publication_instrument_id"), ["instrument_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_publication_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index("ix_publication_unit_active", ["unit_id", "unpublished_at"], unique=False)

    op.create_table(
        "comment_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["answer_id"], ["answer.id"], name=op.f("fk_comment_flag_answer_id_answer"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["changed_by_id"], ["official.id"],
                                name=op.f("fk_comment_flag_changed_by_id_official"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_flag")),
        sa.UniqueConstraint("answer_id", name=op.f("uq_comment_flag_answer_id")),
    )

    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["official.id"], name=op.f("fk_api_key_created_by_id_official"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_api_key_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_unit_id"), ["unit_id"], unique=False)


def downgrade():
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_unit_id"))
    op.drop_table("api_key")
    op.drop_table("comment_flag")
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_unit_active")
        batch_op.drop_index(batch_op.f("ix_publication_unit_id"))
        batch_op.drop_index(batch_op.f("ix_publication_instrument_id"))
    op.drop_table("publication")
