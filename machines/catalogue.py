"""党务公开目录 — one entry of an organisation's disclosure catalogue (R2, R3, G5, G7).

A catalogue is made per organisation type and adjusted over time after a first secrecy
review (R2). A basic-level organisation's catalogue is made by its upper level by
default: the entry's case then lives at the organisation that made it, and ``for_org``
names the organisation it is for. An entry states content, scope (G1), channels (G12),
time-limit class (G5) and responsible person. A 定期 entry opens a routine case at the
end of each period, due 10 working days later (R3), through the engine's timers and
spawns — exactly once per period, also across restarts. A 长期 entry opens its case
when it comes into force. Changing or ending an entry is approved by the organisation
that made the catalogue (G7).
"""

from __future__ import annotations

import datetime as dt

from machines import demo
from machines.common import (
    OFFICERS,
    REASON,
    channels_known,
    reviewer_is_not_the_drafter,
)
from machines.periods import period_of
from machines.routine import item_fields
from workflow.core.declare import AtField, Ctx, Field, Process, Schema, Spawn, State, Timer, Trigger
from workflow.core.declare import Text as T

PERIODS = {
    "monthly": T("每月", "Monthly"), "quarterly": T("每季度", "Quarterly"),
    "half_yearly": T("每半年", "Half-yearly"), "yearly": T("每年", "Yearly"),
}

SETTINGS = {"default_period": "quarterly"}  # G5: quarterly by default, monthly allowed

STATES = (
    State("draft", T("编制中", "Drafting"), role="handler", rules=("R2",)),
    State("first_review", T("待保密性初审", "Awaiting secrecy review"), role="reviewer",
          rules=("R2", "G2")),
    State("active", T("执行中", "In force"), role=None, rules=("R3", "G5")),
    State("change_review", T("变更待审批", "Change awaiting approval"), role="reviewer",
          rules=("G7",)),
    State("ended", T("已终止", "Ended"), final=True, rules=("G7",)),
)

# -- pure rule functions -----------------------------------------------------------------------


def period_fields(day: dt.date, period: str) -> dict:
    start, end, label = period_of(day, period)
    return {"period_start": start.isoformat(), "period_end": end.isoformat(),
            "period_label": label,
            "period_close": (end + dt.timedelta(days=1)).isoformat()}


def record_entry(ctx: Ctx) -> dict:
    """R2: the entry is for this organisation or, made by the upper level, for a lower one."""
    period = ctx.payload.get("period") or ctx.settings["default_period"]
    found = {"for_org": ctx.payload.get("for_org") or ctx.data["_org"], "periods_opened": []}
    if ctx.payload["time_class"] == "periodic":
        found["period"] = period
    return found


def period_only_for_periodic(payload) -> dict[str, T]:
    """G5: only a periodic entry has a period (quarterly unless it names another)."""
    if payload.get("period") and payload.get("time_class") != "periodic":
        return {"period": T("只有定期公开的条目才有周期", "Only periodic entries have a period")}
    return {}


def record_draft(ctx: Ctx) -> dict:
    return {"drafted_by": ctx.actor}


def secrecy_review_passed(ctx: Ctx) -> T | None:
    """R2: 保密性初审 before the entry comes into force."""
    if not ctx.payload.get("secrecy"):
        return T("须通过保密性初审", "The secrecy review must pass")
    return None


def come_into_force(ctx: Ctx) -> dict:
    """R3: a periodic entry starts counting in the period it comes into force."""
    found = {"in_force_on": ctx.today.isoformat(), "reviewed_by": ctx.actor}
    if ctx.data.get("period"):
        found |= period_fields(ctx.today, ctx.data["period"])
    if ctx.data["time_class"] == "staged":
        found["year_close"] = dt.date(ctx.today.year + 1, 1, 1).isoformat()
    return found


def item_for(ctx: Ctx, period: str | None = None, period_end: str | None = None) -> dict:
    item = {"title": ctx.data["title"], "content": ctx.data["content"],
            "category": ctx.data["category"], "scope": ctx.data["scope"],
            "channels": ctx.data["channels"], "time_class": ctx.data["time_class"],
            "entry": ctx.data["entry_code"]}
    if period:
        item |= {"title": f"{ctx.data['title']}（{period}）", "period": period,
                 "period_end": period_end}
    return item


def standing_item(ctx: Ctx) -> dict | None:
    """G5 长期: one case, opened when the entry comes into force."""
    return item_for(ctx) if ctx.data["time_class"] == "standing" else None


def closed_period_item(ctx: Ctx) -> dict | None:
    """R3: the case for the period that has just ended."""
    last = ctx.data["periods_opened"][-1]
    return item_for(ctx, last["label"], last["end"])


def next_period(ctx: Ctx) -> dict:
    """R3: record the period just closed and move on to the next one."""
    closed = {"label": ctx.data["period_label"], "end": ctx.data["period_end"],
              "opened_on": ctx.today.isoformat()}
    following = dt.date.fromisoformat(ctx.data["period_close"])
    return {"periods_opened": [*ctx.data["periods_opened"], closed]} | period_fields(
        following, ctx.data["period"])


def staged(ctx: Ctx) -> T | None:
    return None if ctx.data["time_class"] == "staged" else T("不是分期公开的条目",
                                                              "Not a staged entry")


def stage_item(ctx: Ctx) -> dict:
    """G5 分期: one case per stage, as the work progresses."""
    stage = ctx.payload["stage"]
    return item_for(ctx) | {"title": f"{ctx.data['title']}（{stage}）", "period": stage,
                            "content": ctx.payload.get("content") or ctx.data["content"]}


def record_stage(ctx: Ctx) -> dict:
    stages = [*ctx.data.get("stages", []), {"stage": ctx.payload["stage"],
                                            "opened_on": ctx.today.isoformat()}]
    return {"stages": stages}


def year_summary_item(ctx: Ctx) -> dict | None:
    """G5: a staged item that runs across the year end gets a closing summary for the year."""
    year = str(ctx.data["closed_year"])
    if not any(s["opened_on"].startswith(year) for s in ctx.data.get("stages", [])):
        return None
    return item_for(ctx) | {"title": f"{ctx.data['title']}（{year} 年度小结）",
                            "period": f"{year} 年度小结",
                            "period_end": f"{year}-12-31"}


def next_year(ctx: Ctx) -> dict:
    following = dt.date.fromisoformat(ctx.data["year_close"])
    return {"closed_year": following.year - 1,
            "year_close": dt.date(following.year + 1, 1, 1).isoformat()}


def keep_code(ctx: Ctx) -> dict:
    return {"entry_code": ctx.payload["_code"]}


def record_change_request(ctx: Ctx) -> dict:
    """G7: a change (or an end) of the entry, with the reason, for approval."""
    return {"change_request": {k: v for k, v in ctx.payload.items() if v not in (None, "")}
            | {"by": ctx.actor, "on": ctx.today.isoformat()}}


def ending_requested(ctx: Ctx) -> T | None:
    request = ctx.data.get("change_request") or {}
    return None if request.get("end") else T("不是终止申请", "Not an end request")


def change_requested(ctx: Ctx) -> T | None:
    request = ctx.data.get("change_request") or {}
    return T("不是变更申请", "Not a change request") if request.get("end") else None


def apply_change(ctx: Ctx) -> dict:
    """G7: approved by the catalogue's organisation; the history is kept."""
    request = ctx.data["change_request"]
    updates = {k: request[k] for k in ("content", "channels", "scope", "responsible")
               if request.get(k)}
    change = request | {"approved_by": ctx.actor, "approved_on": ctx.today.isoformat()}
    return updates | {"changes": [*ctx.data.get("changes", []), change],
                      "change_request": None}


def refuse_change(ctx: Ctx) -> dict:
    refused = ctx.data["change_request"] | {"refused_by": ctx.actor,
                                            "reason": ctx.payload["reason"]}
    return {"change_request": None,
            "refused_changes": [*ctx.data.get("refused_changes", []), refused]}


# -- triggers and timers -----------------------------------------------------------------------

OWN_ENTRY = T("不能审核自己编制的条目", "You may not review an entry you drafted")

ENTRY = Schema((
    *item_fields(T("公开事项", "Item"), 4000),
    Field("period", "choice", T("公开周期（定期公开）", "Period (periodic items)"),
          required=False, choices=PERIODS),
    Field("responsible", "str", T("责任人", "Responsible person"), max_length=50),
    Field("for_org", "str", T("适用组织代码（本组织编制时留空）",
                              "For organisation (blank: this one)"), required=False),
), checks=(channels_known, period_only_for_periodic))

CHANGE = Schema((
    Field("content", "text", T("新的公开内容", "New content"), required=False),
    Field("channels", "list", T("新的公开渠道", "New channels"), required=False),
    Field("responsible", "str", T("新的责任人", "New responsible person"), required=False),
    Field("end", "bool", T("终止该条目", "End this entry"), required=False),
    Field("reason", "text", T("理由（将随变更公开说明）", "Reason (published with the change)")),
), checks=(channels_known,))

TRIGGERS = (
    Trigger("submit", ("draft",), "first_review", OFFICERS, T("提交初审", "Submit for review"),
            effects=(record_draft,), rules=("R2",)),
    Trigger("approve", ("first_review",), "active", {"reviewer"},
            T("保密性初审通过，生效", "Secrecy review passed: in force"),
            Schema((Field("secrecy", "bool", T("保密性初审通过", "Secrecy review passed"),
                          required=False),)),
            available=(reviewer_is_not_the_drafter(OWN_ENTRY),), guards=(secrecy_review_passed,),
            effects=(come_into_force,), spawns=(Spawn("routine", standing_item, "for_org"),),
            rules=("R2", "G2", "G5")),
    Trigger("return_draft", ("first_review", "change_review"), "draft", {"reviewer"},
            T("退回修改", "Send back"), REASON,
            rules=("R2",)),
    Trigger("period_closes", ("active", "change_review"), None, {"system"},
            T("本期结束，生成公开事项", "Period over: open its case"), effects=(next_period,),
            spawns=(Spawn("routine", closed_period_item, "for_org"),), append_only=True,
            rules=("R3",)),
    Trigger("open_stage", ("active",), None, OFFICERS,
            T("发布本阶段事项", "Open this stage's case"),
            Schema((Field("stage", "str", T("阶段", "Stage"), max_length=50),
                    Field("content", "text", T("本阶段公开内容", "Content of this stage"),
                          required=False, max_length=4000))),
            available=(staged,), effects=(record_stage,),
            spawns=(Spawn("routine", stage_item, "for_org"),), rules=("G5",)),
    Trigger("year_closes", ("active", "change_review"), None, {"system"},
            T("年度结束，分期事项小结", "Year over: closing summary"), effects=(next_year,),
            spawns=(Spawn("routine", year_summary_item, "for_org"),), append_only=True,
            rules=("G5",)),
    Trigger("request_change", ("active",), "change_review", OFFICERS,
            T("申请变更或终止", "Ask to change or end"), CHANGE,
            effects=(record_change_request,), rules=("G7", "R2")),
    Trigger("approve_change", ("change_review",), "active", {"reviewer"},
            T("批准变更", "Approve the change"), available=(change_requested,),
            effects=(apply_change,), rules=("G7",)),
    Trigger("approve_change", ("change_review",), "ended", {"reviewer"},
            T("批准终止", "Approve the end"), available=(ending_requested,),
            effects=(apply_change,), rules=("G7",)),
    Trigger("refuse_change", ("change_review",), "active", {"reviewer"},
            T("不批准", "Refuse"), REASON,
            effects=(refuse_change,), rules=("G7",)),
)

TIMERS = (
    Timer("period", ("active", "change_review"), "period_closes", AtField("period_close"),
          T("本期结束", "End of the period"), restart_on=("period_closes",)),
    Timer("year", ("active", "change_review"), "year_closes", AtField("year_close"),
          T("年度结束", "End of the year"), restart_on=("year_closes",)),
)


def _entry(title, content, category, scope, time_class, period="", channels=("board",)):
    return {"title": title, "content": content, "category": category, "scope": scope,
            "time_class": time_class, "period": period, "channels": list(channels),
            "responsible": "书记"}


#: R2: catalogue templates per organisation type, from the seeds (004 四, 002 五, 000 小板桥);
#: an organisation copies one and adjusts it.
COMMON = (
    _entry("党组织设置和班子成员分工", "党组织机构设置、班子成员及分工", "organisation", "public",
           "standing", channels=("board", "website")),
    _entry("学习贯彻上级决策部署情况", "理论学习、主题党日和“三会一课”开展情况", "ideology",
           "internal", "periodic", "quarterly", ("meeting", "board")),
    _entry("党费收缴情况", "应缴、实缴人数和金额", "organisation", "internal", "periodic",
           "quarterly", ("board", "meeting")),
    _entry("发展党员和党员转正情况", "发展党员、预备党员转正的程序和名单", "organisation", "public",
           "immediate"),
    _entry("党风廉政建设责任制落实情况", "责任分工、落实情况和述职述廉", "integrity", "internal",
           "periodic", "yearly", ("meeting", "document")),
)
TEMPLATES = {
    "county_committee": COMMON + (
        _entry("干部选拔任用情况", "干部考察预告、任前公示和职级晋升公示", "cadres", "public",
               "immediate", channels=("website", "board")),
        _entry("重要决策及执行情况", "年度工作目标、重要工作部署和落实情况", "decisions", "public",
               "staged", channels=("website",)),
    ),
    "bureau": COMMON + (
        _entry("纠正“四风”和联系服务群众情况", "听取、采纳群众意见，解决实际困难情况", "conduct",
               "public", "periodic", "half_yearly", ("website", "board")),
    ),
    "town": COMMON + (
        _entry("村级后备干部培养情况", "培养对象、培养措施和考核情况", "cadres", "internal",
               "periodic", "yearly", ("meeting",)),
    ),
    "village": COMMON + (
        _entry("“四议两公开”决策事项", "提议、商议、审议、决议和实施结果", "decisions", "public",
               "staged", channels=("board",)),
        _entry("村级财务收支情况", "收支明细，半年更换、季度调整", "integrity", "public",
               "periodic", "quarterly", ("board",)),
    ),
    "enterprise": COMMON + (
        _entry("企业重大事项决策情况", "“三重一大”事项的决策程序和结果", "decisions", "internal",
               "staged", channels=("meeting", "document")),
    ),
}
TEMPLATES["branch"] = COMMON

CATALOGUE = Process(
    kind="catalogue", version=1, label=T("党务公开目录条目", "Catalogue entry"), states=STATES,
    initial="draft", triggers=TRIGGERS, timers=TIMERS, start_roles=OFFICERS,
    start_schema=ENTRY, start_effects=(record_entry, keep_code), settings=SETTINGS,
    code_prefix="ML", rules=("R2", "R3", "G5", "G7"), demo=demo.CATALOGUE, templates=TEMPLATES,
    # recorded before routes and the shared rules (issue 13), which changed nothing it does
    earlier_fingerprints=("023cc0981d3091450c2b941537e67861be4ca169bc39dfc623c79aa97c5f2703",),
)
