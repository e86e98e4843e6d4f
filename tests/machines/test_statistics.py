"""G14: the statistics desk's figures, from a small history walked through the door and
checked against counts made here, by hand, with this file's own calendar."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from machines.annual_report import ONE_A_YEAR
from tests.machines.stats_check import wd
from workflow.audit.chain import case_events, verify
from workflow.base.errors import Forbidden, Invalid, NotAllowed, NotFound
from workflow.base.timeutil import end_of_local_day, iso_utc
from workflow.core.timers import run_due
from workflow.people.actors import PUBLIC, applicant
from workflow.store.models import cases, stats_cases
from workflow.views import publications
from workflow.views import statistics as stats


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(dt.UTC)


APPLY = {"phone": "13800000001", "description": "党费收缴情况", "delivery": "electronic"}


@pytest.fixture
def history(engine, people):
    """Six applications, in the order they happened (a3 at the village, the rest at the
    town): a 补正 restart, a consultation pause, an extension, a withdrawal, an overdue
    answer, a withholding with upper consent, and one carried over from August."""
    h, r, o = people["handler"], people["reviewer"], people["office"]

    def start(org, name, day, **extra):
        return engine.start("application", org, PUBLIC, APPLY | {"name": name} | extra, at(day))

    def fire(case, trigger, who, payload=None, day=None):
        return engine.fire(case.id, trigger, who, payload or {}, case.version, at(day))

    a5 = start("T", "赵六", "2026-08-31")
    a1 = start("T", "张三", "2026-09-21", member=True)
    a2 = start("T", "李四", "2026-09-21")
    a4 = start("T", "王五", "2026-09-21")
    a6 = start("T", "孙七", "2026-09-21")
    a5 = fire(a5, "register", o, day="2026-09-22")
    a5 = fire(a5, "draft_answer", h, {"outcome": "not_held", "searched": "档案室"}, "2026-09-22")
    a5 = fire(a5, "approve", r, day="2026-09-22")
    a1 = fire(a1, "register", o, day="2026-09-22")
    a1 = fire(a1, "request_extension", h, {"days": 5, "reason": "调档"}, "2026-09-23")
    a1 = fire(a1, "approve_extension", r, day="2026-09-23")
    engine.fire(a4.id, "withdraw", applicant(a4.code), {}, a4.version, at("2026-09-23"))
    a1 = fire(a1, "consult", h, {"party": "第三方", "kind": "third_party"}, "2026-09-24")
    a2 = fire(a2, "request_clarification", h, {"missing": "年份"}, "2026-09-24")
    a1 = fire(a1, "consulted", h, {"reply": "同意"}, "2026-10-09")
    a1 = fire(a1, "draft_answer", h, {"outcome": "disclosed", "content": "见附件"}, "2026-10-12")
    a2 = engine.fire(a2.id, "clarify", applicant(a2.code), {"supplement": "2025 年"},
                     a2.version, at("2026-10-12"))
    start("V", "某某专业合作社", "2026-10-12")
    a1 = fire(a1, "approve", r, day="2026-10-13")
    snapshot = stats.figures(engine, stats.scope_of(engine.db, ["/"]), "C",
                             dt.date(2026, 9, 1), dt.date(2026, 10, 31))
    run_due(engine, end_of_local_day(dt.date(2026, 10, 26)))
    a6 = engine.get(a6.id, o)
    a6 = fire(a6, "register", o, day="2026-10-28")
    a6 = fire(a6, "draft_answer", h, {"outcome": "published", "where": "公开栏"}, "2026-10-28")
    a6 = fire(a6, "approve", r, day="2026-10-28")
    a2 = fire(a2, "draft_answer", h, {"outcome": "withheld", "reason": "涉密",
                                      "withheld_because": "secret"}, "2026-11-02")
    a2 = fire(a2, "approve", r, day="2026-11-02")
    a2 = fire(a2, "consent", people["upper"], day="2026-11-03")
    assert (a1.state, a2.state, a5.state, a6.state) == ("answered",) * 4
    return snapshot


@pytest.fixture
def scope(engine, tree):
    return stats.scope_of(engine.db, [tree["C"]])


def test_g14_application_figures_match_a_count_by_hand(engine, history, scope):
    found = stats.figures(engine, scope, "T", dt.date(2026, 9, 1), dt.date(2026, 10, 31),
                          "application").process("application")
    fig = found.figure
    assert fig("received").total == 5 and fig("received").by_who == {
        "party": 1, "public": 3, "org": 1}, "a3 is a 合作社: an organisation"
    assert found.carried_over == 1, "a5, received in August, still open on 1 September"
    assert found.carried_forward == 2, "a2 (answered 3 November) and a3"
    assert {p.name: p.total for p in fig("answered").parts if p.total} == {
        "not_held": 1, "disclosed": 1, "published": 1}
    assert fig("withdrawn").part("applicant") == 1
    days = sorted([wd("2026-08-31", "2026-09-22"),
                   wd("2026-09-21", "2026-10-13") - wd("2026-09-24", "2026-10-09"),
                   wd("2026-09-21", "2026-10-28")])
    assert days == [6, 17, 22]
    answer = fig("answer_days")
    assert (answer.total, answer.median, answer.p90, answer.longest) == (3, 17, 22, 22)
    assert fig("timeliness").part("on_time") == 2 and fig("timeliness").part("overdue") == 1
    assert fig("went_overdue").part("overdue") == 1
    assert (fig("extensions").total, fig("clarifications").total,
            fig("consultations").total) == (1, 1, 1)
    assert fig("pause_days").total == wd("2026-09-24", "2026-10-09") == 5


def test_g14_a5_clarified_application_counts_from_the_clarification(engine, history, scope):
    """A5: the 补正 restart: a2's days run from 12 October, not from receipt."""
    found = stats.figures(engine, scope, "T", dt.date(2026, 11, 1), dt.date(2026, 11, 30),
                          "application").process("application")
    answer = found.figure("answer_days")
    assert answer.histogram == ((wd("2026-10-12", "2026-11-03"), 1),)
    assert found.figure("withheld_because").part("secret") == 1
    assert found.carried_over == 2 and found.carried_forward == 1


def test_g14_a_period_cut_inside_months_adds_the_edge_days(engine, history, scope):
    found = stats.figures(engine, scope, "T", dt.date(2026, 9, 22), dt.date(2026, 10, 12),
                          "application").process("application")
    assert found.figure("received").total == 1, "only a3, on 12 October"
    assert found.figure("answered").total == 1, "a5 on 22 September; a1 on the 13th"
    assert found.carried_over == 5, "all five received by 21 September"
    assert found.carried_forward == 4, "a5 and a4 closed by 12 October"


def test_g14_own_figures_and_subtree(engine, history, scope):
    alone = stats.figures(engine, scope, "T", dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                          "application", subtree=False)
    village = stats.figures(engine, scope, "V", dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                            "application")
    whole = stats.figures(engine, scope, "C", dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                          "application")
    received = [f.process("application").figure("received").total
                for f in (alone, village, whole)]
    assert received == [5, 1, 6]


def test_g14_figures_as_of_a_past_moment_agree_with_the_projection_then(engine, history,
                                                                        scope):
    """AU2: replaying the events up to 13 October gives the figures the projection gave
    at that moment; replaying everything gives today's."""
    then = iso_utc(at("2026-10-13", 23))
    past = stats.as_of(engine, scope, "C", dt.date(2026, 9, 1), dt.date(2026, 10, 31), then)
    assert past.processes == history.processes
    assert past.process("application").figure("answered").total == 2
    now = stats.as_of(engine, scope, "C", dt.date(2026, 9, 1), dt.date(2026, 10, 31),
                      iso_utc(at("2027-01-01")))
    assert now.processes == stats.figures(engine, scope, "C", dt.date(2026, 9, 1),
                                          dt.date(2026, 10, 31)).processes


def test_g14_projection_agrees_with_the_case_rows(engine, history, scope):
    """Every case row of a counting process has its facts row; all received."""
    stats.catch_up(engine)
    with engine.db.read() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(cases)
                            .where(cases.c.kind == "application")).scalar()
        facts = conn.execute(sa.select(sa.func.count()).select_from(stats_cases)
                             .where(stats_cases.c.kind == "application")).scalar()
    whole = stats.figures(engine, scope, "C", dt.date(2000, 1, 1), dt.date(2099, 12, 31),
                          "application").process("application")
    assert rows == facts == whole.figure("received").total == 6
    assert whole.carried_forward == 1, "a3 only"
    assert stats.catch_up(engine) == 0, "nothing new: the cursor stays"


def test_g14_children_side_by_side_worst_on_time_rate_first(engine, history, scope):
    rows = stats.children(engine, scope, "C", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert [r.org for r in rows] == ["T"]
    assert rows[0].timeliness == (3, 1, 0), "a6 alone answered late"
    assert rows[0].on_time_rate == 0.75


def test_g14_hostile_periods_and_scopes(engine, tree):
    for start, end in (("2026-13-01", "2026-12-31"), ("99999-01-01", "2026-01-01"),
                       ("2026-12-31", "2026-01-01"), ("", "2026-01-01")):
        with pytest.raises(Invalid):
            stats.period(start, end)
    town = stats.scope_of(engine.db, [tree["T"]])
    with pytest.raises(NotFound):
        stats.figures(engine, town, "C", dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    with pytest.raises(NotFound):
        stats.figures(engine, town, "T", dt.date(2026, 1, 1), dt.date(2026, 1, 31), "nope")


def test_g14_annual_report_adds_up_across_rows_and_columns(engine, history, scope, tree):
    report = stats.annual(engine, scope, "T", 2026)
    (table,) = report.tables
    lines = {line.label.zh: line for line in table.lines}
    for line in table.lines:
        assert line.total == sum(line.cells.values())
    heads = [i for i, line in enumerate(table.lines) if line.level == 0]
    for start, end in zip(heads, [*heads[1:], len(table.lines)], strict=True):
        subs = table.lines[start + 1:end]
        if subs:
            for who in table.lines[start].cells:
                assert sum(s.cells[who] for s in subs) == table.lines[start].cells[who]
    received, over = lines["一、本年新收申请数量"], lines["二、上年结转申请数量"]
    total, forward = lines["（七）总计"], lines["四、结转下年度继续办理"]
    for who in received.cells:
        assert received.cells[who] + over.cells[who] == total.cells[who] + forward.cells[who]
    assert received.cells == {"party": 1, "public": 4, "org": 1}
    assert lines["（三）不予公开"].total == 1 and lines["1. 属于党和国家秘密"].total == 1
    assert lines["（六）其他处理"].total == 1 and forward.cells == {"party": 0, "public": 0,
                                                                 "org": 1}


def test_g14_annual_report_is_public_only_once_published_after_the_year(engine, history,
                                                                       scope, tree, people):
    office = people["office"]
    with pytest.raises(NotFound):
        stats.annual(engine, None, "T", 2026)
    stats.save_texts(engine, scope, "T", 2026, office, "问题", "改进", at("2026-12-06"))
    with pytest.raises(NotAllowed):
        stats.publish(engine, scope, "T", 2026, office, at("2026-12-06"))
    with pytest.raises(Forbidden):
        stats.publish(engine, scope, "T", 2026, people["handler"], at("2027-01-05"))
    assert stats.may_edit(engine, people["upper"], tree["T"]) is False, "a reviewer above"
    stats.publish(engine, scope, "T", 2026, office, at("2027-01-05"))
    public = stats.annual(engine, None, "T", 2026)
    assert public.problems == "问题" and public.published_at is not None
    assert [r.org for r in stats.published(engine.db)] == ["T"]
    with pytest.raises(NotAllowed):
        stats.save_texts(engine, scope, "T", 2026, office, "改", "改", at("2027-01-06"))


def test_g14_annual_report_edits_and_publication_are_events_auditors_verify(engine, history,
                                                                           scope, tree,
                                                                           people):
    """AU1, G10: the report's texts and its publication go through the door: each edit and
    the publication is an event of the hash chain, which verifies; the board shows the
    report to everyone, one row of the ledger; one report per organisation and year."""
    office = people["office"]
    stats.save_texts(engine, scope, "T", 2026, office, "公开不够及时", "", at("2026-12-06"))
    stats.save_texts(engine, scope, "T", 2026, office, "公开不够及时", "建立提醒",
                     at("2026-12-07"))
    stats.publish(engine, scope, "T", 2026, office, at("2027-01-05"))
    (report,) = [p for p in publications.publications(engine) if p.kind == "annual_report"]
    assert report.org == "T" and "建立提醒" in report.content and report.scope == "public"
    assert [(e["trigger"], e["actor"]) for e in case_events(engine.db, report.id)] == [
        ("start", "user:ban"), ("edit", "user:ban"), ("publish", "user:ban")]
    assert report.id in [p.id for p in publications.ledger(engine, [tree["T"]])]
    assert verify(engine.db, engine.registry).ok


def test_g14_one_annual_report_per_organisation_and_year(engine, scope, people, monkeypatch):
    """A report opened elsewhere (the generic case API) is the one the desk edits; a second
    start of the same organisation and year is refused by the door, whoever asks (two
    desks at once: the second in its transaction)."""
    office = people["office"]
    first = engine.start("annual_report", "T", office, {"year": 2025}, at("2026-03-02"))
    with pytest.raises(NotAllowed) as again:
        engine.start("annual_report", "T", office, {"year": 2025}, at("2026-03-02"))
    assert again.value.message == ONE_A_YEAR.refusal
    other_year = engine.start("annual_report", "T", office, {"year": 2024}, at("2026-03-02"))
    assert other_year.data["year"] == 2024
    stats.save_texts(engine, scope, "T", 2025, office, "问题", "", at("2026-03-03"))
    assert engine.get(first.id, office).data["problems"] == "问题"
    real, calls = stats._report, []

    def unseen_once(*args, **kwargs):
        calls.append(args)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(stats, "_report", unseen_once)
    with pytest.raises(NotAllowed) as twice:
        stats.save_texts(engine, scope, "T", 2025, office, "另一份", "", at("2026-03-03"))
    assert twice.value.message == ONE_A_YEAR.refusal
    assert engine.get(first.id, office).data["problems"] == "问题"


@given(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)), st.integers(0, 800))
def test_g14_a_period_is_whole_months_and_edge_days_each_day_once(start, length):
    end = min(start + dt.timedelta(days=length), dt.date(2099, 12, 31))
    covered = []
    for grain, first, last in stats._ranges(start, end):
        if grain == "d":
            day = dt.date.fromisoformat(first)
            while day <= dt.date.fromisoformat(last):
                covered.append(day)
                day += dt.timedelta(days=1)
        else:
            month = dt.date.fromisoformat(first + "-01")
            while month.isoformat()[:7] <= last:
                day = month
                while day.month == month.month:
                    covered.append(day)
                    day += dt.timedelta(days=1)
                month = day
    assert sorted(covered) == [start + dt.timedelta(days=i)
                               for i in range((end - start).days + 1)]


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(dt.date(2026, 8, 1), dt.date(2026, 11, 30)), st.integers(0, 90))
def test_g14_any_period_from_the_counters_equals_replay(engine, history, scope, start,
                                                        length):
    end = start + dt.timedelta(days=length)
    counted = stats.figures(engine, scope, "C", start, end)
    replayed = stats.as_of(engine, scope, "C", start, end, iso_utc(at("2027-01-01")))
    assert counted.processes == replayed.processes


STEPS = st.lists(st.sampled_from([
    "start", "register", "request_clarification", "clarify", "consult", "consulted",
    "request_extension", "approve_extension", "answer", "withdraw"]), min_size=1, max_size=8)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, days=st.lists(st.integers(0, 3), min_size=8, max_size=8))
def test_g14_counters_moved_by_differences_equal_replay_after_every_step(engine, people,
                                                                         steps, days):
    """The projection moves its counters by the difference of a case's marks after each
    event; whatever the events, after every step they equal the figures replay gives."""
    scope = stats.scope_of(engine.db, ["/"])
    h, r = people["handler"], people["reviewer"]
    payloads = {
        "register": (people["office"], {}), "request_clarification": (h, {"missing": "年份"}),
        "consult": (h, {"party": "第三方", "kind": "third_party"}),
        "consulted": (h, {"reply": "同意"}), "request_extension": (h, {"days": 3,
                                                                     "reason": "调档"}),
        "approve_extension": (r, {})}
    day, case = dt.date(2026, 11, 2), None
    for step, gap in zip(steps, days, strict=False):
        day += dt.timedelta(days=gap)
        when = at(day.isoformat())
        try:
            if step == "start" or case is None:
                case = engine.start("application", "T", PUBLIC, APPLY | {"name": "甲"}, when)
            elif step in ("clarify", "withdraw"):
                payload = {"supplement": "补"} if step == "clarify" else {}
                case = engine.fire(case.id, step, applicant(case.code), payload, case.version,
                                   when)
            elif step == "answer":
                if case.state == "received":
                    case = engine.fire(case.id, "register", people["office"], {},
                                       case.version, when)
                case = engine.fire(case.id, "draft_answer", h, {"outcome": "disclosed",
                                                                "content": "见附件"},
                                   case.version, when)
                case = engine.fire(case.id, "approve", r, {}, case.version, when)
            else:
                who, payload = payloads[step]
                case = engine.fire(case.id, step, who, payload, case.version, when)
        except (NotAllowed, Forbidden, Invalid):
            case = engine.get(case.id, people["office"]) if case else None
        first, last = dt.date(2026, 1, 1), dt.date(2027, 12, 31)
        assert stats.figures(engine, scope, "C", first, last, "application").processes == \
            stats.as_of(engine, scope, "C", first, last, iso_utc(at("2099-01-01")),
                        "application").processes
