"""The event log as outbox: who hears what, once, and the e-mail that reaches them."""

from __future__ import annotations

import json

import sqlalchemy as sa

from notifications import inbox, outbox
from tests.notifications.conftest import at, wants_mail
from workflow.people.actors import PUBLIC, applicant
from workflow.store.models import notify_cursor, notify_messages

APPLY = {"name": "张三", "phone": "13800000001", "email": "zhangsan@example.cn",
         "description": "党费收缴情况", "purpose": "了解", "delivery": "electronic"}


def rows(engine, **where):
    with engine.db.read() as conn:
        query = sa.select(notify_messages).order_by(notify_messages.c.id)
        for key, value in where.items():
            query = query.where(notify_messages.c[key] == value)
        return [dict(r._mapping) for r in conn.execute(query)]


def drain(engine, now):
    while outbox.fill(engine, now):
        pass


def test_an_application_tells_the_office_and_the_applicant_by_mail(engine, staff, deliverer,
                                                                   smtp_server):
    smtp, _port = smtp_server
    case = engine.start("application", "T", PUBLIC, APPLY, at("2026-09-21"))
    drain(engine, at("2026-09-21"))
    queued = rows(engine, kind="queue")
    assert {r["recipient"] for r in queued} == {"user:ban"}  # the office receives it
    assert {r["channel"] for r in queued} == {"inapp"}
    ack = rows(engine, kind="applicant_ack")
    assert [(r["recipient"], r["channel"], r["address"]) for r in ack] == [
        (f"applicant:{case.code}", "email", "zhangsan@example.cn")]
    assert "13800000001" not in ack[0]["params"] and "张三" not in ack[0]["params"]

    assert deliverer.run(at("2026-09-21")) == 1, rows(engine, kind="applicant_ack")[0]["error"]
    [mail] = smtp.messages
    assert mail["To"] == "zhangsan@example.cn" and mail["From"] == "gongkai@example.cn"
    assert mail["Subject"] == (f"已收到您的申请（{case.code}） / "
                               f"Your request {case.code} has been received")
    assert mail["Message-ID"] == f"<gongkai-{ack[0]['id']}@example.cn>"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert text.index("您的申请") < text.index("Your request"), "Chinese first, English below"
    assert f"/track/{case.code}" in text and f"/track/{case.code}" in html
    assert "13800000001" not in mail.as_string()
    assert rows(engine, kind="applicant_ack")[0]["status"] == "sent"


def test_each_event_is_read_once_and_a_message_recorded_once(engine, staff):
    engine.start("application", "T", PUBLIC, APPLY, at("2026-09-21"))
    assert outbox.fill(engine, at("2026-09-21")) == 1
    assert outbox.fill(engine, at("2026-09-21")) == 0, "the cursor moved past it"
    before = rows(engine)
    with engine.db.write() as conn:  # as if the cursor's move had been lost in a crash
        conn.execute(sa.update(notify_cursor).values(event_id=0))
    assert outbox.fill(engine, at("2026-09-21")) == 1
    assert rows(engine) == before, "the unique (source, recipient, channel) adds nothing"


def test_assignment_clarification_and_answer_reach_whom_they_concern(engine, staff,
                                                                     deliverer, smtp_server):
    smtp, _port = smtp_server
    wants_mail(engine, "hu")
    case = engine.start("application", "T", PUBLIC, APPLY, at("2026-09-21"))
    case = engine.fire(case.id, "register", staff["ban"], {}, case.version, at("2026-09-22"))
    case = engine.assign(case.id, staff["ban"], "hu", at("2026-09-22"))
    case = engine.fire(case.id, "request_clarification", staff["hu"],
                       {"missing": "请说明年份"}, case.version, at("2026-09-24"))
    case = engine.fire(case.id, "clarify", applicant(case.code), {"supplement": "2025 年"},
                       case.version, at("2026-09-28"))
    drain(engine, at("2026-09-28"))
    assigned = rows(engine, kind="assigned")
    assert {(r["recipient"], r["channel"]) for r in assigned} == {("user:hu", "inapp"),
                                                                  ("user:hu", "email")}
    assert json.loads(assigned[0]["params"])["by"] == "ban"
    assert [r["recipient"] for r in rows(engine, kind="clarify_request")] == [
        f"applicant:{case.code}"]
    deliverer.run(at("2026-09-28"))
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert any(s.startswith("请补正您的申请") for s in subjects)
    assert any(s.startswith("分派给您") and m["To"] == "hu@example.cn"
               for s, m in zip(subjects, sorted(smtp.messages, key=lambda m: m["Subject"]),
                               strict=True))
    with engine.db.read() as conn:
        assert inbox.unread(conn, "hu") >= 1
        listed = inbox.messages(conn, "hu", "en")
    assert listed[0]["subject"].startswith(("Assigned to you", "New work"))


def test_a_failed_audit_verify_alerts_auditors_and_administrators(engine, staff):
    from notifications.service import on_audit_failed
    from workflow.core import signals

    signals.audit_failed.connect(on_audit_failed)
    try:
        signals.audit_failed.send(engine, what="verify", detail="2 problems: chain_broken")
    finally:
        signals.audit_failed.disconnect(on_audit_failed)
    alerts = rows(engine, kind="audit_failed")
    assert {r["recipient"] for r in alerts} == {"user:shen", "user:root"}
    assert all(r["urgent"] for r in alerts)
    with engine.db.read() as conn:
        [shown] = inbox.messages(conn, "shen", "zh")
    assert "审计校验未通过：2 problems: chain_broken" in shown["body"]


def test_an_event_no_rule_can_read_is_passed_over_not_blocking_the_rest(engine, staff,
                                                                        monkeypatch, caplog):
    from notifications import rules

    engine.start("application", "T", PUBLIC, APPLY, at("2026-09-21"))
    engine.start("application", "T", PUBLIC, APPLY, at("2026-09-21"))

    def broken(seen):
        if seen.event["case_id"] == 1:
            raise KeyError("a rule's fault")
        yield from ()

    monkeypatch.setitem(rules.BY_KIND, "application", broken)
    assert outbox.fill(engine, at("2026-09-21")) == 2
    assert {r["source"] for r in rows(engine)} == {"event:2"}
    assert "event 1 (application.start) passed over" in caplog.text
    assert "zhangsan" not in caplog.text
