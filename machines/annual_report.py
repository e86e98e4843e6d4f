"""年度报告 — an organisation's annual report on its disclosure work (G14), as a case.

The report's tables are not kept here: they are the statistics desk's figures for the
year (``workflow.views.statistics.annual``), which no longer change once the year is
over. What the case keeps is what people write and do: the two texts the office edits
(存在的主要问题, 改进情况), each edit an event, and the publication, a board publication
(``Process.board``: G1 public, G10 one row of the ledger, G12 on the board), so auditors
replay and verify the report's history like every other publication's. The statistics
desk (``/stats/annual/<org>/<year>``) opens one case per organisation and year.
"""

from __future__ import annotations

from machines import demo
from workflow.core.declare import Ctx, Field, OnePer, Process, Schema, State, Trigger
from workflow.core.declare import Text as T

KIND = "annual_report"

#: G15: the office does the daily work, the secretary is first responsible; the parent
#: organisation's may write a lower one's report for it
EDITORS = frozenset({"office", "secretary", "upper:office", "upper:secretary"})

STATES = (
    State("draft", T("编写中", "Being written"), role="office", rules=("G14", "G15")),
    State("published", T("已发布", "Published"), final=True, rules=("G14", "G1", "G10", "G12")),
)

TEXTS = (
    Field("problems", "text", T("存在的主要问题", "Main problems"), required=False,
          max_length=20000),
    Field("improvements", "text", T("改进情况", "Improvements"), required=False,
          max_length=20000),
)
START = Schema((Field("year", "int", T("年度", "Year"), min=2000, max=2099), *TEXTS))
#: G14: an organisation has one report a year, whoever opens it (the statistics desk or the
#: generic case API)
ONE_A_YEAR = OnePer(("year",), T("该组织这一年度的年度报告已经存在",
                                 "This organisation's annual report for that year exists "
                                 "already"))


def title_of(year: int) -> str:
    return f"{year} 年度党务公开工作年度报告"


def record_report(ctx: Ctx) -> dict:
    """G14: the report of one year, its texts as first written."""
    year = int(ctx.payload["year"])
    return {"title": title_of(year), "year": year,
            "problems": ctx.payload.get("problems") or "",
            "improvements": ctx.payload.get("improvements") or "",
            "updated_by": ctx.actor, "updated_at": ctx.now.isoformat()}


def record_texts(ctx: Ctx) -> dict:
    """G14: the office rewrites the texts (each version stays in the event log)."""
    return {"problems": ctx.payload.get("problems") or "",
            "improvements": ctx.payload.get("improvements") or "",
            "updated_by": ctx.actor, "updated_at": ctx.now.isoformat()}


def year_is_over(ctx: Ctx) -> T | None:
    """G14: a report is published the year after: its figures would still change."""
    if ctx.data["year"] >= ctx.today.year:
        return T("年度尚未结束，年度报告只能在次年发布",
                 "The year is not over: its annual report is published the year after")
    return None


def record_publication(ctx: Ctx) -> dict:
    """G1, G10, G12: published on the board for everyone (the report holds no 党内 figure),
    one row of the ledger."""
    release = {"on": ctx.today.isoformat(), "at": ctx.now.isoformat(), "channels": ["board"]}
    content = "\n\n".join(f"{label}\n{ctx.data[name]}" for name, label in (
        ("problems", "存在的主要问题"), ("improvements", "改进情况")) if ctx.data[name])
    return {"publication": {"title": ctx.data["title"], "content": content,
                            "category": "other", "scope": "public", "time_class": "",
                            "period": str(ctx.data["year"]), "published_internal": release,
                            "published_public": release, "by": ctx.actor}}


TRIGGERS = (
    Trigger("edit", ("draft",), None, EDITORS, T("修改报告文字", "Edit the texts"),
            Schema(TEXTS), effects=(record_texts,), rules=("G14", "G15")),
    Trigger("publish", ("draft",), "published", EDITORS, T("发布年度报告", "Publish"),
            guards=(year_is_over,), effects=(record_publication,),
            rules=("G14", "G1", "G10", "G12"), public=True),
)

ANNUAL_REPORT = Process(
    kind=KIND, version=1, label=T("年度报告", "Annual report"), states=STATES,
    initial="draft", triggers=TRIGGERS, start_roles=EDITORS, start_schema=START,
    start_effects=(record_report,), one_per=ONE_A_YEAR, code_prefix="ND",
    rules=("G1", "G10", "G12", "G14", "G15"),
    board=("publication",), demo=demo.ANNUAL_REPORT,
    labels={"problems": T("存在的主要问题", "Main problems"),
            "improvements": T("改进情况", "Improvements"), "year": T("年度", "Year"),
            "publication": T("发布", "Publication")},
)
