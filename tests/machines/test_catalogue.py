"""The disclosure catalogue: made by the upper level, secrecy-reviewed, periodic entries
opening one routine case per period (R2, R3, G5, G7)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from machines.catalogue import period_of
from workflow.audit.chain import verify
from workflow.base.errors import Invalid, NotAllowed
from workflow.base.timeutil import start_of_local_day
from workflow.core.timers import run_due
from workflow.store.models import cases

pytestmark = pytest.mark.dates  # swept over several days by make test

ENTRY = {"title": "党费收缴情况", "content": "应缴、实缴人数和金额", "category": "organisation",
         "scope": "internal", "channels": ["board"], "time_class": "periodic",
         "period": "quarterly", "responsible": "书记", "for_org": "V"}


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T10:00:00+08:00").astimezone(dt.UTC)


def routine_cases(engine) -> list:
    with engine.db.read() as conn:
        return conn.execute(sa.select(cases.c.id, cases.c.title, cases.c.org_id, cases.c.due_date)
                            .where(cases.c.kind == "routine").order_by(cases.c.id)).all()


def in_force(engine, people, entry=ENTRY, day="2026-11-02"):
    case = engine.start("catalogue", "T", people["handler"], entry, at(day))
    case = engine.fire(case.id, "submit", people["handler"], {}, case.version, at(day))
    return engine.fire(case.id, "approve", people["reviewer"], {"secrecy": True}, case.version,
                       at(day))


@pytest.mark.parametrize(("day", "period", "label", "end"), [
    ("2026-11-23", "quarterly", "2026 年第四季度", "2026-12-31"),
    ("2026-02-10", "monthly", "2026 年 2 月", "2026-02-28"),
    ("2026-07-01", "half_yearly", "2026 年下半年", "2026-12-31"),
    ("2026-03-31", "yearly", "2026 年度", "2026-12-31"),
])
def test_g5_periods(day, period, label, end):
    start, last, found = period_of(dt.date.fromisoformat(day), period)
    assert (found, last.isoformat()) == (label, end) and start <= dt.date.fromisoformat(day)


def test_r2_upper_level_makes_the_catalogue_after_a_secrecy_review(engine, people):
    case = engine.start("catalogue", "T", people["handler"], ENTRY, at("2026-11-02"))
    assert case.data["for_org"] == "V" and case.state == "draft"
    case = engine.fire(case.id, "submit", people["handler"], {}, case.version, at("2026-11-02"))
    with pytest.raises(NotAllowed) as refused:
        engine.fire(case.id, "approve", people["reviewer"], {}, case.version, at("2026-11-02"))
    assert refused.value.message.zh == "须通过保密性初审"
    with pytest.raises(Invalid):
        engine.start("catalogue", "T", people["handler"],
                     ENTRY | {"time_class": "standing"}, at("2026-11-02"))


def test_r3_a_quarterly_entry_opens_exactly_one_case_per_quarter(engine, people, tree):
    entry = in_force(engine, people)
    assert entry.state == "active" and entry.data["period_label"] == "2026 年第四季度"
    assert routine_cases(engine) == []
    new_year = start_of_local_day(dt.date(2027, 1, 1))
    assert run_due(engine, new_year) == 1
    assert run_due(engine, new_year) == 0, "a restart fires nothing twice"
    made = routine_cases(engine)
    assert [r.title for r in made] == ["党费收缴情况（2026 年第四季度）"]
    assert made[0].due_date == dt.date(2027, 1, 15), "due 10 working days after the quarter"
    run_due(engine, start_of_local_day(dt.date(2027, 7, 1)))
    titles = [r.title for r in routine_cases(engine)]
    assert titles[1:] == ["党费收缴情况（2027 年第一季度）", "党费收缴情况（2027 年第二季度）"]
    village = engine.get(made[0].id, people["upper"])
    assert village.org_code == "V" and village.data["entry"] == entry.code
    assert village.data["_spawned_by"]["case"] == entry.id
    assert verify(engine.db, engine.registry).ok


def test_r3_a_catalogues_period_cases_open_in_one_transaction(engine, people, monkeypatch):
    """Issue 21: the period timers of a catalogue's entries fall due together and fire by
    group commit, so all of the catalogue's routine cases open in one transaction."""
    for title in ("党费收缴情况", "发展党员情况", "三会一课开展情况"):
        in_force(engine, people, ENTRY | {"title": title})
    write, opened = engine.db.write, []
    monkeypatch.setattr(engine.db, "write", lambda: opened.append(1) or write())
    assert run_due(engine, start_of_local_day(dt.date(2027, 1, 1))) == 3
    assert len(opened) == 1
    assert len(routine_cases(engine)) == 3
    assert verify(engine.db, engine.registry).ok


def test_g5_a_standing_entry_opens_its_case_when_in_force(engine, people):
    in_force(engine, people, ENTRY | {"time_class": "standing", "period": "",
                                      "title": "党组织机构设置"})
    assert [r.title for r in routine_cases(engine)] == ["党组织机构设置"]


def test_g7_changing_or_ending_an_entry_needs_approval(engine, people):
    entry = in_force(engine, people)
    entry = engine.fire(entry.id, "request_change", people["handler"],
                        {"content": "增加党费使用情况", "reason": "按上级要求"}, entry.version,
                        at("2026-11-10"))
    entry = engine.fire(entry.id, "approve_change", people["reviewer"], {}, entry.version,
                        at("2026-11-10"))
    assert entry.state == "active" and entry.data["content"] == "增加党费使用情况"
    entry = engine.fire(entry.id, "request_change", people["handler"],
                        {"end": True, "reason": "职责调整"}, entry.version, at("2026-11-11"))
    entry = engine.fire(entry.id, "approve_change", people["reviewer"], {}, entry.version,
                        at("2026-11-11"))
    assert entry.state == "ended"
    assert run_due(engine, start_of_local_day(dt.date(2027, 1, 1))) == 0


def test_g5_a_staged_entry_opens_a_case_per_stage_and_a_year_summary(engine, people):
    entry = in_force(engine, people, ENTRY | {"time_class": "staged", "period": "",
                                              "title": "村级道路建设"})
    entry = engine.fire(entry.id, "open_stage", people["handler"],
                        {"stage": "立项", "content": "已立项"}, entry.version, at("2026-11-10"))
    assert [r.title for r in routine_cases(engine)] == ["村级道路建设（立项）"]
    run_due(engine, start_of_local_day(dt.date(2027, 1, 1)))
    titles = [r.title for r in routine_cases(engine)]
    assert titles == ["村级道路建设（立项）", "村级道路建设（2026 年度小结）"]
    run_due(engine, start_of_local_day(dt.date(2028, 1, 1)))
    assert len(routine_cases(engine)) == 2, "no stage in 2027: no summary for it"
