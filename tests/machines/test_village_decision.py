"""四议两公开 walked as a village officer and the town would, one rule ID per scenario
(V1–V4, with G1, G6, G10 and A9's tiers)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from tests.machines import stats_check
from tests.workflow.test_attachments import pdf
from workflow.audit.chain import verify
from workflow.base.errors import Forbidden, Invalid, NotAllowed
from workflow.base.timeutil import end_of_local_day
from workflow.core.schema import Upload
from workflow.core.timers import run_due
from workflow.people.actors import user
from workflow.store.models import orgs

pytestmark = pytest.mark.dates  # swept over several days by make test

KIND = "village_decision"
DAY = "2026-03-02"  # a Monday


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(dt.UTC)


@pytest.fixture
def village(tree):
    """The village V's secretary and office, the town T's reviewer and filing desk."""
    return {
        "secretary": user("shuji", {(tree["V"], "secretary")}),
        "office": user("cunban", {(tree["V"], "office")}),
        "town": user("zhen", {(tree["T"], "reviewer")}),
        "receiver": user("beian", {(tree["T"], "upper_receiver")}),
        "member": user("dangyuan", {(tree["V"], "member")}),
    }


def start(engine, village, major=False, amount=0, when=DAY):
    payload = {"title": "修建村道", "content": "硬化村东道路 800 米。", "major": major}
    if amount:
        payload["amount"] = amount
    return engine.start(KIND, "V", village["secretary"], payload, at(when))


def act(engine, case, trigger, who, payload=None, when=DAY):
    return engine.fire(case.id, trigger, who, payload or {}, case.version, at(when))


COMMITTEES = {"date": DAY, "attendees": "两委委员 9 人", "draft": "硬化村东道路 800 米，公开招标。"}


def party(members=30, present=20, in_favour=16, **extra):
    return {"date": DAY, "members_with_vote": members, "present": present,
            "in_favour": in_favour} | extra


def representatives(members=36, present=24, in_favour=13, **extra):
    return {"date": DAY, "form": "representatives", "representatives": members,
            "present": present, "in_favour": in_favour} | extra


def to_review(engine, village, **start_args):
    case = act(engine, start(engine, village, **start_args), "propose", village["secretary"])
    if case.state == "town_review":
        case = act(engine, case, "town_review", village["town"], {"decision": "approve"})
    return act(engine, case, "two_committees", village["office"], COMMITTEES)


def to_resolved(engine, village, **start_args):
    case = act(engine, to_review(engine, village, **start_args), "party_meeting",
               village["office"], party())
    return act(engine, case, "villagers_meeting", village["office"], representatives())


# -- V1: the order --------------------------------------------------------------------------


def test_v1_the_chain_in_order_for_an_ordinary_decision(engine, village):
    case = start(engine, village)
    assert case.state == "drafting" and case.code.startswith("SY-")
    case = act(engine, case, "propose", village["secretary"])
    assert case.state == "discussing", "V3: an ordinary decision skips the town's review"
    case = act(engine, case, "two_committees", village["office"], COMMITTEES)
    assert case.state == "reviewing"
    case = act(engine, case, "party_meeting", village["office"], party())
    assert case.state == "resolving"
    case = act(engine, case, "villagers_meeting", village["office"], representatives())
    assert case.state == "resolved" and case.data["resolved_on"] == DAY
    assert [m["step"] for m in case.data["meetings"]] == [
        "two_committees", "party_meeting", "villagers_meeting"]
    assert verify(engine.db, engine.registry).ok


@pytest.mark.parametrize("trigger,payload", [
    ("two_committees", COMMITTEES), ("party_meeting", party()),
    ("villagers_meeting", representatives()),
    ("publish_resolution", {"channels": ["board"]}),
    ("publish_result", {"channels": ["board"], "content": "完成"}),
])
def test_v1_no_step_can_be_taken_before_the_proposal(engine, village, trigger, payload):
    case = start(engine, village)
    with pytest.raises(NotAllowed):
        act(engine, case, trigger, village["office"], payload)


def test_v1_steps_cannot_be_skipped_or_reversed(engine, village):
    case = act(engine, start(engine, village), "propose", village["secretary"])
    for trigger, payload in (("party_meeting", party()),
                             ("villagers_meeting", representatives()),
                             ("propose", {})):
        with pytest.raises(NotAllowed):
            act(engine, case, trigger, village["secretary"], payload)
    case = act(engine, case, "two_committees", village["office"], COMMITTEES)
    for trigger, payload in (("two_committees", COMMITTEES),
                             ("villagers_meeting", representatives())):
        with pytest.raises(NotAllowed):
            act(engine, case, trigger, village["office"], payload)
    case = act(engine, case, "party_meeting", village["office"], party())
    with pytest.raises(NotAllowed):
        act(engine, case, "party_meeting", village["office"], party())
    with pytest.raises(NotAllowed):
        act(engine, case, "publish_resolution", village["office"], {"channels": ["board"]})


def test_v1_a_meeting_is_not_dated_before_the_step_before_it(engine, village):
    case = act(engine, start(engine, village), "propose", village["secretary"],
               when="2026-03-04")
    with pytest.raises(NotAllowed) as early:
        act(engine, case, "two_committees", village["office"], COMMITTEES, when="2026-03-04")
    assert "2026-03-04" in early.value.message.zh
    with pytest.raises(NotAllowed) as future:
        act(engine, case, "two_committees", village["office"],
            COMMITTEES | {"date": "2026-03-05"}, when="2026-03-04")
    assert "晚于今天" in future.value.message.zh


def test_v1_only_the_village_party_organisation_proposes(engine, village):
    case = start(engine, village)
    with pytest.raises(Forbidden):
        act(engine, case, "propose", village["member"])
    with pytest.raises(Forbidden):
        act(engine, case, "propose", village["town"])


# -- V3: the town reviews a major decision before any vote ---------------------------------------


def test_v3_a_major_decision_goes_to_the_town_before_the_discussion(engine, village):
    case = act(engine, start(engine, village, major=True), "propose", village["secretary"])
    assert case.state == "town_review"
    for trigger, payload in (("two_committees", COMMITTEES), ("party_meeting", party()),
                             ("villagers_meeting", representatives())):
        with pytest.raises(NotAllowed):
            act(engine, case, trigger, village["office"], payload)
    with pytest.raises(Forbidden):
        act(engine, case, "town_review", village["secretary"], {"decision": "approve"})
    case = act(engine, case, "town_review", village["town"], {"decision": "approve"})
    assert case.state == "discussing"
    assert case.data["town_reviews"][0]["decision"] == "approve"


def test_v3_the_town_sends_back_with_reasons(engine, village):
    case = act(engine, start(engine, village, major=True), "propose", village["secretary"])
    with pytest.raises(Invalid) as why:
        act(engine, case, "town_review", village["town"], {"decision": "return"})
    assert "reason" in why.value.fields
    case = act(engine, case, "town_review", village["town"],
               {"decision": "return", "reason": "请补充资金来源"})
    assert case.state == "drafting"
    case = act(engine, case, "propose", village["secretary"], {"content": "资金来源：村集体"})
    assert case.state == "town_review", "the revised proposal is reviewed again"
    assert len(case.data["proposals"]) == 2


def test_v3_a_major_decision_stays_major(engine, village):
    """V3: a re-proposal cannot drop the flag to avoid the town's review."""
    case = act(engine, start(engine, village, major=True), "propose", village["secretary"],
               {"major": False})
    assert case.state == "town_review"
    case = act(engine, start(engine, village), "propose", village["secretary"], {"major": True})
    assert case.state == "town_review" and case.data["major"] is True


def test_v3_a_major_decision_cannot_reach_a_vote_without_the_town(engine, village):
    """After a failed vote, a major decision goes back to the town with its new proposal."""
    case = to_review(engine, village, major=True)
    case = act(engine, case, "party_meeting", village["office"], party(in_favour=15))
    assert case.state == "drafting"
    case = act(engine, case, "propose", village["secretary"])
    assert case.state == "town_review"
    assert len(case.data["town_reviews"]) == 1


# -- V4: the numbers decide ---------------------------------------------------------------------


def test_v4_exactly_half_present_counts_and_half_in_favour_fails(engine, village):
    case = act(engine, to_review(engine, village), "party_meeting", village["office"],
               party(members=30, present=15, in_favour=15))
    meeting = case.data["meetings"][-1]
    assert meeting["valid"] is True and meeting["passed"] is False
    assert meeting["verdict"]["zh"] == ("应到 30 人，实到 15 人，达到半数，会议有效；赞成 15 人，"
                                        "未超过全体有表决权党员的半数，未通过（V4）")
    assert case.state == "drafting", "a failed vote goes back to the proposal"


def test_v4_a_meeting_short_of_quorum_is_kept_and_reconvened(engine, village):
    case = act(engine, to_review(engine, village), "party_meeting", village["office"],
               party(members=30, present=14, in_favour=14))
    assert case.state == "reviewing", "the case stays at the step to reconvene"
    invalid = case.data["meetings"][-1]
    assert invalid["valid"] is False and invalid["passed"] is None
    assert "未达到半数，会议无效" in invalid["verdict"]["zh"]
    case = act(engine, case, "party_meeting", village["office"],
               party(members=30, present=16, in_favour=16))
    assert case.state == "resolving"
    kept = [m for m in case.data["meetings"] if m["step"] == "party_meeting"]
    assert [m["valid"] for m in kept] == [False, True], "the invalid meeting's record is kept"


def test_v4_a_failed_vote_keeps_its_record_through_the_next_round(engine, village):
    case = act(engine, to_review(engine, village), "party_meeting", village["office"], party())
    case = act(engine, case, "villagers_meeting", village["office"],
               representatives(members=36, present=24, in_favour=12))
    assert case.state == "drafting"
    failed = case.data["meetings"][-1]
    assert failed["valid"] is True and failed["passed"] is False
    case = act(engine, case, "propose", village["secretary"], {"content": "缩短为 600 米"})
    case = act(engine, case, "two_committees", village["office"], COMMITTEES)
    case = act(engine, case, "party_meeting", village["office"], party())
    case = act(engine, case, "villagers_meeting", village["office"], representatives())
    assert case.state == "resolved"
    assert [(m["step"], m["proposal"]) for m in case.data["meetings"]] == [
        ("two_committees", 1), ("party_meeting", 1), ("villagers_meeting", 1),
        ("two_committees", 2), ("party_meeting", 2), ("villagers_meeting", 2)]


@pytest.mark.parametrize("numbers,state", [
    ({"eligible": 600, "present": 300, "in_favour": 200}, "resolving"),  # exactly half: no
    ({"eligible": 600, "present": 301, "in_favour": 151}, "resolved"),
    ({"households": 300, "households_present": 200, "present": 200, "in_favour": 101},
     "resolved"),                                                         # exactly 2/3: yes
    ({"households": 300, "households_present": 199, "present": 199, "in_favour": 150},
     "resolving"),
    ({"eligible": 600, "present": 301, "in_favour": 150}, "drafting"),   # half of present
])
def test_v4_villagers_meeting_boundaries(engine, village, numbers, state):
    case = act(engine, to_review(engine, village), "party_meeting", village["office"], party())
    case = act(engine, case, "villagers_meeting", village["office"],
               {"date": DAY, "form": "villagers"} | numbers)
    assert case.state == state


@pytest.mark.parametrize("payload,field", [
    (party(members=30, present=31, in_favour=20), "present"),
    (party(members=30, present=20, in_favour=15, against=5, abstaining=1), "in_favour"),
    (party(members=0, present=0, in_favour=0), "members_with_vote"),
    (party(present=-1), "present"),
])
def test_v4_party_numbers_must_be_possible(engine, village, payload, field):
    case = to_review(engine, village)
    with pytest.raises(Invalid) as bad:
        act(engine, case, "party_meeting", village["office"], payload)
    assert field in bad.value.fields
    assert engine.get(case.id, village["office"]).version == case.version


@pytest.mark.parametrize("numbers,field", [
    ({"form": "villagers", "present": 10, "in_favour": 6}, "eligible"),
    ({"form": "villagers", "eligible": 100, "present": 101, "in_favour": 60}, "present"),
    ({"form": "villagers", "households": 90, "households_present": 91, "present": 95,
      "in_favour": 60}, "households_present"),
    ({"form": "villagers", "households": 90, "households_present": 70, "present": 60,
      "in_favour": 40}, "households_present"),
    ({"form": "villagers", "households": 90, "present": 60, "in_favour": 40},
     "households_present"),
    ({"form": "representatives", "present": 20, "in_favour": 15}, "representatives"),
    ({"form": "representatives", "representatives": 30, "present": 31, "in_favour": 20},
     "present"),
    ({"form": "representatives", "representatives": 30, "eligible": 500, "present": 25,
      "in_favour": 20}, "eligible"),
])
def test_v4_villagers_numbers_must_be_possible(engine, village, numbers, field):
    case = act(engine, to_review(engine, village), "party_meeting", village["office"], party())
    with pytest.raises(Invalid) as bad:
        act(engine, case, "villagers_meeting", village["office"], {"date": DAY} | numbers)
    assert field in bad.value.fields


# -- V2: two timed publications -------------------------------------------------------------


def test_v2_g1_g10_both_publications_in_full(engine, village):
    case = to_resolved(engine, village, amount=50000)
    assert case.due_date == dt.date(2026, 3, 9), "5 working days after the vote"
    with pytest.raises(NotAllowed) as money:
        act(engine, case, "publish_resolution", village["office"], {"channels": ["board"]})
    assert "财务公开" in money.value.message.zh
    case = act(engine, case, "publish_resolution", village["office"],
               {"channels": ["board"], "finance": "预算 50000 元，村集体经营收入"},
               when="2026-03-04")
    assert case.state == "implementing"
    published = case.data["resolution_publication"]
    assert published["scope"] == "public" and published["content"] == COMMITTEES["draft"]
    assert published["published_internal"]["on"] == DAY, "G1: the Party meeting came first"
    assert published["finance"]["amount"] == 50000
    case = act(engine, case, "record_implementation", village["office"],
               {"stage": "progress", "text": "已完成招标", "spent": 10000}, when="2026-03-10")
    assert case.state == "implementing"
    case = act(engine, case, "record_implementation", village["office"],
               {"stage": "complete", "text": "道路已验收", "spent": 48000}, when="2026-04-10")
    assert case.state == "completed" and case.due_date == dt.date(2026, 4, 17)
    case = act(engine, case, "publish_result", village["office"],
               {"channels": ["board"], "content": "道路已硬化 800 米",
                "finance": "实际支出 48000 元"}, when="2026-04-13")
    assert case.state == "published"
    assert case.data["result_publication"]["title"] == "实施结果公开：修建村道"
    assert verify(engine.db, engine.registry).ok


def test_v2_a9_the_resolution_overdue_in_two_tiers(engine, village):
    case = to_resolved(engine, village)
    assert run_due(engine, end_of_local_day(dt.date(2026, 3, 6))) == 1  # the reminder
    case = engine.get(case.id, village["office"])
    assert case.data["overdue"] == 0 and case.due_date == dt.date(2026, 3, 9)
    run_due(engine, end_of_local_day(dt.date(2026, 3, 9)))
    assert engine.get(case.id, village["office"]).data["overdue"] == 1
    run_due(engine, end_of_local_day(dt.date(2026, 4, 7)))  # 25 working days (清明 4-6)
    case = engine.get(case.id, village["office"])
    assert case.data["overdue"] == 2
    case = act(engine, case, "publish_resolution", village["office"], {"channels": ["board"]},
               when="2026-04-08")
    assert case.data["resolution_publication"]["late"] is True and case.data["overdue"] == 0


def test_v2_the_result_is_due_at_the_latest_after_the_vote(engine, village):
    case = act(engine, to_resolved(engine, village), "publish_resolution", village["office"],
               {"channels": ["board"]})
    assert case.state == "implementing"
    due = case.due_date
    assert due > dt.date(2026, 5, 1)
    run_due(engine, end_of_local_day(due + dt.timedelta(days=1)))
    assert engine.get(case.id, village["office"]).data["overdue"] == 1


def test_v2_resolution_deadline_is_a_setting(engine, village):
    with engine.db.write() as conn:
        conn.execute(sa.update(orgs).where(orgs.c.code == "V").values(
            settings=json.dumps({KIND: {"resolution_days": 3}})))
    case = to_resolved(engine, village)
    assert case.due_date == dt.date(2026, 3, 5)


# -- G6: a publication withheld is filed with the town ------------------------------------------


def test_g6_withheld_and_filed_with_the_town(engine, village):
    case = to_resolved(engine, village)
    with pytest.raises(Forbidden):
        act(engine, case, "withhold", village["office"], {"reason": "x"})
    case = act(engine, case, "withhold", village["secretary"], {"reason": "涉及个人隐私"})
    case = act(engine, case, "file", village["office"])
    assert case.state == "withheld_filed"
    case = act(engine, case, "receive_filing", village["receiver"])
    assert case.state == "closed"


# -- attachments: minutes and sign-in sheets are optional over the door ----------------------


def test_v4_meeting_records_take_minutes_and_sign_in_sheets(engine, village):
    case = to_review(engine, village)
    upload = engine.upload(case.id, village["office"], Upload("签到表.pdf", pdf()), at(DAY))
    case = act(engine, case, "party_meeting", village["office"], party(sign_in=[upload["id"]]))
    meeting = case.data["meetings"][-1]
    assert meeting["sign_in"][0]["media_type"] == "application/pdf"
    assert "minutes" not in meeting


def test_g14_every_village_decision_figure_matches_a_count_by_hand(engine, village):
    """G14: three decisions walked through the door, each figure counted here: d1 major
    (the town reviews), its first Party meeting short of quorum (V4) then reconvened,
    both publications on time; d2 ordinary, its resolution published after the second
    overdue tier (A9); d3 drafted only."""
    office = village["office"]
    d1 = act(engine, to_review(engine, village, major=True), "party_meeting", office,
             party(members=30, present=14, in_favour=14))
    d1 = act(engine, d1, "party_meeting", office, party())
    d1 = act(engine, d1, "villagers_meeting", office, representatives())
    d1 = act(engine, d1, "publish_resolution", office, {"channels": ["board"]}, "2026-03-04")
    d2 = to_resolved(engine, village)
    start(engine, village)
    counted_then = stats_check.figures(engine, KIND)
    d1 = act(engine, d1, "record_implementation", office,
             {"stage": "complete", "text": "道路已验收"}, "2026-04-03")
    act(engine, d1, "publish_result", office, {"channels": ["board"], "content": "已硬化"},
        "2026-04-07")
    run_due(engine, end_of_local_day(dt.date(2026, 4, 7)))
    act(engine, engine.get(d2.id, office), "publish_resolution", office,
        {"channels": ["board"]}, "2026-04-08")
    found = stats_check.figures(engine, KIND)
    assert stats_check.flat(found, KIND) == {
        "decisions": 3, "steps": 9, "steps.propose": 2, "steps.town_review": 1,
        "steps.two_committees": 2, "steps.party_meeting": 2, "steps.villagers_meeting": 2,
        "invalid_meetings": 1, "invalid_meetings.party_meeting": 1,
        "publications": 3, "publications.publish_resolution": 2,
        "publications.publish_result": 1,
        "timeliness": 3, "timeliness.on_time": 2, "timeliness.long_overdue": 1}
    stats_check.replay_agrees(engine, KIND, at("2026-03-04", 23), counted_then)
