"""What a person without an account sees with a receipt number and its access code: what
they sent and what became of it (a comment's disposition, a registration's verification).

A wrong code and an unknown number look the same (None), so a number alone reveals
nothing. What became of it are the later events of the case whose payload names the
receipt (``{"receipt": "YJ-2026-000045", …}``), shown with officers as staff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from workflow.base.text import Text
from workflow.core.engine import Engine, event_label
from workflow.core.receipts import KEY
from workflow.people.access import matches, normalise
from workflow.store.models import events, receipts

STAFF = Text("工作人员", "Staff")


@dataclass(frozen=True)
class Step:
    seq: int
    at: str
    trigger: str
    label: Text
    who: Text | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class Status:
    number: str
    case_id: int
    sent: Step
    since: list[Step]


def lookup(engine: Engine, case_id: int, number: str, access_code: str | None) -> Status | None:
    """The receipt of ``case_id`` numbered ``number`` if ``access_code`` is its code."""
    number = normalise(number or "")
    with engine.db.read() as conn:
        row = conn.execute(sa.select(receipts).where(
            receipts.c.number == number, receipts.c.case_id == case_id)).first()
        if not matches(row.digest if row else None, access_code) or row.seq is None:
            return None
        rows = conn.execute(sa.select(events).where(
            events.c.case_id == case_id, events.c.seq >= row.seq,
            events.c.payload.like(f'%"{number}"%')).order_by(events.c.seq)).all()
    compiled = engine.registry.get(rows[0].kind, rows[0].def_version)
    steps = []
    for ev in rows:
        payload = json.loads(ev.payload)
        if ev.seq == row.seq or payload.get("receipt") == number:
            who = STAFF if ev.actor.startswith("user:") else None
            steps.append(Step(ev.seq, ev.at, ev.trigger, event_label(compiled, ev.trigger), who,
                              {k: v for k, v in payload.items()
                               if not k.startswith("_") or k == KEY}))
    return Status(number, case_id, steps[0], steps[1:])
