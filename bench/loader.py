"""Bulk loader: writes the rows ``Engine.start`` and append-only ``fire`` would write.

For each case: the ``start`` event (its payload taken from a real ``Engine.start``
that is rolled back), then ``comments`` append-only ``comment`` events, hash-chained
exactly as ``Engine._append`` chains them (canonical payload, payload digest, header
hash, previous hash); the case row is the projection replay rebuilds
(state, data, version, seq, head hash, code, title, due date) and the timers are the
rows ``workflow.core.timers.schedule`` plans on entering the initial state. Rows go in with
``executemany`` in transactions of ``chunk`` cases, so a million events load in
about a minute. ``tests/bench/test_loader.py`` checks that loaded cases equal cases
made through the engine, row for row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bench.common import T0, Site
from workflow.base.canonical import GENESIS, canonical, canonical_text, event_hash, payload_digest
from workflow.base.timeutil import iso_utc
from workflow.core.deadlines import plan
from workflow.core.declare import Ctx
from workflow.core.engine import START, apply_effects, start_data, title_of
from workflow.store.models import cases, events, timers

EVENT_COLUMNS = ("case_id", "seq", "kind", "def_version", "org", "trigger", "from_state",
                 "to_state", "actor", "at", "payload", "payload_digest", "prev_hash", "hash")
_QUOTED = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
INSERT_EVENT = (f"INSERT INTO events ({_QUOTED}) "
                f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})")


@dataclass(frozen=True)
class Loaded:
    first_id: int
    last_id: int
    events: int
    timers: int

    @property
    def cases(self) -> int:
        return self.last_id - self.first_id + 1


def title_for(case_id: int) -> str:
    return f"基准事项 {case_id}"


def comment_text(case_id: int, k: int) -> str:
    return f"第{k}条意见：同意公开（事项 {case_id}）"


def comment_at(start: dt.datetime, k: int) -> dt.datetime:
    return start + dt.timedelta(seconds=k)


class _Captured(Exception):
    pass


def start_template(site: Site, kind: str, start: dt.datetime) -> tuple[dict[str, Any], str]:
    """The ``start`` payload the engine writes for a case of ``kind`` at the site's
    organisation (the case's own fields vary, the rest is the same for every case) and
    the code's prefix: taken from a real ``Engine.start`` whose transaction is then
    rolled back, so the loader follows the engine without copying how it builds them."""
    found: dict[str, Any] = {}

    def capture(conn: Any, case_id: int, code: str) -> None:
        found["payload"] = conn.execute(sa.select(events.c.payload).where(
            events.c.case_id == case_id, events.c.seq == 1)).scalar_one()
        found["prefix"] = code.removesuffix(f"{case_id:06d}")
        raise _Captured

    with contextlib.suppress(_Captured):
        site.engine.start(kind, site.org_code, site.actor, {"title": title_for(0)}, start,
                          within=capture)
    return json.loads(found["payload"]), found["prefix"]


def load_cases(site: Site, kind: str, count: int, comments: int | list[int] = 0,
               start: dt.datetime = T0, chunk: int = 10_000) -> Loaded:
    """Write ``count`` cases of ``kind``: each a ``start`` plus its append-only comments.

    ``comments`` is one number for every case or a list with one number per case.
    """
    compiled = site.registry.get(kind)
    process = compiled.process
    actor = site.actor.label
    template, code_prefix = start_template(site, kind, start)
    with site.db.read() as conn:
        calendar = site.engine.calendars.for_org(conn, site.org_path)
        first_id = (conn.execute(sa.select(sa.func.max(cases.c.id))).scalar() or 0) + 1
    specs = [t for t in process.timers if process.initial in t.states]
    at0 = iso_utc(start)
    ats = [iso_utc(comment_at(start, k)) for k in range(1, 1 + max(
        comments if isinstance(comments, int) else max(comments, default=0), 0))]
    total_events = total_timers = 0
    case_rows: list[dict[str, Any]] = []
    event_rows: list[tuple] = []
    timer_rows: list[dict[str, Any]] = []

    def flush() -> None:
        with site.db.write() as conn:
            conn.execute(sa.insert(cases), case_rows)
            conn.exec_driver_sql(INSERT_EVENT, event_rows)
            if timer_rows:
                conn.execute(sa.insert(timers), timer_rows)
        case_rows.clear()
        event_rows.clear()
        timer_rows.clear()

    for i in range(count):
        case_id = first_id + i
        code = f"{code_prefix}{case_id:06d}"
        clean, errors = process.start_schema.validate({"title": title_for(case_id)})
        if errors:
            raise ValueError(errors)
        payload = template | clean | {"_code": code}
        data = start_data(compiled, payload, start, actor)
        text = canonical(payload).decode("utf-8")
        header = {"case_id": case_id, "seq": 1, "kind": kind,
                  "def_version": process.version, "org": site.org_code, "trigger": START,
                  "from_state": None, "to_state": process.initial, "actor": actor,
                  "at": at0, "payload_digest": payload_digest(text), "prev_hash": GENESIS}
        head = event_hash(header)
        event_rows.append((case_id, 1, kind, process.version, site.org_code, START, None,
                           process.initial, actor, at0, text, header["payload_digest"],
                           GENESIS, head))
        due = None
        before = len(timer_rows)
        for spec in specs:
            planned = plan(spec, data, start, calendar)
            for p in planned:
                timer_rows.append({"case_id": case_id, "name": p.name, "trigger": p.trigger,
                                   "due_at": p.due_at, "due_date": p.due_date,
                                   "status": "pending", "provisional": p.provisional,
                                   "started_seq": 1, "basis": canonical_text(p.basis)})
            if spec.sets_due and planned:
                due = planned[0]
        total_timers += len(timer_rows) - before
        state, seq, updated = process.initial, 1, start
        n = comments if isinstance(comments, int) else comments[i]
        for k in range(1, n + 1):
            clean = {"text": comment_text(case_id, k)}
            now = comment_at(start, k)
            ctx = Ctx(data, clean, now, actor, state)
            arrow, refusal = compiled.resolve(state, "comment", ctx)
            if arrow is None:
                raise ValueError(f"{kind}: comment refused in {state}: {refusal}")
            data = apply_effects(arrow.effects, ctx)
            text = canonical(clean).decode("utf-8")
            digest = payload_digest(text)
            seq += 1
            header = {"case_id": case_id, "seq": seq, "kind": kind,
                      "def_version": process.version, "org": site.org_code,
                      "trigger": "comment", "from_state": state, "to_state": state,
                      "actor": actor, "at": ats[k - 1], "payload_digest": digest,
                      "prev_hash": head}
            new_head = event_hash(header)
            event_rows.append((case_id, seq, kind, process.version, site.org_code, "comment",
                               state, state, actor, ats[k - 1], text, digest, head, new_head))
            head, updated = new_head, now
        total_events += seq
        case_rows.append({
            "id": case_id, "kind": kind, "def_version": process.version, "org_id": site.org_id,
            "code": code, "title": title_of(compiled, data), "state": state,
            "data": canonical_text(data),
            "version": 1, "seq": seq, "head_hash": head,
            "due_at": due.due_at if due else None, "due_date": due.due_date if due else None,
            "due_provisional": bool(due and due.provisional),
            "due_explain": canonical_text(due.explain) if due and due.explain else None,
            "assignee": None, "created_at": start, "updated_at": updated,
        })
        if len(case_rows) >= chunk:
            flush()
    if case_rows:
        flush()
    return Loaded(first_id, first_id + count - 1, total_events, total_timers)
