"""Reminders, the A9 escalation and the daily digest at the right times over the 2026
National Day holiday (1–7 October off, Saturday 10 October a working day)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from notifications.service import Dispatcher
from tests.notifications.conftest import at, wants_mail
from workflow.base.timeutil import LOCAL_TZ
from workflow.core.timers import run_due
from workflow.people.actors import PUBLIC
from workflow.store.models import notify_messages

APPLY = {"name": "张三", "phone": "13800000001", "description": "党费收缴情况",
         "purpose": "了解", "delivery": "electronic"}


def test_reminders_escalation_and_digest_over_national_day(engine, staff, deliverer,
                                                           smtp_server):
    smtp, _port = smtp_server
    wants_mail(engine, "hu", digest=True)
    wants_mail(engine, "li", "wang", "zhao")
    case = engine.start("application", "T", PUBLIC, APPLY, at("2026-09-08"))
    assert case.due_date == dt.date(2026, 10, 12)
    case = engine.fire(case.id, "register", staff["ban"], {}, case.version, at("2026-09-08"))
    engine.assign(case.id, staff["ban"], "hu", at("2026-09-08", 11))
    dispatcher = Dispatcher(engine, deliverer=deliverer)
    mails: list[tuple[str, str, str]] = []  # (local time, To, Subject)
    day = dt.date(2026, 9, 9)
    while day <= dt.date(2026, 11, 11):
        for hour, minute in ((0, 0), (7, 30)):
            now = at(day.isoformat(), hour, minute)
            run_due(engine, now)
            before = len(smtp.messages)
            dispatcher.tick(now)
            mails += [(f"{day} {hour:02d}:{minute:02d}", m["To"], m["Subject"])
                      for m in smtp.messages[before:]]
        day += dt.timedelta(days=1)

    with engine.db.read() as conn:
        reminders = conn.execute(sa.select(notify_messages.c.created_at).where(
            notify_messages.c.kind == "reminder", notify_messages.c.channel == "inapp")
        ).scalars().all()
    # A9: 5 and 1 working days before the due date; none in the holiday week
    assert [r.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M") for r in reminders] == [
        "09-29 00:00", "10-10 00:00"]

    def to(address: str) -> list[tuple[str, str]]:
        return [(when, subject.split(" / ")[0]) for when, who, subject in mails
                if who == address]

    handler = to("hu@example.cn")
    # the digest reader gets the reminders folded into the morning digest, not at midnight
    assert ("2026-09-29 07:30", "每日汇总：1 条消息") in handler
    assert ("2026-10-10 07:30", "每日汇总：1 条消息") in handler
    assert not any(s.startswith("到期提醒") for _w, s in handler)
    # overdue is urgent: at once, even in quiet hours, to the handler and the responsible
    assert ("2026-10-13 00:00", f"已逾期：{case.title}") in handler
    assert ("2026-10-13 00:00", f"已逾期：{case.title}") in to("li@example.cn")
    assert not any(s.startswith("已逾期") for _w, s in to("wang@example.cn"))
    # long overdue (20 working days on) reaches the upper level too
    for person in ("hu", "li", "wang", "zhao"):
        assert ("2026-11-10 00:00", f"严重逾期：{case.title}") in to(f"{person}@example.cn")
