"""Demo data: an organisation tree and, for every registered process, its declared demo cases.

Each process module declares its demo cases as data (``Process.demo``); they are
started and walked through the door like real work, so they carry real events and
running timers.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from workflow.base.timeutil import LOCAL_TZ, local_date, utcnow
from workflow.core.declare import demo_payload
from workflow.core.engine import Engine
from workflow.core.timers import run_due
from workflow.people import accounts
from workflow.people.accounts import add_user
from workflow.people.actors import PUBLIC, SYSTEM, Actor
from workflow.people.orgs import add_org, list_orgs
from workflow.store.models import orgs

ORGS = (
    ("XW", "中共示范县委员会", None, "county_committee"),
    ("XW-ZZB", "县委组织部", "XW", "bureau"),
    ("XW-JYJ", "县教育局党委", "XW", "bureau"),
    ("XW-JYJ-YZ", "县第一中学党支部", "XW-JYJ", "branch"),
    ("XW-QS", "青山镇党委", "XW", "town"),
    ("XW-QS-XBQ", "小板桥村党总支", "XW-QS", "village"),
    ("XW-QS-DH", "东湖村党支部", "XW-QS", "village"),
    ("XW-GD", "县供电公司党委", "XW", "enterprise"),
    ("XW-GD-1", "供电公司第一党支部", "XW-GD", "branch"),
)


PASSWORD = "gongkai-demo"

#: (username, display name, organisation, roles); every password is PASSWORD
PEOPLE = (
    ("admin", "系统管理员", "XW", ("admin",)),
    ("auditor", "纪委审计员", "XW", ("auditor",)),
    ("xw-reviewer", "县委办负责人", "XW", ("reviewer", "leading_group")),
    ("xw-receiver", "县委备案受理员", "XW", ("upper_receiver",)),
    ("xw-handler", "县委办承办人", "XW", ("handler",)),
    ("qs-handler", "青山镇承办人", "XW-QS", ("handler", "office")),
    ("qs-reviewer", "青山镇负责人", "XW-QS", ("reviewer", "secretary")),
    ("qs-receiver", "青山镇备案受理员", "XW-QS", ("upper_receiver",)),
    ("qs-member", "青山镇党员", "XW-QS", ("member",)),
    ("xbq-handler", "小板桥村承办人", "XW-QS-XBQ", ("handler", "office")),
    ("xbq-reviewer", "小板桥村书记", "XW-QS-XBQ", ("reviewer", "secretary")),
    ("xbq-member", "小板桥村党员", "XW-QS-XBQ", ("member",)),
    ("xbq-supervisor", "小板桥村监督员", "XW-QS-XBQ", ("supervisor",)),
    ("jyj-handler", "教育局承办人", "XW-JYJ", ("handler",)),
    ("jyj-reviewer", "教育局负责人", "XW-JYJ", ("reviewer",)),
)


def demo_actor(conn, org_code: str, role: str) -> Actor:
    """The demo person who holds ``role`` at ``org_code`` (created on first use)."""
    if role == "public":
        return PUBLIC
    username = f"{org_code.lower()}-{role}".replace("_", "-")
    user_id = add_user(conn, username, org_code, [role], None, username)
    return accounts.load(conn, user_id).actor


def is_empty(engine: Engine) -> bool:
    with engine.db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(orgs)).scalar_one() == 0


def load(engine: Engine, now: dt.datetime | None = None) -> dict[str, int]:
    """Create the demo tree (once) and each process's demo cases, laid out relative to
    ``now`` (the clock by default), then fire the timers that have fallen due."""
    now = now or utcnow()
    today = local_date(now)
    created = {"orgs": 0, "cases": 0}
    with engine.db.write() as conn:
        have = {r.code for r in conn.execute(sa.select(orgs.c.code))}
        for code, name, parent, kind in ORGS:
            if code not in have:
                add_org(conn, code, name, parent, kind)
                created["orgs"] += 1
        for username, name, org_code, roles in PEOPLE:
            add_user(conn, username, org_code, list(roles), PASSWORD, name)
        parents = {r["code"]: r["parent"] for r in list_orgs(conn)}
    since_midnight = now - dt.datetime.combine(today, dt.time(), LOCAL_TZ)
    for compiled in engine.registry.latest():
        for demo in compiled.process.demo:
            # the case and its steps a minute apart (closer just after midnight, so that
            # none slips back into the day before), the last step no later than now
            gap = min(dt.timedelta(minutes=1), since_midnight / (len(demo.steps) + 2))
            at = now - dt.timedelta(days=demo.days_ago) - gap * (len(demo.steps) + 1)
            with engine.db.write() as conn:
                starter = demo_actor(conn, demo.org, demo.role)
            case = engine.start(compiled.kind, demo.org, starter,
                                demo_payload(demo.payload, today), at)
            for step in demo.steps:
                at += dt.timedelta(days=step.after_days) + gap
                if step.after_days:
                    run_due(engine, at)
                    case = engine.get(case.id, SYSTEM)
                role = step.role.removeprefix("upper:")
                where = demo.org if role == step.role else parents[demo.org]
                with engine.db.write() as conn:
                    actor = demo_actor(conn, where, role)
                payload = dict(demo_payload(step.payload, today))
                if step.from_case:
                    payload |= step.from_case(case.data)
                case = engine.fire(case.id, step.trigger, actor, payload, case.version, at)
            created["cases"] += 1
    run_due(engine, now)
    return created
