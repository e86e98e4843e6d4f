"""A test-only process that exercises every engine feature (not a real disclosure process)."""

from __future__ import annotations

from workflow.core.declare import (
    AtField,
    Ctx,
    Field,
    Process,
    Schema,
    State,
    Text,
    Timer,
    Trigger,
    WorkingDays,
)

T = Text


def amount_within_limit(ctx: Ctx) -> Text | None:
    if ctx.payload["amount"] > ctx.settings["max_amount"]:
        return T("金额超过上限", "Amount above the limit")
    return None


def small(ctx: Ctx) -> bool:
    """A small amount is approved at once; a large one goes to the upper level for consent
    (a route, not a refusal)."""
    return ctx.data["amount"] < 1000


def not_own_submission(ctx: Ctx) -> Text | None:
    if ctx.data.get("submitted_by") == ctx.actor:
        return T("不能审核自己提交的事项", "You may not review your own submission")
    return None


def record_submission(ctx: Ctx) -> dict:
    return {"amount": ctx.payload["amount"], "submitted_by": ctx.actor,
            "submitted_on": ctx.today.isoformat()}


def add_comment(ctx: Ctx) -> dict:
    return {"comments": [*ctx.data.get("comments", []), ctx.payload["text"]]}


def extend_deadline(ctx: Ctx) -> dict:
    base = ctx.data.get("deadline_n") or ctx.settings["deadline_days"]
    return {"deadline_n": base + ctx.payload["days"], "extended": True}


def record_reason(ctx: Ctx) -> dict:
    return {"reason": ctx.payload["reason"]}


def not_extended(ctx: Ctx) -> Text | None:
    return T("只能延期一次", "Only one extension") if ctx.data.get("extended") else None


STATES = (
    State("draft", T("起草", "Draft"), role="handler"),
    State("review", T("审核", "Review"), role="reviewer"),
    State("upper", T("上级同意", "Upper consent"), role="upper:reviewer"),
    State("consulting", T("征求意见", "Consulting"), role="reviewer"),
    State("approved", T("已批准", "Approved"), final=True),
    State("rejected", T("已驳回", "Rejected"), final=True),
    State("expired", T("已过期", "Expired"), final=True),
)

TRIGGERS = (
    Trigger("submit", ("draft",), "review", {"handler"}, T("提交", "Submit"),
            Schema((Field("amount", "int", T("金额", "Amount"), min=0),
                    Field("documents", "file", T("材料", "Documents"), required=False, max=3))),
            guards=(amount_within_limit,), effects=(record_submission,)),
    Trigger("comment", ("*",), None, {"member", "handler", "reviewer", "public"},
            T("留言", "Comment"), Schema((
                Field("text", "text", T("内容", "Text")),
                Field("id_card", "file", T("身份证照片", "ID card photo"), required=False,
                      max=1, media_types=("jpeg", "png"), personal=True))),
            effects=(add_comment,), append_only=True),
    Trigger("approve", ("review",), "upper", {"reviewer"}, T("批准", "Approve"),
            available=(not_own_submission,), routes=((small, "approved"),)),
    Trigger("consent", ("upper",), "approved", {"upper:reviewer"}, T("同意", "Consent")),
    Trigger("reject", ("review", "upper"), "rejected", {"reviewer", "upper:reviewer"},
            T("驳回", "Reject"), Schema((Field("reason", "text", T("理由", "Reason")),)),
            effects=(record_reason,)),
    Trigger("extend", ("review",), None, {"reviewer"}, T("延期", "Extend"),
            Schema((Field("days", "int", T("天数", "Days"), min=1, max=20),)),
            available=(not_extended,), effects=(extend_deadline,)),
    Trigger("consult", ("review",), "consulting", {"reviewer"}, T("征求第三方意见", "Consult")),
    Trigger("resume", ("consulting",), "review", {"reviewer"}, T("恢复办理", "Resume")),
    Trigger("expire", ("review",), "expired", {"system"}, T("逾期", "Expire")),
    Trigger("notice_late", ("draft",), None, {"system"}, T("通知逾期", "Notice late"),
            append_only=True),
)

TIMERS = (
    Timer("deadline", "review", "expire",
          WorkingDays(10, setting="deadline_days", n_field="deadline_n",
                      start_field="submitted_on"),
          T("审核期限", "Review deadline"), reminders=(5, 1), reminder_setting="reminders",
          sets_due=True, restart_on=("extend",), pauses=("consulting",)),
    Timer("notice", "draft", "notice_late", AtField("meeting_at", days_before=10),
          T("会前通知期限", "Notice deadline")),
)

START = Schema((
    Field("title", "str", T("标题", "Title")),
    Field("meeting_at", "datetime", T("会议时间", "Meeting time"), required=False),
))

SETTINGS = {"deadline_days": 10, "max_amount": 5000, "reminders": [5, 1]}

SAMPLE = Process(
    kind="sample", version=1, label=T("样例审批", "Sample approval"), states=STATES,
    initial="draft", triggers=TRIGGERS, start_roles=frozenset({"handler"}),
    start_schema=START, timers=TIMERS, settings=SETTINGS, code_prefix="SP",
)


def definitions() -> list[Process]:
    return [SAMPLE]
