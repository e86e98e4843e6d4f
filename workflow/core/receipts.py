"""Receipts inside the door's transaction: a number and the hash of an access code for
each firing of a trigger that declares ``receipt`` (a comment, a registration).

The number (``YJ-2026-000045``: prefix, year in Beijing, the row's id) goes into the
event's payload as ``_receipt``, so effects record it and replay sees it; the access code
is shown once to the person who sent it and kept only as a salted hash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.base.timeutil import local_date
from workflow.people.access import hashed
from workflow.store.models import receipts

#: the payload key the door puts the number under
KEY = "_receipt"


@dataclass(frozen=True)
class Receipt:
    """What the sender takes away: the number, the access code (shown once) and the case."""

    number: str
    access_code: str
    case: Any


def issue(conn: Connection, case_id: int, prefix: str, access_code: str,
          now: dt.datetime) -> tuple[int, str]:
    """A new receipt row for ``case_id``; its id and number."""
    receipt_id = conn.execute(sa.insert(receipts).values(
        case_id=case_id, number=f"pending-{case_id}-{now.timestamp()}",
        digest=hashed(access_code), created_at=now).returning(receipts.c.id)).scalar_one()
    number = f"{prefix}-{local_date(now).year}-{receipt_id:06d}"
    conn.execute(sa.update(receipts).where(receipts.c.id == receipt_id).values(number=number))
    return receipt_id, number


def settle(conn: Connection, receipt_id: int, seq: int) -> None:
    """Tie the receipt to the event that recorded what was sent."""
    conn.execute(sa.update(receipts).where(receipts.c.id == receipt_id).values(seq=seq))
