"""The authorisation matrix: role × organisation × action, through both doors.

For the sample process, every trigger is tried by every kind of user on a case of the
town T, in a state where the trigger exists, and the outcome is compared with the
explicit table below: allowed (2xx, the case moved on), refused by role (403) or out of
the caller's scope (404, so the case's existence does not leak). The same table holds
for the JSON API and for the officers' HTML pages.
"""

from __future__ import annotations

import pytest

from tests.web.conftest import ROLES, login
from tests.workflow.sample import SAMPLE

API = "/api/v1"
OK = "ok"

# Who may do what to a case of the town T. Users (tests/web/conftest.py, ROLES):
# handler, reviewer, member, auditor at T; admin at the county C; upper = C's reviewer
# (the parent's consent, A3); sibling = the bureau B's reviewer (B is T's sibling under
# C); child = the village V's reviewer (V is under T, so T's cases are above it).
# A cell is OK (2xx, the case moved on), 403 (the role may not) or 404 (out of scope).
ROLE_ORDER = ("handler", "reviewer", "member", "auditor", "admin", "upper", "sibling", "child")
TABLE: dict[str, tuple[str | int, ...]] = {
    #               handler reviewer member auditor admin upper sibling child
    "submit":      (OK,     403,     403,   403,    403,  403,  404,    404),
    "comment":     (OK,     OK,      OK,    403,    403,  403,  404,    404),
    "approve":     (403,    OK,      403,   403,    403,  403,  404,    404),
    "consent":     (403,    403,     403,   403,    403,  OK,   404,    404),
    "reject":      (403,    OK,      403,   403,    403,  OK,   404,    404),
    "extend":      (403,    OK,      403,   403,    403,  403,  404,    404),
    "consult":     (403,    OK,      403,   403,    403,  403,  404,    404),
    "resume":      (403,    OK,      403,   403,    403,  403,  404,    404),
    "expire":      (403,    403,     403,   403,    403,  403,  404,    404),
    "notice_late": (403,    403,     403,   403,    403,  403,  404,    404),
}
TRIGGERS = tuple(TABLE)
EXPECTED = {role: tuple(TABLE[t][i] for t in TRIGGERS) for i, role in enumerate(ROLE_ORDER)}
NOT_FOUND = 404

# The state each trigger is tried in, the payload it is sent with, the state after it.
STATE = {"submit": "draft", "comment": "review", "approve": "review", "consent": "upper",
         "reject": "review", "extend": "review", "consult": "review",
         "resume": "consulting", "expire": "review", "notice_late": "draft"}
PAYLOAD = {"submit": {"amount": 10}, "comment": {"text": "同意"},
           "reject": {"reason": "材料不全"}, "extend": {"days": 2}}
AFTER = {"submit": "review", "comment": "review", "approve": "approved",
         "consent": "approved", "reject": "rejected", "extend": "review",
         "consult": "consulting", "resume": "review"}


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


def test_the_table_covers_every_role_and_trigger():
    assert set(ROLE_ORDER) == set(ROLES)
    assert set(TRIGGERS) == {t.name for t in SAMPLE.triggers}
    assert set(STATE) == set(TRIGGERS)
    assert all(len(row) == len(ROLE_ORDER) for row in TABLE.values())


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def case_in(client, users, state: str) -> dict:
    """A new case of the town T in ``state``, brought there through the API."""
    handler, reviewer = users["handler"], users["reviewer"]
    case = _ok(client.post(f"{API}/cases", headers=handler.headers, json={
        "kind": "sample", "org": "T", "payload": {"title": f"矩阵 {state}"}}), 201)
    if state in ("review", "upper", "consulting"):
        amount = 2000 if state == "upper" else 10
        case = _ok(client.post(f"{API}/cases/{case['id']}/actions/submit",
                               headers=handler.headers,
                               json={"payload": {"amount": amount},
                                     "expected_version": case["version"]}))
    if state in ("upper", "consulting"):
        trigger = "approve" if state == "upper" else "consult"
        case = _ok(client.post(f"{API}/cases/{case['id']}/actions/{trigger}",
                               headers=reviewer.headers,
                               json={"expected_version": case["version"]}))
    assert case["state"] == state
    return case


def reread(client, users, case_id: int) -> dict:
    return _ok(client.get(f"{API}/cases/{case_id}", headers=users["upper"].headers))


def outcome(response, before: dict, after: dict, trigger: str) -> str | int:
    """OK when the response succeeded and the case moved on; else the refusal's status."""
    if response.status_code in (200, 201, 302):
        assert after["seq"] == before["seq"] + 1
        assert after["state"] == AFTER[trigger]
        return OK
    assert (after["seq"], after["version"], after["state"]) == (
        before["seq"], before["version"], before["state"]), "a refusal changed the case"
    return response.status_code


@pytest.mark.parametrize("role", list(EXPECTED))
def test_matrix_through_the_api(client, users, role):
    user = users[role]
    found = []
    for trigger in TRIGGERS:
        case = case_in(client, users, STATE[trigger])
        response = client.post(f"{API}/cases/{case['id']}/actions/{trigger}",
                               headers=user.headers,
                               json={"payload": PAYLOAD.get(trigger, {}),
                                     "expected_version": case["version"]})
        result = outcome(response, case, reread(client, users, case["id"]), trigger)
        if result != OK:
            body = response.get_json()
            assert body["error"] == {403: "forbidden", 404: "not_found"}[result], body
        found.append(result)
        # reading agrees with acting: in scope iff readable; listed actions are allowed
        seen = client.get(f"{API}/cases/{case['id']}", headers=user.headers)
        if EXPECTED[role][0] == NOT_FOUND:
            assert seen.status_code == 404
        else:
            assert seen.status_code == 200
    assert dict(zip(TRIGGERS, found, strict=True)) == dict(
        zip(TRIGGERS, EXPECTED[role], strict=True))


@pytest.mark.parametrize("role", list(EXPECTED))
def test_listed_actions_are_the_allowed_ones(client, users, role):
    """``actions`` on the case offers exactly the cells of the table that are allowed."""
    user = users[role]
    for state in dict.fromkeys(STATE.values()):
        case = case_in(client, users, state)
        response = client.get(f"{API}/cases/{case['id']}", headers=user.headers)
        if EXPECTED[role][0] == NOT_FOUND:
            assert response.status_code == 404
            continue
        offered = {a["trigger"] for a in _ok(response)["actions"]}
        allowed = {t for t, cell in zip(TRIGGERS, EXPECTED[role], strict=True)
                   if cell == OK and STATE[t] == state}
        assert allowed <= offered, (state, offered)
        # the only extras a state offers are triggers tried in another state here
        for extra in offered - allowed:
            assert EXPECTED[role][TRIGGERS.index(extra)] == OK and STATE[extra] != state


@pytest.mark.parametrize("role", list(EXPECTED))
def test_matrix_through_the_pages(app, client, users, role):
    user = users[role]
    page = app.test_client()
    login(page, user)
    found = []
    for trigger in TRIGGERS:
        case = case_in(client, users, STATE[trigger])
        shown = page.get(f"/cases/{case['id']}")
        assert shown.status_code == (404 if EXPECTED[role][0] == NOT_FOUND else 200)
        form = {k: str(v) for k, v in PAYLOAD.get(trigger, {}).items()}
        response = page.post(f"/cases/{case['id']}/actions/{trigger}",
                             data={**form, "expected_version": case["version"]})
        assert response.mimetype == "text/html"
        found.append(outcome(response, case, reread(client, users, case["id"]), trigger))
    assert dict(zip(TRIGGERS, found, strict=True)) == dict(
        zip(TRIGGERS, EXPECTED[role], strict=True))
