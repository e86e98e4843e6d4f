"""G14 over the web: the statistics desk's API and pages, its exports matching the page,
who sees what, and the public seeing published annual reports only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from html import unescape

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from machines import definitions
from tests.web.conftest import login, make_user, officer
from workflow.base.timeutil import end_of_local_day
from workflow.core.registry import Registry
from workflow.core.timers import run_due
from workflow.people.actors import PUBLIC, user
from workflow.people.orgs import add_org
from workflow.store.models import cases
from workflow.views import statistics as stats

APPLY = {"phone": "13800000001", "description": "党费收缴情况", "delivery": "electronic"}
PERIOD = {"from": "2026-09-01", "to": "2026-10-31"}


@pytest.fixture
def registry() -> Registry:
    return Registry(definitions())


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(dt.UTC)


@pytest.fixture
def villages(engine, tree, users):
    """Two villages under the town: V answers on time, W once late; a 党内 routine item
    at the town that must never reach the public."""
    with engine.db.write() as conn:
        add_org(conn, "W", "组织W", "T", "village")
    paths = dict(tree) | {"W": tree["T"] + f"{int(tree['V'].strip('/').split('/')[-1]) + 2}/"}
    for org, answered in (("V", "2026-09-23"), ("W", "2026-10-28")):
        case = engine.start("application", org, PUBLIC, APPLY | {"name": "张三"},
                            at("2026-09-21"))
        if org == "W":
            run_due(engine, end_of_local_day(dt.date(2026, 10, 26)))
            case = engine.get(case.id, officer(paths, org, "office"))
        for trigger, who, payload in (
                ("register", "office", {}),
                ("draft_answer", "handler", {"outcome": "disclosed", "content": "见附件"}),
                ("approve", "reviewer", {})):
            case = engine.fire(case.id, trigger, officer(paths, org, who), payload,
                               case.version, at(answered))
    return paths


def table_cells(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[unescape(c).strip(" \n\t") for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
            for r in rows]


def test_g14_api_figures_for_a_subtree(client, users, villages):
    got = client.get("/api/v1/stats", query_string={"org": "T", **PERIOD},
                     headers=users["handler"].headers)
    assert got.status_code == 200, got.json
    (app,) = [p for p in got.json["processes"] if p["kind"] == "application"]
    figures = {f["name"]: f for f in app["figures"]}
    assert figures["received"]["total"] == 2 and figures["answered"]["total"] == 2
    assert figures["answer_days"]["histogram"] == [[2, 1], [22, 1]]
    assert (got.json["on_time"], got.json["overdue"]) == (1, 1)
    one = client.get("/api/v1/stats", query_string={"org": "T", "process": "application",
                                                    **PERIOD}, headers=users["handler"].headers)
    assert [p["kind"] for p in one.json["processes"]] == ["application"]


def test_g14_api_figures_as_of_a_past_day_are_rebuilt_by_replay(client, users, engine,
                                                                 villages, tree):
    """AU2: ``as_of`` gives the figures as they stood at the end of that day: on
    1 October only V had been answered; W's late answer came on the 28th."""
    query = {"org": "T", **PERIOD, "process": "application"}
    then = client.get("/api/v1/stats", query_string=query | {"as_of": "2026-10-01"},
                      headers=users["handler"].headers)
    assert then.status_code == 200, then.json
    figures = {f["name"]: f for f in then.json["processes"][0]["figures"]}
    assert figures["answered"]["total"] == 1 and figures["received"]["total"] == 2
    assert (then.json["on_time"], then.json["overdue"]) == (1, 0)
    now = client.get("/api/v1/stats", query_string=query | {"as_of": "2026-12-06"},
                     headers=users["handler"].headers)
    assert now.json == client.get("/api/v1/stats", query_string=query,
                                  headers=users["handler"].headers).json


@pytest.mark.parametrize("query,status", [
    ({"org": "T", "from": "2026-02-30", "to": "2026-10-31"}, 422),
    ({"org": "T", "from": "2026-10-31", "to": "2026-09-01"}, 422),
    ({"org": "T", "from": "99999-01-01", "to": "2026-10-31"}, 422),
    ({"org": "", **PERIOD}, 422),
    ({"org": "NOPE", **PERIOD}, 404),
    ({"org": "C", **PERIOD}, 404),
    ({"org": "T", "process": "nope", **PERIOD}, 404),
    ({"org": "T", "as_of": "2026-02-30", **PERIOD}, 422),
    ({"org": "T", "as_of": "", **PERIOD}, 422),
    ({"org": "C", "as_of": "2026-10-01", **PERIOD}, 404),
])
def test_g14_api_hostile_input_is_refused_with_a_reason(client, users, query, status):
    got = client.get("/api/v1/stats", query_string=query, headers=users["handler"].headers)
    assert got.status_code == status and got.json["message"]


def test_g14_api_who_may_see(client, users, tree):
    assert client.get("/api/v1/stats", query_string={"org": "T", **PERIOD}).status_code == 401
    member = client.get("/api/v1/stats", query_string={"org": "T", **PERIOD},
                        headers=users["member"].headers)
    assert member.status_code == 403
    sibling = client.get("/api/v1/stats", query_string={"org": "T", **PERIOD},
                         headers=users["sibling"].headers)
    assert sibling.status_code == 404
    for year, status in ((99999, 422), (1999, 422), (2026, 200)):
        got = client.get(f"/api/v1/stats/annual/T/{year}", headers=users["auditor"].headers)
        assert got.status_code == status


def test_g14_page_tables_and_their_exports_match(client, users, villages):
    login(client, users["reviewer"])
    page = client.get("/stats/", query_string={"org": "T", **PERIOD})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "Noto Sans CJK SC" in html
    for name in ("figures", "children", "monthly", "days"):
        shown = table_cells(html, f"table-{name}")
        raw = client.get(f"/stats/export/{name}.csv",
                         query_string={"org": "T", **PERIOD}).get_data()
        assert raw.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        book = load_workbook(io.BytesIO(client.get(
            f"/stats/export/{name}.xlsx", query_string={"org": "T", **PERIOD}).get_data()))
        sheet = [["" if c is None else str(c) for c in row]
                 for row in book.active.iter_rows(values_only=True)]
        assert rows == sheet == shown, name
    children = table_cells(html, "table-children")
    assert [r[0] for r in children[1:]] == ["组织W", "组织V"], "the worst on-time rate first"


def test_g14_no_party_internal_figure_reaches_the_public(client, engine, users, villages,
                                                          tree):
    assert client.get("/stats/").status_code in (302, 401)
    assert client.get("/board/annual/T/2026").status_code == 404
    stats.publish(engine, stats.scope_of(engine.db, [tree["C"]]), "T", 2026,
                  user("office", {(tree["T"], "office")}), at("2027-01-05"))
    listed = client.get("/board/annual").get_data(as_text=True)
    public = client.get("/board/annual/T/2026").get_data(as_text=True)
    assert "组织T" in listed and "一、本年新收申请数量" in public
    for text in (public, listed):
        main = re.split(r"<main[^>]*>", text, maxsplit=1)[-1].split("</main>")[0]
        for internal in ("例行公开", "党员旁听", "四议", "预公开", "党内"):
            assert internal not in main
    assert client.get("/api/v1/stats/annual/T/2025").status_code == 404, "not published"
    api = client.get("/api/v1/stats/annual/T/2026").json
    assert api["published_at"] and api["tables"][0]["kind"] == "application"
    sheet = load_workbook(io.BytesIO(client.get("/board/annual/T/2026.xlsx").get_data()))
    assert sheet.active.cell(2, 1).value == "一、本年新收申请数量"
    (item,) = [i for i in client.get("/api/v1/publications?org=T").get_json()["items"]
               if i["title"] == "2026 年度党务公开工作年度报告"]
    page = client.get(item["url"])
    assert page.status_code == 200 and "2026 年度党务公开工作年度报告" in page.get_data(
        as_text=True)


def test_g14_annual_report_pdf_embeds_its_font(client, engine, users, villages, tree):
    login(client, make_user(engine, "secretary-t", "T", ("secretary",)))
    client.post("/stats/annual/T/2026", data={"problems": "公开不够及时",
                                              "improvements": "建立提醒"})
    got = client.get("/stats/annual/T/2026.pdf")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    assert b"/FontFile2" in got.data or b"/FontFile3" in got.data


def test_g14_page_as_of_a_past_day_matches_the_api_and_its_export(client, users, villages):
    """AU2 on /stats: an as-of date rebuilds every table by replay; the export follows."""
    login(client, users["reviewer"])
    query = {"org": "T", **PERIOD, "as_of": "2026-10-01"}
    html = client.get("/stats/", query_string=query).get_data(as_text=True)
    assert 'name="as_of" value="2026-10-01"' in html
    api = client.get("/api/v1/stats", query_string=query, headers=users["handler"].headers)
    (app,) = [p for p in api.json["processes"] if p["kind"] == "application"]
    answered = next(f for f in app["figures"] if f["name"] == "answered")["total"]
    shown = {row[1]: row[2] for row in table_cells(html, "table-figures")[1:]
             if row[0] == "依申请公开"}
    assert answered == 1 and shown["已答复（按答复类型）"] == "1"
    children = table_cells(html, "table-children")
    assert [r[0] for r in children[1:]] == ["组织V", "组织W"], "W not yet answered late"
    raw = client.get("/stats/export/children.csv", query_string=query).get_data()
    assert list(csv.reader(io.StringIO(raw.decode("utf-8-sig")))) == children
    bad = client.get("/stats/", query_string=query | {"as_of": "2026-13-01"})
    assert bad.status_code == 422


def test_g14_the_case_api_opens_one_annual_report_per_organisation_and_year(client, engine,
                                                                             tree):
    """The generic case API is held to the process's rule as the statistics desk is: a
    second report of the same year is a 409 with the reason, another year is opened."""
    office = make_user(engine, "office-t", "T", ("office",))

    def open_report(year: int):
        return client.post("/api/v1/cases", headers=office.headers, json={
            "kind": "annual_report", "org": "T", "payload": {"year": year}})

    assert open_report(2025).status_code == 201
    again = open_report(2025)
    assert again.status_code == 409 and again.get_json()["error"] == "not_allowed"
    assert again.get_json()["message"] == "该组织这一年度的年度报告已经存在"
    documented = client.get("/api/v1/openapi.json").get_json()
    assert "not_allowed" in documented["paths"]["/api/v1/cases"]["post"]["responses"][
        "409"]["x-error-codes"]
    assert open_report(2024).status_code == 201
    with engine.db.read() as conn:
        years = [json.loads(data)["year"] for (data,) in conn.execute(
            sa.select(cases.c.data).where(cases.c.kind == "annual_report"))]
    assert sorted(years) == [2024, 2025]
