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
from tests.web.conftest import bearer, login, make_user, officer
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
def members(engine, tree):
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


# -- the board's pages ----------------------------------------------------------------------------


def outcome_published(engine, tree, org: str, marker: str, scope: str):
    """A draft whose period is over, every comment answered, decided and published 党内."""
    from workflow.core.timers import run_due

    case = opened(engine, tree, org, marker, scope, days_ago=20)
    run_due(engine)
    handler = officer(tree, org)
    for c in engine.get(case.id, PUBLIC).data["comments"]:
        engine.fire(case.id, "dispose", handler, {"receipt": c["receipt"], "outcome": "adopted"})
    case = engine.get(case.id, PUBLIC)
    case = engine.fire(case.id, "decide", handler, {
        "decided_by": "党委", "meeting": "党委会议", "decided_on": local_date(utcnow()).isoformat(),
        "result": f"决定 {marker}", "revised_plan": f"方案 {marker}"}, case.version)
    return engine.fire(case.id, "publish_internal", handler, {"channels": ["meeting"]},
                       case.version)


@pytest.fixture
def outcomes(engine, tree) -> dict[str, int]:
    """Outcomes released 党内 only: an internal draft's and a public draft's."""
    return {m: outcome_published(engine, tree, "T", m, scope).id
            for m, scope in (("OUT-INT-T", "internal"), ("OUT-HALF-T", "public"))}


def surfaces(client, ids, headers=None) -> dict[str, str]:
    """Every way a draft, a comment or an outcome reaches a reader."""
    found = {}
    for path in ("/board/pre-disclosures", "/board/pre-disclosures?org=T",
                 "/board/pre-disclosures?org=C", "/board", "/board/T",
                 "/board/search?q=征求意见稿", "/board/search?q=决定", "/board/feed.atom",
                 "/board/T/feed.atom", "/api/v1/publications?q=决定"):
        response = client.get(path, headers=headers or {})
        assert response.status_code == 200, path
        found[path] = response.get_data(as_text=True)
    for path in ("/api/v1/pre-disclosures", "/api/v1/pre-disclosures?org=T"):
        found[path] = client.get(path, headers=headers or {}).get_data(as_text=True)
    for marker, case_id in ids.items():
        for path in (f"/board/pre-disclosures/{case_id}", f"/board/items/{case_id}/outcome"):
            response = client.get(path)
            assert response.status_code in (200, 404), path
            found[f"{path} {marker}"] = (response.get_data(as_text=True)
                                         if response.status_code == 200 else "")
    return found


def seen(found: dict[str, str]) -> set[str]:
    every = [*DRAFTS, "READY-T", "OUT-INT-T", "OUT-HALF-T"]
    text = "\n".join(found.values())
    return {m for m in every if f"征求意见稿 {m}" in text or f"SAID-{m}" in text
            or f"决定 {m}" in text}


def test_g1_no_internal_draft_comment_or_outcome_reaches_anyone_outside(
        client, drafts, outcomes, members):
    """No 党内 draft, comment or outcome — nor a public draft's outcome before its public
    release — reaches an anonymous visitor or another organisation's member, through a page,
    the feed, the search or the API."""
    ids = drafts | outcomes
    anonymous = surfaces(client, ids)
    assert seen(anonymous) == {"PUB-T", "PUB-B", "OUT-HALF-T"}, "the draft, not its outcome"
    assert "决定 OUT-HALF-T" not in "".join(anonymous.values())
    assert not any("SAID-" in text for text in anonymous.values()), "comments stay unlisted"
    for marker in (*INTERNAL, "READY-T", "OUT-INT-T"):
        assert client.get(f"/board/pre-disclosures/{ids[marker]}").status_code == 404, marker
    login(client, members["B"])
    other = surfaces(client, ids, bearer(members["B"]))
    assert seen(other) == {"PUB-T", "PUB-B", "INT-B", "OUT-HALF-T"}
    assert "决定 OUT-HALF-T" not in "".join(other.values())
    client.post("/logout")
    login(client, members["T"])
    own = surfaces(client, ids, bearer(members["T"]))
    assert {"INT-T", "OUT-INT-T"} <= seen(own) and "决定 OUT-HALF-T" in "".join(own.values())


def test_p3_the_board_lists_open_drafts_with_the_days_left_and_the_comments(client, drafts):
    page = client.get("/board/pre-disclosures").get_data(as_text=True)
    assert "还剩 15 天" in page and "已收到意见 1 条" in page
    english = client.get("/board/pre-disclosures?lang=en").get_data(as_text=True)
    assert "15 days left" in english and "Comments received: 1" in english


def test_p4_the_comment_form_gives_a_receipt_and_the_receipt_page_the_answer(
        client, engine, tree, drafts):
    form = client.get(f"/board/pre-disclosures/{drafts['PUB-T']}").get_data(as_text=True)
    assert 'id="comment-form"' in form and "以公众身份提交" in form
    sent = client.post(f"/board/pre-disclosures/{drafts['PUB-T']}/comments",
                       data={"stance": "object", "text": "新址太远", "contact": "13800000001"})
    assert sent.status_code == 201 and sent.headers["Cache-Control"] == "no-store"
    page = sent.get_data(as_text=True)
    number = page.split('id="receipt-number">')[1].split("<")[0]
    code = page.split('id="access-code">')[1].split("<")[0]
    handler = make_user(engine, "handler-t", "T", ("handler",))
    login(client, handler)
    case_page = client.get(f"/cases/{drafts['PUB-T']}").get_data(as_text=True)
    assert number in case_page and "138******01" in case_page, "contact masked on the list"
    answered = client.post(f"/cases/{drafts['PUB-T']}/actions/dispose", data={
        "receipt": number, "outcome": "not_adopted", "reason": "新址已开通公交专线",
        "expected_version": "0"})
    assert answered.status_code == 302, answered.get_data(as_text=True)
    client.post("/logout")
    wrong = client.post(f"/board/pre-disclosures/{drafts['PUB-T']}/receipt",
                        data={"receipt": number, "access_code": "WRONG-CODE1"})
    assert wrong.status_code == 404 and "新址太远" not in wrong.get_data(as_text=True)
    shown = client.post(f"/board/pre-disclosures/{drafts['PUB-T']}/receipt",
                        data={"receipt": number, "access_code": code}).get_data(as_text=True)
    assert "不予采纳" in shown and "新址已开通公交专线" in shown and "新址太远" in shown


def test_g8_the_honeypot_rejects_and_records_nothing(client, engine, drafts):
    refused = client.post(f"/board/pre-disclosures/{drafts['PUB-T']}/comments",
                          data={"stance": "support", "text": "spam", "website": "http://x"})
    assert refused.status_code == 400
    assert len(engine.get(drafts["PUB-T"], PUBLIC).data["comments"]) == 1


def test_p4_the_form_shows_field_errors_and_keeps_what_was_typed(client, drafts):
    refused = client.post(f"/board/pre-disclosures/{drafts['PUB-T']}/comments",
                          data={"stance": "", "text": "长" * 2001})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "2000" in page and "必填项" in page


def test_p4_comments_by_form_are_rate_limited(engine, drafts):
    from web import create_app

    app = create_app({"ENGINE": engine, "SECRET_KEY": "t", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "BOARD_OPINION_RATE_LIMIT": "1 per minute"})
    limited = app.test_client()
    path = f"/board/pre-disclosures/{drafts['PUB-T']}/comments"
    codes = [limited.post(path, data={"stance": "support", "text": "好"}).status_code
             for _ in range(2)]
    assert codes == [201, 429]


def test_p3_a_closed_draft_shows_its_closing_time_and_takes_no_comment(
        client, engine, tree, drafts):
    late = opened(engine, tree, "T", "LATE-T", "public", days_ago=20)
    page = client.get(f"/board/pre-disclosures/{late.id}").get_data(as_text=True)
    assert f"{late.data['comment_until']} 24:00" in page and 'id="comment-form"' not in page
    refused = client.post(f"/board/pre-disclosures/{late.id}/comments",
                          data={"stance": "support", "text": "迟到的意见"})
    assert refused.status_code == 409
    assert f"{late.data['comment_until']} 24:00" in refused.get_data(as_text=True)


def test_p5_p6_the_page_says_which_rule_deferred_it_and_later_shows_the_summary(
        client, engine, tree, members, outcomes):
    from workflow.core.timers import run_due

    case = opened(engine, tree, "T", "DEF-T", "public", days_ago=20)
    for _ in range(2):
        engine.submit(case.id, "comment", PUBLIC, {"stance": "object", "text": "反对"},
                      now=utcnow() - dt.timedelta(days=19))
    run_due(engine)
    page = client.get(f"/board/pre-disclosures/{case.id}").get_data(as_text=True)
    assert 'id="deferred"' in page and "反对 2 条" in page and "P5" in page
    login(client, members["T"])
    summary = client.get(f"/board/pre-disclosures/{outcomes['OUT-INT-T']}").get_data(
        as_text=True)
    assert 'id="outcome"' in summary and "方案 OUT-INT-T" in summary


def test_p4_the_officers_case_page_filters_comments_by_stance_and_outcome(
        client, engine, tree, drafts):
    case_id = drafts["PUB-T"]
    for stance in ("object", "object", "suggest"):
        engine.submit(case_id, "comment", PUBLIC, {"stance": stance, "text": f"说 {stance}"})
    first = engine.get(case_id, PUBLIC).data["comments"][1]["receipt"]
    engine.fire(case_id, "dispose", officer(tree, "T"),
                {"receipt": first, "outcome": "adopted"})
    login(client, make_user(engine, "handler-t", "T", ("handler",)))
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "共 4 条" in page and "反对 2" in page and "采纳 1" in page and "未处理 3" in page
    objections = client.get(f"/cases/{case_id}?stance=object").get_data(as_text=True)
    assert objections.count('class="comment"') == 2
    pending = client.get(f"/cases/{case_id}?stance=object&outcome=pending").get_data(
        as_text=True)
    assert pending.count('class="comment"') == 1 and first not in pending.split(
        'id="comments"')[1].split("</section>")[0]


def test_g1_the_drafts_documents_are_read_by_whoever_sees_the_draft(client, engine, tree,
                                                                   members):
    from tests.workflow.test_attachments import pdf
    from workflow.core.schema import Upload

    made, paper = {}, pdf()
    for marker, scope in (("DOC-PUB", "public"), ("DOC-INT", "internal")):
        handler = officer(tree, "T")
        case = engine.start("pre_disclosure", "T", handler, {
            "title": f"征求意见稿 {marker}", "draft_text": "见附件", "scope": scope,
            "forms": ["draft"], "documents": [Upload(f"{marker}.pdf", paper)]})
        case = engine.fire(case.id, "submit", handler, {}, case.version)
        case = engine.fire(case.id, "approve", officer(tree, "T", "reviewer"), CHECKED,
                           case.version)
        case = engine.fire(case.id, "approve_plan", officer(tree, "T", "leading_group"), {},
                           case.version)
        until = (local_date(utcnow()) + dt.timedelta(days=15)).isoformat()
        case = engine.fire(case.id, "open_comments", handler, {"comment_until": until},
                           case.version)
        made[marker] = (case.id, case.data["documents"][0]["attachment"])
    case_id, file_id = made["DOC-PUB"]
    page = client.get(f"/board/pre-disclosures/{case_id}").get_data(as_text=True)
    assert "DOC-PUB.pdf" in page
    listed = next(i for i in client.get("/api/v1/pre-disclosures").get_json()["items"]
                  if i["id"] == case_id)
    assert listed["documents"][0]["url"].endswith(f"/documents/{file_id}")
    got = client.get(f"/board/pre-disclosures/{case_id}/documents/{file_id}")
    assert got.status_code == 200 and got.data == paper
    assert client.get(f"/board/pre-disclosures/{case_id}/documents/{file_id + 1}"
                      ).status_code == 404, "another draft's file is not this draft's"
    case_id, file_id = made["DOC-INT"]
    assert client.get(f"/board/pre-disclosures/{case_id}/documents/{file_id}"
                      ).status_code == 404
    login(client, members["T"])
    assert client.get(f"/board/pre-disclosures/{case_id}/documents/{file_id}"
                      ).status_code == 200


def test_g10_each_published_outcome_is_a_row_of_the_ledger_with_its_comments(
        client, engine, outcomes):
    login(client, make_user(engine, "handler-t", "T", ("handler",)))
    import csv
    import io

    rows = list(csv.reader(io.StringIO(client.get("/ledger.csv").get_data(as_text=True))))
    row = next(r for r in rows if "OUT-INT-T" in r[3])
    assert "处理情况和结果已公开" in row and "SAID-OUT-INT-T" in row[12]  # state, comments
