"""sealed values for ID numbers

An ID number given with a registration (O4) is stored encrypted, bound to its case and to
the keyed hash the event carries instead of it.

Revision ID: f3a8c1d5e907
Revises: f5a1d2c3b4e6
Create Date: 2026-12-08 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'f3a8c1d5e907'
down_revision: Union[str, Sequence[str], None] = 'f5a1d2c3b4e6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sealed_values",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("case_id", "digest"),
    )


def downgrade() -> None:
    op.drop_table("sealed_values")
