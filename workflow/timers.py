"""The timer runner: fires due timers through the door as the system actor.

Exactly once: marking a timer fired happens in the same transaction as its event, so
a crash before the commit leaves it pending (it fires on the next run) and a crash
after leaves it fired. Only the holder of the ``clock`` lease runs timers, so several
web workers may run beside one scheduler.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from workflow import signals
from workflow.actors import SYSTEM
from workflow.db import Database
from workflow.deadlines import compute
from workflow.engine import Engine
from workflow.errors import AlreadyFired, WorkflowError
from workflow.models import cases, locks, orgs, timers
from workflow.timeutil import utcnow

MAX_ROUNDS = 10_000


def run_due(engine: Engine, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Fire every timer due at or before ``now``, repeating while firings start more."""
    now = now or utcnow()
    fired = 0
    for _ in range(MAX_ROUNDS):
        with engine.db.read() as conn:
            due = conn.execute(
                sa.select(timers.c.id, timers.c.case_id, timers.c.trigger)
                .where(timers.c.status == "pending", timers.c.due_at <= now)
                .order_by(timers.c.due_at, timers.c.id).limit(batch)
            ).all()
        if not due:
            break
        for timer in due:
            try:
                engine.fire(timer.case_id, timer.trigger, SYSTEM, {}, now=now, timer_id=timer.id)
                fired += 1
            except AlreadyFired:
                continue
            except WorkflowError as exc:
                _fail(engine.db, timer.id, str(exc.message))
    signals.timers_run.send(engine, fired=fired, now=now)
    return fired


def _fail(db: Database, timer_id: int, note: str) -> None:
    """A timer whose trigger no longer applies is closed with the reason, never retried."""
    with db.write() as conn:
        conn.execute(sa.update(timers).where(timers.c.id == timer_id,
                                             timers.c.status == "pending")
                     .values(status="failed", note=note[:500]))


def recompute_provisional(engine: Engine) -> int:
    """After an official schedule arrives, move provisional due dates onto it."""
    engine.calendars.invalidate()
    changed = 0
    with engine.db.write() as conn:
        rows = conn.execute(
            sa.select(timers.c.id, timers.c.case_id, timers.c.basis, timers.c.name,
                      orgs.c.path)
            .join(cases, cases.c.id == timers.c.case_id).join(orgs, orgs.c.id == cases.c.org_id)
            .where(timers.c.status == "pending", timers.c.provisional.is_(True))
        ).all()
        for row in rows:
            basis = json.loads(row.basis)
            calendar = engine.calendars.for_org(conn, row.path)
            due_at, due_date, provisional, explain = compute(basis, calendar)
            conn.execute(sa.update(timers).where(timers.c.id == row.id).values(
                due_at=due_at, due_date=due_date, provisional=provisional))
            if basis.get("sets_due"):
                conn.execute(sa.update(cases).where(cases.c.id == row.case_id).values(
                    due_at=due_at, due_date=due_date, due_provisional=provisional,
                    due_explain=json.dumps(explain, ensure_ascii=False, sort_keys=True)))
            changed += 1
    return changed


def acquire(db: Database, holder: str, ttl: float = 60.0, name: str = "clock",
            now: dt.datetime | None = None) -> bool:
    """Take or renew the lease; False while another live holder has it."""
    now = now or utcnow()
    until = now + dt.timedelta(seconds=ttl)
    with db.write() as conn:
        exists = conn.execute(sa.select(locks.c.name).where(locks.c.name == name)).first()
        if exists is None:
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(locks).values(name=name, holder=holder,
                                                         expires_at=until))
            except sa.exc.IntegrityError:
                return False
            return True
        done = conn.execute(sa.update(locks).where(
            locks.c.name == name,
            sa.or_(locks.c.holder == holder, locks.c.expires_at < now),
        ).values(holder=holder, expires_at=until))
        return done.rowcount == 1


def release(db: Database, holder: str, name: str = "clock") -> None:
    with db.write() as conn:
        conn.execute(sa.delete(locks).where(locks.c.name == name, locks.c.holder == holder))
