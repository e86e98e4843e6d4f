"""四议两公开 through the doors: the generic JSON API (every V4 boundary, the order, the
town's review), the village affairs board showing both publications (V2, G1, G10) and the
case page's progress line (V1)."""

from __future__ import annotations

import datetime as dt

import pytest

from machines import definitions
from tests.web.conftest import login, make_user
from workflow.base.timeutil import LOCAL_TZ
from workflow.core.registry import Registry

pytestmark = pytest.mark.dates

API = "/api/v1"
DAY = "2026-03-02"


@pytest.fixture
def registry() -> Registry:
    return Registry(definitions())


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def village(engine, tree, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ))
    return {"secretary": make_user(engine, "shuji", "V", ("secretary",)),
            "office": make_user(engine, "cunban", "V", ("office",)),
            "town": make_user(engine, "zhen", "T", ("reviewer",)),
            "member": make_user(engine, "dangyuan", "V", ("member",))}


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def start(client, who, **payload):
    body = {"kind": "village_decision", "org": "V",
            "payload": {"title": "修建村道", "content": "硬化村东道路 800 米。"} | payload}
    return ok(client.post(f"{API}/cases", headers=who.headers, json=body), 201)


def act(client, who, case, trigger, payload=None):
    return client.post(f"{API}/cases/{case['id']}/actions/{trigger}", headers=who.headers,
                       json={"payload": payload or {}, "expected_version": case["version"]})


COMMITTEES = {"date": DAY, "attendees": "两委委员 9 人", "draft": "硬化村东道路 800 米。"}


def party(members=30, present=20, in_favour=16):
    return {"date": DAY, "members_with_vote": members, "present": present,
            "in_favour": in_favour}


def to_review(client, village, **payload):
    case = ok(act(client, village["secretary"], start(client, village["secretary"], **payload),
                  "propose"))
    if case["state"] == "town_review":
        case = ok(act(client, village["town"], case, "town_review", {"decision": "approve"}))
    return ok(act(client, village["office"], case, "two_committees", COMMITTEES))


def to_resolving(client, village, **payload):
    return ok(act(client, village["office"], to_review(client, village, **payload),
                  "party_meeting", party()))


# -- the API: order, town review, V4 boundaries --------------------------------------------


def test_v1_v3_a_major_decision_walks_the_api_and_cannot_skip(client, village):
    case = start(client, village["secretary"], major=True, amount=50000)
    assert case["state"] == "drafting"
    assert [a["trigger"] for a in case["actions"]] == ["propose"]
    early = act(client, village["office"], case, "two_committees", COMMITTEES)
    assert early.status_code == 409 and early.get_json()["error"] == "not_allowed"
    case = ok(act(client, village["secretary"], case, "propose"))
    assert case["state"] == "town_review"
    vote = act(client, village["office"], case, "party_meeting", party())
    assert vote.status_code in (403, 409), "no vote before the town's review (V3)"
    case = ok(act(client, village["town"], case, "town_review", {"decision": "approve"}))
    case = ok(act(client, village["office"], case, "two_committees", COMMITTEES))
    back = act(client, village["office"], case, "two_committees", COMMITTEES)
    assert back.status_code == 409, "no step taken twice or backwards (V1)"
    case = ok(act(client, village["office"], case, "party_meeting", party()))
    assert case["state"] == "resolving"


@pytest.mark.parametrize("numbers,state,valid,passed", [
    (party(31, 16, 16), "resolving", True, True),     # 16 of 31: counts and passes
    (party(30, 14, 14), "reviewing", False, None),    # under half: invalid, stays
    (party(30, 15, 15), "drafting", True, False),     # exactly half present counts; half fails
    (party(30, 30, 15), "drafting", True, False),     # half of all, though all present
])
def test_v4_party_meeting_boundaries_over_the_api(client, village, numbers, state, valid,
                                                  passed):
    case = ok(act(client, village["office"], to_review(client, village), "party_meeting",
                  numbers))
    assert case["state"] == state
    meeting = case["data"]["meetings"][-1]
    assert (meeting["valid"], meeting["passed"]) == (valid, passed)
    assert meeting["verdict"]["zh"].endswith("（V4）")
    assert f"应到 {numbers['members_with_vote']} 人" in meeting["verdict"]["zh"]


@pytest.mark.parametrize("numbers,state", [
    ({"form": "villagers", "eligible": 600, "present": 300, "in_favour": 200}, "resolving"),
    ({"form": "villagers", "eligible": 600, "present": 301, "in_favour": 151}, "resolved"),
    ({"form": "villagers", "households": 300, "households_present": 200, "present": 200,
      "in_favour": 101}, "resolved"),
    ({"form": "villagers", "households": 300, "households_present": 199, "present": 199,
      "in_favour": 150}, "resolving"),
    ({"form": "representatives", "representatives": 36, "present": 24, "in_favour": 13},
     "resolved"),
    ({"form": "representatives", "representatives": 36, "present": 23, "in_favour": 20},
     "resolving"),
    ({"form": "representatives", "representatives": 36, "present": 24, "in_favour": 12},
     "drafting"),
])
def test_v4_villagers_meeting_boundaries_over_the_api(client, village, numbers, state):
    case = ok(act(client, village["office"], to_resolving(client, village),
                  "villagers_meeting", {"date": DAY} | numbers))
    assert case["state"] == state


def test_v4_impossible_numbers_are_field_errors(client, village):
    case = to_review(client, village)
    bad = act(client, village["office"], case, "party_meeting", party(30, 31, 20))
    body = bad.get_json()
    assert bad.status_code == 422 and body["error"] == "invalid"
    assert set(body["fields"]) == {"present"}
    votes = act(client, village["office"], case, "party_meeting",
                party(30, 20, 15) | {"against": 6})
    assert votes.status_code == 422 and "in_favour" in votes.get_json()["fields"]


# -- the board: both publications, G1, G10 ----------------------------------------------------


def test_v2_the_board_shows_both_publications(client, village):
    case = ok(act(client, village["office"], to_resolving(client, village, amount=50000),
                  "villagers_meeting", {"date": DAY, "form": "representatives",
                                        "representatives": 36, "present": 30,
                                        "in_favour": 25}))
    assert client.get("/board/V").get_data(as_text=True).count("修建村道") == 0
    case = ok(act(client, village["office"], case, "publish_resolution", {
        "channels": ["board"], "finance": "预算 50000 元，来源：村集体经营收入"}))
    case = ok(act(client, village["office"], case, "record_implementation",
                  {"stage": "complete", "text": "已验收"}))
    case = ok(act(client, village["office"], case, "publish_result", {
        "channels": ["board"], "content": "道路已硬化 800 米", "finance": "实际支出 48000 元"}))
    assert case["state"] == "published"

    board = client.get("/board/V").get_data(as_text=True)
    assert "决议公开：修建村道" in board and "实施结果公开：修建村道" in board
    resolution = client.get(f"/board/items/{case['id']}/resolution_publication")
    page = resolution.get_data(as_text=True)
    assert resolution.status_code == 200 and "硬化村东道路 800 米" in page
    assert "预算 50000 元" in page and 'id="finance"' in page
    assert 'id="opinion-form"' not in page
    result = client.get(f"/board/items/{case['id']}/result_publication").get_data(as_text=True)
    assert "道路已硬化 800 米" in result and "实际支出 48000 元" in result
    assert client.get(f"/board/items/{case['id']}/draft").status_code == 404
    assert client.get(f"/board/items/{case['id']}").status_code == 404

    listed = ok(client.get(f"{API}/publications?org=V"))["items"]
    assert sorted(i["title"] for i in listed) == ["决议公开：修建村道", "实施结果公开：修建村道"]
    assert all(i["scope"] == "public" and i["internal_published_on"] == DAY for i in listed)
    assert {i["url"].rsplit("/", 1)[-1] for i in listed} == {"resolution_publication",
                                                             "result_publication"}
    login(client, village["secretary"])
    ledger = client.get("/ledger.csv").get_data(as_text=True)
    assert ledger.count("修建村道") == 2, "G10: one registration row per publication"


def test_v1_the_case_page_shows_the_chain_as_a_progress_line(client, village):
    case = ok(act(client, village["office"], to_review(client, village, major=True),
                  "party_meeting", party(30, 14, 14)))
    login(client, village["office"])
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'id="progress"' in page
    for step, status in (("propose", "done"), ("town_review", "done"),
                         ("two_committees", "done"), ("party_meeting", "current"),
                         ("villagers_meeting", "todo"), ("publish_result", "todo")):
        assert f'data-step="{step}" data-status="{status}"' in page
    assert "未达到半数，会议无效（V4）" in page
    assert "签到表（请上传）" in page, "the page asks for the sign-in sheet"


def test_v1_the_page_refuses_a_step_out_of_order(client, village):
    case = start(client, village["secretary"])
    login(client, village["office"])
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'id="action-propose"' in page and 'id="action-party_meeting"' not in page
    refused = client.post(f"/cases/{case['id']}/actions/party_meeting",
                          data={"expected_version": case["version"], **{
                              k: str(v) for k, v in party().items()}})
    assert refused.status_code == 409
    again = ok(client.get(f"{API}/cases/{case['id']}", headers=village["office"].headers))
    assert again["state"] == "drafting" and again["data"]["meetings"] == []
