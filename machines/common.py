"""What the processes share, so that a new process takes it instead of copying it.

Who the officers are (G15); that the reviewer is not the drafter (G3); a draft sent back
and a withdrawal, on the record; that every opinion is answered before archiving (G8); the
channels a publication names (G12); the note and reason forms. Filing with the upper level
is :mod:`machines.filing`, the two overdue tiers :mod:`machines.overdue`, disclosure
periods :mod:`machines.periods`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflow.core.declare import Ctx, Field, Schema
from workflow.core.declare import Text as T

#: G15: the office does the daily work with the handling officer.
OFFICERS = frozenset({"handler", "office"})

REASON = Schema((Field("reason", "text", T("理由", "Reason")),))
OPTIONAL_REASON = Schema((Field("reason", "text", T("理由", "Reason"), required=False),))
NOTE = Schema((Field("note", "text", T("意见", "Note"), required=False),))


# -- G3: 谁承办、谁提出 -------------------------------------------------------------------------


def drafter(data: Mapping[str, Any]) -> str | None:
    """G3: who drafted what is under review: an item or entry records ``drafted_by``, an
    answer its ``draft``'s."""
    return (data.get("draft") or {}).get("drafted_by") or data.get("drafted_by")


def reviewer_is_not_the_drafter(refusal: T):
    """G3: the handling officer proposes; someone else, the responsible person, reviews.
    ``refusal`` names what was drafted (an item, an answer, an entry)."""

    def check(ctx: Ctx) -> T | None:
        return refusal if drafter(ctx.data) == ctx.actor else None

    check.__name__ = check.__qualname__ = "reviewer_is_not_the_drafter"
    check.__doc__ = reviewer_is_not_the_drafter.__doc__
    return check


def record_return(ctx: Ctx) -> dict:
    """G3: a draft sent back, with who sent it and why."""
    returns = [*ctx.data.get("returns", []), {"by": ctx.actor, "reason": ctx.payload["reason"],
                                              "on": ctx.today.isoformat()}]
    return {"returns": returns}


#: How pages name what these records hold (a process adds its own labels).
RECORD_LABELS = {
    "on": T("日期", "Date"), "by": T("经办", "By"), "reason": T("理由", "Reason"),
    "system": T("系统（逾期）", "System (lapsed)"), "drafted_on": T("起草日期", "Drafted on"),
}

#: what a requester (an applicant, an inquirer) sees of a case that answers them (A5, A6)
ANSWERED_RECORDS = {"answer": T("答复", "Answer"), "withdrawn": T("撤回", "Withdrawal")}


def withdrawn(ctx: Ctx, by: str, reason: str) -> dict:
    """A5, A6: a withdrawal on the record: by whom (``system`` when a deadline lapsed),
    why and when."""
    return {"withdrawn": {"by": by, "reason": reason, "on": ctx.today.isoformat()}}


# -- G8: opinions answered ------------------------------------------------------------------


def all_opinions_answered(ctx: Ctx) -> T | None:
    """G8: opinions are answered before the case is archived."""
    open_ones = [str(o["no"]) for o in ctx.data["opinions"] if not o.get("answer")]
    if open_ones:
        return T(f"还有意见未答复：第 {'、'.join(open_ones)} 条",
                 f"Opinions not yet answered: {', '.join(open_ones)}")
    return None


def still_unanswered(matching: list[dict]) -> T | None:
    """G8: the opinion an answer names (``matching``) exists and has no answer yet."""
    if not matching:
        return T("没有这条意见", "No such opinion")
    if matching[0].get("answer"):
        return T("这条意见已答复", "This opinion is answered already")
    return None


# -- G12: the channels ------------------------------------------------------------------------

#: G12: each publication names its channels; the labels are RULES.md's.
CHANNELS = {
    "board": T("公开栏", "Notice board"), "website": T("网站", "Website"),
    "meeting": T("会议", "Meeting"), "document": T("文件", "Document"),
    "screen": T("电子屏", "E-screen"), "account": T("公众号", "Public account"),
    "broadcast": T("广播", "Broadcast"),
}

#: an e-mail address someone without an account may give to be written to (A1's applicant,
#: O4's registrant); the door checks its form (type ``email``), notifications use it
EMAIL = Field("email", "email", T("电子邮箱", "E-mail"), required=False)

#: the API document lists the channels (its ``enum``); ``channels_known`` refuses others
CHANNELS_FIELD = Field("channels", "list", T("公开渠道（可多选）", "Channels"),
                       help=T("公开栏、网站、会议、文件、电子屏、公众号、广播",
                              "board, website, meeting, document, screen, account, broadcast"),
                       values=CHANNELS)


def channels_known(payload: Mapping[str, Any]) -> dict[str, T]:
    """G12: each publication names its channels, from the known list (``CHANNELS``, which
    ``CHANNELS_FIELD`` declares as its values for the API document)."""
    unknown = [c for c in payload.get("channels", []) if c not in CHANNELS]
    if unknown:
        allowed = "、".join(f"{k}（{v.zh}）" for k, v in CHANNELS.items())
        return {"channels": T(f"不认识的渠道：{'、'.join(unknown)}；可选：{allowed}",
                              f"Unknown channels: {', '.join(unknown)}")}
    return {}


RELEASE = Schema((CHANNELS_FIELD,), checks=(channels_known,))
