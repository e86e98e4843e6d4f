"""Who hears what in 预公开 (a comment's receipt and its disposition) and 党员旁听 (a
registrant's verification and draw results, in-app or by the optional e-mail), walked with
the processes' own test helpers."""

from __future__ import annotations

import sqlalchemy as sa

from notifications import outbox
from tests.machines import test_observer_seats as observers
from tests.machines import test_predisclosure as predisclosure
from tests.notifications.conftest import at
from workflow.people.actors import user
from workflow.store.models import notify_messages


def told(engine, kind):
    while outbox.fill(engine):
        pass
    with engine.db.read() as conn:
        return sorted((r.recipient, r.channel, r.address) for r in conn.execute(
            sa.select(notify_messages).where(notify_messages.c.kind == kind)))


def test_a_comment_is_acknowledged_and_its_disposition_told(engine, tree, staff):
    people = {"handler": staff["hu"], "reviewer": staff["li"],
              "group": user("zu", {(tree["T"], "leading_group")})}
    case = predisclosure.opened(engine, people)
    mine = predisclosure.say(engine, case, who=staff["dang"])
    predisclosure.say(engine, case, contact="gong@example.cn")
    predisclosure.say(engine, case, contact="13800000001")  # a phone: nobody to write to
    receipts = told(engine, "comment_receipt")
    assert ("user:dang", "inapp", "") in receipts
    assert [r for r in receipts if r[1] == "email"] == [
        (receipts[0][0], "email", "gong@example.cn")]
    assert receipts[0][0].startswith("receipt:")
    assert len(receipts) == 2, "the commenter who left a phone is not written to"
    assert {r[0] for r in told(engine, "comment_new")} >= {"user:hu"}
    engine.fire(case.id, "dispose", staff["hu"],
                {"receipt": mine.number, "outcome": "adopted"}, None,
                predisclosure.at(predisclosure.day(2)))
    assert told(engine, "comment_disposed") == [("user:dang", "inapp", "")]


def test_a_registrant_hears_the_verification_result(engine, tree, staff):
    who = {"office": staff["ban"], "secretary": user("shu", {(tree["T"], "secretary")})}
    case = observers.noticed(engine, who)
    sent = observers.register(engine, case, staff["dang"], observers.form(observers.ID_A))
    engine.fire(case.id, "verify", staff["ban"],
                {"receipt": sent.number, "verified": False, "reason": "介绍信未盖章"}, None,
                observers.at("2026-11-04"))
    assert told(engine, "observer_verified") == [("user:dang", "inapp", "")]
    with engine.db.read() as conn:
        params = conn.execute(sa.select(notify_messages.c.params).where(
            notify_messages.c.kind == "observer_verified")).scalar_one()
    assert "未通过" in params and observers.ID_A not in params and "13800000001" not in params


def test_a_village_resolution_due_then_overdue_climbs_to_the_town(engine, tree):
    """四议两公开 (V2, A9): the resolution's publication is new work for the village office,
    a reminder before it falls due, then overdue to the village's responsible person and,
    long overdue, to the town."""
    from tests.machines import test_village_decision as village_case
    from workflow.core.timers import run_due
    from workflow.people import accounts

    with engine.db.write() as conn:
        accounts.add_user(conn, "cunban", "V", ["office"])
        accounts.add_user(conn, "shuji", "V", ["secretary", "reviewer"])
    village = {"secretary": user("shuji", {(tree["V"], "secretary")}),
               "office": user("cunban", {(tree["V"], "office")}),
               "town": user("li", {(tree["T"], "reviewer")})}
    case = village_case.to_resolved(engine, village)
    assert case.state == "resolved"
    assert ("user:cunban", "inapp", "") in told(engine, "queue")
    run_due(engine, village_case.at("2026-06-30"))  # past both tiers
    assert {r[0] for r in told(engine, "reminder")} == {"user:cunban"}
    assert {r[0] for r in told(engine, "overdue")} == {"user:cunban", "user:shuji"}
    assert {r[0] for r in told(engine, "long_overdue")} == {"user:cunban", "user:shuji",
                                                            "user:li"}


def test_a_member_registrant_hears_the_draw_result(engine, tree, staff):
    """O7: after the draw each registrant who is a member hears whether they were seated;
    a registrant without an account left only a phone (O4) and is not written to."""
    who = {"office": staff["ban"], "secretary": user("shu", {(tree["T"], "secretary")}),
           "member": staff["dang"]}
    case, numbers = observers._ready(engine, who)
    case = observers.act(engine, case, "publish_record", who["office"],
                         {"source_kind": "public", "source_name": "福彩3D 第2026302期",
                          "source_date": "2026-11-18"}, "2026-11-17")
    drawn = observers.act(engine, case, "draw", who["office"], {"value": "3 0 7"},
                          "2026-11-18")
    assert told(engine, "observer_draw") == [("user:dang", "inapp", "")]
    seated = {s["id"] for s in drawn.data["seating"]["seats"]}
    with engine.db.read() as conn:
        params = conn.execute(sa.select(notify_messages.c.params).where(
            notify_messages.c.kind == "observer_draw")).scalar_one()
    assert numbers[0] in params
    assert ("抽中" in params) == (numbers[0] in seated)


def test_a_public_registrant_with_an_e_mail_hears_both_results_by_mail(
        engine, tree, staff, deliverer, smtp_server):
    """Issue 18, O5, O7: a registrant without an account who gave the optional e-mail is
    written to, zh-CN then English, with the status page and neither the ID number nor the
    phone; the one who gave only a phone is not, and nothing fails."""
    smtp, _port = smtp_server
    who = {"office": staff["ban"], "secretary": user("shu", {(tree["T"], "secretary")}),
           "member": staff["dang"]}
    case, numbers = observers._ready(engine, who, emails=("", "gong@example.cn"))
    case = observers.act(engine, case, "publish_record", who["office"],
                         {"source_kind": "public", "source_name": "福彩3D 第2026302期",
                          "source_date": "2026-11-18"}, "2026-11-17")
    observers.act(engine, case, "draw", who["office"], {"value": "3 0 7"}, "2026-11-18")
    while outbox.fill(engine, at("2026-11-18")):  # read on the day, outside quiet hours
        pass
    mailed = [(f"receipt:{numbers[1]}", "email", "gong@example.cn")]
    assert [r for r in told(engine, "observer_verified") if r[1] == "email"] == mailed
    assert [r for r in told(engine, "observer_draw") if r[1] == "email"] == mailed
    assert all(r[0] != f"receipt:{numbers[2]}" for kind in ("observer_verified",
                                                             "observer_draw")
               for r in told(engine, kind)), "who left only a phone is not written to"

    assert deliverer.run(at("2026-11-18")) == 2
    with engine.db.read() as conn:
        assert {r.status for r in conn.execute(sa.select(notify_messages.c.status).where(
            notify_messages.c.channel == "email"))} == {"sent"}
    assert sorted(m["To"] for m in smtp.messages) == ["gong@example.cn"] * 2
    for mail in smtp.messages:
        text = mail.get_body(("plain",)).get_content()
        assert numbers[1] in mail["Subject"]
        assert text.index("凭报名号和查询码查看") < text.index("access code"), "Chinese first"
        assert f"/observer-meetings/{case.id}/status" in text
        raw = mail.as_string()
        assert observers.ID_B not in raw and "13800000001" not in raw
