"""The applicant's path without an account: apply, track, answer a 补正, withdraw (A1, A5).

Through the pages and through ``/api/v1/applications``; a wrong access code looks like
an unknown tracking code; bad input gets clear zh-CN errors and saves nothing.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from machines import definitions
from workflow.base.timeutil import LOCAL_TZ
from workflow.calendar.holidays import ScheduleDay, official_known
from workflow.calendar.workdays import store_days
from workflow.core.engine import Engine
from workflow.core.registry import Registry
from workflow.core.timers import recompute_provisional
from workflow.people.actors import user
from workflow.people.orgs import add_org
from workflow.store.models import cases, events

pytestmark = pytest.mark.dates  # swept over several days by make test

FORM = {"org": "T", "name": "张三", "phone": "13912345678", "description": "党费使用情况",
        "purpose": "监督", "delivery": "electronic"}
#: a working morning in a year chinesecalendar knows: deadlines from it are official
KNOWN_YEAR_MORNING = dt.datetime(2026, 3, 10, 10, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def registry() -> Registry:
    return Registry(definitions())


@pytest.fixture
def engine(engine) -> Engine:
    """The real processes on a county C with a town T."""
    with engine.db.write() as conn:
        for code, parent, kind in (("C", None, "county_committee"), ("T", "C", "town")):
            add_org(conn, code, f"组织{code}", parent, kind)
    return engine


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


def count(engine) -> tuple[int, int]:
    with engine.db.read() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                     for t in (cases, events))


def submitted(client) -> tuple[str, str]:
    page = client.post("/apply/application", data=FORM)
    assert page.status_code == 201
    text = page.get_data(as_text=True)
    return (re.search(r'id="tracking-code">([^<]+)<', text).group(1),
            re.search(r'id="access-code">([^<]+)<', text).group(1))


def test_a1_apply_on_the_page_then_track_and_withdraw(client, engine):
    code, access = submitted(client)
    assert re.fullmatch(r"YS-\d{4}-\d{6}", code) and re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}",
                                                                   access)
    assert client.get(f"/track/{code}").status_code == 404, "nothing without the access code"
    wrong = client.post("/track", data={"code": code, "access": "AAAAA-AAAAA"})
    unknown = client.post("/track", data={"code": "YS-2026-999999", "access": access})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_data(as_text=True).count("查询码不正确") == 1
    found = client.post("/track", data={"code": code.lower(), "access": access.lower()})
    assert found.status_code == 302
    page = client.get(found.location).get_data(as_text=True)
    assert "已收到，待登记" in page and "提交申请" in page and "期限" in page
    done = client.post(f"/track/{code}/actions/withdraw", data={"reason": "不需要了",
                                                                "expected_version": "1"})
    assert done.status_code == 302
    assert "已撤回" in client.get(f"/track/{code}").get_data(as_text=True)


def test_a5_clarification_answered_on_the_tracking_page(client, engine):
    code, access = submitted(client)
    client.post("/track", data={"code": code, "access": access})
    case = engine.get_by_code(code, user("hu", {("/1/2/", "handler")}))
    officer = user("hu", {("/1/2/", "handler")})
    engine.fire(case.id, "request_clarification", officer, {"missing": "请说明年份和范围"},
                case.version)
    page = client.get(f"/track/{code}").get_data(as_text=True)
    assert "待申请人补正" in page and "请说明年份和范围" in page
    bad = client.post(f"/track/{code}/actions/clarify", data={"supplement": " ",
                                                              "expected_version": "2"})
    assert bad.status_code == 422 and "必填项" in bad.get_data(as_text=True)
    for version, status in ((None, 422), ("x2", 422), ("1", 409)):
        refused = client.post(f"/track/{code}/actions/clarify", data={
            "supplement": "2025 年全年"} | ({} if version is None else
                                          {"expected_version": version}))
        assert refused.status_code == status, "the door's version rule, not the case's own"
    good = client.post(f"/track/{code}/actions/clarify",
                       data={"supplement": "2025 年全年", "expected_version": "2"})
    assert good.status_code == 302
    after = engine.get(case.id, officer)
    assert after.state == "processing" and after.data["clarification"]["answer"] == "2025 年全年"


def test_bad_form_input_saves_nothing_and_says_why_in_chinese(client, engine):
    before = count(engine)
    page = client.post("/apply/application", data=FORM | {"phone": "", "org": ""})
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "电话和电子邮箱至少填写一项" in text and "请选择受理申请的组织" in text
    assert 'value="张三"' in text, "what was typed is kept"
    assert client.post("/apply/application", data=FORM | {"website": "x"}).status_code == 400
    assert count(engine) == before


def test_api_apply_and_track(client, engine, time_machine):
    time_machine.move_to(KNOWN_YEAR_MORNING)
    body = {k: v for k, v in FORM.items()} | {"email": "zs@example.cn", "extra_note": "附言"}
    created = client.post("/api/v1/applications", json=body)
    assert created.status_code == 201
    data = created.get_json()
    code, access = data["tracking_code"], data["access_code"]
    tracked = client.get(f"/api/v1/applications/{code}", headers={"X-Access-Code": access})
    assert tracked.status_code == 200
    info = tracked.get_json()
    assert info["state"] == "received" and info["state_label"] == "已收到，待登记"
    assert info["due"] and info["received_on"] and info["due_provisional"] is False
    assert info["timeline"][0]["label"] == "提交申请"
    assert {a["trigger"] for a in info["actions"]} == {"withdraw"}
    english = client.get(f"/api/v1/applications/{code}",
                         headers={"X-Access-Code": access, "Accept-Language": "en"})
    assert english.get_json()["state_label"] == "Received"


def test_a5_tracking_into_an_unknown_year_says_provisional_until_its_schedule_is_imported(
        client, engine, time_machine):
    """A5: chinesecalendar cannot know 2031, so its deadline is provisional and says why;
    once the official 2031 schedule is imported the tracking shows it as official."""
    time_machine.move_to(dt.datetime(2031, 3, 3, 10, 0, tzinfo=LOCAL_TZ))  # a Monday
    assert not official_known(2031)
    created = client.post("/api/v1/applications", json=FORM).get_json()
    headers = {"X-Access-Code": created["access_code"]}
    info = client.get(f"/api/v1/applications/{created['tracking_code']}",
                      headers=headers).get_json()
    assert info["received_on"] == "2031-03-03" and info["due_provisional"] is True
    assert "暂定" in info["due_explain"] and "2031" in info["due_explain"]
    client.post("/track", data={"code": created["tracking_code"],
                                "access": created["access_code"]})
    assert "暂定" in client.get(f"/track/{created['tracking_code']}").get_data(as_text=True)

    with engine.db.write() as conn:
        store_days(conn, None, [ScheduleDay(dt.date(2031, 4, 4), False, "清明节")])
    assert recompute_provisional(engine) > 0
    info = client.get(f"/api/v1/applications/{created['tracking_code']}",
                      headers=headers).get_json()
    assert info["due_provisional"] is False and "暂定" not in info["due_explain"]


@pytest.mark.parametrize("headers", [{}, {"X-Access-Code": "AAAAA-AAAAA"}])
def test_api_wrong_or_missing_access_code_is_the_same_404(client, engine, headers):
    code = client.post("/api/v1/applications", json=FORM).get_json()["tracking_code"]
    wrong = client.get(f"/api/v1/applications/{code}", headers=headers)
    unknown = client.get("/api/v1/applications/YS-2026-424242", headers=headers)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_json() == unknown.get_json()


def test_api_bad_input_gets_field_errors_and_saves_nothing(client, engine):
    before = count(engine)
    bad = client.post("/api/v1/applications", json={"org": "NOPE", "name": "",
                                                    "email": "not-an-address",
                                                    "delivery": "fax"})
    assert bad.status_code == 422
    fields = bad.get_json()["fields"]
    assert fields["org"] == "请选择受理申请的组织" and fields["email"] == "电子邮箱格式不正确"
    assert {"name", "description", "delivery"} <= set(fields)
    english = client.post("/api/v1/applications", data="{not json",
                          headers={"Accept-Language": "en",
                                   "Content-Type": "application/json"})
    assert english.status_code == 422
    assert english.get_json()["message"] == "The body must be a JSON object"
    assert count(engine) == before


def test_openapi_documents_every_api_rule_with_the_real_processes(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/applications", "/api/v1/applications/{code}"} <= set(doc["paths"])
    post = doc["paths"]["/api/v1/applications"]["post"]
    assert "security" not in post or post["security"] == []
    rules = {r.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
             for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")}
    assert rules <= set(doc["paths"]), rules - set(doc["paths"])


def test_r2_catalogue_from_the_template_of_the_organisation_type(client, engine):
    from tests.web.conftest import login, make_user

    officer = make_user(engine, "tpl-handler", "C", ("handler",))
    login(client, officer)
    made = client.post("/cases/template/catalogue", data={"org": "C", "for_org": "T"})
    assert made.status_code == 302
    with engine.db.read() as conn:
        rows = conn.execute(sa.select(cases.c.title, cases.c.state, cases.c.data).where(
            cases.c.kind == "catalogue")).all()
    from machines.catalogue import TEMPLATES

    assert len(rows) == len(TEMPLATES["town"]) and {r.state for r in rows} == {"draft"}
    assert all('"for_org":"T"' in r.data for r in rows)
    outside = client.post("/cases/template/catalogue", data={"org": "T", "for_org": "C"})
    assert outside.status_code == 302
    with engine.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(cases).where(
            cases.c.kind == "catalogue")).scalar_one() == len(rows)


def test_a5_the_api_explains_the_due_date_as_the_tracking_page_does(client, engine, time_machine):
    """One explanation (workflow.core.deadlines.explain_due): the API keeps the extension."""
    time_machine.move_to(KNOWN_YEAR_MORNING)
    created = client.post("/api/v1/applications", json=FORM).get_json()
    code, access = created["tracking_code"], created["access_code"]
    officer, head = user("hu", {("/1/2/", "handler")}), user("li", {("/1/2/", "reviewer")})
    case = engine.get_by_code(code, officer)
    case = engine.fire(case.id, "register", user("ban", {("/1/2/", "office")}), {},
                       case.version)
    case = engine.fire(case.id, "request_extension", officer,
                       {"days": 20, "reason": "涉及多个部门"}, case.version)
    engine.fire(case.id, "approve_extension", head, {}, case.version)
    info = client.get(f"/api/v1/applications/{code}", headers={"X-Access-Code": access})
    explained = info.get_json()["due_explain"]
    assert "经批准延期 20 个工作日" in explained
    client.post("/track", data={"code": code, "access": access})
    page = client.get(f"/track/{code}").get_data(as_text=True)
    assert explained in page.replace("&#34;", '"')
