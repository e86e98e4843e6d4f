"""Who may read a case's attachments, and which of them a page lists (issue 14, G1).

The rule lives here and nowhere else; the API, the case page, the tracking page and the
board item ask :func:`fetch` for a file and :func:`on_case` / :func:`on_board` for a list:

* a **user who may see the case** — its organisation's subtree, as for the case page
  (``Engine.get`` raises ``NotFound`` outside it) — reads every file its events took;
* an **applicant** reads, on their own case only, what their tracking page shows: the
  files of the events it lists (the submission, the triggers declared public) and those
  recorded in the case data the process declares fit for them (``public_data``: the
  information released with an approved answer, not its draft);
* an **upload no event has taken** yet is read only by the user who uploaded it;
* a **published routine item**'s files that officers attached and no field marks
  personal are read by whoever may see the item, by the board's own rule
  (:func:`workflow.views.publications.publication`: everyone once it is public, a 党内
  item only Party members of the organisation's subtree);
* anyone else gets :class:`NotFound`, as for a case outside their scope, so nothing
  says that the file exists.

A file is listed from the event that took it (the record the hash chain covers: digest,
size, media type, name), with the label of its payload field. An officer's reading of a
file from a field marked ``personal=True`` is the engine's append-only ``download``
event, written before the bytes are handed out (the auditor sees who read it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workflow.audit.chain import case_events
from workflow.base.errors import NotAllowed, NotFound
from workflow.base.text import Text
from workflow.core.attachments import (
    INLINE,
    KIND_LABELS,
    MB,
    MEDIA_TYPES,
    SETTINGS,
    limits,
    records_in,
)
from workflow.core.engine import START, CaseView, Engine
from workflow.core.schema import MAX_FILES, MAX_SAFE_INT, Field
from workflow.people.actors import SYSTEM, Actor
from workflow.store.files import sha256_of
from workflow.store.models import attachments
from workflow.views import publications, tracking
from workflow.views.inbox import NOT_OFFICERS

UNUSED = Text("尚未使用的上传", "Upload not yet used")
UNREADABLE = Text("附件文件缺失或与登记的摘要不符，暂时无法下载（审计核查会报告该问题）",
                  "The file is missing or does not match its recorded digest; it cannot be "
                  "downloaded (audit verify reports it)")
ALLOWED = Text("可上传 {k}，每个文件不超过 {n} MB，最多 {m} 个",
               "{k}; at most {n} MB per file, {m} files at most")


@dataclass(frozen=True)
class Attachment:
    """One file as a page lists it: the event's record, where it came from, who sent it."""

    id: int
    case_id: int | None
    seq: int | None  # the event that took it; None for an upload not yet used
    trigger: str | None
    field: str | None
    label: Text  # the payload field's label
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str  # actor label (user:…, applicant:…, public:…)
    uploaded_at: dt.datetime | None
    taken_by: str | None  # who fired the event that took it
    personal: bool

    @property
    def inline(self) -> bool:
        """Safe to show in the browser (PDF, PNG, JPEG); everything else is download only."""
        return self.media_type in INLINE

    @property
    def shown_on_page(self) -> bool:
        """An image a page may embed: opening the page must not count as reading a
        personal-data file (that is an event), so those only ever open on request."""
        return self.inline and self.media_type.startswith("image/") and not self.personal

    @property
    def record(self) -> dict[str, Any]:
        """What the event recorded of it (the ``download`` event repeats it)."""
        return {"attachment": self.id, "sha256": self.sha256, "size": self.size,
                "media_type": self.media_type, "name": self.name}


@dataclass(frozen=True)
class Download:
    attachment: Attachment
    data: bytes = field(repr=False)


# -- listing --------------------------------------------------------------------------------


def _file_fields(engine: Engine, case: CaseView, trigger: str) -> tuple[Field, ...]:
    compiled = engine.registry.get(case.kind, case.def_version)
    if trigger == START:
        return compiled.process.start_schema.file_fields
    arrow = compiled.first(trigger)
    return arrow.schema.file_fields if arrow is not None else ()


def _listed(engine: Engine, case: CaseView) -> list[Attachment]:
    """Every file the case's events took, oldest first, from the records in their payloads."""
    with engine.db.read() as conn:
        rows = {r.id: r for r in conn.execute(
            sa.select(attachments).where(attachments.c.case_id == case.id))}
    found = []
    for event in case_events(engine.db, case.id):
        fields = _file_fields(engine, case, event["trigger"])
        if not fields:
            continue
        payload = json.loads(event["payload"])
        for f in fields:
            for record in records_in(payload.get(f.name)):
                row = rows.get(record["attachment"])
                found.append(Attachment(
                    id=record["attachment"], case_id=case.id, seq=event["seq"],
                    trigger=event["trigger"], field=f.name, label=f.label,
                    name=record["name"], media_type=record["media_type"],
                    size=record["size"], sha256=record["sha256"],
                    uploaded_by=row.uploaded_by if row is not None else event["actor"],
                    uploaded_at=row.uploaded_at if row is not None else None,
                    taken_by=event["actor"], personal=f.personal))
    return found


def _shown_to_applicant(engine: Engine, case: CaseView, found: list[Attachment]
                        ) -> list[Attachment]:
    """The files the tracking page shows: of its events, or named in its details."""
    seqs = {event["seq"] for event in tracking.public_timeline(engine, case)}
    named = {record["attachment"] for _label, value in tracking.public_data(engine, case)
             for record in records_in(value)}
    return [a for a in found if a.seq in seqs or a.id in named]


def _through_scope(engine: Engine, case_id: int, actor: Actor) -> CaseView | None:
    """The case when ``actor`` reaches it as for the case page or the tracking page: a user
    of its organisation's subtree, or the applicant of this very case. The public "sees"
    every case in the engine's sense (it may comment on some); it reaches none here."""
    if actor.kind not in ("user", "applicant"):
        return None
    try:
        return engine.get(case_id, actor)
    except NotFound:
        return None


def on_case(engine: Engine, case: CaseView, actor: Actor) -> list[Attachment]:
    """The files of a case whose page ``actor`` opened: all of them for a user of its
    subtree, what the tracking page shows for the case's applicant, none else."""
    if _through_scope(engine, case.id, actor) is None:
        return []
    return _seen_by(engine, case, actor)


def _seen_by(engine: Engine, case: CaseView, actor: Actor) -> list[Attachment]:
    found = _listed(engine, case)
    if actor.kind == "applicant":
        return _shown_to_applicant(engine, case, found)
    if actor.kind == "user" and not works_on(actor, case):
        return [item for item in found if not item.personal or item.taken_by == actor.label]
    return found


def works_on(actor: Actor, case: CaseView) -> bool:
    """Whether a user who sees the case is one of its officers (at its organisation or
    above): only they, and whoever sent it, read its personal-data files; members,
    supervisors and auditors see the case but not those (personal data only to those
    who need it)."""
    return any(case.org_path.startswith(path) and role not in NOT_OFFICERS
               for path, role in actor.grants)


def _published(item: Attachment) -> bool:
    """Part of a publication: attached by an officer, in a field not marked personal."""
    return not item.personal and (item.taken_by or "").startswith("user:")


def on_board(engine: Engine, case_id: int, members: Iterable[str] = ()) -> list[Attachment]:
    """A published item's files fit for the board, if a viewer who is a Party member at
    ``members`` may see the item; otherwise :class:`NotFound` (as the item itself)."""
    publications.publication(engine, case_id, members)
    return [a for a in _listed(engine, engine.get(case_id, SYSTEM)) if _published(a)]


# -- reading one file -------------------------------------------------------------------------


def _bytes(engine: Engine, item: Attachment) -> bytes:
    data = engine.files.get(item.sha256)
    if data is None or sha256_of(data) != item.sha256:
        raise NotAllowed(UNREADABLE)
    return data


def read(engine: Engine, item: Attachment) -> Download:
    """The bytes of a file another read model's own rule lets through (a draft's documents
    on the board, 预公开), checked against the recorded digest."""
    return Download(item, _bytes(engine, item))


def _unused(row: Any) -> Attachment:
    return Attachment(id=row.id, case_id=row.case_id, seq=None, trigger=None, field=row.field,
                      label=UNUSED, name=row.name, media_type=row.media_type, size=row.size,
                      sha256=row.sha256, uploaded_by=row.uploaded_by,
                      uploaded_at=row.uploaded_at, taken_by=None, personal=False)


def _one(found: Iterable[Attachment], attachment_id: int) -> Attachment:
    item = next((a for a in found if a.id == attachment_id), None)
    if item is None:
        raise NotFound()
    return item


def fetch(engine: Engine, attachment_id: int, actor: Actor, now: dt.datetime | None = None,
          case_id: int | None = None) -> Download:
    """The file and its description, if ``actor`` may read it (the module's rule), and of
    case ``case_id`` when given (a page's link names the case); otherwise
    :class:`NotFound`. An officer reading a personal-data file is recorded first."""
    if isinstance(attachment_id, bool) or not 0 < attachment_id <= MAX_SAFE_INT:
        raise NotFound()
    with engine.db.read() as conn:
        row = conn.execute(sa.select(attachments).where(
            attachments.c.id == attachment_id)).first()
    if row is None or row.case_id is None or case_id not in (None, row.case_id):
        raise NotFound()
    if row.event_seq is None:
        if actor.kind != "user" or row.uploaded_by != actor.label:
            raise NotFound()
        item = _unused(row)
        return Download(item, _bytes(engine, item))
    case = _through_scope(engine, row.case_id, actor)
    if case is not None:
        item = _one(_seen_by(engine, case, actor), attachment_id)
        data = _bytes(engine, item)
        if item.personal and actor.kind == "user":
            engine.note_download(case.id, actor, item.record, now)
        return Download(item, data)
    members = publications.member_paths(actor.grants)
    item = _one(on_board(engine, row.case_id, members), attachment_id)
    return Download(item, _bytes(engine, item))


# -- what a form may send ----------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    """What a file field takes at an organisation: for the input's ``accept`` and its hint."""

    kinds: tuple[str, ...]
    max_bytes: int
    max_files: int

    @property
    def multiple(self) -> bool:
        return self.max_files > 1

    @property
    def accept(self) -> str:
        return ",".join(f".{k},{MEDIA_TYPES[k]}" if k != "jpeg" else
                        f".jpg,.jpeg,{MEDIA_TYPES[k]}" for k in self.kinds)

    @property
    def hint(self) -> Text:
        return ALLOWED.format(k="、".join(KIND_LABELS[k] for k in self.kinds) or "—",
                              n=f"{self.max_bytes / MB:g}", m=self.max_files)


def allowed(engine: Engine, fields: Iterable[Field], org_path: str | None = None
            ) -> dict[str, Allowed]:
    """What each file field among ``fields`` takes at the organisation ``org_path`` (its
    inherited attachment settings), or under the defaults when the organisation is not
    chosen yet (a public form; the door applies the chosen one's settings)."""
    files = [f for f in fields if f.type == "file"]
    if not files:
        return {}
    settings: dict[str, Any] = dict(SETTINGS)
    if org_path is not None:
        with engine.db.read() as conn:
            settings = engine.attachment_settings(conn, org_path)
    found = {}
    for f in files:
        kinds, most = limits(f, settings)
        found[f.name] = Allowed(tuple(kinds), most, f.max or MAX_FILES)
    return found
