"""What an officer sees: queues, scope, due and overdue, keyset pages (G15).

A person's scope is the subtrees of the organisations where they hold a role. "My
queue" holds the cases whose state waits on a role they hold there (or, for
``upper:`` states, at the parent). Pages are keyset-paged on indexed columns so they
stay fast at a million cases.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.audit import case_events
from workflow.engine import Engine, cases, orgs
from workflow.models import User
from workflow.registry import Registry
from workflow.text import Text
from workflow.timeutil import local_date, utcnow

users = User.__table__

VIEWS = ("mine", "org", "due", "overdue")
SORTS = ("new", "due")
PAGE = 50
DUE_SOON_DAYS = 3


@dataclass(frozen=True)
class Filters:
    view: str = "mine"
    kind: str | None = None
    state: str | None = None
    org: str | None = None
    q: str | None = None
    sort: str = "new"
    after: str | None = None
    limit: int = PAGE
    assignee: str | None = None


@dataclass
class Page:
    items: list[dict[str, Any]] = field(default_factory=list)
    next: str | None = None


def subtree_ids(conn: Connection, paths: Iterable[str]) -> list[int]:
    paths = sorted(set(paths))
    if not paths:
        return []
    return [r.id for r in conn.execute(sa.select(orgs.c.id).where(
        sa.or_(*[orgs.c.path.startswith(p) for p in paths])))]


def waiting_on(registry: Registry) -> dict[str, list[tuple[str, str]]]:
    """role -> (kind, state) pairs whose inbox is that role's; ``upper:role`` likewise."""
    found: dict[str, set[tuple[str, str]]] = {}
    for compiled in registry.all():
        for state in compiled.process.states:
            if state.role and not state.final:
                found.setdefault(state.role, set()).add((compiled.kind, state.name))
    return {role: sorted(pairs) for role, pairs in found.items()}


def _pairs(pairs: list[tuple[str, str]]):
    by_kind: dict[str, list[str]] = {}
    for kind, state in pairs:
        by_kind.setdefault(kind, []).append(state)
    return sa.or_(*[sa.and_(cases.c.kind == k, cases.c.state.in_(s))
                    for k, s in by_kind.items()])


def queue_condition(conn: Connection, registry: Registry,
                    grants: Iterable[tuple[str, str]]):
    """Cases waiting on one of these (org path, role) grants."""
    roles = waiting_on(registry)
    ids = {r.path: r.id for r in conn.execute(sa.select(orgs.c.id, orgs.c.path).where(
        orgs.c.path.in_({path for path, _ in grants})))}
    parent = orgs.alias("parent_org")
    clauses = []
    for path, role in grants:
        if path not in ids:
            continue
        if roles.get(role):
            clauses.append(sa.and_(cases.c.org_id == ids[path], _pairs(roles[role])))
        if roles.get(f"upper:{role}"):
            children = sa.select(parent.c.id).where(parent.c.parent_id == ids[path])
            clauses.append(sa.and_(cases.c.org_id.in_(children),
                                   _pairs(roles[f"upper:{role}"])))
    return sa.or_(*clauses) if clauses else sa.false()


def final_states(registry: Registry) -> dict[str, list[str]]:
    found: dict[str, set[str]] = {}
    for compiled in registry.all():
        found.setdefault(compiled.kind, set()).update(
            s.name for s in compiled.process.states if s.final)
    return {k: sorted(v) for k, v in found.items()}


def _open_condition(registry: Registry):
    finals = final_states(registry)
    return sa.and_(*[sa.not_(sa.and_(cases.c.kind == k, cases.c.state.in_(s)))
                     for k, s in finals.items() if s]) if finals else sa.true()


def list_cases(engine: Engine, grants: Iterable[tuple[str, str]], filters: Filters,
               now: dt.datetime | None = None) -> Page:
    now = now or utcnow()
    grants = list(grants)
    limit = max(1, min(filters.limit, 200))
    with engine.db.read() as conn:
        scope = subtree_ids(conn, [path for path, _ in grants])
        if filters.org:
            org = conn.execute(sa.select(orgs.c.path).where(orgs.c.code == filters.org)).first()
            scope = sorted(set(scope) & set(subtree_ids(conn, [org.path]))) if org else []
        query = (sa.select(cases.c.id, cases.c.code, cases.c.title, cases.c.kind,
                           cases.c.def_version, cases.c.state, cases.c.version, cases.c.due_at,
                           cases.c.due_date, cases.c.due_provisional, cases.c.assignee,
                           cases.c.updated_at, cases.c.created_at, orgs.c.code.label("org"),
                           orgs.c.name.label("org_name"), orgs.c.path.label("org_path"))
                 .join(orgs, orgs.c.id == cases.c.org_id)
                 .where(cases.c.org_id.in_(scope)))
        if filters.view == "mine":
            query = query.where(queue_condition(conn, engine.registry, grants))
        elif filters.view in ("due", "overdue"):
            query = query.where(cases.c.due_at.is_not(None), _open_condition(engine.registry))
            if filters.view == "overdue":
                query = query.where(cases.c.due_at <= now)
            else:
                cal = engine.calendars.for_org(conn, "/")
                soon = cal.add_working_days(local_date(now), DUE_SOON_DAYS).due
                query = query.where(cases.c.due_at > now, cases.c.due_date <= soon)
        if filters.kind:
            query = query.where(cases.c.kind == filters.kind)
        if filters.state:
            query = query.where(cases.c.state == filters.state)
        if filters.assignee:
            query = query.where(cases.c.assignee == filters.assignee)
        if filters.q:
            text = filters.q.strip()
            query = query.where(sa.or_(cases.c.code == text.upper(),
                                       cases.c.title.contains(text, autoescape=True)))
        by_due = filters.sort == "due" or filters.view in ("due", "overdue")
        if by_due:
            query = query.where(cases.c.due_at.is_not(None))
            if filters.after:
                stamp, _, last = filters.after.partition("|")
                moment = dt.datetime.fromisoformat(stamp)
                query = query.where(sa.or_(cases.c.due_at > moment,
                                           sa.and_(cases.c.due_at == moment,
                                                   cases.c.id > int(last))))
            query = query.order_by(cases.c.due_at, cases.c.id)
        else:
            if filters.after:
                query = query.where(cases.c.id < int(filters.after))
            query = query.order_by(cases.c.id.desc())
        rows = conn.execute(query.limit(limit + 1)).all()
        items = [describe(engine, conn, r, now) for r in rows[:limit]]
    page = Page(items)
    if len(rows) > limit:
        last = rows[limit - 1]
        page.next = f"{last.due_at.isoformat()}|{last.id}" if by_due else str(last.id)
    return page


def describe(engine: Engine, conn: Connection, row: Any, now: dt.datetime) -> dict[str, Any]:
    """One inbox row with labels and working days left (negative when overdue)."""
    compiled = engine.registry.get(row.kind, row.def_version)
    state = compiled.state(row.state)
    left = None
    if row.due_date and not state.final:
        cal = engine.calendars.for_org(conn, row.org_path)
        today = local_date(now)
        left = (cal.working_days_between(today, row.due_date) if row.due_date >= today
                else -cal.working_days_between(row.due_date, today))
    return {
        "id": row.id, "code": row.code, "title": row.title, "kind": row.kind,
        "kind_label": compiled.process.label, "state": row.state, "state_label": state.label,
        "final": state.final, "version": row.version, "org": row.org, "org_name": row.org_name,
        "due": row.due_date, "due_at": row.due_at, "due_provisional": bool(row.due_provisional),
        "overdue": bool(row.due_at and row.due_at <= now and not state.final),
        "days_left": left, "assignee": row.assignee, "updated_at": row.updated_at,
    }


ACTOR_KINDS = {"system": ("系统", "System"), "public": ("公众", "The public"),
               "applicant": ("申请人", "Applicant")}


def timeline(engine: Engine, case_id: int) -> list[dict[str, Any]]:
    """The case's events with labels, oldest first; internal keys (``_…``) left out."""
    rows = case_events(engine.db, case_id)
    names = {r.username: r.display_name for r in _query_names(engine, rows)}
    found = []
    for ev in rows:
        compiled = engine.registry.get(ev["kind"], ev["def_version"])
        arrow = compiled.first(ev["trigger"])
        label = arrow.label if arrow else Text("立案", "Opened")
        kind, _, ident = ev["actor"].partition(":")
        if kind == "user":
            who = Text(names.get(ident, ident), names.get(ident, ident))
        else:
            zh, en = ACTOR_KINDS.get(kind, (kind, kind))
            shown = ident if kind == "applicant" else ""
            who = Text(f"{zh} {shown}".strip(), f"{en} {shown}".strip())
        payload = {k: v for k, v in json.loads(ev["payload"]).items() if not k.startswith("_")}
        found.append({
            "seq": ev["seq"], "at": ev["at"], "trigger": ev["trigger"], "label": label,
            "actor": ev["actor"], "who": who, "payload": payload,
            "from": compiled.state(ev["from_state"]).label if ev["from_state"] else None,
            "to": compiled.state(ev["to_state"]).label,
            "changed": ev["from_state"] != ev["to_state"], "hash": ev["hash"],
        })
    return found


def _query_names(engine: Engine, rows: list[dict[str, Any]]) -> list[Any]:
    wanted = {r["actor"].partition(":")[2] for r in rows if r["actor"].startswith("user:")}
    if not wanted:
        return []
    with engine.db.read() as conn:
        return conn.execute(sa.select(users.c.username, users.c.display_name)
                            .where(users.c.username.in_(wanted))).all()
