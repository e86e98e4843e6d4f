"""Work-chat robots against a local HTTP server, and the faults: an unreachable server, a
refused recipient, a malformed address are retried, then failed with the reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import urllib.parse

import sqlalchemy as sa

from notifications import outbox
from notifications.channels.mail import Mailer, SmtpSettings
from notifications.deliver import MAX_ATTEMPTS, Deliverer, backoff
from notifications.service import Dispatcher
from tests.notifications.conftest import at, free_port, wants_mail
from workflow.people.actors import PUBLIC
from workflow.store.models import notify_messages, orgs

APPLY = {"name": "张三", "phone": "13800000001", "description": "党费收缴情况",
         "purpose": "了解", "delivery": "electronic"}


def messages(engine, **where):
    with engine.db.read() as conn:
        query = sa.select(notify_messages).order_by(notify_messages.c.id)
        for key, value in where.items():
            query = query.where(notify_messages.c[key] == value)
        return [dict(r._mapping) for r in conn.execute(query)]


def assign_to_hu(engine, staff, when="2026-09-22"):
    case = engine.start("application", "T", PUBLIC, APPLY, at(when))
    return engine.assign(case.id, staff["ban"], "hu", at(when))


def test_dingtalk_robot_gets_signed_markdown_chinese_then_english(engine, staff, robot,
                                                                  tmp_path):
    received, base = robot
    wants_mail(engine, "hu", webhook=f"{base}/robot/send?access_token=T0KEN",
               webhook_secret="SECdemo", channels={"assigned": ["webhook"]})
    assign_to_hu(engine, staff)
    Dispatcher(engine, deliverer=Deliverer(engine.db, tmp_path)).tick(at("2026-09-22"))
    [post] = received
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(post["path"]).query)
    assert query["access_token"] == ["T0KEN"]
    expected = base64.b64encode(hmac.new(b"SECdemo", f"{query['timestamp'][0]}\nSECdemo"
                                         .encode(), hashlib.sha256).digest()).decode()
    assert query["sign"] == [expected]
    assert post["headers"]["Content-Type"] == "application/json; charset=utf-8"
    body = post["body"]
    assert body["msgtype"] == "markdown" and body["markdown"]["title"].startswith("分派给您")
    text = body["markdown"]["text"]
    assert text.index("分派给您") < text.index("Assigned to you")
    [row] = messages(engine, channel="webhook")
    assert row["status"] == "sent" and "SECdemo" not in str(row)


def test_wecom_robot_gets_its_own_markdown_body(engine, staff, robot, tmp_path):
    received, base = robot
    wants_mail(engine, "hu", webhook=f"{base}/cgi-bin/webhook/send?key=K1",
               channels={"assigned": ["webhook"]})
    assign_to_hu(engine, staff)
    Dispatcher(engine, deliverer=Deliverer(engine.db, tmp_path)).tick(at("2026-09-22"))
    [post] = received
    assert post["path"] == "/cgi-bin/webhook/send?key=K1"
    assert set(post["body"]) == {"msgtype", "markdown"}
    assert post["body"]["markdown"]["content"].startswith("### 分派给您")


def test_an_unreachable_server_is_retried_with_backoff_then_failed(engine, staff, tmp_path,
                                                                  caplog):
    wants_mail(engine, "hu", channels={"assigned": ["email"]})
    assign_to_hu(engine, staff)
    outbox.fill(engine, at("2026-09-22"))
    closed = Mailer(SmtpSettings("127.0.0.1", free_port(), "none", "", "", "g@example.cn"))
    deliverer = Deliverer(engine.db, tmp_path, closed)
    now = at("2026-09-22")
    caplog.set_level(logging.INFO)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert deliverer.run(now) == 0
        [row] = messages(engine, channel="email")
        assert row["attempts"] == attempt
        if attempt < MAX_ATTEMPTS:
            assert row["status"] == "pending"
            assert row["next_at"] == now + backoff(attempt)
            now = row["next_at"]
    assert row["status"] == "failed"
    assert row["error"].startswith("SMTP unreachable")
    assert backoff(1) * 8 == backoff(4)
    assert not any("hu@example.cn" in r.getMessage() for r in caplog.records), \
        "no address in a log line"


def test_a_refused_recipient_and_a_malformed_address_fail_with_the_reason(
        engine, staff, deliverer, smtp_server):
    smtp, _port = smtp_server
    smtp.refuse.add("hu@example.cn")
    wants_mail(engine, "hu", channels={"assigned": ["email"]})
    assign_to_hu(engine, staff)
    outbox.fill(engine, at("2026-09-22"))
    with engine.db.write() as conn:  # an address that slipped in before checks existed
        conn.execute(sa.insert(notify_messages).values(
            source="event:999", recipient="applicant:X", channel="email", kind="answered",
            org="T", lang="zh", urgent=False, params="{}", address="not an address",
            status="pending", attempts=MAX_ATTEMPTS - 1, next_at=at("2026-09-22"),
            created_at=at("2026-09-22")))
    deliverer.run(at("2026-09-22"))
    refused, malformed = messages(engine, channel="email")
    assert refused["status"] == "pending" and "recipient refused" in refused["error"]
    assert "550" in refused["error"] and "hu@example.cn" not in refused["error"]
    assert malformed["status"] == "failed" and "malformed address" in malformed["error"]
    assert smtp.messages == []


def test_quiet_hours_hold_what_is_not_urgent_and_an_organisation_may_move_them(
        engine, staff, tree):
    wants_mail(engine, "hu")
    assign_to_hu(engine, staff, "2026-09-22")
    outbox.fill(engine, at("2026-09-22", 23))  # read at 23:00: within 22:00–07:00
    [mail] = messages(engine, kind="assigned", channel="email")
    assert mail["next_at"] == at("2026-09-23", 7)
    with engine.db.write() as conn:
        conn.execute(sa.update(orgs).where(orgs.c.code == "T").values(settings=json.dumps(
            {"notifications": {"quiet_start": "09:00", "quiet_end": "12:00"}})))
    assign_to_hu(engine, staff, "2026-09-24")
    outbox.fill(engine, at("2026-09-24", 10))
    held = messages(engine, kind="assigned", channel="email")[-1]
    assert held["next_at"] == at("2026-09-24", 12), "held until the organisation's own end"
