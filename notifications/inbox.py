"""Read models: a person's in-app messages (the bell, the messages page) and the
administrator's list of failed messages with their retry."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from notifications.kinds import KINDS, render
from workflow.base.timeutil import utcnow
from workflow.store.models import notify_messages as m

PAGE = 50


def unread(conn: Connection, username: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(m).where(
        m.c.recipient == f"user:{username}", m.c.channel == "inapp",
        m.c.read_at.is_(None))).scalar_one()


def messages(conn: Connection, username: str, lang: str, limit: int = PAGE
             ) -> list[dict[str, Any]]:
    """Newest first, each rendered in ``lang``."""
    rows = conn.execute(sa.select(m.c.id, m.c.kind, m.c.case_id, m.c.params, m.c.urgent,
                                  m.c.created_at, m.c.read_at)
                        .where(m.c.recipient == f"user:{username}", m.c.channel == "inapp")
                        .order_by(m.c.id.desc()).limit(limit)).all()
    found = []
    for row in rows:
        subject, body = render(row.kind, json.loads(row.params), lang)
        found.append({"id": row.id, "kind": KINDS[row.kind].label.get(lang),
                      "subject": subject, "body": body, "case_id": row.case_id,
                      "urgent": row.urgent, "created_at": row.created_at,
                      "read": row.read_at is not None})
    return found


def mark_read(conn: Connection, username: str, message_id: int | None = None,
              now: dt.datetime | None = None) -> int:
    """One message (or, without an id, all) of this person marked read; how many."""
    where = [m.c.recipient == f"user:{username}", m.c.channel == "inapp",
             m.c.read_at.is_(None)]
    if message_id is not None:
        where.append(m.c.id == message_id)
    return conn.execute(sa.update(m).where(*where).values(read_at=now or utcnow())).rowcount


def failed(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Messages given up after the last try, newest first, with the reason; the recipient
    is named by account or receipt, never by the address."""
    rows = conn.execute(sa.select(m.c.id, m.c.kind, m.c.channel, m.c.recipient, m.c.case_id,
                                  m.c.attempts, m.c.error, m.c.next_at)
                        .where(m.c.status == "failed").order_by(m.c.id.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]


def retry(conn: Connection, message_id: int, now: dt.datetime | None = None) -> bool:
    """A failed message back in the queue with its tries counted afresh."""
    return conn.execute(sa.update(m).where(m.c.id == message_id, m.c.status == "failed")
                        .values(status="pending", attempts=0, next_at=now or utcnow())
                        ).rowcount == 1
