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
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

GENESIS = "0" * 64

_encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                            allow_nan=False)


def _build_dumps() -> Callable[[Any], str]:
    """``_encoder.encode`` with its C encoder built once: ``JSONEncoder.encode`` builds a
    new one on every call, which costs more than encoding an event header. No check for
    circular references (event values are trees by construction)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return _encoder.encode
    encode = make(None, _encoder.default, json.encoder.encode_basestring, None, ":", ",",
                  True, False, False)

    def dumps(value: Any) -> str:
        return "".join(encode(value, 0))

    return dumps


_dumps = _build_dumps()

HEADER_FIELDS = (
    "case_id", "seq", "kind", "def_version", "org", "trigger", "from_state", "to_state",
    "actor", "at", "payload_digest", "prev_hash",
)

#: the header's keys in canonical (sorted) order: ``header_text_of`` takes the values so
HEADER_KEYS = tuple(sorted(HEADER_FIELDS))
#: the canonical header with its keys in place: only the values are encoded per event
_HEADER_TEMPLATE = "{" + ",".join(f'"{key}":%s' for key in HEADER_KEYS) + "}"
_quote = json.encoder.encode_basestring
_header_values = operator.itemgetter(*HEADER_KEYS)


def canonical_text(value: Any) -> str:
    return _dumps(value)


def canonical(value: Any) -> bytes:
    return _dumps(value).encode("utf-8")


_scan = json.JSONDecoder().scan_once


def parse_text(text: str) -> Any:
    """``json.loads(text)``, faster on the texts events and case rows hold: their
    decoder's C scanner is called straight, which spares ``json.loads``' own wrappers
    (on a short payload they cost more than the parse, and verify parses every
    payload, issue 21). Text it does not read to the end (whitespace around a value,
    bad JSON) goes to ``json.loads``, so the value or the error is always its own."""
    try:
        value, end = _scan(text, 0)
        if end == len(text):
            return value
    except (StopIteration, ValueError):
        pass
    return json.loads(text)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload_digest(payload_text: str) -> str:
    """Digest of the stored canonical payload text: a redacted export keeps only this."""
    return hashlib.sha256(payload_text.encode("utf-8")).hexdigest()


def header_text(header: Mapping[str, Any]) -> str:
    """The canonical header: every field but the payload itself."""
    return header_text_of(_header_values(header))


def header_text_of(values: Sequence[Any]) -> str:
    """The canonical header from its values in ``HEADER_KEYS`` order (as verify reads them
    from the database, issue 21). The keys are fixed, so they are laid out once
    (``_HEADER_TEMPLATE``) and each value is encoded as the canonical encoder encodes it: a
    string by the same quoting function, an int by its ``repr``, anything else by the
    encoder itself. Events hold strings where the keys say so and ints in ``case_id``,
    ``def_version`` and ``seq``; those are encoded position by position, and any other
    value (a hostile bundle's) goes the general way: the text is always
    ``canonical_text`` of the header, in less than half its time, which counts on the
    door and in every verify."""
    (actor, at, case_id, def_version, from_state, kind, org, digest, prev_hash, seq,
     to_state, trigger) = values
    if type(case_id) is int and type(def_version) is int and type(seq) is int:
        quote, number = _quote, int.__repr__
        try:  # _quote refuses anything but a string
            return _HEADER_TEMPLATE % (
                quote(actor), quote(at), number(case_id), number(def_version),
                "null" if from_state is None else quote(from_state), quote(kind), quote(org),
                quote(digest), quote(prev_hash), number(seq), quote(to_state), quote(trigger))
        except TypeError:
            pass
    return _HEADER_TEMPLATE % tuple(_encoded(value) for value in values)


def _encoded(value: Any) -> str:
    kind = type(value)
    return _quote(value) if kind is str else int.__repr__(value) if kind is int else _dumps(value)


def header_hash_of(values: Sequence[Any]) -> str:
    """``event_hash`` of the header whose values (``HEADER_KEYS`` order) are given."""
    return hashlib.sha256(header_text_of(values).encode()).hexdigest()


def event_hash(header: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical header: every field but the payload itself."""
    return hashlib.sha256(header_text(header).encode()).hexdigest()


def checkpoint_hash(seq: int, at: str, heads_digest: str, prev_hash: str) -> str:
    return sha256_hex(canonical(
        {"seq": seq, "at": at, "heads_digest": heads_digest, "prev_hash": prev_hash}
    ))
