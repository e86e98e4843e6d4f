"""Export bundles: events, case heads and checkpoints in one JSON-lines file.

``--redacted`` replaces every payload and case data by nothing but the payload
digest already in the event header, so anyone may hold it (AU4) and the chains
still verify. ``verify_bundle`` needs no database; it replays when payloads are
present and the process definitions are installed.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from workflow.audit import EVENT_COLUMNS, Report, Verifier, _grouped, checkpoints
from workflow.db import Database
from workflow.engine import cases, events
from workflow.models import Definition
from workflow.registry import Registry
from workflow.timeutil import iso_utc, utcnow

FORMAT = "gongkai-audit-bundle"
FORMAT_VERSION = 1


def _open(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    return path.open(mode, encoding="utf-8")


def export(db: Database, out: Path, redacted: bool = False) -> dict[str, int]:
    counts = {"cases": 0, "events": 0, "checkpoints": 0}
    dump = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
    with db.read() as conn, _open(out, "w") as fh:
        defs = [{"kind": r.kind, "version": r.version, "fingerprint": r.fingerprint}
                for r in conn.execute(sa.select(Definition.__table__))]
        fh.write(dump({"type": "header", "format": FORMAT, "format_version": FORMAT_VERSION,
                       "created_at": iso_utc(utcnow()), "redacted": redacted,
                       "definitions": defs}) + "\n")
        for r in conn.execute(sa.select(checkpoints).order_by(checkpoints.c.seq)):
            row = {k: v for k, v in r._mapping.items() if k != "id"}
            fh.write(dump({"type": "checkpoint", **row}) + "\n")
            counts["checkpoints"] += 1
        for r in conn.execute(sa.select(cases.c.id, cases.c.state, cases.c.version,
                                        cases.c.seq, cases.c.head_hash, cases.c.data)
                              .order_by(cases.c.id)):
            row = {"type": "case", "id": r.id, "state": r.state, "version": r.version,
                   "seq": r.seq, "head_hash": r.head_hash,
                   "data": None if redacted else json.loads(r.data)}
            fh.write(dump(row) + "\n")
            counts["cases"] += 1
        stream = conn.execution_options(yield_per=5000).execute(
            sa.select(*[events.c[n] for n in EVENT_COLUMNS])
            .order_by(events.c.case_id, events.c.seq))
        for r in stream:
            row = dict(r._mapping)
            if redacted:
                row["payload"] = None
            fh.write(dump({"type": "event", **row}) + "\n")
            counts["events"] += 1
    return counts


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with _open(path, "r") as fh:
        for number, line in enumerate(fh, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"第 {number} 行不是 JSON / line {number} is not JSON: {exc}") \
                    from None


def verify_bundle(path: Path, registry: Registry | None) -> Report:
    lines = _lines(path)
    header = next(lines, None)
    if not header or header.get("format") != FORMAT:
        raise ValueError("不是 gongkai 审计包 / not a gongkai audit bundle")
    verifier = Verifier(registry, replay_cases=not header.get("redacted"))
    cps, stored, evs = [], {}, []
    for line in lines:
        kind = line.pop("type", None)
        if kind == "checkpoint":
            cps.append(line)
        elif kind == "case":
            stored[line.pop("id")] = line
        elif kind == "event":
            evs.append(line)
    verifier.checkpoints(cps)
    for case_id, rows in _grouped(evs):
        verifier.case(case_id, rows, stored.pop(case_id, None))
    for case_id, row in stored.items():
        verifier.case(case_id, [], row)
    return verifier.finish()
