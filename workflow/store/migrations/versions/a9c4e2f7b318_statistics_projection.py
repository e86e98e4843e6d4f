"""statistics projection (G14)

The statistics desk reads the event log through a durable cursor into one facts row per
case and counters per organisation (alone and with its subtree), process, day and month,
so a period's figures come from a few hundred rows instead of the whole log. (Annual
reports are cases of the ``annual_report`` process, in the event log like every case.)

Revision ID: a9c4e2f7b318
Revises: a7c3e9f1b2d4
Create Date: 2026-12-06 15:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'a9c4e2f7b318'
down_revision: Union[str, Sequence[str], None] = 'a7c3e9f1b2d4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stats_cursor",
        sa.Column("name", sa.String(length=32), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("gaps", sa.Text(), nullable=False),
    )
    op.create_table(
        "stats_cases",
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("marks", sa.Text(), nullable=False),
    )
    op.create_index("ix_stats_cases_org_id", "stats_cases", ["org_id"])
    op.create_table(
        "stats_counts",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("subtree", sa.Boolean(), nullable=False),
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("figure", sa.String(length=64), nullable=False),
        sa.Column("part", sa.String(length=64), nullable=False),
        sa.Column("who", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "subtree", "grain", "kind", "period", "figure",
                                "part", "who", "bucket"),
    )


def downgrade() -> None:
    op.drop_table("stats_counts")
    op.drop_index("ix_stats_cases_org_id", table_name="stats_cases")
    op.drop_table("stats_cases")
    op.drop_table("stats_cursor")
