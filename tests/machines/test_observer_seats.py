"""党员旁听 walked as its users would, one rule ID per scenario (O1–O7, G8, G9).

The meeting is on Friday 20 November 2026 at 09:00 in Shanghai; registration runs to the
16th. The ID numbers below carry valid GB 11643 check characters.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
import sqlalchemy as sa

from machines import lottery
from tests.machines import stats_check
from workflow.audit.bundle import export
from workflow.audit.chain import verify
from workflow.base.errors import Forbidden, Invalid, NotAllowed
from workflow.core.schema import Upload
from workflow.core.timers import run_due
from workflow.people import sealed
from workflow.people.actors import PUBLIC, user
from workflow.store.models import events, sealed_values
from workflow.views.receipts import lookup

pytestmark = pytest.mark.dates  # swept over several days by make test

ID_A = "320102196403071234"  # masked 3201**********1234
ID_B = "11010519491231002X"
ID_C = "440524188001010014"
MEETING = {"title": "镇党委第 12 次全体会议", "meeting_at": "2026-11-20T09:00",
           "place": "镇政府三楼会议室", "topics": "一、2027 年民生实事项目\n二、村级集体经济发展",
           "categories": ["机关:1", "农村:2", "社区:1"],
           "conditions": "组织关系在本镇的党员，熟悉议题", "registration_until": "2026-11-16"}


def at(day: str, hour: int = 10) -> dt.datetime:
    """``hour`` o'clock in Shanghai on ``day``."""
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(dt.UTC)


def pdf() -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    return bytes(doc.output())


@pytest.fixture
def who(tree):
    t = tree["T"]
    return {"office": user("ban", {(t, "office")}), "secretary": user("shu", {(t, "secretary")}),
            "member": user("dang", {(t, "member")}), "member2": user("yuan", {(t, "member")}),
            "outsider": user("wai", {(tree["C"], "member")})}


def form(id_number: str, category: str = "农村", **extra) -> dict:
    return {"name": "张三", "id_number": id_number, "branch": "青山村党支部",
            "category": category, "contact": "13800000001", "specialties": "农业经济",
            "contribution": "长期从事村集体经济工作", "letter": Upload("介绍信.pdf", pdf())} | extra


def act(engine, case, trigger, actor, payload=None, when="2026-11-02"):
    return engine.fire(case.id, trigger, actor, payload or {}, case.version, at(when))


def noticed(engine, who, when="2026-11-02", public=True, **change):
    """The meeting's notice released within the Party on ``when``, and (``public``) to the
    public after it (G1)."""
    case = engine.start("observer_seats", "T", who["office"], MEETING | change, at("2026-11-01"))
    case = act(engine, case, "approve", who["secretary"], when="2026-11-01")
    case = act(engine, case, "publish_notice", who["office"], {"channels": ["board"]}, when)
    if public:
        case = act(engine, case, "publish_notice_public", who["office"],
                   {"channels": ["board", "website"]}, when)
    return case


def register(engine, case, actor, payload, when="2026-11-03"):
    return engine.submit(case.id, "register", actor, payload, now=at(when))


def test_o1_the_office_proposes_and_the_secretary_approves(engine, who):
    with pytest.raises(Invalid) as bad:
        engine.start("observer_seats", "T", who["office"],
                     MEETING | {"categories": ["机关 两人"]}, at("2026-11-01"))
    assert "categories" in bad.value.fields
    with pytest.raises(Invalid) as late:
        engine.start("observer_seats", "T", who["office"],
                     MEETING | {"registration_until": "2026-11-20"}, at("2026-11-01"))
    assert "registration_until" in late.value.fields
    case = engine.start("observer_seats", "T", who["office"], MEETING, at("2026-11-01"))
    assert case.state == "proposed" and case.code.startswith("PT-2026-")
    assert case.data["quotas"] == [{"category": "机关", "seats": 1},
                                   {"category": "农村", "seats": 2},
                                   {"category": "社区", "seats": 1}]
    assert case.data["seats"] == 4
    with pytest.raises(Forbidden):
        act(engine, case, "approve", who["office"])
    back = act(engine, case, "send_back", who["secretary"], {"reason": "议题二不宜旁听"})
    again = act(engine, back, "revise", who["office"], MEETING | {"topics": "2027 年民生实事项目"})
    approved = act(engine, again, "approve", who["secretary"])
    assert approved.state == "approved" and approved.data["approved"]["by"] == "user:shu"


def test_o2_nine_days_before_the_meeting_is_refused_ten_accepted(engine, who):
    """O2: the notice day is not counted; a meeting on the 20th allows a notice by the 10th."""
    with pytest.raises(NotAllowed) as late:
        noticed(engine, who, when="2026-11-11")
    assert "2026-11-10" in late.value.message.zh and "2026-11-10" in late.value.message.en
    case = noticed(engine, who, when="2026-11-10")
    assert case.state == "registration" and case.data["notice"]["on"] == "2026-11-10"


def test_g1_o2_the_notice_goes_within_the_party_first_then_to_the_public(engine, who):
    """G1 先党内、后党外, O2, O3: the notice is released within the Party (members register
    from then on), then to the public on its own step, never before and only once; without
    an account nobody registers on a notice that is still internal."""
    case = noticed(engine, who, public=False)
    notice = case.data["notice"]
    assert notice["published_internal"]["channels"] == ["board"]
    assert not notice.get("published_public") and notice["scope"] == "public"
    assert "2026-11-20 09:00" in notice["content"] and "机关 1 名" in notice["content"]
    assert register(engine, case, who["member"], form(ID_A)).number.startswith("BM-")
    with pytest.raises(NotAllowed) as internal:
        register(engine, case, PUBLIC, form(ID_B, mobile=True, card_number="LD-1",
                                            place="工业园"))
    assert "尚未向党外公开" in internal.value.message.zh
    case = act(engine, engine.get(case.id, who["office"]), "publish_notice_public",
               who["office"], {"channels": ["website"]}, "2026-11-03")
    assert case.data["notice"]["published_public"]["on"] == "2026-11-03"
    with pytest.raises(NotAllowed):
        act(engine, case, "publish_notice_public", who["office"], {"channels": ["board"]},
            "2026-11-03")
    assert register(engine, case, PUBLIC, form(ID_B, mobile=True, card_number="LD-1",
                                               place="工业园")).number


def test_o2_the_notice_period_is_an_organisations_setting(engine, who):
    with engine.db.write() as conn:
        conn.execute(sa.text("UPDATE orgs SET settings = :s WHERE code = 'T'"),
                     {"s": json.dumps({"observer_seats": {"notice_days": 15}})})
    with pytest.raises(NotAllowed) as late:
        noticed(engine, who, when="2026-11-06")
    assert "2026-11-05" in late.value.message.zh


def test_o2_registration_closes_and_the_meeting_comes_as_durable_timers(engine, who):
    case = noticed(engine, who)
    assert case.due_date == dt.date(2026, 11, 17), "registration closes at the end of the 16th"
    run_due(engine, at("2026-11-16", 23))
    assert engine.get(case.id, who["office"]).state == "registration"
    run_due(engine, at("2026-11-17", 0))
    assert engine.get(case.id, who["office"]).state == "verification"


def test_o2_the_meeting_timer_runs_from_the_notice_and_routes_an_undrawn_meeting(engine, who):
    """O2, O6: the meeting is a durable timer from the notice on; at its time a meeting not
    drawn is held without observers (routed, the stage kept), and the case archives (G9)."""
    case = noticed(engine, who)
    run_due(engine, at("2026-11-17", 1))
    case = act(engine, engine.get(case.id, who["office"]), "commit_secret", who["office"],
               {"witness": "甲", "sha256": lottery.commitment("s1")}, "2026-11-17")
    assert engine.get(case.id, who["office"]).state == "verification"
    run_due(engine, at("2026-11-20", 8))
    assert engine.get(case.id, who["office"]).state == "verification"
    run_due(engine, at("2026-11-20", 9))
    case = engine.get(case.id, who["office"])
    assert case.state == "held_without_draw"
    assert case.data["meeting_held"]["drawn"] is False
    assert case.data["meeting_held"]["without_draw"] == "verification"
    assert not [a.name for a in engine.actions(case, who["office"]) if a.name == "verify"]
    case = act(engine, case, "archive", who["office"], {}, "2026-11-21")
    assert case.state == "archived"
    assert verify(engine.db, engine.registry).ok


def test_o2_a_published_record_not_drawn_by_the_meeting_stays_as_it_was(engine, who):
    """O2, O7: the record published but no value entered by the meeting: held without
    observers, the committed record kept on the case undrawn (never drawn afterwards)."""
    case, _numbers = _ready(engine, who)
    case = act(engine, case, "publish_record", who["office"],
               {"source_kind": "public", "source_name": "福彩3D 2026305期",
                "source_date": "2026-11-19"}, "2026-11-17")
    run_due(engine, at("2026-11-20", 9))
    case = engine.get(case.id, who["office"])
    assert case.state == "held_without_draw"
    assert case.data["meeting_held"]["without_draw"] == "committed"
    assert case.data["record"] and not case.data.get("draw")
    assert "draw" not in [a.name for a in engine.actions(case, who["office"])]


def test_o3_o4_o5_a_member_registers_is_verified_and_sees_it_with_the_access_code(engine, who):
    case = noticed(engine, who)
    sent = register(engine, case, who["member"], form(ID_A))
    assert sent.number.startswith("BM-2026-")
    entry = engine.get(case.id, who["office"]).data["registrations"][0]
    assert entry["id_number"]["masked"] == "3201**********1234"
    assert entry["letter"][0]["media_type"] == "application/pdf"
    engine.fire(case.id, "verify", who["office"],
                {"receipt": sent.number, "verified": False, "reason": "介绍信未盖章"}, None,
                at("2026-11-04"))
    status = lookup(engine, case.id, sent.number, sent.access_code)
    assert [s.payload["reason"] for s in status.since] == ["介绍信未盖章"]
    assert lookup(engine, case.id, sent.number, "WRONG-CODE1") is None


def test_o3_without_an_account_only_where_allowed_or_as_a_mobile_member(engine, who):
    case = noticed(engine, who)
    with pytest.raises(NotAllowed) as refused:
        register(engine, case, PUBLIC, form(ID_A))
    assert "登录" in refused.value.message.zh
    with pytest.raises(Invalid) as card:
        register(engine, case, PUBLIC, form(ID_A, mobile=True))
    assert set(card.value.fields) == {"card_number", "place"}
    mobile = register(engine, case, PUBLIC, form(ID_A, mobile=True, card_number="LD-2025-0088",
                                                 place="青山镇工业园"))
    assert mobile.number
    with pytest.raises(Forbidden):
        register(engine, case, who["outsider"], form(ID_B))  # the upper level's member


def test_o4_a_duplicate_id_number_for_the_same_meeting_is_refused(engine, who):
    case = noticed(engine, who)
    register(engine, case, who["member"], form(ID_A))
    with pytest.raises(NotAllowed) as twice:
        register(engine, case, who["member2"], form(ID_A.lower(), category="社区"))
    assert "已报名" in twice.value.message.zh
    other = noticed(engine, who)
    assert register(engine, other, who["member"], form(ID_A)).number, "another meeting is fine"
    with pytest.raises(Invalid) as wrong:
        register(engine, case, who["member2"], form("320102196403071235"))
    assert "校验位" in wrong.value.fields["id_number"].zh


def test_o4_the_letter_must_be_a_pdf_or_image_and_the_category_offered(engine, who):
    case = noticed(engine, who)
    with pytest.raises(Invalid) as docx:
        register(engine, case, who["member"],
                 form(ID_A, letter=Upload("信.txt", b"just text, not a letter")))
    assert "letter" in docx.value.fields
    with pytest.raises(NotAllowed) as category:
        register(engine, case, who["member"], form(ID_A, category="企业"))
    assert "机关" in category.value.message.zh


def test_o4_after_the_close_registration_is_refused_and_nothing_received_is_lost(engine, who):
    case = noticed(engine, who)
    first = register(engine, case, who["member"], form(ID_A))
    run_due(engine, at("2026-11-17", 1))
    with pytest.raises(NotAllowed) as closed:
        register(engine, case, who["member2"], form(ID_B, category="社区"), when="2026-11-17")
    assert "报名" in closed.value.message.zh
    kept = engine.get(case.id, who["office"]).data["registrations"]
    assert [r["no"] for r in kept] == [first.number]


def _ready(engine, who, ids=(ID_A, ID_B, ID_C), kinds=("农村", "农村", "机关"), emails=(),
           **change):
    """Three registrations (a member, then two mobile members without an account, the
    ``n``-th giving ``emails[n]`` where there is one), verified, registration closed."""
    case = noticed(engine, who, **change)
    numbers = []
    for n, (id_number, category) in enumerate(zip(ids, kinds, strict=True)):
        actor = PUBLIC if n else who["member"]
        extra = {"mobile": True, "card_number": f"LD-{n}", "place": "工业园"} if n else {}
        if n < len(emails) and emails[n]:
            extra["email"] = emails[n]
        numbers.append(register(engine, case, actor, form(id_number, category, **extra)).number)
    for number in numbers:
        engine.fire(case.id, "verify", who["office"], {"receipt": number, "verified": True},
                    None, at("2026-11-05"))
    run_due(engine, at("2026-11-17", 1))
    return engine.get(case.id, who["office"]), numbers


def test_o6_o7_a_short_category_is_reported_with_the_record_before_the_draw(engine, who):
    case, numbers = _ready(engine, who)
    with pytest.raises(NotAllowed) as same_day:
        act(engine, case, "publish_record", who["office"],
            {"source_kind": "public", "source_name": "福彩3D 第2026301期", "source_date":
             "2026-11-17"}, "2026-11-17")
    assert "今天之后" in same_day.value.message.zh
    case = act(engine, case, "publish_record", who["office"],
               {"source_kind": "public", "source_name": "福彩3D 第2026302期",
                "source_date": "2026-11-18"}, "2026-11-17")
    assert case.state == "committed"
    assert case.data["short"] == [{"category": "社区", "seats": 1, "verified": 0}]
    assert [p["id"] for p in case.data["record"]["pool"]] == sorted(numbers)
    assert "张三" not in json.dumps(case.data["record"], ensure_ascii=False), "pseudonymised"
    with pytest.raises(NotAllowed) as early:
        act(engine, case, "draw", who["office"], {"value": "3 0 7"}, "2026-11-17")
    assert "2026-11-18" in early.value.message.zh
    drawn = act(engine, case, "draw", who["office"], {"value": "3 0 7"}, "2026-11-18")
    bundle = drawn.data["draw"]
    assert lottery.verify(bundle) == []
    seats = bundle["result"]["seats"]
    assert {s["category"] for s in seats} == {"机关", "农村"}, "社区 has nobody: seat empty"
    assert bundle["result"]["empty"] == [{"category": "社区", "seats": 1}]


def test_o7_witness_secrets_a_bad_reveal_is_refused(engine, who):
    case, _numbers = _ready(engine, who)
    secrets = ["青山 4471 river", "tower-9921-x"]
    for name, secret in zip(("甲", "乙"), secrets, strict=True):
        engine.fire(case.id, "commit_secret", who["office"],
                    {"witness": name, "sha256": lottery.commitment(secret)}, None,
                    at("2026-11-17"))
    case = engine.get(case.id, who["office"])
    case = act(engine, case, "publish_record", who["office"], {"source_kind": "witnesses"},
               "2026-11-17")
    with pytest.raises(NotAllowed) as bad:
        engine.fire(case.id, "reveal_secret", who["office"],
                    {"witness": 1, "secret": "not the secret"}, None, at("2026-11-17"))
    assert "不符" in bad.value.message.zh
    with pytest.raises(NotAllowed):
        act(engine, case, "draw", who["office"], {}, "2026-11-17")
    for n, secret in enumerate(secrets, start=1):
        case = engine.fire(case.id, "reveal_secret", who["office"],
                           {"witness": n, "secret": secret}, None, at("2026-11-17"))
    drawn = act(engine, case, "draw", who["office"], {}, "2026-11-17")
    assert drawn.data["draw"]["sources"] == [s.strip() for s in secrets]
    assert lottery.verify(drawn.data["draw"]) == []


def test_o7_a_cancelled_draw_stays_visible_and_a_new_draw_needs_a_new_source(engine, who):
    case, _numbers = _ready(engine, who)
    source = {"source_kind": "public", "source_name": "福彩3D 第2026302期",
              "source_date": "2026-11-18"}
    case = act(engine, case, "publish_record", who["office"], source, "2026-11-17")
    case = act(engine, case, "draw", who["office"], {"value": "3 0 7"}, "2026-11-18")
    with pytest.raises(Forbidden):
        act(engine, case, "cancel_draw", who["office"], {"reason": "x"}, "2026-11-18")
    case = act(engine, case, "cancel_draw", who["secretary"],
               {"reason": "一名报名人核验有误，须重新核验"}, "2026-11-18")
    assert case.state == "verification"
    assert case.data["cancelled_draws"][0]["reason"].startswith("一名报名人")
    with pytest.raises(NotAllowed) as reused:
        act(engine, case, "publish_record", who["office"],
            source | {"source_date": "2026-11-19"}, "2026-11-18")
    assert "新的随机源" in reused.value.message.zh
    again = act(engine, case, "publish_record", who["office"],
                source | {"source_name": "福彩3D 第2026303期", "source_date": "2026-11-19"},
                "2026-11-18")
    assert again.state == "committed"


def test_g1_o7_the_result_goes_within_the_party_first_then_to_the_public(engine, who):
    """G1 先党内、后党外, O7: the draw releases its result within the Party (a board
    publication on the notice's channels); its public release is a step of its own that
    follows, once; a cancelled draw takes its result off (the cancellation stays)."""
    case, numbers = _ready(engine, who)
    case = act(engine, case, "publish_record", who["office"],
               {"source_kind": "public", "source_name": "福彩3D 第2026302期",
                "source_date": "2026-11-18"}, "2026-11-17")
    case = act(engine, case, "draw", who["office"], {"value": "3 0 7"}, "2026-11-18")
    result = case.data["result"]
    assert result["published_internal"]["channels"] == ["board"]
    assert not result.get("published_public")
    assert all(s["id"] in result["content"] for s in case.data["draw"]["result"]["seats"])
    assert case.data["commitment"] in result["content"]
    case = act(engine, case, "publish_result", who["office"], {"channels": ["website"]},
               "2026-11-18")
    assert case.data["result"]["published_public"]["channels"] == ["website"]
    with pytest.raises(NotAllowed):
        act(engine, case, "publish_result", who["office"], {"channels": ["board"]},
            "2026-11-18")
    case = act(engine, case, "cancel_draw", who["secretary"], {"reason": "核验有误"},
               "2026-11-18")
    assert case.data["result"] is None and case.data["cancelled_draws"]
    assert "publish_result" not in [a.name for a in engine.actions(case, who["office"])]
    assert verify(engine.db, engine.registry).ok


def test_o7_g8_g9_given_up_seat_attendance_opinions_and_archive(engine, who):
    case, _numbers = _ready(engine, who, kinds=("农村",) * 3, categories=["农村:2"])
    case = act(engine, case, "publish_record", who["office"],
               {"source_kind": "public", "source_name": "福彩3D 第2026302期",
                "source_date": "2026-11-18"}, "2026-11-17")
    case = act(engine, case, "draw", who["office"], {"value": "5 5 1"}, "2026-11-18")
    seated = [s["id"] for s in case.data["seating"]["seats"]]
    waiting = case.data["seating"]["waiting"]
    assert len(seated) == 2 and len(waiting) == 1
    case = engine.fire(case.id, "give_up_seat", who["office"],
                       {"receipt": seated[0], "reason": "出差"}, None, at("2026-11-19"))
    assert [s["id"] for s in case.data["seating"]["seats"]] == [waiting[0], seated[1]]
    run_due(engine, at("2026-11-20", 10))
    case = engine.get(case.id, who["office"])
    assert case.state == "attendance"
    engine.fire(case.id, "record_attendance", who["office"],
                {"receipt": seated[1], "present": True}, None, at("2026-11-20", 11))
    with pytest.raises(NotAllowed):
        engine.fire(case.id, "opinion", who["office"], {"receipt": seated[0], "text": "x"},
                    None, at("2026-11-20", 11))
    engine.fire(case.id, "opinion", who["office"],
                {"receipt": seated[1], "text": "建议民生项目增加村道维修"}, None,
                at("2026-11-20", 11))
    case = engine.get(case.id, who["office"])
    assert [a.name for a in engine.actions(case, who["office"])].count("archive") == 0
    engine.fire(case.id, "answer_opinion", who["office"],
                {"receipt": seated[1], "no": 1, "answer": "已纳入项目库"}, None,
                at("2026-11-21"))
    case = act(engine, engine.get(case.id, who["office"]), "archive", who["office"], {},
               "2026-11-21")
    assert case.state == "archived"
    assert verify(engine.db, engine.registry).ok


def test_o4_g2_the_id_number_is_absent_from_every_event_export_and_log(engine, who, tmp_path,
                                                                        caplog):
    """O4, G2: the clear ID number is in no event payload, no bundle (redacted or full) and
    no log line; the office reads it back only through ``sealed.reveal``."""
    caplog.set_level(logging.DEBUG)
    case, numbers = _ready(engine, who)
    with engine.db.read() as conn:
        payloads = " ".join(conn.execute(sa.select(events.c.payload)).scalars())
        stored = " ".join(conn.execute(sa.select(sealed_values.c.sealed)).scalars())
        digest = engine.get(case.id, who["office"]).data["registrations"][0]["id_number"]
        clear = sealed.reveal(conn, case.id, digest["digest"])
    for id_number in (ID_A, ID_B, ID_C):
        assert id_number not in payloads and id_number not in stored
    assert clear == ID_A
    for redacted in (True, False):
        out = tmp_path / f"bundle-{redacted}.json"
        export(engine.db, out, redacted)
        text = out.read_text(encoding="utf-8")
        assert all(i not in text for i in (ID_A, ID_B, ID_C))
    assert "3201**********1234" in (tmp_path / "bundle-False.json").read_text(encoding="utf-8")
    assert all(i not in caplog.text for i in (ID_A, ID_B, ID_C))
    assert verify(engine.db, engine.registry).ok, "replay rebuilds the case from the events"


def test_o5_g2_showing_the_id_number_is_its_own_reveal_event(engine, who, tree):
    """O5, G2, AU1: the office's reading of a clear ID number is the engine's append-only
    ``reveal`` (labelled as what it is, not an attachment read), its payload masked only;
    replay keeps the state and the chain verifies."""
    from workflow.core.engine import event_label
    from workflow.views import observers

    case, numbers = _ready(engine, who)
    office = user("ban", {(tree["T"], "office")})
    assert observers.reveal_id_number(engine, case.id, office, numbers[0]) == ID_A
    after = engine.get(case.id, office)
    assert (after.state, after.version) == (case.state, case.version)
    with engine.db.read() as conn:
        last = conn.execute(sa.select(events.c.trigger, events.c.payload, events.c.actor)
                            .where(events.c.case_id == case.id)
                            .order_by(events.c.seq.desc())).first()
    assert (last.trigger, last.actor) == ("reveal", "user:ban")
    assert ID_A not in last.payload and "3201**********1234" in last.payload
    compiled = engine.registry.get("observer_seats")
    assert event_label(compiled, "reveal").zh == "查看个人信息原文"
    assert verify(engine.db, engine.registry).ok


def test_g14_every_observer_seats_figure_matches_a_count_by_hand(engine, who):
    """G14: three meetings walked through the door, each figure counted here: m1 with
    four seats offered (机关 1, 农村 2, 社区 1), three registrations verified and drawn
    (社区's seat stays empty: three filled) and held; m2 noticed with one registration
    that failed verification, held without a draw (O2); m3 proposed only."""
    m1, _numbers = _ready(engine, who)
    m1 = act(engine, m1, "publish_record", who["office"],
             {"source_kind": "public", "source_name": "福彩3D 第2026302期",
              "source_date": "2026-11-18"}, "2026-11-17")
    m2 = noticed(engine, who, public=False)
    sent = register(engine, m2, who["member"], form(ID_A))
    engine.fire(m2.id, "verify", who["office"],
                {"receipt": sent.number, "verified": False, "reason": "介绍信未盖章"}, None,
                at("2026-11-05"))
    engine.start("observer_seats", "T", who["office"], MEETING, at("2026-11-06"))
    counted_then = stats_check.figures(engine, "observer_seats")
    act(engine, m1, "draw", who["office"], {"value": "3 0 7"}, "2026-11-18")
    run_due(engine, at("2026-11-20", 10))
    found = stats_check.figures(engine, "observer_seats")
    assert stats_check.flat(found, "observer_seats") == {
        "meetings": 3, "notices": 2, "seats_offered": 4 + 4, "registrations": 3 + 1,
        "verifications": 4, "verifications.verified": 3, "verifications.not_verified": 1,
        "draws": 1, "seats_filled": 1 + 2, "held": 2}
    stats_check.replay_agrees(engine, "observer_seats", at("2026-11-17", 23), counted_then)
