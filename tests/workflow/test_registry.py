"""``Compiled.run`` decides as firing the event on a model through transitions would.

The door tries the machine's transitions for a state in the machine's order through
transitions' own conditions without moving a model (issue 21). These properties hold
that equal to ``Event.trigger`` on a model — arrow, destination and refusal — over a
process whose triggers share names, refuse by guards and availability, route by
conditions and keep the state, for every combination of guard outcomes and roles.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workflow.base.text import Text
from workflow.base.timeutil import utcnow
from workflow.core.declare import Ctx, Process, Route, State, Trigger
from workflow.core.registry import _Cursor, compile_process, refusal_of

ROLES = frozenset({"handler"})


def _refuses(flag: str):
    def guard(ctx: Ctx):
        return Text(f"{flag} 不通过", f"{flag} refused") if ctx.data.get(flag) else None
    return guard


def _holds(flag: str):
    return lambda ctx: bool(ctx.data.get(flag))


STATES = tuple(State(name, Text(name, name)) for name in ("draft", "review", "done", "back"))
PROCESS = Process(
    kind="routing_sample", version=1, label=Text("路由样例", "Routing sample"), states=STATES,
    initial="draft", start_roles=ROLES,
    triggers=(
        Trigger("send", ("draft",), "review", ROLES, Text("送审", "Send"),
                available=(_refuses("a1"),), guards=(_refuses("g1"),)),
        Trigger("send", ("draft",), "done", frozenset({"leader"}), Text("直接办结", "Close"),
                guards=(_refuses("g2"),)),
        Trigger("decide", ("review",), None, ROLES, Text("决定", "Decide"),
                guards=(_refuses("g3"),),
                routes=(Route(_holds("r1"), "done"), Route(_holds("r2"), "back"))),
        Trigger("note", ("draft", "review", "back"), None, ROLES, Text("备注", "Note"),
                append_only=True, available=(_refuses("a2"),)),
        Trigger("reopen", ("back", "done"), "draft", ROLES, Text("重开", "Reopen"),
                guards=(_refuses("g1"), _refuses("g4"))),
    ),
)
COMPILED = compile_process(PROCESS)
FLAGS = ("a1", "a2", "g1", "g2", "g3", "g4", "r1", "r2")


def fired_on_model(state: str, trigger: str, ctx: Ctx, may) -> tuple:
    """What transitions' own ``Event.trigger`` decides, moving a model through the machine."""
    model = _Cursor()
    COMPILED.machine.add_model(model, initial=state)
    try:
        model.ctx, model.may = ctx, may
        COMPILED.machine.events[trigger].trigger(model)
        return model.chosen, model.state, model.refusal
    finally:
        COMPILED.machine.remove_model(model)


@given(state=st.sampled_from([s.name for s in STATES]),
       trigger=st.sampled_from(["send", "decide", "note", "reopen"]),
       flags=st.fixed_dictionaries({flag: st.booleans() for flag in FLAGS}),
       roles=st.sets(st.sampled_from(["handler", "leader"])))
def test_run_decides_as_the_machine_fired_on_a_model(state, trigger, flags, roles) -> None:
    if (state, trigger) not in COMPILED.arrows:
        return
    ctx = Ctx.of(flags, {}, utcnow(), "user:a", state)

    def may(arrow) -> bool:
        return bool(arrow.roles & roles)

    assert COMPILED.run(state, trigger, ctx, may) == fired_on_model(state, trigger, ctx, may)


@given(state=st.sampled_from([s.name for s in STATES]),
       trigger=st.sampled_from(["send", "decide", "note", "reopen"]),
       flags=st.fixed_dictionaries({flag: st.booleans() for flag in FLAGS}))
def test_replay_takes_the_arrow_the_door_takes(state, trigger, flags) -> None:
    """Replay (``resolve``, which knows no roles) and the door agree for anyone allowed all."""
    if (state, trigger) not in COMPILED.arrows:
        return
    ctx = Ctx.of(flags, {}, utcnow(), "user:a", state)
    arrow, new_state, _refusal = COMPILED.run(state, trigger, ctx)
    chosen, refusal = COMPILED.resolve(state, trigger, ctx)
    assert chosen is arrow
    assert new_state == (arrow.dest or state if arrow else state)
    assert (refusal is None) == (arrow is not None or all(
        refusal_of(a, ctx) is None for a in COMPILED.arrows[(state, trigger)]))


def test_the_machine_has_no_callbacks_to_skip() -> None:
    """``run`` moves no model, which is sound only while the machine runs no callbacks."""
    machine = COMPILED.machine
    assert not (machine.prepare_event or machine.finalize_event or machine.before_state_change
                or machine.after_state_change or machine.on_final)
    for state in machine.states.values():
        assert not (state.on_enter or state.on_exit)
    for event in machine.events.values():
        for transitions in event.transitions.values():
            for transition in transitions:
                assert not (transition.prepare or transition.before or transition.after)
