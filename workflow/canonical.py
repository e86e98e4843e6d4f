"""Canonical JSON (RFC 8785) and the hashes of events and checkpoints (AU1, AU2).

Events hold only strings, integers, booleans, null, lists and objects whose keys
are ASCII (payload validation guarantees it). For such values RFC 8785's output is
exactly ``json.dumps`` with sorted keys, no spaces and UTF-8 text, which is many
times faster than a general JCS encoder; ``tests/workflow/test_canonical.py`` holds
the two equal on generated values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64

_dumps = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode

HEADER_FIELDS = (
    "case_id", "seq", "kind", "def_version", "org", "trigger", "from_state", "to_state",
    "actor", "at", "payload_digest", "prev_hash",
)


def canonical(value: Any) -> bytes:
    return _dumps(value).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload_digest(payload_text: str) -> str:
    """Digest of the stored canonical payload text: a redacted export keeps only this."""
    return hashlib.sha256(payload_text.encode("utf-8")).hexdigest()


def event_hash(header: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical header: every field but the payload itself."""
    return hashlib.sha256(_dumps({k: header[k] for k in HEADER_FIELDS}).encode()).hexdigest()


def checkpoint_hash(seq: int, at: str, heads_digest: str, prev_hash: str) -> str:
    return sha256_hex(canonical(
        {"seq": seq, "at": at, "heads_digest": heads_digest, "prev_hash": prev_hash}
    ))
