"""Demo data: an organisation tree and, for every registered process, its declared demo cases.

Each process module declares its demo cases as data (``Process.demo``); they are
started and walked through the door like real work, so they carry real events and
running timers.
"""

from __future__ import annotations

import sqlalchemy as sa

from workflow.actors import parent_path, user
from workflow.engine import Engine, orgs
from workflow.orgs import add_org

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


def is_empty(engine: Engine) -> bool:
    with engine.db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(orgs)).scalar_one() == 0


def load(engine: Engine) -> dict[str, int]:
    """Create the demo tree (once) and each process's demo cases."""
    created = {"orgs": 0, "cases": 0}
    with engine.db.write() as conn:
        have = {r.code for r in conn.execute(sa.select(orgs.c.code))}
        for code, name, parent, kind in ORGS:
            if code not in have:
                add_org(conn, code, name, parent, kind)
                created["orgs"] += 1
        paths = {r.code: r.path for r in conn.execute(sa.select(orgs.c.code, orgs.c.path))}
    for compiled in engine.registry.latest():
        for demo in compiled.process.demo:
            path = paths[demo.org]
            case = engine.start(compiled.kind, demo.org,
                                user(f"demo-{demo.role}", {(path, demo.role)}), demo.payload)
            for step in demo.steps:
                role = step.role.removeprefix("upper:")
                where = path if role == step.role else parent_path(path)
                case = engine.fire(case.id, step.trigger, user(f"demo-{role}", {(where, role)}),
                                   step.payload, case.version)
            created["cases"] += 1
    return created
