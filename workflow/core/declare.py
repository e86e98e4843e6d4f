"""Declaration types: what a machine module writes down (DESIGN.md, engine contract).

A process is plain data: states, triggers, timers and settings. Guards and
effects are pure functions of a :class:`Ctx` (case data, payload, now, settings,
actor id), so replay can run them again. Machine modules import only this module
and the standard library; the engine turns a declaration into one ``transitions``
machine per kind and version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflow.base.text import Text
from workflow.base.timeutil import local_date
from workflow.core.schema import Field, Schema, Upload

__all__ = [
    "AtField", "CalendarDays", "Condition", "Ctx", "DemoCase", "DemoPayload", "DemoStep",
    "Document", "Field", "Figure", "Mark", "Milestone", "Process", "Refusal", "ReportRow", "Route",
    "Schema", "Spawn", "State", "Statistics", "Text", "Timer", "Trigger", "Upload", "WorkingDays",
]


@dataclass(frozen=True)
class Ctx:
    """What a guard or effect sees. ``now`` is the event's time (UTC), never a clock read."""

    data: Mapping[str, Any]
    payload: Mapping[str, Any]
    now: dt.datetime
    actor: str
    state: str | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any], payload: Mapping[str, Any], now: dt.datetime,
           actor: str, state: str | None = None) -> Ctx:
        """The same context without the frozen ``__init__`` (one ``object.__setattr__``
        per field): the door builds one or two per change and verify's replay one or two
        per event (issue 21)."""
        ctx = object.__new__(cls)
        ctx.__dict__.update(data=data, payload=payload, now=now, actor=actor, state=state)
        return ctx

    @property
    def today(self) -> dt.date:
        """The event's day in Asia/Shanghai: the day of receipt for deadline counting."""
        return local_date(self.now)

    @property
    def settings(self) -> Mapping[str, Any]:
        """The organisation's settings as they were when the case started."""
        return self.data.get("_settings", {})


#: A guard's refusal: a reason (409 ``not_allowed``), or reasons by payload field (422
#: ``invalid``) when the payload is what must change, e.g. a date too early for the rule
#: as of today, which the schema's checks cannot know.
Refusal = Text | Mapping[str, Text]
Guard = Callable[[Ctx], Refusal | None]
Effect = Callable[[Ctx], Mapping[str, Any] | None]
#: A route's condition: a plain yes or no about the case, never a refusal.
Condition = Callable[[Ctx], bool]


@dataclass(frozen=True)
class State:
    """A state, the role whose inbox it sits in and the rule IDs it implements."""

    name: str
    label: Text
    role: str | None = None
    final: bool = False
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    """Where a trigger goes when ``when`` holds; ``effects`` run after the trigger's own
    (A7: only the answer that goes out directly gets its written notice now)."""

    when: Condition
    dest: str | None
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class Spawn:
    """Open a case of ``kind`` at the same organisation when the arrow is taken, in the same
    transaction (a periodic catalogue entry opening its period's case, R3). ``payload``
    is a pure function of the arrow's context; None opens nothing this time.
    ``org_field`` names a data field holding another organisation's code in the case's
    subtree (an upper level's catalogue opens cases at the organisation it is for, R2).
    ``chosen_org`` names instead a field of the trigger's payload in which the person who
    takes it names an organisation strictly below the case's where they may open a case of
    ``kind``; they open it themselves (G11: a lower organisation republishes an upper
    item). ``parent_field`` is a start field that receives this case's code."""

    kind: str
    payload: Callable[[Ctx], Mapping[str, Any] | None]
    org_field: str | None = None
    chosen_org: str | None = None
    parent_field: str | None = None


@dataclass(frozen=True)
class Trigger:
    """One trigger: from ``source`` to ``dest``, or along the first of its ``routes`` whose
    condition holds (``dest`` is where it goes when none does; None keeps the state).

    ``roles`` are role codes held at the case's organisation; ``upper:CODE`` is a role
    held at its parent (A3 consent, A4 filing); ``system`` is the timer runner;
    ``public`` and ``applicant`` need no account. ``available`` guards see no payload
    (they decide which actions a page lists); ``guards`` are checked on submit. Guards
    refuse with a reason a person can act on (a mapping of field -> reason when a payload
    field is what must change: the door answers 422 with those field errors); which way a
    trigger goes is a route, not a refusal. ``routes`` take :class:`Route` or
    ``(condition, dest)`` pairs.

    ``receipt`` (a prefix such as ``"YJ"``) gives each firing a receipt number
    (``YJ-2026-000045``, in the payload as ``_receipt``) and an access code shown once
    (``Engine.submit``), with which a person without an account later sees what became of
    what they sent (a comment, a registration): ``workflow.views.receipts``.
    """

    name: str
    source: tuple[str, ...]
    dest: str | None
    roles: frozenset[str]
    label: Text
    schema: Schema = Schema()
    available: tuple[Guard, ...] = ()
    guards: tuple[Guard, ...] = ()
    effects: tuple[Effect, ...] = ()
    append_only: bool = False
    rules: tuple[str, ...] = ()
    public: bool = False
    spawns: tuple[Spawn, ...] = ()
    routes: tuple[Route, ...] = ()
    receipt: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.source, str):
            object.__setattr__(self, "source", (self.source,))
        if not isinstance(self.roles, frozenset):
            object.__setattr__(self, "roles", frozenset(self.roles))
        routes = tuple(r if isinstance(r, Route) else Route(*r) for r in self.routes)
        object.__setattr__(self, "routes", routes)
        if self.append_only and any(d is not None for d in self.dests):
            raise ValueError(f"append-only trigger {self.name} cannot change state")

    @property
    def dests(self) -> tuple[str | None, ...]:
        """Every destination: the routes' in order, then ``dest``."""
        return (*(r.dest for r in self.routes), self.dest)


@dataclass(frozen=True)
class WorkingDays:
    """N working days after a day (A5 counting rule: that day is not counted).

    ``setting`` names a case setting that overrides ``n``; ``n_field`` a data field that
    overrides both; ``start_field`` a data field holding the day counted from (default:
    the day, in Asia/Shanghai, of the event that entered the state).
    """

    n: int
    setting: str | None = None
    n_field: str | None = None
    start_field: str | None = None


@dataclass(frozen=True)
class CalendarDays:
    n: int
    setting: str | None = None
    n_field: str | None = None
    start_field: str | None = None


@dataclass(frozen=True)
class AtField:
    """At a date or time held in the case data, minus ``days_before`` calendar days."""

    field: str
    days_before: int = 0
    setting: str | None = None


@dataclass(frozen=True)
class Timer:
    """A deadline that runs while the case is in any of ``states``; fires ``trigger`` as system.

    It starts when the case enters one of ``states`` from outside them and is cancelled when
    the case leaves them, except into one of ``pauses``: there the clock stops with the
    working days left kept, and it runs on when the case comes back (A8: time spent
    consulting a third party does not count). ``restart_on`` lists triggers that start it
    afresh without leaving. ``extend_on`` maps a trigger to the data field holding the days
    it adds (A5: one extension), keeping the count's start and pauses. ``reminders`` are
    working (or calendar, for
    calendar timers) days before the due day; each fires the engine's ``remind`` trigger.
    ``sets_due`` makes it the case's due date.
    """

    name: str
    states: str | tuple[str, ...]
    trigger: str
    after: WorkingDays | CalendarDays | AtField
    label: Text
    reminders: tuple[int, ...] = ()
    reminder_setting: str | None = None
    sets_due: bool = False
    restart_on: tuple[str, ...] = ()
    pauses: tuple[str, ...] = ()
    extend_on: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.states, str):
            object.__setattr__(self, "states", (self.states,))
        if "." in self.name:
            raise ValueError(f"timer name {self.name!r} may not contain a dot")


@dataclass(frozen=True)
class Document:
    """A document generated from the case data (e.g. the 告知书, A7), rendered by the web
    layer from ``web/templates/documents/<template>.html`` as HTML and PDF once the case
    is in one of ``states``. ``public`` documents are also offered to the applicant."""

    name: str
    label: Text
    template: str
    states: tuple[str, ...]
    public: bool = False


@dataclass(frozen=True)
class OnePer:
    """At most one case of a process per organisation with the same values of these start
    ``fields`` (G14: one annual report per organisation and year). The door refuses a
    second start, whoever calls it, with ``refusal`` (409 ``not_allowed``)."""

    fields: tuple[str, ...]
    refusal: Text


@dataclass(frozen=True)
class Milestone:
    """One step of a process's chain as the case page's progress line shows it (V1: the
    order of 四议两公开). ``states`` are where this step is the one to take next; its record
    is the data field ``record`` (a record, or a list whose last entry with the values in
    ``match`` counts); ``date`` and ``summary`` name the record's keys (a dotted path) for
    the step's date and what it decided. A step the case went past without a record was
    skipped (an ordinary decision's town review)."""

    name: str
    label: Text
    states: tuple[str, ...]
    record: str
    match: Mapping[str, Any] = field(default_factory=dict)
    date: str = "on"
    summary: str | None = None


@dataclass(frozen=True)
class Figure:
    """One figure a process counts for the annual assessment (G14). ``unit`` is
    ``count`` (marks summed), or ``days`` (each mark is one case's working days: the
    figure is a distribution with its median, 90th percentile and longest). A mark's
    ``part`` splits a figure (by outcome, category, stance: ``part_labels``) and the
    ``kinds`` split it again by kind of applicant where the process records one."""

    name: str
    label: Text
    unit: str = "count"
    part_labels: Mapping[str, Text] = field(default_factory=dict)


@dataclass(frozen=True)
class Mark:
    """One fact a case contributes to a figure, on a day (Asia/Shanghai): the figure's
    name, the part (``""`` for none), the applicant's kind (``""`` for none), and a
    value (a count, or the working days of a ``days`` figure)."""

    figure: str
    day: dt.date
    value: int = 1
    part: str = ""
    who: str = ""


@dataclass(frozen=True)
class ReportRow:
    """A row of a process's annual report (G14): the sum of the figures' parts named in
    ``counts`` (``(figure, part)``, part ``""`` for the whole figure), or the cases
    ``carried`` over into the year (``"over"``) or on to the next (``"forward"``);
    ``level`` 1 is a sub-row of the row above it of level 0."""

    label: Text
    counts: tuple[tuple[str, str], ...] = ()
    carried: str | None = None
    level: int = 0


#: A case's events (oldest first, each a mapping with ``trigger``, ``from_state``,
#: ``to_state``, ``actor``, ``at`` and the decoded ``payload``), its data after them, and a
#: working-day counter for its organisation (``days_between(start, end)``: working days
#: after ``start`` up to ``end``) -> the marks the case contributes.
DaysBetween = Callable[[dt.date, dt.date], int]
Marker = Callable[[list[Mapping[str, Any]], Mapping[str, Any], DaysBetween], list[Mark]]


@dataclass(frozen=True)
class Statistics:
    """What a process counts (G14): its figures in the order a page shows them, and the
    pure function that reads a case's events into marks. The engine's statistics
    projection (``workflow.views.statistics``) runs it on every case a new event touches,
    and again over the events up to a past moment for a figure as of then (AU2)."""

    figures: tuple[Figure, ...]
    marks: Marker
    #: the figures whose difference up to a day is the cases still open then (received
    #: minus closed: the cases carried over into a period and on to the next)
    open_close: tuple[str, str] | None = None
    #: the annual report's rows (after the national format's tables) and its columns, the
    #: kinds of applicant a mark's ``who`` names; empty for a process that has none
    report: tuple[ReportRow, ...] = ()
    who_labels: Mapping[str, Text] = field(default_factory=dict)

    def figure(self, name: str) -> Figure:
        for f in self.figures:
            if f.name == name:
                return f
        raise KeyError(name)


#: A demo payload: fixed data, or data made from the day the demo is loaded (in China),
#: so that periods, dates and years in the demo stay near the day it is shown.
DemoPayload = Mapping[str, Any] | Callable[[dt.date], Mapping[str, Any]]


def demo_payload(payload: DemoPayload, today: dt.date) -> Mapping[str, Any]:
    return payload(today) if callable(payload) else payload


@dataclass(frozen=True)
class DemoStep:
    """One step of a demo case. ``after_days`` puts it that many days after the step before
    (the timers that fall due in between fire first: a registration closes before the draw
    record is published); ``from_case`` adds to the payload what only the case knows by
    then, from its data (a receipt number the door gave a registration)."""

    trigger: str
    role: str
    payload: DemoPayload = field(default_factory=dict)
    after_days: int = 0
    from_case: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class DemoCase:
    """A demo case: started at ``org`` by ``role`` ``days_ago`` days before the demo is
    loaded and walked through ``steps`` on that day; timers that have fallen due since
    then (reminders, overdue marks) fire as the running service would fire them."""

    org: str
    payload: DemoPayload
    steps: tuple[DemoStep, ...] = ()
    role: str = "handler"
    days_ago: int = 0


@dataclass(frozen=True)
class Process:
    kind: str
    version: int
    label: Text
    states: tuple[State, ...]
    initial: str
    triggers: tuple[Trigger, ...]
    start_roles: frozenset[str]
    start_schema: Schema = Schema()
    start_effects: tuple[Effect, ...] = ()
    timers: tuple[Timer, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    code_prefix: str = "GK"
    title_field: str = "title"
    rules: tuple[str, ...] = ()
    demo: tuple[DemoCase, ...] = ()
    documents: tuple[Document, ...] = ()
    public_name: str | None = None
    public_data: Mapping[str, Text] = field(default_factory=dict)
    labels: Mapping[str, Text] = field(default_factory=dict)
    templates: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    #: data fields holding board publications made by this process's own triggers, each a
    #: record shaped like a routine item (title, content, category, scope,
    #: published_internal, published_public): ``workflow.views.publications`` lists each
    #: one on the board and as one row of the G10 ledger
    board: tuple[str, ...] = ()
    #: the chain's steps, in order, for the case page's progress line (:class:`Milestone`)
    milestones: tuple[Milestone, ...] = ()
    #: what the process counts for the annual assessment (G14); no part of the fingerprint:
    #: it reads what the case did, it changes nothing the case does
    statistics: Statistics | None = None
    #: at most one case per organisation and these start values; no part of the
    #: fingerprint: it refuses a start and changes nothing a case does (replay starts once)
    one_per: OnePer | None = None
    #: fingerprints this version was recorded under before a change that kept what it does
    #: (docs/engine.md "Versions"): a database that recorded one of them still opens
    earlier_fingerprints: tuple[str, ...] = ()

    def state(self, name: str) -> State:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(name)
