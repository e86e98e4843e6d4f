"""The organisation tree (county committee → bureaus, towns, enterprises → branches, villages)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.base.errors import Invalid, NotFound
from workflow.base.text import Text
from workflow.store.models import orgs

ORG_TYPES: dict[str, Text] = {
    "county_committee": Text("县委", "County committee"),
    "bureau": Text("机关单位", "Bureau"),
    "town": Text("乡镇", "Town"),
    "enterprise": Text("企业", "Enterprise"),
    "village": Text("村", "Village"),
    "branch": Text("支部", "Branch"),
}


def add_org(conn: Connection, code: str, name: str, parent: str | None = None,
            type: str = "branch", settings: dict[str, Any] | None = None) -> dict[str, Any]:
    if type not in ORG_TYPES:
        raise Invalid(fields={"type": Text("组织类型应为：{t}", "Type must be one of: {t}")
                              .format(t="、".join(ORG_TYPES))})
    if conn.execute(sa.select(orgs.c.id).where(orgs.c.code == code)).first():
        raise Invalid(fields={"code": Text("组织代码已存在", "This code is taken")})
    parent_path = "/"
    parent_id = None
    if parent:
        row = conn.execute(sa.select(orgs.c.id, orgs.c.path).where(orgs.c.code == parent)).first()
        if row is None:
            missing = Text("找不到上级组织 {c}", "No parent organisation {c}")
            raise NotFound(missing.format(c=parent))
        parent_path, parent_id = row.path, row.id
    org_id = conn.execute(sa.insert(orgs).values(
        code=code, name=name, type=type, parent_id=parent_id, path="/",
        settings=json.dumps(settings or {}, ensure_ascii=False)).returning(orgs.c.id)).scalar_one()
    path = f"{parent_path}{org_id}/"
    conn.execute(sa.update(orgs).where(orgs.c.id == org_id).values(path=path))
    return {"id": org_id, "code": code, "name": name, "type": type, "parent": parent,
            "path": path}


def list_orgs(conn: Connection) -> list[dict[str, Any]]:
    parent = orgs.alias("parent")
    rows = conn.execute(
        sa.select(orgs.c.id, orgs.c.code, orgs.c.name, orgs.c.type, orgs.c.path,
                  parent.c.code.label("parent"))
        .outerjoin(parent, parent.c.id == orgs.c.parent_id).order_by(orgs.c.path)).all()
    return [dict(r._mapping) for r in rows]


def org_by_code(conn: Connection, code: str) -> Any:
    row = conn.execute(sa.select(orgs).where(orgs.c.code == code)).first()
    if row is None:
        raise NotFound(Text("找不到组织 {c}", "No organisation {c}").format(c=code))
    return row
