"""G14: what the processes share to count their cases for the annual assessment.

Each process declares its figures and a pure ``marks(events, data, days_between)``
(``workflow.core.declare.Statistics``) beside its machine; these are the pieces they
share: the day of an event in China, the events a case went through, how late an answer
came (A9's tiers as the timers recorded them) and the kind of applicant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from workflow.core.declare import Figure
from workflow.core.declare import Text as T

LOCAL = ZoneInfo("Asia/Shanghai")

Event = Mapping[str, Any]

#: A9: how an answer or publication came, by the overdue tiers recorded before it
TIMELINESS = {
    "on_time": T("按期", "On time"),
    "overdue": T("逾期", "Overdue"),
    "long_overdue": T("严重逾期", "Long overdue"),
}

#: the columns of the national format's tables, adapted to Party affairs (G14)
APPLICANT_KINDS = {
    "party": T("党员", "Party member"),
    "public": T("群众", "Member of the public"),
    "org": T("组织", "Organisation"),
}

#: An applicant's name ending so is an organisation's (the form records only whether the
#: applicant is a Party member, not whether a person or an organisation applies).
ORGANISATION_ENDINGS = (
    "公司", "集团", "企业", "厂", "店", "社", "合作社", "委员会", "村委会", "居委会", "支部",
    "党委", "总支", "党组", "政府", "局", "厅", "办", "办公室", "中心", "站", "所", "院",
    "学校", "小学", "中学", "大学", "学院", "医院", "协会", "学会", "商会", "联合会", "基金会",
    "事务所", "银行", "报社", "电视台", "单位", "机构", "组织",
)


def day(ev: Event) -> dt.date:
    """The event's day in China (the day of receipt, of the answer)."""
    return dt.datetime.fromisoformat(ev["at"]).astimezone(LOCAL).date()


def applicant_kind(payload: Mapping[str, Any]) -> str:
    """The applicant's kind for the annual report's columns: a Party member by the form's
    own box (``member``), an organisation by the name's ending (公司, 委员会, 学校…), a
    member of the public otherwise."""
    if payload.get("member"):
        return "party"
    name = str(payload.get("name") or "").strip()
    return "org" if name.endswith(ORGANISATION_ENDINGS) else "public"


def tier(overdue_events: Sequence[Event]) -> str:
    """A9: the highest overdue tier the timers recorded, ``on_time`` for none."""
    triggers = {ev["trigger"] for ev in overdue_events}
    if "long_overdue" in triggers:
        return "long_overdue"
    return "overdue" if "overdue" in triggers else "on_time"


def entered(ev: Event, state: str) -> bool:
    """The event brought the case into ``state`` (it was not there before)."""
    return ev["to_state"] == state and ev["from_state"] != state


def timeliness_figure(name: str, label: T) -> Figure:
    return Figure(name, label, part_labels=TIMELINESS)


def days_figure(name: str, label: T) -> Figure:
    return Figure(name, label, unit="days")
