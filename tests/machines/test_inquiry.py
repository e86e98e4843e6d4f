"""党内事务问询 walked as its users would (A6, with A9, G1, G2, G3, G6, G12)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from machines.inquiry import STANDARD_PUBLIC_REFUSAL
from tests.machines import stats_check
from tests.machines.stats_check import wd
from workflow.audit.chain import verify
from workflow.base.errors import Forbidden, Invalid, NotAllowed
from workflow.base.text import Text
from workflow.base.timeutil import end_of_local_day
from workflow.core.timers import run_due
from workflow.people.actors import PUBLIC, applicant, user
from workflow.store.models import Org, timers
from workflow.views import tracking

pytestmark = pytest.mark.dates  # swept over several days by make test

INQUIRY = {"name": "张三", "title": "党费使用情况", "subject": "execution",
           "question": "支部去年党费结余为什么没有公布？"}
WRITTEN = {"content": "党费结余已上缴镇党委，明细见附件。", "scope": "internal"}
ON_SPOT = {"answerer": "李书记（党委书记）", "occasion": "meeting", "place": "镇党员活动室",
           "answered_on": "2026-11-02", "content": "下周起活动室每天开放。", "scope": "public"}


@pytest.fixture
def people(people, tree):
    """The officers of conftest plus members and the secretary of town T."""
    return people | {
        "member": user("zhang", {(tree["T"], "member")}),
        "m2": user("wang2", {(tree["T"], "member")}),
        "m3": user("li3", {(tree["T"], "member")}),
        "outsider": user("zhao4", {(tree["T"], "member")}),
        "secretary": user("shu", {(tree["T"], "secretary")}),
    }


def at(day: str, hour: int = 10) -> dt.datetime:
    """``hour`` o'clock in Shanghai on ``day``."""
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(dt.UTC)


def inquire(engine, who, when="2026-11-02", org="T", **extra):
    return engine.start("inquiry", org, who, INQUIRY | extra, at(when))


def act(engine, case, trigger, who, payload=None, when="2026-11-02"):
    return engine.fire(case.id, trigger, who, payload or {}, case.version, at(when))


def set_org_settings(engine, code, settings):
    orgs = Org.__table__
    with engine.db.write() as conn:
        conn.execute(sa.update(orgs).where(orgs.c.code == code).values(
            settings=json.dumps({"inquiry": settings})))


def fired_timers(engine, case):
    with engine.db.read() as conn:
        return [r.name for r in conn.execute(sa.select(timers.c.name).where(
            timers.c.case_id == case.id, timers.c.status == "fired").order_by(timers.c.id))]


def pending_timers(engine, case):
    with engine.db.read() as conn:
        return [r.name for r in conn.execute(sa.select(timers.c.name).where(
            timers.c.case_id == case.id, timers.c.status == "pending"))]


def test_a6_member_inquires_alone_answered_by_deadline_and_published_g1_g3(engine, people,
                                                                           tree):
    case = inquire(engine, people["member"])
    assert case.code.startswith("WX-2026-") and case.state == "received"
    assert case.data["submitted_by"] == "user:zhang" and not case.data["from_public"]
    assert case.title == "党费使用情况" and case.due_date is None
    case = act(engine, case, "register", people["office"])
    assert case.state == "answering" and case.due_date == dt.date(2026, 11, 23)
    with pytest.raises(Invalid) as no_scope:
        act(engine, case, "draft_answer", people["handler"], {"content": "答复"})
    assert set(no_scope.value.fields) == {"scope"}
    case = act(engine, case, "draft_answer", people["handler"], WRITTEN, "2026-11-09")
    case = act(engine, case, "return_draft", people["reviewer"], {"reason": "写明结余金额"},
               "2026-11-09")
    assert case.state == "answering" and case.data["returns"][0]["reason"] == "写明结余金额"
    case = act(engine, case, "draft_answer", people["handler"], WRITTEN, "2026-11-10")
    assert case.state == "review" and case.due_date == dt.date(2026, 11, 23)
    both = user("hu", {(tree["T"], "reviewer"), (tree["T"], "handler")})
    with pytest.raises(NotAllowed) as own:
        act(engine, case, "approve", both, when="2026-11-11")
    assert own.value.message.zh == "不能审核自己起草的答复"
    case = act(engine, case, "approve", people["reviewer"], when="2026-11-11")
    assert case.state == "answered" and case.data["answered_on"] == "2026-11-11"
    assert case.due_date is None and pending_timers(engine, case) == []
    with pytest.raises(NotAllowed):
        act(engine, case, "publish", people["office"], {"channels": ["board"]})
    with pytest.raises(NotAllowed) as stranger:
        act(engine, case, "deliver", people["office"], {"signer": "李四", "how": "post"})
    assert "张三" in stranger.value.message.zh
    case = act(engine, case, "deliver", people["office"], {"signer": "张三", "how": "in_person"},
               "2026-11-12")
    assert case.state == "to_publish"
    with pytest.raises(Invalid) as channel:
        act(engine, case, "publish", people["office"], {"channels": ["billboard"]})
    assert "channels" in channel.value.fields
    case = act(engine, case, "publish", people["office"], {"channels": ["board", "meeting"]},
               "2026-11-13")
    assert case.state == "published" and case.data["published_on"] == "2026-11-13"
    assert case.data["publication"] == {"on": "2026-11-13", "scope": "internal",
                                        "channels": ["board", "meeting"]}
    assert case.data["deliveries"] == [{"signer": "张三", "how": "in_person",
                                        "on": "2026-11-12"}]
    assert verify(engine.db, engine.registry).ok


def test_a6_answer_days_are_set_per_organisation(engine, people):
    set_org_settings(engine, "T", {"answer_days": 10})
    case = act(engine, inquire(engine, people["member"]), "register", people["office"])
    assert case.due_date == dt.date(2026, 11, 16) and case.due_explain["n"] == 10


def test_a6_cosigners_are_listed_once_and_not_the_submitter(engine, people):
    with pytest.raises(Invalid) as twice:
        inquire(engine, people["member"], cosigners=["wang2", "wang2"])
    assert "cosigners" in twice.value.fields
    with pytest.raises(Invalid):
        inquire(engine, people["member"], cosigners=["张三"])
    case = inquire(engine, people["member"], cosigners=["zhang", "wang2"])
    assert case.data["cosigners"] == ["wang2"], "the submitter's own account is dropped"


def test_a6_joint_inquiry_goes_on_once_every_cosigner_confirmed(engine, people):
    case = inquire(engine, people["member"], cosigners=["wang2", "li3", "刘七"])
    case = act(engine, case, "register", people["office"])
    assert case.state == "cosigning" and case.due_date == dt.date(2026, 11, 9)
    with pytest.raises(NotAllowed) as stranger:
        act(engine, case, "cosign", people["outsider"], when="2026-11-03")
    assert stranger.value.message.zh == "您不是待确认的联名人"
    assert [t.name for t in engine.actions(case, people["m2"])] == ["cosign"]
    assert engine.actions(case, people["outsider"]) == []
    case = act(engine, case, "cosign", people["m2"], when="2026-11-03")
    assert case.state == "cosigning"
    with pytest.raises(NotAllowed):
        act(engine, case, "cosign", people["m2"], when="2026-11-03")
    with pytest.raises(NotAllowed) as again:
        act(engine, case, "record_cosign", people["office"], {"signer": "wang2"})
    assert "li3" in again.value.message.zh and "刘七" in again.value.message.zh
    with pytest.raises(NotAllowed) as early:
        act(engine, case, "answer_on_spot", people["secretary"], ON_SPOT)
    assert early.value.message.zh == "“待联名人确认”状态下不能执行“登记当场答复”"
    case = act(engine, case, "cosign", people["m3"], when="2026-11-04")
    case = act(engine, case, "record_cosign", people["office"],
               {"signer": "刘七", "note": "在问询单上签名"}, "2026-11-05")
    assert case.state == "answering"
    assert case.due_date == dt.date(2026, 11, 26), "counted from the day the inquiry stood"
    assert [(c["signer"], c["how"]) for c in case.data["confirmations"]] == [
        ("wang2", "online"), ("li3", "online"), ("刘七", "paper")]
    assert "cosign_window" not in pending_timers(engine, case)
    assert "deadline" in pending_timers(engine, case)
    case = act(engine, case, "draft_answer", people["handler"], WRITTEN, "2026-11-06")
    case = act(engine, case, "approve", people["reviewer"], when="2026-11-06")
    for signer in ("张三", "wang2", "li3"):
        case = act(engine, case, "deliver", people["office"],
                   {"signer": signer, "how": "electronic"}, "2026-11-09")
        assert case.state == "answered"
    case = act(engine, case, "deliver", people["office"], {"signer": "刘七", "how": "post"},
               "2026-11-09")
    assert case.state == "to_publish"
    assert [d["signer"] for d in case.data["deliveries"]] == ["张三", "wang2", "li3", "刘七"]
    assert verify(engine.db, engine.registry).ok


def test_a6_after_the_cosigning_deadline_the_submitter_goes_on_without_the_rest(engine,
                                                                               people):
    case = inquire(engine, people["member"], cosigners=["wang2", "li3"])
    case = act(engine, case, "register", people["office"])
    case = act(engine, case, "cosign", people["m2"], when="2026-11-03")
    run_due(engine, end_of_local_day(dt.date(2026, 11, 9)))
    case = engine.get(case.id, people["office"])
    assert case.state == "deciding"
    assert case.data["cosign_lapsed"] == {"on": "2026-11-10", "unconfirmed": ["li3"]}
    assert case.due_date == dt.date(2026, 11, 17)
    with pytest.raises(NotAllowed) as not_yours:
        act(engine, case, "proceed", people["m2"], when="2026-11-11")
    assert not_yours.value.message.zh == "只有问询人本人可以这样做"
    case = act(engine, case, "proceed", people["member"], when="2026-11-11")
    assert case.state == "answering" and case.due_date == dt.date(2026, 12, 2)
    assert case.data["cosigners"] == ["wang2"] and case.data["dropped_cosigners"] == ["li3"]
    with pytest.raises(NotAllowed):
        act(engine, case, "cosign", people["m3"], when="2026-11-12")
    case = act(engine, case, "answer_on_spot", people["secretary"],
               ON_SPOT | {"answered_on": "2026-11-12"}, "2026-11-12")
    with pytest.raises(NotAllowed) as dropped:
        act(engine, case, "deliver", people["office"], {"signer": "li3", "how": "post"},
            "2026-11-12")
    assert "张三、wang2" in dropped.value.message.zh
    assert verify(engine.db, engine.registry).ok


def test_a6_a_late_cosigner_may_still_confirm_while_the_submitter_decides(engine, people):
    case = inquire(engine, people["member"], cosigners=["wang2"])
    case = act(engine, case, "register", people["office"])
    run_due(engine, end_of_local_day(dt.date(2026, 11, 9)))
    case = engine.get(case.id, people["m2"])
    case = act(engine, case, "cosign", people["m2"], when="2026-11-10")
    assert case.state == "answering" and "dropped_cosigners" not in case.data


def test_a6_no_decision_after_the_cosigning_deadline_means_withdrawn(engine, people):
    case = inquire(engine, people["member"], cosigners=["wang2"])
    act(engine, case, "register", people["office"])
    run_due(engine, end_of_local_day(dt.date(2026, 11, 9)))
    run_due(engine, end_of_local_day(dt.date(2026, 11, 17)))
    case = engine.get(case.id, people["office"])
    assert case.state == "withdrawn" and case.data["withdrawn"]["by"] == "system"
    assert case.due_date is None and pending_timers(engine, case) == []
    assert sorted(fired_timers(engine, case)) == ["cosign_window", "decide_window"]


def test_a6_on_the_spot_answer_records_who_where_and_what(engine, people):
    case = inquire(engine, people["member"])
    with pytest.raises(Forbidden):
        act(engine, case, "answer_on_spot", people["handler"], ON_SPOT)
    with pytest.raises(NotAllowed) as future:
        act(engine, case, "answer_on_spot", people["secretary"],
            ON_SPOT | {"answered_on": "2026-11-03"})
    assert future.value.message.zh == "答复日期不能晚于今天"
    with pytest.raises(Invalid) as missing:
        act(engine, case, "answer_on_spot", people["secretary"],
            {k: v for k, v in ON_SPOT.items() if k not in ("place", "answerer")})
    assert set(missing.value.fields) == {"place", "answerer"}
    case = act(engine, case, "answer_on_spot", people["secretary"], ON_SPOT, "2026-11-02")
    assert case.state == "answered" and case.data["answered_on"] == "2026-11-02"
    answer = case.data["answer"]
    assert answer["kind"] == "on_spot" and answer["answerer"] == "李书记（党委书记）"
    assert answer["place"] == "镇党员活动室" and answer["occasion"] == "meeting"
    assert answer["recorded_by"] == "user:shu" and "secret_reason" not in answer
    assert case.due_date is None and pending_timers(engine, case) == []
    case = act(engine, case, "deliver", people["office"], {"signer": "张三", "how": "on_spot"})
    case = act(engine, case, "publish", people["office"], {"channels": "board，screen"})
    assert case.state == "published"
    assert case.data["publication"]["scope"] == "public"
    assert case.data["publication"]["channels"] == ["board", "screen"]
    assert verify(engine.db, engine.registry).ok


def test_g2_secret_answer_is_not_published_keeps_its_reason_and_is_filed_g6(engine, people):
    case = act(engine, inquire(engine, people["member"]), "register", people["office"])
    with pytest.raises(Invalid) as why:
        act(engine, case, "draft_answer", people["handler"], {"content": "答复", "secret": True})
    assert set(why.value.fields) == {"secret_reason"}
    case = act(engine, case, "draft_answer", people["handler"],
               {"content": "已当面向问询人说明。", "secret": True, "scope": "public",
                "secret_reason": "涉及其他党员的个人隐私（G2）"}, "2026-11-04")
    assert "scope" not in case.data["draft"], "a secret answer has no publication scope"
    assert "answer" not in case.data, "an unreviewed draft is not the answer"
    case = act(engine, case, "approve", people["reviewer"], when="2026-11-04")
    case = act(engine, case, "deliver", people["office"], {"signer": "张三", "how": "in_person"},
               "2026-11-05")
    assert case.state == "withheld"
    assert "publish" not in [t.name for t in engine.actions(case, people["office"])]
    with pytest.raises(NotAllowed):
        act(engine, case, "publish", people["office"], {"channels": ["board"]}, "2026-11-05")
    case = act(engine, case, "file", people["office"], when="2026-11-05")
    assert case.state == "closed" and "publication" not in case.data
    assert case.data["filing"] == {"on": "2026-11-05", "to": "C",
                                   "reason": "涉及其他党员的个人隐私（G2）"}
    assert verify(engine.db, engine.registry).ok


def test_g6_the_root_files_a_secret_answer_with_an_outside_authority(engine, people, tree):
    member = user("zhang", {(tree["C"], "member")})
    case = act(engine, inquire(engine, member, org="C"), "register", people["root_handler"])
    case = act(engine, case, "draft_answer", people["root_handler"],
               {"content": "答复", "secret": True, "secret_reason": "涉密"})
    case = act(engine, case, "approve", people["root_reviewer"])
    case = act(engine, case, "deliver", people["root_handler"],
               {"signer": "张三", "how": "in_person"})
    with pytest.raises(NotAllowed) as missing:
        act(engine, case, "file", people["root_handler"])
    assert "备案机关" in missing.value.message.zh
    case = act(engine, case, "file", people["root_handler"],
               {"authority": "市委办公室", "reference": "备〔2026〕3号"})
    assert case.state == "closed" and case.data["filing"]["authority"] == "市委办公室"


def test_a6_the_public_inquires_where_allowed_and_tracks_by_code(engine, people):
    case = inquire(engine, PUBLIC, name="周八", contact="13800000011")
    assert case.data["from_public"] and case.data["submitted_by"] == "public:anonymous"
    case = act(engine, case, "register", people["office"])
    assert case.state == "answering"
    tracked = applicant(case.code)
    assert engine.get(case.id, tracked).state == "answering"
    with pytest.raises(NotAllowed):
        act(engine, case, "withdraw", people["member"])
    case = act(engine, case, "withdraw", tracked, {"reason": "问题已解决"}, "2026-11-03")
    assert case.state == "withdrawn" and case.data["withdrawn"]["by"] == "submitter"


def test_g3_the_inquirer_sees_the_answer_only_once_reviewed(engine, people):
    case = act(engine, inquire(engine, PUBLIC, name="周八"), "register", people["office"])
    case = act(engine, case, "draft_answer", people["handler"], WRITTEN | {"scope": "public"})
    tracked = engine.get(case.id, applicant(case.code))
    assert [label.zh for label, _ in tracking.public_data(engine, tracked)] == []
    case = act(engine, case, "approve", people["reviewer"])
    shown = dict(tracking.public_data(engine, engine.get(case.id, applicant(case.code))))
    answer = shown[Text("答复", "Answer")]
    assert answer["content"] == WRITTEN["content"] and "drafted_by" not in answer


def test_a6_the_public_is_refused_where_the_organisation_does_not_allow_it(engine, people):
    set_org_settings(engine, "T", {"public_allowed": False})
    case = inquire(engine, PUBLIC, name="周八")
    assert case.state == "received" and case.data["_settings"]["public_allowed"] is False
    assert [t.name for t in engine.actions(case, people["office"])] == ["decline"]
    assert engine.actions(case, people["secretary"]) == []
    with pytest.raises(NotAllowed) as refused:
        act(engine, case, "register", people["office"])
    assert refused.value.message.zh == "本组织不受理群众问询，只能不予受理"
    with pytest.raises(NotAllowed):
        act(engine, case, "answer_on_spot", people["secretary"], ON_SPOT)
    case = act(engine, case, "decline", people["office"])
    assert case.state == "declined"
    assert case.data["declined"] == {"reason": STANDARD_PUBLIC_REFUSAL, "on": "2026-11-02"}
    member_case = inquire(engine, people["member"])
    assert act(engine, member_case, "register", people["office"]).state == "answering"
    assert verify(engine.db, engine.registry).ok


def test_a6_declining_a_member_inquiry_needs_a_reason(engine, people):
    case = inquire(engine, people["member"])
    with pytest.raises(NotAllowed) as why:
        act(engine, case, "decline", people["office"])
    assert why.value.message.zh == "请说明不予受理的理由"
    case = act(engine, case, "decline", people["office"], {"reason": "不属于问询范围（第五条）"})
    assert case.data["declined"]["reason"] == "不属于问询范围（第五条）"


def test_a9_overdue_marked_by_the_timer_runner_with_reminders_before(engine, people):
    case = act(engine, inquire(engine, people["member"]), "register", people["office"])
    assert run_due(engine, at("2026-11-16", 0)) == 1
    assert engine.get(case.id, people["reviewer"]).data["overdue"] == 0
    run_due(engine, end_of_local_day(dt.date(2026, 11, 23)))
    case = engine.get(case.id, people["reviewer"])
    assert case.data["overdue"] == 1 and case.state == "answering"
    run_due(engine, end_of_local_day(dt.date(2026, 12, 21)))
    case = engine.get(case.id, people["reviewer"])
    assert case.data["overdue"] == 2 and case.state == "answering"
    assert sorted(fired_timers(engine, case)) == ["deadline", "deadline.remind1",
                                                  "deadline.remind5", "long_overdue"]
    case = act(engine, case, "draft_answer", people["handler"], WRITTEN, "2026-12-22")
    case = act(engine, case, "approve", people["reviewer"], when="2026-12-22")
    assert case.state == "answered" and case.data["overdue"] == 2
    assert verify(engine.db, engine.registry).ok


def test_g14_every_inquiry_figure_matches_a_count_by_hand(engine, people):
    """G14: six inquiries walked through the door, each figure counted here: i1 written
    and published, i2 answered on the spot, i3 kept secret (G2), i4 declined, i5
    withdrawn, i6 answered after the deadline (A9)."""
    office, handler, reviewer = people["office"], people["handler"], people["reviewer"]
    i1 = act(engine, inquire(engine, people["member"]), "register", office)
    i1 = act(engine, i1, "draft_answer", handler, WRITTEN, "2026-11-09")
    i1 = act(engine, i1, "approve", reviewer, when="2026-11-11")
    i1 = act(engine, i1, "deliver", office, {"signer": "张三", "how": "in_person"}, "2026-11-12")
    act(engine, i1, "publish", office, {"channels": ["board"]}, "2026-11-13")
    act(engine, inquire(engine, people["member"]), "answer_on_spot", people["secretary"],
        ON_SPOT)
    i3 = act(engine, inquire(engine, people["member"]), "register", office)
    i3 = act(engine, i3, "draft_answer", handler, {"content": "已当面说明。", "secret": True,
                                                   "secret_reason": "涉及隐私（G2）"},
             "2026-11-04")
    i3 = act(engine, i3, "approve", reviewer, when="2026-11-04")
    act(engine, i3, "deliver", office, {"signer": "张三", "how": "in_person"}, "2026-11-05")
    act(engine, inquire(engine, people["member"]), "decline", office, {"reason": "不属于问询范围"})
    i5 = inquire(engine, people["m2"], name="王二")
    act(engine, i5, "withdraw", people["m2"], when="2026-11-06")
    i6 = act(engine, inquire(engine, people["m3"], name="李三"), "register", office)
    counted_then = stats_check.figures(engine, "inquiry")
    run_due(engine, end_of_local_day(dt.date(2026, 11, 23)))
    i6 = act(engine, engine.get(i6.id, office), "draft_answer", handler, WRITTEN, "2026-11-24")
    act(engine, i6, "approve", reviewer, when="2026-11-24")
    found = stats_check.figures(engine, "inquiry")
    assert stats_check.flat(found, "inquiry") == {
        "received": 6, "answered": 4, "answered.written": 3, "answered.on_spot": 1,
        "answer_days": 4, "timeliness": 4, "timeliness.on_time": 3, "timeliness.overdue": 1,
        "published": 1, "withheld": 1, "declined": 1, "withdrawn": 1}
    assert stats_check.histogram(found, "inquiry", "answer_days") == {
        0: 1, wd("2026-11-02", "2026-11-04"): 1, wd("2026-11-02", "2026-11-11"): 1,
        wd("2026-11-02", "2026-11-24"): 1}
    stats_check.replay_agrees(engine, "inquiry", at("2026-11-13", 23), counted_then)
