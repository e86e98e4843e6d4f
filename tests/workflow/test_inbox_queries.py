"""The inbox's queries (G15) against the same rules worked out by hand over the rows:
"my queue" per organisation, due soon, the capped count, both ways of paging a scope."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflow.base.timeutil import end_of_local_day, local_date, start_of_local_day, utcnow
from workflow.people.actors import parent_path
from workflow.store.models import cases, orgs
from workflow.views import inbox
from workflow.views.inbox import Filters, list_cases, waiting_on

STATES = ("draft", "review", "upper", "consulting", "approved", "rejected")
ROLES = ("handler", "reviewer")
ORGS = ("C", "T", "V", "B")


def rows_of(draw_cases: list[tuple[str, str, int]], ids: dict[str, int]) -> list[dict]:
    now = utcnow()
    made = []
    for n, (org, state, days) in enumerate(draw_cases, 1):
        day = local_date(now) + dt.timedelta(days=days)
        made.append({"id": n, "kind": "sample", "def_version": 1, "org_id": ids[org],
                     "code": f"SP-2026-{n:06d}", "title": f"事项{n}", "state": state,
                     "data": "{}", "version": 1, "seq": 1, "head_hash": "",
                     # a due time within its due date's local day, as deadlines give them
                     "due_at": (start_of_local_day(day) if n % 2 else end_of_local_day(day)),
                     "due_date": day, "due_provisional": False, "created_at": now,
                     "updated_at": now})
    return made


def in_queue(row: dict, path_of: dict[int, str], grants: list[tuple[str, str]],
             registry) -> bool:
    """G15 by hand: the state waits on a role held at the case's organisation, or an
    ``upper:`` role held at its parent."""
    waits = waiting_on(registry)
    path, pair = path_of[row["org_id"]], (row["kind"], row["state"])
    return any((path == held and pair in waits.get(role, ()))
               or (parent_path(path) == held and pair in waits.get(f"upper:{role}", ()))
               for held, role in grants)


@pytest.fixture
def ids(engine, tree) -> dict[str, int]:
    with engine.db.read() as conn:
        return {r.code: r.id for r in conn.execute(sa.select(orgs.c.code, orgs.c.id))}


def walk(engine, held, sort: str) -> list[list[int]]:
    """Every page of my queue, four at a time, following ``next``; then back from the
    last page following ``prev``, which must give the same pages."""
    pages, after = [], None
    while True:
        page = list_cases(engine, held, Filters(view="mine", sort=sort, limit=4, after=after))
        pages.append([item["id"] for item in page.items])
        if page.next is None:
            break
        after = page.next
    back, before = [pages[-1]], None
    page = list_cases(engine, held, Filters(view="mine", sort=sort, limit=4, after=after))
    while (before := page.prev) is not None:
        page = list_cases(engine, held, Filters(view="mine", sort=sort, limit=4,
                                                before=before))
        back.insert(0, [item["id"] for item in page.items])
    assert back == pages, "paging back gives the pages paging forward gave"
    return pages


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(st.tuples(st.sampled_from(ORGS), st.sampled_from(STATES),
                                st.integers(-3, 12)), min_size=5, max_size=60),
       grants=st.lists(st.tuples(st.sampled_from(("C", "T", "V")), st.sampled_from(ROLES)),
                       min_size=2, max_size=4, unique=True),
       wide=st.booleans(), cap=st.sampled_from((3, 1000)), sort=st.sampled_from(("new", "due")))
def test_my_queue_is_the_rule_by_hand(engine, tree, ids, monkeypatch, drawn, grants, wide, cap,
                                      sort):
    """Whatever the cases and grants, "my queue" lists exactly the cases whose state waits
    on a grant, newest first or soonest due first, page after page both ways: from the
    matches counted (up to the cap), through one index range per organisation or, for a
    wide scope, one query. It counts them up to the cap."""
    monkeypatch.setattr(inbox, "PER_ORG_LIMIT", 0 if wide else 64)
    monkeypatch.setattr(inbox, "COUNT_CAP", cap)
    held = [(tree[code], role) for code, role in grants]
    rows = rows_of(drawn, ids)
    with engine.db.write() as conn:
        conn.execute(sa.delete(cases))
        if rows:
            conn.execute(sa.insert(cases), rows)
    path_of = {ids[code]: tree[code] for code in ORGS}
    waiting = [r for r in rows if in_queue(r, path_of, held, engine.registry)]
    order = ((lambda r: (r["due_at"], r["id"])) if sort == "due" else (lambda r: -r["id"]))
    expected = [r["id"] for r in sorted(waiting, key=order)]
    page = list_cases(engine, held, Filters(view="mine", sort=sort, limit=10))
    assert [item["id"] for item in page.items] == expected[:10]
    assert (page.total, page.more) == (min(len(expected), cap), len(expected) > cap)
    assert [case_id for page in walk(engine, held, sort) for case_id in page] == expected


def test_due_soon_lists_open_cases_due_within_three_working_days(engine, tree, ids):
    """The due-soon view bounds the due time by the end of the last day it shows, which a
    due date's own due time never passes: the cases listed are those of the due date rule."""
    drawn = [("T", state, days) for state in ("review", "approved")
             for days in (-2, 0, 1, 2, 3, 4, 5, 6, 9)]
    rows = rows_of(drawn, ids)
    with engine.db.write() as conn:
        conn.execute(sa.insert(cases), rows)
        soon = engine.calendars.for_org(conn, "/").add_working_days(
            local_date(utcnow()), inbox.DUE_SOON_DAYS).due
    now = utcnow()
    expected = sorted((r for r in rows if r["state"] == "review" and r["due_at"] > now
                       and r["due_date"] <= soon), key=lambda r: (r["due_at"], r["id"]))
    page = list_cases(engine, [(tree["T"], "reviewer")], Filters(view="due"), now)
    assert [item["id"] for item in page.items] == [r["id"] for r in expected]
    assert expected and page.total == len(expected)
