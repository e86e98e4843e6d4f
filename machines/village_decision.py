"""四议两公开 — the village decision chain (V1–V4, with G1, G6, G10).

The order is the law of the process (V1): the village Party organisation proposes (提议),
the two committees discuss (商议), the Party member meeting reviews (审议), the villagers'
meeting or the villager representatives' meeting resolves (决议). A major decision (重大
事项) goes to the town Party committee for review before any of that (V3); an ordinary one
goes straight on (a route, not a refusal), and a matter once proposed as major stays major.
Each state admits only the next step, so no step can be skipped or taken twice.

The numbers decide whether a meeting counted (V4, :mod:`machines.quorum`). A meeting that
missed its quorum is recorded as invalid, with the reason computed from its numbers, and
the case stays at that step to be reconvened; a vote that fails sends the case back to the
proposal; every meeting's record is kept either way (``meetings``). Numbers that cannot be
true (more present than entitled, more votes than people present) are field errors.

Then the two publications (两公开, V2) on the village affairs board, each due by a timer:
the resolution within 5 working days of the vote, the implementation result once the
implementation is recorded as complete (5 working days) and at the latest 60 working days
after the vote *(defaults, per organisation)*; with reminders and the two overdue tiers
(A9's, :mod:`machines.overdue`). Where money moves, each publication carries its financial
figures (财务公开). The Party member meeting is the internal release and the public one
follows it (G1); each publication is one row of the registration ledger (G10). A
publication that may not be made yet is withheld with the reason and filed with the town
(G6).

    trigger                from → to                                  who             rules
    propose                drafting → town_review | discussing        secretary,office V1 V3
    town_review            town_review → discussing | drafting        upper:reviewer  V3
    two_committees         discussing → reviewing                     village officers V1
    party_meeting          reviewing → resolving | (stays) | drafting village officers V1 V4 G1
    villagers_meeting      resolving → resolved | (stays) | drafting  village officers V1 V4
    publish_resolution     resolved → implementing                    village officers V2 G1 G10
    record_implementation  implementing → (stays) | completed         village officers V2
    publish_result         completed → published                      village officers V2 G10
    withhold               resolved, completed → withheld             secretary       G6
    file                   withheld → withheld_filed | closed         village officers G6
    receive_filing         withheld_filed → closed                    upper:receiver  G6
    overdue, long_overdue  resolved, implementing, completed (marks)  system (timers) V2 A9
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from machines import demo, overdue, quorum
from machines import statistics as stats
from machines.common import (
    CHANNELS,
    CHANNELS_FIELD,
    NOTE,
    OFFICERS,
    REASON,
    RECORD_LABELS,
    channels_known,
)
from machines.filing import (
    FILING,
    has_upper_level,
    outside_authority_named,
    record_filing,
    record_filing_received,
)
from workflow.core.declare import (
    Ctx,
    Field,
    Figure,
    Mark,
    Milestone,
    Process,
    Schema,
    State,
    Statistics,
    Timer,
    Trigger,
    WorkingDays,
)
from workflow.core.declare import Text as T

# -- settings: the rules' defaults, configurable per organisation ---------------------------

SETTINGS = {
    "resolution_days": 5,          # V2 (default): the resolution within 5 working days of the vote
    "result_days": 60,             # V2 (default): the result at the latest 60 working days after it
    "result_publish_days": 5,      # V2 (default): and within 5 working days of completion
    **overdue.SETTINGS,            # A9: long overdue 20 working days past due, reminders
}

#: who does the village's daily work: the secretary first (G15), the office, the handler
VILLAGE = OFFICERS | {"secretary"}

# -- states ------------------------------------------------------------------------------------

STATES = (
    State("drafting", T("提议拟定", "Drafting the proposal"), role="secretary",
          rules=("V1",)),
    State("town_review", T("待镇党委审查（重大事项）", "Town review (major decision)"),
          role="upper:reviewer", rules=("V3",)),
    State("discussing", T("待村“两委”商议", "Two committees to discuss"), role="office",
          rules=("V1",)),
    State("reviewing", T("待党员大会审议", "Party member meeting to review"), role="office",
          rules=("V1", "V4", "G1")),
    State("resolving", T("待村民（代表）会议决议", "Villagers' meeting to resolve"),
          role="office", rules=("V1", "V4")),
    State("resolved", T("已决议，待公开决议", "Resolved: publish the resolution"),
          role="office", rules=("V2", "G1", "A9")),
    State("implementing", T("决议已公开，实施中", "Resolution published: implementing"),
          role="office", rules=("V2", "G10")),
    State("completed", T("实施完成，待公开实施结果", "Implemented: publish the result"),
          role="office", rules=("V2", "A9")),
    State("published", T("两公开已完成", "Both publications made"), final=True,
          rules=("V2", "G10")),
    State("withheld", T("暂不公开，待报备", "Withheld: to file"), role="office", rules=("G6",)),
    State("withheld_filed", T("暂不公开，已报镇备案", "Withheld and filed"),
          role="upper:upper_receiver", rules=("G6",)),
    State("closed", T("已办结（未公开，已备案）", "Closed (withheld, filed)"), final=True,
          rules=("G6",)),
)

#: V2: the states in which a publication is due
PUBLISHING = ("resolved", "implementing", "completed")

FORMS = {
    "villagers": T("村民会议", "Villagers' meeting"),
    "representatives": T("村民代表会议", "Villager representatives' meeting"),
}
TOWN_DECISIONS = {
    "approve": T("审查同意，进入商议", "Approved: go on to the discussion"),
    "return": T("退回修改", "Send back with reasons"),
}
STAGES = {
    "progress": T("实施进展", "Progress"),
    "complete": T("实施完成", "Completed"),
}

# -- the meeting numbers (V4): consistency as field errors ------------------------------------

def _exceeds(what: str, what_en: str) -> T:
    return T(f"不能多于{what}", f"May not exceed {what_en}")


def _votes_fit(payload: Mapping[str, Any]) -> dict[str, T]:
    """V4: in favour, against and abstaining together are at most those present."""
    votes = sum(payload.get(k) or 0 for k in ("in_favour", "against", "abstaining"))
    if votes > payload.get("present", 0):
        return {"in_favour": T(f"赞成、反对、弃权合计 {votes} 人，多于到会的 "
                               f"{payload.get('present', 0)} 人",
                               f"In favour, against and abstaining add up to {votes}, more "
                               f"than the {payload.get('present', 0)} present")}
    return {}


def party_numbers_consistent(payload: Mapping[str, Any]) -> dict[str, T]:
    """V4: no more present than members with a vote; no more votes than present."""
    if payload["present"] > payload["members_with_vote"]:
        return {"present": _exceeds("有表决权的党员人数", "the members with a vote")}
    return _votes_fit(payload)


def villagers_numbers_consistent(payload: Mapping[str, Any]) -> dict[str, T]:
    """V4: the numbers the chosen form needs, and none that cannot be true: present at most
    the villagers aged 18 and over, households represented at most the households and the
    people present, the votes at most those present."""
    errors: dict[str, T] = {}
    present = payload["present"]
    if payload["form"] == "representatives":
        if not payload.get("representatives"):
            errors["representatives"] = T("村民代表会议须填写村民代表总人数",
                                          "A representatives' meeting needs its membership")
        elif present > payload["representatives"]:
            errors["present"] = _exceeds("村民代表总人数", "the representatives")
        for name in ("eligible", "households", "households_present"):
            if payload.get(name) is not None:
                errors[name] = T("此项只用于村民会议", "Only for a villagers' meeting")
        return errors or _votes_fit(payload)
    if payload.get("representatives") is not None:
        errors["representatives"] = T("此项只用于村民代表会议",
                                      "Only for a representatives' meeting")
    eligible, households = payload.get("eligible"), payload.get("households")
    represented = payload.get("households_present")
    if not eligible and not households:
        errors["eligible"] = T("须填写 18 周岁以上村民人数，或全村户数及到会代表的户数",
                               "Give the villagers aged 18 and over, or the households")
    if eligible and present > eligible:
        errors["present"] = _exceeds("18 周岁以上村民人数", "the villagers aged 18 and over")
    if households and represented is None:
        errors["households_present"] = T("请填写有代表到会的户数",
                                         "Give the households represented")
    if represented is not None and not households:
        errors["households"] = T("请填写全村户数", "Give the number of households")
    if households and represented is not None:
        if represented > households:
            errors["households_present"] = _exceeds("全村户数", "the households")
        elif represented > present:
            errors["households_present"] = _exceeds("到会人数", "the people present")
    return errors or _votes_fit(payload)


# -- pure rule functions ---------------------------------------------------------------------


def record_draft(ctx: Ctx) -> dict:
    """V1: the matter as the village Party organisation drafts it; V3: major or not."""
    return {"major": bool(ctx.payload.get("major")), "amount": ctx.payload.get("amount") or 0,
            "proposals": [], "town_reviews": [], "meetings": [], "implementation": [],
            "overdue": 0}


def is_major(ctx: Ctx) -> bool:
    """V3: a major decision is reviewed by the town before it goes to the vote. A matter
    once proposed as major stays major: a later proposal can raise it, never lower it."""
    return bool(ctx.data.get("major") or ctx.payload.get("major"))


def record_proposal(ctx: Ctx) -> dict:
    """V1 提议: the proposal on its day, the content and money as now proposed; the earlier
    proposals and their meetings stay on record."""
    content = ctx.payload.get("content") or ctx.data.get("content", "")
    amount = ctx.payload["amount"] if ctx.payload.get("amount") is not None \
        else ctx.data.get("amount", 0)
    entry = {"no": len(ctx.data.get("proposals", [])) + 1, "on": ctx.today.isoformat(),
             "by": ctx.actor, "content": content, "major": is_major(ctx), "amount": amount,
             "note": ctx.payload.get("note", "")}
    return {"content": content, "amount": amount, "major": is_major(ctx),
            "proposals": [*ctx.data.get("proposals", []), entry]}


def town_sends_back(ctx: Ctx) -> bool:
    """V3: the town's reviewer sends the proposal back to the village."""
    return ctx.payload.get("decision") == "return"


def reasons_when_sent_back(payload: Mapping[str, Any]) -> dict[str, T]:
    """V3: a proposal sent back says why, so the village can act on it."""
    if payload.get("decision") == "return" and not payload.get("reason"):
        return {"reason": T("退回时须写明理由", "Say why it is sent back")}
    return {}


def record_town_review(ctx: Ctx) -> dict:
    """V3: the town's review of this proposal, on record."""
    entry = {"proposal": len(ctx.data.get("proposals", [])), "on": ctx.today.isoformat(),
             "by": ctx.actor, "decision": ctx.payload["decision"],
             "reason": ctx.payload.get("reason", "")}
    return {"town_reviews": [*ctx.data.get("town_reviews", []), entry]}


def _last_date(data: Mapping[str, Any]) -> str:
    """The date of the last step of the current proposal (V1: steps follow each other)."""
    dates = [data["proposals"][-1]["on"]] if data.get("proposals") else []
    current = len(data.get("proposals", []))
    dates += [r["on"] for r in data.get("town_reviews", []) if r.get("proposal") == current]
    dates += [m["date"] for m in data.get("meetings", []) if m.get("proposal") == current]
    return max(dates, default="")


def meeting_in_order(ctx: Ctx) -> T | None:
    """V1: a meeting is held after the step before it (on the same day at the earliest) and
    not in the future."""
    held = ctx.payload.get("date", "")
    if held > ctx.today.isoformat():
        return T("会议日期不能晚于今天", "The meeting cannot be dated in the future")
    before = _last_date(ctx.data)
    if held < before:
        return T(f"会议日期不能早于上一步的日期（{before}）",
                 f"The meeting cannot be dated before the previous step ({before})")
    return None


def _files(payload: Mapping[str, Any], *names: str) -> dict:
    return {name: payload[name] for name in names if payload.get(name)}


def record_two_committees(ctx: Ctx) -> dict:
    """V1 商议: the joint meeting of the two committees and the draft they agreed."""
    entry = {"step": "two_committees", "proposal": len(ctx.data["proposals"]),
             "date": ctx.payload["date"], "attendees": ctx.payload["attendees"],
             "draft": ctx.payload["draft"], "by": ctx.actor, "on": ctx.today.isoformat(),
             **_files(ctx.payload, "minutes")}
    return {"meetings": [*ctx.data["meetings"], entry], "draft": ctx.payload["draft"]}


def party_verdict(payload: Mapping[str, Any]) -> quorum.Verdict:
    """V4: the Party member meeting, from its numbers."""
    return quorum.party_meeting(payload.get("members_with_vote", 0), payload.get("present", 0),
                                payload.get("in_favour", 0))


def villagers_verdict(payload: Mapping[str, Any]) -> quorum.Verdict:
    """V4: the villagers' or representatives' meeting, from its numbers."""
    if payload.get("form") == "representatives":
        return quorum.representatives_meeting(payload.get("representatives") or 0,
                                              payload.get("present", 0),
                                              payload.get("in_favour", 0))
    return quorum.villagers_meeting(payload.get("eligible"), payload.get("present", 0),
                                    payload.get("households"),
                                    payload.get("households_present"),
                                    payload.get("in_favour", 0))


def _meeting(ctx: Ctx, step: str, verdict: quorum.Verdict, numbers: tuple[str, ...]) -> dict:
    """V4: a meeting's record with its numbers and its computed verdict, kept whatever it
    decided (an invalid meeting and a failed vote are on record too)."""
    entry = {"step": step, "proposal": len(ctx.data["proposals"]), "date": ctx.payload["date"],
             **{n: ctx.payload[n] for n in numbers if ctx.payload.get(n) is not None},
             "valid": verdict.valid, "passed": verdict.passed,
             "verdict": verdict.text.as_dict(), "note": ctx.payload.get("note", ""),
             "by": ctx.actor, "on": ctx.today.isoformat(),
             **_files(ctx.payload, "minutes", "sign_in")}
    return {"meetings": [*ctx.data["meetings"], entry]}


PARTY_NUMBERS = ("members_with_vote", "present", "in_favour", "against", "abstaining")
VILLAGERS_NUMBERS = ("form", "eligible", "households", "households_present",
                     "representatives", "present", "in_favour", "against", "abstaining")


def record_party_meeting(ctx: Ctx) -> dict:
    """V4, G1: the Party member meeting's record; it is also the matter's internal release
    (党内), which the public one follows."""
    verdict = party_verdict(ctx.payload)
    found = _meeting(ctx, "party_meeting", verdict, PARTY_NUMBERS)
    if verdict.passed:
        found["internal_release"] = {"on": ctx.payload["date"], "channels": ["meeting"]}
    return found


def record_villagers_meeting(ctx: Ctx) -> dict:
    """V2, V4: the meeting's record; a resolution passed starts its publication deadline
    from the day of the vote, the long-overdue line (A9) that many working days after."""
    verdict = villagers_verdict(ctx.payload)
    found = _meeting(ctx, "villagers_meeting", verdict, VILLAGERS_NUMBERS)
    if verdict.passed:
        found |= {"resolved_on": ctx.payload["date"], "overdue": 0,
                  "long_n": ctx.settings["resolution_days"]
                  + ctx.settings["long_overdue_days"]}
    return found


def party_meeting_invalid(ctx: Ctx) -> bool:
    """V4: short of its quorum: recorded, the case stays to reconvene the meeting."""
    return not party_verdict(ctx.payload).valid


def party_vote_failed(ctx: Ctx) -> bool:
    """V4: the meeting counted but the vote failed: back to the proposal."""
    return party_verdict(ctx.payload).passed is False


def villagers_meeting_invalid(ctx: Ctx) -> bool:
    """V4: short of its quorum: recorded, the case stays to reconvene the meeting."""
    return not villagers_verdict(ctx.payload).valid


def villagers_vote_failed(ctx: Ctx) -> bool:
    """V4: the meeting counted but the vote failed: back to the proposal."""
    return villagers_verdict(ctx.payload).passed is False


def money_moves(data: Mapping[str, Any]) -> bool:
    """V2 财务公开: the decision moves money."""
    return bool(data.get("amount"))


def finance_stated(ctx: Ctx) -> T | None:
    """V2: where money moves, the publication carries its financial figures."""
    if money_moves(ctx.data) and not ctx.payload.get("finance"):
        return T("本事项涉及资金，须填写财务公开内容（收支金额、来源和用途）",
                 "This decision moves money: state its financial figures")
    return None


def _publication(ctx: Ctx, title: T, content: str) -> dict:
    """G1, G10, G12: a board publication of the decision: public scope, released after the
    Party member meeting (the internal release), on named channels, one registration row."""
    data = ctx.data
    entry = {"title": f"{title.zh}：{data['title']}", "content": content,
             "category": "decisions", "scope": "public", "time_class": "staged",
             "period": "", "published_internal": data.get("internal_release") or {},
             "published_public": {"on": ctx.today.isoformat(), "at": ctx.now.isoformat(),
                                  "channels": ctx.payload["channels"]},
             "by": ctx.actor, "late": bool(data.get("overdue"))}
    if ctx.payload.get("finance"):
        entry["finance"] = {"amount": data.get("amount", 0), "text": ctx.payload["finance"]}
    return entry


def publish_the_resolution(ctx: Ctx) -> dict:
    """V2 决议公开: the resolution on the village affairs board; the implementation result's
    latest date counts from the vote."""
    content = ctx.payload.get("content") or ctx.data.get("draft") or ctx.data["content"]
    return {"resolution_publication": _publication(ctx, T("决议公开", "Resolution"),
                                                   content),
            "overdue": 0,
            "result_long_n": ctx.settings["result_days"] + ctx.settings["long_overdue_days"]}


def implementation_completes(ctx: Ctx) -> bool:
    """V2: the implementation is recorded as complete: the result is to be published."""
    return ctx.payload.get("stage") == "complete"


def record_progress(ctx: Ctx) -> dict:
    """V2: progress and completion of the implementation, each on record with its files."""
    entry = {"stage": ctx.payload["stage"], "on": ctx.today.isoformat(), "by": ctx.actor,
             "text": ctx.payload["text"],
             **{k: ctx.payload[k] for k in ("spent", "files") if ctx.payload.get(k)}}
    found = {"implementation": [*ctx.data.get("implementation", []), entry]}
    if implementation_completes(ctx):
        found["completed_on"] = ctx.today.isoformat()
    return found


def publish_the_result(ctx: Ctx) -> dict:
    """V2 实施结果公开: the implementation result on the board, with the money spent."""
    return {"result_publication": _publication(ctx, T("实施结果公开", "Result"),
                                               ctx.payload["content"]),
            "overdue": 0}


def record_withholding(ctx: Ctx) -> dict:
    """G6: withheld with the reason, to be filed with the town."""
    return {"withheld": {"reason": ctx.payload["reason"], "by": ctx.actor,
                         "on": ctx.today.isoformat()}}


# -- triggers ----------------------------------------------------------------------------------

MINUTES = Field("minutes", "file", T("会议记录（请上传）", "Minutes (please upload)"),
                required=False, max=5,
                help=T("会议记录或纪要的扫描件：PDF、图片或 Office 文件",
                       "The minutes, scanned: PDF, image or Office file"))
#: villagers' names and signatures: personal data, every officer's download is an event
SIGN_IN = Field("sign_in", "file", T("签到表（请上传）", "Sign-in sheet (please upload)"),
                required=False, max=5, personal=True,
                help=T("到会人员签到表的扫描件", "The sign-in sheet, scanned"))
MEETING_DATE = Field("date", "date", T("会议日期", "Date of the meeting"))
NUMBER = {"type": "int", "min": 0, "max": 100000}


def _count(name: str, label: T, required: bool = True) -> Field:
    return Field(name, label=label, required=required, **NUMBER)


VOTES = (
    _count("in_favour", T("赞成人数", "In favour")),
    _count("against", T("反对人数", "Against"), required=False),
    _count("abstaining", T("弃权人数", "Abstaining"), required=False),
)
MEETING_NOTE = Field("note", "text", T("说明", "Note"), required=False)

PROPOSE = Schema((
    Field("content", "text", T("提议内容（可修改）", "Content (may revise)"), required=False,
          max_length=20000),
    Field("major", "bool", T("重大事项（须经镇党委审查）", "Major decision (town review)"),
          required=False),
    Field("amount", "int", T("涉及资金（元）", "Money involved (yuan)"), required=False, min=0),
    Field("note", "text", T("提议说明", "Note"), required=False),
))
TOWN_REVIEW = Schema((
    Field("decision", "choice", T("审查意见", "Decision"), choices=TOWN_DECISIONS),
    Field("reason", "text", T("意见或退回理由", "Opinion or reasons for sending back"),
          required=False),
), checks=(reasons_when_sent_back,))
TWO_COMMITTEES = Schema((
    MEETING_DATE,
    Field("attendees", "text", T("参加人员", "Attendees")),
    Field("draft", "text", T("商议形成的方案（初步方案）", "The draft agreed"), max_length=20000),
    MINUTES, MEETING_NOTE,
))
PARTY_MEETING = Schema((
    MEETING_DATE,
    Field("members_with_vote", label=T("有表决权的党员人数（应到）", "Members with a vote"),
          type="int", min=1, max=100000),
    _count("present", T("实到人数", "Present")),
    *VOTES, MINUTES, SIGN_IN, MEETING_NOTE,
), checks=(party_numbers_consistent,))
VILLAGERS_MEETING = Schema((
    MEETING_DATE,
    Field("form", "choice", T("会议形式", "Form"), choices=FORMS),
    _count("eligible", T("18 周岁以上村民人数（村民会议）",
                         "Villagers aged 18 and over (villagers' meeting)"), required=False),
    _count("households", T("全村户数（村民会议按户计）", "Households (villagers' meeting)"),
           required=False),
    _count("households_present", T("有代表到会的户数", "Households represented"),
           required=False),
    _count("representatives", T("村民代表总人数（村民代表会议）",
                                "Representatives (representatives' meeting)"), required=False),
    _count("present", T("到会人数", "Present")),
    *VOTES, MINUTES, SIGN_IN, MEETING_NOTE,
), checks=(villagers_numbers_consistent,))
PUBLISH = Schema((
    CHANNELS_FIELD,
    Field("content", "text", T("公开内容（默认为商议形成的方案）",
                               "What is published (the agreed draft by default)"),
          required=False, max_length=20000),
    Field("finance", "text", T("财务公开：收支金额、来源和用途（涉及资金时必填）",
                               "Financial disclosure (when money moves)"), required=False,
          max_length=8000),
), checks=(channels_known,))
PUBLISH_RESULT = Schema((
    CHANNELS_FIELD,
    Field("content", "text", T("实施结果", "The result"), max_length=20000),
    Field("finance", "text", T("财务公开：实际收支（涉及资金时必填）",
                               "Financial disclosure: money actually spent (when money moves)"),
          required=False, max_length=8000),
), checks=(channels_known,))
IMPLEMENTATION = Schema((
    Field("stage", "choice", T("进展或完成", "Progress or completion"), choices=STAGES),
    Field("text", "text", T("实施情况", "What was done"), max_length=8000),
    Field("spent", "int", T("已支出资金（元）", "Money spent so far (yuan)"), required=False,
          min=0),
    Field("files", "file", T("附件（验收单、照片等）", "Files (acceptance, photos…)"),
          required=False, max=10),
))

TRIGGERS = (
    Trigger("propose", ("drafting",), "discussing", {"secretary", "office"},
            T("提议（村党组织）", "Propose (village Party organisation)"), PROPOSE,
            effects=(record_proposal,), routes=((is_major, "town_review"),),
            rules=("V1", "V3")),
    Trigger("town_review", ("town_review",), "discussing", {"upper:reviewer"},
            T("镇党委审查", "Town review"), TOWN_REVIEW, effects=(record_town_review,),
            routes=((town_sends_back, "drafting"),), rules=("V3",), public=True),
    Trigger("two_committees", ("discussing",), "reviewing", VILLAGE,
            T("记录“两委”商议", "Record the two committees' discussion"), TWO_COMMITTEES,
            guards=(meeting_in_order,), effects=(record_two_committees,), rules=("V1",)),
    Trigger("party_meeting", ("reviewing",), "resolving", VILLAGE,
            T("记录党员大会审议", "Record the Party member meeting"), PARTY_MEETING,
            guards=(meeting_in_order,), effects=(record_party_meeting,),
            routes=((party_meeting_invalid, None), (party_vote_failed, "drafting")),
            rules=("V1", "V4", "G1"), public=True),
    Trigger("villagers_meeting", ("resolving",), "resolved", VILLAGE,
            T("记录村民（代表）会议决议", "Record the villagers' meeting"), VILLAGERS_MEETING,
            guards=(meeting_in_order,), effects=(record_villagers_meeting,),
            routes=((villagers_meeting_invalid, None), (villagers_vote_failed, "drafting")),
            rules=("V1", "V4"), public=True),
    Trigger("publish_resolution", ("resolved",), "implementing", VILLAGE,
            T("决议公开", "Publish the resolution"), PUBLISH, guards=(finance_stated,),
            effects=(publish_the_resolution,), rules=("V2", "G1", "G10", "G12"), public=True),
    Trigger("record_implementation", ("implementing",), None, VILLAGE,
            T("记录实施情况", "Record the implementation"), IMPLEMENTATION,
            effects=(record_progress,), routes=((implementation_completes, "completed"),),
            rules=("V2",)),
    Trigger("publish_result", ("completed",), "published", VILLAGE,
            T("实施结果公开", "Publish the result"), PUBLISH_RESULT, guards=(finance_stated,),
            effects=(publish_the_result,), rules=("V2", "G10", "G12"), public=True),
    Trigger("withhold", ("resolved", "completed"), "withheld", {"secretary"},
            T("暂不公开", "Withhold"), REASON, effects=(record_withholding,), rules=("G6",)),
    Trigger("file", ("withheld",), "closed", VILLAGE, T("报镇备案", "File with the town"),
            FILING, guards=(outside_authority_named,), effects=(record_filing,),
            routes=((has_upper_level, "withheld_filed"),), rules=("G6",)),
    Trigger("receive_filing", ("withheld_filed",), "closed", {"upper:upper_receiver"},
            T("备案已收悉", "Filing received"), NOTE, effects=(record_filing_received,),
            rules=("G6",)),
    *overdue.triggers(PUBLISHING, rules=("V2", "A9")),
)

# -- timers: the two publications (V2) with reminders and A9's two tiers -----------------------

RESULT_STATES = ("implementing", "completed")

TIMERS = (
    Timer("resolution", "resolved", "overdue",
          WorkingDays(5, setting="resolution_days", start_field="resolved_on"),
          T("决议公开期限", "Resolution to be published"), reminders=(1,), sets_due=True),
    Timer("resolution_long", "resolved", "long_overdue",
          WorkingDays(25, n_field="long_n", start_field="resolved_on"),
          T("决议公开严重逾期界限", "Resolution long overdue")),
    Timer("result", RESULT_STATES, "overdue",
          WorkingDays(60, setting="result_days", start_field="resolved_on"),
          T("实施结果公开最迟期限", "Result to be published at the latest"),
          reminder_setting="reminders", reminders=(5, 1), sets_due=True),
    Timer("result_long", RESULT_STATES, "long_overdue",
          WorkingDays(80, n_field="result_long_n", start_field="resolved_on"),
          T("实施结果公开严重逾期界限", "Result long overdue")),
    Timer("result_completed", "completed", "overdue",
          WorkingDays(5, setting="result_publish_days", start_field="completed_on"),
          T("实施完成后公开结果期限", "Result to be published after completion"),
          reminders=(1,), sets_due=True),
)

# -- the chain as the case page's progress line shows it ----------------------------------------

MILESTONES = (
    Milestone("propose", T("提议", "Proposal"), ("drafting",), "proposals"),
    Milestone("town_review", T("镇党委审查", "Town review"), ("town_review",), "town_reviews",
              summary="decision"),
    Milestone("two_committees", T("“两委”商议", "Two committees"), ("discussing",), "meetings",
              match={"step": "two_committees"}, date="date", summary="draft"),
    Milestone("party_meeting", T("党员大会审议", "Party member meeting"), ("reviewing",),
              "meetings", match={"step": "party_meeting"}, date="date", summary="verdict"),
    Milestone("villagers_meeting", T("村民（代表）会议决议", "Villagers' resolution"),
              ("resolving",), "meetings", match={"step": "villagers_meeting"}, date="date",
              summary="verdict"),
    Milestone("publish_resolution", T("决议公开", "Resolution published"), ("resolved",),
              "resolution_publication", date="published_public.on", summary="content"),
    Milestone("record_implementation", T("组织实施", "Implementation"), ("implementing",),
              "implementation", summary="text"),
    Milestone("publish_result", T("实施结果公开", "Result published"), ("completed",),
              "result_publication", date="published_public.on", summary="content"),
)

START = Schema((
    Field("title", "str", T("事项名称", "Title"), max_length=200),
    Field("content", "text", T("事项内容", "Content"), max_length=20000),
    Field("major", "bool", T("重大事项（须经镇党委审查）", "Major decision (town review)"),
          required=False),
    Field("amount", "int", T("涉及资金（元）", "Money involved (yuan)"), required=False, min=0),
))

# -- statistics (G14) -------------------------------------------------------------------------

STEPS = {"propose": T("提议", "Proposed"), "town_review": T("镇审查", "Town review"),
         "two_committees": T("两委商议", "Discussed"),
         "party_meeting": T("党员大会审议", "Reviewed"),
         "villagers_meeting": T("村民（代表）会议决议", "Resolved")}
PUBLICATIONS = {"publish_resolution": T("决议公开", "Resolution"),
                "publish_result": T("实施结果公开", "Result")}
VERDICTS = {"party_meeting": party_verdict, "villagers_meeting": villagers_verdict}


def marks(events: list, data, days_between) -> list[Mark]:
    """G14: a decision's facts: each step of 四议 taken (V1, V3); meetings that missed their
    quorum (V4); the two publications (V2), each on time or in which overdue tier since
    the one before (A9)."""
    found, late = [Mark("decisions", stats.day(events[0]))], []
    for ev in events[1:]:
        today, trigger = stats.day(ev), ev["trigger"]
        if trigger in ("overdue", "long_overdue"):
            late.append(ev)
        elif trigger in STEPS:
            verdict = VERDICTS.get(trigger)
            if verdict is not None and not verdict(ev["payload"]).valid:
                found.append(Mark("invalid_meetings", today, part=trigger))
            elif ev["to_state"] != ev["from_state"] or trigger in VERDICTS:
                found.append(Mark("steps", today, part=trigger))
        elif trigger in PUBLICATIONS:
            found += [Mark("publications", today, part=trigger),
                      Mark("timeliness", today, part=stats.tier(late))]
            late = []
    return found


STATISTICS = Statistics(figures=(
    Figure("decisions", T("四议两公开事项", "Decisions")),
    Figure("steps", T("四议各步骤", "Steps taken (V1)"), part_labels=STEPS),
    Figure("invalid_meetings", T("未达法定人数的会议", "Meetings short of quorum (V4)"),
           part_labels=STEPS),
    Figure("publications", T("两公开", "Publications (V2)"), part_labels=PUBLICATIONS),
    stats.timeliness_figure("timeliness", T("公开时效", "Publications on time (A9)")),
), marks=marks)

VILLAGE_DECISION = Process(
    kind="village_decision", version=1,
    label=T("四议两公开", "Village decision (four deliberations, two publications)"),
    states=STATES, initial="drafting", triggers=TRIGGERS, timers=TIMERS,
    start_roles=frozenset({"secretary", "office"}), start_schema=START,
    start_effects=(record_draft,), settings=SETTINGS, code_prefix="SY",
    rules=("V1", "V2", "V3", "V4", "G1", "G6", "G10", "G12", "A9"),
    demo=demo.VILLAGE_DECISION, statistics=STATISTICS,
    board=("resolution_publication", "result_publication"),
    milestones=MILESTONES,
    labels=RECORD_LABELS | CHANNELS | FORMS | TOWN_DECISIONS | STAGES | {
        "major": T("重大事项", "Major decision"), "amount": T("涉及资金（元）", "Money (yuan)"),
        "proposals": T("提议记录", "Proposals"), "town_reviews": T("镇党委审查", "Town reviews"),
        "meetings": T("会议记录", "Meetings"), "draft": T("商议形成的方案", "Agreed draft"),
        "implementation": T("实施情况", "Implementation"),
        "resolution_publication": T("决议公开", "Resolution published"),
        "result_publication": T("实施结果公开", "Result published"),
        "verdict": T("结论（V4）", "Verdict (V4)"), "valid": T("会议有效", "Counted"),
        "passed": T("通过", "Passed"), "date": T("会议日期", "Date"),
        "members_with_vote": T("有表决权党员", "Members with a vote"),
        "present": T("到会", "Present"), "in_favour": T("赞成", "In favour"),
        "against": T("反对", "Against"), "abstaining": T("弃权", "Abstaining"),
        "eligible": T("18 周岁以上村民", "Villagers 18+"), "households": T("户数", "Households"),
        "households_present": T("到会户数", "Households represented"),
        "representatives": T("村民代表", "Representatives"), "finance": T("财务公开", "Finance"),
        "minutes": T("会议记录", "Minutes"), "sign_in": T("签到表", "Sign-in sheet"),
        "resolved_on": T("表决日期", "Voted on"), "completed_on": T("完成日期", "Completed on"),
        "overdue": T("逾期", "Overdue"), "withheld": T("暂不公开", "Withheld"),
    },
)
