"""Minimal processes for the benchmarks (not disclosure processes).

``bench`` cycles between two states (``hold`` / ``resume``) and takes append-only
``comment`` events, so one case can be fired many times. ``bench_timer`` starts a
one-day deadline on its initial state; the timer fires ``expire`` as the system.
``bench_peers`` is the linear five-step item that ``bench_peers.py`` runs on gongkai and
on its peers: draft → review → approve → publish → archive, a note with each step.
"""

from __future__ import annotations

from workflow.core.declare import (
    CalendarDays,
    Ctx,
    Field,
    Process,
    Schema,
    State,
    Text,
    Timer,
    Trigger,
)

T = Text


def count_comment(ctx: Ctx) -> dict:
    return {"comments": ctx.data.get("comments", 0) + 1, "last_comment": ctx.payload["text"]}


def count_hold(ctx: Ctx) -> dict:
    return {"holds": ctx.data.get("holds", 0) + 1}


COMMENT = Trigger("comment", ("*",), None, {"handler", "public"}, T("留言", "Comment"),
                  Schema((Field("text", "text", T("内容", "Text")),)),
                  effects=(count_comment,), append_only=True)

START = Schema((Field("title", "str", T("标题", "Title")),))

BENCH = Process(
    kind="bench", version=1, label=T("基准流程", "Benchmark process"),
    states=(State("open", T("办理中", "Open"), role="handler"),
            State("held", T("暂停", "Held"), role="handler"),
            State("closed", T("已办结", "Closed"), final=True)),
    initial="open",
    triggers=(COMMENT,
              Trigger("hold", ("open",), "held", {"handler"}, T("暂停", "Hold"),
                      effects=(count_hold,)),
              Trigger("resume", ("held",), "open", {"handler"}, T("恢复", "Resume")),
              Trigger("close", ("open", "held"), "closed", {"handler"}, T("办结", "Close"))),
    start_roles=frozenset({"handler"}), start_schema=START, code_prefix="BN",
    settings={"limit": 10},
)

BENCH_TIMER = Process(
    kind="bench_timer", version=1, label=T("基准定时流程", "Benchmark timer process"),
    states=(State("waiting", T("等待", "Waiting"), role="handler"),
            State("expired", T("已逾期", "Expired"), final=True)),
    initial="waiting",
    triggers=(COMMENT,
              Trigger("expire", ("waiting",), "expired", {"system"}, T("逾期", "Expire"))),
    timers=(Timer("deadline", "waiting", "expire", CalendarDays(1), T("期限", "Deadline"),
                  sets_due=True),),
    start_roles=frozenset({"handler"}), start_schema=START, code_prefix="BT",
)


#: bench_peers.py: the states in order; each step's trigger is named after its target
PEER_STATES = ("draft", "review", "approve", "publish", "archive")
NOTE = Schema((Field("note", "text", T("说明", "Note"), required=False),))

PEERS = Process(
    kind="bench_peers", version=1, label=T("基准五步流程", "Benchmark five-step process"),
    states=tuple(State(name, T(name, name), role="handler", final=name == PEER_STATES[-1])
                 for name in PEER_STATES),
    initial=PEER_STATES[0],
    triggers=tuple(Trigger(dest, (src,), dest, {"handler"}, T(dest, dest), NOTE)
                   for src, dest in zip(PEER_STATES, PEER_STATES[1:], strict=False)),
    start_roles=frozenset({"handler"}), start_schema=START, code_prefix="BP",
)


def definitions() -> list[Process]:
    return [BENCH, BENCH_TIMER, PEERS]
