"""a generation counter for the organisation tree

Triggers on ``orgs`` give ``generations.n`` (name ``orgs``) a new random value with every
insert, update, delete (and, on PostgreSQL, truncate), so the engine caches the tree and
its settings and rereads them only when the value changed, in every worker (issue 21).
Random rather than counted: a rolled-back change or a restored backup never brings back
a value a process has cached with other contents.

Revision ID: a7c3e9f1b2d4
Revises: a9c4e7d21f60
Create Date: 2026-12-06 15:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'a7c3e9f1b2d4'
down_revision: Union[str, Sequence[str], None] = 'a9c4e7d21f60'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BUMP = "UPDATE generations SET n = {value} WHERE name = 'orgs'"
PG_RANDOM = "floor(random() * 9.2e18)::bigint"


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO generations (name, n) VALUES ('orgs', 0)")
    if op.get_bind().dialect.name == "sqlite":
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER orgs_generation_{event.lower()} AFTER {event} ON orgs "
                       f"BEGIN {BUMP.format(value='random()')}; END")
        return
    op.execute("CREATE FUNCTION orgs_generation() RETURNS trigger LANGUAGE plpgsql AS "
               f"$$ BEGIN {BUMP.format(value=PG_RANDOM)}; RETURN NULL; END $$")
    op.execute("CREATE TRIGGER orgs_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
               "ON orgs FOR EACH STATEMENT EXECUTE FUNCTION orgs_generation()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER orgs_generation_{event}")
    else:
        op.execute("DROP TRIGGER orgs_generation ON orgs")
        op.execute("DROP FUNCTION orgs_generation()")
    op.drop_table("generations")
