"""The statistics desk (G14): ``/stats`` for an organisation's responsible people, officers
and auditors (its subtree), the annual reports (年度报告), and the public's published ones.

Routes only translate (STYLE.md): the figures are ``workflow.views.statistics``; this module
lays them out as tables, the one shape the page, the CSV and the XLSX exports all take
(so an export is the page's table, cell for cell), and draws the charts
(``web.charts``). The API: ``GET /api/v1/stats`` and ``GET /api/v1/stats/annual/{org}/{year}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, g, redirect, render_template, request, url_for
from flask_login import login_required

from web import charts
from web.auth import current_account
from web.documents import FontMissing
from web.exports import XLSX, csv_bytes, xlsx_bytes
from web.i18n import pick
from web.openapi import OPTIONAL, STR, Param, Routes, register
from web.views import FONT_MISSING, engine
from workflow.base.errors import Forbidden, Invalid, NotFound
from workflow.base.text import Text
from workflow.base.timeutil import local_date, utcnow
from workflow.views import statistics as stats
from workflow.views.audit import Scope

bp = Blueprint("stats", __name__, url_prefix="/stats")
public_bp = Blueprint("annual_public", __name__)

UNKNOWN_TABLE = Text("没有这张表", "No such table")
FORMATS = ("csv", "xlsx")


# -- tables: what the page shows and the exports hand out ---------------------------------------


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def figures_table(found: stats.Figures) -> Table:
    """Every figure of every process: total, then its parts that counted anything,
    indented; days figures with their median, 90th percentile and longest."""
    headers = (pick(Text("流程", "Process")), pick(Text("指标", "Figure")),
               pick(Text("数量", "Count")), pick(Text("中位数（工作日）", "Median (working days)")),
               pick(Text("第 90 百分位", "90th percentile")), pick(Text("最长", "Longest")))
    rows: list[tuple[Any, ...]] = []
    for proc in found.processes:
        label = pick(proc.label)
        if proc.carried_over is not None:
            rows.append((label, pick(Text("期初结转（未办结）", "Carried over (open at start)")),
                         proc.carried_over, "", "", ""))
        for fig in proc.figures:
            if fig.unit == "days":
                rows.append((label, pick(fig.label), fig.total, _blank(fig.median),
                             _blank(fig.p90), _blank(fig.longest)))
                continue
            rows.append((label, pick(fig.label), fig.total, "", "", ""))
            rows.extend((label, "　" + pick(p.label), p.total, "", "", "")
                        for p in fig.parts if p.total)
        if proc.carried_forward is not None:
            rows.append((label, pick(Text("期末结转（未办结）", "Carried forward (open at end)")),
                         proc.carried_forward, "", "", ""))
    return Table("figures", pick(Text("统计数据", "Figures")), headers, tuple(rows))


def _blank(value: int | None) -> Any:
    return "" if value is None else value


SORTS = ("rate", "org", "cases", "on_time", "overdue", "long_overdue")


def children_table(found: Sequence[stats.Figures], sort: str = "rate") -> Table:
    """The child organisations side by side (each with its subtree): the worst on-time
    rate first unless another column is chosen."""
    headers = (pick(Text("组织", "Organisation")), pick(Text("事项", "Cases")),
               pick(Text("按期", "On time")), pick(Text("逾期", "Overdue")),
               pick(Text("严重逾期", "Long overdue")), pick(Text("按期率", "On-time rate")))
    keyed = []
    for f in found:
        cases = sum(proc.figures[0].total for proc in f.processes)
        on_time, late, long_late = f.timeliness
        keyed.append(((f.org_name, cases, on_time, late, long_late, _rate(f.on_time_rate)),
                      {"rate": (f.on_time_rate is None, f.on_time_rate or 0), "org": f.org,
                       "cases": -cases, "on_time": -on_time, "overdue": -late,
                       "long_overdue": -long_late}[sort]))
    if sort != "rate":
        keyed.sort(key=lambda item: item[1])
    return Table("children", pick(Text("下级组织对比", "Child organisations")), headers,
                 tuple(row for row, _k in keyed))


def monthly_table(months: Sequence[stats.Month]) -> Table:
    """Month by month: each process's first figure (received, opened…) and how many of its
    timed cases came on time and late."""
    kinds = months[0].processes if months else ()
    headers = [pick(Text("月份", "Month"))]
    for proc in kinds:
        headers += [f"{pick(proc.label)}·{pick(proc.figures[0].label)}"]
        if any(f.name == "timeliness" for f in proc.figures):
            headers += [f"{pick(proc.label)}·{pick(Text('按期', 'On time'))}",
                        f"{pick(proc.label)}·{pick(Text('逾期', 'Late'))}"]
    rows = []
    for month in months:
        row: list[Any] = [month.month]
        for proc in month.processes:
            row.append(proc.figures[0].total)
            timed = [f for f in proc.figures if f.name == "timeliness"]
            if timed:
                row += [timed[0].part("on_time"), timed[0].total - timed[0].part("on_time")]
        rows.append(tuple(row))
    return Table("monthly", pick(Text("月度趋势", "By month")), tuple(headers), tuple(rows))


def days_table(found: stats.Figures) -> Table:
    """The distribution of working days to answer, per process that times its answers."""
    headers = (pick(Text("流程", "Process")), pick(Text("工作日", "Working days")),
               pick(Text("件数", "Cases")))
    rows = tuple((pick(proc.label), days, n) for proc in found.processes
                 for fig in proc.figures if fig.unit == "days" for days, n in fig.histogram)
    return Table("days", pick(Text("答复用时分布", "Working days to answer")), headers, rows)


def annual_table(report: stats.Annual, table: stats.ReportTable) -> Table:
    headers = (pick(Text("项目", "Item")), *(pick(label) for _w, label in table.columns),
               pick(Text("总计", "Total")))
    rows = tuple((("　" * line.level) + pick(line.label),
                  *(line.cells[w] for w, _l in table.columns), line.total)
                 for line in table.lines)
    return Table(f"annual-{table.kind}", f"{report.org_name} {report.year} {pick(table.label)}",
                 headers, rows)


def export(table: Table, fmt: str, filename: str) -> Response:
    if fmt == "csv":
        return Response(csv_bytes(table.headers, table.rows), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={filename}.csv"})
    return Response(xlsx_bytes(table.title[:31], table.headers, table.rows), mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename={filename}.xlsx"})


# -- parsing ------------------------------------------------------------------------------------


def scope() -> Scope:
    return stats.scope_of(engine().db, stats.account_paths(current_account().roles))


def _period(args) -> tuple[dt.date, dt.date]:
    today = local_date(utcnow())
    start = args.get("from") or dt.date(today.year, 1, 1).isoformat()
    end = args.get("to") or today.isoformat()
    return stats.period(start, end)


def _process(args) -> str | None:
    return (args.get("process") or "").strip() or None


def _org(args, found: Scope) -> str:
    return (args.get("org") or "").strip() or found.roots[0]


# -- pages --------------------------------------------------------------------------------------


def _desk(args) -> dict[str, Any]:
    """Everything the page shows, as tables (and charts of two of them)."""
    found = scope()
    org, (start, end), kind = _org(args, found), _period(args), _process(args)
    sort = args.get("sort") if args.get("sort") in SORTS else "rate"
    own = args.get("own") == "1"
    as_of = (args.get("as_of") or "").strip()
    if as_of:
        at = stats.end_of_day(as_of)
        figures = stats.as_of(engine(), found, org, start, end, at, kind, subtree=not own)
        kids = stats.children_as_of(engine(), found, org, start, end, at, kind)
        months = stats.monthly_as_of(engine(), found, org, start, end, at, kind)
    else:
        figures = stats.figures(engine(), found, org, start, end, kind, subtree=not own)
        kids = stats.children(engine(), found, org, start, end, kind)
        months = stats.monthly(engine(), found, org, start, end, kind)
    tables = {t.name: t for t in (figures_table(figures), children_table(kids, sort),
                                   monthly_table(months), days_table(figures))}
    query = {"org": org, "from": start.isoformat(), "to": end.isoformat(),
             "process": kind or "", "sort": sort, "own": "1" if own else "", "as_of": as_of}
    return {"scope": found, "org": org, "start": start, "end": end, "kind": kind, "as_of": as_of,
            "sort": sort, "figures": figures, "tables": tables, "months": months,
            "query": query}


SORT_LABELS = {"rate": Text("按期率（最差在前）", "On-time rate (worst first)"),
               "cases": Text("事项", "Cases"), "overdue": Text("逾期", "Overdue"),
               "long_overdue": Text("严重逾期", "Long overdue"),
               "org": Text("组织", "Organisation")}


def _sort_links(query: dict[str, str]) -> list[tuple[str, str, str]]:
    return [(key, pick(label), url_for("stats.index", **(query | {"sort": key})))
            for key, label in SORT_LABELS.items()]


def _charts(desk: dict[str, Any]) -> dict[str, str]:
    """The monthly trend (each process's first figure) and the days-to-answer bars."""
    months = [m.month for m in desk["months"]]
    series = []
    for i, proc in enumerate(desk["figures"].processes):
        values = [m.processes[i].figures[0].total for m in desk["months"]]
        series.append((f"{pick(proc.label)}·{pick(proc.figures[0].label)}", values))
    drawn = {"trend": charts.trend(months, series, pick(Text("月度趋势", "By month")))}
    histogram: dict[int, int] = {}
    for _label, days, n in desk["tables"]["days"].rows:
        histogram[days] = histogram.get(days, 0) + n
    if histogram:
        drawn["days"] = charts.distribution(
            sorted(histogram.items()), pick(Text("答复用时分布", "Working days to answer")),
            pick(Text("工作日", "Working days")), pick(Text("件数", "Cases")))
    return drawn


@bp.get("/")
@login_required
def index():
    try:
        desk = _desk(request.args)
    except Invalid as exc:
        found = scope()
        return render_template("stats.html", error=pick(next(iter(exc.fields.values()))),
                               scope=found, tables={},
                               org=_org(request.args, found), args=request.args,
                               processes=_processes(), orgs=_org_choices(found)), 422
    return render_template("stats.html", error=None, args=request.args, charts=_charts(desk),
                           processes=_processes(), orgs=_org_choices(desk["scope"]),
                           sort_links=_sort_links(desk["query"]), **desk)


def _processes() -> list[tuple[str, Text]]:
    registry = engine().registry
    return [(k, registry.get(k).process.label) for k in stats.kinds_of(registry, None)]


def _org_choices(found: Scope) -> list[tuple[str, str, int]]:
    return [(code, name, found.depth(code)) for code, (name, _p) in
            sorted(found.orgs.items(), key=lambda item: item[1][1])]


@bp.get("/export/<name>.<fmt>")
@login_required
def export_table(name: str, fmt: str):
    desk = _desk(request.args)
    if fmt not in FORMATS or name not in desk["tables"]:
        raise NotFound(UNKNOWN_TABLE)
    filename = f"gongkai-stats-{name}-{desk['org']}-{desk['start']}-{desk['end']}"
    return export(desk["tables"][name], fmt, filename)


@bp.route("/annual/<org>/<year>", methods=["GET", "POST"])
@login_required
def annual_page(org: str, year: str):
    found, number = scope(), stats.year_of(year)
    actor = current_account().actor
    if request.method == "POST":
        if request.form.get("action") == "publish":
            stats.publish(engine(), found, org, number, actor, utcnow())
        else:
            stats.save_texts(engine(), found, org, number, actor,
                             request.form.get("problems", ""),
                             request.form.get("improvements", ""), utcnow())
        return redirect(url_for("stats.annual_page", org=org, year=number))
    report = stats.annual(engine(), found, org, number)
    return render_template("stats_annual.html", report=report, public=False,
                           tables=[annual_table(report, t) for t in report.tables],
                           may_edit=stats.may_edit(engine(), actor, found.orgs[org][1]))


@bp.get("/annual/<org>/<year>.<fmt>")
@login_required
def annual_export(org: str, year: str, fmt: str):
    return _annual_file(stats.annual(engine(), scope(), org, stats.year_of(year)), fmt)


def _annual_file(report: stats.Annual, fmt: str) -> Response:
    if fmt == "pdf":
        from web.annual_pdf import render

        try:
            pdf = render(report, [annual_table(report, t) for t in report.tables])
        except FontMissing:
            return render_template("error.html", status=503, title=pick(FONT_MISSING),
                                   message=pick(FONT_MISSING)), 503
        return Response(pdf, mimetype="application/pdf", headers={
                            "Content-Disposition":
                            f"attachment; filename=annual-{report.org}-{report.year}.pdf"})
    if fmt != "xlsx" or not report.tables:
        raise NotFound(UNKNOWN_TABLE)
    return export(annual_table(report, report.tables[0]), "xlsx",
                  f"annual-{report.org}-{report.year}")


# -- the public board's annual reports ----------------------------------------------------------


@public_bp.get("/board/annual")
def public_list():
    return render_template("board_annual.html", reports=stats.published(engine().db))


@public_bp.get("/board/annual/<org>/<year>")
def public_report(org: str, year: str):
    report = stats.annual(engine(), None, org, stats.year_of(year))
    return render_template("stats_annual.html", report=report, public=True, may_edit=False,
                           tables=[annual_table(report, t) for t in report.tables])


@public_bp.get("/board/annual/<org>/<year>.<fmt>")
def public_report_file(org: str, year: str, fmt: str):
    return _annual_file(stats.annual(engine(), None, org, stats.year_of(year)), fmt)


# -- the JSON API -------------------------------------------------------------------------------


def figure_json(fig: stats.FigureValue, language: str) -> dict[str, Any]:
    found: dict[str, Any] = {"name": fig.name, "label": fig.label.get(language),
                             "unit": fig.unit, "total": fig.total, "by_kind": dict(fig.by_who),
                             "parts": [{"name": p.name, "label": p.label.get(language),
                                        "total": p.total, "by_kind": dict(p.by_who)}
                                       for p in fig.parts]}
    if fig.unit == "days":
        found |= {"median": fig.median, "p90": fig.p90, "longest": fig.longest,
                  "histogram": [[d, n] for d, n in fig.histogram]}
    return found


def figures_json(found: stats.Figures, language: str) -> dict[str, Any]:
    on_time, late, long_late = found.timeliness
    return {
        "org": found.org, "org_name": found.org_name, "from": found.start.isoformat(),
        "to": found.end.isoformat(), "subtree": found.subtree,
        "on_time": on_time, "overdue": late, "long_overdue": long_late,
        "on_time_rate": found.on_time_rate,
        "processes": [{"kind": p.kind, "label": p.label.get(language),
                       "carried_over": p.carried_over, "carried_forward": p.carried_forward,
                       "figures": [figure_json(f, language) for f in p.figures]}
                      for p in found.processes],
    }


def annual_json(report: stats.Annual, language: str) -> dict[str, Any]:
    return {
        "org": report.org, "org_name": report.org_name, "year": report.year,
        "problems": report.problems, "improvements": report.improvements,
        "published_at": report.published_at.isoformat() if report.published_at else None,
        "tables": [{"kind": t.kind, "label": t.label.get(language),
                    "columns": [{"kind": w, "label": label.get(language)}
                                for w, label in t.columns],
                    "rows": [{"label": line.label.get(language), "level": line.level,
                              "cells": dict(line.cells), "total": line.total}
                             for line in t.lines]} for t in report.tables],
    }


STATS_PARAMS = (
    Param("org", STR, Text("组织代码（含其下级）", "Organisation code (with its subtree)"),
          required=True),
    Param("from", {"type": "string", "format": "date"}, Text("起始日期", "First day"),
          required=True),
    Param("to", {"type": "string", "format": "date"}, Text("截止日期（含）", "Last day"),
          required=True),
    Param("process", STR, Text("流程（缺省为全部）", "Process kind (all if left out)")),
    Param("as_of", {"type": "string", "format": "date"},
          Text("截至日期：按事件日志重放到该日（北京时间）结束时的数据",
               "As of: the figures as they stood at the end of that day (China time), "
               "rebuilt by replaying the event log")),
)


def register_api(app: Flask) -> None:
    """``/api/v1/stats…``, documented in the API's OpenAPI document."""
    from web import api as api_module
    from web.openapi import STATS_SCHEMAS

    api = Blueprint("stats_api", __name__, url_prefix="/api/v1/stats")
    routes = Routes(api, api_module.token_required, {
        "org": (Text("组织代码", "Organisation code"), {}),
        "year": (Text("年份", "Year"), {"minimum": 2000, "maximum": 2099})}, STATS_SCHEMAS)

    @api.errorhandler(Forbidden)
    @api.errorhandler(NotFound)
    @api.errorhandler(Invalid)
    def _error(exc):
        return exc.as_json(api_module.lang()), exc.status

    def _scope() -> Scope:
        return stats.scope_of(engine().db, stats.account_paths(g.account.roles))

    @routes.route("", summary=Text("统计数据", "Statistics"), tag="stats",
                  description=Text("组织（含下级）在期间内各流程的统计数据（G14），按事件日志计算。",
                                   "An organisation's figures with its subtree for the period, "
                                   "per process (G14), computed from the event log."),
                  params=STATS_PARAMS, response="StatsFigures",
                  errors=("forbidden", "not_found", "invalid"))
    def figures():
        args = request.args
        if not (args.get("org") or "").strip():
            raise Invalid(fields={"org": Text("必须指定组织", "Name the organisation")})
        start, end = stats.period(args.get("from"), args.get("to"))
        if args.get("as_of") is not None:
            found = stats.as_of(engine(), _scope(), args["org"].strip(), start, end,
                                stats.end_of_day(args["as_of"]), _process(args))
        else:
            found = stats.figures(engine(), _scope(), args["org"].strip(), start, end,
                                  _process(args))
        return figures_json(found, api_module.lang())

    @routes.route("/annual/<org>/<int:year>", summary=Text("年度报告", "Annual report"),
                  tag="stats",
                  description=Text("组织的年度报告（依申请公开情况表，按申请人类别分列）及其文字部分。"
                                   "不带令牌时只给已发布的报告。",
                                   "An organisation's annual report: the applications table "
                                   "by kind of applicant, and its texts. Without a token, "
                                   "published reports only."),
                  response="StatsAnnual", auth=OPTIONAL,
                  errors=("unauthenticated", "forbidden", "not_found", "invalid"))
    @api_module.token_optional
    def annual(org: str, year: int):
        number = stats.year_of(year)
        found = None if g.account is None else _scope()
        return annual_json(stats.annual(engine(), found, org, number), api_module.lang())

    app.register_blueprint(api)
    register(app, routes)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["stats_paths"] = stats.account_paths
    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    register_api(app)
