"""The organisation tree (county committee → bureaus, towns, enterprises → branches, villages)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.base.errors import Invalid, NotFound
from workflow.base.text import Text
from workflow.store.models import generations, orgs
from workflow.store.prepared import Prepared

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


@dataclass(frozen=True)
class OrgNode:
    """One organisation as the door needs it: where it sits and its own settings."""

    id: int
    code: str
    path: str
    parent_id: int | None
    parent_code: str | None
    settings: dict[str, Any]


class OrgTree:
    """The whole organisation tree as read at one generation (it is small: a county)."""

    def __init__(self, nodes: list[OrgNode]) -> None:
        self.by_code = {n.code: n for n in nodes}
        self.by_id = {n.id: n for n in nodes}
        self._layered: dict[tuple[str, str, int], tuple[Mapping[str, Any], dict]] = {}

    def layered(self, path: str, group: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """``defaults`` overlaid by every ancestor's and the organisation's own ``group``
        (a new dict each call: callers put it in payloads)."""
        key = (path, group, id(defaults))
        held = self._layered.get(key)
        if held is None or held[0] is not defaults:
            found = dict(defaults)
            for part in path.strip("/").split("/"):
                node = self.by_id.get(int(part)) if part else None
                own = node.settings.get(group, {}) if node is not None else {}
                found.update({k: v for k, v in own.items() if k in found})
            held = self._layered[key] = (defaults, found)
        return dict(held[1])


_GENERATION = Prepared(sa.select(generations.c.n).where(generations.c.name == "orgs"))
_ALL_ORGS = Prepared(sa.select(orgs.c.id, orgs.c.code, orgs.c.path, orgs.c.parent_id,
                               orgs.c.settings))


def org_generation(conn: Connection) -> int | None:
    """The current generation of ``orgs`` (None on a database whose row was removed: then
    nothing is cached)."""
    row = _GENERATION.first(conn, {})
    return row["n"] if row is not None else None


class OrgCache:
    """The tree read once per generation of ``orgs``, per process (issue 21: a start reads
    no organisation row). Database triggers change the generation with every change of
    the table, so a change made by another worker or by plain SQL is seen at the next
    call; a tree read inside a transaction that changed it is kept only under that
    transaction's generation, which nobody else ever sees if it rolls back."""

    def __init__(self) -> None:
        self._held: tuple[int, OrgTree] | None = None

    def tree(self, conn: Connection, generation: object = ...) -> OrgTree:
        """The tree as ``conn`` sees it; pass ``generation`` when already read."""
        if generation is ...:
            generation = org_generation(conn)
        held = self._held
        if held is not None and generation is not None and held[0] == generation:
            return held[1]
        rows = _ALL_ORGS.rows(conn, {})
        codes = {r["id"]: r["code"] for r in rows}
        tree = OrgTree([OrgNode(r["id"], r["code"], r["path"], r["parent_id"],
                                codes.get(r["parent_id"]), json.loads(r["settings"] or "{}"))
                        for r in rows])
        if isinstance(generation, int):
            self._held = (generation, tree)
        return tree


_SHARED = OrgCache()


def layered_settings(conn: Connection, path: str, group: str,
                     defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` overlaid by the tree's settings, for readers that hold no engine (the
    CLI, the notification dispatcher): through one per-process cache of the tree."""
    return _SHARED.tree(conn).layered(path, group, defaults)
