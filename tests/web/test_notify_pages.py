"""The bell, the messages page, the preferences form and the failed-messages desk."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from machines import definitions
from notifications import outbox
from tests.web.conftest import login
from workflow.core.registry import Registry
from workflow.people.actors import PUBLIC
from workflow.store.models import notify_messages

APPLY = {"name": "张三", "phone": "13800000001", "description": "党费收缴情况",
         "purpose": "了解", "delivery": "electronic"}



@pytest.fixture
def registry() -> Registry:
    return Registry(definitions())


def test_the_bell_counts_unread_messages_and_the_page_marks_them_read(engine, app, users):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    case = engine.start("application", "T", PUBLIC, APPLY)
    engine.assign(case.id, _reviewer(engine), "handler")
    outbox.fill(engine)
    login(client, users["handler"])
    page = client.get("/inbox").get_data(as_text=True)
    assert 'id="bell-count">1<' in page
    listed = client.get("/messages").get_data(as_text=True)
    assert "分派给您" in listed and f"/cases/{case.id}" in listed
    with engine.db.read() as conn:
        message_id = conn.execute(sa.select(notify_messages.c.id).where(
            notify_messages.c.recipient == "user:handler")).scalar_one()
    assert client.post(f"/messages/{message_id}/read").status_code == 302
    assert 'id="bell-count"' not in client.get("/inbox").get_data(as_text=True)
    assert client.post("/messages/x/read").status_code == 404


def _reviewer(engine):
    from workflow.people import accounts

    with engine.db.read() as conn:
        return accounts.actor_of(conn, "reviewer")


def test_preferences_refuse_a_malformed_address_with_a_reason(app, users):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login(client, users["handler"])
    refused = client.post("/messages/preferences", data={"email": "not-an-address"})
    assert refused.status_code == 422 and "电子邮箱格式不正确" in refused.get_data(as_text=True)
    saved = client.post("/messages/preferences", data={"email": "hu@example.cn", "digest": "1",
                                                       "queue.email": "1"})
    assert saved.status_code == 302
    page = client.get("/messages/preferences").get_data(as_text=True)
    assert 'value="hu@example.cn"' in page


def test_failed_messages_are_listed_for_the_administrator_with_a_retry(engine, app, users):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    now = sa.func.now()
    with engine.db.write() as conn:
        message_id = conn.execute(sa.insert(notify_messages).values(
            source="event:1", recipient="user:handler", channel="email", kind="queue",
            org="T", lang="zh", urgent=False, params="{}", address="x@example.cn",
            status="failed", attempts=5, next_at=now, created_at=now,
            error="SMTP unreachable / 邮件服务器无法连接 (ConnectionRefusedError)")
        ).inserted_primary_key[0]
    login(client, users["handler"])
    assert client.get("/admin/notifications").status_code == 403
    client.post("/logout")
    login(client, users["admin"])
    page = client.get("/admin/notifications").get_data(as_text=True)
    assert "SMTP unreachable" in page and "x@example.cn" not in page
    assert client.post(f"/admin/notifications/{message_id}/retry").status_code == 302
    with engine.db.read() as conn:
        assert conn.execute(sa.select(notify_messages.c.status)).scalar_one() == "pending"
    assert client.post(f"/admin/notifications/{message_id}/retry").status_code == 404
