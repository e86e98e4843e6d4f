"""依申请公开 — disclosure on application (A1–A9, G6, G15).

Anyone applies without an account (A1) and tracks the request with its code. The
organisation registers it, may ask once for clarification (补正) within 7 working
days, answers within 20 working days of receipt (A5) with one typed outcome (A7),
reviewed by the responsible person (G3); an answer that withholds anything needs the
upper level's consent where the organisation requires it (A3). The answer and the
handling are filed with the upper level (A4). Time spent consulting a third party or a
co-owner does not count (A8); overdue comes in two tiers with reminders before (A9).
"""

from __future__ import annotations

from dataclasses import replace

from machines import demo, overdue
from machines import statistics as stats
from machines.common import (
    ANSWERED_RECORDS,
    EMAIL,
    NOTE,
    OFFICERS,
    REASON,
    RECORD_LABELS,
    record_return,
    reviewer_is_not_the_drafter,
    withdrawn,
)
from machines.filing import (
    OUTSIDE_AUTHORITY,
    has_upper_level,
    outside_authority_named,
    record_filing,
    record_filing_received,
)
from workflow.core.declare import (
    Ctx,
    Document,
    Field,
    Figure,
    Mark,
    Process,
    ReportRow,
    Route,
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
    "deadline_days": 20,           # A5: answer within 20 working days of receipt
    "extension_max_days": 20,      # A5: one extension of at most 20 working days
    "clarify_window_days": 7,      # A5: a 补正 notice within 7 working days
    "clarify_answer_days": 15,     # A5: the applicant's answer is due within 15 working days
    **overdue.SETTINGS,            # A9: long overdue 20 working days past due, reminders
    "upper_consent": True,         # A3 (002): withholding needs the upper level's consent
}

# -- states ------------------------------------------------------------------------------------

STATES = (
    State("received", T("已收到，待登记", "Received"), role="office", rules=("A1", "A5")),
    State("processing", T("办理中", "In progress"), role="handler", rules=("A5", "A7", "A9")),
    State("clarifying", T("待申请人补正", "Awaiting clarification"), role=None, rules=("A5",)),
    State("consulting", T("征求第三方意见中（暂停计时）", "Consulting (clock stopped)"),
          role="handler", rules=("A8",)),
    State("review", T("待负责人审核", "Awaiting review"), role="reviewer", rules=("G3",)),
    State("consent", T("待上级党组织同意", "Awaiting upper-level consent"),
          role="upper:reviewer", rules=("A3",)),
    State("answered", T("已答复，待报备", "Answered, to be filed"), role="handler",
          rules=("A2", "A7")),
    State("filed", T("已报上级备案", "Filed with the upper level"), role="upper:upper_receiver",
          rules=("A4",)),
    State("archived", T("已归档", "Archived"), final=True, rules=("A4",)),
    State("withdrawn", T("已撤回", "Withdrawn"), final=True, rules=("A5",)),
)

ANSWERING = ("received", "processing", "review", "consent")
WITHDRAWABLE = ANSWERING + ("clarifying", "consulting")

# -- outcomes (A7) -----------------------------------------------------------------------------

OUTCOMES = {
    "published": T("已经公开（告知获取途径）", "Already published (where)"),
    "disclosed": T("予以公开", "Disclosed in full"),
    "partial": T("部分公开", "Disclosed in part"),
    "withheld": T("不予公开", "Not disclosed"),
    "not_held": T("经检索没有所申请的信息", "Not held after search"),
    "not_ours": T("不属于本组织职责范围", "Not this organisation's"),
    "repeated": T("重复申请", "Repeated application"),
    "not_request": T("不属于党务公开申请（转有关渠道）", "Not a disclosure request (routed)"),
}

#: The fields each outcome needs (A7), beyond the outcome itself.
OUTCOME_FIELDS = {
    "published": ("where",),
    "disclosed": ("content",),
    "partial": ("content", "withheld", "reason"),
    "withheld": ("reason",),
    "not_held": ("searched",),
    "not_ours": ("responsible_org",),
    "repeated": ("earlier_code",),
    "not_request": ("routed_to",),
}

WITHHOLDING = frozenset({"partial", "withheld"})

#: A3, A7: why something is withheld, for the annual report's sub-rows (G14), after the
#: national format's reasons as they apply to Party affairs (G2)
WITHHELD_BECAUSE = {
    "secret": T("属于党和国家秘密", "A Party or state secret"),
    "forbidden": T("其他法规禁止公开", "Forbidden by other rules"),
    "stability": T("危及安全和社会稳定", "Endangers security or stability"),
    "third_party": T("保护第三方合法权益（个人隐私等）", "Protects a third party (privacy)"),
    "internal": T("属于内部事务信息", "Internal affairs"),
    "process": T("属于过程性信息", "Information still in process"),
    "other": T("其他理由", "Other reasons"),
}

DELIVERY = {
    "electronic": T("电子邮件或在线获取", "Electronic"),
    "paper": T("纸质邮寄", "Paper by post"),
    "onsite": T("现场查阅", "Viewing on site"),
}

# -- pure rule functions -----------------------------------------------------------------------


def contact_required(payload) -> dict[str, T]:
    """A1: an applicant must be reachable — a phone number or an e-mail address."""
    if payload.get("phone") or payload.get("email"):
        return {}
    need = T("电话和电子邮箱至少填写一项", "Give a phone number or an e-mail address")
    return {"phone": need, "email": need}


def outcome_has_its_fields(payload) -> dict[str, T]:
    """A7: each outcome carries the content it needs (e.g. what was withheld and why)."""
    missing = [name for name in OUTCOME_FIELDS.get(payload.get("outcome"), ())
               if not payload.get(name)]
    need = T("该答复类型必须填写此项", "This outcome needs this field")
    return {name: need for name in missing}


def record_receipt(ctx: Ctx) -> dict:
    """A5: the day of receipt (in China) starts the count; day 1 is the next working day."""
    return {"tracking_code": ctx.payload["_code"], "received_on": ctx.today.isoformat(),
            "clock_start": ctx.today.isoformat(),
            **overdue.fields(ctx.settings, ctx.settings["deadline_days"])}


def clarification_still_possible(ctx: Ctx) -> T | None:
    """A5: one 补正 notice, saying everything missing at once, within 7 working days."""
    if ctx.data.get("clarification"):
        return T("补正通知只能发出一次", "Clarification may be asked only once")
    if ctx.data.get("clarify_window_closed"):
        return T("已超过收到申请后 7 个工作日，不能再要求补正",
                 "More than 7 working days since receipt: too late to ask for clarification")
    return None


def record_clarification_request(ctx: Ctx) -> dict:
    return {"clarification": {"missing": ctx.payload["missing"], "asked_on": ctx.today.isoformat()}}


def deadline_restarts_after_clarification(ctx: Ctx) -> dict:
    """A5: the 20 working days count again from the day the clarified application arrives."""
    answered = dict(ctx.data["clarification"]) | {"answer": ctx.payload["supplement"],
                                                  "answered_on": ctx.today.isoformat()}
    return {"clarification": answered, "clock_start": ctx.today.isoformat()}


def close_clarify_window(ctx: Ctx) -> dict:
    return {"clarify_window_closed": True}


def withdraw_unclarified(ctx: Ctx) -> dict:
    """A5: no clarification by the date set means the application is withdrawn."""
    return withdrawn(ctx, "system", "逾期未补正，视为撤回申请")


def record_withdrawal(ctx: Ctx) -> dict:
    return withdrawn(ctx, "applicant", ctx.payload.get("reason", ""))


def record_consultation(ctx: Ctx) -> dict:
    """A8: the pause is on the record; the engine stops the deadline's clock."""
    entry = {"party": ctx.payload["party"], "kind": ctx.payload["kind"],
             "from": ctx.today.isoformat()}
    return {"consultations": [*ctx.data.get("consultations", []), entry]}


def record_consultation_reply(ctx: Ctx) -> dict:
    done = [*ctx.data["consultations"]]
    done[-1] = done[-1] | {"to": ctx.today.isoformat(), "reply": ctx.payload["reply"]}
    return {"consultations": done}


def one_extension_only(ctx: Ctx) -> T | None:
    """A5: one extension only."""
    if ctx.data.get("extension"):
        return T("只能延期一次", "Only one extension is allowed")
    return None


def extension_within_limit(ctx: Ctx) -> T | None:
    """A5: at most 20 working days (configurable)."""
    limit = ctx.settings["extension_max_days"]
    if ctx.payload["days"] > limit:
        return T(f"延期不能超过 {limit} 个工作日", f"At most {limit} working days")
    return None


def record_extension_request(ctx: Ctx) -> dict:
    return {"extension": {"days": ctx.payload["days"], "reason": ctx.payload["reason"],
                          "requested_by": ctx.actor, "status": "requested"}}


def extension_requested(ctx: Ctx) -> T | None:
    ext = ctx.data.get("extension") or {}
    if ext.get("status") != "requested":
        return T("没有待批准的延期申请", "No extension is waiting for approval")
    return None


def approve_extension(ctx: Ctx) -> dict:
    """A5: approved by the responsible person; the applicant is told why (tracking page)."""
    ext = ctx.data["extension"]
    return {"extension": ext | {"status": "approved", "approved_by": ctx.actor,
                                "on": ctx.today.isoformat()},
            "extension_days": ext["days"], "long_n": ctx.data["long_n"] + ext["days"]}


def refuse_extension(ctx: Ctx) -> dict:
    return {"extension": ctx.data["extension"] | {"status": "refused",
                                                  "refused_because": ctx.payload["reason"]}}


def record_answer(ctx: Ctx) -> dict:
    """A7: the draft stays inside until it is approved (the applicant sees ``answer`` only)."""
    draft = {k: v for k, v in ctx.payload.items() if v not in (None, "")}
    return {"draft": draft | {"drafted_by": ctx.actor, "drafted_on": ctx.today.isoformat()}}


def refusal_needs_upper_consent(ctx: Ctx) -> bool:
    """A3 (002): withholding anything needs the upper level's consent, where required."""
    withholds = ctx.data["draft"]["outcome"] in WITHHOLDING
    return withholds and ctx.settings["upper_consent"] and bool(ctx.data.get("_parent"))


def answer_goes_out_directly(ctx: Ctx) -> bool:
    """A3, A7: an answer that needs no consent goes out at once, with its written notice."""
    return not refusal_needs_upper_consent(ctx)


def issue_notice(ctx: Ctx) -> dict:
    """A7: the written notice (告知书) gets its reference number and date when answered."""
    serial = ctx.data["tracking_code"].rsplit("-", 1)[-1]
    number = f"〔{ctx.today.year}〕依申请告字第 {serial} 号"
    return {"notice": {"number": number, "date": ctx.today.isoformat()},
            "answer": ctx.data["draft"], "answered_on": ctx.today.isoformat()}


def record_review(ctx: Ctx) -> dict:
    return {"reviewed_by": ctx.actor}


def record_consent(ctx: Ctx) -> dict:
    return {"consent": {"by": ctx.actor, "on": ctx.today.isoformat(),
                        "note": ctx.payload.get("note", "")}}


def record_delivery(ctx: Ctx) -> dict:
    return {"delivered": {"how": ctx.payload["how"], "on": ctx.today.isoformat()}}


# -- triggers ----------------------------------------------------------------------------------

OWN_ANSWER = T("不能审核自己起草的答复", "You may not review an answer you drafted")

#: the applicant's papers (identity, a power of attorney): personal data, every officer's
#: download of them is an event
SUPPORTING = Field("documents", "file", T("证明材料", "Supporting documents"), required=False,
                   max=5, personal=True,
                   help=T("如身份证明、授权委托书；PDF、图片或 Office 文件",
                          "Proof of identity, a power of attorney: PDF, image or Office file"))

APPLY = Schema((
    Field("name", "str", T("申请人姓名或名称", "Applicant name"), max_length=100),
    Field("phone", "phone", T("联系电话", "Phone"), required=False,
          help=T("电话和电子邮箱至少填写一项", "A phone number or an e-mail address")),
    replace(EMAIL, help=T("电话和电子邮箱至少填写一项", "A phone number or an e-mail address")),
    Field("address", "str", T("通信地址", "Postal address"), required=False, max_length=300),
    Field("description", "text", T("所需信息的内容描述", "Information sought"),
          max_length=4000),
    Field("purpose", "text", T("用途", "Purpose"), required=False, max_length=1000),
    Field("delivery", "choice", T("获取方式", "Delivery"), choices=DELIVERY),
    Field("member", "bool", T("申请人是中共党员", "The applicant is a Party member"),
          required=False),
    SUPPORTING,
), extra=True, checks=(contact_required,))

ANSWER = Schema((
    Field("outcome", "choice", T("答复类型", "Outcome"), choices=OUTCOMES),
    Field("where", "text", T("已公开的获取途径", "Where it was published"), required=False),
    Field("content", "text", T("公开的内容或提供方式", "What is disclosed and how"),
          required=False, max_length=8000),
    Field("withheld", "text", T("不予公开的部分", "What is withheld"), required=False),
    Field("reason", "text", T("不予公开的理由和依据", "Why it is withheld"), required=False),
    Field("withheld_because", "choice", T("不予公开的理由类别", "Kind of reason"),
          choices=WITHHELD_BECAUSE, required=False,
          help=T("用于年度报告统计", "Counted in the annual report")),
    Field("searched", "text", T("检索情况", "How it was searched"), required=False),
    Field("responsible_org", "str", T("负责该信息的组织", "Responsible organisation"),
          required=False),
    Field("earlier_code", "str", T("此前申请的编号", "Earlier application"), required=False),
    Field("routed_to", "str", T("转交的渠道", "Routed to"), required=False),
    Field("note", "text", T("其他说明", "Further notes"), required=False),
    Field("released", "file", T("提供的信息（文件）", "The information provided (files)"),
          required=False, max=10),
), checks=(outcome_has_its_fields,))

FILING = Schema((Field("how", "choice", T("送达方式", "Delivered by"), choices=DELIVERY),
                 *OUTSIDE_AUTHORITY))


TRIGGERS = (
    Trigger("register", ("received",), "processing", OFFICERS, T("登记受理", "Register"),
            NOTE, rules=("A1", "G15")),
    Trigger("request_clarification", ("received", "processing"), "clarifying", OFFICERS,
            T("发出补正通知", "Ask for clarification"),
            Schema((Field("missing", "text", T("需要补正的全部内容（一次性告知）",
                                               "Everything that is missing, at once")),)),
            available=(clarification_still_possible,), effects=(record_clarification_request,),
            rules=("A5",), public=True),
    Trigger("clarify", ("clarifying",), "processing", {"applicant"},
            T("提交补正", "Send the clarification"),
            Schema((Field("supplement", "text", T("补正内容", "Clarification"),
                          max_length=4000), SUPPORTING)),
            effects=(deadline_restarts_after_clarification,), rules=("A5",), public=True),
    Trigger("clarify_lapsed", ("clarifying",), "withdrawn", {"system"},
            T("逾期未补正，视为撤回", "Not clarified in time: withdrawn"),
            effects=(withdraw_unclarified,), rules=("A5",), public=True),
    Trigger("close_clarify_window", ANSWERING + ("consulting",), None, {"system"},
            T("补正期限届满", "Clarification window closed"), effects=(close_clarify_window,),
            append_only=True, rules=("A5",)),
    Trigger("withdraw", WITHDRAWABLE, "withdrawn", {"applicant"}, T("撤回申请", "Withdraw"),
            Schema((Field("reason", "text", T("撤回原因", "Reason"), required=False),)),
            effects=(record_withdrawal,), rules=("A1",), public=True),
    Trigger("consult", ("processing",), "consulting", {"handler"},
            T("征求第三方或共有组织意见", "Consult a third party or co-owner"),
            Schema((Field("party", "str", T("征求意见的对象", "Consulted party")),
                    Field("kind", "choice", T("类型", "Kind"), choices={
                        "third_party": T("利益相关的第三方", "Third party"),
                        "co_owner": T("共同拥有信息的组织", "Co-owning organisation")}))),
            effects=(record_consultation,), rules=("A8",), public=True),
    Trigger("consulted", ("consulting",), "processing", {"handler"},
            T("收到意见，恢复计时", "Reply received: resume"),
            Schema((Field("reply", "text", T("意见摘要", "Reply")),)),
            effects=(record_consultation_reply,), rules=("A8",), public=True),
    Trigger("request_extension", ("processing",), None, {"handler"},
            T("申请延期", "Ask for an extension"),
            Schema((Field("days", "int", T("延期工作日数", "Working days"), min=1),
                    Field("reason", "text", T("延期理由（将告知申请人）",
                                              "Reason (the applicant is told)")))),
            available=(one_extension_only,), guards=(extension_within_limit,),
            effects=(record_extension_request,), rules=("A5",)),
    Trigger("approve_extension", ("processing",), None, {"reviewer"},
            T("批准延期", "Approve the extension"), available=(extension_requested,),
            effects=(approve_extension,), rules=("A5",), public=True),
    Trigger("refuse_extension", ("processing",), None, {"reviewer"},
            T("不批准延期", "Refuse the extension"), REASON,
            available=(extension_requested,), effects=(refuse_extension,), rules=("A5",)),
    Trigger("draft_answer", ("processing",), "review", {"handler"},
            T("起草答复", "Draft the answer"), ANSWER, effects=(record_answer,),
            rules=("A2", "A3", "A7", "G3")),
    Trigger("approve", ("review",), "consent", {"reviewer"}, T("审核通过", "Approve"), NOTE,
            available=(reviewer_is_not_the_drafter(OWN_ANSWER),), effects=(record_review,),
            routes=(Route(answer_goes_out_directly, "answered", (issue_notice,)),),
            rules=("A3", "A7", "G3")),
    Trigger("return_draft", ("review",), "processing", {"reviewer"},
            T("退回修改", "Send back"), REASON, effects=(record_return,), rules=("G3",)),
    Trigger("consent", ("consent",), "answered", {"upper:reviewer"},
            T("同意不予公开（部分公开）", "Consent to withholding"), NOTE,
            effects=(record_consent, issue_notice), rules=("A3",), public=True),
    Trigger("refuse_consent", ("consent",), "processing", {"upper:reviewer"},
            T("不同意，退回重办", "Refuse and send back"), REASON, effects=(record_return,),
            rules=("A3",)),
    Trigger("file", ("answered",), "archived", OFFICERS, T("送达并报上级备案", "Deliver and file"),
            FILING, guards=(outside_authority_named,), effects=(record_delivery, record_filing),
            routes=((has_upper_level, "filed"),), rules=("A4",), public=True),
    Trigger("receive_filing", ("filed",), "archived", {"upper:upper_receiver"},
            T("备案已收悉，归档", "Filing received: archive"), NOTE,
            effects=(record_filing_received,), rules=("A4",)),
    *overdue.triggers(ANSWERING + ("consulting",)),
)

# -- timers -----------------------------------------------------------------------------------

TIMERS = (
    *overdue.timers(ANSWERING, WorkingDays(20, setting="deadline_days",
                                           start_field="clock_start"),
                    pauses=("consulting",), extend_on={"approve_extension": "extension_days"}),
    Timer("clarify_window", ANSWERING + ("consulting",), "close_clarify_window",
          WorkingDays(7, setting="clarify_window_days", start_field="received_on"),
          T("补正通知期限", "Clarification window")),
    Timer("clarify_answer", "clarifying", "clarify_lapsed",
          WorkingDays(15, setting="clarify_answer_days"),
          T("补正答复期限", "Clarification due"), sets_due=True),
)

# -- statistics (G14) -------------------------------------------------------------------------

ENDINGS = {"applicant": T("申请人撤回", "Withdrawn by the applicant"),
           "lapsed": T("逾期未补正，视为撤回", "Not clarified in time")}


def marks(events: list, data, days_between) -> list[Mark]:
    """G14: an application's facts. Received on the day of its first event (the columns by
    applicant kind); answered on the day the answer went out (A7's outcome, and for a
    withholding the kind of reason) after this many working days: counted from the day of
    receipt, or from the day the clarification arrived (A5), less the working days spent
    consulting (A8), on time or in which overdue tier (A9); the 补正 requests, consultations
    with the working days they paused, extensions; withdrawn; closed (answered or
    withdrawn), which with received gives the cases carried over."""
    who = stats.applicant_kind(events[0]["payload"])
    clock = stats.day(events[0])
    found = [Mark("received", clock, who=who)]
    paused, consulting, draft, late = 0, None, {}, []
    for ev in events[1:]:
        today, trigger = stats.day(ev), ev["trigger"]
        if trigger == "request_clarification":
            found.append(Mark("clarifications", today, who=who))
        elif trigger == "clarify":
            clock, paused = today, 0
        elif trigger == "consult":
            consulting = today
            found.append(Mark("consultations", today, who=who))
        elif trigger == "consulted" and consulting is not None:
            pause = days_between(consulting, today)
            paused, consulting = paused + pause, None
            found.append(Mark("pause_days", today, pause, who=who))
        elif trigger == "approve_extension":
            found.append(Mark("extensions", today, who=who))
        elif trigger == "draft_answer":
            draft = ev["payload"]
        elif trigger in ("overdue", "long_overdue") and not stats.entered(ev, "answered"):
            late.append(ev)
            found.append(Mark("went_overdue", today, part=trigger, who=who))
        if stats.entered(ev, "answered"):
            outcome = draft.get("outcome", "")
            found += [Mark("answered", today, part=outcome, who=who),
                      Mark("answer_days", today, max(0, days_between(clock, today) - paused),
                           who=who),
                      Mark("timeliness", today, part=stats.tier(late), who=who),
                      Mark("closed", today, who=who)]
            if outcome == "withheld":
                found.append(Mark("withheld_because", today, who=who,
                                  part=draft.get("withheld_because") or "other"))
        elif stats.entered(ev, "withdrawn"):
            ending = "lapsed" if trigger == "clarify_lapsed" else "applicant"
            found += [Mark("withdrawn", today, part=ending, who=who),
                      Mark("closed", today, who=who)]
    return found


def _sub(label: T, *counts: tuple[str, str]) -> ReportRow:
    return ReportRow(label, counts, level=1)


#: G14: the annual report's table of applications, after the national format for
#: information-disclosure annual reports (2021), its rows as our outcomes (A7) fill them
REPORT = (
    ReportRow(T("一、本年新收申请数量", "1. Applications received this year"),
              (("received", ""),)),
    ReportRow(T("二、上年结转申请数量", "2. Carried over from last year"), carried="over"),
    ReportRow(T("三、本年度办理结果：（一）予以公开", "3. Results: (1) disclosed"),
              (("answered", "disclosed"), ("answered", "published"))),
    ReportRow(T("（二）部分公开", "(2) Disclosed in part"), (("answered", "partial"),)),
    ReportRow(T("（三）不予公开", "(3) Not disclosed"), (("answered", "withheld"),)),
    *(_sub(T(f"{i}. {label.zh}", f"{i}. {label.en}"), ("withheld_because", name))
      for i, (name, label) in enumerate(WITHHELD_BECAUSE.items(), 1)),
    ReportRow(T("（四）无法提供", "(4) Cannot be provided"),
              (("answered", "not_held"), ("answered", "not_ours"))),
    _sub(T("1. 本组织不掌握相关信息", "1. Not held"), ("answered", "not_held")),
    _sub(T("2. 不属于本组织职责范围", "2. Not this organisation's"), ("answered", "not_ours")),
    ReportRow(T("（五）不予处理", "(5) Not handled"),
              (("answered", "repeated"), ("answered", "not_request"))),
    _sub(T("1. 重复申请", "1. Repeated application"), ("answered", "repeated")),
    _sub(T("2. 不属于党务公开申请（信访举报投诉等）", "2. Not a disclosure request"),
         ("answered", "not_request")),
    ReportRow(T("（六）其他处理", "(6) Otherwise closed"),
              (("withdrawn", "lapsed"), ("withdrawn", "applicant"))),
    _sub(T("1. 申请人逾期未补正", "1. Not clarified in time"), ("withdrawn", "lapsed")),
    _sub(T("2. 申请人撤回申请", "2. Withdrawn by the applicant"), ("withdrawn", "applicant")),
    ReportRow(T("（七）总计", "(7) Total"), (("answered", ""), ("withdrawn", ""))),
    ReportRow(T("四、结转下年度继续办理", "4. Carried over to next year"), carried="forward"),
)


STATISTICS = Statistics(figures=(
    Figure("received", T("收到申请", "Applications received")),
    Figure("answered", T("已答复（按答复类型）", "Answered, by outcome (A7)"),
           part_labels=OUTCOMES),
    Figure("withheld_because", T("不予公开的理由", "Why not disclosed"),
           part_labels=WITHHELD_BECAUSE),
    Figure("withdrawn", T("撤回", "Withdrawn"), part_labels=ENDINGS),
    stats.days_figure("answer_days", T("答复用时（工作日）", "Working days to answer")),
    stats.timeliness_figure("timeliness", T("答复时效", "Timeliness of the answers (A9)")),
    Figure("went_overdue", T("进入逾期", "Cases that went overdue"),
           part_labels={"overdue": stats.TIMELINESS["overdue"],
                        "long_overdue": stats.TIMELINESS["long_overdue"]}),
    Figure("extensions", T("延期", "Extensions")),
    Figure("clarifications", T("补正通知", "Clarification requests (补正)")),
    Figure("consultations", T("征求第三方意见", "Consultations (A8)")),
    Figure("pause_days", T("征求意见暂停的工作日", "Working days paused for consultations")),
    Figure("closed", T("办结（答复或撤回）", "Closed (answered or withdrawn)")),
), marks=marks, open_close=("received", "closed"), report=REPORT,
    who_labels=stats.APPLICANT_KINDS)


APPLICATION = Process(
    kind="application", version=1, label=T("依申请公开", "Disclosure on application"),
    states=STATES, initial="received", triggers=TRIGGERS, timers=TIMERS,
    start_roles=frozenset({"public"}), start_schema=APPLY, start_effects=(record_receipt,),
    settings=SETTINGS, code_prefix="YS", title_field="description", public_name="applications",
    rules=("A1", "A2", "A3", "A4", "A5", "A7", "A8", "A9", "G3", "G6", "G15"),
    demo=demo.APPLICATION, statistics=STATISTICS,
    public_data=ANSWERED_RECORDS | {
        "clarification": T("补正", "Clarification"), "extension": T("延期", "Extension"),
        "consultations": T("征求意见（不计入期限）", "Consultations (not counted)"),
        "notice": T("告知书", "Written notice"),
    },
    labels=RECORD_LABELS | {
        "asked_on": T("通知日期", "Asked on"), "answered_on": T("答复日期", "Answered on"),
        "answer": T("补正内容", "Clarification"), "status": T("状态", "Status"),
        "requested": T("已申请", "Requested"), "approved": T("已批准", "Approved"),
        "refused": T("未批准", "Refused"), "refused_because": T("未批准理由", "Why refused"),
        "from": T("开始", "From"), "to": T("结束", "To"),
        "number": T("文号", "Number"), "date": T("日期", "Date"),
        "applicant": T("申请人", "Applicant"),
    },
    documents=(Document("notice", T("答复告知书", "Written notice of the answer"),
                        "application_notice", ("answered", "filed", "archived"), public=True),),
    # recorded before routes and the shared rules (issue 13), which changed nothing it does
    earlier_fingerprints=("a0fb4c4c7c62fccb5421bf04cc0ca8c44ab86c8911106954a4b128512a4b19f5",
                          # before the optional attachment fields (documents, released)
                          "ea9a4277b7c5cf42bc5a626eb59035523ba840ac2cbe445e69d4f949cbd2f03a",
                          # before the optional kind of a withholding's reason (G14)
                          "c8ed5575f96d8ef97550b4fb96b7e54e3f987372c90f2bd426f0eb4a11a5a624"),
)
