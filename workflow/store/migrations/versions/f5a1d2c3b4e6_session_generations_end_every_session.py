"""session generations end every session of a user at once

Logout, a new password, a revocation and disabling move the user's generation on; a web
session opened in an earlier one opens nothing.

Revision ID: f5a1d2c3b4e6
Revises: e2b9c4d8a713
Create Date: 2026-12-06 12:50:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'f5a1d2c3b4e6'
down_revision: Union[str, Sequence[str], None] = 'e2b9c4d8a713'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_gen", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_gen")
