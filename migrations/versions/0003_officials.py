"""Officials: accounts, grants scoped to the unit tree, and the audit log.

Revision ID: 0003_officials
Revises: 0002_qr
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_officials"
down_revision = "0002_qr"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "official",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_token", sa.String(length=32), nullable=False),
        sa.Column("home_unit_id", sa.Integer(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("failure_window_start", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["home_unit_id"], ["unit.id"], name=op.f("fk_official_home_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official")),
        sa.UniqueConstraint("username", name=op.f("uq_official_username")),
    )
    with op.batch_alter_table("official", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_official_home_unit_id"), ["home_unit_id"], unique=False)

    op.create_table(
        "official_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("role IN ('viewer', 'manager', 'admin')", name=op.f("ck_official_grant_role")),
        sa.ForeignKeyConstraint(["created_by_id"], ["official.id"], name=op.f("fk_official_grant_created_by_id_official"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_official_grant_unit_id_unit")),
        sa.ForeignKeyConstraint(["user_id"], ["official.id"], name=op.f("fk_official_grant_user_id_official"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_grant")),
        sa.UniqueConstraint("user_id", "unit_id", name=op.f("uq_official_grant_user_id_unit_id")),
    )
    with op.batch_alter_table("official_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_official_grant_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_official_grant_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("unit_path", sa.String(length=400), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["official.id"], name=op.f("fk_audit_event_actor_id_official"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_audit_event_unit_id_unit"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index("ix_audit_event_unit_path", ["unit_path"], unique=False,
                              postgresql_ops={"unit_path": "varchar_pattern_ops"})


def downgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_unit_path")
        batch_op.drop_index(batch_op.f("ix_audit_event_unit_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))
    op.drop_table("audit_event")
    with op.batch_alter_table("official_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_official_grant_user_id"))
        batch_op.drop_index(batch_op.f("ix_official_grant_unit_id"))
    op.drop_table("official_grant")
    with op.batch_alter_table("official", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_official_home_unit_id"))
    op.drop_table("official")
