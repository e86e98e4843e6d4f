"""Canonical JSON is RFC 8785 for the values events hold, and every header field is hashed.

``workflow.base.canonical`` encodes with ``json`` instead of a general JCS encoder because it
is many times faster; that is only sound while the two agree on every value an event can
hold: no floats, integers within the I-JSON range, object keys in ASCII, strings with any
Unicode (emoji, control characters, line separators) as values (AU1, DESIGN.md Events).
"""

from __future__ import annotations

import hashlib
import json

import pytest
import rfc8785
from hypothesis import example, given
from hypothesis import strategies as st

from workflow.audit.chain import EVENT_COLUMNS
from workflow.base.canonical import (
    GENESIS,
    HEADER_FIELDS,
    canonical,
    canonical_text,
    event_hash,
    header_text,
    parse_text,
    payload_digest,
)
from workflow.core.schema import Field, Schema

# RFC 8785 (I-JSON) integers: exactly representable as IEEE 754 doubles.
INT_MAX = 2**53 - 1

# Characters an encoder gets wrong: escapes, controls (short and \u forms), DEL, the JS
# line separators, a BOM, non-BMP emoji (UTF-16 surrogate pairs in JCS's sort), CJK.
AWKWARD = ["\x00", "\x08", "\t", "\n", "\x0b", "\x0c", "\r", "\x1f", "\x7f", "\x80", '"', "\\",
           "/", "\u2028", "\u2029", "\ufeff", "\uffff", "😀", "👨\u200d👩\u200d👧", "\U0010ffff",
           "党务公开", "é"]

# Any code point UTF-8 can carry: lone surrogates cannot be stored as text at all.
any_char = st.characters(codec="utf-8")
strings = st.lists(st.text(any_char, max_size=4) | st.sampled_from(AWKWARD),
                   max_size=5).map("".join)
ascii_keys = st.text(st.characters(codec="ascii"), max_size=8)
scalars = (st.none() | st.booleans() | st.integers(-INT_MAX, INT_MAX)
           | st.sampled_from([0, -1, INT_MAX, -INT_MAX, 10**15]) | strings)
json_values = st.recursive(
    scalars,
    lambda children: (st.lists(children, max_size=5)
                      | st.dictionaries(ascii_keys, children, max_size=6)),
    max_leaves=30,
)


@given(json_values)
@example({"b": 1, "a": [True, False, None], "": "", "A": "\u2028😀\x00"})
@example({"\x00": "\x1f", "\x7f": {"z": -INT_MAX}, "~": INT_MAX})
@example(["\ud7ff\ue000", "\U0001f600\U0001f601", {"10": 1, "9": 2, "1": 3}])
def test_canonical_is_rfc8785_for_event_values(value):
    assert canonical(value) == rfc8785.dumps(value)


@given(json_values)
def test_payload_digest_is_sha256_of_the_canonical_text(value):
    text = canonical(value).decode("utf-8")
    assert payload_digest(text) == hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def test_header_is_every_event_column_but_the_payload_and_the_hash():
    """A redacted export drops payloads and still verifies: the digest stands in for them."""
    assert set(HEADER_FIELDS) == set(EVENT_COLUMNS) - {"payload", "hash"}
    assert len(HEADER_FIELDS) == len(set(HEADER_FIELDS))


hashes = st.text("0123456789abcdef", min_size=64, max_size=64)
names = strings
headers = st.fixed_dictionaries({
    "case_id": st.integers(1, INT_MAX),
    "seq": st.integers(1, 10**9),
    "kind": names,
    "def_version": st.integers(1, 1000),
    "org": names,
    "trigger": names,
    "from_state": st.none() | names,
    "to_state": names,
    "actor": names,
    "at": st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    "payload_digest": hashes,
    "prev_hash": st.just(GENESIS) | hashes,
})


def changed(value):
    """A different value of the same field: the smallest edit a forger might make."""
    if value is None:
        return "draft"
    if isinstance(value, int):
        return value + 1
    return value + "x" if not value.endswith("x") else value[:-1]


@pytest.mark.parametrize("name", HEADER_FIELDS)
@given(header=headers)
def test_event_hash_changes_with_any_header_field(name, header):
    original = event_hash(header)
    assert original == hashlib.sha256(rfc8785.dumps(header)).hexdigest()
    assert event_hash({**header, name: changed(header[name])}) != original


# Anything a hostile bundle may put in a header field: the fast header encoder must give
# the general encoder's text (or its error) for every value, not only the expected types.
odd_values = json_values | st.floats(allow_nan=False, allow_infinity=False)


@given(header=headers, odd=st.dictionaries(st.sampled_from(HEADER_FIELDS), odd_values))
@example(header={name: "" for name in HEADER_FIELDS}, odd={"seq": True, "case_id": 1.0})
@example(header={name: "" for name in HEADER_FIELDS} | {"seq": 1, "case_id": 1, "def_version": 1},
         odd={"actor": 7, "from_state": False, "trigger": ["x"]})
def test_header_text_is_the_canonical_text_of_the_header(header, odd):
    """``header_text`` lays the keys out once; its text is the general encoder's, so the
    hashes of every stored event and exported bundle stay what they were (issue 21)."""
    header = header | odd
    expected = canonical_text({name: header[name] for name in HEADER_FIELDS})
    assert header_text(header) == expected
    assert event_hash(header) == hashlib.sha256(expected.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("name", ["seq", "case_id", "def_version"])
@given(header=headers)
def test_event_hash_tells_a_number_from_its_text(name, header):
    assert event_hash({**header, name: str(header[name])}) != event_hash(header)


def test_event_hash_treats_no_from_state_apart_from_an_empty_one():
    header = {name: "" for name in HEADER_FIELDS} | {"case_id": 1, "seq": 1,
                                                      "def_version": 1, "from_state": None}
    assert event_hash(header) != event_hash({**header, "from_state": ""})


@given(header=headers, payload=json_values, stored_hash=hashes)
def test_event_hash_ignores_payload_and_stored_hash(header, payload, stored_hash):
    row = {**header, "payload": canonical(payload).decode("utf-8"), "hash": stored_hash}
    assert event_hash(row) == event_hash(header)


@pytest.mark.parametrize("big", [INT_MAX + 1, -INT_MAX - 1, 10**30, str(2**63)])
def test_payload_integers_stay_where_rfc8785_can_encode_them(big):
    """JCS writes numbers as doubles: a larger integer has no canonical form, so payload
    validation refuses it rather than hash text no other JCS encoder would produce."""
    schema = Schema((Field("n", "int"),))
    clean, errors = schema.validate({"n": INT_MAX})
    assert not errors and canonical(clean) == rfc8785.dumps(clean)
    _, errors = schema.validate({"n": big})
    assert errors["n"].en == "Number too large"


@given(json_values, st.sampled_from(["", " ", "\n", " \t\r"]), st.sampled_from(["", " ", "\n"]))
def test_parse_text_reads_what_json_loads_reads(value, before, after):
    """verify parses every payload with ``parse_text`` (issue 21): the same values."""
    text = before + canonical_text(value) + after
    assert parse_text(text) == json.loads(text)


@pytest.mark.parametrize("text", ["", " ", "{", '{"a":1}x', '{"a":1} 2', "[1,]", "nul",
                                  '"\\x"', "NaN1"])
def test_parse_text_refuses_what_json_loads_refuses(text):
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as mine:
        parse_text(text)
    assert str(mine.value) == str(theirs.value)
