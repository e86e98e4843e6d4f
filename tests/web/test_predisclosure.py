"""预公开 on the board and over the API (P3, P4, P6, G1, G13).

Drafts are walked through the door at the tree county C → town T → village V, with the
bureau B beside T, and opened for comments on the real clock (the API reads it). Each
draft's title carries a marker (``PUB-T``, ``INT-T`` …) and each comment's text one too
(``SAID-INT-T``), so a test can look for them in any page, feed or JSON body.
"""

from __future__ import annotations

import datetime as dt

import pytest

from machines import definitions
from tests.web.conftest import bearer, login, make_user
from workflow.base.timeutil import local_date, utcnow
from workflow.core.registry import Registry
from workflow.people.actors import PUBLIC, user

pytestmark = pytest.mark.dates  # swept over several days by make test

CHECKED = {"secrecy": True, "necessity": True, "accuracy": True}

# marker -> (organisation, scope)
DRAFTS = {"PUB-T": ("T", "public"), "INT-T": ("T", "internal"), "INT-V": ("V", "internal"),
          "PUB-B": ("B", "public"), "INT-B": ("B", "internal")}
INTERNAL = {m for m, (_o, scope) in DRAFTS.items() if scope == "internal"}


@pytest.fixture
def registry() -> Registry:
    return Registry(definitions())


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


def officer(tree, org: str, role: str = "handler"):
    return user(f"{role}-{org}", {(tree[org], role)})


def approved(engine, tree, org: str, marker: str, scope: str, when=None):
    handler = officer(tree, org)
    case = engine.start("pre_disclosure", org, handler, {
        "title": f"征求意见稿 {marker}", "draft_text": f"草案正文 {marker}", "scope": scope,
        "forms": ["board", "online"]}, when)
    case = engine.fire(case.id, "submit", handler, {}, case.version, when)
    case = engine.fire(case.id, "approve", officer(tree, org, "reviewer"), CHECKED,
                       case.version, when)
    return engine.fire(case.id, "approve_plan", officer(tree, org, "leading_group"), {},
                       case.version, when)


def opened(engine, tree, org: str, marker: str, scope: str, days_ago: int = 0):
    """A draft opened ``days_ago`` days ago for the shortest period allowed, with one
    comment from someone who may comment on it."""
    when = utcnow() - dt.timedelta(days=days_ago)
    case = approved(engine, tree, org, marker, scope, when)
    until = local_date(when) + dt.timedelta(days=15)
    case = engine.fire(case.id, "open_comments", officer(tree, org),
                       {"comment_until": until.isoformat()}, case.version, when)
    who = PUBLIC if scope == "public" else user(f"member-{org}", {(tree[org], "member")})
    engine.submit(case.id, "comment", who, {"stance": "support", "text": f"SAID-{marker}"},
                  now=when)
    return case


@pytest.fixture
def drafts(engine, tree) -> dict[str, int]:
    made = {marker: opened(engine, tree, org, marker, scope).id
            for marker, (org, scope) in DRAFTS.items()}
    made["READY-T"] = approved(engine, tree, "T", "READY-T", "public").id
    return made


@pytest.fixture
def members(engine, tree, fast_passwords):
    return {"T": make_user(engine, "member-t", "T", ("member",)),
            "V": make_user(engine, "member-v", "V", ("member",)),
            "B": make_user(engine, "member-b", "B", ("member",)),
            "T-supervisor": make_user(engine, "jian-t", "T", ("supervisor",)),
            "T-officer": make_user(engine, "handler-t", "T", ("handler", "reviewer"))}


def markers(text: str) -> set[str]:
    return {m for m in [*DRAFTS, "READY-T"] if f"征求意见稿 {m}" in text or f"SAID-{m}" in text
            or f"草案正文 {m}" in text}


def api_markers(client, headers=None, **query) -> set[str]:
    response = client.get("/api/v1/pre-disclosures", query_string=query,
                          headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return markers(response.get_data(as_text=True))


def comment(client, case_id: int, headers=None, **body):
    return client.post(f"/api/v1/pre-disclosures/{case_id}/comments",
                       json={"stance": "suggest", "text": "建议分两期实施"} | body,
                       headers=headers or {})


# -- the API -----------------------------------------------------------------------------------


def test_g1_the_list_shows_each_caller_what_they_may_see(client, drafts, members):
    assert api_markers(client) == {"PUB-T", "PUB-B"}
    assert api_markers(client, bearer(members["T"])) == {"PUB-T", "PUB-B", "INT-T"}
    assert api_markers(client, bearer(members["V"])) == {"PUB-T", "PUB-B", "INT-T", "INT-V"}
    assert api_markers(client, bearer(members["B"])) == {"PUB-T", "PUB-B", "INT-B"}
    assert api_markers(client, bearer(members["T-officer"])) == {"PUB-T", "PUB-B"}
    assert api_markers(client, bearer(members["T"]), org="T") == {"PUB-T", "INT-T"}
    bad = client.get("/api/v1/pre-disclosures", headers=bearer("gk_wrong"))
    assert bad.status_code == 200 and 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    assert client.get("/api/v1/pre-disclosures?org=NOPE").status_code == 404


def test_p3_the_list_gives_the_days_left_and_the_number_of_comments(client, drafts):
    item = next(i for i in client.get("/api/v1/pre-disclosures").get_json()["items"]
                if i["id"] == drafts["PUB-T"])
    assert item["open"] is True and item["days_left"] == 15 and item["comments"] == 1
    assert item["closes_at"].endswith("T16:00:00.000000Z")
    assert item["notices"][0]["kind"] == "opened"
    assert "SAID-PUB-T" not in str(item), "comments themselves are not listed"


def test_p4_a_comment_over_the_api_gets_a_receipt_and_later_its_answer(
        client, engine, tree, drafts):
    sent = comment(client, drafts["PUB-T"], name="张三", contact="13800000001")
    assert sent.status_code == 201, sent.get_json()
    body = sent.get_json()
    assert set(body) == {"receipt", "access_code"} and body["receipt"].startswith("YJ-")
    path = f"/api/v1/pre-disclosures/{drafts['PUB-T']}/comments/{body['receipt']}"
    waiting = client.get(path, headers={"X-Access-Code": body["access_code"]})
    assert waiting.status_code == 200 and waiting.get_json()["disposition"] is None
    engine.fire(drafts["PUB-T"], "dispose", officer(tree, "T"),
                {"receipt": body["receipt"], "outcome": "partly", "reply": "将分两期实施"})
    seen = client.get(path, headers={"X-Access-Code": body["access_code"]}).get_json()
    assert seen["text"] == "建议分两期实施" and seen["disposition"]["outcome"] == "partly"
    assert seen["disposition"]["outcome_label"] == "部分采纳"
    assert "张三" not in str(seen) and "13800000001" not in str(seen)
    wrong = client.get(path, headers={"X-Access-Code": "WRONG-CODE1"})
    unknown = client.get(f"/api/v1/pre-disclosures/{drafts['PUB-T']}/comments/YJ-2026-999999",
                         headers={"X-Access-Code": body["access_code"]})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_json() == unknown.get_json()
    assert client.get(path).status_code == 404, "no code, no answer"


def test_g1_a_draft_outside_the_callers_scope_is_the_same_404_as_none(
        client, drafts, members):
    missing = comment(client, 999999)
    assert missing.status_code == 404
    for marker, headers in (("INT-T", None), ("INT-T", bearer(members["B"])),
                            ("INT-B", bearer(members["T"])), ("READY-T", None),
                            ("INT-T", bearer(members["T-officer"]))):
        refused = comment(client, drafts[marker], headers)
        assert refused.status_code == 404, marker
        assert refused.get_json() == missing.get_json(), marker
    assert comment(client, drafts["INT-T"], bearer(members["T"])).status_code == 201
    assert comment(client, drafts["INT-T"], bearer(members["V"])).status_code == 201


def test_g13_a_supervisors_comment_over_the_api_is_marked(client, engine, drafts, members):
    assert comment(client, drafts["PUB-T"], bearer(members["T-supervisor"])).status_code == 201
    assert comment(client, drafts["PUB-T"]).status_code == 201
    said = engine.get(drafts["PUB-T"], PUBLIC).data["comments"]
    assert [c["supervisor"] for c in said] == [False, True, False]
    assert said[1]["from"] == "user:jian-t"


def test_p3_p4_after_the_close_a_comment_is_refused_with_the_closing_time(
        client, engine, tree, drafts):
    late = opened(engine, tree, "T", "LATE-T", "public", days_ago=20)
    refused = comment(client, late.id)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "not_allowed"
    assert f"{late.data['comment_until']} 24:00" in refused.get_json()["message"]
    assert len(engine.get(late.id, PUBLIC).data["comments"]) == 1, "earlier ones kept"


def test_p4_hostile_comments_get_clear_4xx(client, drafts):
    too_long = comment(client, drafts["PUB-T"], text="长" * 2001)
    assert too_long.status_code == 422 and "2000" in too_long.get_json()["fields"]["text"]
    english = client.post(f"/api/v1/pre-disclosures/{drafts['PUB-T']}/comments?lang=en",
                          json={"stance": "maybe", "text": "x", "extra": 1})
    assert english.status_code == 422 and set(english.get_json()["fields"]) == {"extra"}
    assert client.post(f"/api/v1/pre-disclosures/{drafts['PUB-T']}/comments",
                       data="not json").status_code == 422
    stance = comment(client, drafts["PUB-T"], stance="maybe")
    assert stance.status_code == 422 and "stance" in stance.get_json()["fields"]


def test_the_api_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    assert "get" in paths["/api/v1/pre-disclosures"]
    post = paths["/api/v1/pre-disclosures/{case_id}/comments"]["post"]
    assert set(post["responses"]) >= {"201", "404", "409", "422", "429"}
    status = paths["/api/v1/pre-disclosures/{case_id}/comments/{receipt}"]["get"]
    assert any(p["name"] == "X-Access-Code" and p["in"] == "header"
               for p in status["parameters"])


def test_comments_are_rate_limited(engine, drafts):
    from web import create_app

    app = create_app({"ENGINE": engine, "SECRET_KEY": "t", "TESTING": True,
                      "BOARD_OPINION_RATE_LIMIT": "2 per minute"})
    limited = app.test_client()
    codes = [comment(limited, drafts["PUB-T"]).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert comment(limited, drafts["PUB-T"]).get_json()["error"] == "rate_limited"


def test_login_is_not_needed_to_comment_on_a_public_draft(client, drafts, members):
    login(client, members["B"])
    assert comment(client, drafts["PUB-T"]).status_code == 201, "a cookie is no token"
