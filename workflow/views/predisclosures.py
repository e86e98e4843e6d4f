"""Drafts put out for comments (预公开) and who may see and comment on them (P3, P4, P6, G1,
G13).

Who sees a draft is decided here and nowhere else — :func:`visible` — and every reader (the
board's pages, the JSON API) goes through :func:`drafts` or :func:`draft`:

* nobody sees a draft before it was first opened for comments (``closes_at`` in its data);
* **everyone** sees a 党外 (``public``) draft once opened;
* a 党内 draft is seen by the Party members and disclosure supervisors of the organisation's
  subtree only — the draft's organisation path is a prefix of theirs — as the process's
  ``comment`` trigger takes comments from them alone (``member``, ``lower:member``).

The outcome (how the comments were handled and the result, P6) is the case's board
publication ``outcome`` and follows the board's rule
(:func:`workflow.views.publications.visible`): 党内 first, to everyone only after the
public release (G1). Who a comment is from is chosen by :func:`commenter` from the
process's own triggers, which the door checks again. The officer's list of comments with
its filters and counts is :func:`comment_list`; a commenter's view of their comment with
the receipt and access code is :func:`comment_status`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workflow.base.errors import NotFound
from workflow.base.text import Text
from workflow.base.timeutil import local_date, parse_iso, utcnow
from workflow.core.engine import CaseView, Engine
from workflow.core.receipts import Receipt
from workflow.people.actors import PUBLIC, Actor
from workflow.store.models import cases, orgs
from workflow.views import attachments, publications, receipts

KIND = "pre_disclosure"
COMMENT = "comment"
SUPERVISOR_COMMENT = "supervisor_comment"
#: the roles that let a person see a 党内 draft of their organisation's subtree (G1, G13)
VIEWER_ROLES = ("member", "supervisor")
#: states in which a new round's revised draft is being prepared, not yet out (G2)
PREPARING = ("drafting", "review", "group_approval", "committee", "approved")
UNKNOWN_ORG = Text("找不到该组织", "No such organisation")
PENDING = "pending"


def viewer_paths(grants: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The organisation paths where a viewer is a Party member or a supervisor, from
    (path, role) grants; nothing for an anonymous visitor."""
    return tuple(sorted({path for path, role in grants if role in VIEWER_ROLES}))


def visible(org_path: str, data: Mapping[str, Any], paths: Iterable[str]) -> bool:
    """THE rule: may a viewer who is a member or supervisor at ``paths`` (none: anonymous)
    see this draft of ``org_path``?"""
    if not data.get("closes_at"):
        return False
    if data.get("scope") == "public":
        return True
    return any(path.startswith(org_path) for path in paths)


@dataclass(frozen=True)
class Draft:
    """A draft as the board and the API show it: never a commenter's name or contact."""

    id: int
    code: str | None
    org: str
    org_name: str
    org_path: str
    title: str
    text: str
    documents: tuple[Mapping[str, Any], ...]
    scope: str
    forms: tuple[str, ...]
    state: str
    def_version: int
    round: int
    comment_until: str
    closes_at: dt.datetime
    is_open: bool
    days_left: int | None
    comments: int
    notices: tuple[Mapping[str, Any], ...]
    deferred: Mapping[str, Any] | None
    outcome: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def closing_time(self) -> str:
        return f"{self.comment_until} 24:00"


def _outcome(case: CaseView, paths: Iterable[str]) -> Mapping[str, Any] | None:
    """P6: the result, the revised plan and the summary, once released to this viewer
    (G1: the board's rule, 党内 first)."""
    data = case.data
    published = data.get("outcome")
    if not published or not publications.visible(case.org_path, published, paths):
        return None
    decision = data["decision"]
    return {"summary": data["summary"], "result": decision["result"],
            "revised_plan": decision["revised_plan"], "decided_by": decision["decided_by"],
            "decided_on": decision["decided_on"], "meeting": decision["meeting"],
            "published_on": (published.get("published_public")
                             or published["published_internal"])["on"]}


def build(case: CaseView, org_name: str, paths: Iterable[str], now: dt.datetime) -> Draft:
    data = case.data
    shown = data["rounds"][-1] if case.state in PREPARING and data["rounds"] else data
    closes_at = parse_iso(data["closes_at"])
    is_open = case.state == "open" and now < closes_at
    until = dt.date.fromisoformat(data["comment_until"])
    deferred = data["deferrals"][-1] if case.state == "deferred" else None
    return Draft(
        id=case.id, code=case.code, org=case.org_code, org_name=org_name,
        org_path=case.org_path, title=case.title, text=shown["draft_text"],
        documents=tuple(shown.get("documents") or ()), scope=data["scope"],
        forms=tuple(data.get("forms") or ()), state=case.state, def_version=case.def_version,
        round=data["round"], comment_until=data["comment_until"], closes_at=closes_at,
        is_open=is_open,
        days_left=(until - local_date(now)).days if is_open else None,
        comments=len(data["comments"]), notices=tuple(data.get("notices") or ()),
        deferred=deferred, outcome=_outcome(case, paths))


def _rows(conn, where: list[Any]) -> list[tuple[CaseView, str]]:
    columns = [*cases.c, orgs.c.code.label("org_code"), orgs.c.path.label("org_path"),
               orgs.c.name.label("org_name")]
    query = (sa.select(*columns).join(orgs, orgs.c.id == cases.c.org_id)
             .where(cases.c.kind == KIND, *where).order_by(cases.c.id.desc()))
    return [(CaseView.from_row(row), row.org_name) for row in conn.execute(query)]


def drafts(engine: Engine, paths: Iterable[str] = (), org: str | None = None,
           now: dt.datetime | None = None) -> list[Draft]:
    """The drafts, open and closed, a viewer at ``paths`` may see, open ones first, in
    ``org``'s subtree when given (unknown: :class:`NotFound`)."""
    paths, now = tuple(paths), now or utcnow()
    with engine.db.read() as conn:
        where = [cases.c.state != "drafting"]
        if org:
            path = conn.execute(sa.select(orgs.c.path).where(orgs.c.code == org)).scalar()
            if path is None:
                raise NotFound(UNKNOWN_ORG)
            where.append(orgs.c.path.startswith(path))
        rows = _rows(conn, where)
    found = [build(case, name, paths, now) for case, name in rows
             if visible(case.org_path, case.data, paths)]
    return sorted(found, key=lambda d: (not d.is_open, -d.id))


def draft(engine: Engine, case_id: int, paths: Iterable[str] = (),
          now: dt.datetime | None = None) -> Draft:
    """One draft if this viewer may see it; otherwise :class:`NotFound`, the same as a draft
    that does not exist."""
    paths = tuple(paths)
    with engine.db.read() as conn:
        rows = _rows(conn, [cases.c.id == case_id])
    if not rows or not visible(rows[0][0].org_path, rows[0][0].data, paths):
        raise NotFound()
    return build(*rows[0], paths, now or utcnow())


DOCUMENTS = Text("征求意见稿附件", "Attachments of the draft")


def draft_files(found: Draft) -> list[attachments.Attachment]:
    """The draft's documents as the board lists them (officers attached them with the draft;
    none is personal data)."""
    return [attachments.Attachment(
        id=d["attachment"], case_id=found.id, seq=None, trigger=None, field="documents",
        label=DOCUMENTS, name=d["name"], media_type=d["media_type"], size=d["size"],
        sha256=d["sha256"], uploaded_by="", uploaded_at=None, taken_by=None, personal=False)
        for d in found.documents]


def draft_document(engine: Engine, case_id: int, attachment_id: int,
                   paths: Iterable[str] = ()) -> attachments.Download:
    """One document of the draft shown now, for whoever may see the draft (G1); anything
    else is :class:`NotFound`, as the draft itself."""
    found = draft(engine, case_id, paths)
    item = next((a for a in draft_files(found) if a.id == attachment_id), None)
    if item is None:
        raise NotFound()
    return attachments.read(engine, item)


# -- commenting (P4, G1, G13) ----------------------------------------------------------------


def commenter(engine: Engine, actor: Actor | None, found: Draft) -> tuple[Actor, str] | None:
    """Who comments and with which trigger: a supervisor as one (G13), a member of the
    subtree as themself, anyone else on a 党外 draft as the public; None on a 党内 draft
    for anyone else (G1). Read from the process's triggers; the door checks again."""
    compiled = engine.registry.get(KIND, found.def_version)
    if actor is not None and actor.kind == "user":
        for trigger in (SUPERVISOR_COMMENT, COMMENT):
            roles = compiled.roles(trigger, found.state) - {"public"}
            if actor.holds(roles, found.org_path):
                return actor, trigger
    if found.scope == "public":
        return PUBLIC, COMMENT
    return None


def comment(engine: Engine, case_id: int, actor: Actor | None, paths: Iterable[str],
            payload: Mapping[str, Any], now: dt.datetime | None = None) -> Receipt:
    """P4: send a comment on a draft this viewer may see (else :class:`NotFound`, as for
    a draft that does not exist); the receipt number and the access code, shown once."""
    found = draft(engine, case_id, paths, now)
    chosen = commenter(engine, actor, found)
    if chosen is None:
        raise NotFound()
    who, trigger = chosen
    return engine.submit(case_id, trigger, who, payload, now=now)


# -- what a commenter sees with the receipt (P4) -------------------------------------------


DISPOSITION_KEYS = ("outcome", "reason", "forwarded_to", "reply")


@dataclass(frozen=True)
class CommentStatus:
    receipt: str
    case_id: int
    title: str
    stance: str
    text: str
    sent_at: str
    disposition: Mapping[str, Any] | None


def comment_status(engine: Engine, case_id: int, number: str,
                   access_code: str | None) -> CommentStatus | None:
    """The comment with this receipt and its disposition, if ``access_code`` is its code;
    None for a wrong code and an unknown number alike."""
    status = receipts.lookup(engine, case_id, number, access_code)
    if status is None:
        return None
    with engine.db.read() as conn:
        title = conn.execute(sa.select(cases.c.title).where(cases.c.id == case_id)).scalar()
    sent = status.sent.payload
    answers = [s for s in status.since if s.payload.get("outcome")]
    disposition = None
    if answers:
        answer = answers[-1]
        disposition = {k: answer.payload[k] for k in DISPOSITION_KEYS if answer.payload.get(k)}
        disposition["answered_at"] = answer.at
    return CommentStatus(status.number, case_id, title or "", sent["stance"], sent["text"],
                         status.sent.at, disposition)


# -- the officer's list (P4) -----------------------------------------------------------------


def mask(contact: str) -> str:
    """A contact shown on a list: enough to recognise, not to copy (personal data)."""
    if len(contact) <= 4:
        return "*" * len(contact)
    return contact[:3] + "*" * (len(contact) - 5) + contact[-2:]


@dataclass(frozen=True)
class CommentList:
    rows: list[Mapping[str, Any]]
    by_stance: Mapping[str, int]
    by_outcome: Mapping[str, int]
    total: int


def comment_list(case: CaseView, stance: str | None = None,
                 outcome: str | None = None) -> CommentList:
    """P4: a case's comments for its officers, newest first, filtered by stance and by
    outcome (``pending``: none yet), with the counts of all of them; contacts masked."""
    comments = list(case.data.get("comments") or ())
    by_stance: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    for c in comments:
        by_stance[c["stance"]] = by_stance.get(c["stance"], 0) + 1
        key = c.get("outcome") or PENDING
        by_outcome[key] = by_outcome.get(key, 0) + 1
    rows = [c | ({"contact": mask(c["contact"])} if c.get("contact") else {})
            for c in reversed(comments)
            if (not stance or c["stance"] == stance)
            and (not outcome or (c.get("outcome") or PENDING) == outcome)]
    return CommentList(rows, by_stance, by_outcome, len(comments))
