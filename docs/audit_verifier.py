#!/usr/bin/env python3
"""A stand-alone verifier for gongkai audit bundles: Python standard library only.

    python3 audit_verifier.py BUNDLE.jsonl[.gz] [--json]

It implements docs/audit-format.md from the text alone, as an auditor would in any
language: the canonical JSON, the event and checkpoint hash rules, the chains, the
head lists, the ledger streams with their keys, the Ed25519 signatures of checkpoints
and of the upper levels' witness copies, partial (``--since``) bundles, and the
attachment files a bundle carries (``--with-files``) against their digests. It does not
replay cases (that needs the process definitions), so it says nothing about whether a
case row's state agrees with its events; ``gongkai audit verify --bundle`` does that too.

The standard library has no Ed25519, so the verification routine of RFC 8032 (section
6, its Python reference) is written out below: slow (a few milliseconds a signature)
but exact. Exit code: 0 intact, 1 problems found, 2 not a bundle.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import sys

FORMAT = "gongkai-audit-bundle"
VERSIONS = (1, 2, 3)
LISTED_SINCE = 3  # the first version with attachment lines
RECORD_KEYS = {"attachment", "sha256", "size", "media_type", "name"}
GENESIS = "0" * 64
HEADER_FIELDS = ("case_id", "seq", "kind", "def_version", "org", "trigger", "from_state",
                 "to_state", "actor", "at", "payload_digest", "prev_hash")
WITNESSED = ("org", "at", "heads_digest", "prev_hash", "hash", "key_id", "signature")


# -- RFC 8032 Ed25519 verification ---------------------------------------------------------

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _inv(x: int) -> int:
    return pow(x, P - 2, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = 2 * t1 * t2 * D % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s: int, point):
    result = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            result = _add(result, point)
        point = _add(point, point)
        s >>= 1
    return result


def _equal(a, b) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y: int, sign: int):
    if y >= P:
        return None
    x2 = (y * y - 1) * _inv(D * y * y + 1) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * _inv(5) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def _decompress(data: bytes):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return _equal(_mul(s, G), _add(r, _mul(h, a)))


def signature_ok(public_hex: str, signature_hex, message: bytes) -> bool:
    try:
        return ed25519_verify(bytes.fromhex(public_hex), message,
                              bytes.fromhex(signature_hex or ""))
    except ValueError:
        return False


# -- canonical JSON and hashes -----------------------------------------------------------


def canonical(value) -> bytes:
    """RFC 8785 for what bundles hold (no floats; ASCII keys): sorted keys, no spaces."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def event_hash(ev) -> str:
    return sha256_hex(canonical({k: ev[k] for k in HEADER_FIELDS}))


def checkpoint_hash(seq, at, heads_digest, prev_hash) -> str:
    return sha256_hex(canonical({"seq": seq, "at": at, "heads_digest": heads_digest,
                                 "prev_hash": prev_hash}))


def checkpoint_statement(org, seq, hash_) -> bytes:
    return canonical({"type": "checkpoint", "org": org, "seq": seq, "hash": hash_})


def witness_statement(org, seq, hash_, holder) -> bytes:
    return canonical({"type": "witness", "org": org, "seq": seq, "hash": hash_,
                      "holder": holder})


def key_statement(org, key_id, public_key) -> bytes:
    return canonical({"type": "key", "org": org, "key_id": key_id, "public_key": public_key})


# -- the checks --------------------------------------------------------------------------


class Checker:
    def __init__(self):
        self.problems = []  # (case_id, seq, code, org, detail)
        self.needed = {}  # (case_id, seq) -> (head, checkpoint seq)
        self.tails = {}
        self.ledger_needed = {}
        self.ledger_hashes = {}
        self.keys = {}  # org -> key_id -> key dict (from ledger streams)
        self.claimed = {}  # org -> key_id -> key dict (from the header)
        self.parents = None
        self.bases = set()
        self.base = {}
        self.counts = {"cases": 0, "events": 0, "checkpoints": 0, "ledger_events": 0,
                       "signed": 0, "files": 0}

    def add(self, case_id, seq, code, org=None, detail=""):
        self.problems.append((case_id, seq, code, org, detail))

    def chain(self, rows, case_id=None, org=None):
        """Digests, header hashes, order and links of one stream."""
        prev, expected, whole = GENESIS, 1, True
        for ev in rows:
            if (ev["seq"] != expected or ev["prev_hash"] != prev or event_hash(ev) != ev["hash"]
                    or (ev["payload"] is not None
                        and sha256_hex(ev["payload"].encode("utf-8")) != ev["payload_digest"])):
                whole = False
                break
            prev, expected = ev["hash"], expected + 1
        if whole:
            return 0
        before = len(self.problems)
        belongs, moves = {}, []
        for ev in rows:
            seq, moved = ev["seq"], ev["seq"]
            if event_hash(ev) != ev["hash"]:
                moved = next((o["seq"] for o in rows if o["seq"] != seq
                              and event_hash({**ev, "seq": o["seq"]}) == ev["hash"]), None)
            if moved is not None:
                belongs.setdefault(moved, ev["hash"])
            moves.append(moved)
        prev, expected = GENESIS, 1
        for ev, moved in zip(rows, moves, strict=True):
            seq = ev["seq"]
            if (ev["payload"] is not None
                    and sha256_hex(ev["payload"].encode("utf-8")) != ev["payload_digest"]):
                self.add(case_id, seq, "payload_edited", org)
            if moved != seq:
                self.add(case_id, seq, "reordered" if moved else "event_edited", org)
            elif seq > expected:
                self.add(case_id, expected, "events_missing", org)
            elif ev["prev_hash"] != belongs.get(seq - 1, prev):
                self.add(case_id, seq, "chain_broken", org)
            prev, expected = ev["hash"], seq + 1
        return len(self.problems) - before

    def ledger(self, org, rows):
        self.counts["ledger_events"] += len(rows)
        for ev in rows:
            self.ledger_hashes[(org, ev["seq"])] = ev["hash"]
        self.chain(rows, None, org)
        keys = {}
        for ev in rows:
            seq = ev["seq"]
            if ev["kind"] != "ledger" or ev["def_version"] != 1 or ev["trigger"] != "key_added":
                self.add(None, seq, "ledger_invalid", org, "not a key_added event")
                continue
            if ev["payload"] is None:
                continue
            try:
                body = json.loads(ev["payload"])
                public, key_id = body["public_key"], body["key_id"]
                derived = sha256_hex(bytes.fromhex(public))[:16]
            except (ValueError, KeyError, TypeError):
                self.add(None, seq, "ledger_invalid", org, "unreadable")
                continue
            if body.get("algorithm") != "Ed25519" or len(public) != 64 or derived != key_id:
                self.add(None, seq, "ledger_invalid", org, "key id does not match")
                continue
            if key_id in keys:
                self.add(None, seq, "ledger_invalid", org, "published twice")
                continue
            old_id = body.get("replaces")
            old = keys.get(old_id) if old_id else None
            if old_id and (old is None or old["retired_at"] is not None):
                self.add(None, seq, "ledger_invalid", org, "replaces no current key")
                continue
            if body.get("endorsement") and not (old is not None and signature_ok(
                    old["public_key"], body["endorsement"], key_statement(org, key_id, public))):
                self.add(None, seq, "ledger_invalid", org, "endorsement does not verify")
                continue
            if old is not None:
                old["retired_at"] = ev["at"]
            elif any(k["retired_at"] is None for k in keys.values()):
                self.add(None, seq, "ledger_invalid", org, "a key is in use")
                continue
            keys[key_id] = {"key_id": key_id, "public_key": public, "added_at": ev["at"],
                            "added_seq": seq, "retired_at": None}
        self.keys[org] = keys

    def keys_of(self, org):
        return self.keys.get(org) or self.claimed.get(org) or {}

    @staticmethod
    def active(key, at):
        return key["added_at"] <= at and (key["retired_at"] is None or at < key["retired_at"])

    def checkpoints(self, rows, copies):
        prev, broken, originals = {}, set(), {}
        for cp in rows:
            self.counts["checkpoints"] += 1
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
                self.add(None, None, "checkpoint_broken", org, f"checkpoint {cp['seq']}")
                broken.add(org)
            prev[org] = cp["hash"]
            self.heads(cp["seq"], heads or (), is_base)
            if org is not None:
                self.signature(cp)
                originals[cp["seq"]] = cp
        held = {}
        for copy in copies:
            held.setdefault(copy["seq"], []).append(copy)
        for seq, cp in originals.items():
            org, found = cp["org"], held.pop(seq, [])
            if org in broken:
                continue
            parent = self.parents.get(org) if self.parents is not None else None
            for copy in found:
                holder = copy["holder"]
                if any(copy.get(f) != cp.get(f) for f in WITNESSED):
                    self.add(None, None, "witness_mismatch", org, f"checkpoint {seq}")
                    continue
                keys = self.keys_of(holder)
                key = keys.get(copy.get("witness_key_id"))
                if copy.get("witness_signature") or copy.get("witness_key_id"):
                    good = key is not None and self.active(key, cp["at"]) and signature_ok(
                        key["public_key"], copy.get("witness_signature"),
                        witness_statement(org, seq, cp["hash"], holder))
                else:
                    good = not any(self.active(k, cp["at"]) for k in keys.values())
                if not good:
                    self.add(None, None, "witness_invalid", org, f"checkpoint {seq}")
            if parent is not None and not any(c["holder"] == parent for c in found):
                self.add(None, None, "witness_missing", org, f"checkpoint {seq}")
        for seq, found in sorted(held.items()):
            for copy in found:
                self.add(None, None, "checkpoint_deleted", copy["org"], f"checkpoint {seq}")
                text = copy.get("heads")
                if text is not None and sha256_hex(text.encode("utf-8")) == copy["heads_digest"]:
                    self.heads(seq, json.loads(text), False)

    def heads(self, cp_seq, heads, base):
        for org, case_id, seq, head in heads:
            if case_id is None:
                self.ledger_needed[(org, seq)] = (head, cp_seq)
                continue
            self.needed[(case_id, seq)] = (head, cp_seq)
            if base:
                self.base[case_id] = (seq, head)

    def signature(self, cp):
        org, at, key_id = cp["org"], cp["at"], cp.get("key_id")
        keys = self.keys_of(org)
        if key_id or cp.get("signature"):
            key = keys.get(key_id)
            if (key is not None and self.active(key, at) and signature_ok(
                    key["public_key"], cp.get("signature"),
                    checkpoint_statement(org, cp["seq"], cp["hash"]))):
                self.counts["signed"] += 1
            else:
                self.add(None, None, "signature_invalid", org, f"checkpoint {cp['seq']}")
        elif any(self.active(k, at) for k in keys.values()):
            self.add(None, None, "checkpoint_unsigned", org, f"checkpoint {cp['seq']}")

    def case(self, case_id, rows, stored):
        self.counts["cases"] += 1
        self.counts["events"] += len(rows)
        self.tails[case_id] = rows[-1]["seq"] if rows else 0
        for ev in rows:
            want = self.needed.pop((case_id, ev["seq"]), None)
            if want and want[0] != ev["hash"]:
                self.add(case_id, ev["seq"], "head_rewritten")
        self.chain(rows, case_id)
        if stored is None and rows:
            self.add(case_id, None, "case_row_missing")
        elif stored is not None and not rows:
            self.add(case_id, None, "no_events")

    def finish(self):
        for (case_id, seq), (head, _cp) in sorted(self.needed.items()):
            if case_id not in self.tails and self.base.get(case_id) == (seq, head):
                continue
            self.add(case_id, seq, "truncated" if self.tails.get(case_id) else "case_deleted")
        for (org, seq), (head, _cp) in sorted(self.ledger_needed.items()):
            have = self.ledger_hashes.get((org, seq))
            if have is None:
                self.add(None, seq, "ledger_truncated", org)
            elif have != head:
                self.add(None, seq, "head_rewritten", org)


def records_in(value):
    """Every attachment record in a payload, wherever it sits (section 6, attachment)."""
    if isinstance(value, dict):
        if value.keys() >= RECORD_KEYS:
            return [value]
        return [r for v in value.values() for r in records_in(v)]
    if isinstance(value, list):
        return [r for v in value for r in records_in(v)]
    return []


def file_matches(line):
    try:
        data = base64.b64decode(line.get("data") or "", validate=True)
    except (binascii.Error, ValueError):
        return False
    return sha256_hex(data) == line.get("sha256")


def check_files(checker, events, listed, carried, with_files, checks_list):
    """Section 8, step 7: the records of each event against the attachment lines, and
    each carried file against its digest."""
    lines = {}
    for line in listed:
        entry = dict(line)
        where = (entry.pop("case_id", None), entry.pop("seq", None))
        if all(type(x) is int for x in where):
            lines.setdefault(where, []).append(entry)
    payloads = {(ev["case_id"], ev["seq"]): ev["payload"] for ev in events
                if ev.get("payload") is not None}
    recorded = []
    for where in sorted(set(lines) | set(payloads)):
        entries = lines.get(where, [])
        if where in payloads:
            try:
                records = records_in(json.loads(payloads[where]))
            except ValueError:
                records = []
            same = sorted(json.dumps(r, sort_keys=True) for r in records)
            if checks_list and same != sorted(json.dumps(e, sort_keys=True) for e in entries):
                checker.add(*where, "file_list_mismatch")
        else:
            records = entries
        recorded.extend((*where, rec) for rec in records)
    named = set()
    for case_id, seq, rec in recorded:
        digest = rec.get("sha256")
        if not isinstance(digest, str):
            digest = repr(digest)  # no file can be carried under it
        named.add(digest)
        if digest in carried and not carried[digest]:
            checker.add(case_id, seq, "file_altered", None, rec.get("name") or digest)
        elif with_files and digest not in carried:
            checker.add(case_id, seq, "file_missing", None, rec.get("name") or digest)
    for digest, ok in carried.items():
        if not ok and digest not in named:
            checker.add(None, None, "file_altered", None, digest)


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                yield json.loads(line)
            except ValueError:
                raise SystemExit(f"line {number} is not JSON") from None


def check(path):
    lines = read(path)
    header = next(lines, None)
    if not header or header.get("format") != FORMAT:
        raise SystemExit("not a gongkai audit bundle")
    version = header.get("format_version", 1)
    if version not in VERSIONS:
        raise SystemExit(f"unsupported bundle version {version}")
    checker = Checker()
    cps, copies, streams, stored, by_case, listed, carried = [], [], {}, {}, {}, [], {}
    for line in lines:
        kind = line.pop("type", None)
        if kind == "checkpoint":
            for copy in line.pop("witnesses", None) or ():
                copies.append({"heads": line.get("heads"), **copy, "org": line.get("org"),
                               "seq": line.get("seq")})
            cps.append(line)
        elif kind == "witness":
            copies.append(line)
        elif kind == "ledger_event":
            streams.setdefault(line["org"], []).append(line)
        elif kind == "case":
            stored[line.pop("id")] = line
        elif kind == "event":
            by_case.setdefault(line["case_id"], []).append(line)
        elif kind == "attachment":
            listed.append(line)
        elif kind == "file" and isinstance(line.get("sha256"), str):
            checker.counts["files"] += 1
            digest = line["sha256"]
            carried[digest] = carried.get(digest, True) and file_matches(line)
    if "orgs" in header:
        checker.parents = {o["code"]: o["parent"] for o in header["orgs"]}
    for k in header.get("keys", ()):
        if k["org"] not in streams:
            checker.claimed.setdefault(k["org"], {})[k["key_id"]] = dict(k)
    for org in sorted(streams):
        checker.ledger(org, sorted(streams[org], key=lambda r: r["seq"]))
    checker.bases = set((header.get("scope") or {}).get("bases") or ())
    checker.checkpoints(sorted(cps, key=lambda c: c["seq"]), copies)
    for case_id in sorted(by_case):
        checker.case(case_id, by_case[case_id], stored.pop(case_id, None))
    for case_id, row in sorted(stored.items()):
        checker.case(case_id, [], row)
    checker.finish()
    check_files(checker, [ev for rows in by_case.values() for ev in rows], listed, carried,
                header.get("files") is True, version >= LISTED_SINCE)
    return checker


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        checker = check(args[0])
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    if "--json" in argv:
        print(json.dumps({"ok": not checker.problems, **checker.counts, "problems": [
            {"case_id": c, "seq": s, "code": code, "org": org, "detail": detail}
            for c, s, code, org, detail in checker.problems]}, ensure_ascii=False))
    else:
        for c, s, code, org, detail in checker.problems:
            where = " ".join(x for x in (f"org {org}" if org and c is None else "",
                                         f"case {c}" if c is not None else "",
                                         f"seq {s}" if s is not None else "") if x)
            print(f"{where or '-'}: [{code}] {detail}".rstrip())
        counts = checker.counts
        print(f"{'intact' if not checker.problems else 'PROBLEMS'}: {counts['cases']} cases, "
              f"{counts['events']} events, {counts['checkpoints']} checkpoints, "
              f"{counts['ledger_events']} ledger events, {counts['signed']} signed, "
              f"{counts['files']} files")
    return 0 if not checker.problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
