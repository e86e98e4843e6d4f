"""Durable timers: written with their event, due in working days, fired once (A5, A9)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from workflow.base.errors import Invalid
from workflow.base.timeutil import end_of_local_day, start_of_local_day
from workflow.calendar.workdays import store_days
from workflow.core.timers import recompute_provisional, run_due
from workflow.store.models import cases, events, timers

pytestmark = pytest.mark.dates  # swept over several days by make test

NOW = dt.datetime(2026, 9, 28, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai


def pending(engine, case_id: int) -> dict[str, dict]:
    with engine.db.read() as conn:
        rows = conn.execute(sa.select(timers).where(timers.c.case_id == case_id,
                                                    timers.c.status == "pending")).all()
    return {r.name: r._mapping for r in rows}


def submitted(engine, people, when=NOW, **start):
    case = engine.start("sample", "T", people["handler"], {"title": "t", **start}, when)
    return engine.fire(case.id, "submit", people["handler"], {"amount": 5}, 1, when)


def test_a5_deadline_in_working_days_skips_national_day(engine, people):
    case = submitted(engine, people)
    # 10 working days after Mon 2026-09-28: the National Day week is skipped, Saturday
    # 10-10 (a make-up workday) counts.
    assert case.due_date == dt.date(2026, 10, 16)
    assert case.due_at == end_of_local_day(dt.date(2026, 10, 16))
    assert not case.due_provisional
    assert case.due_explain["n"] == 10 and case.due_explain["start"] == "2026-09-28"
    assert {"date": "2026-10-01", "reason": "国庆节"} in case.due_explain["skipped"]
    rows = pending(engine, case.id)
    assert set(rows) == {"deadline", "deadline.remind5", "deadline.remind1"}
    assert rows["deadline.remind1"]["due_at"] == start_of_local_day(dt.date(2026, 10, 15))
    assert rows["deadline.remind5"]["due_at"] == start_of_local_day(dt.date(2026, 10, 10))
    assert {"date": "2026-10-10", "reason": "周六"} not in case.due_explain["skipped"]


def test_a9_reminders_then_deadline_fire_once_each(engine, people):
    case = submitted(engine, people)
    assert run_due(engine, start_of_local_day(dt.date(2026, 10, 15))) == 2
    assert run_due(engine, start_of_local_day(dt.date(2026, 10, 15))) == 0
    assert engine.get(case.id, people["reviewer"]).state == "review"
    last_second = end_of_local_day(dt.date(2026, 10, 16)) - dt.timedelta(seconds=1)
    assert run_due(engine, last_second) == 0
    assert run_due(engine, end_of_local_day(dt.date(2026, 10, 16))) == 1
    after = engine.get(case.id, people["reviewer"])
    assert after.state == "expired" and after.due_at is None
    with engine.db.read() as conn:
        fired = conn.execute(sa.select(events.c.trigger, events.c.actor)
                             .where(events.c.case_id == case.id, events.c.seq > 2)).all()
    assert [tuple(r) for r in fired] == [("remind", "system")] * 2 + [("expire", "system")]


def test_leaving_the_state_cancels_its_timers(engine, people):
    case = submitted(engine, people)
    engine.fire(case.id, "reject", people["reviewer"], {"reason": "不符"}, case.version, NOW)
    assert pending(engine, case.id) == {}
    assert run_due(engine, NOW + dt.timedelta(days=365)) == 0


def test_restart_on_extends_the_deadline_without_changing_state(engine, people):
    case = submitted(engine, people)
    case = engine.fire(case.id, "extend", people["reviewer"], {"days": 5}, case.version, NOW)
    assert case.state == "review" and case.due_date == dt.date(2026, 10, 23)
    with engine.db.read() as conn:
        statuses = [r.status for r in conn.execute(
            sa.select(timers.c.status).where(timers.c.case_id == case.id,
                                              timers.c.name == "deadline"))]
    assert sorted(statuses) == ["cancelled", "pending"]


def test_timer_at_a_date_in_the_case_minus_days(engine, people):
    case = engine.start("sample", "T", people["handler"],
                        {"title": "会议", "meeting_at": "2026-11-20T09:00"}, NOW)
    notice = pending(engine, case.id)["notice"]
    assert notice["due_at"] == dt.datetime(2026, 11, 10, 1, 0, tzinfo=dt.UTC)
    assert run_due(engine, dt.datetime(2026, 11, 10, 1, 0, tzinfo=dt.UTC)) == 1
    assert engine.get(case.id, people["handler"]).seq == 2


def test_provisional_due_date_in_an_unknown_year_then_official_import(engine, people):
    """2027 is unknown to chinesecalendar: the due date is provisional until imported."""
    when = dt.datetime(2026, 12, 28, 2, 0, tzinfo=dt.UTC)
    case = submitted(engine, people, when)
    assert case.due_provisional and case.due_date == dt.date(2027, 1, 12)
    assert pending(engine, case.id)["deadline"]["provisional"]
    from workflow.calendar.holidays import ScheduleDay

    official = [ScheduleDay(dt.date(2027, 1, d), False, "元旦") for d in (1, 2, 3)]
    official.append(ScheduleDay(dt.date(2027, 1, 4), False, "元旦调休"))
    with engine.db.write() as conn:
        store_days(conn, None, official)
    assert recompute_provisional(engine) == 3
    after = engine.get(case.id, people["handler"])
    assert not after.due_provisional and after.due_date == dt.date(2027, 1, 13)
    assert not pending(engine, case.id)["deadline"]["provisional"]


def test_org_override_moves_the_deadline(engine, people, tree):
    from workflow.calendar.holidays import ScheduleDay
    from workflow.people.orgs import org_by_code

    with engine.db.write() as conn:
        store_days(conn, org_by_code(conn, "C").id,
                   [ScheduleDay(dt.date(2026, 10, 9), False, "县委统一调休")])
    engine.calendars.invalidate()
    case = submitted(engine, people)
    assert case.due_date == dt.date(2026, 10, 19)
    assert {"date": "2026-10-09", "reason": "单位调整：县委统一调休"} in case.due_explain["skipped"]


@pytest.mark.parametrize("org", ["V", "B"])
def test_settings_change_the_count_per_organisation(engine, tree, org):
    import json

    from workflow.people.actors import user
    from workflow.store.models import Org

    with engine.db.write() as conn:
        conn.execute(sa.update(Org.__table__).where(Org.__table__.c.code == org)
                     .values(settings=json.dumps({"sample": {"deadline_days": 3,
                                                             "reminders": []}})))
    handler = user("h", {(tree[org], "handler")})
    case = engine.start("sample", org, handler, {"title": "t"}, NOW)
    case = engine.fire(case.id, "submit", handler, {"amount": 1}, 1, NOW)
    assert case.due_date == dt.date(2026, 10, 8)
    assert set(pending(engine, case.id)) == {"deadline"}


def test_timer_that_no_longer_applies_is_closed_not_retried(engine, people):
    case = submitted(engine, people)
    with engine.db.write() as conn:
        conn.execute(sa.update(cases).where(cases.c.id == case.id).values(state="approved"))
        conn.execute(sa.update(timers).where(timers.c.case_id == case.id)
                     .values(status="pending"))
    assert run_due(engine, NOW + dt.timedelta(days=60)) == 0
    with engine.db.read() as conn:
        notes = {r.status for r in conn.execute(sa.select(timers.c.status))}
    assert notes == {"failed"}


def count_transactions(engine, monkeypatch) -> list[int]:
    """How many write transactions the engine's database opens from now on."""
    opened = [0]
    write = engine.db.write

    def counted():
        opened[0] += 1
        return write()

    monkeypatch.setattr(engine.db, "write", counted)
    return opened


def test_due_timers_fire_by_group_commit_each_its_own_event(engine, people, monkeypatch):
    """Issue 21: a batch of due timers is one transaction; each timer still appends its own
    event (its own chain link) and is marked fired with it."""
    ids = [submitted(engine, people).id for _ in range(4)]
    opened = count_transactions(engine, monkeypatch)
    assert run_due(engine, NOW + dt.timedelta(days=60)) == 12  # 2 reminders + deadline each
    assert opened[0] == 1
    with engine.db.read() as conn:
        fired = conn.execute(sa.select(events.c.case_id, events.c.trigger)
                             .where(events.c.case_id.in_(ids), events.c.seq > 2)
                             .order_by(events.c.case_id, events.c.seq)).all()
        statuses = {r.status for r in conn.execute(sa.select(timers.c.status))}
    assert [t for _, t in fired] == ["remind", "remind", "expire"] * 4
    assert statuses == {"fired"}


def test_a_failing_batch_is_fired_again_timer_by_timer(engine, people, monkeypatch):
    """One case whose timer no longer applies rolls its batch back; the batch then fires
    timer by timer, so the other cases' timers fire and the bad one is closed as failed."""
    good = submitted(engine, people)
    bad = submitted(engine, people)
    with engine.db.write() as conn:
        conn.execute(sa.update(cases).where(cases.c.id == bad.id).values(state="approved"))
    opened = count_transactions(engine, monkeypatch)
    assert run_due(engine, NOW + dt.timedelta(days=60)) == 3
    assert opened[0] > 1
    assert engine.get(good.id, people["reviewer"]).state == "expired"
    with engine.db.read() as conn:
        statuses = dict(conn.execute(sa.select(timers.c.case_id, timers.c.status)
                                     .distinct().where(timers.c.case_id == bad.id)).all())
    assert statuses == {bad.id: "failed"}


def test_a8_consulting_pauses_the_clock_and_keeps_the_days_left(engine, people):
    case = submitted(engine, people)
    assert case.due_date == dt.date(2026, 10, 16)
    friday = dt.datetime(2026, 10, 9, 2, 0, tzinfo=dt.UTC)
    case = engine.fire(case.id, "consult", people["reviewer"], {}, case.version, friday)
    assert case.due_date is None
    rows = {r["name"]: r for r in _rows(engine, case.id)}
    assert rows["deadline"]["status"] == "paused"
    assert {rows[n]["status"] for n in rows if "remind" in n} == {"cancelled"}
    assert run_due(engine, friday + dt.timedelta(days=30)) == 0, "a paused clock never fires"
    monday = dt.datetime(2026, 10, 19, 2, 0, tzinfo=dt.UTC)
    case = engine.fire(case.id, "resume", people["reviewer"], {}, case.version, monday)
    # Six working days were left on 10-09 (10-10 make-up Saturday, 10-12…10-16).
    assert case.due_date == dt.date(2026, 10, 27)
    assert case.due_explain["pauses"] == [{"from": "2026-10-09", "to": "2026-10-19"}]
    assert case.due_explain["origin"] == {"start": "2026-09-28", "n": 10}
    assert set(pending(engine, case.id)) == {"deadline", "deadline.remind5", "deadline.remind1"}


def _rows(engine, case_id: int) -> list[dict]:
    with engine.db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(timers).where(timers.c.case_id == case_id).order_by(timers.c.id))]


@pytest.mark.parametrize("meeting_at", ["0001-01-01T00:00", "9999-12-31T23:59:59-14:00",
                                        "1899-12-31T23:59", "3000-01-01T00:00"])
def test_a_time_beyond_the_years_a_payload_takes_is_a_field_error(engine, people, meeting_at):
    """Bad input gets a field error: at the calendar's edges a time has no UTC form (an
    OverflowError, a 500, before); a payload's time falls between 1900 and 2999."""
    with pytest.raises(Invalid) as refused:
        engine.start("sample", "T", people["handler"],
                     {"title": "会议", "meeting_at": meeting_at}, NOW)
    assert refused.value.fields["meeting_at"].en == (
        "Dates and times must fall between 1900 and 2999")
    with engine.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one() == 0


def test_the_document_says_the_years_a_time_takes():
    """The JSON Schema of a date or time field states ``YEARS`` as a pattern on its text."""
    import re

    from workflow.core.schema import YEARS, Field

    for kind, text in (("datetime", "{:04d}-01-01T00:00:00Z"), ("date", "{:04d}-01-01")):
        pattern = re.compile(Field("at", kind).json_schema()["pattern"])
        for year, taken in ((YEARS[0] - 1, False), (YEARS[0], True), (2026, True),
                            (YEARS[1], True), (YEARS[1] + 1, False)):
            assert bool(pattern.match(text.format(year))) is taken, (kind, year)
