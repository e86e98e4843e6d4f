"""assignees recorded as assign events (AU1)

Until this revision claiming, assigning and releasing changed only the case row, so
replay could not rebuild the assignee. Now ``assign`` is an append-only event; each
case that has an assignee gets one such event by the system, recording the assignee
it has, at the end of its chain, so verify agrees with the row.

Revision ID: c41d2e7a9b10
Revises: 8e164339668a
Create Date: 2026-12-04 22:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from workflow.base.canonical import GENESIS, canonical_text, event_hash, payload_digest
from workflow.base.timeutil import iso_utc, utcnow


# revision identifiers, used by Alembic.
revision: str = 'c41d2e7a9b10'
down_revision: Union[str, Sequence[str], None] = '8e164339668a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

cases = sa.table("cases", sa.column("id"), sa.column("kind"), sa.column("def_version"),
                 sa.column("org_id"), sa.column("state"), sa.column("seq"),
                 sa.column("head_hash"), sa.column("assignee"))
orgs = sa.table("orgs", sa.column("id"), sa.column("code"))
events = sa.table("events", *(sa.column(name) for name in (
    "case_id", "seq", "kind", "def_version", "org", "trigger", "from_state", "to_state",
    "actor", "at", "payload", "payload_digest", "prev_hash", "hash")))


def upgrade() -> None:
    conn = op.get_bind()
    at = iso_utc(utcnow())
    rows = conn.execute(
        sa.select(cases.c.id, cases.c.kind, cases.c.def_version, cases.c.state, cases.c.seq,
                  cases.c.head_hash, cases.c.assignee, orgs.c.code)
        .join(orgs, orgs.c.id == cases.c.org_id)
        .where(cases.c.assignee.is_not(None)).order_by(cases.c.id)).all()
    for row in rows:
        text = canonical_text({"assignee": row.assignee})
        event = {"case_id": row.id, "seq": row.seq + 1, "kind": row.kind,
                 "def_version": row.def_version, "org": row.code, "trigger": "assign",
                 "from_state": row.state, "to_state": row.state, "actor": "system",
                 "at": at, "payload_digest": payload_digest(text),
                 "prev_hash": row.head_hash or GENESIS}
        event["hash"] = event_hash(event)
        conn.execute(sa.insert(events).values(**event, payload=text))
        conn.execute(sa.update(cases).where(cases.c.id == row.id)
                     .values(seq=row.seq + 1, head_hash=event["hash"]))


def downgrade() -> None:
    """The events stay: the log is append-only, and the case rows agree with them."""
