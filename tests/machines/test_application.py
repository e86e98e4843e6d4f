"""依申请公开 walked as its users would, one rule ID per scenario (A1–A9, G3)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from workflow.audit.chain import verify
from workflow.base.errors import Forbidden, Invalid, NotAllowed, NotFound
from workflow.base.timeutil import end_of_local_day
from workflow.core.timers import run_due
from workflow.people.actors import PUBLIC, SYSTEM, applicant
from workflow.store.models import timers

pytestmark = pytest.mark.dates  # swept over several days by make test

APPLY = {"name": "张三", "phone": "13800000001", "description": "党费收缴情况",
         "purpose": "了解", "delivery": "electronic"}


def at(day: str, hour: int = 10) -> dt.datetime:
    """``hour`` o'clock in Shanghai on ``day``."""
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(dt.UTC)


def apply(engine, when="2026-09-21", org="T", **extra):
    return engine.start("application", org, PUBLIC, APPLY | extra, at(when))


def act(engine, case, trigger, who, payload=None, when="2026-09-22"):
    return engine.fire(case.id, trigger, who, payload or {}, case.version, at(when))


def test_a1_anyone_applies_and_must_be_reachable(engine, people):
    with pytest.raises(Invalid) as invalid:
        engine.start("application", "T", PUBLIC, APPLY | {"phone": ""}, at("2026-09-21"))
    assert invalid.value.fields["phone"].zh == "电话和电子邮箱至少填写一项"
    with pytest.raises(Invalid) as bad:
        engine.start("application", "T", PUBLIC, APPLY | {"delivery": "fax"}, at("2026-09-21"))
    assert "delivery" in bad.value.fields
    case = apply(engine, extra_field="更多信息")
    assert case.code.startswith("YS-2026-") and case.state == "received"
    assert case.data["received_on"] == "2026-09-21" and case.data["extra_field"] == "更多信息"


def test_a5_deadline_crosses_national_day_with_its_make_up_saturday(engine, people):
    case = apply(engine)
    assert case.due_date == dt.date(2026, 10, 26)
    skipped = {s["date"] for s in case.due_explain["skipped"]}
    assert "2026-10-01" in skipped and "2026-09-25" in skipped  # 国庆, 中秋
    assert "2026-10-10" not in skipped, "the make-up Saturday is a working day"
    assert not case.due_provisional


def test_a5_receipt_day_is_the_day_in_china(engine, people):
    """Submitted at 23:30 Beijing time on Sunday: still received on that Sunday."""
    late = dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC)
    case = engine.start("application", "T", PUBLIC, APPLY, late)
    assert case.data["received_on"] == "2026-11-22"
    assert case.due_date == dt.date(2026, 12, 18)


def test_a5_clarification_restarts_the_deadline_and_is_asked_once(engine, people):
    case = apply(engine)
    case = act(engine, case, "register", people["office"])
    case = act(engine, case, "request_clarification", people["handler"],
               {"missing": "请说明年份"}, "2026-09-24")
    assert case.state == "clarifying" and case.due_date == dt.date(2026, 10, 22)
    tracked = applicant(case.code)
    case = act(engine, case, "clarify", tracked, {"supplement": "2025 年"}, "2026-10-12")
    assert case.state == "processing"
    assert case.due_explain["start"] == "2026-10-12" and case.due_explain["n"] == 20
    assert case.due_date == dt.date(2026, 11, 9)
    with pytest.raises(NotAllowed) as once:
        act(engine, case, "request_clarification", people["handler"], {"missing": "再补"},
            "2026-10-13")
    assert once.value.message.zh == "补正通知只能发出一次"


def test_a5_clarification_only_within_seven_working_days(engine, people):
    case = apply(engine, when="2026-11-02")
    case = act(engine, case, "register", people["office"], when="2026-11-02")
    assert run_due(engine, end_of_local_day(dt.date(2026, 11, 11))) == 1
    case = engine.get(case.id, people["handler"])
    with pytest.raises(NotAllowed) as late:
        act(engine, case, "request_clarification", people["handler"], {"missing": "x"},
            "2026-11-12")
    assert "7 个工作日" in late.value.message.zh


def test_a5_no_clarification_by_the_date_means_withdrawn(engine, people):
    case = apply(engine, when="2026-11-02")
    case = act(engine, case, "request_clarification", people["office"], {"missing": "年份"},
               "2026-11-02")
    assert case.due_date == dt.date(2026, 11, 23)
    run_due(engine, end_of_local_day(dt.date(2026, 11, 23)))
    case = engine.get(case.id, people["handler"])
    assert case.state == "withdrawn" and case.data["withdrawn"]["by"] == "system"


def test_a5_one_extension_approved_by_the_responsible_person(engine, people):
    case = act(engine, apply(engine), "register", people["office"])
    with pytest.raises(NotAllowed) as too_long:
        act(engine, case, "request_extension", people["handler"], {"days": 25, "reason": "多"})
    assert "20" in too_long.value.message.zh
    case = act(engine, case, "request_extension", people["handler"],
               {"days": 10, "reason": "需要调取档案"})
    with pytest.raises(Forbidden):
        act(engine, case, "approve_extension", people["handler"])
    case = act(engine, case, "approve_extension", people["reviewer"])
    assert case.due_date == dt.date(2026, 11, 9)
    assert case.due_explain["extensions"][0]["days"] == 10
    assert "request_extension" not in [t.name for t in engine.actions(case, people["handler"])]


def test_a5_extended_deadline_in_an_unknown_year_is_provisional(engine, people):
    """A5: 2031 is a year chinesecalendar cannot know: only the statutory 3 days of 国庆
    are skipped, and the due date says it is provisional."""
    case = act(engine, apply(engine, when="2031-09-18"), "register", people["office"],
               when="2031-09-18")
    assert case.due_date == dt.date(2031, 10, 21) and case.due_provisional
    case = act(engine, case, "request_extension", people["handler"],
               {"days": 20, "reason": "涉及多个部门"}, "2031-09-19")
    case = act(engine, case, "approve_extension", people["reviewer"], when="2031-09-19")
    assert case.due_date == dt.date(2031, 11, 18) and case.due_provisional
    assert case.due_explain["provisional"]


def test_a8_consulting_a_third_party_stops_the_clock(engine, people):
    case = act(engine, apply(engine, when="2026-11-02"), "register", people["office"],
               when="2026-11-02")
    assert case.due_date == dt.date(2026, 11, 30)
    case = act(engine, case, "consult", people["handler"],
               {"party": "李某", "kind": "third_party"}, "2026-11-09")
    assert case.state == "consulting" and case.due_date is None
    case = act(engine, case, "consulted", people["handler"], {"reply": "同意"}, "2026-11-23")
    assert case.due_date == dt.date(2026, 12, 14)
    assert case.due_explain["pauses"] == [{"from": "2026-11-09", "to": "2026-11-23"}]


def test_a7_each_outcome_needs_its_fields(engine, people):
    case = act(engine, apply(engine), "register", people["office"])
    with pytest.raises(Invalid) as partial:
        act(engine, case, "draft_answer", people["handler"], {"outcome": "partial",
                                                              "content": "部分"})
    assert set(partial.value.fields) == {"withheld", "reason"}
    with pytest.raises(Invalid) as not_ours:
        act(engine, case, "draft_answer", people["handler"], {"outcome": "not_ours"})
    assert set(not_ours.value.fields) == {"responsible_org"}


def test_a2_g3_disclosed_answer_reviewed_by_someone_else_then_filed_a4(engine, people, tree):
    case = act(engine, apply(engine), "register", people["office"])
    case = act(engine, case, "draft_answer", people["handler"],
               {"outcome": "disclosed", "content": "附件：2025 年党费收缴表"})
    from workflow.people.actors import user

    both = user("hu", {(tree["T"], "reviewer"), (tree["T"], "handler")})
    with pytest.raises(NotAllowed) as own:
        act(engine, case, "approve", both)
    assert own.value.message.zh == "不能审核自己起草的答复"
    case = act(engine, case, "approve", people["reviewer"])
    assert case.state == "answered" and case.data["notice"]["number"].startswith("〔2026〕")
    case = act(engine, case, "file", people["handler"], {"how": "electronic"})
    assert case.state == "filed" and case.data["filing"]["to"] == "C"
    with pytest.raises(Forbidden):
        act(engine, case, "receive_filing", people["reviewer"])
    case = act(engine, case, "receive_filing", people["receiver"])
    assert case.state == "archived"
    assert verify(engine.db, engine.registry).ok


def test_a3_withholding_needs_upper_consent_which_may_refuse(engine, people):
    case = act(engine, apply(engine), "register", people["office"])
    withheld = {"outcome": "withheld", "reason": "涉及党内秘密（G2）"}
    case = act(engine, case, "draft_answer", people["handler"], withheld)
    case = act(engine, case, "approve", people["reviewer"])
    assert case.state == "consent"
    with pytest.raises(Forbidden):
        act(engine, case, "consent", people["reviewer"])
    case = act(engine, case, "refuse_consent", people["upper"], {"reason": "可以部分公开"})
    assert case.state == "processing" and case.data["returns"][-1]["reason"] == "可以部分公开"
    case = act(engine, case, "draft_answer", people["handler"],
               {"outcome": "partial", "content": "公开汇总数", "withheld": "个人明细",
                "reason": "个人隐私"})
    case = act(engine, case, "approve", people["reviewer"])
    case = act(engine, case, "consent", people["upper"], {"note": "同意"})
    assert case.state == "answered" and case.data["consent"]["by"] == "user:wang"


def test_a3_consent_step_switched_off_per_organisation(engine, people):
    from workflow.store.models import Org

    orgs = Org.__table__
    with engine.db.write() as conn:
        conn.execute(sa.update(orgs).where(orgs.c.code == "T").values(
            settings=json.dumps({"application": {"upper_consent": False}})))
    case = act(engine, apply(engine), "register", people["office"])
    case = act(engine, case, "draft_answer", people["handler"],
               {"outcome": "withheld", "reason": "暂不宜公开"})
    assert act(engine, case, "approve", people["reviewer"]).state == "answered"


def test_a4_the_root_files_with_an_outside_authority(engine, people):
    case = act(engine, apply(engine, org="C"), "register", people["root_handler"])
    case = act(engine, case, "draft_answer", people["root_handler"],
               {"outcome": "withheld", "reason": "涉密"})
    case = act(engine, case, "approve", people["root_reviewer"])
    assert case.state == "answered", "the root has no upper level to consent"
    with pytest.raises(NotAllowed) as missing:
        act(engine, case, "file", people["root_handler"], {"how": "paper"})
    assert "备案机关" in missing.value.message.zh
    case = act(engine, case, "file", people["root_handler"],
               {"how": "paper", "authority": "市委办公室", "reference": "备〔2026〕12号"})
    assert case.state == "archived" and case.data["filing"]["authority"] == "市委办公室"


def test_a9_two_overdue_tiers_with_reminders_before(engine, people):
    case = act(engine, apply(engine, when="2026-11-02"), "register", people["office"],
               when="2026-11-02")
    assert run_due(engine, at("2026-11-23", 0)) >= 1  # the 5-day reminder (and the window)
    assert engine.get(case.id, people["reviewer"]).data["overdue"] == 0
    run_due(engine, end_of_local_day(dt.date(2026, 11, 30)))
    assert engine.get(case.id, people["reviewer"]).data["overdue"] == 1
    run_due(engine, end_of_local_day(dt.date(2026, 12, 28)))
    case = engine.get(case.id, people["reviewer"])
    assert case.data["overdue"] == 2 and case.state == "processing"
    with engine.db.read() as conn:
        names = [r.name for r in conn.execute(sa.select(timers.c.name).where(
            timers.c.case_id == case.id, timers.c.status == "fired").order_by(timers.c.id))]
    assert {"deadline.remind5", "deadline.remind1", "deadline", "long_overdue"} <= set(names)


def test_applicant_sees_only_their_own_case_and_may_withdraw(engine, people):
    case = apply(engine)
    other = apply(engine)
    with pytest.raises(NotFound):
        engine.get(other.id, applicant(case.code))
    with pytest.raises(Forbidden):
        act(engine, case, "withdraw", people["handler"])
    case = act(engine, case, "withdraw", applicant(case.code), {"reason": "不需要了"})
    assert case.state == "withdrawn" and case.due_date is None
    with engine.db.read() as conn:
        live = conn.execute(sa.select(timers.c.id).where(
            timers.c.case_id == case.id, timers.c.status == "pending")).all()
    assert live == []
    with pytest.raises(Forbidden):
        engine.fire(case.id, "overdue", people["handler"], {}, None, at("2026-12-01"))
    assert engine.fire(other.id, "overdue", SYSTEM, {}, None, at("2026-12-01")).data["overdue"]


def test_a7_the_applicant_sees_the_answer_only_once_it_is_approved(engine, people):
    from workflow.views.tracking import public_data

    case = act(engine, apply(engine), "register", people["office"])
    case = act(engine, case, "draft_answer", people["handler"],
               {"outcome": "disclosed", "content": "草稿内容"})
    shown = {label.zh for label, _value in public_data(engine, case)}
    assert "答复" not in shown, "a draft under review is not the answer"
    case = act(engine, case, "approve", people["reviewer"])
    shown = dict((label.zh, value) for label, value in public_data(engine, case))
    assert shown["答复"]["content"] == "草稿内容" and "drafted_by" not in shown["答复"]


def test_a1_a7_papers_go_with_the_application_and_files_with_the_answer(engine, people,
                                                                        file_store):
    """The applicant's papers are personal data (an officer's download is an event); the
    answer may carry the information itself as files; verify covers both (AU2)."""
    from workflow.audit.chain import case_events
    from workflow.core.attachments import records_in
    from workflow.core.schema import Upload

    papers = Upload("身份证明.pdf", b"%PDF-1.4 applicant")
    case = apply(engine, documents=[papers])
    [record] = case.data["documents"]
    assert record["name"] == "身份证明.pdf" and record["media_type"] == "application/pdf"
    case = act(engine, case, "register", people["office"])
    released = Upload("党费收缴汇总.xlsx", b"PK\x03\x04 not really an Office file")
    with pytest.raises(Invalid) as refused:
        act(engine, case, "draft_answer", people["handler"],
            {"outcome": "disclosed", "content": "见附件", "released": [released]})
    assert "Excel" in refused.value.fields["released"].zh, refused.value.fields
    case = act(engine, case, "draft_answer", people["handler"],
               {"outcome": "disclosed", "content": "见附件",
                "released": [Upload("汇总.pdf", b"%PDF-1.4 summary")]})
    case = act(engine, case, "approve", people["reviewer"])
    assert case.state == "answered"
    names = [r["name"] for e in case_events(engine.db, case.id)
             for r in records_in(json.loads(e["payload"]))]
    assert names == ["身份证明.pdf", "汇总.pdf"]
    assert verify(engine.db, engine.registry, files=file_store).ok
