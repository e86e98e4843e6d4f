"""notification outbox: cursor, messages and preferences

The event log is the outbox (DESIGN.md, Notifications): the dispatcher's cursor, one row
per message keyed by (source, recipient, channel), and each user's choices.

Revision ID: a9c4e7d21f60
Revises: f3a8c1d5e907
Create Date: 2026-12-06 15:00:00.000000

"""
import datetime as dt
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'a9c4e7d21f60'
down_revision: Union[str, Sequence[str], None] = 'f3a8c1d5e907'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sqlmodel.sql.sqltypes.UTCDateTime
Str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "notify_cursor",
        sa.Column("name", Str(length=32), primary_key=True),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
    )
    # history before the outbox is not announced: the cursor starts at the newest event
    bind = op.get_bind()
    newest = bind.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM events")).scalar()
    cursor = sa.table("notify_cursor", sa.column("name"), sa.column("event_id"),
                      sa.column("updated_at", When()))
    op.bulk_insert(cursor, [{"name": "events", "event_id": newest,
                             "updated_at": dt.datetime.now(dt.UTC)}])
    op.create_table(
        "notify_messages",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", Str(length=80), nullable=False),
        sa.Column("recipient", Str(length=200), nullable=False),
        sa.Column("channel", Str(length=16), nullable=False),
        sa.Column("kind", Str(length=32), nullable=False),
        sa.Column("case_id", BigId, nullable=True),
        sa.Column("org", Str(length=64), nullable=False),
        sa.Column("lang", Str(length=8), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("address", Str(length=1000), nullable=False),
        sa.Column("status", Str(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", When(), nullable=False),
        sa.Column("error", Str(length=500), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("sent_at", When(), nullable=True),
        sa.Column("read_at", When(), nullable=True),
        sa.UniqueConstraint("source", "recipient", "channel", name="uq_notify_message"),
    )
    op.create_index("ix_notify_messages_due", "notify_messages", ["status", "next_at"])
    op.create_index("ix_notify_messages_inbox", "notify_messages",
                    ["recipient", "channel", "read_at"])
    op.create_table(
        "notify_preferences",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("email", Str(length=254), nullable=False),
        sa.Column("webhook", Str(length=1000), nullable=False),
        sa.Column("webhook_secret", Str(length=200), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notify_preferences")
    op.drop_index("ix_notify_messages_inbox", table_name="notify_messages")
    op.drop_index("ix_notify_messages_due", table_name="notify_messages")
    op.drop_table("notify_messages")
    op.drop_table("notify_cursor")
