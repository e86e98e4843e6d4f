"""Replay, verify and checkpoints (AU1, AU2).

``replay`` rebuilds a case from its events alone, running the recorded definition
version's guards and effects again with no side effects. ``Verifier`` checks each
case's hash chain, the payload digests, the checkpoints' chain and heads, and that
replay agrees with the stored case row; the same verifier reads a database or an
exported bundle.

Checkpoints are per organisation (AU3): each lists the organisation's own case heads and
its ledger head, chains to that organisation's previous checkpoint, is signed with its key
(``workflow.audit.signing``) and has a copy filed with the upper level, countersigned with the
upper level's key. ``Verifier.checkpoints`` checks signatures against the keys published
on the ledger streams, and the copies against the originals: a chain that is whole but
disagrees with its witness was rewritten.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import operator
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from workflow.base.canonical import (
    GENESIS,
    HEADER_KEYS,
    canonical,
    checkpoint_hash,
    event_hash,
    header_hash_of,
    parse_text,
    payload_digest,
    sha256_hex,
)
from workflow.base.text import Text
from workflow.base.timeutil import iso_utc, parse_iso, utcnow
from workflow.core.attachments import records_in
from workflow.core.declare import Ctx
from workflow.core.engine import (
    ASSIGN,
    READINGS,
    START,
    apply_effects,
    start_data,
    title_of,
)
from workflow.core.registry import Registry, refusal_text
from workflow.store.db import Database
from workflow.store.files import FileStore, sha256_of
from workflow.store.models import cases, checkpoints, copies, events, orgs

log = logging.getLogger("gongkai.audit")

EVENT_COLUMNS = ("case_id", "seq", "kind", "def_version", "org", "trigger", "from_state",
                 "to_state", "actor", "at", "payload", "payload_digest", "prev_hash", "hash")
#: an event as verify and replay hold it: a tuple of these columns, the header's values
#: first in canonical key order (``header_text_of`` takes them as they stand), so that
#: the rows the database gives need no dict (issue 21)
ROW_COLUMNS = (*HEADER_KEYS, "payload", "hash")
_HEADER_END = len(HEADER_KEYS)
_CASE_ID, _SEQ, _DIGEST, _PREV = (ROW_COLUMNS.index(name) for name in
                                  ("case_id", "seq", "payload_digest", "prev_hash"))
_PAYLOAD, _HASH = _HEADER_END, _HEADER_END + 1
#: an event dict as a row
row_of = operator.itemgetter(*ROW_COLUMNS)

PROBLEMS: dict[str, Text] = {
    "file_list_mismatch": Text("审计包的附件清单与事件记录的附件不符",
                               "the bundle's attachment list disagrees with the files the "
                               "event records"),
    "file_missing": Text("事件记录的附件文件不见了（{name}，SHA-256 {sha256}）",
                         "a file the event records is missing ({name}, SHA-256 {sha256})"),
    "file_altered": Text("附件文件的内容与事件记录的摘要不符（{name}）",
                         "a file's bytes no longer match the digest its event records ({name})"),
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
    "signature_invalid": Text("检查点 {cp} 的签名无效：{reason}",
                              "checkpoint {cp} signature invalid: {reason}"),
    "checkpoint_unsigned": Text("检查点 {cp} 未签名，而 {org} 当时已公布签名密钥",
                                "checkpoint {cp} is unsigned although {org} had published a "
                                "signing key"),
    "witness_mismatch": Text("上级 {holder} 留存的副本与检查点 {cp} 不符：检查点被改写",
                             "the copy filed with {holder} disagrees with checkpoint {cp}: "
                             "the checkpoints were rewritten"),
    "witness_invalid": Text("上级 {holder} 对检查点 {cp} 副本的见证签名无效或缺失",
                            "the witness signature of {holder} on the copy of checkpoint "
                            "{cp} is invalid or missing"),
    "witness_missing": Text("检查点 {cp} 在上级 {holder} 处没有副本",
                            "checkpoint {cp} has no copy filed with {holder}"),
    "checkpoint_deleted": Text("检查点 {cp} 被删除（上级 {holder} 留存有副本）",
                               "checkpoint {cp} was deleted (the copy filed with {holder} "
                               "remains)"),
    "ledger_invalid": Text("组织台账事件不合规则：{reason}",
                           "ledger event breaks the rules: {reason}"),
    "ledger_truncated": Text("组织台账被截断或删除（检查点 {cp} 记录到第 {seq} 号）",
                             "ledger cut off or deleted (checkpoint {cp} lists seq {seq})"),
}


@dataclass(frozen=True)
class Problem:
    case_id: int | None
    seq: int | None
    code: str
    message: Text
    org: str | None = None  # set for checkpoint and ledger problems

    def describe(self, lang: str = "zh") -> str:
        where = []
        if self.org is not None and self.case_id is None:
            where.append(f"组织 {self.org}" if lang == "zh" else f"org {self.org}")
        if self.case_id is not None:
            where.append(f"案件 {self.case_id}" if lang == "zh" else f"case {self.case_id}")
        if self.seq is not None:
            where.append(f"第 {self.seq} 号事件" if lang == "zh" else f"seq {self.seq}")
        return f"{' '.join(where) or '—'}: [{self.code}] {self.message.get(lang)}"

    def as_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "seq": self.seq, "code": self.code,
                "message": self.message.zh, "message_en": self.message.en, "org": self.org}


def problem(case_id: int | None, seq: int | None, code: str, /,
            **values: Any) -> Problem:
    # Positional-only: a message may itself say {seq} (case_deleted, truncated).
    return Problem(case_id, seq, code, PROBLEMS[code].format(**values))


def org_problem(org: str | None, seq: int | None, code: str, /, **values: Any) -> Problem:
    """A problem of an organisation's checkpoints or ledger stream (no case)."""
    return Problem(None, seq, code, PROBLEMS[code].format(org=org, **values), org)


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
    assignee: str | None = None


class ReplayError(Exception):
    def __init__(self, seq: int, reason: Text) -> None:
        super().__init__(f"seq {seq}: {reason}")
        self.seq = seq
        self.reason = reason


def replay(rows: Iterable[Mapping[str, Any]], registry: Registry) -> Rebuilt:
    """Rebuild state and data from events alone, with the recorded definition versions."""
    return replay_rows(map(row_of, rows), registry)


def replay_rows(rows: Iterable[Sequence[Any]], registry: Registry) -> Rebuilt:
    """``replay`` over rows (``ROW_COLUMNS`` tuples), as verify reads them. A step whose
    way no guard or route decides (``Compiled.sure_steps``) is followed without
    ``resolve``, and a payload is parsed only where a guard, route or effect sees it (or
    an assignment names the assignee)."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        raise ReplayError(0, Text("没有事件", "no events"))
    actor, at, case_id, def_version, _, kind, org, _, _, seq, _, trigger, text, head = first
    payload = parse_text(text)
    if trigger != START or seq != 1:
        raise ReplayError(seq, Text("第一个事件不是立案", "first event is not start"))
    compiled = registry.get(kind, def_version)
    sure = compiled.sure_steps
    data = start_data(compiled, payload, parse_iso(at), actor)
    case = Rebuilt(case_id, kind, def_version, org, payload.get("_code"),
                   title_of(compiled, data), compiled.process.initial, data, 1, 1, head)
    state, version, assignee, row = case.state, 1, None, first
    for row in it:
        actor, at, _, _, from_state, _, _, _, _, seq, to_state, trigger, text, _ = row
        if from_state != state:
            raise ReplayError(seq, Text(f"起始状态应为 {state}", f"from-state should be {state}"))
        if trigger == ASSIGN or trigger in READINGS:
            if to_state != state:
                raise ReplayError(seq, Text("分派和查阅不改变状态",
                                            "assigning and reading keep the state"))
            if trigger == ASSIGN:
                assignee = parse_text(text).get("assignee")
            continue
        arrow = sure.get((state, trigger))
        if arrow is None:
            ctx = Ctx.of(data, parse_text(text), parse_iso(at), actor, state)
            arrow, refusal = compiled.resolve(state, trigger, ctx)
            if arrow is None:
                raise ReplayError(seq, refusal_text(refusal) if refusal else Text(
                    "该状态下没有此操作", "no such action in this state"))
        elif arrow.effects:
            ctx = Ctx.of(data, parse_text(text), parse_iso(at), actor, state)
        target = arrow.dest or state
        if target != to_state:
            raise ReplayError(seq, Text(f"目标状态应为 {target}", f"to-state should be {target}"))
        if arrow.effects:
            data = apply_effects(arrow.effects, ctx)
        state = target
        if not arrow.append_only:
            version += 1
    case.state, case.data, case.version, case.assignee = state, data, version, assignee
    case.seq, case.head_hash = row[_SEQ], row[_HASH]
    return case


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    cases: int = 0
    events: int = 0
    checkpoints: int = 0
    ledger_events: int = 0
    signed: int = 0  # checkpoints whose signature verified
    case_ids: list[int] = field(default_factory=list)  # filled when asked (``collect``)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def unsigned(self) -> int:
        """Checkpoints without a valid signature: a chain can be intact and still rewritten
        whole by whoever holds the database, so these are never reported as intact."""
        return self.checkpoints - self.signed

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events,
                "checkpoints": self.checkpoints, "ledger_events": self.ledger_events,
                "signed": self.signed,
                "problems": [p.as_json() for p in self.problems]}


def rows_intact(rows: Sequence[Sequence[Any]]) -> bool:
    """One pass that only says whether a chain (``ROW_COLUMNS`` rows) is whole: each
    event in its place, its digest and header hash right and linked to the one before.
    Most chains are, and for them the bookkeeping that names what is wrong is not
    needed."""
    prev, expected = GENESIS, 1
    for row in rows:
        if row[_SEQ] != expected or row[_PREV] != prev:
            return False
        prev = row[_HASH]
        text = row[_PAYLOAD]
        if (header_hash_of(row[:_HEADER_END]) != prev
                or (text is not None and payload_digest(text) != row[_DIGEST])):
            return False
        expected += 1
    return True


def check_chain(case_id: int, rows: list[Mapping[str, Any]]) -> list[Problem]:
    """Hash chain of one case: digests, header hashes, sequence and links (AU2)."""
    if rows_intact([row_of(ev) for ev in rows]):
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
    """Feed it, in this order: the organisation tree (``tree``, optional), each
    organisation's ledger stream (``ledger``), the checkpoints with the upper levels'
    copies (``checkpoints``), then cases' events (grouped, in seq order) with the case
    rows (``case``); ``finish`` gives the report."""

    def __init__(self, registry: Registry | None, replay_cases: bool = True,
                 collect: bool = False) -> None:
        self.registry = registry
        self.replay_cases = replay_cases and registry is not None
        self.collect = collect
        self.report = Report()
        self.needed: dict[tuple[int, int], tuple[str, int]] = {}
        self.tails: dict[int, int] = {}
        self.parents: dict[str, str | None] | None = None
        self.keys: dict[str, dict[str, Any]] = {}  # from verified ledger streams
        self.claimed: dict[str, dict[str, Any]] = {}  # keys of organisations not replayed here
        self.ledger_needed: dict[tuple[str, int], tuple[str, int]] = {}
        self.ledger_hashes: dict[tuple[str, int], str] = {}
        # A partial bundle (``--since``) starts each organisation's chain at a base
        # checkpoint (``bases``, by seq); a case left out of it must stand in every
        # checkpoint as it stood in the base.
        self.bases: set[int] = set()
        self.base: dict[int, tuple[int, str]] = {}

    def tree(self, parents: Mapping[str, str | None]) -> None:
        """Organisation code -> its upper level's code: who must hold a witness copy."""
        self.parents = dict(parents)

    def claim_keys(self, keys: Mapping[str, Mapping[str, Any]]) -> None:
        """Keys of organisations whose ledger is not replayed here (an upper level outside
        a bundle's scope): trusted as given, to check witness signatures."""
        for org, found in keys.items():
            self.claimed.setdefault(org, {}).update(found)

    def ledger(self, org: str, rows: list[Mapping[str, Any]]) -> None:
        """One organisation's ledger stream: its chain, the kind's rules, its keys."""
        from workflow.audit.signing import read_ledger

        self.report.ledger_events += len(rows)
        for ev in rows:
            self.ledger_hashes[(org, ev["seq"])] = ev["hash"]
        self.report.problems.extend(replace(p, org=org) for p in check_chain(None, rows))
        keys, wrong = read_ledger(org, rows)
        for seq, reason in wrong:
            self.report.problems.append(org_problem(org, seq, "ledger_invalid",
                                                    reason=reason.zh))
        self.keys[org] = keys

    def _keys_of(self, org: str) -> Mapping[str, Any]:
        return self.keys.get(org) or self.claimed.get(org) or {}

    def checkpoints(self, rows: Iterable[Mapping[str, Any]],
                    copies: Iterable[Mapping[str, Any]] = ()) -> None:
        """The checkpoints in seq order, and the upper levels' copies of them."""
        prev: dict[str | None, str] = {}
        broken: set[str | None] = set()
        originals: dict[int, Mapping[str, Any]] = {}
        for cp in rows:
            self.report.checkpoints += 1
            org = cp.get("org")
            first = org not in prev
            digest = sha256_hex(cp["heads"].encode("utf-8"))
            try:
                heads = json.loads(cp["heads"])
            except ValueError:
                heads = None
            is_base = first and cp["seq"] in self.bases
            linked = cp["prev_hash"] == prev.get(org, GENESIS) or is_base
            if (digest != cp["heads_digest"] or not linked or heads is None
                    or checkpoint_hash(cp["seq"], cp["at"], digest, cp["prev_hash"]) != cp["hash"]
                    or (org is not None and any(h[0] != org for h in heads))):
                self.report.problems.append(org_problem(org, None, "checkpoint_broken",
                                                        cp=cp["seq"]))
                broken.add(org)
            prev[org] = cp["hash"]
            self._heads(cp["seq"], heads or (), base=is_base)
            if org is not None:
                self._signature(cp)
                originals[cp["seq"]] = cp
        self._witnesses(originals, copies, broken)

    def _heads(self, cp_seq: int, heads: Iterable[list], base: bool = False) -> None:
        for _org, case_id, seq, head in heads:
            if case_id is None:
                self.ledger_needed[(_org, seq)] = (head, cp_seq)
                continue
            self.needed[(case_id, seq)] = (head, cp_seq)
            if base:
                self.base[case_id] = (seq, head)

    def _signature(self, cp: Mapping[str, Any]) -> None:
        from workflow.audit.signing import active_key, checkpoint_statement, verify_signature

        org, at, key_id = cp["org"], cp["at"], cp.get("key_id")
        keys = self._keys_of(org)
        if key_id or cp.get("signature"):
            key = keys.get(key_id)
            if key is None:
                reason = f"未公布的密钥 {key_id}"
            elif not key.active_at(at):
                reason = f"密钥 {key_id} 当时不在用"
            elif not verify_signature(key.public_key, cp.get("signature"),
                                      checkpoint_statement(org, cp["seq"], cp["hash"])):
                reason = "签名与检查点内容不符"
            else:
                self.report.signed += 1
                return
            self.report.problems.append(org_problem(org, None, "signature_invalid",
                                                    cp=cp["seq"], reason=reason))
        elif active_key(keys, at) is not None:
            self.report.problems.append(org_problem(org, None, "checkpoint_unsigned",
                                                    cp=cp["seq"]))

    def _witnesses(self, originals: Mapping[int, Mapping[str, Any]],
                   copies: Iterable[Mapping[str, Any]], broken: set[str | None]) -> None:
        """Each original against the copies filed with its upper level (AU3). A chain
        already broken is not compared again (one finding per cause); a whole chain that
        disagrees with its witness was rewritten. A copy without its original names the
        deleted checkpoint, and its heads are still required of the cases."""
        from workflow.audit.signing import active_key, verify_signature, witness_statement

        held: dict[int, list[Mapping[str, Any]]] = {}
        for copy in copies:
            held.setdefault(copy["seq"], []).append(copy)
        for seq, cp in originals.items():
            org = cp["org"]
            found = held.pop(seq, [])
            if org in broken:
                continue
            parent = self.parents.get(org) if self.parents is not None else None
            for copy in found:
                holder = copy["holder"]
                if any(copy.get(f) != cp.get(f) for f in WITNESSED):
                    self.report.problems.append(org_problem(
                        org, None, "witness_mismatch", cp=seq, holder=holder))
                    continue
                keys = self._keys_of(holder)
                witness_key = keys.get(copy.get("witness_key_id"))
                if copy.get("witness_signature") or copy.get("witness_key_id"):
                    good = (witness_key is not None and witness_key.active_at(cp["at"])
                            and verify_signature(witness_key.public_key,
                                                 copy.get("witness_signature"),
                                                 witness_statement(org, seq, cp["hash"], holder)))
                else:
                    good = active_key(keys, cp["at"]) is None
                if not good:
                    self.report.problems.append(org_problem(
                        org, None, "witness_invalid", cp=seq, holder=holder))
            if parent is not None and not any(c["holder"] == parent for c in found):
                self.report.problems.append(org_problem(
                    org, None, "witness_missing", cp=seq, holder=parent))
        for seq, found in sorted(held.items()):
            for copy in found:
                self.report.problems.append(org_problem(
                    copy["org"], None, "checkpoint_deleted", cp=seq, holder=copy["holder"]))
                text = copy.get("heads")
                if text is not None and sha256_hex(text.encode("utf-8")) == copy["heads_digest"]:
                    self._heads(seq, json.loads(text))

    def case(self, case_id: int, rows: list[Mapping[str, Any]],
             stored: Mapping[str, Any] | None) -> None:
        self.report.cases += 1
        self.report.events += len(rows)
        if self.needed:  # only a checkpointed head still owed asks where a chain ends
            self.tails[case_id] = rows[-1]["seq"] if rows else 0
        if self.collect:
            self.report.case_ids.append(case_id)
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

    def case_rows(self, case_id: int, rows: list[Sequence[Any]],
                  stored: Mapping[str, Any] | None) -> None:
        """``case`` for events as verify reads them (``ROW_COLUMNS`` rows): a case whose
        chain is whole, whose checkpointed heads are its own and whose replay agrees with
        its row is counted here in one pass without dicts; any other goes through
        ``case``, which names what is wrong."""
        needed = self.needed
        if (stored is None or not rows or not rows_intact(rows)
                or (needed and any(needed.get((case_id, row[_SEQ]), (row[_HASH],))[0]
                                   != row[_HASH] for row in rows))
                or not self._agrees(rows, stored)):
            self.case(case_id, [dict(zip(ROW_COLUMNS, row, strict=True)) for row in rows],
                      stored)
            return
        report = self.report
        report.cases += 1
        report.events += len(rows)
        if needed:
            self.tails[case_id] = rows[-1][_SEQ]
            for row in rows:
                needed.pop((case_id, row[_SEQ]), None)
        if self.collect:
            report.case_ids.append(case_id)

    def _agrees(self, rows: list[Sequence[Any]], stored: Mapping[str, Any]) -> bool:
        """Does replay (when asked for, and possible) rebuild the stored row?"""
        if not self.replay_cases or rows[0][_PAYLOAD] is None:
            return True
        try:
            rebuilt = replay_rows(rows, self.registry)
        except (ReplayError, KeyError):
            return False
        return not _diffs(rebuilt, stored)

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
        diffs = _diffs(rebuilt, stored)
        if diffs:
            self.report.problems.append(problem(case_id, rebuilt.seq, "state_mismatch",
                                                what=", ".join(diffs)))

    def finish(self) -> Report:
        for (case_id, seq), (head, cp) in sorted(self.needed.items()):
            if case_id not in self.tails and self.base.get(case_id) == (seq, head):
                continue  # left out of a --since bundle: unchanged since its base
            code = "truncated" if self.tails.get(case_id) else "case_deleted"
            self.report.problems.append(problem(case_id, seq, code, seq=seq, cp=cp))
        self.needed.clear()
        for (org, seq), (head, cp) in sorted(self.ledger_needed.items()):
            have = self.ledger_hashes.get((org, seq))
            if have is None:
                self.report.problems.append(org_problem(org, seq, "ledger_truncated",
                                                        seq=seq, cp=cp))
            elif have != head:
                self.report.problems.append(org_problem(org, seq, "head_rewritten", cp=cp))
        self.ledger_needed.clear()
        return self.report


def _diffs(rebuilt: Rebuilt, stored: Mapping[str, Any]) -> list[str]:
    """What the stored case row holds otherwise than replay rebuilt."""
    return [name for name, want in (
        ("state", rebuilt.state), ("version", rebuilt.version), ("seq", rebuilt.seq),
        ("head_hash", rebuilt.head_hash), ("data", rebuilt.data),
        ("assignee", rebuilt.assignee),
    ) if name in stored and stored[name] != want]


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


#: the fields a witness copy must share with the checkpoint it copies
WITNESSED = ("org", "at", "heads_digest", "prev_hash", "hash", "key_id", "signature")


def org_tree(conn) -> dict[str, str | None]:
    parent = orgs.alias("parent")
    return {r.code: r.parent for r in conn.execute(
        sa.select(orgs.c.code, parent.c.code.label("parent"))
        .outerjoin(parent, parent.c.id == orgs.c.parent_id))}


def _org_ids(conn, codes: Collection[str]) -> list[int]:
    return [r.id for r in conn.execute(sa.select(orgs.c.id).where(orgs.c.code.in_(codes)))]


def _feed_orgs(verifier: Verifier, conn, scope: Collection[str] | None) -> None:
    """The tree, the ledger streams and the checkpoints with their copies (in scope)."""
    from workflow.audit.signing import keys_by_org, ledger_rows

    verifier.tree(org_tree(conn))
    streams = ledger_rows(conn)
    for org, rows in streams.items():
        if scope is None or org in scope:
            verifier.ledger(org, rows)
    if scope is not None:
        verifier.claim_keys({org: keys for org, keys in keys_by_org(conn).items()
                             if org not in scope})
    cp_query = sa.select(checkpoints).order_by(checkpoints.c.seq)
    copy_query = sa.select(*[c for c in copies.c if c.name not in ("id", "heads")])
    if scope is not None:
        cp_query = cp_query.where(checkpoints.c.org.in_(scope))
        copy_query = copy_query.where(copies.c.org.in_(scope))
    held = [dict(r._mapping) for r in conn.execute(copy_query)]
    if held:
        have = set(conn.execute(sa.select(checkpoints.c.seq)).scalars())
        orphans = [c for c in held if c["seq"] not in have]
        for copy in orphans:  # a deleted checkpoint: its copy's heads are still owed
            copy["heads"] = conn.execute(sa.select(copies.c.heads).where(
                copies.c.holder == copy["holder"], copies.c.seq == copy["seq"])).scalar()
    verifier.checkpoints((r._mapping for r in conn.execute(cp_query)), held)


#: below this many events a verify runs in one process (forking costs more than it saves)
PARALLEL_MIN_EVENTS = 50_000


def verify(db: Database, registry: Registry, replay_cases: bool = True,
           scope: Collection[str] | None = None, collect: bool = False,
           jobs: int = 1, files: FileStore | None = None) -> Report:
    """Check every chain, checkpoint, signature, witness copy and projection in the
    database; ``scope`` (organisation codes) limits it to those organisations' cases,
    ledgers and checkpoints; ``collect`` lists the cases checked in the report.

    ``jobs`` > 1 verifies ranges of case ids in that many forked processes (each
    chain is checked and replayed on its own, so the work divides by case); each
    range is read in its own snapshot, taken after the checkpoints were read, which
    is sound because events are only ever appended (a head a checkpoint names is
    still there later).

    With ``files``, every attachment an event records is read back from the store and
    its digest compared, so a file changed or deleted on disk is named with its case and
    event."""
    verifier = Verifier(registry, replay_cases, collect=collect)
    codes = None if scope is None else set(scope)
    with db.read() as conn:
        _feed_orgs(verifier, conn, codes)
        ids = None if codes is None else _org_ids(conn, codes)
        ranges = _ranges(conn, jobs) if jobs > 1 and _can_fork(db) else []
        if not ranges:
            _feed_cases(verifier, conn, codes, ids)
        problems = [] if files is None else file_problems(conn, files, codes)
    if ranges:
        _verify_in_workers(verifier, db, registry, codes, ids, ranges)
    report = verifier.finish()
    report.problems.extend(problems)
    return report


def file_problems(conn, files: FileStore, codes: set[str] | None = None) -> list[Problem]:
    """Each attachment record in the events checked against the bytes in the store."""
    query = (sa.select(events.c.case_id, events.c.seq, events.c.payload)
             .where(events.c.payload.like('%"sha256"%'))
             .order_by(events.c.case_id, events.c.seq))
    if codes is not None:
        query = query.where(events.c.org.in_(codes))
    state: dict[str, str] = {}
    found = []
    for row in conn.execute(query):
        for rec in records_in(json.loads(row.payload)):
            digest = rec["sha256"]
            if digest not in state:
                data = files.get(digest) if isinstance(digest, str) and len(digest) == 64 \
                    else None
                state[digest] = ("missing" if data is None else
                                 "ok" if sha256_of(data) == digest else "altered")
            if state[digest] != "ok":
                found.append(problem(row.case_id, row.seq, f"file_{state[digest]}",
                                     name=rec["name"], sha256=digest))
    return found


def _feed_cases(verifier: Verifier, conn, codes: set[str] | None, ids: list[int] | None,
                lo: int | None = None, hi: int | None = None) -> None:
    """Cases (in scope, with ids in [lo, hi)) and their events, case by case."""
    case_query = sa.select(cases.c.id, cases.c.state, cases.c.version, cases.c.seq,
                           cases.c.head_hash, cases.c.data, cases.c.assignee)
    event_query = sa.select(*[events.c[name] for name in ROW_COLUMNS])
    if codes is not None:
        case_query = case_query.where(cases.c.org_id.in_(ids))
        event_query = event_query.where(sa.or_(
            events.c.org.in_(sorted(codes)),
            events.c.case_id.in_(sa.select(cases.c.id).where(cases.c.org_id.in_(ids)))))
    if lo is not None:
        case_query = case_query.where(cases.c.id >= lo)
        event_query = event_query.where(events.c.case_id >= lo)
    if hi is not None:
        case_query = case_query.where(cases.c.id < hi)
        event_query = event_query.where(events.c.case_id < hi)
    without_events = []  # case rows no event names: reported after the others
    with (_streamed(conn, case_query.order_by(cases.c.id)) as case_rows,
          _streamed(conn, event_query.order_by(events.c.case_id, events.c.seq)) as event_rows):
        waiting = next(case_rows, None)
        for case_id, rows in itertools.groupby(event_rows, operator.itemgetter(_CASE_ID)):
            while waiting is not None and waiting[0] < case_id:
                without_events.append(waiting)
                waiting = next(case_rows, None)
            stored = None
            if waiting is not None and waiting[0] == case_id:
                stored, waiting = _stored(waiting), next(case_rows, None)
            verifier.case_rows(case_id, list(rows), stored)
        if waiting is not None:
            without_events.append(waiting)
        without_events.extend(case_rows)
    for row in without_events:
        verifier.case(row[0], [], _stored(row))


def _stored(row: Any) -> dict[str, Any]:
    """A case row (id, state, version, seq, head_hash, data, assignee) as replay's rival."""
    return {"state": row[1], "version": row[2], "seq": row[3], "head_hash": row[4],
            "data": parse_text(row[5]), "assignee": row[6]}


#: rows fetched at a time while streaming events and case rows from PostgreSQL
STREAM_BATCH = 5000


@contextlib.contextmanager
def _streamed(conn, query) -> Iterator[Iterator[Any]]:
    """A query's rows, streamed in order without holding them all (verify's memory stays
    flat however many events there are). On SQLite the driver's own cursor, iterated as
    it is: SQLAlchemy's row objects, or a generator handing the rows on, would cost as
    much as checking a chain link."""
    if conn.dialect.name != "sqlite":
        result = conn.execution_options(yield_per=STREAM_BATCH).execute(query)
        try:
            yield iter(result)
        finally:
            result.close()
        return
    compiled = query.compile(dialect=conn.dialect,
                             compile_kwargs={"render_postcompile": True})
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(compiled.string, params)
        yield cursor
    finally:
        cursor.close()


def _can_fork(db: Database) -> bool:
    import multiprocessing

    memory = db.is_sqlite and db.engine.url.database in (None, "", ":memory:")
    return not memory and "fork" in multiprocessing.get_all_start_methods()


def _ranges(conn, jobs: int) -> list[tuple[int | None, int | None]]:
    """Case-id ranges holding about equal numbers of events; [] when too few to split."""
    total = conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() or 0
    if total < PARALLEL_MIN_EVENTS:
        return []
    bounds: list[int] = []
    for k in range(1, jobs):
        bound = conn.execute(sa.select(events.c.case_id)
                             .order_by(events.c.case_id, events.c.seq)
                             .offset(total * k // jobs).limit(1)).scalar()
        if bound is not None and (not bounds or bound > bounds[-1]):
            bounds.append(bound)
    edges: list[int | None] = [None, *bounds, None]
    return list(zip(edges[:-1], edges[1:], strict=True))


#: what a forked worker inherits from the parent (set just before the fork)
_FORKED: tuple[Any, ...] = ()


def _verify_range(task: tuple[int | None, int | None, dict, bool]) -> tuple[Any, ...]:
    lo, hi, needed, collect = task
    db, registry, replay_cases, codes, ids = _FORKED
    db.forget_connections()
    verifier = Verifier(registry, replay_cases, collect=collect)
    verifier.needed = needed
    with db.read() as conn:
        _feed_cases(verifier, conn, codes, ids, lo, hi)
    report = verifier.report
    return (report.problems, report.cases, report.events, report.case_ids, verifier.needed,
            verifier.tails)


def _verify_in_workers(verifier: Verifier, db: Database, registry: Registry,
                       codes: set[str] | None, ids: list[int] | None,
                       ranges: list[tuple[int | None, int | None]]) -> None:
    """Each range in a forked process; their findings merged in case order."""
    import multiprocessing

    global _FORKED

    def within(case_id: int, lo: int | None, hi: int | None) -> bool:
        return (lo is None or case_id >= lo) and (hi is None or case_id < hi)

    tasks = [(lo, hi, {key: want for key, want in verifier.needed.items()
                       if within(key[0], lo, hi)}, verifier.collect) for lo, hi in ranges]
    _FORKED = (db, registry, verifier.replay_cases, codes, ids)
    try:
        with multiprocessing.get_context("fork").Pool(len(tasks)) as pool:
            parts = pool.map(_verify_range, tasks, chunksize=1)
    finally:
        _FORKED = ()
    report = verifier.report
    verifier.needed = {}
    for problems, n_cases, n_events, case_ids, left, tails in parts:
        report.problems.extend(problems)
        report.cases += n_cases
        report.events += n_events
        report.case_ids.extend(case_ids)
        verifier.needed.update(left)
        verifier.tails.update(tails)


def case_events(db: Database, case_id: int) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(*[events.c[name] for name in EVENT_COLUMNS])
            .where(events.c.case_id == case_id).order_by(events.c.seq))]


def write_checkpoint(db: Database, now=None, key_dir=None,
                     only_changed: bool = False) -> list[dict[str, Any]]:
    """One checkpoint per organisation with a case or a ledger event (AU2, AU3).

    Each lists the organisation's case heads (by case id) and then its ledger head,
    chains to that organisation's previous checkpoint, takes the next global ``seq``
    (organisations in code order) and is signed with the organisation's current key
    when its private half is in the key directory. A copy is filed with the upper
    level in the same transaction, countersigned with the upper level's key.
    ``only_changed`` skips an organisation whose heads are those of its last checkpoint
    (for a periodic clock: nothing new to seal there).
    """
    from workflow.audit import signing

    at = iso_utc(now or utcnow())
    written: list[dict[str, Any]] = []
    with db.write() as conn:
        if not db.is_sqlite:
            conn.exec_driver_sql(f"LOCK TABLE {checkpoints.name} IN SHARE ROW EXCLUSIVE MODE")
        heads: dict[str, list[list[Any]]] = {}
        for r in conn.execute(
                sa.select(orgs.c.code, cases.c.id, cases.c.seq, cases.c.head_hash)
                .join(orgs, orgs.c.id == cases.c.org_id).where(cases.c.seq > 0)
                .order_by(cases.c.id)):
            heads.setdefault(r.code, []).append([r.code, r.id, r.seq, r.head_hash])
        for org, seq, head in signing.ledger_heads(conn):
            heads.setdefault(org, []).append([org, None, seq, head])
        tree = org_tree(conn)
        keys = signing.keys_by_org(conn)
        latest = (sa.select(sa.func.max(checkpoints.c.seq)).where(checkpoints.c.org.is_not(None))
                  .group_by(checkpoints.c.org))
        last = {r.org: r for r in conn.execute(
            sa.select(checkpoints.c.org, checkpoints.c.hash, checkpoints.c.heads_digest)
            .where(checkpoints.c.seq.in_(latest)))}
        top = conn.execute(sa.select(sa.func.max(checkpoints.c.seq))).scalar() or 0
        private: dict[str, Any] = {}

        def signer(org: str | None) -> tuple[str | None, Any]:
            key = signing.active_key(keys.get(org or "", {}), at)
            if key is None:
                return None, None
            if key.key_id not in private:
                private[key.key_id] = signing.load_private(key.key_id, key_dir)
                if private[key.key_id] is None:
                    log.warning("no private key %s for %s in %s: checkpoint left unsigned",
                                key.key_id, org, signing.key_dir(key_dir))
            return (key.key_id, private[key.key_id]) if private[key.key_id] else (None, None)

        for org in sorted(heads):
            text = canonical(heads[org]).decode("utf-8")
            digest = sha256_hex(text.encode("utf-8"))
            if only_changed and org in last and last[org].heads_digest == digest:
                continue
            top += 1
            before = last[org].hash if org in last else GENESIS
            row = {"seq": top, "at": at, "heads": text, "heads_digest": digest,
                   "prev_hash": before, "hash": checkpoint_hash(top, at, digest, before),
                   "org": org, "key_id": None, "signature": None}
            key_id, secret = signer(org)
            if secret is not None:
                row["key_id"] = key_id
                row["signature"] = signing.sign(
                    secret, signing.checkpoint_statement(org, top, row["hash"]))
            conn.execute(sa.insert(checkpoints).values(**row))
            holder = tree.get(org)
            if holder is not None:
                copy = {k: row[k] for k in row} | {"holder": holder, "witness_key_id": None,
                                                   "witness_signature": None}
                witness_id, witness_secret = signer(holder)
                if witness_secret is not None:
                    copy["witness_key_id"] = witness_id
                    copy["witness_signature"] = signing.sign(witness_secret, (
                        signing.witness_statement(org, top, row["hash"], holder)))
                conn.execute(sa.insert(copies).values(**copy))
            written.append(row)
    return written


def case_events_until(db: Database, case_id: int, at: str | None) -> list[dict[str, Any]]:
    """The case's events up to and including time ``at`` (canonical UTC text): the
    seq-prefix whose times are not later, i.e. the case as it stood then."""
    rows = case_events(db, case_id)
    if at is None:
        return rows
    kept = []
    for ev in rows:
        if ev["at"] > at:
            break
        kept.append(ev)
    return kept


def replay_steps(rows: list[Mapping[str, Any]], registry: Registry
                 ) -> list[tuple[Rebuilt | None, Text | None]]:
    """After each event: the case rebuilt from the events up to it, or why replay stopped
    there (every later step then fails too). For the auditor's history view."""
    steps: list[tuple[Rebuilt | None, Text | None]] = []
    failed: Text | None = None
    for n in range(1, len(rows) + 1):
        if failed is not None:
            steps.append((None, failed))
            continue
        try:
            steps.append((replay(rows[:n], registry), None))
        except ReplayError as exc:
            failed = exc.reason
            steps.append((None, failed))
        except KeyError as exc:
            failed = Text(f"未知流程或版本 {exc}", f"unknown process or version {exc}")
            steps.append((None, failed))
    return steps
