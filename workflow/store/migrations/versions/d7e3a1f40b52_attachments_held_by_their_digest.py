"""attachments held by their digest

Files uploaded to a case: the bytes are in the file store under their SHA-256; this
table says which case and which event took each one, so unreferenced uploads can be
removed and downloads checked against the case's scope.

Revision ID: d7e3a1f40b52
Revises: c41d2e7a9b10
Create Date: 2026-12-06 12:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'd7e3a1f40b52'
down_revision: Union[str, Sequence[str], None] = 'c41d2e7a9b10'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_attachments_case_id", "attachments", ["case_id"])
    op.create_index("ix_attachments_sha256", "attachments", ["sha256"])
    op.create_index("ix_attachments_unreferenced", "attachments", ["event_seq", "uploaded_at"])


def downgrade() -> None:
    op.drop_table("attachments")
