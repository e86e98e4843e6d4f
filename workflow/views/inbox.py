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

from workflow.audit.chain import case_events
from workflow.base.errors import Forbidden, Invalid
from workflow.base.text import Text
from workflow.base.timeutil import end_of_local_day, local_date, utcnow
from workflow.core.engine import CaseView, Engine, event_label
from workflow.core.registry import Registry
from workflow.people.accounts import actor_of
from workflow.people.actors import Actor
from workflow.store.models import as_id, cases, orgs, users

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
    before: str | None = None


@dataclass
class Page:
    """One page of the inbox; ``next``/``prev`` are the cursors of the pages beside it and
    ``total`` counts every match, up to ``COUNT_CAP`` (``more`` when there are more)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    next: str | None = None
    prev: str | None = None
    total: int = 0
    more: bool = False


#: the inbox counts its matches up to this many ("1 000 or more"), so that a count costs
#: the same at a million cases as at ten thousand (bench/bench_inbox.py)
COUNT_CAP = 1_000


def subtree_ids(conn: Connection, paths: Iterable[str]) -> list[int]:
    paths = sorted(set(paths))
    if not paths:
        return []
    return [r.id for r in conn.execute(sa.select(orgs.c.id).where(
        sa.or_(*[orgs.c.path.startswith(p) for p in paths])))]


def orgs_in_scope(engine: Engine, paths: Iterable[str]) -> list[tuple[str, str, int]]:
    """(code, name, depth) of the organisations at or below these paths, in tree order:
    what a person may filter their inbox by."""
    paths = sorted(set(paths))
    if not paths:
        return []
    with engine.db.read() as conn:
        rows = conn.execute(sa.select(orgs.c.code, orgs.c.name, orgs.c.path).where(
            sa.or_(*[orgs.c.path.startswith(p) for p in paths])).order_by(orgs.c.path)).all()
    top = min(r.path.count("/") for r in rows) if rows else 0
    return [(r.code, r.name, r.path.count("/") - top) for r in rows]


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


def queue_pairs(conn: Connection, registry: Registry,
                grants: Iterable[tuple[str, str]]) -> dict[int, frozenset[tuple[str, str]]]:
    """Organisation id -> the (kind, state) pairs of its cases that wait on one of these
    (org path, role) grants: the role's own states at the grant's organisation, its
    ``upper:`` states at the organisations just below. Each organisation's page is then
    its own index range (``org_id, id``), read only as far as the page needs."""
    roles = waiting_on(registry)
    grants = list(grants)
    ids = {r.path: r.id for r in conn.execute(sa.select(orgs.c.id, orgs.c.path).where(
        orgs.c.path.in_({path for path, _ in grants})))}
    found: dict[int, set[tuple[str, str]]] = {}
    for path, role in grants:
        if path not in ids:
            continue
        if roles.get(role):
            found.setdefault(ids[path], set()).update(roles[role])
        if roles.get(f"upper:{role}"):
            for (child,) in conn.execute(sa.select(orgs.c.id).where(
                    orgs.c.parent_id == ids[path])):
                found.setdefault(child, set()).update(roles[f"upper:{role}"])
    return {org_id: frozenset(pairs) for org_id, pairs in found.items()}


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


PER_ORG_LIMIT = 64  # up to this many organisations in scope: one index range each, merged


def list_cases(engine: Engine, grants: Iterable[tuple[str, str]], filters: Filters,
               now: dt.datetime | None = None) -> Page:
    """One page of the inbox, keyset-paged by id (newest first) or by due time; from
    ``after`` forwards or, with ``before``, the page that ends just before it. Up to
    ``COUNT_CAP`` matches the page is taken from the matches counted, beyond it from
    each organisation's index ranges."""
    now = now or utcnow()
    grants = list(grants)
    limit = max(1, min(filters.limit, 200))
    backwards = bool(filters.before) and not filters.after
    with engine.db.read() as conn:
        scope = subtree_ids(conn, [path for path, _ in grants])
        if filters.org:
            org = conn.execute(sa.select(orgs.c.path).where(orgs.c.code == filters.org)).first()
            scope = sorted(set(scope) & set(subtree_ids(conn, [org.path]))) if org else []
        conditions = _conditions(engine, conn, filters, now)
        by_due = filters.sort == "due" or filters.view in ("due", "overdue")
        if by_due:
            conditions.append(cases.c.due_at.is_not(None))
        groups = _groups(conn, engine.registry, grants, filters, scope, conditions)
        matches = _matches(conn, groups, by_due)
        total = len(matches)
        cursor = filters.before if backwards else filters.after
        if total <= COUNT_CAP:  # every match is in hand: the page is some of them
            ids = _page_of(matches, cursor, by_due, backwards, limit + 1)
        else:
            if cursor:
                beyond = _beyond(cursor, by_due, backwards)
                groups = [(members, [*where, beyond], states)
                          for members, where, states in groups]
            ids = _top_ids(conn, groups, by_due, limit + 1, backwards)
        more, ids = len(ids) > limit, ids[:limit]
        if backwards:
            ids.reverse()
        rows = conn.execute(
            sa.select(cases.c.id, cases.c.code, cases.c.title, cases.c.kind,
                      cases.c.def_version, cases.c.state, cases.c.version, cases.c.due_at,
                      cases.c.due_date, cases.c.due_provisional, cases.c.assignee,
                      cases.c.updated_at, cases.c.created_at, orgs.c.code.label("org"),
                      orgs.c.name.label("org_name"), orgs.c.path.label("org_path"))
            .join(orgs, orgs.c.id == cases.c.org_id).where(cases.c.id.in_(ids))).all()
        rank = {case_id: i for i, case_id in enumerate(ids)}
        rows = sorted(rows, key=lambda r: rank[r.id])
        items = [describe(engine, conn, r, now) for r in rows]
    page = Page(items, total=min(total, COUNT_CAP), more=total > COUNT_CAP)
    if rows:
        first, last = _cursor(rows[0], by_due), _cursor(rows[-1], by_due)
        page.next = last if (more and not backwards) or (backwards and filters.before) else None
        page.prev = first if (more and backwards) or (not backwards and filters.after) else None
    return page


BAD_CURSOR = Text("翻页标记无效", "Invalid page cursor")


def cursor_ok(cursor: str, by_due: bool) -> bool:
    """Is this a page cursor as ``Page.next``/``prev`` gives them (an id, or a due time
    with its offset and an id when paging by due time)? Anything else is refused before
    it reaches a query: a due time without an offset is not one the inbox gave."""
    if not by_due:
        return as_id(cursor) is not None
    stamp, sep, last = cursor.partition("|")
    try:
        moment = dt.datetime.fromisoformat(stamp)
        moment.astimezone(dt.UTC)  # a time at the calendar's edge may have no UTC form
    except (ValueError, OverflowError):
        return False
    return moment.tzinfo is not None and bool(sep) and as_id(last) is not None


def _cursor(row: Any, by_due: bool) -> str:
    return f"{row.due_at.isoformat()}|{row.id}" if by_due else str(row.id)


def _due_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """A due-time cursor's time and case id (``cursor_ok`` has checked it)."""
    stamp, _, last = cursor.partition("|")
    return dt.datetime.fromisoformat(stamp), int(last)


def _beyond(cursor: str, by_due: bool, backwards: bool):
    """The rows after a page's cursor in page order (before it, going ``backwards``)."""
    if by_due:
        moment, last_id = _due_cursor(cursor)
        if backwards:
            return sa.or_(cases.c.due_at < moment, sa.and_(
                cases.c.due_at == moment, cases.c.id < last_id))
        return sa.or_(cases.c.due_at > moment, sa.and_(
            cases.c.due_at == moment, cases.c.id > last_id))
    return cases.c.id > int(cursor) if backwards else cases.c.id < int(cursor)


#: organisations, the conditions on their cases (every organisation of a group shares its
#: group's) and, in my queue, the only states those conditions let through
Groups = list[tuple[list[int], list[Any], tuple[str, ...]]]

#: a group that lets this many states through, or fewer, is paged by its
#: (org_id, state, id) ranges (``_ranges``)
FEW_STATES = 3


def _groups(conn: Connection, registry: Registry, grants: list[tuple[str, str]],
            filters: Filters, scope: list[int], conditions: list[Any]) -> Groups:
    """The organisations in ``scope`` with the conditions on their cases: all alike, except
    in "my queue", where each organisation has the pairs waiting there (grouped when alike)."""
    if filters.view != "mine":
        return [(scope, conditions, ())] if scope else []
    in_scope = set(scope)
    by_pairs: dict[frozenset[tuple[str, str]], list[int]] = {}
    for org_id, pairs in queue_pairs(conn, registry, grants).items():
        if org_id in in_scope:
            by_pairs.setdefault(pairs, []).append(org_id)
    # The states alone, beside the pairs they are in: an (org_id, state) index range for
    # counting, where most cases of an organisation are in no queue (archived).
    found = []
    for pairs, ids in by_pairs.items():
        states = tuple(sorted({state for _, state in pairs}))
        found.append((sorted(ids), [*conditions, cases.c.state.in_(states),
                                    _pairs(sorted(pairs))], states))
    return found


def _where(groups: Groups):
    """One condition for all the groups (a wide scope, the count)."""
    return sa.or_(*[sa.and_(cases.c.org_id.in_(ids), *where) for ids, where, _ in groups])


def _matches(conn: Connection, groups: Groups, by_due: bool) -> list[tuple[Any, int]]:
    """The matching cases, up to one past ``COUNT_CAP``, as (page order key, id): the
    count, and, when that is all of them, every page. Where few cases of many match (a
    queue among archived cases) this reads only those, through whichever index SQLite
    finds best, where a page by index order would walk past all the others."""
    if not groups:
        return []
    columns = (cases.c.due_at, cases.c.id) if by_due else (cases.c.id,)
    rows = conn.execute(sa.select(*columns).where(_where(groups)).limit(COUNT_CAP + 1))
    return [(_key(row, by_due), row.id) for row in rows]


def _key(row: Any, by_due: bool) -> tuple[Any, ...]:
    """Where a case stands in page order, ascending: by due time then id, else newest
    first."""
    return (row.due_at, row.id) if by_due else (-row.id,)


def _page_of(matches: list[tuple[Any, int]], cursor: str | None, by_due: bool,
             backwards: bool, count: int) -> list[int]:
    """``_top_ids`` over matches in hand: those beyond the cursor (``_beyond``), in page
    order (reversed, ``backwards``), the first ``count``."""
    if cursor:
        mark: tuple[Any, ...] = _due_cursor(cursor) if by_due else (-int(cursor),)
        matches = [m for m in matches if (m[0] < mark if backwards else m[0] > mark)]
    return [case_id for _, case_id in sorted(matches, reverse=backwards)[:count]]


def _conditions(engine: Engine, conn: Connection, filters: Filters,
                now: dt.datetime) -> list[Any]:
    found: list[Any] = []
    if filters.view in ("due", "overdue"):
        found += [cases.c.due_at.is_not(None), _open_condition(engine.registry)]
        if filters.view == "overdue":
            found.append(cases.c.due_at <= now)
        else:
            cal = engine.calendars.for_org(conn, "/")
            soon = cal.add_working_days(local_date(now), DUE_SOON_DAYS).due
            # A due time lies within its due date's local day (workflow.core.deadlines), so
            # the bound on due_at follows from the one on due_date; it ends the index range.
            found += [cases.c.due_at > now, cases.c.due_at <= end_of_local_day(soon),
                      cases.c.due_date <= soon]
    if filters.kind:
        found.append(cases.c.kind == filters.kind)
    if filters.state:
        found.append(cases.c.state == filters.state)
    if filters.assignee:
        found.append(cases.c.assignee == filters.assignee)
    if filters.q:
        text = filters.q.strip()  # a part of the code (``4965``, ``004965``) or of the title
        found.append(sa.or_(cases.c.code.contains(text.upper(), autoescape=True),
                            cases.c.title.contains(text, autoescape=True)))
    return found


def _ranges(groups: Groups, by_due: bool) -> list[list[Any]]:
    """The conditions of each index range a page reads. By id, a group that lets few
    states through reads one ``(org_id, state, id)`` range per organisation and state,
    which holds only such cases where the ``(org_id, id)`` range walks past all the
    others (an upper level's consent among a village's cases); anything else, one range
    per organisation."""
    found = []
    for ids, where, states in groups:
        by_state = bool(states) and len(states) <= FEW_STATES and not by_due
        for org_id in ids:
            found += ([[cases.c.org_id == org_id, cases.c.state == state, *where]
                       for state in states] if by_state
                      else [[cases.c.org_id == org_id, *where]])
    return found


def _top_ids(conn: Connection, groups: Groups, by_due: bool, count: int,
             backwards: bool = False) -> list[int]:
    """The first ``count`` case ids in page order (in reverse order, ``backwards``). With
    few organisations in scope, each one's index range (``org_id, id`` or ``org_id,
    due_at, id``) gives its own first rows and those are merged, so a page costs the same
    at a million cases as at ten thousand; a wide scope has matches enough near the top
    of the primary key."""
    if not groups:
        return []
    descending = by_due == backwards  # newest first by id; soonest first by due time

    def order(*columns):
        return tuple(c.desc() if descending else c.asc() for c in columns)

    keys = (cases.c.due_at, cases.c.id) if by_due else (cases.c.id,)
    if sum(len(ids) for ids, _, _ in groups) > PER_ORG_LIMIT:
        query = sa.select(cases.c.id).where(_where(groups))
        return list(conn.execute(query.order_by(*order(*keys)).limit(count)).scalars())
    parts = [sa.select(sa.select(*keys).where(*where).order_by(*order(*keys)).limit(count)
                       .subquery())
             for where in _ranges(groups, by_due)]
    merged = sa.union_all(*parts).subquery()
    outer = order(merged.c.due_at, merged.c.id) if by_due else order(merged.c.id)
    return list(conn.execute(sa.select(merged.c.id).order_by(*outer).limit(count)).scalars())


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
        "due_soon": bool(left is not None and 0 <= left <= DUE_SOON_DAYS),
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
        label = event_label(compiled, ev["trigger"])
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


NOT_A_COLLEAGUE = Text("只能分派给能办理本事项当前步骤的本组织人员",
                       "Assign only to an officer who can act on the case's current step")


#: who gives a case to someone else or takes another's claim away (G15: the office does the
#: daily work, the responsible person reviews)
DISPATCHERS = frozenset({"office", "reviewer"})
NOT_AN_OFFICER = Text("只有能办理本事项当前步骤的人员才能认领",
                      "Only an officer who can act on the case's current step may claim it")
NOT_A_DISPATCHER = Text("分派或收回他人认领的事项需要本组织的办公室或负责人角色",
                        "Giving a case to someone else, or taking back another's claim, "
                        "takes the organisation's office or reviewer role")


#: roles that take part in a case without working on it (they comment, co-sign, audit)
NOT_OFFICERS = frozenset({"system", "public", "applicant", "member", "supervisor", "auditor",
                          "admin"})


def working_roles(engine: Engine, case: CaseView) -> frozenset[str]:
    """The roles of the officers who may act on the case's current step."""
    compiled = engine.registry.get(case.kind, case.def_version)
    return frozenset(role for name in compiled.triggers_from(case.state)
                     for arrow in compiled.arrows[(case.state, name)] for role in arrow.roles
                     if role not in NOT_OFFICERS)


def assign(engine: Engine, case_id: int, actor: Actor, assignee: str | None) -> CaseView:
    """Claim, assign or release a case: the one rule behind the page and the API.

    An officer who may act on the current step claims it or releases their own claim;
    giving it to someone else or releasing another's claim takes the office or the
    reviewer, and the assignee must be an officer who may act on it too."""
    case = engine.get(case_id, actor)
    roles = working_roles(engine, case)
    own = assignee == actor.id or (assignee is None and case.assignee in (None, actor.id))
    if own and not actor.holds(roles, case.org_path):
        raise Forbidden(NOT_AN_OFFICER)
    if not own and not actor.holds(DISPATCHERS, case.org_path):
        raise Forbidden(NOT_A_DISPATCHER)
    if assignee is not None and assignee != actor.id:
        with engine.db.read() as conn:
            other = actor_of(conn, assignee)
        if other is None or not other.holds(roles, case.org_path):
            raise Invalid(fields={"assignee": NOT_A_COLLEAGUE})
    return engine.assign(case_id, actor, assignee)


NOT_BELOW = Text("请选择本组织或下级组织", "Choose this organisation or one below it")


def from_template(engine: Engine, kind: str, org_code: str, for_org: str,
                  actor: Actor) -> list[CaseView]:
    """R2: open draft entries from the template for the target organisation's type, made
    by ``org_code`` for itself or for an organisation below it; all entries or none."""
    compiled = engine.registry.get(kind)
    with engine.db.read() as conn:
        found = conn.execute(sa.select(orgs.c.type, orgs.c.path).where(
            orgs.c.code == (for_org or org_code))).first()
        maker = conn.execute(sa.select(orgs.c.path).where(orgs.c.code == org_code)).scalar()
    if found is None or maker is None or not found.path.startswith(maker):
        raise Invalid(NOT_BELOW, {"for_org": NOT_BELOW})
    entries = compiled.process.templates.get(found.type, ())
    return engine.start_many(kind, org_code, actor,
                             [dict(entry) | {"for_org": for_org} for entry in entries])
