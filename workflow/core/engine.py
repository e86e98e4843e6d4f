"""The one door: every change of a case goes through :meth:`Engine.fire` (DESIGN.md).

In one transaction ``fire`` locks the case, checks scope (404), role (403), version
(409 stale_version), that the trigger exists in this state (409 not_allowed), the
payload (422) and the guards (409 not_allowed with the reason); then it applies the
effects, appends the hash-chained event, cancels and schedules timers and updates
the case row. Signals go out only after the commit; a failure leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.base.canonical import (
    GENESIS,
    canonical_text,
    event_hash,
    parse_text,
    payload_digest,
)
from workflow.base.errors import (
    AlreadyFired,
    Forbidden,
    Invalid,
    NotAllowed,
    NotFound,
    StaleVersion,
)
from workflow.base.text import Text
from workflow.base.timeutil import instant, iso_utc, local_date, utcnow
from workflow.calendar.workdays import Calendars
from workflow.core import attachments, receipts, signals
from workflow.core.deadlines import Planned
from workflow.core.declare import Ctx, OnePer, Trigger
from workflow.core.registry import Compiled, Registry, refusal_of
from workflow.core.schema import REQUIRED, Schema, Upload
from workflow.core.timers import firing, insert_timers, mark_fired, schedule
from workflow.people import sealed
from workflow.people.access import new_access_code
from workflow.people.actors import LOWER, SYSTEM, Actor, is_below
from workflow.people.orgs import OrgCache, OrgNode, OrgTree
from workflow.store.db import Database
from workflow.store.files import FileStore, open_store
from workflow.store.models import Definition, cases, events, orgs
from workflow.store.prepared import Prepared

START = "start"
#: the engine's own append-only trigger on every process: who works on the case (AU1)
ASSIGN = "assign"
#: the engine's own append-only trigger: an officer read a personal-data attachment
DOWNLOAD = "download"
#: the engine's own append-only trigger: an officer had sealed personal data (an ID number)
#: shown in clear
REVEAL = "reveal"
#: the engine's own append-only triggers that only note a reading: state and data kept
READINGS = (DOWNLOAD, REVEAL)
EVENT_LABELS = {START: Text("立案", "Opened"), ASSIGN: Text("分派", "Assigned"),
                DOWNLOAD: Text("查阅附件", "Attachment read"),
                REVEAL: Text("查看个人信息原文", "Personal data shown in clear")}


def event_label(compiled: Compiled, trigger: str) -> Text:
    """What an event is called on the timeline, the audit desk and the API."""
    if trigger in EVENT_LABELS:
        return EVENT_LABELS[trigger]
    arrow = compiled.first(trigger)
    return arrow.label if arrow is not None else Text(trigger, trigger)
NOT_INTEGER = Text("应为整数", "Must be an integer")
VERSION_MISSING = Text("缺少事项的版本号（expected_version）：请刷新页面后再提交",
                       "The case's version (expected_version) is missing: reload the page "
                       "and submit again")
VERSION_NOT_INTEGER = Text("事项的版本号（expected_version）应为整数",
                           "The case's version (expected_version) must be an integer")


def version_of(expected: object) -> int:
    """The ``expected_version`` a person sent with a state-changing trigger."""
    if expected is None:
        raise Invalid(VERSION_MISSING, {"expected_version": REQUIRED})
    if not isinstance(expected, int) or isinstance(expected, bool):
        raise Invalid(VERSION_NOT_INTEGER, {"expected_version": NOT_INTEGER})
    return expected


NO_SUCH_ORG = Text("找不到该组织", "No such organisation")
CHOOSE_ORG = Text("请选择受理申请的组织", "Choose the organisation applied to")
NO_RECEIPT = Text("该操作不出具回执", "This action gives no receipt")
UNKNOWN_ACTION = Text("没有这个操作：{t}", "There is no such action: {t}")
OUTSIDE_TREE = Text("目标组织不在本组织范围内", "That organisation is outside this "
                    "organisation's tree")
NOT_BELOW = Text("所选组织不是本事项所属组织的下级组织",
                 "The organisation chosen is not below the case's organisation")
WRONG_STATE = Text("“{s}”状态下不能执行“{t}”", "“{t}” is not possible while the case is “{s}”")


class DefinitionChanged(RuntimeError):
    """A declared version differs from the one recorded: a changed machine needs a new version."""


@dataclass(frozen=True)
class CaseView:
    id: int
    kind: str
    def_version: int
    org_id: int
    org_code: str
    org_path: str
    code: str | None
    title: str
    state: str
    data: dict[str, Any]
    version: int
    seq: int
    head_hash: str
    due_at: dt.datetime | None
    due_date: dt.date | None
    due_provisional: bool
    due_explain: dict[str, Any] | None
    assignee: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Any) -> CaseView:
        """From a SQLAlchemy row or a mapping of the same columns (their stored forms)."""
        m = getattr(row, "_mapping", row)
        return cls.stored({name: m[name] for name in cls.__dataclass_fields__})

    @classmethod
    def stored(cls, row: dict[str, Any]) -> CaseView:
        """From a dict of the case row's columns as the driver gives them (the door's own
        reads): the data and the due date's explanation parsed, in place."""
        row["data"] = parse_text(row["data"])
        row["due_provisional"] = bool(row["due_provisional"])
        if row["due_explain"]:
            row["due_explain"] = parse_text(row["due_explain"])
        return cls._of(row)

    @classmethod
    def _of(cls, fields: dict[str, Any]) -> CaseView:
        """From every field, without the frozen ``__init__`` (one ``object.__setattr__``
        per field: 6 µs here, twice per change on the door's hot path)."""
        view = object.__new__(cls)
        view.__dict__.update(fields)
        return view


def apply_effects(arrow_effects, ctx: Ctx) -> Mapping[str, Any]:
    """Run effects in order, each seeing the data the previous ones produced (the first
    sees ``ctx`` itself: effects return updates and never change what they are given).
    When none changes anything, the result is ``ctx.data`` itself, which tells the door
    that the case row's data stays as it is."""
    data = None
    seen, changed = ctx, False
    for effect in arrow_effects:
        if changed:  # built only when an effect follows one that changed the data
            seen, changed = Ctx.of(data, ctx.payload, ctx.now, ctx.actor, ctx.state), False
        updates = effect(seen)
        if updates:
            if data is None:
                data = dict(ctx.data)
            data.update(updates)
            changed = True
    return ctx.data if data is None else data


EVENT_KEYS = ("case_id", "seq", "kind", "def_version", "org", "trigger", "from_state",
              "to_state", "actor", "at", "payload_digest", "prev_hash", "hash", "payload")
CASE_COLUMNS = [c for c in cases.c] + [orgs.c.code.label("org_code"),
                                         orgs.c.path.label("org_path")]

# The door's statements, compiled once per dialect and run on the driver's cursor
# (workflow/store/prepared.py). Bind names differ from column names.
_CASE_ROWS = sa.select(*CASE_COLUMNS).join(orgs, orgs.c.id == cases.c.org_id)
_CASE_BY_ID = Prepared(_CASE_ROWS.where(cases.c.id == sa.bindparam("b_case_id")))
_CASE_BY_ID_LOCKED = Prepared(_CASE_BY_ID.statement.with_for_update(of=cases))
_CASES_BY_IDS = Prepared(_CASE_ROWS.where(cases.c.id.in_(sa.bindparam("b_ids", expanding=True)))
                         .order_by(cases.c.id), expanding="b_ids")
_CASES_BY_IDS_LOCKED = Prepared(_CASES_BY_IDS.statement.with_for_update(of=cases),
                                expanding="b_ids")
_INSERT_EVENT = Prepared(sa.insert(events), EVENT_KEYS)
_CASE_INSERT_KEYS = ("id", "kind", "def_version", "org_id", "code", "title", "state", "data",
                     "version", "seq", "head_hash", "due_at", "due_date", "due_provisional",
                     "due_explain", "assignee", "created_at", "updated_at")
_INSERT_CASE = Prepared(sa.insert(cases), _CASE_INSERT_KEYS)
#: columns a change may set besides the projection (a start's title and code, an assignee)
_ROW_ONLY = ("title", "code", "assignee")
_GENERATION_SQL = "SELECT n FROM generations WHERE name = 'orgs'"
_SQLITE_LAST_ID = "SELECT max(id) FROM cases"
_SQLITE_OPENING = f"SELECT ({_GENERATION_SQL}), ({_SQLITE_LAST_ID})"
_PG_NEXT_IDS = ("SELECT nextval(pg_get_serial_sequence('cases', 'id')) "
                "FROM generate_series(1, %(count)s)")


@functools.cache
def _update_case(keys: tuple[str, ...]) -> Prepared:
    """The case row's UPDATE setting ``keys``, guarded by the seq read under the lock."""
    return Prepared(sa.update(cases).where(cases.c.id == sa.bindparam("b_case_id"),
                                           cases.c.seq == sa.bindparam("b_seq")), keys)


class Engine:
    def __init__(self, db: Database, registry: Registry,
                 calendars: Calendars | None = None, files: FileStore | None = None) -> None:
        self.db = db
        self.registry = registry
        self.calendars = calendars or Calendars()
        self.files = files or open_store()
        self.orgs = OrgCache()

    # -- definitions ---------------------------------------------------------------

    def record_definitions(self, now: dt.datetime | None = None) -> None:
        """Refuse to run a declaration that changed without a new version number."""
        table = Definition.__table__
        with self.db.write() as conn:
            if not self.db.is_sqlite:
                # Processes starting together (web workers, the scheduler) would each
                # insert a new version and all but one fail on the key; SQLite's
                # BEGIN IMMEDIATE already serialises this. Readers are not blocked.
                conn.exec_driver_sql(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE")
            known = {(r.kind, r.version): r.fingerprint
                     for r in conn.execute(sa.select(table)).all()}
            for compiled in self.registry.all():
                key = (compiled.kind, compiled.version)
                if key not in known:
                    conn.execute(sa.insert(table).values(
                        kind=compiled.kind, version=compiled.version,
                        fingerprint=compiled.fingerprint, recorded_at=now or utcnow()))
                elif not compiled.recorded_as(known[key]):
                    raise DefinitionChanged(
                        f"流程 {key[0]} 第 {key[1]} 版的定义已改变，请提高版本号 / "
                        f"process {key[0]} version {key[1]} changed: give it a new version")

    # -- reading ---------------------------------------------------------------------

    def _select_case(self, conn: Connection, case_id: int, lock: bool) -> CaseView | None:
        query = _CASE_BY_ID_LOCKED if lock and not self.db.is_sqlite else _CASE_BY_ID
        row = query.first(conn, {"b_case_id": case_id})
        return None if row is None else CaseView.stored(row)

    def _select_cases(self, conn: Connection, case_ids: Collection[int]
                      ) -> dict[int, CaseView]:
        """Several case rows in one statement, locked (a batch of timers, which the door
        then takes as read: the transaction holds them). In id order, so that two batches
        on PostgreSQL lock in the same order."""
        query = _CASES_BY_IDS if self.db.is_sqlite else _CASES_BY_IDS_LOCKED
        return {row["id"]: CaseView.stored(row) for row in query.rows_in(conn, sorted(case_ids))}

    def get(self, case_id: int, actor: Actor) -> CaseView:
        with self.db.read() as conn:
            view = self._select_case(conn, case_id, lock=False)
        if view is None or not actor.sees(view.org_path, view.code):
            raise NotFound()
        return view

    def get_by_code(self, code: str, actor: Actor) -> CaseView:
        with self.db.read() as conn:
            case_id = conn.execute(sa.select(cases.c.id).where(cases.c.code == code)).scalar()
        if case_id is None:
            raise NotFound()
        return self.get(case_id, actor)

    def actions(self, case: CaseView, actor: Actor,
                now: dt.datetime | None = None) -> list[Trigger]:
        """Triggers this actor may take now: role, state and availability guards pass."""
        compiled = self.registry.get(case.kind, case.def_version)
        ctx = Ctx(case.data, {}, instant(now), actor.label, case.state)
        found: list[Trigger] = []
        for name in compiled.triggers_from(case.state):
            arrows = [a for a in compiled.arrows[(case.state, name)]
                      if a.roles != {"system"} and actor.holds(a.roles, case.org_path)]
            usable = [a for a in arrows if refusal_of(a, ctx, with_payload=False) is None]
            if usable:
                found.append(usable[0])
        return found

    # -- the door ----------------------------------------------------------------------

    def start(self, kind: str, org_code: str, actor: Actor, payload: Mapping[str, Any] | None,
              now: dt.datetime | None = None,
              within: Callable[[Connection, int, str], None] | None = None,
              org_field: str | None = None) -> CaseView:
        """Open a case of ``kind`` at an organisation (its first event, ``start``).

        ``within(conn, case_id, code)`` runs in the same transaction, for what must be
        written with the case or not at all (an applicant's access code). With
        ``org_field``, an unknown organisation is a field error of that name reported
        with the payload's (a form that lets the public choose the organisation).
        """
        return self.start_many(kind, org_code, actor, [payload], now, within, org_field)[0]

    def start_many(self, kind: str, org_code: str, actor: Actor,
                   payloads: list[Mapping[str, Any] | None], now: dt.datetime | None = None,
                   within: Callable[[Connection, int, str], None] | None = None,
                   org_field: str | None = None) -> list[CaseView]:
        """Open several cases in one transaction: all of them or none (a catalogue made
        from a template, R2). A payload's field errors are reported by its position."""
        now = instant(now)
        compiled = self.registry.get(kind)
        process = compiled.process
        opened: list[tuple[CaseView, dict[str, Any]]] = []
        with self.db.write() as conn:
            generation, next_id = _opening(conn)
            tree = self.orgs.tree(conn, generation)
            org = tree.by_code.get(org_code)
            known = org is not None and actor.sees(org.path, None)
            if not known and org_field is None:
                raise NotFound(NO_SUCH_ORG)
            if known and not actor.holds(process.start_roles, org.path):
                raise Forbidden()
            cleaned = []
            for n, payload in enumerate(payloads):
                clean, errors = process.start_schema.validate(payload)
                if not known:
                    errors[org_field] = CHOOSE_ORG
                if errors:
                    raise Invalid(fields=errors if len(payloads) == 1 else
                                  {f"{n + 1}.{k}": v for k, v in errors.items()})
                cleaned.append(clean)
            for case_id, clean in zip(_case_ids(conn, next_id, len(cleaned)), cleaned,
                                      strict=True):
                view, event = self._open(conn, compiled, tree, org, actor, clean, now, case_id)
                if within is not None:
                    within(conn, view.id, view.code)
                opened.append((view, event))
        for view, event in opened:
            signals.event_appended.send(self, case=view, event=event)
        return [view for view, _event in opened]

    def _open(self, conn: Connection, compiled: Compiled, tree: OrgTree, org: OrgNode,
              actor: Actor, clean: Mapping[str, Any], now: dt.datetime, case_id: int,
              extra: Mapping[str, Any] | None = None) -> tuple[CaseView, dict[str, Any]]:
        """Write a new case, its ``start`` event and its first timers inside the caller's
        transaction: one INSERT of the finished case row (issue 21), unless the start keeps
        files or sealed values aside, whose rows reference the case and so need it first."""
        process = compiled.process
        schema = process.start_schema
        code = f"{process.code_prefix}-{local_date(now).year}-{case_id:06d}"
        view = CaseView._of({
            "id": case_id, "kind": compiled.kind, "def_version": process.version,
            "org_id": org.id, "org_code": org.code, "org_path": org.path, "code": code,
            "title": "", "state": process.initial, "data": {}, "version": 0, "seq": 0,
            "head_hash": "", "due_at": None, "due_date": None, "due_provisional": False,
            "due_explain": None, "assignee": None, "created_at": now, "updated_at": now})
        early = bool(schema.file_fields or schema.sealed_fields)
        if early:
            _INSERT_CASE.execute(conn, _case_row(view, {"data": "{}"}))
        clean = dict(clean)
        taken = self._keep_aside(conn, schema, clean, case_id, org.path, actor, now)
        payload_full = clean | {"_code": code,
                                "_settings": tree.layered(org.path, compiled.kind,
                                                          process.settings),
                                "_org": org.code, "_parent": org.parent_code} | dict(extra or {})
        data = start_data(compiled, payload_full, now, actor.label)
        if process.one_per is not None:
            _refuse_second(conn, compiled.kind, org.id, process.one_per, data, case_id)
        event = _event(view, START, None, process.initial, actor, payload_full, now)
        new_timers: list[dict[str, Any]] = []
        due = schedule(conn, compiled, self.calendars, view.id, view.seq, view.org_path, None,
                       process.initial, START, data, now, new_timers)
        title = title_of(compiled, data)
        if early:
            values = self._update(conn, view, process.initial, data, 1, event, now, due,
                                  title=title, code=code)
        else:
            values = _projection(process.initial, data, 1, event, now, due or None)
            _INSERT_CASE.execute(conn, _case_row(view, values | {"title": title}))
            values["title"] = title
        _INSERT_EVENT.execute(conn, event)
        insert_timers(conn, new_timers)
        attachments.mark(conn, taken, case_id, event["seq"])
        return _written(view, values, data), event

    def _spawn(self, conn: Connection, arrow: Trigger, parent: CaseView, seq: int,
               ctx: Ctx, actor: Actor) -> list[int]:
        """Start the cases an arrow spawns (a period's routine case, R3; a republication,
        G11), same transaction."""
        made = []
        tree = self.orgs.tree(conn)
        for spawn in arrow.spawns:
            payload = spawn.payload(ctx)
            if payload is None:
                continue
            if spawn.parent_field:
                payload = {**payload, spawn.parent_field: parent.code}
            compiled = self.registry.get(spawn.kind)
            clean, errors = compiled.process.start_schema.validate(payload)
            if errors:
                raise NotAllowed(Text("无法生成{k}事项：{e}", "Cannot open a {k} case: {e}").format(
                    k=spawn.kind, e="; ".join(f"{k} {v.zh}" for k, v in errors.items())))
            opener = SYSTEM
            if spawn.chosen_org:
                org = tree.by_code.get(ctx.payload.get(spawn.chosen_org))
                if org is None or not actor.holds(compiled.process.start_roles, org.path):
                    raise Forbidden()
                if not is_below(org.path, parent.org_path):
                    raise NotAllowed(NOT_BELOW)
                opener = actor
            else:
                org = (tree.by_code.get(ctx.data.get(spawn.org_field)) if spawn.org_field
                       else tree.by_id.get(parent.org_id))
                if org is None or not org.path.startswith(parent.org_path):
                    raise NotAllowed(OUTSIDE_TREE)
            [case_id] = _case_ids(conn, None, 1)
            self._open(conn, compiled, tree, org, opener, clean, ctx.now, case_id, {
                "_spawned_by": {"case": parent.id, "code": parent.code, "seq": seq}})
            made.append(case_id)
        return made

    def _reached_from_below(self, view: CaseView, trigger: str, actor: Actor) -> bool:
        """G11: an officer of an organisation below a case reaches it, outside their scope,
        only through a trigger its state offers to a ``lower:`` role (a republication); for
        anything else the case stays not found."""
        compiled = self.registry.get(view.kind, view.def_version)
        lower = frozenset(role for arrow in compiled.arrows.get((view.state, trigger), ())
                          for role in arrow.roles if role.startswith(LOWER))
        return bool(lower) and actor.holds(lower, view.org_path)

    def fire(self, case_id: int, trigger: str, actor: Actor,
             payload: Mapping[str, Any] | None = None, expected_version: object = None,
             now: dt.datetime | None = None, timer_id: int | None = None) -> CaseView:
        """Apply one trigger to one case, atomically.

        A state-changing trigger taken by a person needs ``expected_version`` (422 when
        missing or not an int, 409 ``stale_version`` when stale); append-only triggers and
        the system actor (timers) take none: a value sent with them is ignored.
        """
        return self._fire(case_id, trigger, actor, payload, expected_version, now,
                          timer_id)[0]

    def submit(self, case_id: int, trigger: str, actor: Actor,
               payload: Mapping[str, Any] | None = None, expected_version: object = None,
               now: dt.datetime | None = None) -> receipts.Receipt:
        """Fire a trigger that gives a receipt (``Trigger.receipt``): the number and the
        access code, shown once, with which the sender later sees what became of it."""
        code = new_access_code()
        view, number = self._fire(case_id, trigger, actor, payload, expected_version, now,
                                  None, code)
        return receipts.Receipt(number or "", code, view)

    def fire_timers(self, due: Sequence[Any], now: dt.datetime) -> int:
        """Fire a batch of due timers in one transaction (group commit: one fsync for the
        batch), each through the whole door with its own event and chain link, as the
        system actor. ``due`` are timer rows (``id``, ``case_id``, ``trigger``, ``name``,
        ``basis``). A timer already fired or cancelled is passed over (closing it is the
        first thing its firing writes, so nothing of it is left). Any other error rolls
        the whole batch back and is raised: ``run_due`` then fires the batch timer by timer.
        Returns how many fired."""
        now = instant(now)
        fired = []
        with self.db.write() as conn:
            views = self._select_cases(conn, {timer.case_id for timer in due})
            for timer in due:
                try:
                    view, event, _ = self._fire_in(conn, timer.case_id, timer.trigger, SYSTEM,
                                                   {}, None, now, timer,
                                                   view=views.get(timer.case_id))
                except AlreadyFired:
                    continue
                views[view.id] = view
                fired.append((view, event))
        for view, event in fired:
            signals.event_appended.send(self, case=view, event=event)
        return len(fired)

    def _fire(self, case_id: int, trigger: str, actor: Actor,
              payload: Mapping[str, Any] | None, expected_version: object,
              now: dt.datetime | None, timer_id: int | None,
              access_code: str | None = None) -> tuple[CaseView, str | None]:
        now = instant(now)
        with self.db.write() as conn:
            view, event, receipt = self._fire_in(conn, case_id, trigger, actor, payload,
                                                 expected_version, now, timer_id, access_code)
        signals.event_appended.send(self, case=view, event=event)
        return view, receipt

    def _fire_in(self, conn: Connection, case_id: int, trigger: str, actor: Actor,
                 payload: Mapping[str, Any] | None, expected_version: object,
                 now: dt.datetime, timer: Any, access_code: str | None = None,
                 view: CaseView | None = None
                 ) -> tuple[CaseView, dict[str, Any], str | None]:
        """The door inside the caller's transaction: (the case as written, its new event,
        the receipt number if one was issued). ``timer`` is the firing timer's id or row;
        ``view``, the case as this transaction has already read it under its lock."""
        receipt = None
        if view is None:
            view = self._select_case(conn, case_id, lock=True)
        if view is None or not (actor.sees(view.org_path, view.code)
                                or self._reached_from_below(view, trigger, actor)):
            raise NotFound()
        if timer is not None:  # closed first: a timer already fired writes nothing
            mark_fired(conn, timer if isinstance(timer, int) else timer.id, view.seq + 1)
        compiled = self.registry.get(view.kind, view.def_version)
        first = compiled.first(trigger)
        if first is None:
            raise NotAllowed(UNKNOWN_ACTION.format(t=trigger))
        if not actor.holds(compiled.roles(trigger, view.state), view.org_path):
            raise Forbidden()
        if (not first.append_only and actor is not SYSTEM
                and version_of(expected_version) != view.version):
            raise StaleVersion()
        if (view.state, trigger) not in compiled.arrows:
            label = compiled.state(view.state).label
            raise NotAllowed(Text(WRONG_STATE.zh.format(s=label.zh, t=first.label.zh),
                                  WRONG_STATE.en.format(s=label.en, t=first.label.en)))
        clean, errors = first.schema.validate(payload)
        if errors:
            raise Invalid(fields=errors)
        taken = self._keep_aside(conn, first.schema, clean, view.id, view.org_path, actor,
                                 now)
        if timer is not None:
            clean |= firing(conn, timer, trigger)
        if access_code is not None and not first.receipt:
            raise NotAllowed(NO_RECEIPT)
        if first.receipt:
            receipt = receipts.issue(conn, view.id, first.receipt,
                                     access_code or new_access_code(), now)
            clean[receipts.KEY] = receipt[1]
        ctx = Ctx.of(view.data, clean, now, actor.label, view.state)
        arrow, new_state, refusal = compiled.run(
            view.state, trigger, ctx, lambda a: actor.holds(a.roles, view.org_path))
        if arrow is None:
            if isinstance(refusal, Mapping):  # the payload must change: field errors
                raise Invalid(fields=dict(refusal))
            raise NotAllowed(refusal)
        data = apply_effects(arrow.effects, ctx)
        event = self._append(conn, view, trigger, view.state, new_state, actor, clean, now)
        attachments.mark(conn, taken, view.id, event["seq"])
        if receipt is not None:
            receipts.settle(conn, receipt[0], event["seq"])
        if arrow.spawns:
            self._spawn(conn, arrow, view, event["seq"], Ctx(data, clean, now, actor.label,
                                                             new_state), actor)
        due = schedule(conn, compiled, self.calendars, view.id, view.seq, view.org_path,
                       view.state, new_state, trigger, data, now)
        if due is None and view.due_at is None and view.due_date is None:
            due = False  # no due date to clear: the row's due columns and their index stay
        version = view.version if arrow.append_only else view.version + 1
        values = self._update(conn, view, new_state, None if data is view.data else data,
                              version, event, now, due)
        return _written(view, values, data), event, receipt[1] if receipt else None

    def assign(self, case_id: int, actor: Actor, assignee: str | None,
               now: dt.datetime | None = None) -> CaseView:
        """Claim, assign or release: the engine's own append-only trigger ``assign`` (AU1),
        so replay rebuilds the assignee and the audit desk shows who gave the case to whom.
        Who may be assigned is the caller's rule (``workflow.views.inbox.assign``)."""
        return self._note(case_id, actor, ASSIGN, {"assignee": assignee}, now,
                          assignee=assignee)

    def note_download(self, case_id: int, actor: Actor, record: Mapping[str, Any],
                      now: dt.datetime | None = None) -> CaseView:
        """An officer read a personal-data attachment: the engine's append-only trigger
        ``download``, so the auditor sees who read it (issue: attachments)."""
        return self._note(case_id, actor, DOWNLOAD, {"attachment": dict(record)}, now)

    def note_reveal(self, case_id: int, actor: Actor, record: Mapping[str, Any],
                    now: dt.datetime | None = None) -> CaseView:
        """An officer had sealed personal data shown in clear: the engine's append-only
        trigger ``reveal``, its ``record`` saying which (masked, never the clear value), so
        the auditor sees who saw whose."""
        return self._note(case_id, actor, REVEAL, {"revealed": dict(record)}, now)

    def upload(self, case_id: int, actor: Actor, upload: Upload,
               now: dt.datetime | None = None) -> dict[str, Any]:
        """Keep a file for a later action on this case (the API's two-step upload): only
        for someone who may take an action on it now. Its row, not yet referenced."""
        now = instant(now)
        case = self.get(case_id, actor)
        if not self.actions(case, actor, now):
            raise Forbidden()
        with self.db.write() as conn:
            return attachments.store(conn, self.files, case.id, actor.label, upload, None,
                                     self.attachment_settings(conn, case.org_path), now)

    def _note(self, case_id: int, actor: Actor, trigger: str, payload: Mapping[str, Any],
              now: dt.datetime | None, **row: Any) -> CaseView:
        """Append one of the engine's own append-only events, the state and version kept,
        and set ``row``'s columns of the case with it."""
        now = instant(now)
        with self.db.write() as conn:
            view = self._select_case(conn, case_id, lock=True)
            if view is None or not actor.sees(view.org_path, view.code):
                raise NotFound()
            event = self._append(conn, view, trigger, view.state, view.state, actor, payload,
                                 now)
            values = {"seq": event["seq"], "head_hash": event["hash"], "updated_at": now, **row}
            done = _update_case(tuple(values)).execute(
                conn, values | {"b_case_id": case_id, "b_seq": view.seq})
            if done.rowcount != 1:
                raise StaleVersion()
        changed = _written(view, values | {"state": view.state, "version": view.version},
                           view.data)
        signals.event_appended.send(self, case=changed, event=event)
        return changed

    # -- inside the transaction ----------------------------------------------------------

    def settings_for(self, conn: Connection, path: str, compiled: Compiled) -> dict[str, Any]:
        """The process defaults overlaid by every ancestor's and the organisation's own."""
        return self.orgs.tree(conn).layered(path, compiled.kind, compiled.process.settings)

    def _keep_aside(self, conn: Connection, schema: Schema, clean: dict[str, Any],
                    case_id: int, org_path: str, actor: Actor, now: dt.datetime) -> list[int]:
        """What a payload must not carry in clear, replaced in ``clean`` before the event is
        written: files by their records (the attachment ids taken), sealed values by their
        mask. A schema with neither costs nothing (the door's hot path)."""
        taken = attachments.take(conn, self.files, schema, clean, case_id, actor.label,
                                 self.attachment_settings(conn, org_path), now
                                 ) if schema.file_fields else []
        if schema.sealed_fields:
            sealed.seal_payload(conn, schema.sealed_fields, clean, case_id, now)
        return taken

    def attachment_settings(self, conn: Connection, path: str) -> dict[str, Any]:
        """Allowed kinds and size of attachments (``attachments`` group of the settings)."""
        return self.orgs.tree(conn).layered(path, attachments.SETTINGS_GROUP,
                                            attachments.SETTINGS)

    def _append(self, conn: Connection, view: CaseView, trigger: str, from_state: str | None,
                to_state: str, actor: Actor, payload: Mapping[str, Any],
                now: dt.datetime) -> dict[str, Any]:
        event = _event(view, trigger, from_state, to_state, actor, payload, now)
        _INSERT_EVENT.execute(conn, event)
        return event

    def _update(self, conn: Connection, view: CaseView, state: str,
                data: Mapping[str, Any] | None, version: int, event: Mapping[str, Any],
                now: dt.datetime, due: Planned | None | bool, **extra: Any) -> dict[str, Any]:
        values = _projection(state, data, version, event, now, due) | extra
        done = _update_case(tuple(values)).execute(
            conn, values | {"b_case_id": view.id, "b_seq": view.seq})
        if done.rowcount != 1:
            raise StaleVersion()
        return values


def _event(view: CaseView, trigger: str, from_state: str | None, to_state: str, actor: Actor,
           payload: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The next event of ``view``'s chain, hashed (its row not yet written)."""
    text = canonical_text(payload)
    event = {
        "case_id": view.id, "seq": view.seq + 1, "kind": view.kind,
        "def_version": view.def_version, "org": view.org_code, "trigger": trigger,
        "from_state": from_state, "to_state": to_state, "actor": actor.label,
        "at": iso_utc(now), "payload_digest": payload_digest(text),
        "prev_hash": view.head_hash or GENESIS,
    }
    event["hash"] = event_hash(event)
    event["payload"] = text
    return event


def _projection(state: str, data: Mapping[str, Any] | None, version: int,
                event: Mapping[str, Any], now: dt.datetime, due: Planned | None | bool
                ) -> dict[str, Any]:
    """The case row's columns after ``event`` (``data`` None: the data is kept, as ``due``
    False keeps the due date)."""
    values: dict[str, Any] = {"state": state, "version": version, "seq": event["seq"],
                              "head_hash": event["hash"], "updated_at": now}
    if data is not None:
        values["data"] = canonical_text(data)
    if due is not False:
        values |= {
            "due_at": due.due_at if due else None,
            "due_date": due.due_date if due else None,
            "due_provisional": bool(due and due.provisional),
            "due_explain": canonical_text(due.explain) if due and due.explain else None,
        }
    return values


def _case_row(view: CaseView, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every column of a new case row: ``view``'s, overridden by ``values``."""
    row = {key: getattr(view, key) for key in _CASE_INSERT_KEYS} | dict(values)
    if not isinstance(row["data"], str):
        row["data"] = canonical_text(row["data"])
    return row


def _refuse_second(conn: Connection, kind: str, org_id: int, one_per: OnePer,
                   data: Mapping[str, Any], case_id: int) -> None:
    """``one_per``: refused when the organisation has a case of ``kind`` with the same
    values. On PostgreSQL the organisation's row is locked first, so of two starts at once
    the second sees the first (on SQLite, BEGIN IMMEDIATE already makes writers take turns)."""
    if conn.dialect.name != "sqlite":
        conn.execute(sa.select(orgs.c.id).where(orgs.c.id == org_id).with_for_update())
    key = [data.get(name) for name in one_per.fields]
    for (text,) in conn.execute(sa.select(cases.c.data).where(
            cases.c.kind == kind, cases.c.org_id == org_id, cases.c.id != case_id)):
        found = parse_text(text)
        if [found.get(name) for name in one_per.fields] == key:
            raise NotAllowed(one_per.refusal)


def _opening(conn: Connection) -> tuple[int | None, int | None]:
    """The organisation tree's generation and, on SQLite, the next case id, in one
    statement (a start's only read). SQLite gives a new row the largest id plus one, and
    BEGIN IMMEDIATE holds the write lock, so the id is taken by nobody else."""
    cursor = conn.connection.dbapi_connection.cursor()
    if conn.dialect.name == "sqlite":
        cursor.execute(_SQLITE_OPENING)
        generation, last = cursor.fetchone()
        return generation, (last or 0) + 1
    cursor.execute(_GENERATION_SQL)
    row = cursor.fetchone()
    return (row[0] if row else None), None


def _case_ids(conn: Connection, next_id: int | None, count: int) -> list[int]:
    """``count`` new case ids: from ``next_id`` on (SQLite, see :func:`_opening`), else
    from the table's sequence (PostgreSQL)."""
    cursor = conn.connection.dbapi_connection.cursor()
    if conn.dialect.name == "sqlite":
        if next_id is None:
            cursor.execute(_SQLITE_LAST_ID)
            next_id = (cursor.fetchone()[0] or 0) + 1
        return list(range(next_id, next_id + count))
    cursor.execute(_PG_NEXT_IDS, {"count": count})
    return [row[0] for row in cursor.fetchall()]


def _written(view: CaseView, values: Mapping[str, Any], data: dict[str, Any]) -> CaseView:
    """The case as ``_update`` has just written it, equal to reading the row back (which
    the locked transaction makes certain) without another query on the hot path."""
    fields = vars(view) | {
        "state": values["state"], "data": data,
        "version": values["version"], "seq": values["seq"], "head_hash": values["head_hash"],
        "updated_at": values["updated_at"].astimezone(dt.UTC),
    } | {key: values[key] for key in _ROW_ONLY if key in values}
    if "due_at" in values:
        due_at, explain = values["due_at"], values["due_explain"]
        fields |= {"due_at": due_at.astimezone(dt.UTC) if due_at else None,
                   "due_date": values["due_date"],
                   "due_provisional": bool(values["due_provisional"]),
                   "due_explain": json.loads(explain) if explain else None}
    return CaseView._of(fields)


def start_data(compiled: Compiled, payload: Mapping[str, Any], now: dt.datetime,
               actor: str) -> dict[str, Any]:
    """The case data right after ``start``: the payload (less its code) and start effects."""
    data = {k: v for k, v in payload.items() if k != "_code"}
    ctx = Ctx.of(data, payload, now, actor, compiled.process.initial)
    return apply_effects(compiled.process.start_effects, ctx)


def title_of(compiled: Compiled, data: Mapping[str, Any]) -> str:
    return str(data.get(compiled.process.title_field) or compiled.process.label.zh)[:500]
