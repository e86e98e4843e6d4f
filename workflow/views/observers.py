"""党员旁听 as the public and the office see it (O2–O7): the notices, a meeting's committed
record and draw, a registrant's status, and the office's list with the ID numbers masked.

What anyone sees holds no personal data: the notice, the quotas, the pool as registration
numbers by category, the source, the result and the bundle (G2, O7). The notice and the
result are board publications (``Process.board``) released within the Party first (G1
先党内、后党外): who sees each is the board's one rule, ``publications.visible`` — a Party
member of the organisation (or above) from the internal release, everyone from the public
one. The office sees each
registration with its ID number masked; the clear number comes back only through
:func:`reveal_id_number`, and that reading is an event (the engine's ``reveal``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from workflow.base.errors import Forbidden, NotFound
from workflow.base.text import Text
from workflow.core.engine import CaseView, Engine
from workflow.people import sealed
from workflow.people.actors import PUBLIC, Actor
from workflow.store.models import cases, orgs
from workflow.views import receipts
from workflow.views.publications import visible

KIND = "observer_seats"
#: the states in which a meeting is on the board: from its notice on
NOTICED = ("registration", "verification", "committed", "drawn", "attendance",
           "held_without_draw", "archived")
DRAWN = ("drawn", "attendance", "archived")
OFFICE = frozenset({"office", "handler"})
STATUS_LABELS = {
    "registered": Text("待核验", "Awaiting verification"),
    "verified": Text("核验通过", "Verified"),
    "not_verified": Text("核验未通过", "Not verified"),
}


@dataclass(frozen=True)
class Meeting:
    """A noticed meeting as the board shows it to anyone."""

    id: int
    code: str
    org: str
    org_name: str
    title: str
    state: str
    state_label: Text
    data: dict[str, Any]
    result_shown: bool = False  # the result is released to this viewer (G1)

    @property
    def registration_open(self) -> bool:
        return self.state == "registration"

    @property
    def drawn(self) -> bool:
        return self.state in DRAWN and bool(self.data.get("draw")) and self.result_shown

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        d = self.data
        return {
            "id": self.id, "code": self.code, "org": self.org, "org_name": self.org_name,
            "title": self.title, "state": self.state, "state_label": self.state_label.get(lang),
            "meeting_at": d["meeting_at"], "place": d["place"], "topics": d["topics"],
            "quotas": d["quotas"], "seats": d["seats"], "conditions": d["conditions"],
            "registration_until": d["registration_until"],
            "how_to_register": d.get("how_to_register", ""),
            "registration_open": self.registration_open,
            "notice": d.get("notice"),
            "record": d.get("record"), "commitment": d.get("commitment"),
            "short": d.get("short"),
            "result": (d["draw"]["result"] if self.drawn else None),
            "seating": ({"seats": d["seating"]["seats"], "waiting": d["seating"]["waiting"],
                         "changes": [{k: v for k, v in c.items() if k != "reason"}
                                     for c in d["seating"]["changes"]]}
                        if self.drawn else None),
            "cancelled_draws": [{k: v for k, v in c.items() if k != "by"}
                                for c in d.get("cancelled_draws", [])],
        }


def _meeting(engine: Engine, row: Any, members: tuple[str, ...]) -> Meeting | None:
    """The meeting as this viewer (a Party member at ``members``, none for the public) may
    see it: nothing before the notice reaches them (G1), the result once it does."""
    data = json.loads(row.data)
    if not visible(row.org_path, data.get("notice") or {}, members):
        return None
    compiled = engine.registry.get(row.kind, row.def_version)
    return Meeting(row.id, row.code, row.org_code, row.org_name, row.title, row.state,
                   compiled.state(row.state).label, data,
                   visible(row.org_path, data.get("result") or {}, members))


def _rows(engine: Engine, *where: Any) -> list[Any]:
    with engine.db.read() as conn:
        return conn.execute(
            sa.select(cases.c.id, cases.c.code, cases.c.kind, cases.c.def_version,
                      cases.c.title, cases.c.state, cases.c.data,
                      orgs.c.code.label("org_code"), orgs.c.name.label("org_name"),
                      orgs.c.path.label("org_path"))
            .join(orgs, orgs.c.id == cases.c.org_id)
            .where(cases.c.kind == KIND, cases.c.state.in_(NOTICED), *where)
            .order_by(cases.c.id.desc())).all()


def meetings(engine: Engine, org: str | None = None,
             members: Iterable[str] = ()) -> list[Meeting]:
    """O2, G1: every meeting whose notice reaches this viewer (``members``: where they are
    a Party member), newest first; with ``org``, that organisation's and those below it.
    An unknown organisation is ``NotFound``."""
    where = []
    if org:
        with engine.db.read() as conn:
            path = conn.execute(sa.select(orgs.c.path).where(orgs.c.code == org)).scalar()
        if path is None:
            raise NotFound(Text("找不到该组织", "No such organisation"))
        where.append(orgs.c.path.startswith(path))
    members = tuple(members)
    found = (_meeting(engine, row, members) for row in _rows(engine, *where))
    return [m for m in found if m is not None]


def meeting(engine: Engine, case_id: int, members: Iterable[str] = ()) -> Meeting:
    """One meeting whose notice reaches this viewer (``NotFound`` before: a proposal is
    internal, O1, and an internal notice only for members, G1)."""
    rows = _rows(engine, cases.c.id == case_id)
    found = _meeting(engine, rows[0], tuple(members)) if rows else None
    if found is None:
        raise NotFound()
    return found


def bundle(engine: Engine, case_id: int, members: Iterable[str] = ()) -> dict[str, Any]:
    """O7: the draw bundle, once drawn and its result released to this viewer (G1)."""
    found = meeting(engine, case_id, members)
    if not found.drawn:
        raise NotFound(Text("尚未抽签", "Not drawn yet"))
    return found.data["draw"]


@dataclass(frozen=True)
class Registrant:
    """What a registrant sees with the receipt number and the access code."""

    number: str
    category: str
    status: str
    status_label: Text
    reason: str
    seat: str | None  # "seat" or "waiting" once drawn
    steps: list[receipts.Step]

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        return {"registration": self.number, "category": self.category,
                "status": self.status, "status_label": self.status_label.get(lang),
                "reason": self.reason, "draw": self.seat,
                "timeline": [{"at": s.at, "trigger": s.trigger, "label": s.label.get(lang),
                              "payload": _shown(s.payload)}
                             for s in self.steps]}


def _shown(payload: dict[str, Any]) -> dict[str, Any]:
    """What a registrant's timeline shows of a payload: the ID number masked only, no file
    records, no engine keys."""
    shown = {k: v for k, v in payload.items() if k not in ("letter", "_receipt")}
    if isinstance(shown.get("id_number"), dict):
        shown["id_number"] = shown["id_number"].get("masked")
    return shown


def registrant(engine: Engine, case_id: int, number: str, code: str | None) -> Registrant:
    """O5: the registration and what became of it; a wrong code is ``NotFound`` like an
    unknown number."""
    status = receipts.lookup(engine, case_id, number, code)
    if status is None:
        raise NotFound(Text("找不到该报名，或查询码不正确",
                            "No such registration, or the access code is wrong"))
    data = engine.get(case_id, PUBLIC).data
    entry = next(r for r in data["registrations"] if r["no"] == status.number)
    seat = None
    if data.get("seating"):
        if any(s["id"] == status.number for s in data["seating"]["seats"]):
            seat = "seat"
        elif status.number in data["seating"]["waiting"]:
            seat = "waiting"
    return Registrant(status.number, entry["category"], entry["status"],
                      STATUS_LABELS[entry["status"]], entry.get("reason", ""), seat,
                      [status.sent, *status.since])


# -- the office --------------------------------------------------------------------------


def is_office(case: CaseView, actor: Actor) -> bool:
    """O5: whether ``actor`` is an officer of the meeting's organisation, who sees the
    registrations (ID numbers masked)."""
    return case.kind == KIND and actor.holds(OFFICE, case.org_path)


def office_case(engine: Engine, case_id: int, actor: Actor) -> CaseView:
    """The case for an officer of its organisation (O5); 403 for anyone else in scope."""
    case = engine.get(case_id, actor)
    if case.kind != KIND:
        raise NotFound()
    if not is_office(case, actor):
        raise Forbidden()
    return case


def reveal_id_number(engine: Engine, case_id: int, actor: Actor, number: str) -> str:
    """O5: the clear ID number of one registration, for the office checking it against the
    ID card; the reading is recorded as the engine's ``reveal`` event (who saw whose)."""
    case = office_case(engine, case_id, actor)
    entry = next((r for r in case.data["registrations"] if r["no"] == number), None)
    if entry is None:
        raise NotFound(Text("没有这个报名号", "No such registration"))
    with engine.db.read() as conn:
        clear = sealed.reveal(conn, case.id, entry["id_number"]["digest"])
    if clear is None:
        raise NotFound(Text("无法解密：密钥不是登记时的密钥",
                            "Cannot unseal: the key is not the one it was sealed with"))
    engine.note_reveal(case.id, actor, {"field": "id_number", "registration": number,
                                        "masked": entry["id_number"]["masked"]})
    return clear
