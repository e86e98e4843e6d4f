"""党员旁听 over the API and on the pages (O2–O7): the notices, registration with its
receipt, the status with the access code, the draw bundle; the office's masked list; and
the clear ID number on no page or answer."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json

import pytest

from machines import definitions, lottery
from tests.web.conftest import login, make_user
from workflow.core.registry import Registry
from workflow.core.timers import run_due
from workflow.people.actors import user

ID_A, ID_B = "320102196403071234", "11010519491231002X"
MEETING = {"title": "镇党委第 12 次全体会议", "meeting_at": "2026-11-20T09:00",
           "place": "镇政府三楼会议室", "topics": "2027 年民生实事项目",
           "categories": ["机关:1", "农村:1"], "conditions": "本镇党员",
           "registration_until": "2026-11-16"}


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(dt.UTC)


def pdf() -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    return bytes(doc.output())


@pytest.fixture
def registry() -> Registry:
    return Registry(definitions())


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def office(engine, tree):
    return make_user(engine, "ban", "T", ("office",))


@pytest.fixture
def member(engine, tree):
    return make_user(engine, "dang", "T", ("member",))


@pytest.fixture
def meeting(engine, tree):
    """A meeting at T with its notice published on 2 November 2026, within the Party and
    then to the public (G1)."""
    case = internal_notice(engine, tree)
    return engine.fire(case.id, "publish_notice_public", user("ban0", {(tree["T"], "office")}),
                       {"channels": ["website"]}, case.version, at("2026-11-02"))


def internal_notice(engine, tree):
    """A meeting at T whose notice is released within the Party only (G1)."""
    office_actor = user("ban0", {(tree["T"], "office")})
    case = engine.start("observer_seats", "T", office_actor, MEETING, at("2026-11-01"))
    case = engine.fire(case.id, "approve", user("shu", {(tree["T"], "secretary")}), {},
                       case.version, at("2026-11-01"))
    return engine.fire(case.id, "publish_notice", office_actor, {"channels": ["board"]},
                       case.version, at("2026-11-02"))


def registration(id_number: str, category: str = "农村", **extra) -> dict:
    return {"name": "张三", "id_number": id_number, "branch": "青山村党支部",
            "category": category, "contact": "13800000001", "contribution": "熟悉议题",
            "letter": {"name": "介绍信.pdf",
                       "content_base64": base64.b64encode(pdf()).decode()}} | extra


def test_o2_api_lists_noticed_meetings_by_organisation(client, meeting, engine, tree):
    engine.start("observer_seats", "T", user("x", {(tree["T"], "office")}), MEETING,
                 at("2026-11-01"))  # a proposal is internal: not listed
    found = client.get("/api/v1/observer-meetings").get_json()["meetings"]
    assert [m["code"] for m in found] == [meeting.code]
    assert found[0]["quotas"] == [{"category": "机关", "seats": 1},
                                  {"category": "农村", "seats": 1}]
    assert found[0]["registration_open"] is True
    assert client.get("/api/v1/observer-meetings?org=V").get_json()["meetings"] == []
    assert client.get("/api/v1/observer-meetings?org=NOPE").status_code == 404
    one = client.get(f"/api/v1/observer-meetings/{meeting.id}").get_json()
    assert one["title"] == MEETING["title"]


def test_o3_o4_o5_api_registration_receipt_status_and_duplicate(client, meeting, member,
                                                                 office, engine):
    url = f"/api/v1/observer-meetings/{meeting.id}/registrations"
    sent = client.post(url, json=registration(ID_A), headers=member.headers)
    assert sent.status_code == 201, sent.get_json()
    body = sent.get_json()
    assert set(body) == {"registration", "access_code"}
    twice = client.post(url, json=registration(ID_A), headers=member.headers)
    assert twice.status_code == 409 and "已报名" in twice.get_json()["message"]
    anonymous = client.post(url, json=registration(ID_B))
    assert anonymous.status_code == 409 and "登录" in anonymous.get_json()["message"]
    bad = client.post(url, json=registration(ID_B) | {"letter": {"content_base64": "%%"}},
                      headers=member.headers)
    assert bad.status_code == 422 and "letter" in bad.get_json()["fields"]
    status_url = f"{url}/{body['registration']}"
    assert client.get(status_url).status_code == 404
    assert client.get(status_url, headers={"X-Access-Code": "WRONG-CODE1"}).status_code == 404
    mine = client.get(status_url, headers={"X-Access-Code": body["access_code"]}).get_json()
    assert mine["status"] == "registered" and mine["registration"] == body["registration"]
    engine.fire(meeting.id, "verify", user("ban", {("/1/2/", "office")}),
                {"receipt": body["registration"], "verified": False, "reason": "介绍信未盖章"})
    mine = client.get(status_url, headers={"X-Access-Code": body["access_code"]}).get_json()
    assert mine["status"] == "not_verified" and mine["reason"] == "介绍信未盖章"
    assert ID_A not in json.dumps(mine, ensure_ascii=False)
    assert client.get(f"/api/v1/observer-meetings/{meeting.id}/draw").status_code == 404
    assert mine["timeline"][0]["payload"]["id_number"] == "3201**********1234"


def test_o3_only_a_noticed_meeting_takes_registrations(client, meeting, member, engine, tree):
    proposal = engine.start("observer_seats", "T", user("x", {(tree["T"], "office")}),
                            MEETING, at("2026-11-01"))
    for case_id in (proposal.id, 999999):
        sent = client.post(f"/api/v1/observer-meetings/{case_id}/registrations",
                           json=registration(ID_A), headers=member.headers)
        assert sent.status_code == 404
    assert client.post(f"/api/v1/observer-meetings/{meeting.id}/registrations",
                       json=["not", "an", "object"]).status_code == 422


def test_o4_the_registration_page_takes_the_letter_and_never_echoes_the_id(client, meeting,
                                                                           member, office):
    login(client, member)
    page = client.get(f"/observer-meetings/{meeting.id}/register")
    assert page.status_code == 200 and "介绍信" in page.get_data(as_text=True)
    form = registration(ID_A, letter=None)
    form.pop("letter")
    missing = client.post(f"/observer-meetings/{meeting.id}/register", data=form)
    assert missing.status_code == 422 and ID_A not in missing.get_data(as_text=True)
    done = client.post(f"/observer-meetings/{meeting.id}/register",
                       data=form | {"letter": (io.BytesIO(pdf()), "介绍信.pdf")},
                       content_type="multipart/form-data")
    assert done.status_code == 201
    text = done.get_data(as_text=True)
    assert "BM-2026-" in text and ID_A not in text
    client.post("/logout")
    login(client, office)
    listed = client.get(f"/observer-meetings/{meeting.id}/registrations")
    assert "3201**********1234" in listed.get_data(as_text=True)
    assert ID_A not in listed.get_data(as_text=True)
    number = listed.get_data(as_text=True).split('data-no="')[1].split('"')[0]
    shown = client.post(f"/observer-meetings/{meeting.id}/registrations",
                        data={"registration": number})
    assert ID_A in shown.get_data(as_text=True), "the office checks it against the ID card"
    login(client, member)
    assert client.get(f"/observer-meetings/{meeting.id}/registrations").status_code == 403


def test_o4_the_optional_e_mail_is_checked_and_kept_off_the_board(client, meeting, member,
                                                                  office):
    """The registration's optional e-mail (issue 18): typed as an address on the form, a
    malformed one is a field error, and the address reaches neither the board, the API
    nor the office's list."""
    login(client, member)
    url = f"/observer-meetings/{meeting.id}/register"
    page = client.get(url).get_data(as_text=True)
    assert 'type="email"' in page and 'name="email"' in page
    form = registration(ID_A)
    form.pop("letter")
    upload = {"letter": (io.BytesIO(pdf()), "介绍信.pdf")}
    bad = client.post(url, data=form | upload | {"email": "not an address"},
                      content_type="multipart/form-data")
    assert bad.status_code == 422
    assert 'id="email-error"' in bad.get_data(as_text=True)
    done = client.post(url, data=form | {"email": "dang@example.cn",
                                         "letter": (io.BytesIO(pdf()), "介绍信.pdf")},
                       content_type="multipart/form-data")
    assert done.status_code == 201
    for shown in (client.get(f"/observer-meetings/{meeting.id}").get_data(as_text=True),
                  client.get("/api/v1/observer-meetings").get_data(as_text=True)):
        assert "dang@example.cn" not in shown
    client.post("/logout")
    login(client, office)
    listed = client.get(f"/observer-meetings/{meeting.id}/registrations")
    assert "dang@example.cn" not in listed.get_data(as_text=True)


def test_o7_the_result_page_and_the_bundle_once_drawn(client, meeting, member, engine, tree):
    url = f"/api/v1/observer-meetings/{meeting.id}/registrations"
    numbers = [client.post(url, json=registration(i, c), headers=member.headers)
               .get_json()["registration"] for i, c in ((ID_A, "农村"), (ID_B, "机关"))]
    office_actor = user("ban0", {(tree["T"], "office")})
    for number in numbers:
        engine.fire(meeting.id, "verify", office_actor, {"receipt": number, "verified": True},
                    None, at("2026-11-05"))
    run_due(engine, at("2026-11-17", 1))
    case = engine.get(meeting.id, office_actor)
    case = engine.fire(case.id, "publish_record", office_actor,
                       {"source_kind": "public", "source_name": "福彩3D 第2026302期",
                        "source_date": "2026-11-18"}, case.version, at("2026-11-17"))
    committed = client.get(f"/observer-meetings/{meeting.id}").get_data(as_text=True)
    assert case.data["commitment"] in committed and numbers[0] in committed
    case = engine.fire(case.id, "draw", office_actor, {"value": "3 0 7"}, case.version,
                       at("2026-11-18"))
    # G1: the result within the Party first: members see it, the public not yet
    assert client.get(f"/api/v1/observer-meetings/{meeting.id}/draw").status_code == 404
    assert client.get(f"/api/v1/observer-meetings/{meeting.id}/draw",
                      headers=member.headers).status_code == 200
    assert 'id="recheck"' not in client.get(f"/observer-meetings/{meeting.id}").get_data(
        as_text=True)
    engine.fire(case.id, "publish_result", office_actor, {"channels": ["board"]},
                case.version, at("2026-11-18"))
    bundle = client.get(f"/api/v1/observer-meetings/{meeting.id}/draw").get_json()
    assert lottery.verify(bundle) == []
    assert client.get(f"/observer-meetings/{meeting.id}/draw.json").get_json() == bundle
    page = client.get(f"/observer-meetings/{meeting.id}").get_data(as_text=True)
    assert 'id="recheck"' in page and "lottery.js" in page and bundle["key"] in page
    for text in (page, json.dumps(bundle, ensure_ascii=False),
                 client.get("/api/v1/observer-meetings").get_data(as_text=True)):
        assert ID_A not in text and ID_B not in text and "张三" not in text


def test_g1_an_internal_notice_reaches_members_only_then_everyone(client, member, engine,
                                                                 tree):
    """G1 先党内、后党外: a notice released within the Party is listed and open to the
    organisation's members (page and API with a member's token) and to nobody else; after
    its public release, to everyone; the board lists it as a publication too."""
    case = internal_notice(engine, tree)
    api = "/api/v1/observer-meetings"
    assert [m["id"] for m in client.get(api).get_json()["meetings"]] == []
    assert client.get(f"/observer-meetings/{case.id}").status_code == 404
    assert client.post(f"{api}/{case.id}/registrations",
                       json=registration(ID_B, mobile=True, card_number="LD-9",
                                         place="工业园")).status_code == 404
    mine = client.get(api, headers=member.headers).get_json()["meetings"]
    assert [m["id"] for m in mine] == [case.id]
    login(client, member)
    assert client.get(f"/observer-meetings/{case.id}").status_code == 200
    assert "党员旁听通知" in client.get("/board").get_data(as_text=True)
    client.post("/logout")
    assert "党员旁听通知" not in client.get("/board").get_data(as_text=True)
    engine.fire(case.id, "publish_notice_public", user("ban0", {(tree["T"], "office")}),
                {"channels": ["website"]}, case.version, at("2026-11-03"))
    assert [m["id"] for m in client.get(api).get_json()["meetings"]] == [case.id]
    assert "党员旁听通知" in client.get("/board").get_data(as_text=True)


def test_the_openapi_document_has_the_observer_paths(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/observer-meetings", "/api/v1/observer-meetings/{case_id}/draw",
                 "/api/v1/observer-meetings/{case_id}/registrations",
                 "/api/v1/observer-meetings/{case_id}/registrations/{registration}"):
        assert path in doc["paths"], path
    assert doc["paths"]["/api/v1/observer-meetings/{case_id}/registrations"]["post"][
        "responses"]["201"]


def test_o5_the_office_reaches_the_registrations_from_the_case_page(client, meeting, office,
                                                                    engine, tree):
    """O5: the case page's panel links the office to its registrations list (the URL is
    not something to learn from the docs); nobody else gets the panel."""
    login(client, office)
    page = client.get(f"/cases/{meeting.id}").get_data(as_text=True)
    assert 'id="observer-registrations"' in page
    assert f'href="/observer-meetings/{meeting.id}/registrations"' in page
    secretary = make_user(engine, "shu", "T", ("secretary",))
    client.post("/logout")
    login(client, secretary)
    other = client.get(f"/cases/{meeting.id}")
    assert other.status_code == 200
    assert 'id="observer-registrations"' not in other.get_data(as_text=True)
