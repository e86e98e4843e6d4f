"""annual reports become cases; the statistics projection is read again (G14)

An annual report's texts and publication were a plain table (``annual_reports``), so
publishing it left no event in the hash chain. They are now a case of the
``annual_report`` process (machines/annual_report.py), whose edits and publication go
through the engine's door like every other publication's. The table is dropped; a
database that holds reports in it is refused with the reason, nothing dropped unread
(note their texts, empty the table, upgrade, and write them again on the desk).

The statistics projection is emptied so that the next request reads the log again
with today's declarations (the pre-disclosure outcome counted at its first release).

Revision ID: d4b6e8a1c352
Revises: a9c4e2f7b318
Create Date: 2026-12-06 16:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'd4b6e8a1c352'
down_revision: Union[str, Sequence[str], None] = 'a9c4e2f7b318'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    conn = op.get_bind()
    held = conn.execute(sa.text("SELECT COUNT(*) FROM annual_reports")).scalar()
    if held:
        raise RuntimeError(
            f"annual_reports holds {held} report(s): annual reports are cases now "
            "(machines/annual_report.py): note their texts, empty the table, upgrade, "
            "and write them again on /stats/annual")
    op.drop_table("annual_reports")
    for table in ("stats_counts", "stats_cases", "stats_cursor"):
        conn.execute(sa.text(f"DELETE FROM {table}"))


def downgrade() -> None:
    op.create_table(
        "annual_reports",
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("orgs.id"), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("improvements", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
