"""Replay, verify and checkpoints (AU1, AU2).

``replay`` rebuilds a case from its events alone, running the recorded definition
version's guards and effects again with no side effects. ``Verifier`` checks each
case's hash chain, the payload digests, the checkpoints' chain and heads, and that
replay agrees with the stored case row; the same verifier reads a database or an
exported bundle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workflow.canonical import (
    GENESIS,
    canonical,
    checkpoint_hash,
    event_hash,
    payload_digest,
    sha256_hex,
)
from workflow.db import Database
from workflow.declare import Ctx
from workflow.engine import START, apply_effects, cases, events, orgs, start_data, title_of
from workflow.models import Checkpoint
from workflow.registry import Registry
from workflow.text import Text
from workflow.timeutil import iso_utc, parse_iso, utcnow

checkpoints = Checkpoint.__table__

EVENT_COLUMNS = ("case_id", "seq", "kind", "def_version", "org", "trigger", "from_state",
                 "to_state", "actor", "at", "payload", "payload_digest", "prev_hash", "hash")

PROBLEMS: dict[str, Text] = {
    "payload_edited": Text("事件内容被改动（内容摘要不符）", "payload edited (digest mismatch)"),
    "event_edited": Text("事件头被改动（操作人、时间、状态等与哈希不符）",
                         "event header edited (actor, time or states do not match the hash)"),
    "reordered": Text("事件顺序被调换（本应在第 {other} 号）",
                      "events reordered (this event belongs at seq {other})"),
    "events_missing": Text("事件被删除（缺少第 {first}–{last} 号）",
                           "events deleted (seq {first}–{last} missing)"),
    "chain_broken": Text("哈希链断裂（与前一事件不相连）",
                         "hash chain broken (does not follow the previous event)"),
    "replay_failed": Text("重放失败：{reason}", "replay failed: {reason}"),
    "state_mismatch": Text("案件记录与重放结果不符：{what}",
                           "case row disagrees with replay: {what}"),
    "case_row_missing": Text("有事件但案件记录不存在", "events exist but the case row is missing"),
    "no_events": Text("案件记录没有任何事件", "case row has no events"),
    "case_deleted": Text("检查点记录的案件整体被删除（第 {seq} 号，检查点 {cp}）",
                         "whole case deleted (checkpoint {cp} lists it at seq {seq})"),
    "truncated": Text("案件尾部事件被截断（检查点 {cp} 记录到第 {seq} 号）",
                      "tail of the case cut off (checkpoint {cp} lists seq {seq})"),
    "head_rewritten": Text("检查点之前的历史被改写（检查点 {cp}）",
                           "history before checkpoint {cp} was rewritten"),
    "checkpoint_broken": Text("检查点链断裂或被伪造（检查点 {cp}）",
                              "checkpoint chain broken or forged (checkpoint {cp})"),
}


@dataclass(frozen=True)
class Problem:
    case_id: int | None
    seq: int | None
    code: str
    message: Text

    def describe(self, lang: str = "zh") -> str:
        where = []
        if self.case_id is not None:
            where.append(f"案件 {self.case_id}" if lang == "zh" else f"case {self.case_id}")
        if self.seq is not None:
            where.append(f"第 {self.seq} 号事件" if lang == "zh" else f"seq {self.seq}")
        return f"{' '.join(where) or '—'}: [{self.code}] {self.message.get(lang)}"

    def as_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "seq": self.seq, "code": self.code,
                "message": self.message.zh, "message_en": self.message.en}


def problem(case_id: int | None, seq: int | None, code: str, /,
            **values: Any) -> Problem:
    # Positional-only: a message may itself say {seq} (case_deleted, truncated).
    return Problem(case_id, seq, code, PROBLEMS[code].format(**values))


@dataclass
class Rebuilt:
    case_id: int
    kind: str
    def_version: int
    org: str
    code: str | None
    title: str
    state: str
    data: dict[str, Any]
    version: int
    seq: int
    head_hash: str


class ReplayError(Exception):
    def __init__(self, seq: int, reason: Text) -> None:
        super().__init__(f"seq {seq}: {reason}")
        self.seq = seq
        self.reason = reason


def replay(rows: Iterable[Mapping[str, Any]], registry: Registry) -> Rebuilt:
    """Rebuild state and data from events alone, with the recorded definition versions."""
    case: Rebuilt | None = None
    compiled = None
    for ev in rows:
        payload = json.loads(ev["payload"])
        if case is None:
            if ev["trigger"] != START or ev["seq"] != 1:
                raise ReplayError(ev["seq"], Text("第一个事件不是立案", "first event is not start"))
            compiled = registry.get(ev["kind"], ev["def_version"])
            data = start_data(compiled, payload, parse_iso(ev["at"]), ev["actor"])
            case = Rebuilt(ev["case_id"], ev["kind"], ev["def_version"], ev["org"],
                           payload.get("_code"), title_of(compiled, data),
                           compiled.process.initial, data, 1, 1, ev["hash"])
            continue
        if ev["from_state"] != case.state:
            raise ReplayError(ev["seq"], Text(f"起始状态应为 {case.state}",
                                              f"from-state should be {case.state}"))
        ctx = Ctx(case.data, payload, parse_iso(ev["at"]), ev["actor"], case.state)
        arrow, refusal = compiled.resolve(case.state, ev["trigger"], ctx)
        if arrow is None:
            raise ReplayError(ev["seq"], refusal or Text("该状态下没有此操作",
                                                         "no such action in this state"))
        to_state = arrow.dest or case.state
        if to_state != ev["to_state"]:
            raise ReplayError(ev["seq"], Text(f"目标状态应为 {to_state}",
                                              f"to-state should be {to_state}"))
        case.data = apply_effects(arrow.effects, ctx)
        case.state = to_state
        case.version += 0 if arrow.append_only else 1
        case.seq = ev["seq"]
        case.head_hash = ev["hash"]
    if case is None:
        raise ReplayError(0, Text("没有事件", "no events"))
    return case


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    cases: int = 0
    events: int = 0
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events,
                "checkpoints": self.checkpoints,
                "problems": [p.as_json() for p in self.problems]}


def _chain_intact(rows: list[Mapping[str, Any]]) -> bool:
    """One pass that only says whether a chain is whole: each event in its place, its
    digest and header hash right and linked to the one before. Most chains are, and
    for them the bookkeeping that names what is wrong is not needed."""
    prev, expected = GENESIS, 1
    for ev in rows:
        if ev["seq"] != expected or ev["prev_hash"] != prev:
            return False
        prev = ev["hash"]
        text = ev["payload"]
        if (event_hash(ev) != prev
                or (text is not None and payload_digest(text) != ev["payload_digest"])):
            return False
        expected += 1
    return True


def check_chain(case_id: int, rows: list[Mapping[str, Any]]) -> list[Problem]:
    """Hash chain of one case: digests, header hashes, sequence and links (AU2)."""
    if _chain_intact(rows):
        return []
    found: list[Problem] = []
    # The hash of the event whose header belongs at each seq, wherever it now stands, so
    # that a swap is named once as reordered and not again as a broken link after it.
    belongs: dict[int, str] = {}
    moves: list[int | None] = []
    for ev in rows:
        seq = ev["seq"]
        moved: int | None = seq
        if event_hash(ev) != ev["hash"]:
            moved = next((other["seq"] for other in rows if other["seq"] != seq
                          and event_hash({**ev, "seq": other["seq"]}) == ev["hash"]), None)
        if moved is not None:
            belongs.setdefault(moved, ev["hash"])
        moves.append(moved)
    prev, expected = GENESIS, 1
    for ev, moved in zip(rows, moves, strict=True):
        seq = ev["seq"]
        if ev["payload"] is not None and payload_digest(ev["payload"]) != ev["payload_digest"]:
            found.append(problem(case_id, seq, "payload_edited"))
        if moved != seq:
            found.append(problem(case_id, seq, "reordered", other=moved) if moved
                         else problem(case_id, seq, "event_edited"))
        elif seq > expected:
            found.append(problem(case_id, expected, "events_missing", first=expected,
                                 last=seq - 1))
        elif ev["prev_hash"] != belongs.get(seq - 1, prev):
            found.append(problem(case_id, seq, "chain_broken"))
        prev, expected = ev["hash"], seq + 1
    return found


class Verifier:
    """Feed it cases' events (grouped, in seq order), case rows and checkpoints."""

    def __init__(self, registry: Registry | None, replay_cases: bool = True) -> None:
        self.registry = registry
        self.replay_cases = replay_cases and registry is not None
        self.report = Report()
        self.needed: dict[tuple[int, int], tuple[str, int]] = {}
        self.tails: dict[int, int] = {}

    def checkpoints(self, rows: Iterable[Mapping[str, Any]]) -> None:
        prev = GENESIS
        for cp in rows:
            self.report.checkpoints += 1
            digest = sha256_hex(cp["heads"].encode("utf-8"))
            if (digest != cp["heads_digest"] or cp["prev_hash"] != prev
                    or checkpoint_hash(cp["seq"], cp["at"], digest, prev) != cp["hash"]):
                self.report.problems.append(problem(None, None, "checkpoint_broken",
                                                    cp=cp["seq"]))
            prev = cp["hash"]
            for _org, case_id, seq, head in json.loads(cp["heads"]):
                self.needed[(case_id, seq)] = (head, cp["seq"])

    def case(self, case_id: int, rows: list[Mapping[str, Any]],
             stored: Mapping[str, Any] | None) -> None:
        self.report.cases += 1
        self.report.events += len(rows)
        self.tails[case_id] = rows[-1]["seq"] if rows else 0
        for ev in rows if self.needed else ():
            want = self.needed.pop((case_id, ev["seq"]), None)
            if want and want[0] != ev["hash"]:
                self.report.problems.append(problem(case_id, ev["seq"], "head_rewritten",
                                                    cp=want[1]))
        chain = check_chain(case_id, rows)
        self.report.problems.extend(chain)
        if stored is None:
            if rows:
                self.report.problems.append(problem(case_id, None, "case_row_missing"))
            return
        if not rows:
            self.report.problems.append(problem(case_id, None, "no_events"))
            return
        if self.replay_cases and rows[0]["payload"] is not None and not chain:
            self._compare(case_id, rows, stored)

    def _compare(self, case_id: int, rows: list[Mapping[str, Any]],
                 stored: Mapping[str, Any]) -> None:
        try:
            rebuilt = replay(rows, self.registry)
        except ReplayError as exc:
            self.report.problems.append(problem(case_id, exc.seq, "replay_failed",
                                                reason=exc.reason.zh))
            return
        except KeyError as exc:
            self.report.problems.append(problem(case_id, None, "replay_failed",
                                                reason=f"未知流程或版本 {exc}"))
            return
        diffs = [name for name, want in (
            ("state", rebuilt.state), ("version", rebuilt.version), ("seq", rebuilt.seq),
            ("head_hash", rebuilt.head_hash), ("data", rebuilt.data),
        ) if stored[name] != want]
        if diffs:
            self.report.problems.append(problem(case_id, rebuilt.seq, "state_mismatch",
                                                what=", ".join(diffs)))

    def finish(self) -> Report:
        for (case_id, seq), (_head, cp) in sorted(self.needed.items()):
            code = "truncated" if self.tails.get(case_id) else "case_deleted"
            self.report.problems.append(problem(case_id, seq, code, seq=seq, cp=cp))
        self.needed.clear()
        return self.report


def _grouped(rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[int, list]]:
    current, bucket = None, []
    for row in rows:
        if row["case_id"] != current:
            if bucket:
                yield current, bucket
            current, bucket = row["case_id"], []
        bucket.append(row)
    if bucket:
        yield current, bucket


def verify(db: Database, registry: Registry, replay_cases: bool = True) -> Report:
    """Check every chain, checkpoint and projection in the database."""
    verifier = Verifier(registry, replay_cases)
    with db.read() as conn:
        verifier.checkpoints(r._mapping for r in conn.execute(
            sa.select(checkpoints).order_by(checkpoints.c.seq)))
        stored = {r.id: {"state": r.state, "version": r.version, "seq": r.seq,
                         "head_hash": r.head_hash, "data": json.loads(r.data)}
                  for r in conn.execute(sa.select(cases.c.id, cases.c.state, cases.c.version,
                                                  cases.c.seq, cases.c.head_hash,
                                                  cases.c.data))}
        stream = conn.execution_options(yield_per=5000).execute(
            sa.select(*[events.c[name] for name in EVENT_COLUMNS])
            .order_by(events.c.case_id, events.c.seq))
        for case_id, rows in _grouped(r._mapping for r in stream):
            verifier.case(case_id, rows, stored.pop(case_id, None))
    for case_id, row in stored.items():
        verifier.case(case_id, [], row)
    return verifier.finish()


def case_events(db: Database, case_id: int) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(*[events.c[name] for name in EVENT_COLUMNS])
            .where(events.c.case_id == case_id).order_by(events.c.seq))]


def write_checkpoint(db: Database, now=None) -> dict[str, Any]:
    """Hash every case head and chain it to the previous checkpoint (AU2)."""
    at = iso_utc(now or utcnow())
    with db.write() as conn:
        heads = [[r.code, r.id, r.seq, r.head_hash] for r in conn.execute(
            sa.select(orgs.c.code, cases.c.id, cases.c.seq, cases.c.head_hash)
            .join(orgs, orgs.c.id == cases.c.org_id).where(cases.c.seq > 0)
            .order_by(cases.c.id))]
        last = conn.execute(sa.select(checkpoints.c.seq, checkpoints.c.hash)
                            .order_by(checkpoints.c.seq.desc()).limit(1)).first()
        seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
        text = canonical(heads).decode("utf-8")
        digest = sha256_hex(text.encode("utf-8"))
        row = {"seq": seq, "at": at, "heads": text, "heads_digest": digest, "prev_hash": prev,
               "hash": checkpoint_hash(seq, at, digest, prev)}
        conn.execute(sa.insert(checkpoints).values(**row))
    return row
