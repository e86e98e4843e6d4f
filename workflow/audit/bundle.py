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

``--redacted`` replaces every case payload and case data by nothing but the payload
digest already in the event header, so anyone may hold it (AU4) and the chains still
verify. ``--org`` limits it to an organisation's subtree; ``--since`` to what changed
after each organisation's last checkpoint at or before that time (every such case with
its whole chain). ``verify_bundle`` needs no database; it replays when payloads are
present and the process definitions are installed.
"""

from __future__ import annotations

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
    Report,
    Verifier,
    _grouped,
    checkpoints,
    copies,
    org_tree,
)
from workflow.base.timeutil import iso_utc, utcnow
from workflow.core.registry import Registry
from workflow.store.db import Database
from workflow.store.models import cases, definitions, events, orgs

FORMAT = "gongkai-audit-bundle"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
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
           since: dt.datetime | None = None) -> dict[str, int]:
    """Write a bundle; the counts say what it holds (``ledger_events`` only when any)."""
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
            for r in stream:
                if included is not None and r.case_id not in included:
                    continue
                row = dict(r._mapping)
                if redacted:
                    row["payload"] = None
                fh.write(dump({"type": "event", **row}) + "\n")
                counts["events"] += 1
    return counts


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
    cps, held, stored, evs = [], [], {}, []
    streams: dict[str, list[dict[str, Any]]] = {}
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
    return verifier.finish()
