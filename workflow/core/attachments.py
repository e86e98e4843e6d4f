"""Attachments inside the door's transaction: checked by content, stored by digest,
recorded in the event that takes them.

A file arrives either with the form that fires a trigger (an ``Upload`` in the payload)
or first on its own (``POST /api/v1/cases/{id}/attachments``) and then by id. Either way
the door replaces it in the payload by its record: attachment id, SHA-256, size, media
type and name, never the content. So the event's hash covers the file (AU2), and replay
sees exactly what the effects saw. An upload that no event takes is removed after a day.

Allowed kinds are judged from the bytes (magic numbers, and the parts inside an Office
Open XML package), never from the name or the client's Content-Type. The organisation
sets the defaults (``gongkai org settings CODE attachments.max_mb=20``); a field narrows
them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.base.errors import Invalid
from workflow.base.text import Text
from workflow.core.schema import Field, Schema, Upload
from workflow.store.db import Database
from workflow.store.files import FileStore
from workflow.store.models import attachments

#: the organisation settings group (``orgs.settings["attachments"]``) and its defaults
SETTINGS_GROUP = "attachments"
SETTINGS = {"types": ["pdf", "jpeg", "png", "docx", "xlsx"], "max_mb": 10}
MB = 1024 * 1024
#: an upload no event has taken is removed after this long
KEEP_UNREFERENCED = dt.timedelta(days=1)

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
KIND_LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "docx": "Word (DOCX)",
               "xlsx": "Excel (XLSX)"}
#: shown inline (preview) on the case page; everything else only as a download
INLINE = frozenset({"application/pdf", "image/jpeg", "image/png"})
_OOXML_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
_PATH_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')

WRONG_KIND = Text("文件类型不允许：只接受 {k}（按文件内容判断，不看文件名）",
                  "File type not allowed: only {k} (judged by the content, not the name)")
TOO_LARGE = Text("文件过大：每个文件不超过 {n} MB", "File too large: at most {n} MB per file")
NO_SUCH = Text("没有这个附件，或它不属于本事项", "No such attachment on this case")
TAKEN = Text("该附件已用于本事项的另一操作", "That attachment is already used by another action")


def bad_setting(name: str, value: Any) -> Text | None:
    """Why ``value`` cannot be the organisation's ``attachments.<name>``, or None."""
    if name == "types" and (not isinstance(value, list) or not value
                            or any(v not in MEDIA_TYPES for v in value)):
        return Text("应为以下类型的列表：{k}", "Must be a list of: {k}").format(
            k=", ".join(MEDIA_TYPES))
    if name == "max_mb" and (isinstance(value, bool) or not isinstance(value, int)
                             or not 1 <= value <= 1024):
        return Text("应为 1 到 1024 之间的整数（MB）",
                    "Must be a whole number of MB, 1 to 1024")
    return None


def sniff(data: bytes) -> str | None:
    """The kind of file ``data`` is, from its content alone, or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                names = set(package.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names:
            for kind, part in _OOXML_PART.items():
                if part in names:
                    return kind
    return None


def display_name(name: str) -> str:
    """A filename for display only: the last path part, no path or control characters."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").split("/")[-1]
    name = _PATH_CHARS.sub("", name).strip().lstrip(".")
    return name[:255] or "file"


def limits(field: Field | None, settings: Mapping[str, Any]) -> tuple[list[str], int]:
    """(allowed kinds, maximum bytes) for a field under the organisation's settings."""
    kinds = [k for k in settings.get("types", SETTINGS["types"]) if k in MEDIA_TYPES]
    if field is not None and field.media_types:
        kinds = [k for k in kinds if k in field.media_types]
    most = int(settings.get("max_mb", SETTINGS["max_mb"])) * MB
    if field is not None and field.max_bytes:
        most = min(most, field.max_bytes)
    return kinds, most


def refusal(data: bytes, kinds: list[str], most: int) -> Text | None:
    """Why ``data`` may not be attached here, or None."""
    if len(data) > most:
        return TOO_LARGE.format(n=f"{most / MB:g}")
    if sniff(data) not in kinds:
        return WRONG_KIND.format(k="、".join(KIND_LABELS[k] for k in kinds) or "—")
    return None


def store(conn: Connection, files: FileStore, case_id: int | None, actor: str,
          upload: Upload, field: Field | None, settings: Mapping[str, Any],
          now: dt.datetime) -> dict[str, Any]:
    """Check and store one upload, inside the caller's transaction; the row, unreferenced.

    The bytes go to the store first: if the transaction then fails, no row names them.
    """
    kinds, most = limits(field, settings)
    reason = refusal(upload.data, kinds, most)
    if reason is not None:
        raise Invalid(reason, {field.name if field else "file": reason})
    digest = files.put(upload.data)
    row = {"case_id": case_id, "sha256": digest, "size": len(upload.data),
           "media_type": MEDIA_TYPES[sniff(upload.data) or ""], "name": display_name(upload.name),
           "uploaded_by": actor, "uploaded_at": now, "event_seq": None,
           "field": field.name if field else None}
    row["id"] = conn.execute(sa.insert(attachments).values(row)
                             .returning(attachments.c.id)).scalar_one()
    return row


def record(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the event keeps of an attachment: enough to find and check the file."""
    return {"attachment": row["id"], "sha256": row["sha256"], "size": row["size"],
            "media_type": row["media_type"], "name": row["name"]}


def take(conn: Connection, files: FileStore, schema: Schema, clean: dict[str, Any],
         case_id: int | None, actor: str, settings: Mapping[str, Any],
         now: dt.datetime) -> list[int]:
    """Replace the file fields of ``clean`` by their records, in place; the ids taken.

    Uploads are stored now; ids must name this case's attachments that no event has taken
    yet (so nobody can take another person's upload by guessing its id). Field errors are
    collected and raised together, as the schema does.
    """
    taken: list[int] = []
    errors: dict[str, Text] = {}
    for field in schema.file_fields:
        records = []
        for item in clean.get(field.name) or []:
            try:
                if isinstance(item, Upload):
                    row = store(conn, files, case_id, actor, item, field, settings, now)
                else:
                    row = _unreferenced(conn, item, case_id, field, settings)
            except Invalid as exc:
                errors[field.name] = exc.fields.get(field.name, exc.message)
                break
            records.append(record(row))
            taken.append(row["id"])
        if field.name in clean:
            clean[field.name] = records
    if errors:
        raise Invalid(fields=errors)
    return taken


def _unreferenced(conn: Connection, attachment_id: int, case_id: int | None, field: Field,
                  settings: Mapping[str, Any]) -> Mapping[str, Any]:
    row = conn.execute(sa.select(attachments).where(attachments.c.id == attachment_id)).first()
    if row is None or case_id is None or row.case_id != case_id:
        raise Invalid(NO_SUCH, {field.name: NO_SUCH})
    if row.event_seq is not None:
        raise Invalid(TAKEN, {field.name: TAKEN})
    kinds, most = limits(field, settings)
    kind = next((k for k, media in MEDIA_TYPES.items() if media == row.media_type), None)
    if row.size > most or kind not in kinds:
        reason = (TOO_LARGE.format(n=f"{most / MB:g}") if row.size > most else
                  WRONG_KIND.format(k="、".join(KIND_LABELS[k] for k in kinds) or "—"))
        raise Invalid(reason, {field.name: reason})
    return row._mapping


def mark(conn: Connection, ids: list[int], case_id: int, seq: int) -> None:
    """Tie the taken attachments to their case and event; a lost race is a conflict."""
    if not ids:
        return
    done = conn.execute(sa.update(attachments).where(
        attachments.c.id.in_(ids), attachments.c.event_seq.is_(None))
        .values(case_id=case_id, event_seq=seq))
    if done.rowcount != len(ids):
        raise Invalid(TAKEN, {"file": TAKEN})


def records_in(payload: Any) -> Iterator[dict[str, Any]]:
    """Every attachment record in a recorded payload, wherever it sits."""
    if isinstance(payload, dict):
        if {"attachment", "sha256", "size", "media_type", "name"} <= payload.keys():
            yield payload
            return
        for value in payload.values():
            yield from records_in(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from records_in(value)


def sweep(db: Database, files: FileStore, now: dt.datetime) -> int:
    """Remove uploads that no event took within a day, and their bytes when no other
    attachment holds the same file; how many were removed."""
    with db.write() as conn:
        stale = conn.execute(sa.select(attachments.c.id, attachments.c.sha256).where(
            attachments.c.event_seq.is_(None),
            attachments.c.uploaded_at < now - KEEP_UNREFERENCED)).all()
        if not stale:
            return 0
        conn.execute(sa.delete(attachments).where(
            attachments.c.id.in_([r.id for r in stale])))
        digests = {r.sha256 for r in stale}
        kept = set(conn.execute(sa.select(attachments.c.sha256).where(
            attachments.c.sha256.in_(digests))).scalars())
    for digest in digests - kept:
        files.delete(digest)
    return len(stale)
