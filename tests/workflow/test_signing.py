"""Signed, witnessed checkpoints and the ledger stream (AU3), bundles per organisation and
since a date (AU4), and the stand-alone verifier of docs/ agreeing with the built-in one.

The county C holds a key and witnesses the town T, which holds a key too; three cases
of the ``sample`` process run at T. Tampering is done in SQL (an insider with database
access) and, for the hardest case, by an insider who also holds T's private key: only
the upper level's countersigned copy then shows that T's history was rewritten.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.history import LATER, NOW, at, event_at, tamper, three_cases
from workflow.audit import signing
from workflow.audit.bundle import export, verify_bundle
from workflow.audit.chain import (
    case_events,
    case_events_until,
    checkpoints,
    copies,
    replay,
    replay_steps,
    verify,
    write_checkpoint,
)
from workflow.base.canonical import canonical, checkpoint_hash, event_hash, sha256_hex
from workflow.base.errors import Invalid
from workflow.base.timeutil import iso_utc
from workflow.store.models import cases, events, timers

ROOT = Path(__file__).resolve().parents[2]
STANDALONE = ROOT / "docs" / "audit_verifier.py"



@pytest.fixture(autouse=True)
def keys_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "keys"
    monkeypatch.setenv("GONGKAI_KEY_DIR", str(path))
    monkeypatch.delenv("GONGKAI_KEY_PASSPHRASE", raising=False)
    return path


@pytest.fixture
def signed(engine, people, tree):
    """Keys for C and T; cases a (7 events, expired), b (4, approved), c (2, draft) at T;
    one round of checkpoints (T's, with its copy filed with C)."""
    signing.add_key(engine.db, "C", now=at(-20))
    signing.add_key(engine.db, "T", "user:li", now=at(-10))
    built = three_cases(engine, people, c_comment="身份证号 110101199001011234")
    rows = write_checkpoint(engine.db, now=LATER)
    assert [(r["org"], r["seq"]) for r in rows] == [("C", 1), ("T", 2)]
    return built


def found(engine, **kwargs) -> list[tuple]:
    return [(p.case_id, p.seq, p.code) for p in verify(engine.db, engine.registry,
                                                       **kwargs).problems]




def checkpoint_of(engine, org: str):
    with engine.db.read() as conn:
        return conn.execute(sa.select(checkpoints).where(checkpoints.c.org == org)
                            .order_by(checkpoints.c.seq.desc())).first()


def standalone(path: Path) -> dict:
    """docs/audit_verifier.py in a bare interpreter: no site-packages, no project code."""
    done = subprocess.run([sys.executable, "-I", "-S", str(STANDALONE), str(path), "--json"],
                          capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] == (done.returncode == 0)
    return report


def order(t: tuple) -> tuple:
    return tuple("" if x is None else str(x) for x in t)


def problems_of(report) -> list[tuple]:
    """(case, seq, code, org) of each problem, in one order for both verifiers."""
    if isinstance(report, dict):
        found = [(p["case_id"], p["seq"], p["code"], p["org"]) for p in report["problems"]]
    else:
        found = [(p.case_id, p.seq, p.code, p.org) for p in report.problems]
    return sorted(found, key=order)


def agree(path: Path) -> list[tuple]:
    """The built-in verifier without process definitions and the stand-alone one find the
    same problems in the bundle; returns them."""
    built_in = problems_of(verify_bundle(path, None))
    assert problems_of(standalone(path)) == built_in
    return built_in


# -- keys and the ledger stream -------------------------------------------------------------


def test_au3_keygen_writes_a_private_file_and_a_ledger_event(engine, tree, keys_dir):
    key = signing.add_key(engine.db, "T", "user:li", now=NOW)
    path = keys_dir / f"{key.key_id}.pem"
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    assert key.key_id == hashlib.sha256(bytes.fromhex(key.public_key)).hexdigest()[:16]
    with engine.db.read() as conn:
        (ev,) = signing.ledger_rows(conn)["T"]
    assert (ev["seq"], ev["kind"], ev["trigger"], ev["from_state"], ev["to_state"],
            ev["actor"], ev["at"]) == (1, "ledger", "key_added", None, "open", "user:li",
                                       iso_utc(NOW))
    assert json.loads(ev["payload"]) == {"algorithm": "Ed25519", "key_id": key.key_id,
                                         "public_key": key.public_key, "replaces": None,
                                         "endorsement": None}
    assert ev["prev_hash"] == "0" * 64 and ev["hash"] == event_hash(ev)
    with pytest.raises(Invalid) as refused:
        signing.add_key(engine.db, "T")
    assert "--rotate" in refused.value.message.zh
    report = verify(engine.db, engine.registry)
    assert report.ok and report.ledger_events == 1


def test_au3_rotation_is_endorsed_by_the_old_key_and_retires_it(engine, tree, people):
    old = signing.add_key(engine.db, "T", now=at(0))
    write_checkpoint(engine.db, now=at(1))
    new = signing.add_key(engine.db, "T", rotate=True, now=at(2))
    assert new.replaces == old.key_id and new.endorsed
    engine.start("sample", "T", people["handler"], {"title": "轮换后"}, at(3))
    rows = write_checkpoint(engine.db, now=at(4))
    assert [(r["org"], r["key_id"]) for r in rows] == [("T", new.key_id)]
    with engine.db.read() as conn:
        keys = signing.keys_by_org(conn)["T"]
    assert keys[old.key_id].retired_at == iso_utc(at(2)) and keys[new.key_id].retired_at is None
    report = verify(engine.db, engine.registry)
    assert report.ok, report.problems
    assert (report.checkpoints, report.signed, report.ledger_events) == (2, 2, 2)


def test_au3_a_checkpoint_signed_with_a_retired_key_is_named(engine, tree, people, keys_dir):
    old = signing.add_key(engine.db, "T", now=at(0))
    signing.add_key(engine.db, "T", rotate=True, now=at(2))
    engine.start("sample", "T", people["handler"], {"title": "事项"}, at(3))
    write_checkpoint(engine.db, now=at(4))
    cp = checkpoint_of(engine, "T")
    forged = signing.sign(signing.load_private(old.key_id, keys_dir),
                          signing.checkpoint_statement("T", cp.seq, cp.hash))
    tamper(engine, sa.update(checkpoints).where(checkpoints.c.seq == cp.seq)
           .values(key_id=old.key_id, signature=forged),
           sa.update(copies).where(copies.c.seq == cp.seq)
           .values(key_id=old.key_id, signature=forged))
    report = verify(engine.db, engine.registry)
    assert [(p.code, p.org) for p in report.problems] == [("signature_invalid", "T")]
    assert "当时不在用" in report.problems[0].message.zh


def test_au3_checkpoints_are_signed_and_witnessed(engine, signed):
    cp = checkpoint_of(engine, "T")
    with engine.db.read() as conn:
        keys = signing.keys_by_org(conn)
        copy = conn.execute(sa.select(copies).where(copies.c.seq == cp.seq)).one()
        county = conn.execute(sa.select(copies).where(copies.c.org == "C")).all()
    heads = json.loads(cp.heads)
    assert [h[1] for h in heads] == [signed["a"], signed["b"], signed["c"], None]
    assert heads[-1][:3] == ["T", None, 1], "the ledger head follows the case heads"
    assert cp.key_id == keys["T"][cp.key_id].key_id
    assert signing.verify_signature(keys["T"][cp.key_id].public_key, cp.signature,
                                    signing.checkpoint_statement("T", cp.seq, cp.hash))
    assert (copy.holder, copy.hash, copy.signature, copy.heads) == ("C", cp.hash,
                                                                    cp.signature, cp.heads)
    assert signing.verify_signature(keys["C"][copy.witness_key_id].public_key,
                                    copy.witness_signature,
                                    signing.witness_statement("T", cp.seq, cp.hash, "C"))
    assert county == [], "the root files with an authority outside the service"
    report = verify(engine.db, engine.registry)
    assert report.ok, report.problems
    assert (report.cases, report.checkpoints, report.signed, report.ledger_events) == (
        3, 2, 2, 2)


def test_only_changed_skips_organisations_with_nothing_new(engine, signed, people):
    assert write_checkpoint(engine.db, now=LATER, only_changed=True) == []
    engine.fire(signed["c"], "comment", people["member"], {"text": "再议"}, None, LATER)
    rows = write_checkpoint(engine.db, now=LATER, only_changed=True)
    assert [(r["org"], r["seq"]) for r in rows] == [("T", 3)]
    assert verify(engine.db, engine.registry).ok


def test_au3_without_the_private_key_file_the_checkpoint_is_unsigned_and_named(
        engine, signed, keys_dir, caplog):
    for path in keys_dir.glob("*.pem"):
        path.unlink()
    rows = write_checkpoint(engine.db, now=LATER + dt.timedelta(hours=1))
    assert all(r["signature"] is None for r in rows)
    assert "no private key" in caplog.text
    report = verify(engine.db, engine.registry)
    named = [(p.code, p.org) for p in report.problems]
    assert ("checkpoint_unsigned", "T") in named and ("witness_invalid", "T") in named


# -- detection with signed checkpoints, in the database and in bundles -----------------------


def _swap(case_id: int):
    return (sa.update(events).where(event_at(case_id, 2)).values(seq=-1),
            sa.update(events).where(event_at(case_id, 3)).values(seq=2),
            sa.update(events).where(event_at(case_id, -1)).values(seq=3))


def _delete_case(case_id: int):
    return (sa.delete(timers).where(timers.c.case_id == case_id),
            sa.delete(events).where(events.c.case_id == case_id),
            sa.delete(cases).where(cases.c.id == case_id))


SCENARIOS = {
    # name: (statements(built), expected (case key, seq, code) in the database)
    "edited_payload": (lambda b: [sa.update(events).where(event_at(b["a"], 4))
                                  .values(payload='{"text":"反对"}')],
                       [("a", 4, "payload_edited")]),
    "edited_actor": (lambda b: [sa.update(events).where(event_at(b["b"], 3))
                                .values(actor="user:qian")], [("b", 3, "event_edited")]),
    "edited_time": (lambda b: [sa.update(events).where(event_at(b["b"], 3))
                               .values(at="2026-11-01T02:02:00.000000Z")],
                    [("b", 3, "event_edited")]),
    "deleted_event": (lambda b: [sa.delete(events).where(event_at(b["a"], 3))],
                      [("a", 3, "events_missing")]),
    "swapped_events": (lambda b: list(_swap(b["a"])),
                       [("a", 2, "reordered"), ("a", 3, "reordered")]),
    "deleted_case": (lambda b: list(_delete_case(b["c"])), [("c", 2, "case_deleted")]),
    "forged_checkpoint": (lambda b: [sa.update(checkpoints).where(checkpoints.c.org == "T")
                                     .values(hash="f" * 64)],
                          [(None, None, "checkpoint_broken"),
                           (None, None, "signature_invalid")]),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_au2_au3_tampering_is_named_alike_in_the_database_bundles_and_standalone(
        engine, signed, tmp_path, name):
    statements, expected = SCENARIOS[name]
    tamper(engine, *statements(signed))
    want = [(signed.get(k, k), s, c) for k, s, c in expected]
    assert found(engine) == want
    for redacted in (False, True):
        out = tmp_path / f"{name}-{redacted}.jsonl"
        export(engine.db, out, redacted=redacted)
        # A redacted bundle holds no payloads: an edited one is simply not exported.
        shown = [] if redacted and name == "edited_payload" else want
        assert [(p.case_id, p.seq, p.code) for p in
                verify_bundle(out, engine.registry).problems] == shown
        assert [(c, s, code) for c, s, code, _org in agree(out)] == sorted(shown, key=order)


def test_au2_truncated_tail_and_case_row_disagreeing_with_replay(engine, signed, tmp_path):
    case_id = signed["a"]
    before = replay(case_events(engine.db, case_id)[:5], engine.registry)
    tamper(engine,
           sa.delete(events).where(events.c.case_id == case_id, events.c.seq > 5),
           sa.update(cases).where(cases.c.id == case_id).values(
               state=before.state, version=before.version, seq=before.seq,
               head_hash=before.head_hash,
               data=json.dumps(before.data, ensure_ascii=False, sort_keys=True)),
           sa.update(cases).where(cases.c.id == signed["b"]).values(state="rejected"))
    assert found(engine) == [(signed["b"], 4, "state_mismatch"), (case_id, 7, "truncated")]
    out = tmp_path / "cut.jsonl"
    export(engine.db, out)
    assert [(p.case_id, p.seq, p.code) for p in verify_bundle(out, engine.registry).problems
            ] == [(signed["b"], 4, "state_mismatch"), (case_id, 7, "truncated")]
    assert agree(out) == [(case_id, 7, "truncated", None)], "no replay without definitions"


def test_au3_history_rewritten_with_the_organisations_own_key_is_caught_by_the_witness(
        engine, signed, keys_dir, tmp_path):
    """An insider holding T's private key rewrites an event, the chain after it, the case
    row, and T's checkpoint with a fresh signature. Everything T holds is consistent; the
    copy countersigned by the county is not."""
    case_id = signed["b"]
    rows = case_events(engine.db, case_id)
    third = {**rows[2], "actor": "user:wang"}
    third["hash"] = event_hash(third)
    fourth = {**rows[3], "prev_hash": third["hash"]}
    fourth["hash"] = event_hash(fourth)
    cp = checkpoint_of(engine, "T")
    heads = [[o, c, s, fourth["hash"] if c == case_id else h] for o, c, s, h in
             json.loads(cp.heads)]
    text = canonical(heads).decode()
    digest = sha256_hex(text.encode())
    new_hash = checkpoint_hash(cp.seq, cp.at, digest, cp.prev_hash)
    secret = signing.load_private(cp.key_id, keys_dir)
    tamper(engine,
           sa.update(events).where(event_at(case_id, 3))
           .values(actor=third["actor"], hash=third["hash"]),
           sa.update(events).where(event_at(case_id, 4))
           .values(prev_hash=fourth["prev_hash"], hash=fourth["hash"]),
           sa.update(cases).where(cases.c.id == case_id).values(head_hash=fourth["hash"]),
           sa.update(checkpoints).where(checkpoints.c.seq == cp.seq).values(
               heads=text, heads_digest=digest, hash=new_hash,
               signature=signing.sign(secret, signing.checkpoint_statement(
                   "T", cp.seq, new_hash))))
    report = verify(engine.db, engine.registry)
    assert [(p.case_id, p.code, p.org) for p in report.problems] == [
        (None, "witness_mismatch", "T")]
    assert "上级 C 留存的副本" in report.problems[0].message.zh
    assert report.signed == 2, "T's forged signature itself verifies"
    out = tmp_path / "rewritten.jsonl"
    export(engine.db, out, redacted=True)
    assert agree(out) == [(None, None, "witness_mismatch", "T")]

    # Rewriting the county's copy too, without the county's key, is named as well.
    tamper(engine, sa.update(copies).where(copies.c.seq == cp.seq).values(
        heads=text, heads_digest=digest, hash=new_hash,
        signature=signing.sign(secret, signing.checkpoint_statement("T", cp.seq, new_hash))))
    assert [(p.code, p.org) for p in verify(engine.db, engine.registry).problems] == [
        ("witness_invalid", "T")]


def test_au3_deleted_checkpoint_and_case_are_named_from_the_upper_levels_copy(
        engine, signed, tmp_path):
    cp = checkpoint_of(engine, "T")
    tamper(engine, *_delete_case(signed["c"]),
           sa.delete(checkpoints).where(checkpoints.c.seq == cp.seq))
    report = verify(engine.db, engine.registry)
    assert [(p.case_id, p.seq, p.code, p.org) for p in report.problems] == [
        (None, None, "checkpoint_deleted", "T"), (signed["c"], 2, "case_deleted", None)]
    assert "上级 C 留存有副本" in report.problems[0].message.zh
    out = tmp_path / "gone.jsonl"
    export(engine.db, out)
    assert agree(out) == problems_of(report)


def test_au3_a_missing_witness_copy_is_named(engine, signed):
    tamper(engine, sa.delete(copies))
    assert [(p.code, p.org) for p in verify(engine.db, engine.registry).problems] == [
        ("witness_missing", "T")]


def test_au3_ledger_tampering_is_named(engine, signed, tmp_path):
    # An insider publishes a key of their own in place of T's: the ledger's own chain is
    # made consistent, but T's checkpoint lists the old ledger head and T's signature no
    # longer matches a published key.
    with engine.db.read() as conn:
        (first,) = signing.ledger_rows(conn)["T"]
    mine, public, _private = signing.generate(tmp_path / "mine")
    payload = canonical({**json.loads(first["payload"]), "key_id": mine,
                         "public_key": public}).decode()
    forged = {**first, "payload": payload,
              "payload_digest": hashlib.sha256(payload.encode()).hexdigest()}
    forged["hash"] = event_hash(forged)
    tamper(engine, sa.update(signing.ledger_events).where(
        signing.ledger_events.c.org == "T").values(
        payload=payload, payload_digest=forged["payload_digest"], hash=forged["hash"]))
    assert [(p.seq, p.code, p.org) for p in verify(engine.db, engine.registry).problems] == [
        (None, "signature_invalid", "T"), (1, "head_rewritten", "T")]
    out = tmp_path / "ledger.jsonl"
    export(engine.db, out, redacted=True)
    assert [(s, c, o) for _c, s, c, o in agree(out)] == [
        (None, "signature_invalid", "T"), (1, "head_rewritten", "T")]

    tamper(engine, sa.delete(signing.ledger_events))
    assert [(p.seq, p.code, p.org) for p in verify(engine.db, engine.registry).problems] == [
        (None, "signature_invalid", "C"), (None, "signature_invalid", "T"),
        (None, "witness_invalid", "T"), (1, "ledger_truncated", "C"),
        (1, "ledger_truncated", "T")]


def test_au2_scoped_verify_names_only_what_is_in_scope(engine, signed, people):
    other = engine.start("sample", "B", people["stranger"], {"title": "局内事项"}, at(30))
    write_checkpoint(engine.db, now=LATER + dt.timedelta(hours=1))
    tamper(engine, sa.update(events).where(event_at(other.id, 1)).values(actor="user:x"),
           sa.update(events).where(event_at(signed["a"], 2)).values(actor="user:x"))
    assert found(engine) == [(signed["a"], 2, "event_edited"), (other.id, 1, "event_edited")]
    report = verify(engine.db, engine.registry, scope=["T", "V"], collect=True)
    assert [(p.case_id, p.code) for p in report.problems] == [(signed["a"], "event_edited")]
    assert sorted(report.case_ids) == sorted(signed.values())
    assert report.checkpoints == 2, "T's two checkpoints; B's and C's are out of scope"
    assert found(engine, scope=["B"]) == [(other.id, 1, "event_edited")]


def test_legacy_global_checkpoints_still_verify(engine, people):
    """Checkpoints written before organisations had their own chains (org NULL)."""
    case = engine.start("sample", "T", people["handler"], {"title": "旧检查点"}, NOW)
    heads = canonical([["T", case.id, 1, case.head_hash]]).decode()
    digest = sha256_hex(heads.encode())
    legacy = {"seq": 1, "at": iso_utc(NOW), "heads": heads, "heads_digest": digest,
              "prev_hash": "0" * 64, "hash": checkpoint_hash(1, iso_utc(NOW), digest, "0" * 64)}
    tamper(engine, sa.insert(checkpoints).values(**legacy))
    write_checkpoint(engine.db, now=LATER)
    report = verify(engine.db, engine.registry)
    assert report.ok and report.checkpoints == 2
    tamper(engine, *_delete_case(case.id))
    assert [(p.code, p.seq) for p in verify(engine.db, engine.registry).problems] == [
        ("case_deleted", 1)]


# -- bundles: per organisation, since a date, redacted -------------------------------------


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_au4_bundle_carries_keys_tree_ledger_and_witnesses(engine, signed, tmp_path):
    out = tmp_path / "all.jsonl"
    counts = export(engine.db, out, redacted=True)
    assert counts == {"cases": 3, "events": 13, "checkpoints": 2, "ledger_events": 2}
    rows = lines(out)
    header = rows[0]
    assert header["format_version"] == 3 and header["scope"] == {
        "org": None, "since": None, "bases": []}
    assert header["definitions"][-1] == signing.LEDGER_DEFINITION
    assert {o["code"]: o["parent"] for o in header["orgs"]} == {
        "C": None, "T": "C", "V": "T", "B": "C"}
    assert sorted(k["org"] for k in header["keys"]) == ["C", "T"]
    assert [r["type"] for r in rows[1:]] == (["ledger_event"] * 2 + ["checkpoint"] * 2
                                             + ["case"] * 3 + ["event"] * 13)
    ledger = [r for r in rows if r["type"] == "ledger_event"]
    assert all(r["payload"] and r["case_id"] is None for r in ledger), \
        "key events keep their (public) payloads even when redacted"
    (t_cp,) = [r for r in rows if r["type"] == "checkpoint" and r["org"] == "T"]
    assert [w["holder"] for w in t_cp["witnesses"]] == ["C"]
    assert "heads" not in t_cp["witnesses"][0], "an identical copy's heads are not repeated"
    report = verify_bundle(out, engine.registry)
    assert report.ok and report.signed == 2
    assert agree(out) == []
    assert standalone(out)["signed"] == 2


def test_au4_bundle_for_one_organisation(engine, signed, people, tmp_path):
    other = engine.start("sample", "B", people["stranger"], {"title": "局内事项"}, at(30))
    write_checkpoint(engine.db, now=LATER + dt.timedelta(hours=1))
    out = tmp_path / "town.jsonl"
    counts = export(engine.db, out, org="T")
    assert counts == {"cases": 3, "events": 13, "checkpoints": 2, "ledger_events": 1}
    rows = lines(out)
    assert {o["code"] for o in rows[0]["orgs"]} == {"T", "V"}
    assert sorted(k["org"] for k in rows[0]["keys"]) == ["C", "T"], "the witness's key too"
    assert other.id not in {r.get("case_id") for r in rows}
    assert verify_bundle(out, engine.registry).ok and agree(out) == []
    # A case of the town dropped from its bundle is named from the checkpoint's head list.
    gone = signed["b"]
    kept = [r for r in rows if not (r["type"] == "case" and r["id"] == gone)
            and not (r["type"] == "event" and r["case_id"] == gone)]
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
    assert [(p.case_id, p.code) for p in verify_bundle(out, engine.registry).problems] == [
        (gone, "case_deleted")]
    assert [(c, code) for c, _s, code, _o in agree(out)] == [(gone, "case_deleted")]
    with pytest.raises(ValueError, match="找不到组织"):
        export(engine.db, tmp_path / "x.jsonl", org="NOPE")


def test_au4_bundle_since_a_date_holds_what_changed_and_still_verifies(
        engine, signed, people, tmp_path):
    midway = LATER + dt.timedelta(hours=1)
    engine.fire(signed["c"], "comment", people["member"], {"text": "后来"}, None,
                midway + dt.timedelta(hours=1))
    write_checkpoint(engine.db, now=midway + dt.timedelta(hours=2))
    out = tmp_path / "since.jsonl.gz"
    counts = export(engine.db, out, redacted=True, since=midway)
    assert counts == {"cases": 1, "events": 3, "checkpoints": 4, "ledger_events": 2}
    report = verify_bundle(out, engine.registry)
    assert report.ok, report.problems
    assert agree(out) == []
    # Removing the case that changed is still caught.
    import gzip

    with gzip.open(out, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    assert rows[0]["scope"]["bases"] == [1, 2]
    kept = [r for r in rows if r.get("case_id") != signed["c"] and r.get("id") != signed["c"]]
    with gzip.open(out, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in kept)
    assert [(p.case_id, p.seq, p.code) for p in
            verify_bundle(out, engine.registry).problems] == [(signed["c"], 3, "case_deleted")]
    assert [(c, s, code) for c, s, code, _o in agree(out)] == [(signed["c"], 3, "case_deleted")]


def test_version_1_bundles_still_verify(engine, people, tmp_path):
    """A bundle of the first format: one global checkpoint chain, no keys, no copies."""
    case = engine.start("sample", "T", people["handler"], {"title": "旧格式"}, NOW)
    heads = canonical([["T", case.id, 1, case.head_hash]]).decode()
    digest = sha256_hex(heads.encode())
    tamper(engine, sa.insert(checkpoints).values(
        seq=1, at=iso_utc(NOW), heads=heads, heads_digest=digest, prev_hash="0" * 64,
        hash=checkpoint_hash(1, iso_utc(NOW), digest, "0" * 64)))
    out = tmp_path / "v1.jsonl"
    export(engine.db, out)
    rows = lines(out)
    rows[0] = {k: v for k, v in rows[0].items() if k not in ("orgs", "keys", "scope")} | {
        "format_version": 1}
    rows = [{k: v for k, v in r.items() if k not in ("org", "key_id", "signature")}
            if r["type"] == "checkpoint" else r for r in rows]
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    assert verify_bundle(out, engine.registry).ok and agree(out) == []
    rows = [r for r in rows if r["type"] != "event"]
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    assert agree(out) == [(case.id, None, "no_events", None), (case.id, 1, "case_deleted", None)]
    rows[0]["format_version"] = 9
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    with pytest.raises(ValueError, match="不支持"):
        verify_bundle(out, engine.registry)


# -- as of a time ----------------------------------------------------------------------------


def test_au2_as_of_a_time_is_the_case_as_it_stood(engine, signed):
    case_id = signed["b"]
    rows = case_events_until(engine.db, case_id, iso_utc(at(5)))
    assert [r["seq"] for r in rows] == [1, 2]
    assert replay(rows, engine.registry).state == "review"
    assert case_events_until(engine.db, case_id, iso_utc(at(3))) == []
    steps = replay_steps(case_events(engine.db, case_id), engine.registry)
    assert [s.state for s, _err in steps] == ["draft", "review", "upper", "approved"]
    assert steps[1][0].data["amount"] == 2000


def test_replay_steps_say_where_replay_stops(engine, signed):
    rows = case_events(engine.db, signed["b"])
    rows[2] = {**rows[2], "to_state": "approved"}
    steps = replay_steps(rows, engine.registry)
    assert [s is None for s, _ in steps] == [False, False, True, True]
    assert "upper" in steps[2][1].zh


# -- the stand-alone verifier's Ed25519 ---------------------------------------------------------


def _load_standalone():
    spec = importlib.util.spec_from_file_location("audit_verifier", STANDALONE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_standalone_ed25519_agrees_with_cryptography(tmp_path):
    alone = _load_standalone()
    for n in range(8):
        _key_id, public, private = signing.generate(tmp_path)
        message = canonical({"type": "checkpoint", "org": "T", "seq": n, "hash": "ab" * 32})
        signature = signing.sign(private, message)
        assert alone.signature_ok(public, signature, message)
        assert signing.verify_signature(public, signature, message)
        flipped = bytes([message[0] ^ 1]) + message[1:]
        assert not alone.signature_ok(public, signature, flipped)
        bad = (int(signature[:2], 16) ^ 0x40).to_bytes(1, "big").hex() + signature[2:]
        assert not alone.signature_ok(public, bad, message)
        assert not signing.verify_signature(public, bad, message)
    assert not alone.signature_ok(public, "zz", message)


def test_the_formats_worked_example_is_right():
    """docs/audit-format.md's example event: its digest and hash recomputed from the page."""
    doc = (ROOT / "docs" / "audit-format.md").read_text(encoding="utf-8")
    example = doc[doc.index("### Worked example"):]
    line = json.loads(example.split("```json\n", 1)[1].split("\n```", 1)[0])
    header = example.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert hashlib.sha256(line["payload"].encode()).hexdigest() == line["payload_digest"]
    assert canonical({k: line[k] for k in json.loads(header)}).decode() == header
    assert hashlib.sha256(header.encode()).hexdigest() == line["hash"] == event_hash(line)
    assert line["hash"] in example.split("```text", 1)[1]


def test_standalone_uses_only_the_standard_library():
    source = STANDALONE.read_text(encoding="utf-8")
    imported = {line.split()[1].split(".")[0] for line in source.splitlines()
                if line.startswith(("import ", "from ")) and " __future__ " not in line}
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_standalone_refuses_a_file_that_is_not_a_bundle(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text('{"format": "other"}\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", "-S", str(STANDALONE), str(other)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "not a gongkai audit bundle" in done.stderr


def test_standalone_refuses_a_bundle_version_it_does_not_know(tmp_path):
    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"type": "header", "format": "gongkai-audit-bundle", '
                     '"format_version": 9}\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", "-S", str(STANDALONE), str(newer)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unsupported bundle version 9" in done.stderr


def test_standalone_checks_the_files_a_bundle_carries(engine, people, file_store, tmp_path):
    """Its plain-text report names a carried file whose bytes do not match and counts the
    files it checked (the findings themselves are compared in test_bundle.py)."""
    from tests.workflow.test_attachments import pdf
    from workflow.core.schema import Upload

    case = engine.start("sample", "T", people["handler"], {"title": "附件"}, NOW)
    engine.fire(case.id, "submit", people["handler"],
                {"amount": 1, "documents": [Upload("纪要.pdf", pdf())]}, 1, at(1))
    out = tmp_path / "files.jsonl"
    export(engine.db, out, files=file_store)
    assert standalone(out)["files"] == 1 and agree(out) == []
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rows[-1]["data"] = rows[-1]["data"][:-8] + "AAAAAAA="
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    done = subprocess.run([sys.executable, "-I", "-S", str(STANDALONE), str(out)],
                          capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 1
    assert f"case {case.id} seq 2: [file_altered] 纪要.pdf" in done.stdout
    assert "1 files" in done.stdout


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def run(run, cli_env, keys_dir):
    """The command line with this module's key folder."""
    cli_env["GONGKAI_KEY_DIR"] = str(keys_dir)
    return run


def test_cli_keygen_checkpoint_export_and_verify(run, engine, tree, people, tmp_path):
    engine.start("sample", "T", people["handler"], {"title": "事项"}, NOW)
    result = run("audit", "keygen", "--org", "T", "--org", "C", "--by", "admin")
    assert result.exit_code == 0, result.output
    assert "T：已生成密钥" in result.stdout and "Ed25519 " in result.stdout
    assert run("audit", "keygen", "--org", "T").exit_code == 2
    assert run("audit", "keygen", "--org", "NOPE").exit_code == 2
    rotated = run("audit", "keygen", "--org", "T", "--rotate")
    assert rotated.exit_code == 0 and "旧密钥已背书" in rotated.stdout
    everyone = run("audit", "keygen")
    assert everyone.exit_code == 0 and {"V：", "B："} <= {
        line[:2] for line in everyone.stdout.splitlines()}
    keys = json.loads(run("audit", "keys", "--json").stdout)
    assert [k["org"] for k in keys] == ["B", "C", "T", "T", "V"]
    assert keys[2]["retired_at"] and keys[3]["replaces"] == keys[2]["key_id"]
    with engine.db.read() as conn:
        assert signing.ledger_rows(conn)["T"][0]["actor"] == "user:admin"

    out = run("audit", "checkpoint")
    assert out.exit_code == 0
    assert "T：检查点 3 已写入（1 个案件），已用密钥" in out.stdout, "B, C, T, V in code order"
    assert "T: checkpoint 3 written (1 cases, signed with" in out.stdout
    verified = run("audit", "verify")
    assert verified.exit_code == 0 and "4 signed" in verified.stdout
    assert run("audit", "verify", "--org", "T").exit_code == 0
    assert run("audit", "verify", "--org", "NOPE").exit_code == 2

    bundle = tmp_path / "t.jsonl"
    done = run("audit", "export", "--out", str(bundle), "--org", "T", "--since", "2026-11-01",
               "--redacted")
    assert done.exit_code == 0 and "ledger events" in done.stdout
    assert run("audit", "verify", "--bundle", str(bundle)).exit_code == 0
    assert run("audit", "export", "--out", str(bundle), "--since", "yesterday").exit_code == 2
    assert run("audit", "export", "--out", str(bundle), "--org", "NOPE").exit_code == 2


def test_cli_replay_as_of(run, engine, people):
    case = engine.start("sample", "T", people["handler"], {"title": "事项"}, NOW)
    engine.fire(case.id, "submit", people["handler"], {"amount": 5}, 1, at(5))
    early = json.loads(run("audit", "replay", str(case.id), "--as-of",
                           "2026-11-02T10:01:00").stdout)
    assert (early["state"], early["seq"]) == ("draft", 1)
    assert json.loads(run("audit", "replay", str(case.id)).stdout)["state"] == "review"
    assert run("audit", "replay", str(case.id), "--as-of", "soon").exit_code == 2


def test_passphrase_protects_the_key_files(engine, tree, keys_dir, monkeypatch):
    monkeypatch.setenv("GONGKAI_KEY_PASSPHRASE", "correct horse")
    key = signing.add_key(engine.db, "T", now=NOW)
    assert b"ENCRYPTED" in (keys_dir / f"{key.key_id}.pem").read_bytes()
    assert signing.load_private(key.key_id) is not None
    monkeypatch.setenv("GONGKAI_KEY_PASSPHRASE", "wrong")
    with pytest.raises(ValueError):
        signing.load_private(key.key_id)


def test_key_dataclass_json_round_trip(engine, tree):
    key = signing.add_key(engine.db, "T", now=NOW)
    as_json = key.as_json()
    assert as_json["algorithm"] == "Ed25519" and as_json["ledger_seq"] == 1
    assert dataclasses.asdict(key)["public_key"] == key.public_key
    assert os.path.basename(str(signing.private_key_path(key.key_id))) == f"{key.key_id}.pem"
