"""Officers' pages: inbox views and filters, the case page, actions, claim and assign (G15)."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from tests.web.conftest import login
from workflow.base.timeutil import local_date, utcnow
from workflow.people.actors import user
from workflow.views.inbox import timeline


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def opened(engine, users, tree):
    """Three sample cases at the town: two drafts and one waiting for review."""
    handler = user("handler", {(tree["T"], "handler")})
    made = [engine.start("sample", "T", handler, {"title": f"事项{i}"}) for i in range(3)]
    engine.fire(made[2].id, "submit", handler, {"amount": 5}, 1)
    return made


def test_inbox_views_filters_and_search(client, users, opened):
    login(client, users["handler"])
    mine = client.get("/inbox").get_data(as_text=True)
    assert "事项0" in mine and "事项1" in mine and "事项2" not in mine, "drafts wait on handler"
    org = client.get("/inbox?view=org").get_data(as_text=True)
    assert all(f"事项{i}" in org for i in range(3))
    assert "事项2" in client.get("/inbox?view=org&state=review").get_data(as_text=True)
    found = client.get(f"/inbox?view=org&q={opened[1].code}").get_data(as_text=True)
    assert "事项1" in found and "事项0" not in found
    assert "事项2" not in client.get("/inbox?view=due").get_data(as_text=True), "10 days left"


def test_due_soon_shows_working_days_left(client, users, engine, tree):
    import json

    import sqlalchemy as sa

    from workflow.store.models import Org

    orgs = Org.__table__
    with engine.db.write() as conn:
        conn.execute(sa.update(orgs).where(orgs.c.code == "T").values(
            settings=json.dumps({"sample": {"deadline_days": 1, "reminders": []}})))
    handler = user("handler", {(tree["T"], "handler")})
    case = engine.start("sample", "T", handler, {"title": "急办"})
    engine.fire(case.id, "submit", handler, {"amount": 1}, 1)
    login(client, users["reviewer"])
    page = client.get("/inbox?view=due").get_data(as_text=True)
    assert "急办" in page and "剩 1 个工作日" in page
    assert 'class="due soon"' in page, "the due-soon mark comes from workflow.views.inbox"


def test_inbox_pages_with_a_cursor(client, users, engine, tree):
    handler = user("handler", {(tree["T"], "handler")})
    for i in range(55):
        engine.start("sample", "T", handler, {"title": f"批量{i:02d}"})
    login(client, users["handler"])
    first = client.get("/inbox?view=org").get_data(as_text=True)
    assert "批量54" in first and "批量04" not in first and "after=" in first
    cursor = first.split("after=")[1].split('"')[0]
    second = client.get(f"/inbox?view=org&after={cursor}").get_data(as_text=True)
    assert "批量04" in second and "批量54" not in second


def test_case_page_shows_state_due_diagram_timeline_and_only_my_actions(client, users, opened):
    login(client, users["reviewer"])
    page = client.get(f"/cases/{opened[2].id}").get_data(as_text=True)
    assert "审核" in page and 'id="timeline"' in page and page.count("data-seq=") == 2
    assert "<svg" in page or "current" in page
    assert 'id="action-approve"' in page and 'id="action-submit"' not in page
    assert "期限" in page and "个工作日" in page


def test_an_action_error_is_shown_inline_in_chinese_and_nothing_is_saved(
        client, users, opened, engine):
    login(client, users["handler"])
    bad = client.post(f"/cases/{opened[0].id}/actions/submit",
                      data={"amount": "很多", "expected_version": "1"})
    assert bad.status_code == 422 and "应为整数" in bad.get_data(as_text=True)
    stale = client.post(f"/cases/{opened[0].id}/actions/submit",
                        data={"amount": "3", "expected_version": "7"})
    assert stale.status_code == 409 and "已被他人更新" in stale.get_data(as_text=True)
    assert engine.get(opened[0].id, user("x", {("/", "handler")})).seq == 1
    done = client.post(f"/cases/{opened[0].id}/actions/submit",
                       data={"amount": "3", "expected_version": "1"})
    assert done.status_code == 302
    assert client.get(done.location).get_data(as_text=True).count("data-seq=") == 2


@pytest.mark.parametrize("sent, reason", [
    (None, "缺少事项的版本号"), ("", "版本号（expected_version）应为整数"),
    ("abc", "应为整数"), ("1.0", "应为整数"), ("9" * 5000, "应为整数"), ("-1", "应为整数"),
])
def test_the_door_refuses_a_missing_or_malformed_version_with_a_reason(
        client, users, opened, engine, sent, reason):
    """The inbox form goes through the door's own expected_version rule (422, not 500)."""
    login(client, users["handler"])
    data = {"amount": "3"} | ({} if sent is None else {"expected_version": sent})
    refused = client.post(f"/cases/{opened[0].id}/actions/submit", data=data)
    assert refused.status_code == 422 and reason in refused.get_data(as_text=True)
    assert engine.get(opened[0].id, user("x", {("/", "handler")})).seq == 1


def test_claim_assign_release(client, users, opened, engine):
    login(client, users["handler"])
    client.post(f"/cases/{opened[0].id}/claim")
    anyone = user("x", {("/", "handler")})
    assert engine.get(opened[0].id, anyone).assignee == "handler"
    assert client.post(f"/cases/{opened[0].id}/claim",
                       data={"assignee": "reviewer"}).status_code == 403, \
        "a handler gives no case to someone else"
    login(client, users["reviewer"])
    client.post(f"/cases/{opened[0].id}/claim", data={"assignee": "reviewer"})
    assert engine.get(opened[0].id, anyone).assignee == "reviewer"
    refused = client.post(f"/cases/{opened[0].id}/claim", data={"assignee": "sibling"})
    assert refused.status_code == 422
    client.post(f"/cases/{opened[0].id}/claim", data={"release": "1"})
    assert engine.get(opened[0].id, anyone).assignee is None
    labels = [entry["label"].zh for entry in timeline(engine, opened[0].id)]
    assert labels == ["立案", "分派", "分派", "分派"], \
        "claim, assign and release are on the timeline (AU1); the refused one left nothing"
    page = client.get(f"/cases/{opened[0].id}").get_data(as_text=True)
    assert page.count("data-seq=") == 4


def test_out_of_scope_case_is_not_found(client, users, opened):
    login(client, users["sibling"])
    assert client.get(f"/cases/{opened[0].id}").status_code == 404


def test_login_is_throttled(engine, users):
    from web import create_app

    app = create_app({"ENGINE": engine, "SECRET_KEY": "t", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    codes = [client.post("/login", data={"username": "handler", "password": "wrong"}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_new_case_page_starts_a_case(client, users):
    login(client, users["handler"])
    assert "样例审批" in client.get("/cases/new").get_data(as_text=True)
    bad = client.post("/cases/new", data={"kind": "sample", "org": "T", "title": ""})
    assert bad.status_code == 422 and "必填项" in bad.get_data(as_text=True)
    made = client.post("/cases/new", data={"kind": "sample", "org": "T", "title": "新事项",
                                           "meeting_at": (local_date(utcnow()) + dt.timedelta(
                                               days=30)).isoformat() + "T09:00"})
    assert made.status_code == 302


def org_options(page: str) -> list[str]:
    """The organisation codes the inbox's 组织 filter offers."""
    select = page.split('id="filter-org"')[1].split("</select>")[0]
    return [part.split('"')[0] for part in select.split('value="')[1:] if part[0] != '"']


def test_the_org_filter_offers_my_organisations_and_those_below(client, users):
    login(client, users["upper"])
    assert sorted(org_options(client.get("/inbox").get_data(as_text=True))) == [
        "B", "C", "T", "V"], "the county and every organisation below it"
    client.post("/logout")
    login(client, users["handler"])
    assert org_options(client.get("/inbox").get_data(as_text=True)) == ["T", "V"]


def test_search_by_a_part_of_the_code_finds_the_case(client, users, opened):
    login(client, users["handler"])
    code = opened[1].code  # e.g. SA-2026-000002
    number = code.rsplit("-", 1)[1]
    for part in (number, number[2:], code.lower()):  # 000002, 0002 (as 004965, 4965)
        found = client.get(f"/inbox?view=org&q={part}").get_data(as_text=True)
        assert "事项1" in found and "事项0" not in found and "事项2" not in found, part


def test_the_inbox_shows_a_total_and_pages_back(client, users, engine, tree):
    handler = user("handler", {(tree["T"], "handler")})
    for i in range(55):
        engine.start("sample", "T", handler, {"title": f"批量{i:02d}"})
    login(client, users["handler"])
    first = client.get("/inbox?view=org").get_data(as_text=True)
    assert "共 55 件" in first and "before=" not in first, "the first page has no previous one"
    cursor = first.split("after=")[1].split('"')[0]
    second = client.get(f"/inbox?view=org&after={cursor}").get_data(as_text=True)
    assert "共 55 件" in second and 'rel="prev"' in second and "after=" not in second
    back = second.split("before=")[1].split('"')[0]
    again = client.get(f"/inbox?view=org&before={back}").get_data(as_text=True)
    assert "批量54" in again and "批量05" in again and "批量04" not in again
    assert "before=" not in again and "after=" in again, "back on the first page"
    by_due = client.get("/inbox?view=org&sort=due").get_data(as_text=True)
    assert "共 0 件" in by_due, "drafts have no due time yet"


@pytest.mark.parametrize("query", ["after=abc", "before=abc", "after=-1", "before=9" * 30,
                                   "sort=due&after=2026-01-01", "sort=due&before=x|1",
                                   "sort=due&after=2026-01-01T00:00|5",
                                   "sort=due&before=2026-01-01T00:00|5"])
def test_a_forged_page_cursor_is_refused_with_a_reason(client, users, query):
    login(client, users["handler"])
    response = client.get(f"/inbox?view=org&{query}")
    assert response.status_code == 422 and "翻页标记无效" in response.get_data(as_text=True)


def test_the_diagram_opens_full_size_on_its_own(client, users, opened):
    login(client, users["reviewer"])
    page = client.get(f"/cases/{opened[2].id}").get_data(as_text=True)
    response = client.get(f"/cases/{opened[2].id}/diagram.svg")
    if shutil.which("dot") is None:  # no Graphviz: the page lists the states instead
        assert response.status_code == 404 and "diagram.svg" not in page
        return
    assert f'href="/cases/{opened[2].id}/diagram.svg"' in page
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "<svg" in response.get_data(as_text=True)
    assert client.get("/cases/999999/diagram.svg").status_code == 404
