"""The JSON API, end to end through the Flask test client: every status code of every
endpoint, the sample process walked through the API only, filters and keyset paging."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.web.conftest import bearer, login, make_user
from workflow.base.timeutil import LOCAL_TZ
from workflow.people import accounts

pytestmark = pytest.mark.dates  # swept over several days by make test

API = "/api/v1"


def start(client, user, title="修缮村部", org="T", **payload):
    response = client.post(f"{API}/cases", headers=user.headers,
                           json={"kind": "sample", "org": org,
                                 "payload": {"title": title, **payload}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, user, case, trigger, payload=None, version=None, headers=None):
    body = {"payload": payload or {}}
    if version is not False:
        body["expected_version"] = case["version"] if version is None else version
    return client.post(f"{API}/cases/{case['id']}/actions/{trigger}",
                       headers={**user.headers, **(headers or {})}, json=body)


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code
    assert set(body) == {"error", "message", "fields"}
    assert isinstance(body["message"], str) and body["message"]
    return body


# -- the whole walk ------------------------------------------------------------------------


def test_walk_the_sample_process_through_the_api(client, users, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 10, 0, tzinfo=LOCAL_TZ))  # a known year
    handler, reviewer, upper = users["handler"], users["reviewer"], users["upper"]
    created = client.post(f"{API}/cases", headers=handler.headers, json={
        "kind": "sample", "org": "T", "payload": {"title": "修缮村部"}})
    case = ok(created, 201)
    assert created.headers["Location"].endswith(f"/api/v1/cases/{case['id']}")
    assert case["state"] == "draft" and case["state_label"] == "起草"
    assert case["version"] == 1 and case["seq"] == 1 and case["org"] == "T"
    assert case["code"].startswith("SP-") and case["title"] == "修缮村部"
    assert case["data"] == {"title": "修缮村部"}  # no _settings, no _code
    assert case["due"] is None and case["due_at"] is None and case["assignee"] is None
    assert case["created_at"].endswith("Z") and case["updated_at"].endswith("Z")
    assert {a["trigger"] for a in case["actions"]} == {"submit", "comment"}
    submit = next(a for a in case["actions"] if a["trigger"] == "submit")
    assert submit["label"] == "提交" and submit["append_only"] is False
    assert submit["schema"]["properties"]["amount"]["type"] == "integer"

    case = ok(act(client, handler, case, "submit", {"amount": 2000}))
    assert case["state"] == "review" and case["version"] == 2
    assert case["due"] and case["due_at"].endswith("Z") and case["due_explain"]
    assert case["due"] == "2026-03-24" and case["due_provisional"] is False
    assert case["actions"] == [{"trigger": "comment", "label": "留言", "append_only": True,
                                "schema": case["actions"][0]["schema"]}]

    seen = ok(client.get(f"{API}/cases/{case['id']}", headers=reviewer.headers))
    assert [a["trigger"] for a in seen["actions"]][:4] == ["comment", "approve", "reject",
                                                           "extend"]
    case = ok(act(client, reviewer, seen, "approve"))
    assert case["state"] == "upper" and case["version"] == 3
    assert ok(client.get(f"{API}/cases/{case['id']}", headers=reviewer.headers))[
        "actions"] == [a for a in case["actions"]]
    seen = ok(client.get(f"{API}/cases/{case['id']}", headers=upper.headers))
    assert [a["trigger"] for a in seen["actions"]] == ["consent", "reject"]
    case = ok(act(client, upper, seen, "consent",
                  headers={"Accept-Language": "en"}))
    assert case["state"] == "approved" and case["state_label"] == "Approved"
    assert case["final"] is True and case["actions"] == [] and case["version"] == 4
    assert case["due"] is None

    events = ok(client.get(f"{API}/cases/{case['id']}/events", headers=handler.headers))
    items = events["items"]
    assert [e["trigger"] for e in items] == ["start", "submit", "approve", "consent"]
    assert [e["seq"] for e in items] == [1, 2, 3, 4]
    assert [(e["from_state"], e["to_state"]) for e in items] == [
        (None, "draft"), ("draft", "review"), ("review", "upper"), ("upper", "approved")]
    assert [e["actor"] for e in items] == ["user:handler", "user:handler", "user:reviewer",
                                          "user:upper"]
    assert [e["label"] for e in items] == ["立案", "提交", "批准", "同意"]
    assert items[0]["payload"] == {"title": "修缮村部"}  # without _code, _settings
    assert items[1]["payload"] == {"amount": 2000}
    for before, after in zip(items, items[1:], strict=False):
        assert after["prev_hash"] == before["hash"]
    assert all(e["at"].endswith("Z") and len(e["hash"]) == 64 for e in items)


def test_comments_need_no_version_and_do_not_bump_it(client, users):
    case = start(client, users["handler"])
    after = ok(act(client, users["member"], case, "comment", {"text": "赞成"}, version=False))
    assert after["version"] == case["version"] and after["seq"] == case["seq"] + 1
    assert after["data"]["comments"] == ["赞成"]
    # a stale version on an append-only trigger does not matter either
    ok(act(client, users["member"], case, "comment", {"text": "再议"}, version=0))


# -- 401 ---------------------------------------------------------------------------------


ENDPOINTS = [
    ("get", "/processes"), ("get", "/cases"), ("post", "/cases"), ("get", "/cases/{id}"),
    ("get", "/cases/{id}/events"), ("post", "/cases/{id}/actions/submit"),
    ("post", "/cases/{id}/assign"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_unauthenticated(client, users, engine, method, path):
    case = start(client, users["handler"])
    url = API + path.format(id=case["id"])
    body = {"payload": {"amount": 1}, "expected_version": case["version"]}
    with engine.db.write() as conn:
        accounts.revoke_tokens(conn, "handler")
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"},
                    {"Authorization": "Bearer "}, users["handler"].headers):
        response = getattr(client, method)(url, headers=headers, json=body)
        error = assert_error(response, 401, "unauthenticated")
        assert error["message"] == "缺少或无效的访问令牌"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = getattr(client, method)(url, headers={"Accept-Language": "en"}, json=body)
    assert assert_error(response, 401, "unauthenticated")["message"] == (
        "Missing or invalid access token")
    # nothing happened: the case is as it was, and no other case was opened
    after = ok(client.get(f"{API}/cases/{case['id']}", headers=users["reviewer"].headers))
    assert (after["version"], after["seq"], after["assignee"]) == (1, 1, None)
    listed = ok(client.get(f"{API}/cases?view=org", headers=users["reviewer"].headers))
    assert [item["id"] for item in listed["items"]] == [case["id"]]


def test_a_session_cookie_is_not_accepted(app, users):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, users["handler"])
    assert client.get("/inbox").status_code == 200  # the pages see the session
    assert_error(client.get(f"{API}/cases"), 401, "unauthenticated")
    assert_error(client.post(f"{API}/cases", json={"kind": "sample", "org": "T",
                                                   "payload": {"title": "x"}}),
                 401, "unauthenticated")


def test_a_new_token_works_after_revoking_the_old(client, users, engine):
    with engine.db.write() as conn:
        accounts.revoke_tokens(conn, "member")
        token = accounts.new_token(conn, "member")
    assert_error(client.get(f"{API}/cases", headers=users["member"].headers), 401,
                 "unauthenticated")
    ok(client.get(f"{API}/cases", headers=bearer(token)))


def test_an_inactive_user_is_unauthenticated(client, users, engine):
    import sqlalchemy as sa

    from workflow.store.models import User

    with engine.db.write() as conn:
        conn.execute(sa.update(User.__table__).where(User.__table__.c.username == "member")
                     .values(active=False))
    assert_error(client.get(f"{API}/cases", headers=users["member"].headers), 401,
                 "unauthenticated")


# -- processes --------------------------------------------------------------------------


def test_processes(client, users):
    body = ok(client.get(f"{API}/processes", headers=users["member"].headers))
    (sample,) = body["items"]
    assert (sample["kind"], sample["version"], sample["latest"]) == ("sample", 1, True)
    assert sample["label"] == "样例审批" and sample["initial"] == "draft"
    states = {s["name"]: s for s in sample["states"]}
    assert {"draft", "review", "upper", "approved", "rejected", "expired"} <= set(states)
    assert states["upper"] == {"name": "upper", "label": "上级同意", "final": False,
                               "role": "upper:reviewer"}
    assert states["approved"]["final"] is True and states["approved"]["role"] is None
    assert sample["start"]["roles"] == ["handler"]
    assert sample["start"]["schema"]["required"] == ["title"]
    triggers = {t["name"]: t for t in sample["triggers"]}
    assert list(triggers)[:6] == ["submit", "comment", "approve", "consent", "reject",
                                  "extend"]
    assert list(triggers)[-1] == "remind" and triggers["remind"]["roles"] == ["system"]
    assert triggers["approve"]["to"] == ["approved", "upper"]
    assert triggers["reject"]["from"] == ["review", "upper"]
    assert triggers["reject"]["roles"] == ["reviewer", "upper:reviewer"]
    assert triggers["comment"]["append_only"] is True and triggers["comment"]["to"] == [None]
    assert triggers["submit"]["schema"]["properties"]["amount"]["minimum"] == 0
    assert triggers["submit"]["schema_ref"] == "#/components/schemas/sample.v1.submit"
    timers = {t["name"]: t for t in sample["timers"]}
    after = {"unit": "working_days", "n": 10, "setting": "deadline_days",
             "n_field": "deadline_n", "start_field": "submitted_on"}
    assert {k: timers["deadline"]["after"].get(k) for k in after} == after
    assert timers["deadline"]["reminders"] == [5, 1] and timers["deadline"]["sets_due"]
    assert timers["deadline"]["label"] == "审核期限" and timers["deadline"]["trigger"] == "expire"
    assert timers["notice"]["after"]["unit"] == "at_field"
    en = ok(client.get(f"{API}/processes", headers={**users["member"].headers,
                                                    "Accept-Language": "en-US,en;q=0.9"}))
    assert en["items"][0]["label"] == "Sample approval"


# -- starting a case ----------------------------------------------------------------------


def test_start_refusals(client, users):
    handler = users["handler"]

    def post(user, body=None, **kw):
        return client.post(f"{API}/cases", headers={**user.headers, **kw.pop("headers", {})},
                           json=body, **kw)

    good = {"kind": "sample", "org": "T", "payload": {"title": "甲"}}
    assert_error(post(users["member"], good), 403, "forbidden")
    assert_error(post(users["reviewer"], good), 403, "forbidden")
    assert_error(post(users["upper"], good), 403, "forbidden")  # in scope, wrong role
    # an organisation outside the caller's tree, or none at all, is not found
    assert_error(post(handler, good | {"org": "B"}), 404, "not_found")
    assert_error(post(handler, good | {"org": "C"}), 404, "not_found")
    assert_error(post(handler, good | {"org": "NOPE"}), 404, "not_found")

    body = assert_error(post(handler, {"kind": "sample", "org": "T", "payload": {}}),
                        422, "invalid")
    assert body["fields"] == {"title": "必填项"}
    body = assert_error(post(handler, {"kind": "nope", "org": "T", "payload": {"title": 1}},
                             headers={"Accept-Language": "en"}), 422, "invalid")
    assert body["fields"] == {"kind": "No such process"}
    body = assert_error(post(handler, {"payload": []}), 422, "invalid")
    assert body["fields"] == {"kind": "必填项", "org": "必填项", "payload": "应为 JSON 对象"}
    body = assert_error(post(handler, good | {"payload": {"title": "甲", "x": 1}}), 422,
                        "invalid")
    assert body["fields"] == {"x": "不认识的字段"}
    body = assert_error(post(handler, good | {"extra": True}), 422, "invalid")
    assert body["fields"] == {"extra": "不认识的字段"}
    body = assert_error(post(handler, good | {"payload": {"title": "甲",
                                                          "meeting_at": "someday"}}),
                        422, "invalid")
    assert body["fields"] == {"meeting_at": "时间格式应为 YYYY-MM-DDTHH:MM"}
    body = assert_error(post(handler, good | {"payload": "title"}), 422, "invalid")
    assert body["fields"] == {"payload": "应为 JSON 对象"}
    for raw in (b"{not json", b"[1, 2]", b'"text"'):
        response = client.post(f"{API}/cases", headers=handler.headers, data=raw,
                               content_type="application/json")
        body = assert_error(response, 422, "invalid")
        assert set(body["fields"]) == {"body"}
    response = client.post(f"{API}/cases", headers={**handler.headers,
                                                   "Accept-Language": "en"},
                           data=b"{oops", content_type="application/json")
    assert assert_error(response, 422, "invalid")["message"] == (
        "The request body is not valid JSON")
    # nothing was written by any refusal
    assert ok(client.get(f"{API}/cases?view=org", headers=handler.headers))["items"] == []
    case = ok(post(handler, good), 201)
    assert case["title"] == "甲"


# -- reading ------------------------------------------------------------------------------


def test_get_case_and_events_scope(client, users):
    case = start(client, users["handler"])
    for name in ("handler", "reviewer", "member", "auditor", "admin", "upper"):
        ok(client.get(f"{API}/cases/{case['id']}", headers=users[name].headers))
        ok(client.get(f"{API}/cases/{case['id']}/events", headers=users[name].headers))
    for name in ("sibling", "child"):
        for suffix in ("", "/events"):
            response = client.get(f"{API}/cases/{case['id']}{suffix}",
                                  headers=users[name].headers)
            body = assert_error(response, 404, "not_found")
            assert body["message"] == "找不到该事项"
    for suffix in ("", "/events"):
        response = client.get(f"{API}/cases/999999{suffix}",
                              headers={**users["handler"].headers, "Accept-Language": "en"})
        assert assert_error(response, 404, "not_found")["message"] == "Not found"
    # a member sees the case but may take only the comment
    member = ok(client.get(f"{API}/cases/{case['id']}", headers=users["member"].headers))
    assert [a["trigger"] for a in member["actions"]] == ["comment"]
    auditor = ok(client.get(f"{API}/cases/{case['id']}", headers=users["auditor"].headers))
    assert auditor["actions"] == []


def test_unknown_api_path_is_json_404(client, users):
    response = client.get(f"{API}/nowhere", headers=users["handler"].headers)
    assert_error(response, 404, "not_found")


# -- actions ------------------------------------------------------------------------------


def test_action_refusals(client, users):
    handler, reviewer = users["handler"], users["reviewer"]
    case = start(client, handler)

    # 404: unknown case; a case in another organisation's tree (even with a good body)
    missing = dict(case, id=999999)
    assert_error(act(client, handler, missing, "submit", {"amount": 1}), 404, "not_found")
    assert_error(act(client, users["sibling"], case, "submit", {"amount": 1}), 404,
                 "not_found")
    assert_error(act(client, users["child"], case, "comment", {"text": "x"}, version=False),
                 404, "not_found")

    # 403: the role does not hold the trigger
    body = assert_error(act(client, reviewer, case, "submit", {"amount": 1}), 403,
                        "forbidden")
    assert body["message"] == "您的角色不能执行此操作"
    assert_error(act(client, users["auditor"], case, "submit", {"amount": 1},
                     headers={"Accept-Language": "en"}), 403, "forbidden")

    # 409 stale_version: the version the caller saw is not the case's
    body = assert_error(act(client, handler, case, "submit", {"amount": 1},
                            version=case["version"] - 1), 409, "stale_version")
    assert "刷新" in body["message"]

    # 409 not_allowed: wrong state, unknown trigger, a validity guard (with the reason)
    body = assert_error(act(client, reviewer, case, "approve"), 409, "not_allowed")
    assert body["message"] == "“起草”状态下不能执行“批准”"
    body = assert_error(act(client, handler, case, "fly"), 409, "not_allowed")
    assert body["message"] == "没有这个操作：fly"
    body = assert_error(act(client, handler, case, "submit", {"amount": 6000}), 409,
                        "not_allowed")
    assert body["message"] == "金额超过上限"
    body = assert_error(act(client, handler, case, "submit", {"amount": 6000},
                            headers={"Accept-Language": "en"}), 409, "not_allowed")
    assert body["message"] == "Amount above the limit"

    # 422: field errors, in zh-CN and in English
    body = assert_error(act(client, handler, case, "submit", {}), 422, "invalid")
    assert body["fields"] == {"amount": "必填项"}
    assert body["message"] == "提交的内容有误，请检查"
    body = assert_error(act(client, handler, case, "submit", {"amount": "many", "x": 1},
                            headers={"Accept-Language": "en"}), 422, "invalid")
    assert body["fields"] == {"amount": "Must be a whole number", "x": "Unknown field"}
    assert body["message"] == "The submission has errors; please check"
    body = assert_error(act(client, handler, case, "submit", {"amount": -1}), 422, "invalid")
    assert body["fields"] == {"amount": "不能小于 0"}

    # 422: the request's own shape
    url = f"{API}/cases/{case['id']}/actions/submit"
    body = assert_error(act(client, handler, case, "submit", {"amount": 1}, version=False),
                        422, "invalid")
    assert body["fields"] == {"expected_version": "必填项"}
    body = assert_error(act(client, handler, case, "submit", {"amount": 1}, version=False,
                            headers={"Accept-Language": "en"}), 422, "invalid")
    assert body["fields"] == {"expected_version": "This field is required"}
    for bad in ("1", 1.5, True, [1]):
        body = assert_error(client.post(url, headers=handler.headers, json={
            "payload": {"amount": 1}, "expected_version": bad}), 422, "invalid")
        assert body["fields"] == {"expected_version": "应为整数"}
    for bad in ([1], "amount=1", 3, None):
        body = assert_error(client.post(url, headers=handler.headers, json={
            "payload": bad, "expected_version": case["version"]}), 422, "invalid")
        assert body["fields"] == {"payload": "应为 JSON 对象"}
    body = assert_error(client.post(url, headers={**handler.headers, "Accept-Language": "en"},
                                    json={"payload": 1, "expected_version": 1}),
                        422, "invalid")
    assert body["fields"] == {"payload": "Must be a JSON object"}
    body = assert_error(client.post(url, headers=handler.headers, data=b"{",
                                    content_type="application/json"), 422, "invalid")
    assert body["message"] == "请求体不是有效的 JSON"
    assert body["fields"] == {"body": "请求体不是有效的 JSON"}
    body = assert_error(client.post(url, headers=handler.headers, json={
        "payload": {"amount": 1}, "expected_verison": 1}), 422, "invalid")
    assert body["fields"] == {"expected_verison": "不认识的字段"}

    # every refusal left the case as it was
    after = ok(client.get(f"{API}/cases/{case['id']}", headers=handler.headers))
    assert (after["state"], after["version"], after["seq"]) == ("draft", 1, 1)


def test_a_reviewer_may_not_approve_their_own_submission(client, users, engine):
    both = make_user(engine, "both", "T", ["handler", "reviewer"])
    case = start(client, both)
    case = ok(act(client, both, case, "submit", {"amount": 10}))
    assert "approve" not in [a["trigger"] for a in case["actions"]]
    body = assert_error(act(client, both, case, "approve"), 409, "not_allowed")
    assert body["message"] == "不能审核自己提交的事项"
    ok(act(client, users["reviewer"], case, "approve"))


def test_two_officers_on_one_case_the_second_is_stale(client, users, engine):
    second = make_user(engine, "reviewer2", "T", ["reviewer"])
    case = start(client, users["handler"])
    case = ok(act(client, users["handler"], case, "submit", {"amount": 10}))
    ok(act(client, users["reviewer"], case, "extend", {"days": 2}))
    body = assert_error(act(client, second, case, "approve"), 409, "stale_version")
    assert body["fields"] == {}
    fresh = ok(client.get(f"{API}/cases/{case['id']}", headers=second.headers))
    assert ok(act(client, second, fresh, "approve"))["state"] == "approved"


# -- assign -------------------------------------------------------------------------------


def test_claim_assign_release(client, users):
    """Officers of the current step claim and release their own claim; the office or the
    reviewer gives a case to another such officer or takes a claim back; members and
    auditors cannot take a case at all (403, nothing changes)."""
    case = start(client, users["handler"])
    url = f"{API}/cases/{case['id']}/assign"
    claimed = ok(client.post(url, headers=users["handler"].headers,
                             json={"assignee": "handler"}))
    assert claimed["assignee"] == "handler" and claimed["version"] == case["version"]
    assert_error(client.post(url, headers=users["member"].headers,
                             json={"assignee": "member"}), 403, "forbidden")
    body = assert_error(client.post(url, headers=users["reviewer"].headers,
                                    json={"assignee": "member"}), 422, "invalid")
    assert "assignee" in body["fields"]
    taken = ok(client.post(url, headers=users["reviewer"].headers, json={"assignee": "reviewer"}))
    assert taken["assignee"] == "reviewer"
    assert_error(client.post(url, headers=users["handler"].headers, json={"assignee": None}),
                 403, "forbidden")
    assigned = ok(client.post(url, headers=users["reviewer"].headers,
                              json={"assignee": "handler"}))
    assert assigned["assignee"] == "handler"
    released = ok(client.post(url, headers=users["handler"].headers, json={"assignee": None}))
    assert released["assignee"] is None
    assert_error(client.post(url, headers=users["sibling"].headers,
                             json={"assignee": "sibling"}), 404, "not_found")
    assert_error(client.post(f"{API}/cases/999999/assign", headers=users["handler"].headers,
                             json={"assignee": None}), 404, "not_found")
    for bad, message in (({}, "必填项"), ({"assignee": 5}, "应为文字"),
                         ({"assignee": ""}, "应为文字")):
        body = assert_error(client.post(url, headers=users["handler"].headers, json=bad),
                            422, "invalid")
        assert body["fields"] == {"assignee": message}
    mine = ok(client.get(f"{API}/cases", headers=users["handler"].headers,
                         query_string={"view": "org", "assignee": "handler"}))
    assert mine["items"] == []


# -- listing: filters and keyset paging ------------------------------------------------------


def walk(client, user, **query):
    """Every page of a listing: the ids in order, and how many pages it took."""
    ids, pages, after = [], 0, None
    while True:
        params = dict(query, **({"after": after} if after else {}))
        body = ok(client.get(f"{API}/cases", headers=user.headers, query_string=params))
        pages += 1
        ids += [item["id"] for item in body["items"]]
        after = body["next"]
        if after is None:
            return ids, pages
        assert pages < 50


def test_keyset_paging_has_no_duplicates_or_gaps(client, users):
    handler = users["handler"]
    made = [start(client, handler, title=f"事项{i}")["id"] for i in range(7)]
    ids, pages = walk(client, handler, view="org", limit=3)
    assert ids == sorted(made, reverse=True) and pages == 3
    ids, pages = walk(client, handler, view="org", limit=7)
    assert ids == sorted(made, reverse=True) and pages == 1
    # a case added while paging shows up on no later page and breaks nothing
    first = ok(client.get(f"{API}/cases", headers=handler.headers,
                          query_string={"view": "org", "limit": 4}))
    start(client, handler, title="新来的")
    rest, _ = walk(client, handler, view="org", limit=4, after=first["next"])
    assert [i["id"] for i in first["items"]] + rest == sorted(made, reverse=True)


def test_keyset_paging_by_due_date(client, users):
    handler, reviewer = users["handler"], users["reviewer"]
    made = []
    for i in range(5):
        case = start(client, handler, title=f"待审{i}")
        made.append(ok(act(client, handler, case, "submit", {"amount": 10}))["id"])
    # different due dates: extend some deadlines
    for case_id, days in zip(made[:3], (5, 1, 3), strict=True):
        case = ok(client.get(f"{API}/cases/{case_id}", headers=reviewer.headers))
        ok(act(client, reviewer, case, "extend", {"days": days}))
    start(client, handler, title="没有期限")  # a draft has no due date: not listed by due
    ids, pages = walk(client, reviewer, view="org", sort="due", limit=2)
    assert sorted(ids) == sorted(made) and len(ids) == len(set(ids)) and pages == 3
    body = ok(client.get(f"{API}/cases", headers=reviewer.headers,
                         query_string={"view": "org", "sort": "due", "limit": 10}))
    dues = [(item["due_at"], item["id"]) for item in body["items"]]
    assert dues == sorted(dues)
    assert [i for _d, i in dues] == ids


def test_filters(client, users, engine):
    handler, reviewer = users["handler"], users["reviewer"]
    draft = start(client, handler, title="修路方案")
    review = start(client, handler, title="修桥方案")
    review = ok(act(client, handler, review, "submit", {"amount": 10}))
    village = start(client, make_user(engine, "village_handler", "V", ["handler"]),
                    title="村务", org="V")

    def ids(user, **query):
        body = ok(client.get(f"{API}/cases", headers=user.headers, query_string=query))
        return {item["id"] for item in body["items"]}

    everything = {draft["id"], review["id"], village["id"]}
    assert ids(handler, view="org") == everything  # the town sees its village too
    assert ids(users["upper"], view="org") == everything
    assert ids(users["sibling"], view="org") == set()
    assert ids(users["child"], view="org") == {village["id"]}
    assert ids(handler, view="org", org="V") == {village["id"]}
    assert ids(handler, view="org", org="B") == set()  # outside the tree: nothing leaks
    assert ids(handler, view="org", state="review") == {review["id"]}
    assert ids(handler, view="org", kind="sample") == everything
    assert ids(handler, view="org", kind="other") == set()
    assert ids(handler, view="org", q="修桥") == {review["id"]}
    assert ids(handler, view="org", q=draft["code"].lower()) == {draft["id"]}
    # "mine": the cases waiting on one of my roles
    assert ids(handler) == {draft["id"]}  # drafts wait on the town's handler
    assert ids(reviewer) == {review["id"]}
    assert ids(users["child"]) == set()  # the village draft waits on its handler
    assert ids(users["member"]) == set()
    # due and overdue views list open cases with a due date
    assert ids(reviewer, view="overdue") == set()
    assert ids(reviewer, view="due") <= {review["id"]}

    body = ok(client.get(f"{API}/cases", headers=handler.headers,
                         query_string={"view": "org", "state": "review"}))
    (item,) = body["items"]
    assert item["state_label"] == "审核" and item["org"] == "T" and item["org_name"] == "组织T"
    assert item["due"] and item["days_left"] == 10 and item["overdue"] is False
    assert body["next"] is None
    en = ok(client.get(f"{API}/cases", query_string={"view": "org", "state": "review",
                                                     "lang": "en"}, headers=handler.headers))
    assert en["items"][0]["state_label"] == "Review"


@pytest.mark.parametrize(("query", "fields"), [
    ({"view": "all"}, {"view"}),
    ({"sort": "old"}, {"sort"}),
    ({"limit": "0"}, {"limit"}),
    ({"limit": "201"}, {"limit"}),
    ({"limit": "ten"}, {"limit"}),
    ({"after": "x"}, {"after"}),
    ({"sort": "due", "after": "12"}, {"after"}),
    ({"view": "overdue", "after": "yesterday|3"}, {"after"}),
    ({"sort": "due", "after": "2026-01-01T00:00|3"}, {"after"}),  # no offset: forged
    ({"view": "all", "sort": "old", "limit": "-1"}, {"view", "sort", "limit"}),
])
def test_list_refusals(client, users, query, fields):
    response = client.get(f"{API}/cases", headers=users["handler"].headers,
                          query_string=query)
    body = assert_error(response, 422, "invalid")
    assert set(body["fields"]) == fields
    en = client.get(f"{API}/cases", headers={**users["handler"].headers,
                                             "Accept-Language": "en"}, query_string=query)
    assert en.get_json()["fields"] != body["fields"]


# -- 429 ----------------------------------------------------------------------------------


def test_rate_limited(app, client, users):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        ok(client.get(f"{API}/cases", headers=users["handler"].headers))
    body = assert_error(client.get(f"{API}/cases", headers=users["handler"].headers), 429,
                        "rate_limited")
    assert body["message"] == "请求过于频繁，请稍后再试"
    response = client.get(f"{API}/processes", headers={**users["handler"].headers,
                                                      "Accept-Language": "en"})
    assert assert_error(response, 429, "rate_limited")["message"] == (
        "Too many requests; try later")
    # the limit is per token: another caller is not affected
    ok(client.get(f"{API}/cases", headers=users["reviewer"].headers))
