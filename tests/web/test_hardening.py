"""What an outside review broke (issue 20), one test per item, each failing on the code
before its fix."""

from __future__ import annotations

import pytest

from tests.web.conftest import login
from web.auth import local_path


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


@pytest.mark.parametrize("target", [
    "/\t/evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
    "https://evil.example/", "javascript:alert(1)", " //evil.example", "\x01//evil.example",
    "/\n/evil.example", "/\x00/x", "", None, "inbox",
])
def test_item1_next_is_only_a_path_on_this_site(client, target):
    assert local_path(target) is None
    if target is not None and "\x00" not in target:
        response = client.get("/lang/en", query_string={"next": target})
        assert response.status_code == 302
        assert response.headers["Location"] == "/inbox"


@pytest.mark.parametrize("target", ["/board", "/cases/7?tab=events", "/x/../y"])
def test_item1_a_path_on_this_site_is_kept(client, target):
    assert client.get("/lang/en", query_string={"next": target}).headers["Location"] == target


def test_item1_login_takes_the_same_rule(client, users):
    response = client.post("/login", query_string={"next": "/\t/evil.example"},
                           data={"username": users["handler"].username,
                                 "password": users["handler"].password})
    assert response.headers["Location"] == "/inbox"
    login(client, users["handler"])


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_item2_every_export_cell_is_inert(text):
    import csv
    import io

    from openpyxl import load_workbook

    from web.exports import csv_bytes, xlsx_bytes

    rows = list(csv.reader(io.StringIO(csv_bytes([text, "ok"], [[text, 5]]).decode("utf-8-sig"),
                                       newline="")))
    assert rows == [["'" + text, "ok"], ["'" + text, "5"]]
    sheet = load_workbook(io.BytesIO(xlsx_bytes("t", [text], [[text]]))).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.strip() == text.strip()


@pytest.mark.parametrize("url", [
    "/api/v1/cases/99999999999999999999999", "/api/v1/cases/9223372036854775808",
    "/board/items/9223372036854775808", "/cases/18446744073709551616",
])
def test_item3_ids_past_64_bits_name_nothing(client, users, url):
    response = client.get(url, headers=users["handler"].headers)
    assert response.status_code == 404


@pytest.mark.parametrize("query", [{"after": "99999999999999999999"}, {"after": "١٢"},
                                   {"state": "a\x00b"}, {"q\x00": "x"}])
def test_item3_odd_query_strings_are_field_errors(client, users, query):
    response = client.get("/api/v1/cases", headers=users["handler"].headers,
                          query_string=query)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["error"] == "invalid" and response.json["fields"]


#: times at the calendar's edges: with their offset (or Asia/Shanghai's) they have no UTC
#: form, and the day after 9999-12-31 does not exist
EDGE_TIMES = [
    ("handler", "/inbox?view=org&sort=due&after=9999-12-31T23:59:59-14:00|5"),
    ("handler", "/inbox?view=org&sort=due&before=0001-01-01T00:00:00%2B14:00|5"),
    ("handler", "/inbox?view=org&sort=due&after=2026-01-01T00:00|5"),
    ("auditor", "/audit/?since=9999-12-31T23:59:59-14:00"),
    ("auditor", "/audit/?since=0001-01-01"),
    ("auditor", "/audit/?until=9999-12-31"),
    ("auditor", "/audit/?until=0001-01-01T00:00:00%2B14:00"),
    ("auditor", "/audit/export/bundle?since=9999-12-31T23:59:59-14:00"),
]


@pytest.mark.parametrize(("who", "url"), EDGE_TIMES)
def test_a_time_at_the_calendars_edge_is_a_field_error(client, users, who, url):
    login(client, users[who])
    response = client.get(url)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]


def test_item3_a_nul_in_the_path_or_a_form_is_not_a_server_error(client, users):
    assert client.get("/board/items/1\x00").status_code == 404
    login(client, users["handler"])
    response = client.post("/cases/new", data={"kind": "sample\x00"})
    assert response.status_code == 422


@pytest.mark.parametrize("body", [
    {"delivery": [None]}, {"delivery": {"a": 1}}, {"name": {"x": 1}}, {"name": ["a"]},
    {"member": [1]}, {"description": 10**30},
])
def test_item3_values_of_the_wrong_type_are_field_errors(client, body):
    payload = {"org": "T", "name": "张三", "phone": "13800000001", "description": "党费",
               "delivery": "email", "email": "a@example.org"} | body
    response = client.post("/api/v1/applications", json=payload)
    assert response.status_code in (404, 422), response.get_data(as_text=True)


def _saved_session(client):
    return client.get_cookie("session").value


def _with_session(app, cookie):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_item4_a_session_saved_before_logout_opens_nothing(app, client, users):
    login(client, users["handler"])
    saved = _saved_session(client)
    assert _with_session(app, saved).get("/inbox").status_code == 200
    client.post("/logout")
    assert _with_session(app, saved).get("/inbox").status_code == 302, "back to the login"
    token = client.get("/api/v1/cases", headers=users["handler"].headers)
    assert token.status_code == 401, "logout ends the user's tokens too"


@pytest.mark.parametrize("how", ["revoke", "disable", "password"])
def test_item4_revoking_disabling_or_a_new_password_ends_every_session(app, client, users,
                                                                       engine, how):
    from workflow.people import accounts

    login(client, users["handler"])
    saved = _saved_session(client)
    with engine.db.write() as conn:
        if how == "revoke":
            accounts.revoke_tokens(conn, "handler")
        elif how == "disable":
            accounts.disable(conn, "handler")
        else:
            account = accounts.authenticate(conn, "handler", users["handler"].password)
            accounts.set_password(conn, account.id, "a-new-password-1")
    assert _with_session(app, saved).get("/inbox").status_code == 302
    assert client.get("/api/v1/cases", headers=users["handler"].headers).status_code == 401


@pytest.fixture
def busy_app(db_url, registry, monkeypatch, users):
    """An app whose database waits 0.3 s for another writer's lock (the default is 5 s)."""
    from web import create_app
    from workflow.core.engine import Engine
    from workflow.store.db import Database

    monkeypatch.setenv("GONGKAI_DB_BUSY_SECONDS", "0.3")
    database = Database(db_url)
    engine = Engine(database, registry)
    yield create_app({"ENGINE": engine, "SECRET_KEY": "t", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    database.dispose()


def _hold_the_write_lock(engine, case_id):
    """Another writer's open transaction: on SQLite the database lock, on PostgreSQL the
    case row's lock. Returns the function that lets go."""
    if engine.db.is_sqlite:
        import sqlite3

        path = engine.db.engine.url.database
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = engine.db.engine.raw_connection()
        other.cursor().execute("SELECT id FROM cases WHERE id = %s FOR UPDATE", (case_id,))

    def release():
        other.rollback()
        other.close()

    return release


def test_item8_a_locked_database_answers_503_and_the_retry_succeeds(busy_app, engine, users):
    from workflow.audit.chain import verify

    client = busy_app.test_client()
    case = client.post("/api/v1/cases", headers=users["handler"].headers,
                       json={"kind": "sample", "org": "T", "payload": {"title": "加锁测试"}})
    assert case.status_code == 201, case.get_json()
    case = case.get_json()
    url = f"/api/v1/cases/{case['id']}/actions/submit"
    body = {"payload": {"amount": 5}, "expected_version": case["version"]}
    release = _hold_the_write_lock(engine, case["id"])
    try:
        busy = client.post(url, headers=users["handler"].headers, json=body)
        assert busy.status_code == 503 and busy.get_json()["error"] == "unavailable"
        assert busy.headers["Retry-After"].isdigit()
    finally:
        release()
    retried = client.post(url, headers=users["handler"].headers, json=body)
    assert retried.status_code == 200, "nothing was half-written: the same request succeeds"
    assert retried.get_json()["version"] == case["version"] + 1
    assert verify(engine.db, engine.registry).ok


def test_item8_a_full_disk_is_unavailable_not_a_fault():
    import sqlite3

    from workflow.store.db import unavailable

    assert unavailable(sqlite3.OperationalError("database or disk is full"))
    assert unavailable(sqlite3.OperationalError("database is locked"))
    assert not unavailable(sqlite3.OperationalError("no such table: x"))

    class Pg(Exception):
        sqlstate = "53100"  # disk_full

    assert unavailable(Pg())


@pytest.mark.parametrize("url", ["/board", "/login", "/api/v1/docs"])
def test_item9_pages_send_the_security_headers(client, url):
    response = client.get(url)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split(
        "script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_item9_json_answers_are_not_sniffed(client):
    response = client.get("/api/v1/openapi.json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_item9_no_template_runs_an_inline_script():
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "web" / "templates"
    for path in templates.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, f"{path.name}: {tag}"
        assert not re.search(r"\son[a-z]+=", text), f"{path.name}: an inline event handler"


def test_a_form_without_its_csrf_token_changes_nothing(engine, users):
    from web import create_app

    app = create_app({"ENGINE": engine, "SECRET_KEY": "t", "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    client = app.test_client()
    response = client.post("/login", data={"username": users["handler"].username,
                                           "password": users["handler"].password})
    assert response.status_code == 400
    assert client.get("/inbox").status_code == 302, "not signed in"
