"""receipts for what people send without an account

A comment or a registration gets a receipt number and an access code shown once; this
table keeps the number, the event that recorded it and the code's salted hash.

Revision ID: e2b9c4d8a713
Revises: d7e3a1f40b52
Create Date: 2026-12-06 12:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'e2b9c4d8a713'
down_revision: Union[str, Sequence[str], None] = 'd7e3a1f40b52'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("digest", sa.String(length=300), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("number"),
    )
    op.create_index("ix_receipts_case_id", "receipts", ["case_id"])


def downgrade() -> None:
    op.drop_table("receipts")
