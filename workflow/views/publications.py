"""Published items of routine disclosure (例行公开) and who may see them (G1, G7, G8, G10,
G11).

A *publication* is a ``routine`` case whose internal release happened (``published_internal``
in its data, G1: 先党内、后党外). Who sees it is decided here and nowhere else —
:func:`visible` — and every reader (the board pages, the Atom feed, the search, the JSON
API) goes through :func:`publications` or :func:`publication`, which apply it:

* **everyone** sees an item whose scope is 党外 (``public``) *and* whose public release
  happened (``published_public``);
* a **Party member** — role ``member`` — sees, besides, every published item (党内 items,
  and public-scope items not yet released publicly) of the organisation where they hold the
  role and of its ancestors: the item's organisation path is a prefix of the member's;
* nobody sees an item before its internal release, and no other role widens the rule.

Withdrawn items (G7) stay listed under the same rule, marked, with their explanation.

Another process may publish on the board through its own triggers (V2: the village
decision's resolution and implementation result): its declaration names the data fields
holding each publication (``Process.board``), each a record shaped like a routine item,
and each is one more :class:`Publication` (its ``part`` the field's name) under the same
rule, and one more row of the ledger (G10).
Officers' registration ledger (G10, :func:`ledger`) is another question — what an officer
must account for — and covers every publication in the subtrees of their organisations.
Where an officer below may republish an item (G11, :func:`republishing`) is read
from the routine process's own ``republish`` trigger, which the door checks again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.base.errors import NotFound
from workflow.base.text import Text
from workflow.base.timeutil import LOCAL_TZ, UTC, start_of_local_day, utcnow
from workflow.core.declare import Ctx
from workflow.core.engine import CaseView, Engine
from workflow.core.registry import Registry, refusal_of
from workflow.people.actors import LOWER, Actor, is_below
from workflow.store.models import cases, orgs
from workflow.views.inbox import subtree_ids

KIND = "routine"
RELEASE = "publish_internal"  # the trigger whose destinations are the first published states
MEMBER = "member"
WITHDRAWN = "withdrawn"
UNKNOWN_ORG = Text("找不到该组织", "No such organisation")


# -- the rule ------------------------------------------------------------------------------


def member_paths(grants: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The organisation paths where a viewer holds the ``member`` role, from (path, role)
    grants (``Account.actor.grants``). Nothing for an anonymous viewer."""
    return tuple(sorted({path for path, role in grants if role == MEMBER}))


def is_public(data: Mapping[str, Any]) -> bool:
    """党外 scope and both releases done, internal first (G1): fit for everyone."""
    return (data.get("scope") == "public" and bool(data.get("published_internal"))
            and bool(data.get("published_public")))


def visible(org_path: str, data: Mapping[str, Any], members: Iterable[str]) -> bool:
    """THE visibility rule: may a viewer who is a Party member at ``members`` (organisation
    paths; empty for an anonymous visitor) see this item of ``org_path``?"""
    if not data.get("published_internal"):
        return False
    if is_public(data):
        return True
    return any(path.startswith(org_path) for path in members)


def released_states(registry: Registry, kind: str = KIND) -> list[str]:
    """The states a case can be in once released: the destinations of ``publish_internal``
    and every state reachable from them, over every version of the process. Only a
    pre-filter for the database; :func:`visible` decides on the data itself."""
    found: set[str] = set()
    for compiled in registry.all():
        if compiled.kind != kind:
            continue
        start = {a.dest for (_src, name), arrows in compiled.arrows.items() if name == RELEASE
                 for a in arrows if a.dest}
        seen, todo = set(start), list(start)
        while todo:
            state = todo.pop()
            for (src, _name), arrows in compiled.arrows.items():
                if src != state:
                    continue
                for arrow in arrows:
                    if arrow.dest and arrow.dest not in seen:
                        seen.add(arrow.dest)
                        todo.append(arrow.dest)
        found |= seen
    return sorted(found)


# -- what a publication looks like -----------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    """One published item as the board, the feed, the API and the ledger show it."""

    id: int
    code: str | None
    org: str
    org_name: str
    org_path: str
    title: str
    content: str
    category: str
    scope: str  # "public" when everyone may see it now, else "internal" (G1)
    declared_scope: str  # the item's scope as declared: "public" or "internal"
    state: str
    version: int  # the version of the routine process the item runs on
    time_class: str
    period: str
    internal: Mapping[str, Any]  # {on, at, channels}
    public: Mapping[str, Any] | None  # {on, at, channels} or None
    published_at: dt.datetime  # the release that makes it what it is: public, else internal
    updated_at: dt.datetime
    changes: tuple[Mapping[str, Any], ...] = ()
    opinions: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    kind: str = KIND  # the process that published it
    part: str | None = None  # the data field of a process publishing through ``board``
    finance: Mapping[str, Any] | None = None  # V2 财务公开: {amount, text} where money moved

    @property
    def withdrawn(self) -> bool:
        return self.state == WITHDRAWN

    @property
    def withdrawal(self) -> Mapping[str, Any] | None:
        """The approved withdrawal with its explanation (G7), when withdrawn."""
        if not self.withdrawn:
            return None
        found = [c for c in self.changes if c.get("kind") == "withdraw"]
        return found[-1] if found else None

    @property
    def channels(self) -> list[str]:
        """Every channel it was published on (G12), internal release first."""
        names = list(self.internal.get("channels") or [])
        names += list((self.public or {}).get("channels") or [])
        return list(dict.fromkeys(names))

    @property
    def local_day(self) -> dt.date:
        return self.published_at.astimezone(LOCAL_TZ).date()

    @property
    def year(self) -> int:
        return self.local_day.year

    @property
    def quarter(self) -> int:
        return (self.local_day.month - 1) // 3 + 1

    @property
    def published_answers(self) -> list[Mapping[str, Any]]:
        """Opinions whose answer the officer chose to publish (G8), without who gave them."""
        return [{"no": o["no"], "text": o["text"], "on": o.get("on"),
                 "answer": o["answer"], "answered_on": o.get("answered_on")}
                for o in self.opinions if o.get("answer") and o.get("publish")]


def _moment(text: str | None, fallback: dt.datetime) -> dt.datetime:
    if not text:
        return fallback
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def build(case: CaseView, org_name: str, part: str | None = None) -> Publication:
    """The publication a routine case is, or the one held in field ``part`` of another
    process's case (``Process.board``)."""
    data = case.data if part is None else case.data[part]
    created = _aware(case.created_at)
    internal = dict(data.get("published_internal") or {})
    public = dict(data["published_public"]) if data.get("published_public") else None
    open_to_all = is_public(data)
    released = public if open_to_all and public else internal
    changes = tuple({k: v for k, v in c.items() if not k.endswith("_by")}
                    for c in data.get("changes") or ())
    published_at = _moment(released.get("at"), created)
    updated = published_at
    for change in changes:
        if change.get("approved_on"):
            updated = max(updated, start_of_local_day(dt.date.fromisoformat(
                change["approved_on"])))
    return Publication(
        id=case.id, code=case.code, org=case.org_code, org_name=org_name,
        org_path=case.org_path,
        title=(str(data.get("title") or "") if part
               else case.title or str(data.get("title") or "")),
        content=str(data.get("content") or ""), category=str(data.get("category") or ""),
        scope="public" if open_to_all else "internal",
        declared_scope=str(data.get("scope") or "internal"), state=case.state,
        version=case.def_version,
        time_class=str(data.get("time_class") or ""), period=str(data.get("period") or ""),
        internal=internal, public=public, published_at=published_at, updated_at=updated,
        changes=changes, opinions=tuple(data.get("opinions") or ()), kind=case.kind,
        part=part, finance=data.get("finance"))


# -- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What a reader asks for: an organisation's subtree, words, a category, a period."""

    org: str | None = None
    q: str | None = None
    category: str | None = None
    year: int | None = None
    quarter: int | None = None


def _org_path(conn: Connection, code: str) -> str:
    path = conn.execute(sa.select(orgs.c.path).where(orgs.c.code == code)).scalar()
    if path is None:
        raise NotFound(UNKNOWN_ORG)
    return path


def board_fields(registry: Registry) -> dict[str, tuple[str, ...]]:
    """The processes that publish on the board through their own triggers, and the data
    fields holding their publications (``Process.board``), over every version."""
    found: dict[str, tuple[str, ...]] = {}
    for compiled in registry.all():
        fields = compiled.process.board
        if fields:
            found[compiled.kind] = tuple(dict.fromkeys((*found.get(compiled.kind, ()),
                                                        *fields)))
    return found


def _rows(conn: Connection, registry: Registry, where: list[Any]) -> list[tuple[CaseView, str]]:
    columns = [*cases.c, orgs.c.code.label("org_code"), orgs.c.path.label("org_path"),
               orgs.c.name.label("org_name")]
    routine = sa.and_(cases.c.kind == KIND, cases.c.state.in_(released_states(registry)))
    kinds = sa.or_(routine, cases.c.kind.in_(sorted(board_fields(registry))))
    query = (sa.select(*columns).join(orgs, orgs.c.id == cases.c.org_id)
             .where(kinds, *where).order_by(cases.c.id.desc()))
    return [(CaseView.from_row(row), row.org_name) for row in conn.execute(query)]


def _parts(case: CaseView, registry: Registry) -> list[tuple[str | None, Mapping[str, Any]]]:
    """(part, record) for each publication a case holds: a routine case is one, whose
    record is its data; another process's case one per filled ``board`` field."""
    if case.kind == KIND:
        return [(None, case.data)]
    return [(name, case.data[name]) for name in board_fields(registry).get(case.kind, ())
            if isinstance(case.data.get(name), Mapping)]


def _visible_items(rows: Iterable[tuple[CaseView, str]], registry: Registry,
                   members: tuple[str, ...]) -> list[Publication]:
    return [build(case, org_name, part) for case, org_name in rows
            for part, record in _parts(case, registry)
            if visible(case.org_path, record, members)]


def matches(item: Publication, query: Query) -> bool:
    """Whether a (visible) item answers the query: category, year, quarter, every word."""
    if query.category and item.category != query.category:
        return False
    if query.year and item.year != query.year:
        return False
    if query.quarter and item.quarter != query.quarter:
        return False
    if query.q:
        words = query.q.strip().lower().split()
        text = " ".join((item.title, item.content, item.code or "", item.org_name,
                         *(str(c.get("explanation") or "") for c in item.changes))).lower()
        if not all(w in text for w in words):
            return False
    return True


def _ordered(items: Iterable[Publication]) -> list[Publication]:
    return sorted(items, key=lambda p: (p.published_at, p.id), reverse=True)


def publications(engine: Engine, members: Iterable[str] = (),
                 query: Query = Query()) -> list[Publication]:
    """The published items a viewer who is a Party member at ``members`` may see (none:
    an anonymous visitor), newest first, narrowed by ``query``. Unknown ``query.org``:
    :class:`NotFound`."""
    members = tuple(members)
    with engine.db.read() as conn:
        where = []
        if query.org:
            where.append(orgs.c.path.startswith(_org_path(conn, query.org)))
        rows = _rows(conn, engine.registry, where)
    found = [item for item in _visible_items(rows, engine.registry, members)
             if matches(item, query)]
    return _ordered(found)


def publication(engine: Engine, case_id: int, members: Iterable[str] = (),
                part: str | None = None) -> Publication:
    """One item (``part``: one publication of a process publishing through ``board``), if
    this viewer may see it; otherwise :class:`NotFound`, the same as an item that does not
    exist."""
    with engine.db.read() as conn:
        rows = _rows(conn, engine.registry, [cases.c.id == case_id])
    found = [i for i in _visible_items(rows, engine.registry, tuple(members)) if i.part == part]
    if not found:
        raise NotFound()
    return found[0]


def ledger(engine: Engine, officer_paths: Iterable[str], org: str | None = None,
           year: int | None = None) -> list[Publication]:
    """G10 登记表: every publication in the subtrees of ``officer_paths`` (the
    organisations where the officer holds a role), oldest first, one per row."""
    with engine.db.read() as conn:
        scope = subtree_ids(conn, officer_paths)
        if org:
            scope = sorted(set(scope) & set(subtree_ids(conn, [_org_path(conn, org)])))
        rows = _rows(conn, engine.registry, [cases.c.org_id.in_(scope)]) if scope else []
    items = [build(case, name, part) for case, name in rows
             for part, record in _parts(case, engine.registry)
             if record.get("published_internal")]
    items = [i for i in items if not year or i.year == year]
    return sorted(items, key=lambda p: (p.published_at, p.id))


def labeller(registry: Registry, kind: str = KIND) -> Callable[[str], Text | None]:
    """Labels for the item's choice values (category, scope, time class, channels)."""
    if kind not in registry:
        return lambda _key: None
    return registry.get(kind).label


def choices(registry: Registry, name: str, kind: str = KIND) -> dict[str, Text]:
    """The choices of one start field (``category``) of the latest version."""
    if kind not in registry:
        return {}
    for f in registry.get(kind).process.start_schema.fields:
        if f.name == name:
            return dict(f.choices)
    return {}


#: G11: the trigger by which an organisation below republishes an item
REPUBLISH = "republish"


@dataclass(frozen=True)
class Republishing:
    """G11: where an officer below may republish an item (organisation code, name), and in
    which scopes (value, label); empty where they may not."""

    orgs: tuple[tuple[str, str], ...] = ()
    scopes: tuple[tuple[str, Text], ...] = ()


def republishing(engine: Engine, actor: Actor, item: Publication) -> Republishing:
    """G11: what the item's ``republish`` offers ``actor`` in its version and state: the
    organisations below the item's where they may open a routine case, provided they hold a
    ``lower:`` role it takes, and the scopes its guards let through (the door's own tests)."""
    compiled = engine.registry.get(KIND, item.version)
    arrows = compiled.arrows.get((item.state, REPUBLISH), ())
    lower = frozenset(role for arrow in arrows for role in arrow.roles
                      if role.startswith(LOWER))
    if actor.kind != "user" or not lower or not actor.holds(lower, item.org_path):
        return Republishing()
    starts = engine.registry.get(KIND).process.start_roles
    paths = sorted({path for path, _role in actor.grants
                    if is_below(path, item.org_path) and actor.holds(starts, path)})
    with engine.db.read() as conn:
        found = tuple(sorted(tuple(row) for row in conn.execute(
            sa.select(orgs.c.code, orgs.c.name).where(orgs.c.path.in_(paths)))))
        data = json.loads(conn.execute(sa.select(cases.c.data).where(
            cases.c.id == item.id)).scalar_one())
    if not found:
        return Republishing()
    arrow = arrows[0]
    choices = next((f.choices for f in arrow.schema.fields if f.name == "scope"), {})
    scopes = tuple((value, label) for value, label in choices.items() if refusal_of(
        arrow, Ctx(data, {"org": found[0][0], "scope": value}, utcnow(), actor.label,
                   item.state)) is None)
    return Republishing(found, scopes)


@dataclass(frozen=True)
class Republication:
    """The lower organisation's item a republication opened (G11)."""

    id: int
    code: str


def republication(engine: Engine, item_id: int, seq: int, org: str) -> Republication:
    """G11: the item that event ``seq`` of item ``item_id`` opened at ``org`` (its
    ``_spawned_by``), newest first from the organisation's cases opened since the item."""
    spawned_by = {"case": item_id, "seq": seq}
    with engine.db.read() as conn:
        rows = conn.execute(
            sa.select(cases.c.id, cases.c.code, cases.c.data)
            .join(orgs, orgs.c.id == cases.c.org_id)
            .where(orgs.c.code == org, cases.c.kind == KIND, cases.c.id > item_id)
            .order_by(cases.c.id.desc()))
        for row in rows:
            link = json.loads(row.data).get("_spawned_by") or {}
            if {k: link.get(k) for k in spawned_by} == spawned_by:
                return Republication(row.id, row.code)
    raise NotFound()


#: G13: a note marked as the supervisor's comes from one who holds that role
SUPERVISION = "supervision"


def opinion_kinds(registry: Registry, actor: Actor | None, org_path: str,
                  kind: str = KIND) -> dict[str, Text]:
    """The kinds of opinion ``actor`` may give on an item of ``org_path``, from the
    ``opinion`` trigger's schema: a supervisor's note only from a supervisor (G13)."""
    if kind not in registry:
        return {}
    trigger = registry.get(kind).first("opinion")
    found = next((dict(f.choices) for f in (trigger.schema.fields if trigger else ())
                  if f.name == "kind"), {})
    if actor is None or not actor.holds({"supervisor"}, org_path):
        found.pop(SUPERVISION, None)
    return found
