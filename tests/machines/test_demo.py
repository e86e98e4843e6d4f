"""The demo data holds cases of every built process in several states, with running timers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from machines.periods import period_of, previous_period
from workflow import demo
from workflow.audit.chain import verify
from workflow.base.timeutil import LOCAL_TZ, local_date
from workflow.store.models import cases, timers

#: loading days the demo must survive: the last half hour of a year, the first working
#: day after it, National Day, Spring Festival, a leap day, a year no calendar knows, and
#: the first seconds of a day (a case's steps must not slip back into the day before)
LOAD_DAYS = ("2026-12-31T23:30", "2027-01-04T09:00", "2026-10-01T10:00", "2026-02-16T10:00",
             "2028-02-29T10:00", "2031-06-30T23:55", "2026-12-07T00:00:30", "2026-12-07T00:00")


@pytest.mark.dates  # swept over several days by make test
def test_demo_has_every_process_in_several_states_with_timers(engine):
    assert demo.is_empty(engine)
    created = demo.load(engine)
    assert created["orgs"] == len(demo.ORGS) and created["cases"] > 0
    with engine.db.read() as conn:
        states = {}
        for kind, state in conn.execute(sa.select(cases.c.kind, cases.c.state)):
            states.setdefault(kind, set()).add(state)
        pending = conn.execute(sa.select(sa.func.count()).select_from(timers)
                               .where(timers.c.status == "pending")).scalar_one()
    assert set(states) == set(engine.registry.kinds())
    assert all(len(found) >= 2 for found in states.values()), states
    assert pending > 0
    assert verify(engine.db, engine.registry).ok
    assert not demo.is_empty(engine)


@pytest.mark.dates
def test_demo_board_has_internal_and_public_items_in_one_organisation(engine):
    from workflow.people.orgs import org_by_code
    from workflow.views.publications import publications

    demo.load(engine)
    with engine.db.read() as conn:
        member = {org_by_code(conn, "XW-QS-XBQ").path}  # a member of 小板桥村
    by_org: dict[str, set[str]] = {}
    for item in publications(engine, member):
        by_org.setdefault(item.org, set()).add(item.scope)
    assert {"internal", "public"} <= by_org["XW-QS-XBQ"], by_org


#: not in the date sweep: it loads at each of its own days whatever the clock says, so the
#: sweep only repeated it (eight demo loads a day)
@pytest.mark.parametrize("when", LOAD_DAYS)
def test_demo_is_laid_around_the_day_it_is_loaded(engine, when):
    now = dt.datetime.fromisoformat(when).replace(tzinfo=LOCAL_TZ)
    today = local_date(now)
    demo.load(engine, now)
    with engine.db.read() as conn:
        rows = conn.execute(sa.select(cases.c.kind, cases.c.title, cases.c.data,
                                      cases.c.created_at)).all()
    assert all((row.created_at.tzinfo and row.created_at or row.created_at.replace(tzinfo=dt.UTC))
               <= now for row in rows), "no case starts after the day it is loaded"
    routine = {row.title: row for row in rows if row.kind == "routine"}
    this_quarter, last_quarter = period_of(today, "quarterly"), previous_period(today, "quarterly")
    assert f"{this_quarter[2]}主题党日安排" in routine
    assert f"{last_quarter[2]}党费收缴情况" in routine
    assert f"村党总支 {today.year} 年工作要点" in routine
    overdue = [row for row in rows if row.kind == "application"
               and json.loads(row.data).get("overdue")]
    assert [row.title for row in overdue] == ["镇党委班子成员分工调整的通知"], "A9 example"
    assert verify(engine.db, engine.registry).ok
