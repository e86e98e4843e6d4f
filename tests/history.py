"""The three-case history the audit, signing and audit-desk tests share, and how they
tamper with it.

On the sample process at organisation ``T``, from Monday 2 November 2026, 10:00 in
Shanghai: ``a`` start, comment, submit, comment, then the timer run: two reminders and
expiry (7 events, ``expired``); ``b`` start, submit a large amount, approve, upper
consent (4 events, ``approved``); ``c`` start and one comment (2 events, ``draft``).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from workflow.core.engine import Engine
from workflow.core.timers import run_due
from workflow.people.actors import PUBLIC, Actor
from workflow.store.models import Event

NOW = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai
LATER = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # past every deadline started at NOW


def at(minutes: int) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def three_cases(engine: Engine, people: dict[str, Actor],
                c_comment: str = "同意") -> dict[str, int]:
    """Cases a, b and c by id, with the timers run at ``LATER``; no checkpoint yet."""
    handler, reviewer = people["handler"], people["reviewer"]
    a = engine.start("sample", "T", handler, {"title": "办公用品"}, at(0))
    engine.fire(a.id, "comment", people["member"], {"text": "支持"}, None, at(1))
    engine.fire(a.id, "submit", handler, {"amount": 5}, 1, at(2))
    engine.fire(a.id, "comment", PUBLIC, {"text": "请尽快"}, None, at(3))
    b = engine.start("sample", "T", handler, {"title": "会议室改造"}, at(4))
    b = engine.fire(b.id, "submit", handler, {"amount": 2000}, 1, at(5))
    b = engine.fire(b.id, "approve", reviewer, {}, b.version, at(6))
    b = engine.fire(b.id, "consent", people["upper"], {}, b.version, at(7))
    c = engine.start("sample", "T", handler, {"title": "学习材料"}, at(8))
    engine.fire(c.id, "comment", people["member"], {"text": c_comment}, None, at(9))
    assert run_due(engine, now=LATER) == 3, "two reminders, then the deadline"
    return {"a": a.id, "b": b.id, "c": c.id}


def tamper(engine: Engine, *statements: sa.Executable) -> None:
    """Change rows behind the engine's back, in one transaction."""
    with engine.db.engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def event_at(case_id: int, seq: int) -> sa.ColumnElement[bool]:
    events = Event.__table__
    return sa.and_(events.c.case_id == case_id, events.c.seq == seq)
