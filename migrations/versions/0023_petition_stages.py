"""Petition stages by the national portal's rules (issue #18, item 1): the statuses
``waiting`` (more information asked of the citizen), ``refused`` and ``published``; the
event kinds for them, for the petitioner's "not resolved" and for merges; the columns each
stage's working-day clock reads (``refused_at``, ``info_requested_at``, ``info_requests``,
``waiting_since``, ``paused_days``, ``published_at``, ``reopen_count``, ``reopened_at``,
``refusal_reason``). On PostgreSQL the ``pg_trgm`` extension is created for the
similar-petition suggestions when the server offers it.

Existing rows keep their meaning: ``answered`` and ``closed`` petitions stay as they are (an
answer given), counters start at 0. The downgrade refuses to run while any row uses a new
status or event kind (it would not fit the old constraints); move those rows first.

Revision ID: 0023_petition_stages
Revises: 0022_partitions
"""
import sqlalchemy as sa
from alembic import op

revision = "0023_petition_stages"
down_revision = "0022_partitions"
branch_labels = None
depends_on = None

OLD_STATUSES = ("received", "assigned", "answered", "closed")
NEW_STATUSES = ("received", "waiting", "assigned", "refused", "answered", "published", "closed")
OLD_KINDS = ("received", "assigned", "note", "answer_saved", "answered", "text_approved", "text_withheld", "closed",
             "reopened", "contact_deleted")
NEW_KINDS = OLD_KINDS + ("refused", "info_requested", "info_provided", "published", "not_resolved", "merged")


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _columns():
    return [
        sa.Column("refused_at", sa.DateTime(), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("info_requested_at", sa.DateTime(), nullable=True),
        sa.Column("info_requests", sa.Integer(), server_default="0", nullable=False),
        sa.Column("waiting_since", sa.DateTime(), nullable=True),
        sa.Column("paused_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reopened_at", sa.DateTime(), nullable=True),
    ]


def upgrade():
    with op.batch_alter_table("petition", schema=None) as batch_op:
        for column in _columns():
            batch_op.add_column(column)
        batch_op.drop_constraint(batch_op.f("ck_petition_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN ({_in(NEW_STATUSES)})")
    with op.batch_alter_table("petition_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_petition_event_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({_in(NEW_KINDS)})")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar()
        if available:
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def downgrade():
    bind = op.get_bind()
    used = bind.execute(sa.text(
        f"SELECT (SELECT count(*) FROM petition WHERE status NOT IN ({_in(OLD_STATUSES)}))"
        f" + (SELECT count(*) FROM petition_event WHERE kind NOT IN ({_in(OLD_KINDS)}))")).scalar()
    if used:
        raise RuntimeError(f"{used} petitions or events use a stage that revision 0022 does not know; "
                           "move them to an old status first")
    with op.batch_alter_table("petition_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_petition_event_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({_in(OLD_KINDS)})")
    with op.batch_alter_table("petition", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_petition_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN ({_in(OLD_STATUSES)})")
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
