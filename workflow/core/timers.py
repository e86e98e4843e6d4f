"""Timers: their lifecycle inside the door's transaction, and the runner that fires them.

:func:`schedule` is the door's one call for timers when a case moves: it starts,
keeps, pauses (A8), resumes, extends (A5) and cancels them in the same transaction as
the event, and returns the case's new due date. :func:`run_due` fires due timers
through the door as the system actor, exactly once: marking a timer fired
(:func:`mark_fired`) happens in the same transaction as its event, so a crash before
the commit leaves it pending (it fires on the next run) and a crash after leaves it
fired. Only the holder of the ``clock`` lease runs timers, so several web workers may
run beside one scheduler.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.base.canonical import canonical_text
from workflow.base.errors import AlreadyFired, Unavailable, WorkflowError
from workflow.base.timeutil import local_date, utcnow
from workflow.calendar.workdays import Calendars
from workflow.core import signals
from workflow.core.deadlines import (
    Planned,
    compute,
    extended_basis,
    paused_basis,
    plan,
    resumed_basis,
)
from workflow.people.actors import SYSTEM
from workflow.store.db import Database
from workflow.store.models import cases, locks, orgs, timers
from workflow.store.prepared import Prepared

if TYPE_CHECKING:
    from workflow.core.engine import Engine
    from workflow.core.registry import Compiled

MAX_ROUNDS = 10_000

TIMER_KEYS = ("case_id", "name", "trigger", "due_at", "due_date", "status", "provisional",
              "started_seq", "basis")
_TIMER_BY_ID = Prepared(sa.select(timers).where(timers.c.id == sa.bindparam("b_timer_id")))
_MARK_FIRED = Prepared(sa.update(timers).where(
    timers.c.id == sa.bindparam("b_timer_id"), timers.c.status == "pending")
    .values(status="fired", fired_seq=sa.bindparam("b_fired_seq")))
_LIVE_TIMERS = Prepared(
    sa.select(timers.c.id, timers.c.name, timers.c.status, timers.c.basis, timers.c.due_date)
    .where(timers.c.case_id == sa.bindparam("b_case_id"),
           sa.or_(timers.c.status == "pending", timers.c.status == "paused")))
_INSERT_TIMER = Prepared(sa.insert(timers), TIMER_KEYS)


def firing(conn: Connection, timer: Any, trigger: str) -> dict[str, Any]:
    """What a timer adds to its trigger's payload: its name and, for a reminder, the due day.
    ``timer`` is its id, or its row (``name``, ``basis``) already read by ``run_due``."""
    if isinstance(timer, int):
        row = _TIMER_BY_ID.first(conn, {"b_timer_id": timer})
        name, basis = row["name"], row["basis"]
    else:
        name, basis = timer.name, timer.basis
    extra: dict[str, Any] = {"_timer": name}
    if trigger == "remind":
        extra["due"] = json.loads(basis).get("due")
    return extra


def mark_fired(conn: Connection, timer_id: int, seq: int) -> None:
    """Close the timer with the event it fired; a second firing raises :class:`AlreadyFired`."""
    done = _MARK_FIRED.execute(conn, {"b_timer_id": timer_id, "b_fired_seq": seq})
    if done.rowcount != 1:
        raise AlreadyFired(timer_id)


def schedule(conn: Connection, compiled: Compiled, calendars: Calendars, case_id: int,
             seq: int, org_path: str, old_state: str | None, new_state: str, trigger: str,
             data: Mapping[str, Any], now: dt.datetime,
             later: list[dict[str, Any]] | None = None) -> Planned | None | bool:
    """Start, keep, pause, resume, extend or cancel timers for a move from ``old_state``
    (None when the case opens); ``seq`` is the event's predecessor. With ``later``, the
    new timer rows are added to it instead of written (a start writes its case row first,
    then them: :func:`insert_timers`).

    Returns the case's new due timer, None to clear the due date, False to keep it.
    """
    declared = compiled.process.timers
    if (old_state is not None and old_state not in compiled.timed_states
            and new_state not in compiled.timed_states):
        return False if old_state == new_state else None  # no timer runs or starts here
    restarted, starting, extend_on = _moves(compiled, old_state, new_state, trigger)
    extending = {name: int(data.get(key) or 0) for name, key in extend_on}
    if old_state == new_state and not starting and not extending:
        return False
    due: Planned | None | bool = False
    by_name = compiled.timers_by_name
    live = [] if old_state is None else _LIVE_TIMERS.rows(conn, {"b_case_id": case_id})
    today = local_date(now) if live else None
    calendar = calendars.for_org(conn, org_path) if (starting or live) else None
    closed: dict[str, list[int]] = {"cancelled": [], "resumed": []}
    replanned: list[tuple[Any, dict[str, Any]]] = []
    for row in live:
        spec = by_name.get(row["name"].split(".")[0])
        main = "." not in row["name"]
        if spec is not None and spec.name not in restarted:
            basis = json.loads(row["basis"])
            if (spec.name in extending and row["status"] == "pending"
                    and basis["unit"] != "at"):
                if main:
                    replanned.append((spec, extended_basis(basis, extending[spec.name],
                                                           today)))
                closed["cancelled"].append(row["id"])
                continue
            if new_state in spec.states and row["status"] == "pending":
                continue
            if new_state in spec.pauses and row["status"] == "paused":
                continue
            if new_state in spec.pauses and main:
                basis = paused_basis(basis, row["due_date"], today, calendar)
                if basis is not None:
                    conn.execute(sa.update(timers).where(timers.c.id == row["id"]).values(
                        status="paused", basis=canonical_text(basis)))
                    due = None if spec.sets_due else due
                    continue
            if new_state in spec.states and row["status"] == "paused":
                replanned.append((spec, resumed_basis(basis, today)))
                closed["resumed"].append(row["id"])
                continue
        closed["cancelled"].append(row["id"])
        if main and spec is not None and spec.sets_due:
            due = None
    if old_state != new_state and due is False and not any(
            t.sets_due and new_state in t.states for t in declared):
        due = None
    for status, ids in closed.items():
        if ids:
            conn.execute(sa.update(timers).where(timers.c.id.in_(ids)).values(status=status))
    planned_rows = []
    plans = [(spec, None) for spec in starting] + replanned
    for spec, basis in plans:
        planned = plan(spec, data, now, calendar, basis)
        planned_rows.extend(planned)
        if spec.sets_due and planned:
            due = planned[0]
    rows = [{"case_id": case_id, "name": p.name, "trigger": p.trigger, "due_at": p.due_at,
             "due_date": p.due_date, "status": "pending", "provisional": p.provisional,
             "started_seq": seq + 1, "basis": canonical_text(p.basis)} for p in planned_rows]
    if later is not None:
        later.extend(rows)
    else:
        insert_timers(conn, rows)
    return due


def _moves(compiled: Compiled, old_state: str | None, new_state: str, trigger: str
           ) -> tuple[frozenset[str], tuple[Any, ...], tuple[tuple[str, str], ...]]:
    """What a move does to the declared timers, the same for every case of a process
    (found once per move and kept on ``compiled``, not on every change): the names
    restarted, the timers starting, and the (timer, data field) pairs that extend one."""
    key = (old_state, new_state, trigger)
    found = compiled.timer_moves.get(key)
    if found is None:
        found = compiled.timer_moves[key] = _found_moves(compiled, *key)
    return found


def _found_moves(compiled: Compiled, old_state: str | None, new_state: str, trigger: str
                 ) -> tuple[frozenset[str], tuple[Any, ...], tuple[tuple[str, str], ...]]:
    declared = compiled.process.timers
    restarted = frozenset(t.name for t in declared if trigger in t.restart_on
                          and new_state in t.states)
    starting = tuple(t for t in declared if new_state in t.states and (
        old_state is None or t.name in restarted
        or (old_state not in t.states and old_state not in t.pauses)))
    extend_on = tuple((t.name, t.extend_on[trigger]) for t in declared
                      if trigger in t.extend_on and new_state in t.states)
    return restarted, starting, extend_on


def insert_timers(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Write new pending timers (rows as :func:`schedule` plans them)."""
    _INSERT_TIMER.many(conn, rows)


def run_due(engine: Engine, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Fire every timer due at or before ``now``, repeating while firings start more.

    Timers fire by group commit (issue 21): each batch of up to ``batch`` timers in one
    transaction, each timer with its own event and chain link, marked fired in that
    transaction (exactly once, also after a crash). A batch that fails is rolled back and
    fired again timer by timer, so one bad case never holds back the rest: a timer whose
    trigger no longer applies is closed as failed with the reason.

    When the database cannot take a change now (:class:`Unavailable`), the round ends
    with the timers still pending: the next tick fires them."""
    now = now or utcnow()
    fired = 0
    try:
        for _ in range(MAX_ROUNDS):
            with engine.db.read() as conn:
                due = conn.execute(
                    sa.select(timers.c.id, timers.c.case_id, timers.c.trigger, timers.c.name,
                              timers.c.basis)
                    .where(timers.c.status == "pending", timers.c.due_at <= now)
                    .order_by(timers.c.due_at, timers.c.id).limit(batch)
                ).all()
            if not due:
                break
            try:
                fired += engine.fire_timers(due, now)
            except Unavailable:
                raise
            except Exception:  # whatever failed: each timer on its own
                fired += _one_by_one(engine, due, now)
    except Unavailable:
        pass
    signals.timers_run.send(engine, fired=fired, now=now)
    return fired


def _one_by_one(engine: Engine, due: list[Any], now: dt.datetime) -> int:
    """Fire ``due`` one transaction each: a timer that fails is closed with the reason."""
    fired = 0
    for timer in due:
        try:
            engine.fire(timer.case_id, timer.trigger, SYSTEM, {}, now=now, timer_id=timer.id)
            fired += 1
        except AlreadyFired:
            continue
        except Unavailable:
            raise
        except WorkflowError as exc:
            _fail(engine.db, timer.id, str(exc.message))
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
