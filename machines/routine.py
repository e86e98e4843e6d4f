"""例行公开 — routine disclosure of one item (G1–G13, R1–R5).

谁承办、谁提出: the handling officer drafts (G3); the responsible person reviews with
the 保密性、必要性、准确性 checklist (G2); an item outside the catalogue needs approval
(G4: by the organisation that made the catalogue, or by the own leading group where so
configured), an important one a leading-group plan, a recorded committee decision and
the upper leading group's review. It is published 党内 first and 党外 only after (G1),
on named channels (G12), reported upward (R1); opinions from members, the public and
supervisors are recorded and answered (G8, G13) during the feedback window (R5), then
the case is archived as a bundle (G9). An item that may not be published is withheld
and filed upward with the reason (G6); a published item is changed or withdrawn only
with approval, filed upward and explained in public (G7). 即时 items are due at once
with a notice period for objections (R4). Periodic cases come from catalogue entries
(machines/catalogue.py, R3).
"""

from __future__ import annotations

from dataclasses import replace

from machines import demo
from machines import statistics as stats
from machines.common import (
    CHANNELS,
    CHANNELS_FIELD,
    NOTE,
    OFFICERS,
    REASON,
    RELEASE,
    all_opinions_answered,
    channels_known,
    reviewer_is_not_the_drafter,
    still_unanswered,
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
    Process,
    Schema,
    Spawn,
    State,
    Statistics,
    Timer,
    Trigger,
    WorkingDays,
)
from workflow.core.declare import Text as T

SETTINGS = {
    "feedback_days": 10,                     # R5: feedback window (default)
    "notice_days": 5,                        # R4: 公示 notice period (default)
    "deadline_days": 10,                     # R3: due 10 working days after the period ends
    "off_catalogue_approver": "catalogue_org",  # G4: 002 default; "leading_group" after 004
}

SCOPES = {"internal": T("党内", "Party-internal"), "public": T("党外（社会）", "Public")}

TIME_CLASSES = {
    "standing": T("长期公开", "Standing"), "periodic": T("定期公开", "Periodic"),
    "staged": T("分期公开", "Staged"), "immediate": T("即时公开", "Immediate"),
}

CATEGORIES = {
    "ideology": T("思想建设", "Ideological work"), "organisation": T("组织建设", "Organisation"),
    "conduct": T("作风建设", "Conduct"), "integrity": T("党风廉政建设", "Integrity"),
    "institutions": T("制度建设", "Institutions"), "decisions": T("重要决策", "Decisions"),
    "cadres": T("干部工作", "Cadres"), "other": T("其他", "Other"),
}

# -- states ------------------------------------------------------------------------------------

STATES = (
    State("drafting", T("起草中", "Drafting"), role="handler", rules=("G3", "R3")),
    State("review", T("待负责人审核", "Awaiting review"), role="reviewer", rules=("G2", "G3")),
    State("catalogue_approval", T("目录外事项待目录制定组织审批", "Off-catalogue: approval"),
          role="upper:reviewer", rules=("G4",)),
    State("group_approval", T("目录外事项待领导小组审批", "Off-catalogue: leading group"),
          role="leading_group", rules=("G4",)),
    State("plan", T("重要事项：领导小组方案与集体决定", "Important: plan and decision"),
          role="leading_group", rules=("G4",)),
    State("upper_review", T("重要事项：上级领导小组审核", "Important: upper review"),
          role="upper:leading_group", rules=("G4",)),
    State("approved", T("已批准，待发布", "Approved, to publish"), role="handler",
          rules=("R1", "R4")),
    State("published_internal", T("已党内公开，待党外公开", "Published internally"),
          role="handler", rules=("G1", "G12")),
    State("feedback", T("已公开，收集意见", "Published: collecting opinions"), role="handler",
          rules=("G8", "G13", "R4", "R5")),
    State("closing", T("意见期结束，待归档", "Feedback over: to archive"), role="handler",
          rules=("G8", "G9")),
    State("archived", T("已归档", "Archived"), final=True, rules=("G9",)),
    State("withheld", T("暂不公开，待报备", "Withheld: to file"), role="handler", rules=("G6",)),
    State("withheld_filed", T("暂不公开，已报上级备案", "Withheld and filed"),
          role="upper:upper_receiver", rules=("G6",)),
    State("closed", T("已办结", "Closed"), final=True, rules=("G6",)),
    State("withdrawn", T("已撤销（附说明）", "Withdrawn, with an explanation"), final=True,
          rules=("G7",)),
)

PUBLISHED = ("published_internal", "feedback", "closing")
PREPARING = ("drafting", "review", "catalogue_approval", "group_approval", "plan",
             "upper_review", "approved")

# -- pure rule functions -----------------------------------------------------------------------


def record_item(ctx: Ctx) -> dict:
    """R3/R4: the feedback window (or a 公示's notice period) is fixed when the case opens."""
    immediate = ctx.payload.get("time_class") == "immediate"
    window = ctx.settings["notice_days" if immediate else "feedback_days"]
    in_catalogue = bool(ctx.payload.get("entry") or ctx.payload.get("republish_of"))  # G11
    found = {"window_days": window, "opinions": [], "in_catalogue": in_catalogue,
             "due_days": 1 if immediate else ctx.settings["deadline_days"]}
    if not ctx.payload.get("period_end"):
        found["period_end"] = ctx.today.isoformat()
    return found


def checklist_passed(ctx: Ctx) -> dict[str, T] | None:
    """G2: 保密性、必要性、准确性 — every item passes all three before it is published. Each
    unticked check is an error on its own box, so that the form marks it."""
    unticked = {key: T(f"须通过{zh}审核后才能发布", f"The {en} check must pass before publication")
                for key, zh, en in (("secrecy", "保密性", "secrecy"),
                                    ("necessity", "必要性", "necessity"),
                                    ("accuracy", "准确性", "accuracy"))
                if not ctx.payload.get(key)}
    return unticked or None


def record_draft(ctx: Ctx) -> dict:
    """G3; the documents sent with the draft replace the item's (version 2)."""
    found = {"drafted_by": ctx.actor,
             "content": ctx.payload.get("content") or ctx.data["content"]}
    if ctx.payload.get("documents"):
        found["documents"] = ctx.payload["documents"]
    return found


def record_review(ctx: Ctx) -> dict:
    return {"review": {"by": ctx.actor, "on": ctx.today.isoformat(),
                       "secrecy": True, "necessity": True, "accuracy": True,
                       "note": ctx.payload.get("note", "")}}


def important(ctx: Ctx) -> bool:
    """G4: an important item needs a plan, a committee decision and the upper review."""
    return bool(ctx.data.get("important"))


def off_catalogue_by_catalogue_org(ctx: Ctx) -> bool:
    """G4 (002, default): the organisation that made the catalogue approves an ordinary
    item outside it (the organisation below it: the root has no one above)."""
    return (not ctx.data["in_catalogue"] and not important(ctx)
            and ctx.settings["off_catalogue_approver"] == "catalogue_org"
            and bool(ctx.data.get("_parent")))


def off_catalogue_by_leading_group(ctx: Ctx) -> bool:
    """G4 (004): otherwise the organisation's own disclosure leading group approves."""
    return not ctx.data["in_catalogue"] and not important(ctx)


def record_approval(ctx: Ctx) -> dict:
    approvals = [*ctx.data.get("approvals", []),
                 {"by": ctx.actor, "on": ctx.today.isoformat(), "step": ctx.state,
                  "note": ctx.payload.get("note", "")}]
    return {"approvals": approvals}


def record_plan(ctx: Ctx) -> dict:
    """G4: the leading group's plan and the committee's collective decision, on record."""
    return {"plan": {"plan": ctx.payload["plan"], "decision": ctx.payload["decision"],
                     "decided_on": ctx.payload["decided_on"], "by": ctx.actor}}


def internal_only(ctx: Ctx) -> bool:
    """G1: an internal item is released once, within the Party; a public one goes out
    again, to the public, after that."""
    return ctx.data["scope"] == "internal"


def record_internal_release(ctx: Ctx) -> dict:
    """G1, G12, R1: the internal release, its channels, reported to the upper level."""
    return {"published_internal": {"on": ctx.today.isoformat(), "at": ctx.now.isoformat(),
                                   "channels": ctx.payload["channels"]},
            "reported_to": ctx.data.get("_parent")}


def internal_release_first(ctx: Ctx) -> T | None:
    """G1: 先党内、后党外 — the public release may follow, never precede, the internal one."""
    if not ctx.data.get("published_internal"):
        return T("须先在党内公开，才能向党外公开", "Publish internally before publishing publicly")
    return None


def record_public_release(ctx: Ctx) -> dict:
    return {"published_public": {"on": ctx.today.isoformat(), "at": ctx.now.isoformat(),
                                 "channels": ctx.payload["channels"]}}


def opinion_fits_scope(ctx: Ctx) -> T | None:
    """G1: the public comments only on what was released to the public; an internal item
    takes opinions from Party members (and supervisors) only."""
    if ctx.actor.startswith("public") and (ctx.data["scope"] == "internal"
                                           or not ctx.data.get("published_public")):
        return T("党内事项只接受党员意见", "Internal items take opinions from members only")
    return None


def record_opinion(ctx: Ctx) -> dict:
    """G8, G13: every opinion is kept with who gave it; supervisors' are marked."""
    entry = {"no": len(ctx.data["opinions"]) + 1, "text": ctx.payload["text"],
             "from": ctx.actor, "kind": ctx.payload.get("kind") or "opinion",
             "name": ctx.payload.get("name", ""), "on": ctx.today.isoformat()}
    return {"opinions": [*ctx.data["opinions"], entry]}


def opinion_exists_unanswered(ctx: Ctx) -> T | None:
    no = ctx.payload.get("no")
    return still_unanswered([o for o in ctx.data["opinions"] if o["no"] == no])


def record_answer(ctx: Ctx) -> dict:
    """G8: the answer goes to the person; it may be published again."""
    opinions = [o | {"answer": ctx.payload["answer"], "answered_on": ctx.today.isoformat(),
                     "publish": ctx.payload.get("publish", False)}
                if o["no"] == ctx.payload["no"] else o for o in ctx.data["opinions"]]
    return {"opinions": opinions}


def archive_bundle(ctx: Ctx) -> dict:
    """G9: 立卷归档 — the material of the case, listed in its archive record."""
    return {"archive": {"on": ctx.today.isoformat(), "volume": ctx.payload.get("volume", ""),
                        "items": ["content", "review", "approvals", "published_internal",
                                  "published_public", "opinions", "changes"]}}


def record_withholding(ctx: Ctx) -> dict:
    """G6: withheld with the reason, to be filed with the upper level."""
    return {"withheld": {"reason": ctx.payload["reason"], "by": ctx.actor,
                         "on": ctx.today.isoformat()}}


def no_change_pending(ctx: Ctx) -> T | None:
    pending = ctx.data.get("change_request")
    return T("已有待审批的变更", "A change is already waiting") if pending else None


def record_change_request(ctx: Ctx) -> dict:
    """G7: a change or a withdrawal is asked for with its public explanation."""
    return {"change_request": {"kind": ctx.payload["kind"], "content": ctx.payload.get("content"),
                               "explanation": ctx.payload["explanation"], "by": ctx.actor,
                               "on": ctx.today.isoformat()}}


def change_pending(kind: str):
    def check(ctx: Ctx) -> T | None:
        pending = ctx.data.get("change_request")
        if not pending or pending["kind"] != kind:
            return T("没有待审批的此类申请", "No such request is waiting")
        return None

    check.__name__ = check.__qualname__ = f"{kind}_pending"
    return check


change_is_pending = change_pending("change")
withdrawal_is_pending = change_pending("withdraw")


def apply_change(ctx: Ctx) -> dict:
    """G7: approved by the catalogue's organisation, filed upward, published with the note."""
    request = ctx.data["change_request"]
    change = request | {"approved_by": ctx.actor, "approved_on": ctx.today.isoformat(),
                        "filed_with": ctx.data.get("_parent")}
    found = {"changes": [*ctx.data.get("changes", []), change], "change_request": None}
    if request["kind"] == "change" and request.get("content"):
        found["content"] = request["content"]
    return found


def refuse_change(ctx: Ctx) -> dict:
    refused = ctx.data["change_request"] | {"refused_by": ctx.actor,
                                            "reason": ctx.payload["reason"]}
    return {"change_request": None, "refused_changes": [*ctx.data.get("refused_changes", []),
                                                        refused]}


def change_request_waiting(ctx: Ctx) -> T | None:
    return None if ctx.data.get("change_request") else T("没有待审批的申请", "Nothing is waiting")


def mark_overdue(ctx: Ctx) -> dict:
    """R3: past the period's deadline and still not published."""
    return {"overdue": True}


def feedback_over(ctx: Ctx) -> dict:
    return {"feedback_closed_on": ctx.today.isoformat()}


# -- G11: a lower organisation republishes an upper one's item ---------------------------------

#: G11, G15: the officers of an organisation below the item's
LOWER_OFFICERS = frozenset(f"lower:{role}" for role in OFFICERS)
WIDER_SCOPE = T("转载不能超出上级设定的公开范围",
                "A republication may not widen the upper organisation's scope")


def republished_scope(ctx: Ctx) -> str:
    """G11: the scope chosen for the republication, the item's own when none is."""
    return ctx.payload.get("scope") or ctx.data["scope"]


def within_upper_scope(ctx: Ctx) -> T | None:
    """G11: a 党内 item is republished 党内 only; a public one may be narrowed to 党内."""
    if ctx.data["scope"] == "internal" and republished_scope(ctx) != "internal":
        return WIDER_SCOPE
    return None


def record_republication(ctx: Ctx) -> dict:
    """G11: where the item was republished, on its own record."""
    entry = {"org": ctx.payload["org"], "scope": republished_scope(ctx), "by": ctx.actor,
             "on": ctx.today.isoformat()}
    return {"republications": [*ctx.data.get("republications", []), entry]}


def republication(ctx: Ctx) -> dict:
    """G11: the lower organisation's own item with the upper one's content and channels, in
    the scope chosen; drafted and reviewed there like any other (G2, G3). The engine adds
    ``republish_of``, the upper item's code, which counts as in the catalogue (G4)."""
    data = ctx.data
    channels = [*data["published_internal"]["channels"],
                *(data.get("published_public") or {}).get("channels", [])]
    return {"title": f"转载：{data['title']}"[:TITLE_MAX], "content": data["content"],
            "category": data["category"], "scope": republished_scope(ctx),
            "channels": list(dict.fromkeys(channels)) or ["board"],
            "time_class": data["time_class"]}


# -- triggers ----------------------------------------------------------------------------------

CHECKLIST = Schema((
    Field("secrecy", "bool", T("保密性审核通过", "Secrecy check passed"), required=False),
    Field("necessity", "bool", T("必要性审核通过", "Necessity check passed"), required=False),
    Field("accuracy", "bool", T("准确性审核通过", "Accuracy check passed"), required=False),
    Field("note", "text", T("审核意见", "Review note"), required=False),
))
OPINION = Schema((
    Field("text", "text", T("意见内容", "Opinion")),
    Field("name", "str", T("姓名（可不填）", "Name (optional)"), required=False, max_length=50),
    Field("kind", "choice", T("类型", "Kind"), required=False, choices={
        "opinion": T("意见建议", "Opinion"), "objection": T("异议（公示期）", "Objection"),
        "supervision": T("监督员意见", "Supervisor's note")}),
))
OWN_ITEM = T("不能审核自己起草的事项", "You may not review an item you drafted")
APPROVE_STEPS = ("catalogue_approval", "group_approval")

TRIGGERS = (
    Trigger("submit", ("drafting",), "review", OFFICERS, T("提交审核", "Submit for review"),
            Schema((Field("content", "text", T("公开内容（可修改）", "Content (may edit)"),
                          required=False, max_length=20000),)),
            effects=(record_draft,), rules=("G3",)),
    Trigger("approve", ("review",), "approved", {"reviewer"}, T("审核通过", "Approve"),
            CHECKLIST, available=(reviewer_is_not_the_drafter(OWN_ITEM),),
            guards=(checklist_passed,), effects=(record_review,),
            routes=((important, "plan"), (off_catalogue_by_catalogue_org, "catalogue_approval"),
                    (off_catalogue_by_leading_group, "group_approval")),
            rules=("G2", "G3", "G4")),
    Trigger("return_draft", ("review", "catalogue_approval", "group_approval", "plan",
                             "upper_review"), "drafting",
            {"reviewer", "upper:reviewer", "leading_group", "upper:leading_group"},
            T("退回修改", "Send back"), REASON, effects=(record_approval,), rules=("G3", "G4")),
    Trigger("approve_off_catalogue", ("catalogue_approval",), "approved", {"upper:reviewer"},
            T("同意公开目录外事项", "Approve the off-catalogue item"), NOTE,
            effects=(record_approval,), rules=("G4",)),
    Trigger("approve_off_catalogue", ("group_approval",), "approved", {"leading_group"},
            T("同意公开目录外事项", "Approve the off-catalogue item"), NOTE,
            effects=(record_approval,), rules=("G4",)),
    Trigger("decide", ("plan",), "upper_review", {"leading_group"},
            T("记录方案和集体决定", "Record the plan and the decision"),
            Schema((Field("plan", "text", T("公开方案", "Plan")),
                    Field("decision", "text", T("党委（党组）集体决定", "Committee decision")),
                    Field("decided_on", "date", T("决定日期", "Decided on")))),
            effects=(record_plan,), rules=("G4",)),
    Trigger("approve_important", ("upper_review",), "approved", {"upper:leading_group"},
            T("上级领导小组审核同意", "Upper leading group approves"), NOTE,
            effects=(record_approval,), rules=("G4",)),
    Trigger("withhold", ("review",) + APPROVE_STEPS + ("upper_review",), "withheld",
            {"reviewer", "upper:reviewer", "leading_group", "upper:leading_group"},
            T("暂不公开", "Withhold"), REASON, effects=(record_withholding,), rules=("G2", "G6")),
    Trigger("file", ("withheld",), "closed", OFFICERS, T("报上级备案", "File upward"), FILING,
            guards=(outside_authority_named,), effects=(record_filing,),
            routes=((has_upper_level, "withheld_filed"),), rules=("G6",)),
    Trigger("receive_filing", ("withheld_filed",), "closed", {"upper:upper_receiver"},
            T("备案已收悉", "Filing received"), NOTE, effects=(record_filing_received,),
            rules=("G6",)),
    Trigger("publish_internal", ("approved",), "published_internal", OFFICERS,
            T("党内公开", "Publish internally"), RELEASE, effects=(record_internal_release,),
            routes=((internal_only, "feedback"),), rules=("G1", "G12", "R1"), public=True),
    Trigger("publish_public", ("published_internal",), "feedback", OFFICERS,
            T("党外公开", "Publish to the public"), RELEASE, guards=(internal_release_first,),
            effects=(record_public_release,), rules=("G1", "G12"), public=True),
    Trigger("opinion", PUBLISHED, None, {"member", "supervisor", "public", "handler"},
            T("提出意见", "Give an opinion"), OPINION, guards=(opinion_fits_scope,),
            effects=(record_opinion,), append_only=True, rules=("G8", "G13", "R4")),
    Trigger("answer_opinion", PUBLISHED, None, OFFICERS, T("答复意见", "Answer an opinion"),
            Schema((Field("no", "int", T("意见序号", "Opinion no."), min=1),
                    Field("answer", "text", T("答复内容", "Answer")),
                    Field("publish", "bool", T("同时公开答复", "Publish the answer"),
                          required=False))),
            guards=(opinion_exists_unanswered,), effects=(record_answer,), append_only=True,
            rules=("G8",)),
    Trigger("close_feedback", ("feedback",), "closing", {"system"},
            T("意见收集期结束", "Feedback window over"), effects=(feedback_over,), rules=("R5",)),
    Trigger("archive", ("closing",), "archived", OFFICERS, T("立卷归档", "Archive"),
            Schema((Field("volume", "str", T("案卷号", "Volume"), required=False),)),
            guards=(all_opinions_answered,), effects=(archive_bundle,), rules=("G8", "G9")),
    Trigger("request_change", PUBLISHED, None, OFFICERS,
            T("申请变更或撤销", "Ask to change or withdraw"),
            Schema((Field("kind", "choice", T("类型", "Kind"), choices={
                "change": T("变更内容", "Change"), "withdraw": T("撤销", "Withdraw")}),
                    Field("content", "text", T("变更后的内容", "New content"), required=False,
                          max_length=20000),
                    Field("explanation", "text", T("公开说明", "Public explanation")))),
            available=(no_change_pending,), effects=(record_change_request,), rules=("G7",)),
    Trigger("approve_change", PUBLISHED, None, {"upper:reviewer"},
            T("批准变更", "Approve the change"), NOTE, available=(change_is_pending,),
            effects=(apply_change,), rules=("G7",), public=True),
    Trigger("approve_change", PUBLISHED, "withdrawn", {"upper:reviewer"},
            T("批准撤销", "Approve the withdrawal"), NOTE, available=(withdrawal_is_pending,),
            effects=(apply_change,), rules=("G7",), public=True),
    Trigger("refuse_change", PUBLISHED, None, {"upper:reviewer"},
            T("不批准变更或撤销", "Refuse the change"), REASON,
            available=(change_request_waiting,), effects=(refuse_change,), rules=("G7",)),
    Trigger("overdue", PREPARING, None, {"system"}, T("已逾期未公开", "Overdue"),
            effects=(mark_overdue,), append_only=True, rules=("R3",)),
)

# -- timers -----------------------------------------------------------------------------------

TIMERS = (
    Timer("deadline", PREPARING, "overdue",
          WorkingDays(10, n_field="due_days", start_field="period_end"),
          T("公开期限", "Publication deadline"), reminders=(2,), sets_due=True),
    Timer("window", "feedback", "close_feedback", WorkingDays(10, n_field="window_days"),
          T("意见收集期", "Feedback window"), sets_due=True),
)



TITLE_MAX = 200


def item_fields(title: T, content_max: int) -> tuple[Field, ...]:
    """R2: what an item states, as its catalogue entry does: content, category, scope (G1),
    channels (G12) and time-limit class (G5)."""
    return (
        Field("title", "str", title, max_length=TITLE_MAX),
        Field("content", "text", T("公开内容", "Content"), max_length=content_max),
        Field("category", "choice", T("类别", "Category"), choices=CATEGORIES),
        Field("scope", "choice", T("公开范围", "Scope"), choices=SCOPES),
        CHANNELS_FIELD,
        Field("time_class", "choice", T("公开时限", "Time-limit class"), choices=TIME_CLASSES),
    )


START = Schema((
    *item_fields(T("事项名称", "Title"), 20000),
    Field("important", "bool", T("重要事项", "Important item"), required=False),
    Field("entry", "str", T("目录条目编号（目录外事项留空）",
                            "Catalogue entry (blank: off-catalogue)"), required=False),
    Field("period", "str", T("公开期次", "Period"), required=False),
    Field("period_end", "date", T("期末日期", "Period ends"), required=False),
    Field("republish_of", "str", T("转载自上级事项（编号）", "Republishes the upper item"),
          required=False),
), checks=(channels_known,))


# -- statistics (G14) -------------------------------------------------------------------------

CHANGES = {"change": T("变更", "Changed"), "withdraw": T("撤销", "Withdrawn")}


def marks(events: list, data, days_between) -> list[Mark]:
    """G14: an item's facts, by catalogue category: opened; published (its first release,
    internal or public) on time or after the deadline passed (R3, the ``overdue`` the timer
    recorded); fallen overdue while still unpublished; released to the public; withheld
    and filed (G6); changes and withdrawals approved (G7); opinions received and answered
    (G8)."""
    category = data.get("category") or ""
    found, late, published = [Mark("opened", stats.day(events[0]), part=category)], [], False
    for ev in events[1:]:
        today, trigger = stats.day(ev), ev["trigger"]
        if trigger == "overdue" and not published:
            late.append(ev)
            found.append(Mark("went_overdue", today, part=category))
        elif trigger == "publish_internal" and not published:
            published = True
            found += [Mark("published", today, part=category),
                      Mark("timeliness", today, part=stats.tier(late))]
        elif trigger == "approve_change":
            kind = "withdraw" if ev["to_state"] == "withdrawn" else "change"
            found.append(Mark("changes", today, part=kind))
        elif trigger in ("opinion", "answer_opinion", "withhold"):
            found.append(Mark({"opinion": "opinions", "answer_opinion": "opinions_answered",
                               "withhold": "withheld"}[trigger], today, part=category))
        if stats.entered(ev, "feedback") and ev["from_state"] == "published_internal":
            found.append(Mark("published_public", today, part=category))
    return found


STATISTICS = Statistics(figures=(
    Figure("opened", T("公开事项（按目录类别）", "Items, by catalogue category"),
           part_labels=CATEGORIES),
    Figure("published", T("已发布", "Published"), part_labels=CATEGORIES),
    stats.timeliness_figure("timeliness", T("发布时效（R3）", "Published on time (R3)")),
    Figure("went_overdue", T("到期未发布", "Fell due unpublished"), part_labels=CATEGORIES),
    Figure("published_public", T("党外公开", "Released to the public"), part_labels=CATEGORIES),
    Figure("withheld", T("暂不公开（报备）", "Withheld and filed (G6)"), part_labels=CATEGORIES),
    Figure("changes", T("变更与撤销（G7）", "Changes and withdrawals (G7)"),
           part_labels=CHANGES),
    Figure("opinions", T("收到意见", "Opinions received (G8)"), part_labels=CATEGORIES),
    Figure("opinions_answered", T("答复意见", "Opinions answered (G8)"),
           part_labels=CATEGORIES),
), marks=marks)

ROUTINE_V1 = Process(
    kind="routine", version=1, label=T("例行公开", "Routine disclosure"), states=STATES,
    initial="drafting", triggers=TRIGGERS, timers=TIMERS, start_roles=OFFICERS,
    start_schema=START, start_effects=(record_item,), settings=SETTINGS, code_prefix="LX",
    rules=("G1", "G2", "G3", "G4", "G6", "G7", "G8", "G9", "G12", "G13", "R1", "R3", "R4",
           "R5"),
    labels=CHANNELS,
    demo=demo.ROUTINE, statistics=STATISTICS,
    # recorded before routes and the shared rules (issue 13), which changed nothing it does
    earlier_fingerprints=("9ab683fe4d93e3b0888cd41eca8796f1439d8efbb6cde300b9bf951ec382752b",),
)

REPUBLISH = Trigger(
    "republish", (*PUBLISHED, "archived"), None, LOWER_OFFICERS,
    T("转载到本组织", "Republish here"),
    Schema((Field("org", "str", T("转载组织", "Republishing organisation"), max_length=100),
            Field("scope", "choice", T("公开范围（不超出上级设定）",
                                       "Scope (no wider than the upper item's)"),
                  required=False, choices=SCOPES))),
    guards=(within_upper_scope,), effects=(record_republication,), append_only=True,
    spawns=(Spawn("routine", republication, chosen_org="org", parent_field="republish_of"),),
    rules=("G11",))

#: the item's published documents (R2): shown with it on the board (version 2)
DOCUMENTS = Field("documents", "file", T("公开的文件", "Documents published"), required=False,
                  max=10, help=T("PDF、图片或 Office 文件，随事项在公开栏展示",
                                 "PDF, image or Office files, shown with the item on the board"))


def with_documents(trigger: Trigger) -> Trigger:
    """Version 2's draft also takes the documents (R2)."""
    if trigger.name != "submit":
        return trigger
    return replace(trigger, schema=replace(trigger.schema,
                                           fields=(*trigger.schema.fields, DOCUMENTS)))


#: Version 2 adds G11's republication and the item's documents (version 1 is kept for the
#: cases it runs).
ROUTINE = replace(
    ROUTINE_V1, version=2, triggers=(*map(with_documents, TRIGGERS), REPUBLISH),
    start_schema=replace(START, fields=(*START.fields, DOCUMENTS)),
    rules=(*ROUTINE_V1.rules, "G11"),
    labels=CHANNELS | {"republications": T("转载到下级组织", "Republished below")},
    earlier_fingerprints=())
