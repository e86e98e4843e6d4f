"""党内事务问询 — inquiries about Party affairs (A6, with A9, G1, G2, G3, G6, G12, G15).

Party members — and the public where the organisation allows it (000 小板桥: 党员和群众
… 可以及时问询) — inquire about a decision, its execution or a matter of public concern
(000 问询制度 第二条, 第五条), alone or jointly (第四条 联名). The office registers the
inquiry; every listed co-signer confirms, and when some have not by the deadline the
submitter decides to go on without them or to withdraw. The organisation answers on the
spot (当场: the secretary, at a meeting or visit, on the record) or by a deadline (限期),
the written answer proposed by the handler and reviewed by the responsible person (G3).
The answer goes to every signer, each delivery on the record, and is published on the
board in its scope (G1, G12) unless it is secret, in which case the reason is kept and
the withholding filed with the upper level (G2, G6).

    trigger         from → to                                  who                 rules
    register        received → cosigning | answering           handler, office     A6 G15
    decline         received → declined                        handler, office     A6
    cosign          cosigning, deciding → (stays) | answering  a listed member     A6
    record_cosign   cosigning, deciding → (stays) | answering  handler, office     A6
    cosign_lapsed   cosigning → deciding                       system (timer)      A6
    proceed         deciding → answering                       the submitter       A6
    decide_lapsed   deciding → withdrawn                       system (timer)      A6
    withdraw        any state before the answer → withdrawn    the submitter       A6
    answer_on_spot  received, answering → answered             secretary           A6 G1 G2 G15
    draft_answer    answering → review                         handler, office     A6 G1 G2 G3
    approve         review → answered                          reviewer, not drafter  G2 G3
    return_draft    review → answering                         reviewer            G3
    deliver         answered → (stays) | to_publish | withheld handler, office     A6 G2
    publish         to_publish → published                     handler, office     A6 G1 G12
    file            withheld → closed                          handler, office     G2 G6
    overdue, long_overdue  answering, review (markers only)    system (timer)      A6 A9

Why a refused public inquiry is still a case: the engine's ``start`` checks only roles
and the payload, not the organisation's settings, so the public can always submit. Where
``public_allowed`` is off, the first step refuses it instead: ``register`` and the
on-the-spot answer are unavailable with the reason, and ``decline`` closes it with the
standard reason, which the inquirer reads on the tracking page. The submission is on the
record either way (AU1).
"""

from __future__ import annotations

import datetime as dt

from machines import demo, overdue
from machines import statistics as stats
from machines.common import (
    ANSWERED_RECORDS,
    NOTE,
    OFFICERS,
    OPTIONAL_REASON,
    REASON,
    RECORD_LABELS,
    RELEASE,
    record_return,
    reviewer_is_not_the_drafter,
    withdrawn,
)
from machines.filing import FILING, outside_authority_named, record_filing
from workflow.core.declare import (
    Ctx,
    Field,
    Figure,
    Mark,
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
    "public_allowed": True,   # A6 (default, as in 000 小板桥): the public may inquire too
    "answer_days": 15,        # A6 (default): 000 第二条 says 限期 and gives no number
    "cosign_days": 5,         # A6 (default): working days for co-signers to confirm
    "decide_days": 5,         # A6 (default): then for the submitter to go on or withdraw
    **overdue.SETTINGS,       # as A9: long overdue 20 working days past due, reminders
}

# -- states ------------------------------------------------------------------------------------

STATES = (
    State("received", T("已提交，待登记", "Submitted, to be registered"), role="office",
          rules=("A6", "G15")),
    State("cosigning", T("待联名人确认", "Awaiting the co-signers"), role=None, rules=("A6",)),
    State("deciding", T("联名确认期满，待问询人决定", "Co-signing closed: submitter decides"),
          role=None, rules=("A6",)),
    State("answering", T("办理中，待答复", "Being answered"), role="handler",
          rules=("A6", "A9")),
    State("review", T("答复待负责人审核", "Answer awaiting review"), role="reviewer",
          rules=("G2", "G3")),
    State("answered", T("已答复，待送达问询人", "Answered, to be delivered"), role="office",
          rules=("A6",)),
    State("to_publish", T("已送达，待公开", "Delivered, to be published"), role="office",
          rules=("A6", "G1", "G12")),
    State("withheld", T("涉密不公开，待报上级备案", "Secret: to be filed with the upper level"),
          role="office", rules=("G2", "G6")),
    State("published", T("已公开", "Published"), final=True, rules=("A6", "G12")),
    State("closed", T("已办结（不公开，已备案）", "Closed (not published, filed)"), final=True,
          rules=("G6",)),
    State("declined", T("不予受理", "Declined"), final=True, rules=("A6",)),
    State("withdrawn", T("已撤回", "Withdrawn"), final=True, rules=("A6",)),
)

BEFORE_ANSWER = ("received", "cosigning", "deciding", "answering", "review")
ANSWERING = ("answering", "review")
COSIGNING = ("cosigning", "deciding")

# -- choices -----------------------------------------------------------------------------------

SUBJECTS = {
    "decision": T("党组织的决议、决定", "A decision of the Party organisation"),
    "execution": T("决议、决定的执行情况", "How a decision is carried out"),
    "concern": T("党员群众关心的热点难点问题", "A matter of public concern"),
}

SCOPES = {  # G1; the same keys as routine disclosure
    "internal": T("党内公开（仅党员）", "Within the Party (members only)"),
    "public": T("党外公开（社会）", "Outside the Party (everyone)"),
}

OCCASIONS = {  # 000 小板桥: 问询热线电话、意见箱、公开栏、座谈会
    "meeting": T("会议（党员大会、座谈会等）", "A meeting"),
    "visit": T("走访", "A visit"),
    "reception": T("接待日、服务窗口", "Reception or service desk"),
    "hotline": T("问询热线", "The inquiry hotline"),
}

DELIVERY = {
    "on_spot": T("当场答复时已告知", "Told on the spot"),
    "in_person": T("当面送达", "In person"),
    "post": T("邮寄", "By post"),
    "electronic": T("电子邮件、短信或在线查询", "Electronic or online"),
}

STANDARD_PUBLIC_REFUSAL = "本组织不受理群众问询，请通过党员或其他渠道反映（A6）"

# -- pure rule functions -----------------------------------------------------------------------


def cosigners_are_distinct(payload) -> dict[str, T]:
    """A6 (第四条 联名): each co-signer is listed once, and not the submitter again."""
    listed = payload.get("cosigners", [])
    if len(set(listed)) != len(listed) or payload.get("name") in listed:
        return {"cosigners": T("联名人不能重复，也不能是问询人本人",
                               "List each co-signer once, and not the submitter")}
    return {}


def answer_secret_has_a_reason(payload) -> dict[str, T]:
    """G2: an answer kept from publication says why (党内秘密、个人隐私…)."""
    if payload.get("secret") and not payload.get("secret_reason"):
        return {"secret_reason": T("不公开的答复必须说明理由", "Say why it is not published")}
    return {}


def published_answer_has_a_scope(payload) -> dict[str, T]:
    """G1: an answer to be published names its scope, 党内 or 党外."""
    if not payload.get("secret") and not payload.get("scope"):
        return {"scope": T("请选择公开范围", "Choose the scope of publication")}
    return {}


def record_submission(ctx: Ctx) -> dict:
    """A6: who inquires — a member by account, the public by tracking code — and with whom.

    A member who lists their own account among the co-signers is the submitter, not a
    co-signer (the schema cannot see who submits).
    """
    own = ctx.actor.removeprefix("user:")
    return {"tracking_code": ctx.payload["_code"], "submitted_by": ctx.actor,
            "from_public": ctx.actor.startswith("public:"),
            "cosigners": [c for c in ctx.payload.get("cosigners", []) if c != own],
            "confirmations": [], "received_on": ctx.today.isoformat(),
            **overdue.fields(ctx.settings, ctx.settings["answer_days"])}


def public_inquiry_allowed(ctx: Ctx) -> T | None:
    """A6: the public inquires only where the organisation allows it (default: yes)."""
    if ctx.data.get("from_public") and not ctx.settings["public_allowed"]:
        return T("本组织不受理群众问询，只能不予受理",
                 "This organisation takes no inquiries from the public: decline it")
    return None


def decline_has_a_reason(ctx: Ctx) -> T | None:
    """A6 (第五条): an inquiry outside the permitted matters is declined with a reason; a
    public inquiry where the public may not inquire has the standard one."""
    if ctx.payload.get("reason") or public_inquiry_allowed(ctx) is not None:
        return None
    return T("请说明不予受理的理由", "Say why it is declined")


def record_decline(ctx: Ctx) -> dict:
    reason = ctx.payload.get("reason") or STANDARD_PUBLIC_REFUSAL
    return {"declined": {"reason": reason, "on": ctx.today.isoformat()}}


def pending_cosigners(data) -> list[str]:
    """A6: the listed co-signers who have not yet confirmed."""
    done = {c["signer"] for c in data.get("confirmations", [])}
    return [c for c in data.get("cosigners", []) if c not in done]


def has_cosigners(ctx: Ctx) -> bool:
    """A6 (第四条 联名): a joint inquiry waits for its co-signers to confirm."""
    return bool(ctx.data.get("cosigners"))


def is_a_single_inquiry(ctx: Ctx) -> T | None:
    """A6: a joint inquiry goes on only once its co-signers have confirmed."""
    if pending_cosigners(ctx.data):
        return T("联名人尚未全部确认", "Not every co-signer has confirmed")
    return None


def _own_name(ctx: Ctx) -> str:
    return ctx.actor.removeprefix("user:")


def actor_is_a_pending_cosigner(ctx: Ctx) -> T | None:
    """A6: each listed co-signer confirms for themself, once."""
    if _own_name(ctx) in pending_cosigners(ctx.data):
        return None
    return T("您不是待确认的联名人", "You are not a co-signer awaiting confirmation")


def signer_is_a_pending_cosigner(ctx: Ctx) -> T | None:
    """A6: a paper signature is recorded for a listed co-signer who has not confirmed."""
    if ctx.payload.get("signer") in pending_cosigners(ctx.data):
        return None
    waiting = "、".join(pending_cosigners(ctx.data)) or "无"
    return T(f"不是待确认的联名人（待确认：{waiting}）",
             f"Not a co-signer awaiting confirmation (waiting: {waiting})")


def own_confirmation_completes(ctx: Ctx) -> bool:
    """A6: the inquiry goes on once every listed co-signer has confirmed."""
    return pending_cosigners(ctx.data) == [_own_name(ctx)]


def paper_confirmation_completes(ctx: Ctx) -> bool:
    """A6: the inquiry goes on once every listed co-signer has confirmed."""
    return pending_cosigners(ctx.data) == [ctx.payload.get("signer", "")]


def record_own_confirmation(ctx: Ctx) -> dict:
    entry = {"signer": _own_name(ctx), "how": "online", "on": ctx.today.isoformat()}
    return {"confirmations": [*ctx.data.get("confirmations", []), entry]}


def record_paper_confirmation(ctx: Ctx) -> dict:
    entry = {"signer": ctx.payload["signer"], "how": "paper", "on": ctx.today.isoformat(),
             "recorded_by": ctx.actor}
    if ctx.payload.get("note"):
        entry["note"] = ctx.payload["note"]
    return {"confirmations": [*ctx.data.get("confirmations", []), entry]}


def record_cosign_lapse(ctx: Ctx) -> dict:
    """A6: the co-signing deadline passed; who had not confirmed is on the record."""
    return {"cosign_lapsed": {"on": ctx.today.isoformat(),
                              "unconfirmed": pending_cosigners(ctx.data)}}


def is_the_submitter(ctx: Ctx) -> T | None:
    """A6: only the submitter — a member by account, the public by tracking code — decides
    to go on without co-signers or to withdraw."""
    if ctx.actor in (ctx.data.get("submitted_by"), f"applicant:{ctx.data.get('tracking_code')}"):
        return None
    return T("只有问询人本人可以这样做", "Only the submitter may do this")


def proceed_without_the_unconfirmed(ctx: Ctx) -> dict:
    """A6: after the deadline the submitter goes on; the unconfirmed are no longer signers."""
    dropped = pending_cosigners(ctx.data)
    kept = [c for c in ctx.data["cosigners"] if c not in dropped]
    return {"cosigners": kept, "dropped_cosigners": dropped}


def withdraw_undecided(ctx: Ctx) -> dict:
    """A6 (default, as A5): no decision by the date set means the inquiry is withdrawn."""
    return withdrawn(ctx, "system", "联名确认期满后逾期未决定，视为撤回")


def record_withdrawal(ctx: Ctx) -> dict:
    return withdrawn(ctx, "submitter", ctx.payload.get("reason", ""))


def _answer_fields(ctx: Ctx) -> dict:
    answer = {k: v for k, v in ctx.payload.items() if v not in (None, "")}
    if answer.get("secret"):
        answer.pop("scope", None)
    else:
        answer.pop("secret_reason", None)
    return answer


def record_draft(ctx: Ctx) -> dict:
    """G3: 谁承办、谁提出 — the handling officer proposes the written answer. It stays a
    draft, out of the inquirer's sight, until the responsible person approves it."""
    return {"draft": _answer_fields(ctx) | {"kind": "written", "drafted_by": ctx.actor,
                                            "drafted_on": ctx.today.isoformat()}}


def record_review(ctx: Ctx) -> dict:
    """G3, G2: reviewed — secrecy, necessity, accuracy — the draft becomes the answer,
    given on this day."""
    answer = ctx.data["draft"] | {"reviewed_by": ctx.actor,
                                  "reviewed_on": ctx.today.isoformat()}
    return {"answer": answer, "draft": None, "answered_on": ctx.today.isoformat()}


def on_spot_answer_not_in_the_future(ctx: Ctx) -> T | None:
    """A6: an on-the-spot answer is recorded after it was given, never before."""
    if dt.date.fromisoformat(ctx.payload["answered_on"]) > ctx.today:
        return T("答复日期不能晚于今天", "The answer cannot be dated after today")
    return None


def record_on_spot_answer(ctx: Ctx) -> dict:
    """A6 (第二条 当场): who answered, where, on what occasion and what was said; given by
    the secretary, the first responsible (G15), so no separate review (G3)."""
    answer = _answer_fields(ctx) | {"kind": "on_spot", "recorded_by": ctx.actor,
                                    "recorded_on": ctx.today.isoformat()}
    return {"answer": answer, "answered_on": ctx.payload["answered_on"]}


def signers(data) -> list[str]:
    """A6: the submitter and every co-signer still on the inquiry."""
    return [data["name"], *data.get("cosigners", [])]


def awaiting_delivery(data) -> list[str]:
    """A6: the signers the answer has not yet reached."""
    done = {d["signer"] for d in data.get("deliveries", [])}
    return [s for s in signers(data) if s not in done]


def signer_awaits_delivery(ctx: Ctx) -> T | None:
    """A6: the answer goes to every signer, once each."""
    if ctx.payload.get("signer") in awaiting_delivery(ctx.data):
        return None
    waiting = "、".join(awaiting_delivery(ctx.data))
    return T(f"不是待送达的问询人（待送达：{waiting}）",
             f"Not a signer awaiting the answer (waiting: {waiting})")


def others_await_delivery(ctx: Ctx) -> bool:
    """A6: the case waits until the answer has reached every signer."""
    return len(awaiting_delivery(ctx.data)) > 1


def answer_is_secret(ctx: Ctx) -> bool:
    """G2: a secret answer is not published (A6: every other one is)."""
    return bool(ctx.data["answer"].get("secret"))


def record_delivery(ctx: Ctx) -> dict:
    entry = {"signer": ctx.payload["signer"], "how": ctx.payload["how"],
             "on": ctx.today.isoformat()}
    return {"deliveries": [*ctx.data.get("deliveries", []), entry]}


def record_publication(ctx: Ctx) -> dict:
    """A6, G1, G12: published on this day, in the answer's scope, on the named channels.

    A 党外 publication reaches members the same day, so it never precedes the 党内 one (G1).
    """
    publication = {"on": ctx.today.isoformat(), "scope": ctx.data["answer"]["scope"],
                   "channels": ctx.payload["channels"]}
    return {"publication": publication, "published_on": ctx.today.isoformat()}


def filing_has_the_reason(ctx: Ctx) -> dict:
    """G6: the withholding is filed with the reason it is not published."""
    return {"filing": ctx.data["filing"] | {"reason": ctx.data["answer"]["secret_reason"]}}


# -- triggers ----------------------------------------------------------------------------------

SUBMITTER = frozenset({"member", "applicant"})

INQUIRE = Schema((
    Field("name", "str", T("问询人姓名", "Name of the submitter"), max_length=100),
    Field("contact", "str", T("联系方式（电话或地址）", "Contact (phone or address)"),
          required=False, max_length=300),
    Field("title", "str", T("问询事项", "What the inquiry is about"), max_length=200),
    Field("subject", "choice", T("问询范围", "Kind of matter"), choices=SUBJECTS),
    Field("question", "text", T("问询的内容和理由", "The question and its grounds"),
          max_length=4000),
    Field("cosigners", "list", T("联名人", "Co-signers"), required=False,
          help=T("党员填写用户名，各自在线确认；无账号的由办公室登记书面签名",
                 "Members by user name, each confirming online; others sign on paper")),
), checks=(cosigners_are_distinct,))

ANSWER_FIELDS = (
    Field("content", "text", T("答复内容", "The answer"), max_length=8000),
    Field("secret", "bool", T("涉密或涉及隐私，不予公开", "Secret or private: not published")),
    Field("secret_reason", "text", T("不公开的理由", "Why it is not published"),
          required=False),
    Field("scope", "choice", T("公开范围", "Scope of publication"), required=False,
          choices=SCOPES),
)
ANSWER_CHECKS = (answer_secret_has_a_reason, published_answer_has_a_scope)

DRAFT = Schema(ANSWER_FIELDS, checks=ANSWER_CHECKS)

ON_SPOT = Schema((
    Field("answerer", "str", T("答复人及职务", "Who answered (name and post)"), max_length=200),
    Field("occasion", "choice", T("答复场合", "Occasion"), choices=OCCASIONS),
    Field("place", "str", T("答复地点", "Where"), max_length=200),
    Field("answered_on", "date", T("答复日期", "Answered on")),
    *ANSWER_FIELDS,
), checks=ANSWER_CHECKS)

PAPER = Schema((
    Field("signer", "str", T("联名人", "Co-signer"), max_length=100),
    Field("note", "text", T("签名方式说明", "How they signed"), required=False),
))

DELIVER = Schema((
    Field("signer", "str", T("问询人", "Signer"), max_length=100),
    Field("how", "choice", T("送达方式", "Delivered by"), choices=DELIVERY),
))

OWN_ANSWER = T("不能审核自己起草的答复", "You may not review an answer you drafted")
CONFIRM = T("确认联名", "Confirm as co-signer")
PAPER_CONFIRM = T("登记联名人书面签名", "Record a co-signer's paper signature")
DELIVER_LABEL = T("送达问询人", "Deliver to a signer")

TRIGGERS = (
    # registration: public where allowed (A6), within the permitted matters (第五条)
    Trigger("register", ("received",), "answering", OFFICERS,
            T("登记受理", "Register"), NOTE, available=(public_inquiry_allowed,),
            routes=((has_cosigners, "cosigning"),), rules=("A6", "G15"), public=True),
    Trigger("decline", ("received",), "declined", OFFICERS, T("不予受理", "Decline"),
            OPTIONAL_REASON, guards=(decline_has_a_reason,), effects=(record_decline,),
            rules=("A6",), public=True),
    # co-signers (第四条 联名)
    Trigger("cosign", COSIGNING, None, {"member"}, CONFIRM,
            available=(actor_is_a_pending_cosigner,), effects=(record_own_confirmation,),
            routes=((own_confirmation_completes, "answering"),), rules=("A6",), public=True),
    Trigger("record_cosign", COSIGNING, None, OFFICERS, PAPER_CONFIRM, PAPER,
            guards=(signer_is_a_pending_cosigner,), effects=(record_paper_confirmation,),
            routes=((paper_confirmation_completes, "answering"),), rules=("A6",), public=True),
    Trigger("cosign_lapsed", ("cosigning",), "deciding", {"system"},
            T("联名确认期满", "Co-signing deadline passed"), effects=(record_cosign_lapse,),
            rules=("A6",), public=True),
    Trigger("proceed", ("deciding",), "answering", SUBMITTER,
            T("不等未确认的联名人，继续问询", "Go on without the unconfirmed co-signers"),
            available=(is_the_submitter,), effects=(proceed_without_the_unconfirmed,),
            rules=("A6",), public=True),
    Trigger("decide_lapsed", ("deciding",), "withdrawn", {"system"},
            T("逾期未决定，视为撤回", "No decision in time: withdrawn"),
            effects=(withdraw_undecided,), rules=("A6",), public=True),
    Trigger("withdraw", BEFORE_ANSWER, "withdrawn", SUBMITTER, T("撤回问询", "Withdraw"),
            OPTIONAL_REASON, available=(is_the_submitter,), effects=(record_withdrawal,),
            rules=("A6",), public=True),
    # the answer: on the spot (当场) or written by the deadline (限期), reviewed (G3)
    Trigger("answer_on_spot", ("received", "answering"), "answered", {"secretary"},
            T("登记当场答复", "Record an on-the-spot answer"), ON_SPOT,
            available=(public_inquiry_allowed, is_a_single_inquiry),
            guards=(on_spot_answer_not_in_the_future,), effects=(record_on_spot_answer,),
            rules=("A6", "G1", "G2", "G15"), public=True),
    Trigger("draft_answer", ("answering",), "review", OFFICERS,
            T("起草书面答复", "Draft the written answer"), DRAFT, effects=(record_draft,),
            rules=("A6", "G1", "G2", "G3")),
    Trigger("approve", ("review",), "answered", {"reviewer"}, T("审核通过", "Approve"), NOTE,
            available=(reviewer_is_not_the_drafter(OWN_ANSWER),), effects=(record_review,),
            rules=("G2", "G3"), public=True),
    Trigger("return_draft", ("review",), "answering", {"reviewer"},
            T("退回修改", "Send back"), REASON, effects=(record_return,), rules=("G3",)),
    # to every signer, then published unless secret (A6, G1, G2, G6, G12)
    Trigger("deliver", ("answered",), "to_publish", OFFICERS, DELIVER_LABEL, DELIVER,
            guards=(signer_awaits_delivery,), effects=(record_delivery,),
            routes=((others_await_delivery, None), (answer_is_secret, "withheld")),
            rules=("A6", "G2"), public=True),
    Trigger("publish", ("to_publish",), "published", OFFICERS,
            T("公开问询及答复", "Publish the inquiry and its answer"), RELEASE,
            effects=(record_publication,), rules=("A6", "G1", "G12"), public=True),
    Trigger("file", ("withheld",), "closed", OFFICERS,
            T("不公开情况报上级备案", "File the withholding with the upper level"), FILING,
            guards=(outside_authority_named,), effects=(record_filing, filing_has_the_reason),
            rules=("G2", "G6"), public=True),
    # the deadline (限期), as A9
    *overdue.triggers(ANSWERING, rules=("A6", "A9")),
)

# -- timers -----------------------------------------------------------------------------------

TIMERS = (
    Timer("cosign_window", "cosigning", "cosign_lapsed", WorkingDays(5, setting="cosign_days"),
          T("联名确认期限", "Co-signing deadline"), sets_due=True),
    Timer("decide_window", "deciding", "decide_lapsed", WorkingDays(5, setting="decide_days"),
          T("问询人决定期限", "Submitter's decision due"), sets_due=True),
    # counted from the day the inquiry stands complete: registered, every signer confirmed
    *overdue.timers(ANSWERING, WorkingDays(15, setting="answer_days")),
)


# -- statistics (G14) -------------------------------------------------------------------------

ANSWERS = {"on_spot": T("当场答复", "On the spot"), "written": T("书面答复", "Written")}


def marks(events: list, data, days_between) -> list[Mark]:
    """G14: an inquiry's facts: received; answered (on the spot or in writing) after this
    many working days from receipt, on time or in which overdue tier (A9); published, or
    kept from publication and filed (G2, G6); declined; withdrawn."""
    received = stats.day(events[0])
    found, late = [Mark("received", received)], []
    for ev in events[1:]:
        today = stats.day(ev)
        if ev["trigger"] in ("overdue", "long_overdue"):
            late.append(ev)
        if stats.entered(ev, "answered"):
            how = "on_spot" if ev["trigger"] == "answer_on_spot" else "written"
            found += [Mark("answered", today, part=how),
                      Mark("answer_days", today, days_between(received, today)),
                      Mark("timeliness", today, part=stats.tier(late))]
        for state in ("published", "withheld", "declined", "withdrawn"):
            if stats.entered(ev, state):
                found.append(Mark(state, today))
    return found


STATISTICS = Statistics(figures=(
    Figure("received", T("收到问询", "Inquiries received")),
    Figure("answered", T("已答复", "Answered"), part_labels=ANSWERS),
    stats.days_figure("answer_days", T("答复用时（工作日）", "Working days to answer")),
    stats.timeliness_figure("timeliness", T("答复时效", "Timeliness of the answers (A9)")),
    Figure("published", T("问询及答复已公开", "Published with the answer")),
    Figure("withheld", T("涉密不公开", "Kept from publication (G2)")),
    Figure("declined", T("不予受理", "Declined")),
    Figure("withdrawn", T("撤回", "Withdrawn")),
), marks=marks)

INQUIRY = Process(
    kind="inquiry", version=1, label=T("党内事务问询", "Inquiry into Party affairs"),
    states=STATES, initial="received", triggers=TRIGGERS, timers=TIMERS,
    start_roles=frozenset({"member", "public"}), start_schema=INQUIRE,
    start_effects=(record_submission,), settings=SETTINGS, code_prefix="WX",
    title_field="title", public_name="inquiries",
    rules=("A6", "A9", "G1", "G2", "G3", "G6", "G12", "G15"), demo=demo.INQUIRY,
    statistics=STATISTICS,
    public_data=ANSWERED_RECORDS | {
        "declined": T("不予受理", "Declined"),
        "cosign_lapsed": T("联名确认期满", "Co-signing closed"),
        "dropped_cosigners": T("未确认而不再列名的联名人", "Co-signers dropped unconfirmed"),
        "publication": T("公开", "Publication"),
    },
    labels=RECORD_LABELS | {
        "kind": T("答复方式", "How answered"), "written": T("书面答复", "Written answer"),
        "on_spot": T("当场答复", "On the spot"), "unconfirmed": T("未确认的联名人", "Unconfirmed"),
        "reviewed_on": T("审核日期", "Reviewed on"),
        "recorded_on": T("登记日期", "Recorded on"), "submitter": T("问询人", "Submitter"),
        "signer": T("问询人", "Signer"), "how": T("方式", "How"),
        "online": T("在线确认", "Online"), "paper": T("书面签名", "On paper"),
    },
    # recorded before routes and the shared rules (issue 13), which changed nothing it does
    earlier_fingerprints=("adb6a992e1b05ffac64a26c1517b3bf5318f5ec5baa5dff7b09f561abbca2b6d",),
)
