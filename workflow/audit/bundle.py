"""Export bundles: one JSON-lines file anyone can verify offline (AU2, AU3, AU4).

Lines, in this order (docs/audit-format.md gives every field and hash rule):

``header``       format, version, scope (organisation subtree, ``since`` and the base
                 checkpoints of a partial bundle), the process definitions' versions
                 (the engine's ``ledger`` kind last), the organisation tree of the scope
                 and the public keys (of the scope and of the upper levels that witness it)
``ledger_event`` each organisation's ledger stream (key changes), payloads always kept
``checkpoint``   per-organisation checkpoints with their full head lists, signatures and
                 the upper levels' witness copies (``witnesses``)
``witness``      a copy whose checkpoint is gone from the database (evidence, kept)
``case``         case rows (the projection)
``event``        case events in (case, seq) order
``attachment``   the files those events record, one line per record (version 3)
``file``         with ``files`` (``--with-files``): each recorded file's bytes, once per
                 digest, base64

``--redacted`` replaces every case payload and case data by nothing but the payload
digest already in the event header, so anyone may hold it (AU4) and the chains still
verify; its ``attachment`` lines keep the file's digest and its event, not its name,
size or type (they are payload), and it never carries files. ``--org`` limits it to an
organisation's subtree; ``--since`` to what changed after each organisation's last
checkpoint at or before that time (every such case with its whole chain).
``verify_bundle`` needs no database; it replays when payloads are present and the
process definitions are installed, and checks every file the bundle carries against the
digest its events record.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from workflow.audit import signing
from workflow.audit.chain import (
    EVENT_COLUMNS,
    Problem,
    Report,
    Verifier,
    _grouped,
    checkpoints,
    copies,
    org_tree,
    problem,
)
from workflow.base.timeutil import iso_utc, utcnow
from workflow.core.attachments import records_in
from workflow.core.registry import Registry
from workflow.store.db import Database
from workflow.store.files import FileStore, sha256_of
from workflow.store.models import cases, definitions, events, orgs

FORMAT = "gongkai-audit-bundle"
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
LISTED_SINCE = 3  # the first version with ``attachment`` lines
#: what a redacted ``attachment`` line keeps: the digest and where it is recorded
REDACTED_RECORD = ("case_id", "seq", "sha256")
COPY_FIELDS = ("holder", "at", "heads_digest", "prev_hash", "hash", "key_id", "signature",
               "witness_key_id", "witness_signature")


def _open(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    return path.open(mode, encoding="utf-8")


def _scope(conn, org: str | None) -> set[str] | None:
    if org is None:
        return None
    root = conn.execute(sa.select(orgs.c.path).where(orgs.c.code == org)).scalar()
    if root is None:
        raise ValueError(f"找不到组织 {org} / no organisation {org}")
    return set(conn.execute(sa.select(orgs.c.code).where(orgs.c.path.startswith(root)))
               .scalars())


def export(db: Database, out: Path, redacted: bool = False, org: str | None = None,
           since: dt.datetime | None = None, files: FileStore | None = None
           ) -> dict[str, int]:
    """Write a bundle; the counts say what it holds (``ledger_events``, ``attachments``,
    ``files`` and ``files_missing`` only when any). With ``files`` (full form only) the
    bundle carries each recorded file as the store holds it now: a file missing from the
    store is left out and counted, so the verifier names it rather than the export
    failing."""
    if redacted and files is not None:
        raise ValueError("精简审计包不能附带文件（文件属于内容） / a redacted bundle cannot "
                         "carry files (they are payload)")
    counts = {"cases": 0, "events": 0, "checkpoints": 0}
    dump = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
    with db.read() as conn:
        scope = _scope(conn, org)
        tree = org_tree(conn)
        inside = set(tree) if scope is None else scope
        holders = {tree[o] for o in inside if tree.get(o)} - inside
        keys = signing.keys_by_org(conn, inside | holders)
        streams = signing.ledger_rows(conn, scope)
        defs = [{"kind": r.kind, "version": r.version, "fingerprint": r.fingerprint}
                for r in conn.execute(sa.select(definitions)
                                      .order_by(definitions.c.kind, definitions.c.version))]
        cp_query = sa.select(checkpoints).order_by(checkpoints.c.seq)
        if scope is not None:  # the global chain of old releases spans every organisation
            cp_query = cp_query.where(checkpoints.c.org.in_(scope))
        cps = [dict(r._mapping) for r in conn.execute(cp_query)]
        first = _first_kept(cps, since)
        kept = [cp for cp in cps if cp["seq"] >= first.get(cp["org"], 0)]
        bases = sorted(first.values()) if since is not None else []
        base_heads: dict[int, tuple[int, str]] = {}
        for cp in kept:
            if cp["seq"] in bases:
                base_heads.update({h[1]: (h[2], h[3]) for h in json.loads(cp["heads"])
                                   if h[1] is not None})
        copy_query = sa.select(copies)
        if scope is not None:
            copy_query = copy_query.where(copies.c.org.in_(scope))
        held: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(copy_query.order_by(copies.c.seq, copies.c.holder)):
            held.setdefault(r.seq, []).append(dict(r._mapping))
        with _open(out, "w") as fh:
            fh.write(dump({
                "type": "header", "format": FORMAT, "format_version": FORMAT_VERSION,
                "created_at": iso_utc(utcnow()), "redacted": redacted,
                "files": files is not None,
                "scope": {"org": org, "since": iso_utc(since) if since else None,
                          "bases": bases},
                "definitions": defs + [signing.LEDGER_DEFINITION],
                "orgs": [{"code": code, "parent": tree[code]} for code in sorted(inside)],
                "keys": [key.as_json() for code in sorted(keys)
                         for key in sorted(keys[code].values(), key=lambda k: k.added_seq)],
            }) + "\n")
            for code in sorted(streams):
                for row in streams[code]:
                    fh.write(dump({"type": "ledger_event", **row}) + "\n")
                    counts["ledger_events"] = counts.get("ledger_events", 0) + 1
            present = {cp["seq"] for cp in cps}
            for cp in kept:
                row = {k: v for k, v in cp.items() if k != "id"}
                if cp["org"] is not None:
                    row["witnesses"] = [_witness(c, cp) for c in held.get(cp["seq"], ())]
                fh.write(dump({"type": "checkpoint", **row}) + "\n")
                counts["checkpoints"] += 1
            for seq, found in sorted(held.items()):
                if seq in present:
                    continue
                for c in found:
                    if c["seq"] >= first.get(c["org"], 0):
                        fh.write(dump({"type": "witness", **{k: v for k, v in c.items()
                                                             if k != "id"}}) + "\n")
            included = _write_cases(conn, fh, dump, scope, base_heads, redacted, counts)
            query = sa.select(*[events.c[n] for n in EVENT_COLUMNS])
            if scope is not None:
                query = query.where(events.c.case_id.in_(
                    sa.select(cases.c.id).join(orgs, orgs.c.id == cases.c.org_id)
                    .where(orgs.c.code.in_(scope))))
            stream = conn.execution_options(yield_per=5000).execute(
                query.order_by(events.c.case_id, events.c.seq))
            listed: list[dict[str, Any]] = []
            for r in stream:
                if included is not None and r.case_id not in included:
                    continue
                row = dict(r._mapping)
                listed.extend(_listing(row, redacted))
                if redacted:
                    row["payload"] = None
                fh.write(dump({"type": "event", **row}) + "\n")
                counts["events"] += 1
            for entry in listed:
                fh.write(dump({"type": "attachment", **entry}) + "\n")
            _count(counts, "attachments", len(listed))
            if files is not None:
                _write_files(fh, dump, files, listed, counts)
    return counts


def _count(counts: dict[str, int], name: str, n: int) -> None:
    if n:
        counts[name] = counts.get(name, 0) + n


def _listing(row: dict[str, Any], redacted: bool) -> list[dict[str, Any]]:
    """The ``attachment`` lines of one event: its records, or only their digests."""
    if not row["payload"] or '"sha256"' not in row["payload"]:
        return []
    full = [{"case_id": row["case_id"], "seq": row["seq"], **rec}
            for rec in _records(row["payload"])]
    return [{k: e[k] for k in REDACTED_RECORD} for e in full] if redacted else full


def _write_files(fh, dump, files: FileStore, listed: list[dict[str, Any]],
                 counts: dict[str, int]) -> None:
    """One ``file`` line per recorded digest, with the bytes the store holds under it."""
    for digest in dict.fromkeys(e["sha256"] for e in listed if isinstance(e["sha256"], str)):
        try:
            data = files.get(digest)
        except ValueError:  # a "digest" that is none: the verifier names its event
            data = None
        if data is None:
            _count(counts, "files_missing", 1)
            continue
        fh.write(dump({"type": "file", "sha256": digest, "size": len(data),
                       "data": base64.b64encode(data).decode("ascii")}) + "\n")
        _count(counts, "files", 1)


def _first_kept(cps: list[dict[str, Any]], since: dt.datetime | None) -> dict[Any, int]:
    """Per chain (organisation; None for the old global chain): the seq of its last
    checkpoint at or before ``since`` — the base a partial bundle starts from."""
    if since is None:
        return {}
    limit = iso_utc(since)
    first: dict[Any, int] = {}
    for cp in cps:
        if cp["at"] <= limit:
            first[cp["org"]] = cp["seq"]
    return first


def _witness(copy: dict[str, Any], cp: dict[str, Any]) -> dict[str, Any]:
    entry = {k: copy[k] for k in COPY_FIELDS}
    if copy["heads_digest"] != cp["heads_digest"] or copy["heads"] != cp["heads"]:
        entry["heads"] = copy["heads"]
    return entry


def _write_cases(conn, fh, dump, scope, base_heads, redacted, counts) -> set[int] | None:
    """The case lines; with base heads (``--since``) only the cases that moved since."""
    query = (sa.select(cases.c.id, cases.c.state, cases.c.version, cases.c.seq,
                       cases.c.head_hash, cases.c.data)
             .join(orgs, orgs.c.id == cases.c.org_id))
    if scope is not None:
        query = query.where(orgs.c.code.in_(scope))
    included: set[int] | None = set() if base_heads else None
    for r in conn.execute(query.order_by(cases.c.id)):
        if included is not None:
            if base_heads.get(r.id) == (r.seq, r.head_hash):
                continue
            included.add(r.id)
        row = {"type": "case", "id": r.id, "state": r.state, "version": r.version,
               "seq": r.seq, "head_hash": r.head_hash,
               "data": None if redacted else json.loads(r.data)}
        fh.write(dump(row) + "\n")
        counts["cases"] += 1
    return included


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with _open(path, "r") as fh:
        for number, line in enumerate(fh, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"第 {number} 行不是 JSON / line {number} is not JSON: {exc}") \
                    from None


def verify_bundle(path: Path, registry: Registry | None, collect: bool = False) -> Report:
    lines = _lines(path)
    header = next(lines, None)
    if not header or header.get("format") != FORMAT:
        raise ValueError("不是 gongkai 审计包 / not a gongkai audit bundle")
    if header.get("format_version", 1) not in READABLE_VERSIONS:
        raise ValueError(f"不支持的审计包版本 {header.get('format_version')} / "
                         f"unsupported bundle version")
    verifier = Verifier(registry, replay_cases=not header.get("redacted"), collect=collect)
    cps, held, stored, evs, listed = [], [], {}, [], []
    streams: dict[str, list[dict[str, Any]]] = {}
    carried: dict[str, bool] = {}  # digest -> do the bytes match it
    for line in lines:
        kind = line.pop("type", None)
        if kind == "checkpoint":
            for copy in line.pop("witnesses", None) or ():
                held.append({"heads": line.get("heads"), **copy, "org": line.get("org"),
                             "seq": line.get("seq")})
            cps.append(line)
        elif kind == "witness":
            held.append(line)
        elif kind == "ledger_event":
            streams.setdefault(line["org"], []).append(line)
        elif kind == "case":
            stored[line.pop("id")] = line
        elif kind == "event":
            evs.append(line)
        elif kind == "attachment":
            listed.append(line)
        elif kind == "file" and isinstance(line.get("sha256"), str):
            digest = line["sha256"]
            carried[digest] = carried.get(digest, True) and _file_matches(line)
    if "orgs" in header:
        verifier.tree({o["code"]: o["parent"] for o in header["orgs"]})
    claimed: dict[str, dict[str, signing.Key]] = {}
    for k in header.get("keys", ()):
        if k["org"] not in streams:
            claimed.setdefault(k["org"], {})[k["key_id"]] = signing.Key(
                k["org"], k["key_id"], k["public_key"], k["added_at"], k.get("ledger_seq", 0),
                k.get("replaces"), k.get("retired_at"))
    verifier.claim_keys(claimed)
    for org in sorted(streams):
        verifier.ledger(org, sorted(streams[org], key=lambda r: r["seq"]))
    verifier.bases = set((header.get("scope") or {}).get("bases") or ())
    verifier.checkpoints(cps, held)
    for case_id, rows in _grouped(evs):
        verifier.case(case_id, rows, stored.pop(case_id, None))
    for case_id, row in stored.items():
        verifier.case(case_id, [], row)
    report = verifier.finish()
    checks_list = header.get("format_version", 1) >= LISTED_SINCE
    report.problems.extend(file_findings(evs, listed, carried, header.get("files") is True,
                                         checks_list))
    return report


def _file_matches(line: dict[str, Any]) -> bool:
    try:
        data = base64.b64decode(line.get("data") or "", validate=True)
    except (binascii.Error, ValueError):
        return False
    return sha256_of(data) == line.get("sha256")


def file_findings(evs: list[dict[str, Any]], listed: list[dict[str, Any]],
                  carried: dict[str, bool], with_files: bool, checks_list: bool
                  ) -> list[Problem]:
    """The files of a bundle, event by event (docs/audit-format.md, section 8, step 7).

    An event's records come from its payload when the bundle has it (the chain covers
    them), and the ``attachment`` lines must agree; in a redacted bundle only those lines
    say which digests an event recorded. A carried file whose bytes do not match its
    digest is ``file_altered``; in a bundle that carries files, a recorded digest
    without its file is ``file_missing``."""
    lines: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for line in listed:
        entry = dict(line)
        where = (entry.pop("case_id", None), entry.pop("seq", None))
        if all(type(x) is int for x in where):  # anything else names no event
            lines.setdefault(where, []).append(entry)
    found: list[Problem] = []
    recorded: list[tuple[int, int, dict[str, Any]]] = []
    payloads = {(ev["case_id"], ev["seq"]): ev["payload"] for ev in evs
                if ev.get("payload") is not None}
    for where in sorted(set(lines) | set(payloads)):
        entries = lines.get(where, [])
        if where in payloads:
            records = _records(payloads[where])
            if checks_list and sorted(map(_same, records)) != sorted(map(_same, entries)):
                found.append(problem(*where, "file_list_mismatch"))
        else:
            records = entries
        recorded.extend((*where, rec) for rec in records)
    named = set()
    for case_id, seq, rec in recorded:
        digest = rec.get("sha256")
        if not isinstance(digest, str):
            digest = repr(digest)  # no file can be carried under it
        named.add(digest)
        name = rec.get("name") or "—"
        if digest in carried and not carried[digest]:
            found.append(problem(case_id, seq, "file_altered", name=name))
        elif with_files and digest not in carried:
            found.append(problem(case_id, seq, "file_missing", name=name, sha256=digest))
    for digest, ok in carried.items():
        if not ok and digest not in named:
            found.append(problem(None, None, "file_altered", name=digest))
    return found


def _same(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True)


def _records(payload: str) -> list[dict[str, Any]]:
    try:
        return list(records_in(json.loads(payload)))
    except (ValueError, TypeError):  # an edited payload: payload_edited says so
        return []
