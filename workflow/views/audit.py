"""The auditor's read models (AU1-AU4, G15): what the audit desk and its API show.

Within an auditor's scope (the subtrees where the account holds ``auditor``): the event
log with filters; a case's history with each event's data change and the case as it
stood at a time, rebuilt by replay; an organisation's board as of a time; "verify now"
with the result per case; the checkpoints with their signature and witness status; and
every organisation's published keys (AU3, no scope). Anything outside the scope is
NotFound. Nothing here writes. The answers are plain dataclasses, so the web layer
(web/audit.py) only parses the request and shapes the answer, and runs no SQL.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa

from workflow.audit import chain as audit
from workflow.audit import signing
from workflow.base.errors import Forbidden, NotFound
from workflow.base.text import Text
from workflow.core.engine import Engine, event_label
from workflow.core.registry import Registry
from workflow.store.db import Database
from workflow.store.models import as_id, cases, checkpoints, copies, events, orgs

PAGE = 50
MAX_LISTED = 500  # cases listed one by one by verify
NOT_AUDITOR = Text("只有审计员可以查看审计台", "Only auditors may use the audit desk")
UNKNOWN_ORG = Text("不在您的审计范围内的组织", "An organisation outside your audit scope")
UNKNOWN_VERSION = Text("未知流程或版本", "unknown process or version")
NO_STATE = Text("—", "—")


# -- scope ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The organisations an auditor sees: code -> (name, path), and the roots."""

    orgs: Mapping[str, tuple[str, str]]
    roots: tuple[str, ...]

    @property
    def codes(self) -> list[str]:
        return sorted(self.orgs)

    def subtree(self, code: str | None) -> list[str]:
        """``code``'s subtree within the scope (all of it for None); 404 outside."""
        if not code:
            return self.codes
        if code not in self.orgs:
            raise NotFound(UNKNOWN_ORG)
        path = self.orgs[code][1]
        return sorted(c for c, (_n, p) in self.orgs.items() if p.startswith(path))

    def holds(self, org_code: str | None) -> bool:
        return org_code in self.orgs

    def depth(self, code: str) -> int:
        """0 for the top of the whole tree (paths are ``/id/id/…/``)."""
        return self.orgs[code][1].count("/") - 2


def scope_of(db: Database, paths: Iterable[str]) -> Scope:
    """The subtrees under ``paths`` (where the account is an auditor); 403 for none."""
    paths = list(paths)
    if not paths:
        raise Forbidden(NOT_AUDITOR)
    with db.read() as conn:
        rows = conn.execute(sa.select(orgs.c.code, orgs.c.name, orgs.c.path).where(
            sa.or_(*[orgs.c.path.startswith(p) for p in paths])).order_by(orgs.c.path)).all()
    return Scope({r.code: (r.name, r.path) for r in rows},
                 tuple(r.code for r in rows if r.path in paths))


# -- events and their labels -----------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """What an event is called: its process, its action, the states it left and reached."""

    process: Text
    action: Text
    from_state: Text
    to_state: Text


def state_label(registry: Registry, kind: str, version: int, state: str | None) -> Text:
    """A state's label; its raw name for an unknown version, a dash for none."""
    if state is None:
        return NO_STATE
    try:
        return registry.get(kind, version).state(state).label
    except KeyError:
        return Text(state, state)


def labels_of(registry: Registry, ev: Mapping[str, Any]) -> Labels:
    """The event's labels (raw names for an unknown process version)."""
    try:
        compiled = registry.get(ev["kind"], ev["def_version"])
    except KeyError:
        raw = Text(ev["trigger"], ev["trigger"])
        return Labels(Text(ev["kind"], ev["kind"]), raw,
                      Text(ev["from_state"] or "", ev["from_state"] or ""),
                      Text(ev["to_state"], ev["to_state"]))

    def state(name: str | None) -> Text:
        if name is None:
            return Text("", "")
        try:
            return compiled.state(name).label
        except KeyError:
            return Text(name, name)

    return Labels(compiled.process.label, event_label(compiled, ev["trigger"]),
                  state(ev["from_state"]), state(ev["to_state"]))


@dataclass(frozen=True)
class LoggedEvent:
    """One event as stored (its columns, ``audit.EVENT_COLUMNS``) with its labels; in the
    event log also its row id and its case's code and title."""

    case_id: int
    seq: int
    kind: str
    def_version: int
    org: str
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    at: str
    payload: str | None  # the canonical JSON text, as hashed
    payload_digest: str
    prev_hash: str
    hash: str
    labels: Labels
    id: int | None = None
    case_code: str | None = None
    case_title: str | None = None

    @classmethod
    def of(cls, registry: Registry, row: Mapping[str, Any]) -> LoggedEvent:
        return cls(**{k: row[k] for k in audit.EVENT_COLUMNS},
                   **{k: row[k] for k in ("id", "case_code", "case_title") if k in row},
                   labels=labels_of(registry, row))

    @property
    def data(self) -> dict[str, Any] | None:
        """The payload as JSON."""
        return json.loads(self.payload) if self.payload is not None else None


@dataclass(frozen=True)
class EventFilters:
    """The event log's filters; ``after`` is the keyset cursor (an event row id)."""

    org: str | None = None
    kind: str | None = None
    case: str | None = None
    actor: str | None = None
    trigger: str | None = None
    since: str | None = None  # canonical UTC text, inclusive
    until: str | None = None  # canonical UTC text, inclusive
    after: int | None = None
    limit: int = PAGE

    def query_args(self) -> dict[str, Any]:
        return {k: v for k, v in (("org", self.org), ("kind", self.kind), ("case", self.case),
                                  ("actor", self.actor), ("trigger", self.trigger))
                if v}


@dataclass(frozen=True)
class EventPage:
    items: list[LoggedEvent]
    next: int | None


def actor_label(text: str) -> str:
    """``li`` means the user li; ``user:li``, ``applicant:…``, ``system`` as written."""
    return text if ":" in text or text in ("system",) else f"user:{text}"


def event_log(eng: Engine, scope: Scope, f: EventFilters) -> EventPage:
    """One page of events, newest first (keyset on the event's row id)."""
    codes = scope.subtree(f.org)
    query = (sa.select(events.c.id, *[events.c[n] for n in audit.EVENT_COLUMNS],
                       cases.c.code.label("case_code"), cases.c.title.label("case_title"))
             .outerjoin(cases, cases.c.id == events.c.case_id)
             .where(events.c.org.in_(codes)))
    if f.kind:
        query = query.where(events.c.kind == f.kind)
    if f.case:
        if as_id(f.case) is not None:
            query = query.where(events.c.case_id == as_id(f.case))
        else:
            query = query.where(cases.c.code == f.case.upper())
    if f.actor:
        query = query.where(events.c.actor == actor_label(f.actor))
    if f.trigger:
        query = query.where(events.c.trigger == f.trigger)
    if f.since:
        query = query.where(events.c.at >= f.since)
    if f.until:
        query = query.where(events.c.at <= f.until)
    if f.after:
        query = query.where(events.c.id < f.after)
    with eng.db.read() as conn:
        rows = conn.execute(query.order_by(events.c.id.desc()).limit(f.limit + 1)).all()
    items = [LoggedEvent.of(eng.registry, r._mapping) for r in rows[:f.limit]]
    return EventPage(items, items[-1].id if len(rows) > f.limit else None)


# -- one case: history with diffs, as of a time, its problems --------------------------------


MISSING = object()


@dataclass(frozen=True)
class Change:
    """A key of the case data an event added, changed or removed."""

    key: str
    kind: str  # added | changed | removed
    before: Any
    after: Any


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """What an event changed in the case data: added, changed and removed keys."""
    found = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, MISSING), after.get(key, MISSING)
        if old == new:
            continue
        kind = "added" if old is MISSING else "removed" if new is MISSING else "changed"
        found.append(Change(key, kind, None if old is MISSING else old,
                            None if new is MISSING else new))
    return found


@dataclass(frozen=True)
class Step:
    """An event of the history and the case after it: its state and data change, or
    (``changes`` None) why replay stopped there."""

    event: LoggedEvent
    changes: list[Change] | None
    state: str | None
    error: Text | None


@dataclass(frozen=True)
class StoredCase:
    """The case row (the projection) as it is now."""

    id: int
    code: str | None
    title: str
    kind: str
    def_version: int
    org: str
    state: str
    version: int
    seq: int
    head_hash: str
    data: dict[str, Any]


@dataclass(frozen=True)
class CaseAudit:
    case_id: int
    org: str
    kind: str
    def_version: int
    process: Text
    stored: StoredCase | None
    stored_label: Text
    history: list[Step]
    problems: list[audit.Problem]
    as_of: str | None
    rebuilt: audit.Rebuilt | None
    rebuilt_label: Text
    rebuilt_error: Text | None


def case_audit(eng: Engine, scope: Scope, case_id: int, as_of: str | None) -> CaseAudit:
    """The case's history, problems and, with ``as_of``, the case at that time.
    A case row deleted behind the engine's back still shows through its events."""
    with eng.db.read() as conn:
        row = conn.execute(sa.select(cases, orgs.c.code.label("org_code"))
                           .join(orgs, orgs.c.id == cases.c.org_id)
                           .where(cases.c.id == case_id)).first()
    rows = audit.case_events(eng.db, case_id)
    org = row.org_code if row is not None else (rows[0]["org"] if rows else None)
    if org is None or not scope.holds(org):
        raise NotFound()
    stored = None
    if row is not None:
        stored = StoredCase(row.id, row.code, row.title, row.kind, row.def_version,
                            row.org_code, row.state, row.version, row.seq, row.head_hash,
                            json.loads(row.data))
    steps = audit.replay_steps(rows, eng.registry)
    history, before = [], {}
    for ev, (rebuilt, error) in zip(rows, steps, strict=True):
        after = rebuilt.data if rebuilt is not None else None
        history.append(Step(LoggedEvent.of(eng.registry, ev),
                            changes(before, after) if after is not None else None,
                            rebuilt.state if rebuilt else None, error))
        before = after if after is not None else before
    rebuilt = error = None
    if as_of is not None:
        until = audit.case_events_until(eng.db, case_id, as_of)
        if until:
            rebuilt, error = steps[len(until) - 1]
    kind = stored.kind if stored else rows[0]["kind"]
    version = stored.def_version if stored else rows[0]["def_version"]
    label = partial(state_label, eng.registry, kind, version)
    return CaseAudit(
        case_id, org, kind, version,
        history[0].event.labels.process if history else Text(kind, kind),
        stored, label(stored.state if stored else None), history,
        case_problems(eng, case_id, org, rows, stored), as_of, rebuilt,
        label(rebuilt.state if rebuilt else None), error)


def case_problems(eng: Engine, case_id: int, org: str, rows: list[dict[str, Any]],
                  stored: StoredCase | None) -> list[audit.Problem]:
    """This case's chain and replay, and its head in its organisation's last checkpoint
    (taken as a base: the organisation's other cases are not looked at)."""
    verifier = audit.Verifier(eng.registry)
    with eng.db.read() as conn:
        last = conn.execute(sa.select(checkpoints).where(checkpoints.c.org == org)
                            .order_by(checkpoints.c.seq.desc()).limit(1)).first()
    if last is not None:
        verifier.bases = {last.seq}
        verifier.checkpoints([dict(last._mapping)])
        verifier.report.problems.clear()  # the checkpoint's own findings: the checkpoints page
    verifier.case(case_id, rows, asdict(stored) if stored is not None else None)
    return [p for p in verifier.finish().problems if p.case_id == case_id]


# -- the board as of a time ------------------------------------------------------------------


@dataclass(frozen=True)
class BoardItem:
    """A case as it stood at the time asked (rebuilt by replay) beside its state now."""

    id: int
    code: str | None
    title: str
    org: str
    kind: str
    def_version: int
    state_now: str
    now_label: Text
    rebuilt: audit.Rebuilt | None
    then_label: Text
    error: Text | None
    events: int  # how many events it had then


@dataclass(frozen=True)
class BoardPage:
    items: list[BoardItem]
    next: int | None


def board_as_of(eng: Engine, codes: Collection[str], at: str, after: int | None) -> BoardPage:
    """The cases of these organisations that existed at ``at``, each rebuilt by replay as
    it stood then, by case id (keyset)."""
    first = events.alias("first_event")
    query = (sa.select(cases.c.id, cases.c.code, cases.c.title, cases.c.state, cases.c.kind,
                       cases.c.def_version, orgs.c.code.label("org"))
             .join(orgs, orgs.c.id == cases.c.org_id)
             .join(first, sa.and_(first.c.case_id == cases.c.id, first.c.seq == 1))
             .where(orgs.c.code.in_(sorted(codes)), first.c.at <= at))
    if after:
        query = query.where(cases.c.id > after)
    with eng.db.read() as conn:
        rows = conn.execute(query.order_by(cases.c.id).limit(PAGE + 1)).all()
    items = []
    for r in rows[:PAGE]:
        then = audit.case_events_until(eng.db, r.id, at)
        try:
            rebuilt, error = audit.replay(then, eng.registry), None
        except (audit.ReplayError, KeyError) as exc:
            rebuilt = None
            error = exc.reason if isinstance(exc, audit.ReplayError) else UNKNOWN_VERSION
        label = partial(state_label, eng.registry, r.kind, r.def_version)
        items.append(BoardItem(r.id, r.code, r.title, r.org, r.kind, r.def_version, r.state,
                               label(r.state), rebuilt, label(rebuilt.state if rebuilt else None),
                               error, len(then)))
    return BoardPage(items, items[-1].id if len(rows) > PAGE else None)


# -- verify now -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedCase:
    id: int
    code: str | None
    title: str
    org: str | None
    ok: bool
    problems: list[audit.Problem]


@dataclass(frozen=True)
class Verification:
    """A verify run over a scope: the report, every case checked (``all_ids``), the
    cases with problems and up to MAX_LISTED good ones listed, the organisations'
    own problems (checkpoints and ledgers)."""

    report: audit.Report
    cases: list[VerifiedCase]
    all_ids: list[int]
    by_case: dict[int, list[audit.Problem]]
    org_problems: list[audit.Problem]


def verify_scope(eng: Engine, codes: list[str]) -> Verification:
    report = audit.verify(eng.db, eng.registry, scope=codes, collect=True, files=eng.files)
    by_case: dict[int, list[audit.Problem]] = {}
    for p in report.problems:
        if p.case_id is not None:
            by_case.setdefault(p.case_id, []).append(p)
    ids = sorted(set(report.case_ids) | set(by_case))
    with eng.db.read() as conn:
        named = {r.id: r for r in conn.execute(
            sa.select(cases.c.id, cases.c.code, cases.c.title, orgs.c.code.label("org"))
            .join(orgs, orgs.c.id == cases.c.org_id)
            .where(cases.c.id.in_(sorted(by_case) + ids[:MAX_LISTED])))}
    listed = sorted(by_case) + [i for i in ids if i not in by_case][:MAX_LISTED]
    rows = [VerifiedCase(i, named[i].code if i in named else None,
                         named[i].title if i in named else "",
                         named[i].org if i in named else None,
                         i not in by_case, by_case.get(i, [])) for i in listed]
    return Verification(report, rows, ids, by_case,
                        [p for p in report.problems if p.case_id is None])


# -- checkpoints with their signature and witness status -----------------------------------


@dataclass(frozen=True)
class Witness:
    holder: str
    same: bool  # the copy matches the original (audit.WITNESSED)
    countersigned: bool


@dataclass(frozen=True)
class CheckpointView:
    seq: int
    org: str
    at: str
    hash: str
    key_id: str | None
    signature: str | None
    heads: int  # cases with a head in it
    signed: bool  # a valid signature by a key active at the time
    witnesses: list[Witness]


@dataclass(frozen=True)
class CheckpointPage:
    items: list[CheckpointView]
    next: int | None
    keys: list[signing.Key]  # the organisations' keys, by organisation and age


def checkpoint_page(eng: Engine, codes: list[str], after: int | None) -> CheckpointPage:
    with eng.db.read() as conn:
        keys = signing.keys_by_org(conn)
        rows = conn.execute(sa.select(checkpoints).where(checkpoints.c.org.in_(codes))
                            .where(checkpoints.c.seq < after if after else sa.true())
                            .order_by(checkpoints.c.seq.desc()).limit(PAGE + 1)).all()
        held: dict[int, list[Any]] = {}
        for c in conn.execute(sa.select(copies).where(
                copies.c.seq.in_([r.seq for r in rows]))):
            held.setdefault(c.seq, []).append(c)
    items = []
    for r in rows[:PAGE]:
        key = keys.get(r.org, {}).get(r.key_id) if r.key_id else None
        signed = bool(key and key.active_at(r.at) and signing.verify_signature(
            key.public_key, r.signature, signing.checkpoint_statement(r.org, r.seq, r.hash)))
        witnesses = []
        for c in held.get(r.seq, []):
            wkey = keys.get(c.holder, {}).get(c.witness_key_id) if c.witness_key_id else None
            witnesses.append(Witness(
                c.holder, all(getattr(c, f) == getattr(r, f) for f in audit.WITNESSED),
                bool(wkey and signing.verify_signature(
                    wkey.public_key, c.witness_signature,
                    signing.witness_statement(r.org, r.seq, r.hash, c.holder)))))
        items.append(CheckpointView(
            r.seq, r.org, r.at, r.hash, r.key_id, r.signature,
            sum(1 for h in json.loads(r.heads) if h[1] is not None), signed, witnesses))
    shown = [k for code in codes
             for k in sorted(keys.get(code, {}).values(), key=lambda k: k.added_seq)]
    return CheckpointPage(items, items[-1].seq if len(rows) > PAGE else None, shown)


# -- the published keys (no scope: AU3) -------------------------------------------------------


@dataclass(frozen=True)
class LatestCheckpoint:
    seq: int
    at: str
    hash: str
    key_id: str | None
    signature: str | None


@dataclass(frozen=True)
class PublishedKeys:
    """An organisation's keys, oldest first, and its latest checkpoint."""

    org: str
    name: str
    keys: list[signing.Key]
    latest_checkpoint: LatestCheckpoint | None


def published_keys(db: Database) -> list[PublishedKeys]:
    """Every organisation that has keys, by code."""
    with db.read() as conn:
        keys = signing.keys_by_org(conn)
        names = dict(conn.execute(sa.select(orgs.c.code, orgs.c.name)).all())
        latest = (sa.select(sa.func.max(checkpoints.c.seq))
                  .where(checkpoints.c.org.is_not(None)).group_by(checkpoints.c.org))
        last = {r.org: LatestCheckpoint(r.seq, r.at, r.hash, r.key_id, r.signature)
                for r in conn.execute(
                    sa.select(checkpoints.c.org, checkpoints.c.seq, checkpoints.c.at,
                              checkpoints.c.hash, checkpoints.c.key_id, checkpoints.c.signature)
                    .where(checkpoints.c.seq.in_(latest)))}
    return [PublishedKeys(code, names.get(code, code),
                          sorted(keys[code].values(), key=lambda k: k.added_seq),
                          last.get(code))
            for code in sorted(keys)]
