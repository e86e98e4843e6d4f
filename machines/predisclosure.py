"""预公开 — a draft decision put out for comments before it is taken (P1–P8, with G1, G2,
G3, G10, G12, G13).

Key items and matters close to people's interests are put out as a draft before the
formal decision (P1). A general item is proposed by the handling department and approved
by the leading group; for an important one the leading group drafts the plan and the
committee decides collectively (P8); either way the draft passes the 保密性、必要性、准确性
review first (G2), by someone other than its drafter (G3). It is then opened for comments
on the forms P2 names until the end of ``comment_until`` in Beijing: at least 15 calendar
days, the day of publication not counted (P3, a setting per organisation); a shorter
period only with the leading group's recorded approval and reason. The period closes on a
durable timer; it can be extended or reopened, each time with a notice on the board, and
never shortened. Party members of the organisation's subtree — and, for a 党外 item, anyone
without an account — comment (support, object, suggest), each comment an append-only event
with a receipt number and an access code (P4); supervisors' comments are marked (G13).
Every comment gets one outcome (P4) before the decision. At the close, objections from
more than half of the commenters defer the decision (P5, the share a setting), as does a
major disagreement the officer records; a study is recorded, then a new round on a
revised draft (the old comments kept) or the decision. The decision is recorded, and the
handling of the comments and the result are published within the item's scope, 党内
first (G1), registered in the ledger (G10), with the revised plan (P6, P7).

    trigger               from → to                                 who                 rules
    submit                drafting → review                         handler, office     P8 G3
    approve               review → group_approval | committee       reviewer (not the   G2 G3 P8
                                                                    drafter)
    return_draft          review, group_approval, committee         reviewer, leading   G3 P8
                          → drafting                                group
    approve_plan          group_approval → approved                 leading group       P8
    record_committee      committee → approved                      leading group       P8
    approve_short_period  approved → (stays)                        leading group       P3
    open_comments         approved → open                           handler, office     P1 P2 P3
    extend_period         open → (stays), a notice                  handler, office     P3
    comment               open → (stays), receipt YJ                members (subtree),  P4 G1
                                                                    public (党外 only)
    supervisor_comment    open → (stays), receipt YJ                supervisors         P4 G13
    dispose               open, closed, deferred → (stays)          handler, office     P4
    close_comments        open → closed | deferred (most object)    system (timer)      P3 P5
    reopen                closed → open, a notice                   handler, office     P3
    record_disagreement   closed → deferred                         handler, office     P5
    record_study          deferred → (stays)                        handler, office     P5
    revise_draft          deferred → review (a new round)           handler, office     P5 P7
    decide                closed, deferred → decided                officers, secretary P4 P5 P6
    publish_internal      decided → published_internal | published  handler, office     P6 G1 G10
                                                                                        G12
    publish_public        published_internal → published            handler, office     P6 P7 G1
                                                                                        G12

Comments stay possible to send in every state after the first opening so that a late one
is refused with the closing time (P3), never with a puzzling "not in this state".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from machines import demo
from machines import statistics as stats
from machines.common import (
    CHANNELS,
    NOTE,
    OFFICERS,
    REASON,
    RECORD_LABELS,
    RELEASE,
    record_return,
    reviewer_is_not_the_drafter,
)
from machines.routine import CHECKLIST, SCOPES, checklist_passed
from workflow.core.declare import (
    AtField,
    Ctx,
    Field,
    Figure,
    Mark,
    Process,
    Route,
    Schema,
    State,
    Statistics,
    Timer,
    Trigger,
)
from workflow.core.declare import Text as T

BEIJING = ZoneInfo("Asia/Shanghai")

# -- settings: the rules' defaults, configurable per organisation ---------------------------

SETTINGS = {
    "min_days": 15,            # P3 (default): at least 15 days, publication day not counted
    "objection_percent": 50,   # P5 (default): objections from more than half of the comments
    "max_days": 365,           # ours: a period ends within a year (a date typed wrong, not a rule)
}

# -- choices -----------------------------------------------------------------------------------

#: P2: the forms a pre-disclosure takes
FORMS = {
    "board": T("公开栏", "Notice board"), "draft": T("征求意见稿", "Draft for comments"),
    "meeting": T("会议", "Meeting"), "online": T("网上", "Online"),
}

STANCES = {
    "support": T("赞成", "Support"), "object": T("反对", "Object"),
    "suggest": T("修改建议", "Suggestion"),
}

#: P4: the one outcome each comment gets
OUTCOMES = {
    "adopted": T("采纳", "Adopted"), "partly": T("部分采纳", "Partly adopted"),
    "not_adopted": T("不予采纳", "Not adopted"),
    "outside": T("不属于本事项（已转交）", "Outside this item (forwarded)"),
}

#: P5: why a decision was deferred
GROUNDS = {
    "majority_objection": T("多数意见反对", "Most commenters object"),
    "major_disagreement": T("存在重大分歧", "Major disagreement"),
}

COMMENT_MAX = 2000

# -- states ------------------------------------------------------------------------------------

STATES = (
    State("drafting", T("拟订预公开方案", "Drafting the plan"), role="handler",
          rules=("P1", "P8", "G3")),
    State("review", T("待负责人审核（保密性、必要性、准确性）", "Awaiting review (G2)"),
          role="reviewer", rules=("G2", "G3")),
    State("group_approval", T("一般事项：待领导小组审批", "General item: leading group approves"),
          role="leading_group", rules=("P8",)),
    State("committee", T("重要事项：领导小组方案，待党委集体决定",
                         "Important item: committee decides"), role="leading_group",
          rules=("P8",)),
    State("approved", T("已批准，待发布征求意见", "Approved, to open for comments"),
          role="handler", rules=("P2", "P3")),
    State("open", T("征求意见中", "Open for comments"), role="handler",
          rules=("P3", "P4", "G1", "G13")),
    State("closed", T("意见征求期结束，待答复和决定", "Comments closed: answer and decide"),
          role="handler", rules=("P4", "P5")),
    State("deferred", T("暂缓作出决定，进一步研究", "Decision deferred for study"),
          role="handler", rules=("P5",)),
    State("decided", T("已作出决定，待公开处理情况和结果", "Decided: publish the outcome"),
          role="handler", rules=("P6", "G1")),
    State("published_internal", T("已党内公开，待党外公开", "Published internally"),
          role="handler", rules=("P6", "G1", "G12")),
    State("published", T("处理情况和结果已公开", "Outcome published"), final=True,
          rules=("P6", "P7", "G10")),
)

AFTER_OPENING = ("open", "closed", "deferred", "review", "group_approval", "committee",
                 "approved", "decided", "published_internal", "published")
DISPOSING = ("open", "closed", "deferred")

# -- pure rule functions: the plan (P8, G2, G3) ------------------------------------------------


def forms_known(payload: Mapping[str, Any]) -> dict[str, T]:
    """P2: the forms are the board, the draft for comments, a meeting and online."""
    unknown = [f for f in payload.get("forms", []) if f not in FORMS]
    if unknown:
        allowed = "、".join(f"{k}（{v.zh}）" for k, v in FORMS.items())
        return {"forms": T(f"不认识的形式：{'、'.join(unknown)}；可选：{allowed}",
                           f"Unknown forms: {', '.join(unknown)}; allowed: "
                           f"{', '.join(FORMS)}")}
    return {}


def record_plan(ctx: Ctx) -> dict:
    """P8: the handling department proposes; the first round starts with no comments."""
    return {"round": 1, "comments": [], "rounds": [], "deferrals": [], "notices": [],
            "drafted_by": ctx.actor}


def record_draft(ctx: Ctx) -> dict:
    """G3: 谁承办、谁提出 — whoever submits the draft is its drafter; a revised text or
    documents sent with it replace the earlier ones."""
    found: dict[str, Any] = {"drafted_by": ctx.actor}
    for key in ("draft_text", "documents"):
        if ctx.payload.get(key):
            found[key] = ctx.payload[key]
    return found


def record_review(ctx: Ctx) -> dict:
    """G2: the three checks passed, by whom and when."""
    return {"review": {"by": ctx.actor, "on": ctx.today.isoformat(), "secrecy": True,
                       "necessity": True, "accuracy": True,
                       "note": ctx.payload.get("note", "")}}


def important(ctx: Ctx) -> bool:
    """P8: an important item goes to the committee's collective decision."""
    return bool(ctx.data.get("important"))


def record_group_approval(ctx: Ctx) -> dict:
    """P8: a general item's pre-disclosure approved by the leading group."""
    return {"plan_approval": {"by": ctx.actor, "on": ctx.today.isoformat(),
                              "note": ctx.payload.get("note", "")}}


def attendance_adds_up(payload: Mapping[str, Any]) -> dict[str, T]:
    """P8: a collective decision records how many of the committee attended."""
    if payload.get("present", 0) > payload.get("members", 0):
        return {"present": T("出席人数不能多于应到人数",
                             "More present than the committee has members")}
    return {}


def record_committee(ctx: Ctx) -> dict:
    """P8: the leading group's plan and the committee's collective decision, on record."""
    keys = ("plan", "meeting", "meeting_on", "members", "present", "decision")
    return {"plan_approval": {k: ctx.payload[k] for k in keys}
            | {"by": ctx.actor, "on": ctx.today.isoformat()}}


# -- the comment period (P3) -----------------------------------------------------------------


def end_of_day(day: dt.date) -> str:
    """P3: a period ending on ``day`` runs to the end of that day in Beijing (UTC, ISO)."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), BEIJING)
    return midnight.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shortest_period(data: Mapping[str, Any], settings: Mapping[str, Any]) -> int:
    """P3: at least ``min_days`` (default 15) days, unless the leading group approved a
    shorter period for this round with its reason."""
    approved = data.get("short_period")
    return approved["days"] if approved else settings["min_days"]


def earliest_until(opened: dt.date, days: int) -> dt.date:
    """P3: counted in days as the Civil Code (art. 201) counts them, the day of publication
    not counted: opened on ``opened``, the earliest last day is the ``days``-th after it."""
    return opened + dt.timedelta(days=days)


def too_far(ctx: Ctx) -> dict[str, T] | None:
    """A last day more than ``max_days`` (default 365) ahead is a date typed wrong."""
    latest = ctx.today + dt.timedelta(days=ctx.settings["max_days"])
    if ctx.payload["comment_until"] <= latest.isoformat():
        return None
    return {"comment_until": T(f"截止日期不能晚于 {latest.isoformat()}",
                               f"The closing date cannot be after {latest.isoformat()}")}


def period_long_enough(ctx: Ctx) -> dict[str, T] | None:
    """P3: the period is at least 15 days (or the approved shorter one); the field error
    names the earliest date allowed."""
    until = dt.date.fromisoformat(ctx.payload["comment_until"])
    days = shortest_period(ctx.data, ctx.settings)
    earliest = earliest_until(ctx.today, days)
    if until >= earliest:
        return too_far(ctx)
    if ctx.data.get("short_period"):
        text = T(f"领导小组批准的征求意见期为 {days} 天（发布当日不计入），截止日期最早为 "
                 f"{earliest.isoformat()}",
                 f"The period the leading group approved is {days} days (the day of "
                 f"publication not counted): the earliest closing date is "
                 f"{earliest.isoformat()}")
    else:
        text = T(f"征求意见期不得少于 {days} 天（发布当日不计入），截止日期最早为 "
                 f"{earliest.isoformat()}；更短的期限须说明理由并经领导小组批准",
                 f"The comment period must be at least {days} days (the day of publication "
                 f"not counted): the earliest closing date is {earliest.isoformat()}; a "
                 f"shorter period needs a recorded reason and the leading group's approval")
    return {"comment_until": text}


def shorter_than_the_rule(ctx: Ctx) -> dict[str, T] | None:
    """P3: only a period shorter than the rule needs the leading group's approval."""
    if ctx.payload["days"] < ctx.settings["min_days"]:
        return None
    return {"days": T(f"不少于 {ctx.settings['min_days']} 天的期限无须批准",
                      f"A period of {ctx.settings['min_days']} days or more needs no "
                      f"approval")}


def record_short_period(ctx: Ctx) -> dict:
    """P3: the leading group's approval of a shorter period, with the reason, on record."""
    return {"short_period": {"days": ctx.payload["days"], "reason": ctx.payload["reason"],
                             "by": ctx.actor, "on": ctx.today.isoformat()}}


def _notice(ctx: Ctx, kind: str, until: str) -> list[dict]:
    """P3: each opening, extension or reopening is a notice on the board with the date."""
    entry = {"kind": kind, "until": until, "on": ctx.today.isoformat(),
             "round": ctx.data["round"]}
    if ctx.payload.get("reason") or ctx.payload.get("note"):
        entry["note"] = ctx.payload.get("reason") or ctx.payload.get("note")
    return [*ctx.data.get("notices", []), entry]


def open_period(ctx: Ctx) -> dict:
    """P3: the period runs from publication to the end of ``comment_until`` in Beijing."""
    until = ctx.payload["comment_until"]
    return {"comment_until": until, "closes_at": end_of_day(dt.date.fromisoformat(until)),
            "opened_on": ctx.today.isoformat(), "opened_at": _stamp(ctx.now),
            "notices": _notice(ctx, "opened", until)}


def later_than_the_end(ctx: Ctx) -> dict[str, T] | None:
    """P3: a period is extended or reopened, never shortened: the new last day is later
    than the current one, and not before today."""
    current = ctx.data["comment_until"]
    until = ctx.payload["comment_until"]
    if until > current and until >= ctx.today.isoformat():
        return too_far(ctx)
    earliest = max(dt.date.fromisoformat(current) + dt.timedelta(days=1), ctx.today)
    return {"comment_until": T(
        f"征求意见期只能延长：新的截止日期须晚于 {current}，最早为 {earliest.isoformat()}",
        f"A comment period can only be lengthened: the new closing date must be after "
        f"{current}, {earliest.isoformat()} at the earliest")}


def extend(kind: str):
    """P3: extending (or reopening) moves the end and publishes a notice with the date."""

    def effect(ctx: Ctx) -> dict:
        until = ctx.payload["comment_until"]
        return {"comment_until": until, "closes_at": end_of_day(dt.date.fromisoformat(until)),
                "notices": _notice(ctx, kind, until)}

    effect.__name__ = effect.__qualname__ = f"record_{kind}"
    return effect


record_extension = extend("extended")
record_reopening = extend("reopened")


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def closing_time(data: Mapping[str, Any]) -> str:
    """The end of the period as people read it: the last day, 24:00 Beijing time."""
    return f"{data['comment_until']} 24:00"


def period_is_open(ctx: Ctx) -> T | None:
    """P3, P4: comments are taken from publication to the end of the last day; a late one is
    refused with the closing time (and nothing already received is touched)."""
    closes = ctx.data.get("closes_at")
    if ctx.state == "open" and closes and _stamp(ctx.now) < closes:
        return None
    if not closes:
        return T("该事项尚未公开征求意见", "This draft is not open for comments yet")
    return T(f"意见征求期已于 {closing_time(ctx.data)}（北京时间）截止，不再接收意见",
             f"The comment period closed on {ctx.data['comment_until']} at 24:00 Beijing "
             f"time; no more comments are taken")


def comment_fits_scope(ctx: Ctx) -> T | None:
    """G1: a 党内 draft takes comments from Party members of the organisation's subtree only."""
    if ctx.data["scope"] == "internal" and ctx.actor.startswith("public"):
        return T("党内事项只接受本组织及下级组织党员的意见",
                 "Internal drafts take comments from the organisation's Party members only")
    return None


def comment_entry(ctx: Ctx, supervisor: bool) -> dict:
    """P4: what was said, in which round, by whom (name and contact only if given)."""
    entry = {"no": len(ctx.data["comments"]) + 1, "receipt": ctx.payload["_receipt"],
             "round": ctx.data["round"], "stance": ctx.payload["stance"],
             "text": ctx.payload["text"], "from": ctx.actor, "supervisor": supervisor,
             "on": ctx.today.isoformat(), "at": _stamp(ctx.now)}
    for key in ("name", "contact"):
        if ctx.payload.get(key):
            entry[key] = ctx.payload[key]
    return entry


def record_comment(ctx: Ctx) -> dict:
    """P4: every comment is kept, append-only, with its receipt number."""
    return {"comments": [*ctx.data["comments"], comment_entry(ctx, False)]}


def record_supervisor_comment(ctx: Ctx) -> dict:
    """G13: a disclosure supervisor's comment, marked as such."""
    return {"comments": [*ctx.data["comments"], comment_entry(ctx, True)]}


# -- disposition (P4) --------------------------------------------------------------------------


def disposition_has_its_fields(payload: Mapping[str, Any]) -> dict[str, T]:
    """P4: not adopting says why; a comment outside the item says where it went."""
    need = {"not_adopted": "reason", "outside": "forwarded_to"}.get(payload.get("outcome"))
    if need and not payload.get(need):
        return {need: T("该处理结果必须填写此项", "This outcome needs this field")}
    return {}


def _comment(data: Mapping[str, Any], receipt: str) -> Mapping[str, Any] | None:
    return next((c for c in data["comments"] if c["receipt"] == receipt), None)


def comment_awaits_disposition(ctx: Ctx) -> dict[str, T] | None:
    """P4: each comment gets one outcome."""
    found = _comment(ctx.data, ctx.payload["receipt"])
    if found is None:
        return {"receipt": T("没有这个回执编号的意见", "No comment has this receipt number")}
    if found.get("outcome"):
        return {"receipt": T("这条意见已经处理", "This comment already has its outcome")}
    return None


def answer_text(outcome: str, payload: Mapping[str, Any]) -> str:
    """P4: what the commenter is told: the outcome, the reason or where it went, the reply."""
    text = OUTCOMES[outcome].zh
    if payload.get("reason"):
        text += f"。理由：{payload['reason']}"
    if payload.get("forwarded_to"):
        text += f"。已转交：{payload['forwarded_to']}"
    if payload.get("reply"):
        text += f"。{payload['reply']}"
    return text


def record_disposition(ctx: Ctx) -> dict:
    """P4: the outcome, on the comment, referencing its receipt."""
    receipt = ctx.payload["receipt"]
    outcome = ctx.payload["outcome"]
    fields = {k: ctx.payload[k] for k in ("reason", "forwarded_to", "reply")
              if ctx.payload.get(k)}
    done = {"outcome": outcome, **fields, "answer": answer_text(outcome, ctx.payload),
            "answered_on": ctx.today.isoformat(), "answered_by": ctx.actor}
    return {"comments": [c | done if c["receipt"] == receipt else c
                         for c in ctx.data["comments"]]}


def undisposed(data: Mapping[str, Any]) -> list[str]:
    """P4: the receipts of comments that have no outcome yet."""
    return [c["receipt"] for c in data["comments"] if not c.get("outcome")]


def every_comment_disposed(ctx: Ctx) -> T | None:
    """P4: the decision waits until every comment has its outcome."""
    waiting = undisposed(ctx.data)
    if not waiting:
        return None
    listed = "、".join(waiting[:5]) + ("……" if len(waiting) > 5 else "")
    return T(f"还有 {len(waiting)} 条意见未处理（{listed}），处理后才能作出决定",
             f"{len(waiting)} comments have no outcome yet ({', '.join(waiting[:5])}): "
             f"answer them before the decision")


# -- deferral (P5) -----------------------------------------------------------------------------


def most_object(objections: int, comments: int, percent: int) -> bool:
    """P5: most commenters object — objections are more than ``percent`` per cent of the
    comments (default 50: more than half, so exactly half does not defer)."""
    return comments > 0 and objections * 100 > comments * percent


def round_comments(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The comments on the draft of the current round (P5 counts these)."""
    return [c for c in data["comments"] if c["round"] == data["round"]]


def counts(comments: Iterable[Mapping[str, Any]], key: str,
           keys: Iterable[str]) -> dict[str, int]:
    found = dict.fromkeys(keys, 0)
    for c in comments:
        if c.get(key) in found:
            found[c[key]] += 1
    return found


def most_commenters_object(ctx: Ctx) -> bool:
    """P5: at the close, the case computes whether most commenters object."""
    comments = round_comments(ctx.data)
    objections = sum(1 for c in comments if c["stance"] == "object")
    return most_object(objections, len(comments), ctx.settings["objection_percent"])


def record_close(ctx: Ctx) -> dict:
    """P3: the period is over; what came in stays as it is."""
    return {"closed_at": _stamp(ctx.now)}


def _deferral(ctx: Ctx, ground: str, **extra: Any) -> dict:
    entry = {"rule": "P5", "ground": ground, "round": ctx.data["round"],
             "on": ctx.today.isoformat(), **extra}
    return {"deferrals": [*ctx.data["deferrals"], entry]}


def defer_for_majority(ctx: Ctx) -> dict:
    """P5: deferred because most commenters object, with the counts that showed it."""
    comments = round_comments(ctx.data)
    return _deferral(ctx, "majority_objection", comments=len(comments),
                     objections=sum(1 for c in comments if c["stance"] == "object"),
                     percent=ctx.settings["objection_percent"])


def defer_for_disagreement(ctx: Ctx) -> dict:
    """P5: deferred because of a major disagreement (重大分歧), as the officer recorded it."""
    return _deferral(ctx, "major_disagreement", reason=ctx.payload["reason"], by=ctx.actor)


def study_not_yet_recorded(ctx: Ctx) -> T | None:
    return T("本次暂缓的研究情况已经记录", "The study is recorded already") \
        if ctx.data["deferrals"][-1].get("study") else None


def record_study(ctx: Ctx) -> dict:
    """P5: the further study the deferral calls for, on record."""
    study = {"text": ctx.payload["study"], "by": ctx.actor, "on": ctx.today.isoformat()}
    if ctx.payload.get("documents"):
        study["documents"] = ctx.payload["documents"]
    return {"deferrals": [*ctx.data["deferrals"][:-1], ctx.data["deferrals"][-1]
                          | {"study": study}]}


def deferral_studied(ctx: Ctx) -> T | None:
    """P5: a deferred decision is taken, or the draft revised, only after the study."""
    if ctx.state != "deferred" or ctx.data["deferrals"][-1].get("study"):
        return None
    return T("暂缓决定后须先记录研究情况", "Record the study first: the decision was deferred")


def start_new_round(ctx: Ctx) -> dict:
    """P5, P7: a new round on a revised draft; the old round and its comments are kept and
    linked, the new period needs its own approval if shorter (P3)."""
    data = ctx.data
    kept = {"round": data["round"], "draft_text": data["draft_text"],
            "documents": data.get("documents") or [], "comment_until": data["comment_until"],
            "opened_on": data["opened_on"],
            "comments": [c["receipt"] for c in round_comments(data)],
            "deferral": data["deferrals"][-1]}
    return {"rounds": [*data["rounds"], kept], "round": data["round"] + 1,
            "draft_text": ctx.payload["draft_text"],
            "documents": ctx.payload.get("documents") or [],
            "revision": ctx.payload.get("changes", ""), "drafted_by": ctx.actor,
            "short_period": None, "review": None, "plan_approval": None}


# -- decision and publication (P6, P7, G1, G10) ----------------------------------------------


def decided_not_in_the_future(ctx: Ctx) -> dict[str, T] | None:
    """P6: a decision is recorded after it was taken."""
    if ctx.payload["decided_on"] > ctx.today.isoformat():
        return {"decided_on": T("决定日期不能晚于今天", "The decision cannot be dated after today")}
    return None


def record_decision(ctx: Ctx) -> dict:
    """P6: who decided, when, at which meeting, the result and the revised plan (P7)."""
    keys = ("decided_by", "meeting", "decided_on", "result", "revised_plan")
    decision = {k: ctx.payload[k] for k in keys} | {"recorded_by": ctx.actor,
                                                      "recorded_on": ctx.today.isoformat()}
    if ctx.payload.get("documents"):
        decision["documents"] = ctx.payload["documents"]
    return {"decision": decision}


def comment_summary(comments: Iterable[Mapping[str, Any]]) -> dict:
    """P6: how the comments were handled — counts by stance and by outcome, the reasons for
    not adopting, where outside ones went, the supervisors' points; never who sent them."""
    comments = list(comments)
    return {
        "received": len(comments),
        "by_stance": counts(comments, "stance", STANCES),
        "by_outcome": counts(comments, "outcome", OUTCOMES),
        "not_adopted": [{"receipt": c["receipt"], "text": c["text"], "reason": c["reason"]}
                        for c in comments if c.get("outcome") == "not_adopted"],
        "outside": [{"receipt": c["receipt"], "forwarded_to": c["forwarded_to"]}
                    for c in comments if c.get("outcome") == "outside"],
        "supervisors": [{"receipt": c["receipt"], "text": c["text"],
                         "outcome": c.get("outcome")} for c in comments if c["supervisor"]],
    }


def summary_text(data: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    """P6, P7: the text published on the board: the result, the revised plan and how the
    comments were handled."""
    stance = "，".join(f"{STANCES[k].zh} {n} 条" for k, n in summary["by_stance"].items())
    outcome = "，".join(f"{OUTCOMES[k].zh} {n} 条" for k, n in summary["by_outcome"].items())
    lines = [f"决定：{data['decision']['result']}",
             f"（{data['decision']['decided_by']}，{data['decision']['decided_on']}）", "",
             f"修改后的方案：{data['decision']['revised_plan']}", "",
             f"意见征求情况：共收到意见 {summary['received']} 条（{stance}）；"
             f"处理情况：{outcome}。"]
    lines += [f"不予采纳（{n['receipt']}）：{n['reason']}" for n in summary["not_adopted"]]
    lines += [f"监督员意见（{s['receipt']}）：{s['text']}" for s in summary["supervisors"]]
    return "\n".join(lines)


def _release(ctx: Ctx) -> dict:
    return {"on": ctx.today.isoformat(), "at": _stamp(ctx.now),
            "channels": ctx.payload["channels"]}


def record_internal_release(ctx: Ctx) -> dict:
    """P6, G1, G10, G12: the handling of the comments and the result, published 党内 first
    on the named channels: the board publication ``outcome`` (``Process.board``), a record
    shaped like a routine item whose comments the ledger registers (G10)."""
    summary = comment_summary(ctx.data["comments"])
    outcome = {"title": f"{ctx.data['title']}（意见处理情况和结果）",
               "content": summary_text(ctx.data, summary), "category": "decisions",
               "scope": ctx.data["scope"], "time_class": "", "period": "",
               "published_internal": _release(ctx), "opinions": ctx.data["comments"]}
    return {"summary": summary, "outcome": outcome}


def internal_only(ctx: Ctx) -> bool:
    """G1: a 党内 item is released once, within the Party."""
    return ctx.data["scope"] == "internal"


def outcome_released_internally(ctx: Ctx) -> T | None:
    """G1: 先党内、后党外 — the public release may follow, never precede, the internal one."""
    if not (ctx.data.get("outcome") or {}).get("published_internal"):
        return T("须先在党内公开，才能向党外公开", "Publish internally before publishing publicly")
    return None


def record_public_release(ctx: Ctx) -> dict:
    """P6, P7, G1: then, for a 党外 item, to everyone, with the revised plan."""
    return {"outcome": ctx.data["outcome"] | {"published_public": _release(ctx)}}


# -- triggers ----------------------------------------------------------------------------------

TITLE = Field("title", "str", T("事项名称", "Title"), max_length=200)
DRAFT_TEXT = Field("draft_text", "text", T("征求意见稿", "Draft for comments"), max_length=20000)
DOCUMENTS = Field("documents", "file", T("附件", "Attachments"), required=False, max=10,
                  help=T("PDF、图片或 Office 文件，随征求意见稿公开",
                         "PDF, image or Office files, published with the draft"))

START = Schema((
    TITLE, DRAFT_TEXT, DOCUMENTS,
    Field("scope", "choice", T("公开范围", "Scope"), choices=SCOPES),
    Field("forms", "list", T("预公开形式（可多选）", "Forms"),
          help=T("board 公开栏、draft 征求意见稿、meeting 会议、online 网上",
                 "board, draft (for comments), meeting, online")),
    Field("important", "bool", T("重要事项（党委集体决定）", "Important item (committee)"),
          required=False),
), checks=(forms_known,))

SUBMIT = Schema((
    Field("draft_text", "text", T("征求意见稿（可修改）", "Draft (may edit)"), required=False,
          max_length=20000),
    DOCUMENTS,
))

COMMITTEE = Schema((
    Field("plan", "text", T("领导小组拟订的方案", "The leading group's plan"), max_length=20000),
    Field("meeting", "str", T("会议名称", "Meeting"), max_length=200),
    Field("meeting_on", "date", T("会议日期", "Meeting date")),
    Field("members", "int", T("应到人数", "Committee members"), min=1, max=1000),
    Field("present", "int", T("实到人数", "Present"), min=0, max=1000),
    Field("decision", "text", T("集体决定", "Collective decision")),
), checks=(attendance_adds_up,))

SHORT_PERIOD = Schema((
    Field("days", "int", T("批准的征求意见天数", "Days approved"), min=1, max=365),
    Field("reason", "text", T("缩短期限的理由", "Why the period is shorter")),
))

UNTIL = Field("comment_until", "date", T("征求意见截止日期（含当日）",
                                         "Comments until (inclusive)"))
OPEN = Schema((UNTIL, Field("note", "text", T("公告说明", "Notice text"), required=False)))
LENGTHEN = Schema((UNTIL, Field("reason", "text", T("理由（随公告公开）",
                                                      "Reason (published with the notice)"))))

COMMENT = Schema((
    Field("stance", "choice", T("态度", "Stance"), choices=STANCES),
    Field("text", "text", T("意见内容", "Comment"), max_length=COMMENT_MAX),
    Field("name", "str", T("姓名（可不填，不公开）", "Name (optional, never published)"),
          required=False, max_length=50),
    Field("contact", "str", T("联系方式（可不填，不公开）", "Contact (optional, never published)"),
          required=False, max_length=100),
))

DISPOSE = Schema((
    Field("receipt", "str", T("意见回执编号", "Receipt number"), max_length=40),
    Field("outcome", "choice", T("处理结果", "Outcome"), choices=OUTCOMES),
    Field("reason", "text", T("不予采纳的理由", "Why not adopted"), required=False),
    Field("forwarded_to", "str", T("转交何处", "Forwarded to"), required=False, max_length=200),
    Field("reply", "text", T("答复意见人", "Reply to the commenter"), required=False),
), checks=(disposition_has_its_fields,))

STUDY = Schema((
    Field("study", "text", T("研究情况", "The study"), max_length=20000),
    Field("documents", "file", T("研究材料", "Study papers"), required=False, max=10),
))

REVISE = Schema((
    Field("draft_text", "text", T("修改后的征求意见稿", "Revised draft"), max_length=20000),
    Field("changes", "text", T("修改说明", "What was changed"), required=False),
    DOCUMENTS,
))

DECIDE = Schema((
    Field("decided_by", "str", T("决定机关", "Decided by"), max_length=200),
    Field("meeting", "str", T("会议", "Meeting"), max_length=200),
    Field("decided_on", "date", T("决定日期", "Decided on")),
    Field("result", "text", T("决定结果", "The decision"), max_length=20000),
    Field("revised_plan", "text", T("修改完善后的方案", "The revised plan"), max_length=20000),
    Field("documents", "file", T("决定文件", "Decision documents"), required=False, max=10),
))

COMMENTERS = frozenset({"member", "lower:member", "public"})
SUPERVISORS = frozenset({"supervisor", "lower:supervisor"})
OWN_DRAFT = T("不能审核自己起草的预公开方案", "You may not review a plan you drafted")
DECIDERS = OFFICERS | {"secretary"}

TRIGGERS = (
    # the plan (P8), reviewed (G2, G3)
    Trigger("submit", ("drafting",), "review", OFFICERS, T("提交审核", "Submit for review"),
            SUBMIT, effects=(record_draft,), rules=("P8", "G3")),
    Trigger("approve", ("review",), "group_approval", {"reviewer"}, T("审核通过", "Approve"),
            CHECKLIST, available=(reviewer_is_not_the_drafter(OWN_DRAFT),),
            guards=(checklist_passed,), effects=(record_review,),
            routes=((important, "committee"),), rules=("G2", "G3", "P8")),
    Trigger("return_draft", ("review", "group_approval", "committee"), "drafting",
            {"reviewer", "leading_group"}, T("退回修改", "Send back"), REASON,
            effects=(record_return,), rules=("G3", "P8")),
    Trigger("approve_plan", ("group_approval",), "approved", {"leading_group"},
            T("领导小组同意预公开", "Leading group approves"), NOTE,
            effects=(record_group_approval,), rules=("P8",)),
    Trigger("record_committee", ("committee",), "approved", {"leading_group"},
            T("记录方案和党委集体决定", "Record the plan and the committee's decision"),
            COMMITTEE, effects=(record_committee,), rules=("P8",)),
    # the comment period (P3)
    Trigger("approve_short_period", ("approved",), None, {"leading_group"},
            T("批准缩短征求意见期", "Approve a shorter comment period"), SHORT_PERIOD,
            guards=(shorter_than_the_rule,), effects=(record_short_period,),
            append_only=True, rules=("P3",)),
    Trigger("open_comments", ("approved",), "open", OFFICERS,
            T("发布征求意见", "Open for comments"), OPEN, guards=(period_long_enough,),
            effects=(open_period,), rules=("P1", "P2", "P3"), public=True),
    Trigger("extend_period", ("open",), None, OFFICERS,
            T("延长征求意见期", "Extend the comment period"), LENGTHEN,
            guards=(later_than_the_end,), effects=(record_extension,), append_only=True,
            rules=("P3",), public=True),
    Trigger("close_comments", ("open",), "closed", {"system"},
            T("意见征求期结束", "Comment period over"), effects=(record_close,),
            routes=(Route(most_commenters_object, "deferred", (defer_for_majority,)),),
            rules=("P3", "P5"), public=True),
    Trigger("reopen", ("closed",), "open", OFFICERS,
            T("重新开放征求意见", "Reopen for comments"), LENGTHEN,
            guards=(later_than_the_end,), effects=(record_reopening,), rules=("P3",),
            public=True),
    # comments (P4, G1, G13)
    Trigger("comment", AFTER_OPENING, None, COMMENTERS, T("提出意见", "Comment"), COMMENT,
            guards=(period_is_open, comment_fits_scope), effects=(record_comment,),
            append_only=True, receipt="YJ", rules=("P4", "G1")),
    Trigger("supervisor_comment", AFTER_OPENING, None, SUPERVISORS,
            T("提出监督意见", "Comment as a supervisor"), COMMENT, guards=(period_is_open,),
            effects=(record_supervisor_comment,), append_only=True, receipt="YJ",
            rules=("P4", "G13")),
    Trigger("dispose", DISPOSING, None, OFFICERS, T("处理意见", "Answer a comment"), DISPOSE,
            guards=(comment_awaits_disposition,), effects=(record_disposition,),
            append_only=True, rules=("P4",)),
    # deferral (P5)
    Trigger("record_disagreement", ("closed",), "deferred", OFFICERS,
            T("存在重大分歧，暂缓决定", "Major disagreement: defer"), REASON,
            effects=(defer_for_disagreement,), rules=("P5",)),
    Trigger("record_study", ("deferred",), None, OFFICERS,
            T("记录研究情况", "Record the study"), STUDY, guards=(study_not_yet_recorded,),
            effects=(record_study,), append_only=True, rules=("P5",)),
    Trigger("revise_draft", ("deferred",), "review", OFFICERS,
            T("修改后再次征求意见", "Revise the draft for a new round"), REVISE,
            guards=(deferral_studied,), effects=(start_new_round,), rules=("P5", "P7")),
    # decision and publication (P6, P7, G1, G10, G12)
    Trigger("decide", ("closed", "deferred"), "decided", DECIDERS,
            T("记录决定", "Record the decision"), DECIDE,
            guards=(every_comment_disposed, deferral_studied, decided_not_in_the_future),
            effects=(record_decision,), rules=("P4", "P5", "P6"), public=True),
    Trigger("publish_internal", ("decided",), "published_internal", OFFICERS,
            T("党内公开处理情况和结果", "Publish the outcome internally"), RELEASE,
            effects=(record_internal_release,), routes=((internal_only, "published"),),
            rules=("P6", "G1", "G10", "G12"), public=True),
    Trigger("publish_public", ("published_internal",), "published", OFFICERS,
            T("党外公开处理情况和结果", "Publish the outcome to the public"), RELEASE,
            guards=(outcome_released_internally,), effects=(record_public_release,),
            rules=("P6", "P7", "G1", "G12"), public=True),
)

# -- timers -----------------------------------------------------------------------------------

TIMERS = (
    # P3: a durable timer at the end of the last day in Beijing, moved by an extension
    Timer("period", "open", "close_comments", AtField("closes_at"),
          T("意见征求期", "Comment period"), restart_on=("extend_period",)),
)


# -- statistics (G14) -------------------------------------------------------------------------


def marks(events: list, data, days_between) -> list[Mark]:
    """G14: a draft's facts: drafted; opened for comments (P3); comments by stance and
    their answers by outcome (P4); deferrals for a majority objection (P5); decided; the
    outcome published (P6: its first release, within the Party, as routine items count
    theirs; a public draft's later public release is not a second one)."""
    found = [Mark("drafts", stats.day(events[0]))]
    for ev in events[1:]:
        today, trigger, payload = stats.day(ev), ev["trigger"], ev["payload"]
        if trigger in ("comment", "supervisor_comment"):
            found.append(Mark("comments", today, part=payload.get("stance", "")))
        elif trigger == "dispose":
            found.append(Mark("dispositions", today, part=payload.get("outcome", "")))
        elif trigger == "publish_internal":
            found.append(Mark("published", today))
        for state, figure in (("open", "opened"), ("deferred", "deferrals"),
                              ("decided", "decided")):
            if stats.entered(ev, state) and not (state == "open" and trigger == "reopen"):
                found.append(Mark(figure, today))
    return found


STATISTICS = Statistics(figures=(
    Figure("drafts", T("预公开事项", "Drafts")),
    Figure("opened", T("发布征求意见", "Opened for comments (P3)")),
    Figure("comments", T("收到意见（按态度）", "Comments, by stance (P4)"), part_labels=STANCES),
    Figure("dispositions", T("意见处理（按结果）", "Comments answered, by outcome (P4)"),
           part_labels=OUTCOMES),
    Figure("deferrals", T("暂缓决定", "Decisions deferred (P5)")),
    Figure("decided", T("作出决定", "Decided")),
    Figure("published", T("公开处理情况和结果", "Outcome published (P6)")),
), marks=marks)

PRE_DISCLOSURE = Process(
    kind="pre_disclosure", version=1, label=T("预公开", "Pre-disclosure"), states=STATES,
    initial="drafting", triggers=TRIGGERS, timers=TIMERS, start_roles=OFFICERS,
    start_schema=START, start_effects=(record_plan,), settings=SETTINGS, code_prefix="YG",
    rules=("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "G1", "G2", "G3", "G10", "G12",
           "G13"),
    demo=demo.PRE_DISCLOSURE, statistics=STATISTICS, board=("outcome",),
    labels=RECORD_LABELS | CHANNELS | FORMS | STANCES | OUTCOMES | GROUNDS | {
        "comments": T("意见", "Comments"), "notices": T("征求意见公告", "Notices"),
        "deferrals": T("暂缓决定", "Deferrals"), "rounds": T("以往各轮", "Earlier rounds"),
        "short_period": T("缩短期限的批准", "Shorter period approved"),
        "plan_approval": T("方案审批", "Plan approval"), "decision": T("决定", "Decision"),
        "summary": T("意见处理情况", "How the comments were handled"),
        "outcome": T("公开的处理情况和结果", "The outcome as published"),
        "opened": T("发布", "Opened"), "extended": T("延长", "Extended"),
        "reopened": T("重新开放", "Reopened"), "closes_at": T("截止时间", "Closes at"),
        "comment_until": T("征求意见截止日期", "Comments until"),
        "drafted_by": T("起草人", "Drafted by"), "review": T("审核", "Review"),
        "round": T("轮次", "Round"), "rule": T("依据", "Rule"), "ground": T("原因", "Ground"),
        "objections": T("反对意见（条）", "Objections"),
        "percent": T("反对比例须超过（%）", "Objections above (%)"),
        "study": T("研究情况", "Study"), "until": T("截止日期", "Until"),
        "kind": T("类型", "Kind"), "no": T("序号", "No."), "at": T("时间", "At"),
        "from": T("提出人", "From"), "supervisor": T("监督员意见", "A supervisor's"),
        "answer": T("答复", "Answer"), "answered_on": T("答复日期", "Answered on"),
        "answered_by": T("答复人", "Answered by"), "opened_on": T("发布日期", "Opened on"),
        "opened_at": T("发布时间", "Opened at"), "closed_at": T("截止于", "Closed at"),
        "revision": T("修改说明", "What was changed"), "text": T("内容", "Text"),
        "recorded_by": T("记录人", "Recorded by"), "recorded_on": T("记录日期", "Recorded on"),
        "published_internal": T("党内公开", "Published internally"),
        "published_public": T("党外公开", "Published publicly"),
        "content": T("公开内容", "Published text"), "category": T("类别", "Category"),
        "decisions": T("重要决策", "Decisions"),
    },
)
