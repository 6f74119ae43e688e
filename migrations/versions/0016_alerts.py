"""Alerts (issue #17): rules per unit and instrument, the alerts their scheduled evaluation
opens, and an optional e-mail address per official (where alerts are sent).

Nothing existing is rewritten: two new tables and one new nullable column. The partial
unique index keeps at most one unresolved alert per (rule, subject), on SQLite and
PostgreSQL alike, so a re-run evaluation cannot duplicate one.

Revision ID: 0016_alerts
Revises: 0015_kiosk_campaign
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_alerts"
down_revision = "0015_kiosk_campaign"
branch_labels = None
depends_on = None

KINDS = "'below', 'drop', 'spike', 'petition_deadline'"
STATUSES = "'open', 'acknowledged', 'resolved'"


def upgrade():
    with op.batch_alter_table("official", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("instrument_key", sa.String(length=64), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_alert_rule_kind")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_alert_rule_unit_id_unit"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["official.id"], name=op.f("fk_alert_rule_created_by_id_official"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule")),
    )
    op.create_index(op.f("ix_alert_rule_unit_id"), "alert_rule", ["unit_id"], unique=False)
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("emailed_at", sa.DateTime(), nullable=True),
        sa.Column("email_attempts", sa.Integer(), nullable=False),
        sa.Column("email_error", sa.String(length=300), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_alert_status")),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rule.id"], name=op.f("fk_alert_rule_id_alert_rule"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_alert_unit_id_unit"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["acknowledged_by_id"], ["official.id"],
                                name=op.f("fk_alert_acknowledged_by_id_official"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    op.create_index(op.f("ix_alert_rule_id"), "alert", ["rule_id"], unique=False)
    op.create_index("ix_alert_unit_status", "alert", ["unit_id", "status"], unique=False)
    op.create_index("uq_alert_rule_subject_unresolved", "alert", ["rule_id", "subject"], unique=True,
                    sqlite_where=sa.text("status <> 'resolved'"), postgresql_where=sa.text("status <> 'resolved'"))


def downgrade():
    op.drop_index("uq_alert_rule_subject_unresolved", table_name="alert")
    op.drop_index("ix_alert_unit_status", table_name="alert")
    op.drop_index(op.f("ix_alert_rule_id"), table_name="alert")
    op.drop_table("alert")
    op.drop_index(op.f("ix_alert_rule_unit_id"), table_name="alert_rule")
    op.drop_table("alert_rule")
    with op.batch_alter_table("official", schema=None) as batch_op:
        batch_op.drop_column("email")
