"""Process definitions, compiled once per kind and version into ``transitions`` machines.

Definitions come from the ``gongkai.processes`` entry point (``machines.definitions``)
or from an explicit list (tests); the engine never imports a machine module by name.
One machine serves every case of a kind and version (the transitions FAQ: a machine per
model does not scale); a case row is just data.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from transitions import Machine
from transitions.core import EventData

from workflow.base.canonical import canonical, sha256_hex
from workflow.base.text import Text
from workflow.core.declare import Condition, Ctx, Process, Refusal, State, Timer, Trigger

REMIND = Trigger(
    name="remind",
    source=("*",),
    dest=None,
    roles=frozenset({"system"}),
    label=Text("到期提醒", "Deadline reminder"),
    append_only=True,
)


@dataclass(frozen=True)
class Arrow(Trigger):
    """One way a trigger can go, as the machine holds it: a trigger with routes becomes an
    arrow per route, taken when its condition ``when`` holds, and one to ``dest``."""

    when: Condition | None = None


def arrows_of(trigger: Trigger) -> list[Arrow]:
    """The trigger's arrows in the order they are tried: its routes, then ``dest``."""
    own = {f.name: getattr(trigger, f.name) for f in dataclasses.fields(Trigger)}
    own["routes"] = ()
    return [*(Arrow(**own | {"dest": r.dest, "effects": trigger.effects + r.effects,
                             "when": r.when}) for r in trigger.routes), Arrow(**own)]


def _name(fn: object) -> str:
    """A rule function by its own name: the module it lives in is no part of what it does."""
    return getattr(fn, "__qualname__", None) or repr(fn)


def fingerprint(process: Process) -> str:
    """A digest of what the declaration does: states, every arrow (a route is one), schemas,
    the names of guards, conditions and effects, timers and settings. Any change to it
    needs a new version; how the declaration is written (a route as a pair or a Route, the
    module a function lives in, labels, rule IDs) is no part of it."""
    shape = {
        "kind": process.kind,
        "initial": process.initial,
        "states": [[s.name, s.role, s.final] for s in process.states],
        "start": [sorted(process.start_roles), process.start_schema.describe(),
                  [_name(f) for f in process.start_effects]],
        "arrows": [
            [a.name, list(a.source), a.dest, sorted(a.roles), a.schema.describe(),
             [_name(g) for g in a.available + a.guards],
             _name(a.when) if a.when else None,
             [_name(e) for e in a.effects], a.append_only,
             [[sp.kind, _name(sp.payload)] for sp in a.spawns]]
            + ([a.receipt] if a.receipt else [])
            for t in process.triggers for a in arrows_of(t)
        ],
        "timers": [[t.name, list(t.states), t.trigger, repr(t.after), list(t.reminders),
                    t.reminder_setting, t.sets_due, list(t.restart_on), list(t.pauses),
                    sorted(t.extend_on.items())]
                   for t in process.timers],
        "settings": {k: process.settings[k] for k in sorted(process.settings)},
    }
    return sha256_hex(canonical(shape))


def _ANYONE(arrow: Trigger) -> bool:
    return True


class _Cursor:
    """The model a thread's conditions see: it carries the guard context and takes the
    chosen arrow or the refusal."""

    def __init__(self) -> None:
        self.ctx: Ctx | None = None
        self.chosen: Trigger | None = None
        self.refusal: Refusal | None = None
        self.may: Callable[[Trigger], bool] = _ANYONE


@dataclass
class Compiled:
    process: Process
    machine: Machine
    fingerprint: str
    arrows: dict[tuple[str, str], list[Arrow]]
    _local: threading.local = field(default_factory=threading.local)
    _roles: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    #: what each (old state, new state, trigger) does to the timers (workflow.core.timers)
    timer_moves: dict[tuple[str | None, str, str], tuple] = field(default_factory=dict)
    _labels: dict[str, Text] | None = None

    @property
    def kind(self) -> str:
        return self.process.kind

    @property
    def version(self) -> int:
        return self.process.version

    def state(self, name: str) -> State:
        return self.process.state(name)

    def recorded_as(self, fingerprint: str) -> bool:
        """Does a database that recorded ``fingerprint`` for this version hold this
        declaration (or one that does the same, listed in ``earlier_fingerprints``)?"""
        return fingerprint in (self.fingerprint, *self.process.earlier_fingerprints)

    def label(self, key: str) -> Text | None:
        """The label of a data key or a choice value: the process's own labels, then its
        fields' labels and choices (how pages name what a case holds)."""
        if self._labels is None:
            process = self.process
            found: dict[str, Text] = dict(process.labels)
            for schema in [process.start_schema] + [t.schema for t in process.triggers]:
                for f in schema.fields:
                    found.setdefault(f.name, f.label)
                    for value, label in f.choices.items():
                        found.setdefault(value, label)
            self._labels = found
        return self._labels.get(key)

    @functools.cached_property
    def timed_states(self) -> frozenset[str]:
        """States in which some timer runs or is paused: elsewhere no timer can be live."""
        return frozenset(name for t in self.process.timers for name in (*t.states, *t.pauses))

    @functools.cached_property
    def sure_steps(self) -> dict[tuple[str, str], Arrow]:
        """(state, trigger) -> the one arrow the trigger takes from that state whatever the
        case and the payload (no guard or route to consult): replay follows it without
        ``resolve``, and parses the payload only for the arrow's effects (issue 21)."""
        return {key: arrows[0] for key, arrows in self.arrows.items()
                if len(arrows) == 1 and not (arrows[0].available or arrows[0].guards
                                             or arrows[0].when)}

    @functools.cached_property
    def timers_by_name(self) -> dict[str, Timer]:
        return {t.name: t for t in self.process.timers}

    def triggers_from(self, state: str) -> list[str]:
        """Trigger names the machine accepts in ``state``, declaration order."""
        return [name for (src, name) in self.arrows if src == state]

    @functools.cached_property
    def _firsts(self) -> dict[str, Trigger]:
        found: dict[str, Trigger] = {}
        for (_, name), arrows in self.arrows.items():
            found.setdefault(name, arrows[0])
        return found

    def first(self, trigger: str) -> Trigger | None:
        """The first declared arrow of ``trigger`` (its label, schema and kind)."""
        return self._firsts.get(trigger) or (REMIND if trigger == "remind" else None)

    def roles(self, trigger: str, state: str) -> frozenset[str]:
        """Who may take ``trigger``: the roles of its arrows from ``state`` (or anywhere)."""
        key = (trigger, state)
        found = self._roles.get(key)
        if found is None:
            arrows = self.arrows.get((state, trigger)) or [
                a for (_, name), each in self.arrows.items() if name == trigger for a in each]
            found = self._roles[key] = frozenset().union(*(a.roles for a in arrows))
        return found

    def run(self, state: str, trigger: str, ctx: Ctx,
            may: Callable[[Trigger], bool] | None = None
            ) -> tuple[Trigger | None, str, Refusal | None]:
        """Run ``trigger`` from ``state`` on the shared machine: (arrow taken, new state,
        refusal). ``may`` says whether the actor holds an arrow's roles; other arrows are
        passed by.

        The machine's transitions for ``state`` are tried in its order, each through
        transitions' own conditions, and the first whose conditions all pass is taken:
        what ``Event.trigger`` decides. No model is moved through the machine: it has no
        callbacks, so moving one decides nothing, and it cost a sixth of a change's CPU
        (issue 21; ``tests/workflow/test_registry.py`` holds the two equal)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = _Cursor()
        cursor.ctx, cursor.chosen, cursor.refusal = ctx, None, None
        cursor.may = may or _ANYONE
        event = self.machine.events[trigger]
        data = EventData(None, event, self.machine, cursor, (), {})
        for transition in event.transitions.get(state, ()):
            if all(condition.check(data) for condition in transition.conditions):
                return cursor.chosen, transition.dest or state, cursor.refusal
        return None, state, cursor.refusal

    def resolve(self, state: str, trigger: str, ctx: Ctx
                ) -> tuple[Trigger | None, Refusal | None]:
        """The same choice without the machine, for replay's hot loop (no callbacks)."""
        refusal = None
        for arrow in self.arrows.get((state, trigger), ()):
            refusal = refusal_of(arrow, ctx)
            if refusal is None and routes_here(arrow, ctx):
                return arrow, None
        return None, refusal


def routes_here(arrow: Arrow, ctx: Ctx) -> bool:
    """Is this the way the trigger goes? (Not a refusal: the next route is tried.)"""
    return arrow.when is None or bool(arrow.when(ctx))


def refusal_of(arrow: Trigger, ctx: Ctx, with_payload: bool = True) -> Refusal | None:
    """The first guard's reason for refusing, or None when every guard passes."""
    return first_refusal(arrow.available, ctx) or (
        first_refusal(arrow.guards, ctx) if with_payload else None)


def refusal_text(refusal: Refusal) -> Text:
    """A refusal as one text: field errors joined as ``field: reason``."""
    if isinstance(refusal, Text):
        return refusal
    return Text("；".join(f"{k}：{v.zh}" for k, v in refusal.items()),
                "; ".join(f"{k}: {v.en}" for k, v in refusal.items()))


def first_refusal(guards, ctx: Ctx) -> Refusal | None:
    for guard in guards:
        reason = guard(ctx)
        if reason is not None:
            return reason
    return None


def _condition(arrow: Arrow):
    """A transitions condition; the reason kept is the most telling one: an arrow that was
    available but refused the payload explains more than one that was not available."""

    def check(event) -> bool:
        cursor = event.model
        if not cursor.may(arrow):
            return False
        reason = first_refusal(arrow.available, cursor.ctx)
        if reason is not None:
            cursor.refusal = cursor.refusal or reason
            return False
        reason = first_refusal(arrow.guards, cursor.ctx)
        if reason is not None:
            cursor.refusal = reason
            return False
        if not routes_here(arrow, cursor.ctx):
            return False
        cursor.chosen = arrow
        return True

    return check


def compile_process(process: Process) -> Compiled:
    names = [s.name for s in process.states]
    if process.initial not in names:
        raise ValueError(f"{process.kind}: initial state {process.initial!r} is not declared")
    live = [s.name for s in process.states if not s.final]
    arrows: dict[tuple[str, str], list[Arrow]] = {}
    table = []
    for arrow in (a for t in (*process.triggers, REMIND) for a in arrows_of(t)):
        sources = live if arrow.source == ("*",) else list(arrow.source)
        for src in sources:
            if src not in names or (arrow.dest is not None and arrow.dest not in names):
                raise ValueError(f"{process.kind}.{arrow.name}: unknown state {src}->{arrow.dest}")
            arrows.setdefault((src, arrow.name), []).append(arrow)
            table.append({"trigger": arrow.name, "source": src, "dest": arrow.dest,
                          "conditions": [_condition(arrow)]})
    machine = Machine(model=None, states=names, initial=process.initial, transitions=table,
                      auto_transitions=False, send_event=True)
    for timer in process.timers:
        unknown = (set(timer.states) | set(timer.pauses)) - set(names)
        if unknown:
            raise ValueError(f"{process.kind}: timer {timer.name} on unknown states {unknown}")
        if not any(name == timer.trigger for (_, name) in arrows):
            raise ValueError(f"{process.kind}: timer {timer.name} fires unknown {timer.trigger}")
    return Compiled(process, machine, fingerprint(process), arrows)


class Registry:
    """Every declared version of every kind; new cases take the newest version."""

    def __init__(self, processes: Iterable[Process] = ()) -> None:
        self._compiled: dict[tuple[str, int], Compiled] = {}
        self._latest: dict[str, int] = {}
        for process in processes:
            self.add(process)

    @classmethod
    def from_entry_points(cls) -> Registry:
        """The installed processes, plus providers named in ``GONGKAI_PROCESSES``
        (``module:function`` separated by commas) for site-specific or test processes."""
        providers = [point.load() for point in entry_points(group="gongkai.processes")]
        for spec in filter(None, os.environ.get("GONGKAI_PROCESSES", "").split(",")):
            module, _, name = spec.strip().partition(":")
            providers.append(getattr(importlib.import_module(module), name))
        found: list[Process] = []
        for provider in providers:
            found.extend(provider())
        return cls(found)

    def add(self, process: Process) -> Compiled:
        key = (process.kind, process.version)
        if key in self._compiled:
            raise ValueError(f"{process.kind} version {process.version} is declared twice")
        compiled = self._compiled[key] = compile_process(process)
        self._latest[process.kind] = max(self._latest.get(process.kind, 0), process.version)
        return compiled

    def get(self, kind: str, version: int | None = None) -> Compiled:
        return self._compiled[(kind, version or self._latest[kind])]

    def kinds(self) -> list[str]:
        return sorted(self._latest)

    def latest(self) -> list[Compiled]:
        return [self.get(kind) for kind in self.kinds()]

    def all(self) -> list[Compiled]:
        return [self._compiled[key] for key in sorted(self._compiled)]

    def __contains__(self, kind: str) -> bool:
        return kind in self._latest
