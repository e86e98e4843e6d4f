"""Replay, verify and checkpoints (AU1, AU2): every edit, deletion or reordering is named.

A few cases of the test-only ``sample`` process are built through the door (comments,
several states, a timer run), a checkpoint is written, and then the database is
tampered with directly in SQL, as an insider with database access would. ``verify``
must name exactly what was done: the problem code, the case and the sequence number.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from tests.history import LATER, at, event_at, tamper, three_cases
from tests.workflow.sample import SAMPLE, STATES, TRIGGERS, T
from workflow.audit.chain import case_events, checkpoints, replay, verify, write_checkpoint
from workflow.base.canonical import canonical, checkpoint_hash, event_hash, sha256_hex
from workflow.base.errors import NotAllowed
from workflow.core.declare import Ctx, State, Trigger
from workflow.core.engine import DefinitionChanged, Engine
from workflow.core.registry import Registry
from workflow.store.models import cases, events, timers


@pytest.fixture
def built(engine, people):
    """Three cases and a checkpoint over all of them.

    ``a``: start, comment, submit, comment, then the timer run: two reminders and expiry
    (7 events, ``expired``). ``b``: start, submit a large amount, approve, upper consent
    (4 events, ``approved``). ``c``: start and one comment (2 events, ``draft``).
    """
    built = three_cases(engine, people)
    a, b, c = (engine.get(built[k], people["reviewer"]) for k in "abc")
    assert (a.state, a.seq, b.state, b.seq, c.state, c.seq) == (
        "expired", 7, "approved", 4, "draft", 2)
    write_checkpoint(engine.db, now=LATER)
    return built


def found(engine, registry=None) -> list[tuple[int | None, int | None, str]]:
    report = verify(engine.db, registry or engine.registry)
    return [(p.case_id, p.seq, p.code) for p in report.problems]




# -- AU1: every change is an event ----------------------------------------------------


def test_au1_every_change_is_an_event_with_who_when_what(engine, built):
    rows = case_events(engine.db, built["a"])
    assert [(r["seq"], r["trigger"], r["from_state"], r["to_state"], r["actor"])
            for r in rows] == [
        (1, "start", None, "draft", "user:hu"),
        (2, "comment", "draft", "draft", "user:zhao"),
        (3, "submit", "draft", "review", "user:hu"),
        (4, "comment", "review", "review", "public:anonymous"),
        (5, "remind", "review", "review", "system"),
        (6, "remind", "review", "review", "system"),
        (7, "expire", "review", "expired", "system"),
    ]
    assert rows[2]["at"] == "2026-11-02T02:02:00.000000Z"
    assert json.loads(rows[2]["payload"]) == {"amount": 5}
    assert all(r["def_version"] == 1 and r["org"] == "T" for r in rows)
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]


def test_au1_changed_definition_needs_a_new_version(engine):
    more = {**SAMPLE.settings, "max_amount": 100}
    changed = Engine(engine.db, Registry([dataclasses.replace(SAMPLE, settings=more)]))
    with pytest.raises(DefinitionChanged) as refused:
        changed.record_definitions()
    assert "请提高版本号" in str(refused.value)
    fewer = Engine(engine.db, Registry([dataclasses.replace(SAMPLE, states=STATES[:-1] + (
        dataclasses.replace(STATES[-1], final=False),))]))
    with pytest.raises(DefinitionChanged):
        fewer.record_definitions()
    same = Engine(engine.db, Registry([SAMPLE]))
    same.record_definitions()  # unchanged: nothing to say
    bumped = Engine(engine.db, Registry([SAMPLE, dataclasses.replace(
        SAMPLE, version=2, settings=more)]))
    bumped.record_definitions()  # changed with a new version number: recorded


# -- AU2: rebuild from events alone ---------------------------------------------------


def test_au2_untouched_database_verifies(engine, built):
    report = verify(engine.db, engine.registry)
    assert report.ok, report.problems
    assert (report.cases, report.events, report.checkpoints) == (3, 13, 1)


def test_au2_replay_equals_the_case_row(engine, people, built):
    for case_id in built.values():
        rebuilt = replay(case_events(engine.db, case_id), engine.registry)
        row = engine.get(case_id, people["reviewer"])
        assert (rebuilt.case_id, rebuilt.kind, rebuilt.def_version, rebuilt.code,
                rebuilt.title, rebuilt.state, rebuilt.data, rebuilt.version, rebuilt.seq,
                rebuilt.head_hash) == (
            row.id, row.kind, row.def_version, row.code, row.title, row.state, row.data,
            row.version, row.seq, row.head_hash)
    rebuilt = replay(case_events(engine.db, built["a"]), engine.registry)
    assert rebuilt.data["comments"] == ["支持", "请尽快"] and rebuilt.version == 3


def test_au2_replay_of_a_prefix_is_the_case_as_it_was(engine, built):
    rows = case_events(engine.db, built["b"])
    halfway = replay(rows[:2], engine.registry)
    assert (halfway.state, halfway.version, halfway.seq) == ("review", 2, 2)
    assert halfway.data["amount"] == 2000 and halfway.head_hash == rows[1]["hash"]


def test_au2_replay_leaves_out_resolve_only_where_no_guard_or_route_decides(engine):
    """Replay follows such an arrow without ``resolve`` and parses the payload only for
    its effects (issue 21); the cases above replay to their rows through both ways."""
    sure = engine.registry.get("sample").sure_steps
    assert sure[("upper", "consent")].dest == "approved" and not sure[("upper", "consent")].effects
    assert sure[("draft", "comment")].effects
    assert not {("draft", "submit"), ("review", "approve"), ("review", "extend")} & set(sure)


# -- AU2: tampering is named ----------------------------------------------------------


def test_au2_edited_payload_is_named(engine, built):
    tamper(engine, sa.update(events).where(event_at(built["a"], 4))
           .values(payload=json.dumps({"text": "反对"}, ensure_ascii=False)))
    assert found(engine) == [(built["a"], 4, "payload_edited")]


@pytest.mark.parametrize("column, value", [
    ("actor", "user:qian"),
    ("at", "2026-11-01T02:02:00.000000Z"),
    ("to_state", "approved"),
])
def test_au2_edited_event_header_is_named(engine, built, column, value):
    tamper(engine, sa.update(events).where(event_at(built["b"], 3)).values({column: value}))
    assert found(engine) == [(built["b"], 3, "event_edited")]


def test_au2_deleted_event_is_named(engine, built):
    tamper(engine, sa.delete(events).where(event_at(built["a"], 3)))
    report = verify(engine.db, engine.registry)
    assert [(p.case_id, p.seq, p.code) for p in report.problems] == [
        (built["a"], 3, "events_missing")]
    assert "缺少第 3–3 号" in report.problems[0].message.zh


def test_au2_deleted_run_of_events_names_the_first_missing(engine, built):
    tamper(engine, sa.delete(events).where(events.c.case_id == built["a"],
                                           events.c.seq.in_([3, 4, 5])))
    report = verify(engine.db, engine.registry)
    assert [(p.case_id, p.seq, p.code) for p in report.problems] == [
        (built["a"], 3, "events_missing")]
    assert "seq 3–5 missing" in report.problems[0].message.en


def test_au2_swapped_events_are_named(engine, built):
    case_id = built["a"]
    # Exchange seq 2 and 3 through a temporary seq (uq_events_case_seq holds throughout).
    tamper(engine,
           sa.update(events).where(event_at(case_id, 2)).values(seq=-1),
           sa.update(events).where(event_at(case_id, 3)).values(seq=2),
           sa.update(events).where(event_at(case_id, -1)).values(seq=3))
    report = verify(engine.db, engine.registry)
    assert [(p.case_id, p.seq, p.code) for p in report.problems] == [
        (case_id, 2, "reordered"), (case_id, 3, "reordered")]
    assert "本应在第 3 号" in report.problems[0].message.zh
    assert "belongs at seq 2" in report.problems[1].message.en


def test_au2_relinked_event_breaks_the_chain_on_both_sides(engine, built):
    """An event re-hashed onto another predecessor no longer links either way."""
    case_id = built["a"]
    third = case_events(engine.db, case_id)[2]
    relinked = {**third, "prev_hash": "0" * 64}
    relinked["hash"] = event_hash(relinked)
    tamper(engine, sa.update(events).where(event_at(case_id, 3))
           .values(prev_hash=relinked["prev_hash"], hash=relinked["hash"]))
    assert found(engine) == [(case_id, 3, "chain_broken"), (case_id, 4, "chain_broken")]


def test_au2_deleted_case_is_named_after_a_checkpoint(engine, built):
    case_id = built["c"]
    tamper(engine,
           sa.delete(timers).where(timers.c.case_id == case_id),
           sa.delete(events).where(events.c.case_id == case_id),
           sa.delete(cases).where(cases.c.id == case_id))
    report = verify(engine.db, engine.registry)
    assert [(p.case_id, p.seq, p.code) for p in report.problems] == [
        (case_id, 2, "case_deleted")]
    assert "检查点 1" in report.problems[0].message.zh


def test_au2_truncated_case_is_named_after_a_checkpoint(engine, built):
    case_id = built["a"]
    kept = case_events(engine.db, case_id)[:5]
    before = replay(kept, engine.registry)
    # Cut the reminder and the expiry off, and set the case row back to match what is left.
    tamper(engine,
           sa.delete(events).where(events.c.case_id == case_id, events.c.seq > 5),
           sa.update(cases).where(cases.c.id == case_id).values(
               state=before.state, version=before.version, seq=before.seq,
               head_hash=before.head_hash,
               data=json.dumps(before.data, ensure_ascii=False, sort_keys=True)))
    assert before.state == "review"
    report = verify(engine.db, engine.registry)
    assert [(p.case_id, p.seq, p.code) for p in report.problems] == [
        (case_id, 7, "truncated")]
    assert "记录到第 7 号" in report.problems[0].message.zh


@pytest.mark.parametrize("values, what", [
    ({"state": "rejected"}, "state"),
    ({"version": 9}, "version"),
    ({"data": json.dumps({"amount": 1})}, "data"),
])
def test_au2_case_row_disagreeing_with_replay_is_named(engine, built, values, what):
    tamper(engine, sa.update(cases).where(cases.c.id == built["b"]).values(**values))
    report = verify(engine.db, engine.registry)
    assert [(p.case_id, p.seq, p.code) for p in report.problems] == [
        (built["b"], 4, "state_mismatch")]
    assert report.problems[0].message.en.endswith(what)


def test_au2_rewritten_history_is_caught_by_the_checkpoint(engine, built):
    """An insider who recomputes the hashes still cannot match the checkpoint."""
    case_id = built["b"]
    last = case_events(engine.db, case_id)[-1]
    forged = {**last, "actor": "user:li"}
    forged["hash"] = event_hash(forged)
    tamper(engine,
           sa.update(events).where(event_at(case_id, 4))
           .values(actor=forged["actor"], hash=forged["hash"]),
           sa.update(cases).where(cases.c.id == case_id).values(head_hash=forged["hash"]))
    assert found(engine) == [(case_id, 4, "head_rewritten")]


def test_au2_forged_checkpoint_heads_are_named(engine, built):
    # Hide case c from the checkpoint's head list.
    with engine.db.read() as conn:
        heads = json.loads(conn.execute(sa.select(checkpoints.c.heads)).scalar_one())
    assert [h[1] for h in heads] == [built["a"], built["b"], built["c"]]
    text = canonical([h for h in heads if h[1] != built["c"]]).decode()
    tamper(engine, sa.update(checkpoints).where(checkpoints.c.seq == 1).values(heads=text))
    assert found(engine) == [(None, None, "checkpoint_broken")]


def test_au2_forged_checkpoint_hash_is_named(engine, built):
    tamper(engine, sa.update(checkpoints).where(checkpoints.c.seq == 1)
           .values(hash="f" * 64))
    report = verify(engine.db, engine.registry)
    assert [(p.case_id, p.seq, p.code) for p in report.problems] == [
        (None, None, "checkpoint_broken")]
    assert "检查点 1" in report.problems[0].message.zh


def test_au2_consistently_forged_checkpoint_breaks_the_next_link(engine, built):
    """Recomputing digest and hash of an old checkpoint still breaks the chain after it."""
    write_checkpoint(engine.db, now=LATER + dt.timedelta(hours=1))
    with engine.db.read() as conn:
        first = conn.execute(sa.select(checkpoints).where(checkpoints.c.seq == 1)).one()
    heads = [h for h in json.loads(first.heads) if h[1] != built["c"]]
    text = canonical(heads).decode()
    digest = sha256_hex(text.encode())
    tamper(engine, sa.update(checkpoints).where(checkpoints.c.seq == 1).values(
        heads=text, heads_digest=digest,
        hash=checkpoint_hash(1, first.at, digest, first.prev_hash)))
    report = verify(engine.db, engine.registry)
    assert [(p.case_id, p.seq, p.code) for p in report.problems] == [
        (None, None, "checkpoint_broken")]
    assert "检查点 2" in report.problems[0].message.zh


def test_au2_each_tampered_case_is_named_once(engine, built):
    tamper(engine,
           sa.update(events).where(event_at(built["a"], 2)).values(actor="user:qian"),
           sa.delete(events).where(event_at(built["b"], 2)),
           sa.update(cases).where(cases.c.id == built["c"]).values(state="review"))
    assert found(engine) == [(built["a"], 2, "event_edited"),
                             (built["b"], 2, "events_missing"),
                             (built["c"], 2, "state_mismatch")]


@pytest.mark.parametrize("jobs", [2, 3])
def test_au2_verify_in_several_processes_finds_what_one_process_finds(
        engine, built, monkeypatch, jobs):
    """Ranges of cases checked in forked processes: the same findings, in case order,
    including a case deleted after a checkpoint (its head is owed across ranges)."""
    from workflow.audit import chain as audit

    tamper(engine,
           sa.update(events).where(event_at(built["a"], 2)).values(actor="user:qian"),
           sa.update(cases).where(cases.c.id == built["b"]).values(state="review"),
           sa.delete(timers).where(timers.c.case_id == built["c"]),
           sa.delete(events).where(events.c.case_id == built["c"]),
           sa.delete(cases).where(cases.c.id == built["c"]))
    one = verify(engine.db, engine.registry, collect=True)
    monkeypatch.setattr(audit, "PARALLEL_MIN_EVENTS", 0)
    with engine.db.read() as conn:
        assert len(audit._ranges(conn, jobs)) > 1, "really split"
    several = verify(engine.db, engine.registry, collect=True, jobs=jobs)
    assert [(p.case_id, p.seq, p.code) for p in several.problems] == [
        (p.case_id, p.seq, p.code) for p in one.problems] == [
        (built["a"], 2, "event_edited"), (built["b"], 4, "state_mismatch"),
        (built["c"], 2, "case_deleted")]
    assert (several.cases, several.events, several.case_ids) == (
        one.cases, one.events, one.case_ids) == (2, 11, [built["a"], built["b"]])


def test_au2_verify_in_several_processes_of_an_intact_database(engine, built, monkeypatch):
    from workflow.audit import chain as audit

    monkeypatch.setattr(audit, "PARALLEL_MIN_EVENTS", 0)
    report = verify(engine.db, engine.registry, jobs=2)
    assert report.ok and (report.cases, report.events) == (3, 13)


# -- AU2: replay uses the definition version recorded on the events -------------------


def mark_v2(ctx: Ctx) -> dict:
    return {"rules": "v2"}


def _v2_triggers() -> tuple[Trigger, ...]:
    changed = tuple(dataclasses.replace(t, effects=(*t.effects, mark_v2))
                    if t.name == "submit" else t for t in TRIGGERS)
    return (*changed, Trigger("withdraw", ("draft",), "withdrawn", {"handler"},
                              T("撤回", "Withdraw")))


SAMPLE_V2 = dataclasses.replace(
    SAMPLE, version=2,
    states=(*STATES, State("withdrawn", T("已撤回", "Withdrawn"), final=True)),
    triggers=_v2_triggers())


def test_au2_replay_uses_the_recorded_definition_version(engine, people):
    handler, reviewer = people["handler"], people["reviewer"]
    old = engine.start("sample", "T", handler, {"title": "旧案"}, at(0))
    assert old.def_version == 1

    # The next release declares version 2 beside version 1, over the same database.
    engine2 = Engine(engine.db, Registry([SAMPLE, SAMPLE_V2]))
    engine2.record_definitions()
    new = engine2.start("sample", "T", handler, {"title": "新案"}, at(1))
    assert new.def_version == 2

    # The old case keeps version 1 and its rules: no withdraw, no v2 effect.
    with pytest.raises(NotAllowed):
        engine2.fire(old.id, "withdraw", handler, {}, 1, at(2))
    old = engine2.fire(old.id, "submit", handler, {"amount": 5}, 1, at(3))
    assert old.def_version == 1 and "rules" not in old.data
    new = engine2.fire(new.id, "submit", handler, {"amount": 5}, 1, at(4))
    assert new.data["rules"] == "v2"
    withdrawn = engine2.start("sample", "T", handler, {"title": "撤回"}, at(5))
    assert engine2.fire(withdrawn.id, "withdraw", handler, {}, 1, at(6)).state == "withdrawn"

    assert [e["def_version"] for e in case_events(engine.db, old.id)] == [1, 1]
    assert [e["def_version"] for e in case_events(engine.db, new.id)] == [2, 2]
    for case in (old, new):
        rebuilt = replay(case_events(engine.db, case.id), engine2.registry)
        row = engine2.get(case.id, reviewer)
        assert (rebuilt.def_version, rebuilt.state, rebuilt.data, rebuilt.head_hash) == (
            row.def_version, row.state, row.data, row.head_hash)
    assert verify(engine.db, engine2.registry).ok

    # A verifier without version 2 still replays the old case and says which it cannot.
    problems = found(engine)
    assert {(case_id, code) for case_id, _seq, code in problems} == {
        (new.id, "replay_failed"), (withdrawn.id, "replay_failed")}
