"""预公开 walked as its users would, one rule ID per scenario (P1–P8, G1, G2, G10, G13)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from machines.predisclosure import comment_summary, earliest_until, most_object
from tests.machines import stats_check
from workflow.audit.chain import verify
from workflow.base.errors import Forbidden, Invalid, NotAllowed, NotFound
from workflow.core.timers import run_due
from workflow.people.actors import PUBLIC, user
from workflow.people.orgs import add_org
from workflow.store.models import Org, cases
from workflow.views import publications
from workflow.views.receipts import lookup

pytestmark = pytest.mark.dates  # swept over several days by make test

CHECKED = {"secrecy": True, "necessity": True, "accuracy": True}
DRAFT = {"title": "青山镇集贸市场搬迁方案（征求意见稿）",
         "draft_text": "拟将集贸市场搬迁至镇东新区。", "scope": "public",
         "forms": ["board", "online"]}
OPENED = "2026-05-04"  # a Monday


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}:00+08:00").astimezone(dt.UTC)


def day(offset: int, start: str = OPENED) -> str:
    return (dt.date.fromisoformat(start) + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def staff(people, tree, engine):
    with engine.db.write() as conn:
        sibling = add_org(conn, "S", "组织S", "C", "town")["path"]
    return people | {
        "group": user("zu", {(tree["T"], "leading_group")}),
        "secretary": user("shu", {(tree["T"], "secretary")}),
        "member": user("dang", {(tree["T"], "member")}),
        "village_member": user("cun", {(tree["V"], "member")}),
        "stranger": user("wai", {(sibling, "member")}),
        "supervisor": user("jian", {(tree["T"], "supervisor")}),
    }


def act(engine, case, trigger, who, payload=None, when=OPENED):
    return engine.fire(case.id, trigger, who, payload or {}, case.version, at(when))


def approved(engine, staff, **changes):
    case = engine.start("pre_disclosure", "T", staff["handler"], DRAFT | changes, at(OPENED))
    case = act(engine, case, "submit", staff["handler"])
    case = act(engine, case, "approve", staff["reviewer"], CHECKED)
    return act(engine, case, "approve_plan", staff["group"], {"note": "同意"})


def opened(engine, staff, until: str | None = None, **changes):
    case = approved(engine, staff, **changes)
    return act(engine, case, "open_comments", staff["handler"],
               {"comment_until": until or day(15)})


def say(engine, case, stance="suggest", who=PUBLIC, when=OPENED, text="建议……", **extra):
    trigger = "supervisor_comment" if who.id == "jian" else "comment"
    return engine.submit(case.id, trigger, who, {"stance": stance, "text": text} | extra,
                         now=at(when))


def close(engine, case):
    run_due(engine, at(day(1, case.data["comment_until"]), "00:00"))
    return engine.get(case.id, PUBLIC)


def answer_all(engine, case, staff):
    for c in engine.get(case.id, PUBLIC).data["comments"]:
        if not c.get("outcome"):
            engine.fire(case.id, "dispose", staff["handler"],
                        {"receipt": c["receipt"], "outcome": "adopted"}, None, at(day(16)))
    return engine.get(case.id, PUBLIC)


DECISION = {"decided_by": "青山镇党委", "meeting": "镇党委第 12 次会议", "decided_on": day(17),
            "result": "同意搬迁，分两期实施。", "revised_plan": "一期保留老市场早市……"}


def set_settings(engine, code: str, **values) -> None:
    with engine.db.write() as conn:
        conn.execute(sa.update(Org.__table__).where(Org.__table__.c.code == code).values(
            settings=json.dumps({"pre_disclosure": values})))


# -- P8, G2, G3: the plan --------------------------------------------------------------------


def test_p8_general_item_reviewed_g2_then_approved_by_the_leading_group(engine, staff):
    case = engine.start("pre_disclosure", "T", staff["handler"], DRAFT, at(OPENED))
    case = act(engine, case, "submit", staff["handler"])
    with pytest.raises(Invalid) as refused:  # G2: all three checks, each box marked
        act(engine, case, "approve", staff["reviewer"], {"secrecy": True})
    assert set(refused.value.fields) == {"necessity", "accuracy"}
    case = act(engine, case, "approve", staff["reviewer"], CHECKED)
    assert case.state == "group_approval" and case.data["review"]["secrecy"]
    with pytest.raises(Forbidden):
        act(engine, case, "approve_plan", staff["reviewer"])
    assert act(engine, case, "approve_plan", staff["group"]).state == "approved"


def test_p8_important_item_goes_to_the_committee_with_attendance(engine, staff):
    case = engine.start("pre_disclosure", "T", staff["handler"], DRAFT | {"important": True},
                        at(OPENED))
    case = act(engine, act(engine, case, "submit", staff["handler"]), "approve",
               staff["reviewer"], CHECKED)
    assert case.state == "committee"
    decision = {"plan": "领导小组拟订的方案", "meeting": "镇党委会议", "meeting_on": OPENED,
                "members": 7, "present": 9, "decision": "同意预公开"}
    with pytest.raises(Invalid) as bad:
        act(engine, case, "record_committee", staff["group"], decision)
    assert "present" in bad.value.fields
    case = act(engine, case, "record_committee", staff["group"], decision | {"present": 6})
    assert case.state == "approved" and case.data["plan_approval"]["present"] == 6


def test_p2_forms_must_be_known(engine, staff):
    with pytest.raises(Invalid) as bad:
        engine.start("pre_disclosure", "T", staff["handler"], DRAFT | {"forms": ["wechat"]},
                     at(OPENED))
    assert "不认识的形式" in bad.value.fields["forms"].zh


# -- P3: the comment period ------------------------------------------------------------------


def test_p3_fourteen_days_refused_fifteen_accepted(engine, staff):
    case = approved(engine, staff)
    with pytest.raises(Invalid) as short:
        act(engine, case, "open_comments", staff["handler"], {"comment_until": day(14)})
    error = short.value.fields["comment_until"]
    assert day(15) in error.zh and "15 天" in error.zh and day(15) in error.en
    assert engine.get(case.id, PUBLIC).state == "approved", "nothing half-applied"
    case = act(engine, case, "open_comments", staff["handler"], {"comment_until": day(15)})
    assert case.state == "open" and case.data["comment_until"] == day(15)
    assert case.data["closes_at"] == f"{day(15)}T16:00:00Z", "24:00 Beijing time"
    assert case.data["notices"] == [
        {"kind": "opened", "until": day(15), "on": OPENED, "round": 1}]


def test_p3_a_date_typed_a_year_too_far_is_a_field_error_not_a_crash(engine, staff):
    case = approved(engine, staff)
    with pytest.raises(Invalid) as far:
        act(engine, case, "open_comments", staff["handler"], {"comment_until": day(366)})
    assert day(365) in far.value.fields["comment_until"].zh
    with pytest.raises(Invalid) as beyond:  # past any deadline's calendar: the field's own
        act(engine, case, "open_comments", staff["handler"], {"comment_until": "9999-12-31"})
    assert "1900" in beyond.value.fields["comment_until"].zh
    case = act(engine, case, "open_comments", staff["handler"], {"comment_until": day(365)})
    with pytest.raises(Invalid):
        act(engine, case, "extend_period", staff["handler"],
            {"comment_until": "9999-12-31", "reason": "x"})


def test_p3_day_of_publication_not_counted():
    assert earliest_until(dt.date(2026, 5, 4), 15) == dt.date(2026, 5, 19)
    assert earliest_until(dt.date(2026, 12, 20), 15) == dt.date(2027, 1, 4)


def test_p3_shorter_period_with_reason_and_leading_group_approval(engine, staff):
    case = approved(engine, staff)
    with pytest.raises(Forbidden):
        act(engine, case, "approve_short_period", staff["handler"],
            {"days": 7, "reason": "防汛工程须在汛期前开工"})
    with pytest.raises(Invalid) as needless:
        act(engine, case, "approve_short_period", staff["group"], {"days": 15, "reason": "x"})
    assert "无须批准" in needless.value.fields["days"].zh
    case = act(engine, case, "approve_short_period", staff["group"],
               {"days": 7, "reason": "防汛工程须在汛期前开工"})
    assert case.data["short_period"]["by"] == "user:zu" and case.version == 4
    with pytest.raises(Invalid) as short:
        act(engine, case, "open_comments", staff["handler"], {"comment_until": day(6)})
    assert "领导小组批准" in short.value.fields["comment_until"].zh
    case = act(engine, case, "open_comments", staff["handler"], {"comment_until": day(7)})
    assert case.state == "open"


def test_p3_the_minimum_is_a_setting_per_organisation(engine, staff):
    set_settings(engine, "T", min_days=20)
    case = approved(engine, staff)
    with pytest.raises(Invalid) as short:
        act(engine, case, "open_comments", staff["handler"], {"comment_until": day(19)})
    assert day(20) in short.value.fields["comment_until"].zh


def test_p3_the_period_closes_on_a_durable_timer_at_the_end_of_the_last_day(engine, staff):
    case = opened(engine, staff)
    run_due(engine, at(day(15), "23:59"))
    assert engine.get(case.id, PUBLIC).state == "open"
    assert close(engine, case).state == "closed"
    assert verify(engine.db, engine.registry).ok


def test_p3_extension_publishes_a_notice_and_never_shortens(engine, staff):
    case = opened(engine, staff)
    with pytest.raises(Invalid) as shorter:
        act(engine, case, "extend_period", staff["handler"],
            {"comment_until": day(10), "reason": "提前结束"})
    assert "只能延长" in shorter.value.fields["comment_until"].zh
    case = act(engine, case, "extend_period", staff["handler"],
               {"comment_until": day(20), "reason": "应群众要求延长"}, day(5))
    assert case.version == 5, "append-only: an officer's open form stays fresh"
    assert case.data["notices"][-1]["kind"] == "extended"
    assert case.data["notices"][-1]["note"] == "应群众要求延长"
    run_due(engine, at(day(16), "00:00"))
    assert engine.get(case.id, PUBLIC).state == "open", "the timer moved with the end"
    assert close(engine, case).state == "closed"


def test_p3_reopening_after_the_close_is_a_notice_with_the_new_date(engine, staff):
    case = close(engine, opened(engine, staff))
    case = act(engine, case, "reopen", staff["handler"],
               {"comment_until": day(25), "reason": "补充听取商户意见"}, day(17))
    assert case.state == "open" and case.data["notices"][-1]["kind"] == "reopened"
    say(engine, case, when=day(20))
    assert close(engine, case).state == "closed"


# -- P4, G1, G13: comments -------------------------------------------------------------------


def test_p4_a_comment_gets_a_receipt_and_the_commenter_sees_its_disposition(engine, staff):
    case = opened(engine, staff)
    sent = say(engine, case, "object", text="新址太远", name="张三", contact="13800000001")
    assert sent.number.startswith("YJ-2026-") and sent.case.version == case.version
    comment = sent.case.data["comments"][0]
    assert comment["receipt"] == sent.number and comment["stance"] == "object"
    engine.fire(case.id, "dispose", staff["handler"],
                {"receipt": sent.number, "outcome": "not_adopted",
                 "reason": "新址已开通公交专线"}, None, at(day(3)))
    status = lookup(engine, case.id, sent.number, sent.access_code)
    assert status.sent.payload["text"] == "新址太远"
    assert status.since[0].payload["outcome"] == "not_adopted"
    assert status.since[0].who.zh == "工作人员"
    assert lookup(engine, case.id, sent.number, "WRONG-CODE") is None


def test_p3_p4_a_comment_after_the_close_is_refused_with_the_time_and_earlier_ones_kept(
        engine, staff):
    case = opened(engine, staff)
    first = say(engine, case, "support")
    with pytest.raises(NotAllowed) as late:  # past the end, before the timer has run
        say(engine, case, when=day(16))
    assert f"{day(15)} 24:00" in late.value.message.zh and "24:00" in late.value.message.en
    case = close(engine, case)
    with pytest.raises(NotAllowed) as closed:
        say(engine, case, when=day(17))
    assert f"{day(15)} 24:00" in closed.value.message.zh
    case = engine.get(case.id, PUBLIC)
    assert [c["receipt"] for c in case.data["comments"]] == [first.number]
    assert lookup(engine, case.id, first.number, first.access_code).sent.payload["stance"] \
        == "support"


def test_p4_the_length_limit_is_a_clear_field_error(engine, staff):
    case = opened(engine, staff)
    with pytest.raises(Invalid) as long:
        say(engine, case, text="长" * 2001)
    assert "2000" in long.value.fields["text"].zh and "2000" in long.value.fields["text"].en


def test_g1_an_internal_draft_takes_comments_from_members_of_the_subtree_only(engine, staff):
    case = opened(engine, staff, scope="internal")
    with pytest.raises(NotAllowed):
        say(engine, case)
    say(engine, case, "support", staff["member"])
    say(engine, case, "suggest", staff["village_member"])  # a lower organisation's member
    with pytest.raises(NotFound):
        say(engine, case, who=staff["stranger"])  # another organisation's member
    with pytest.raises(Forbidden):
        say(engine, case, who=staff["handler"])
    froms = [c["from"] for c in engine.get(case.id, PUBLIC).data["comments"]]
    assert froms == ["user:dang", "user:cun"]


def test_g13_supervisors_comments_are_marked(engine, staff):
    case = opened(engine, staff)
    say(engine, case, "suggest", staff["supervisor"], text="公开时间应提前")
    with pytest.raises(Forbidden):
        engine.submit(case.id, "supervisor_comment", staff["member"],
                      {"stance": "support", "text": "冒充监督员"}, now=at(OPENED))
    say(engine, case, "support", staff["member"])
    assert [c["supervisor"] for c in engine.get(case.id, PUBLIC).data["comments"]] == [
        True, False]


def test_p4_each_comment_gets_one_outcome_with_what_it_needs(engine, staff):
    case = opened(engine, staff)
    sent = say(engine, case)
    handler = staff["handler"]

    def dispose(payload):
        return engine.fire(case.id, "dispose", handler, {"receipt": sent.number} | payload,
                           None, at(day(2)))

    with pytest.raises(Invalid) as no_reason:
        dispose({"outcome": "not_adopted"})
    assert "reason" in no_reason.value.fields
    with pytest.raises(Invalid) as nowhere:
        dispose({"outcome": "outside"})
    assert "forwarded_to" in nowhere.value.fields
    with pytest.raises(Invalid) as unknown:
        dispose({"receipt": "YJ-2026-999999", "outcome": "adopted"})
    assert "receipt" in unknown.value.fields
    done = dispose({"outcome": "outside", "forwarded_to": "镇市场监管所"})
    assert "镇市场监管所" in done.data["comments"][0]["answer"]
    with pytest.raises(Invalid) as twice:
        dispose({"outcome": "adopted"})
    assert "已经处理" in twice.value.fields["receipt"].zh


def test_p4_the_decision_is_refused_while_a_comment_has_no_disposition(engine, staff):
    case = opened(engine, staff)
    say(engine, case, "support")
    waiting = say(engine, case, "suggest")
    case = close(engine, case)
    engine.fire(case.id, "dispose", staff["handler"],
                {"receipt": case.data["comments"][0]["receipt"], "outcome": "adopted"}, None,
                at(day(16)))
    case = engine.get(case.id, PUBLIC)
    with pytest.raises(NotAllowed) as refused:
        act(engine, case, "decide", staff["handler"], DECISION, day(17))
    assert waiting.number in refused.value.message.zh
    case = answer_all(engine, case, staff)
    assert act(engine, case, "decide", staff["secretary"], DECISION, day(17)).state == "decided"


# -- P5: deferral ----------------------------------------------------------------------------


def test_p5_most_commenters_objecting_defers_at_the_close_with_the_counts(engine, staff):
    case = opened(engine, staff)
    for stance in ("object", "object", "support"):
        say(engine, case, stance)
    case = close(engine, case)
    assert case.state == "deferred"
    assert case.data["deferrals"] == [{
        "rule": "P5", "ground": "majority_objection", "round": 1, "on": day(16),
        "comments": 3, "objections": 2, "percent": 50}]


def test_p5_exactly_half_objecting_does_not_defer(engine, staff):
    case = opened(engine, staff)
    for stance in ("object", "support"):
        say(engine, case, stance)
    assert close(engine, case).state == "closed"


def test_p5_the_threshold_is_a_setting_per_organisation(engine, staff):
    set_settings(engine, "T", objection_percent=70)
    case = opened(engine, staff)
    for stance in ("object", "object", "support"):
        say(engine, case, stance)
    assert close(engine, case).state == "closed", "2 of 3 is not more than 70 per cent"


def test_p5_a_recorded_major_disagreement_defers(engine, staff):
    case = opened(engine, staff)
    say(engine, case, "support")
    case = close(engine, case)
    case = act(engine, case, "record_disagreement", staff["handler"],
               {"reason": "商户与居民意见严重对立"}, day(16))
    assert case.state == "deferred"
    assert case.data["deferrals"][-1]["ground"] == "major_disagreement"


def test_p5_a_deferred_decision_waits_for_the_study(engine, staff):
    case = opened(engine, staff)
    say(engine, case, "object")
    case = answer_all(engine, close(engine, case), staff)
    with pytest.raises(NotAllowed) as refused:
        act(engine, case, "decide", staff["handler"], DECISION, day(17))
    assert "研究" in refused.value.message.zh
    case = act(engine, case, "record_study", staff["handler"],
               {"study": "召开商户座谈会，调整搬迁时序"}, day(17))
    assert act(engine, case, "decide", staff["handler"], DECISION, day(17)).state == "decided"


def test_p5_p7_a_new_round_on_a_revised_draft_keeps_the_old_comments(engine, staff):
    case = opened(engine, staff)
    old = [say(engine, case, "object"), say(engine, case, "object"), say(engine, case)]
    case = close(engine, case)
    assert case.state == "deferred"
    case = act(engine, case, "record_study", staff["handler"], {"study": "研究"}, day(16))
    case = act(engine, case, "revise_draft", staff["handler"],
               {"draft_text": "修改稿：分两期搬迁。", "changes": "保留早市"}, day(17))
    assert case.state == "review" and case.data["round"] == 2
    assert case.data["rounds"][0]["comments"] == [s.number for s in old]
    case = act(engine, case, "approve", staff["reviewer"], CHECKED, day(17))
    case = act(engine, case, "approve_plan", staff["group"], {}, day(17))
    case = act(engine, case, "open_comments", staff["handler"], {"comment_until": day(32)},
               day(17))
    new = say(engine, case, "support", when=day(18))
    case = engine.get(case.id, PUBLIC)
    assert [c["round"] for c in case.data["comments"]] == [1, 1, 1, 2]
    assert lookup(engine, case.id, old[0].number, old[0].access_code) is not None
    assert close(engine, case).state == "closed", "round 2 is counted alone: 1 support"
    assert new.number != old[0].number
    assert verify(engine.db, engine.registry).ok


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 100))
def test_p5_most_object_means_more_than_the_share(objections, others, percent):
    total = objections + others
    deferred = most_object(objections, total, percent)
    assert deferred == (total > 0 and objections / total > percent / 100)
    if deferred:  # one more objection never undoes a deferral
        assert most_object(objections + 1, total + 1, percent)


@given(st.integers(1, 500))
def test_p5_exactly_half_never_defers_and_one_more_does(half):
    assert not most_object(half, 2 * half, 50)
    assert most_object(half + 1, 2 * half + 1, 50)
    assert not most_object(0, 0, 0), "no comments, no majority"


# -- P6, P7, G1, G10: decision and publication ----------------------------------------------


def decided(engine, staff, **changes):
    case = opened(engine, staff, **changes)
    say(engine, case, "object", text="不同意", name="张三")
    say(engine, case, "suggest", staff["supervisor"], text="公开收支")
    say(engine, case, "support")
    case = close(engine, case)
    for c, payload in zip(case.data["comments"], (
            {"outcome": "not_adopted", "reason": "已另行安置"}, {"outcome": "adopted"},
            {"outcome": "partly", "reply": "部分采纳"}), strict=True):
        engine.fire(case.id, "dispose", staff["handler"], {"receipt": c["receipt"]} | payload,
                    None, at(day(16)))
    case = engine.get(case.id, PUBLIC)
    return act(engine, case, "decide", staff["secretary"], DECISION, day(17))


def test_p6_g1_g10_the_summary_goes_out_internal_before_public_and_into_the_ledger(
        engine, staff, tree):
    case = decided(engine, staff)
    assert case.data["decision"]["decided_by"] == "青山镇党委"
    with pytest.raises(NotAllowed):
        act(engine, case, "publish_public", staff["handler"], {"channels": ["board"]}, day(18))
    case = act(engine, case, "publish_internal", staff["handler"], {"channels": ["meeting"]},
               day(18))
    assert case.state == "published_internal"
    summary = case.data["summary"]
    assert summary["by_stance"] == {"support": 1, "object": 1, "suggest": 1}
    assert summary["by_outcome"] == {"adopted": 1, "partly": 1, "not_adopted": 1, "outside": 0}
    assert summary["not_adopted"][0]["reason"] == "已另行安置"
    assert summary["supervisors"][0]["text"] == "公开收支"
    assert "张三" not in json.dumps(summary, ensure_ascii=False) + case.data["outcome"]["content"]
    member = (tree["T"],)
    assert [p.id for p in publications.publications(engine)] == []  # G1: not yet public
    assert [p.id for p in publications.publications(engine, member)] == [case.id]
    case = act(engine, case, "publish_public", staff["handler"], {"channels": ["board"]},
               day(19))
    assert case.state == "published"
    item = publications.publication(engine, case.id, part="outcome")
    assert item.kind == "pre_disclosure" and "修改后的方案" in item.content  # P7
    rows = publications.ledger(engine, [tree["T"]])
    assert [r.id for r in rows] == [case.id] and len(rows[0].opinions) == 3  # G10
    assert verify(engine.db, engine.registry).ok


def test_g1_an_internal_outcome_is_published_once_within_the_party(engine, staff, tree):
    case = opened(engine, staff, scope="internal")
    say(engine, case, "support", staff["member"])
    case = answer_all(engine, close(engine, case), staff)
    case = act(engine, case, "decide", staff["handler"], DECISION, day(17))
    case = act(engine, case, "publish_internal", staff["handler"], {"channels": ["meeting"]},
               day(18))
    assert case.state == "published" and "published_public" not in case.data
    assert publications.publications(engine) == []
    assert [p.id for p in publications.publications(engine, (tree["V"],))] == [case.id]


def test_p6_the_summary_names_no_one():
    summary = comment_summary([{"receipt": "YJ-1", "stance": "object", "text": "不同意",
                                "name": "张三", "contact": "138", "supervisor": False,
                                "outcome": "not_adopted", "reason": "理由"}])
    assert "张三" not in json.dumps(summary, ensure_ascii=False)
    assert "138" not in json.dumps(summary, ensure_ascii=False)


def test_demo_has_a_draft_ready_one_open_with_every_stance_and_one_deferred(engine):
    from workflow import demo

    demo.load(engine, at("2026-12-31", "23:30"))
    with engine.db.read() as conn:
        rows = conn.execute(sa.select(cases.c.state, cases.c.data).where(
            cases.c.kind == "pre_disclosure")).all()
    found = {state: json.loads(data) for state, data in rows}
    assert set(found) == {"approved", "open", "deferred"}
    assert {c["stance"] for c in found["open"]["comments"]} == {"support", "object", "suggest"}
    assert any(c["supervisor"] for c in found["open"]["comments"])
    assert found["deferred"]["deferrals"][0]["ground"] == "majority_objection"
    assert verify(engine.db, engine.registry).ok


def test_g14_every_predisclosure_figure_matches_a_count_by_hand(engine, staff):
    """G14: three drafts walked through the door, each figure counted here: p1 opened,
    three comments (one a supervisor's) answered one outcome each, decided and its outcome
    released inside then outside (P6: one publication, the first); p2 deferred for a
    majority objecting (P5); p3 approved and never opened."""
    p1 = decided(engine, staff)
    p1 = act(engine, p1, "publish_internal", staff["handler"], {"channels": ["meeting"]},
             day(18))
    p2 = opened(engine, staff)
    for stance in ("object", "object", "support"):
        say(engine, p2, stance)
    assert close(engine, p2).state == "deferred"
    approved(engine, staff)
    counted_then = stats_check.figures(engine, "pre_disclosure")
    act(engine, p1, "publish_public", staff["handler"], {"channels": ["board"]}, day(19))
    found = stats_check.figures(engine, "pre_disclosure")
    assert stats_check.flat(found, "pre_disclosure") == {
        "drafts": 3, "opened": 2, "comments": 6, "comments.object": 3, "comments.suggest": 1,
        "comments.support": 2, "dispositions": 3, "dispositions.not_adopted": 1,
        "dispositions.adopted": 1, "dispositions.partly": 1, "deferrals": 1, "decided": 1,
        "published": 1}
    stats_check.replay_agrees(engine, "pre_disclosure", at(day(18), "23:00"), counted_then)
