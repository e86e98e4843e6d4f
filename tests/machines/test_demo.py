"""The demo data holds cases of every built process in several states, with running timers."""

from __future__ import annotations

import sqlalchemy as sa

from workflow import demo
from workflow.audit import verify
from workflow.engine import cases, timers


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


def test_demo_board_has_internal_and_public_items_in_one_organisation(engine):
    from workflow.orgs import org_by_code
    from workflow.publications import publications

    demo.load(engine)
    with engine.db.read() as conn:
        member = {org_by_code(conn, "XW-QS-XBQ").path}  # a member of 小板桥村
    by_org: dict[str, set[str]] = {}
    for item in publications(engine, member):
        by_org.setdefault(item.org, set()).add(item.scope)
    assert {"internal", "public"} <= by_org["XW-QS-XBQ"], by_org
