"""Scenario tests of the one door on the test-only ``sample`` process (DESIGN.md)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from workflow.audit.chain import verify
from workflow.base.errors import (
    Forbidden,
    Invalid,
    NotAllowed,
    NotFound,
    StaleVersion,
    WorkflowError,
)
from workflow.core import signals
from workflow.core.engine import Engine
from workflow.people.actors import PUBLIC, SYSTEM, user
from workflow.store.db import Database
from workflow.store.models import events, timers

NOW = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai


def counts(engine) -> tuple[int, int]:
    with engine.db.read() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(timers)).scalar_one())


def start(engine, people, **payload):
    return engine.start("sample", "T", people["handler"], {"title": "办公用品", **payload}, NOW)


def test_walk_through_with_upper_consent(engine, people):
    case = start(engine, people)
    assert (case.state, case.version, case.seq) == ("draft", 1, 1)
    assert case.code == f"SP-2026-{case.id:06d}"
    case = engine.fire(case.id, "submit", people["handler"], {"amount": 2000}, 1, NOW)
    assert case.state == "review" and case.data["amount"] == 2000
    case = engine.fire(case.id, "approve", people["reviewer"], {}, case.version, NOW)
    assert case.state == "upper", "the second arrow of approve is taken for a large amount"
    with pytest.raises(Forbidden):
        engine.fire(case.id, "consent", people["reviewer"], {}, case.version, NOW)
    case = engine.fire(case.id, "consent", people["upper"], {}, case.version, NOW)
    assert case.state == "approved" and case.version == 4 and case.seq == 4
    assert verify(engine.db, engine.registry).ok


def test_outcomes_come_in_the_documented_order(engine, people):
    case = start(engine, people)
    before = counts(engine)
    # scope first: outside it the case does not exist, whatever else is wrong
    with pytest.raises(NotFound):
        engine.fire(case.id, "nonsense", people["stranger"], {"x": 1}, 99, NOW)
    # role before version
    with pytest.raises(Forbidden):
        engine.fire(case.id, "submit", people["reviewer"], {"amount": 1}, 99, NOW)
    # version before state
    with pytest.raises(StaleVersion):
        engine.fire(case.id, "reject", people["reviewer"], {}, 99, NOW)
    # state before payload
    with pytest.raises(NotAllowed) as refused:
        engine.fire(case.id, "reject", people["reviewer"], {}, case.version, NOW)
    assert "起草" in refused.value.message.zh and "Draft" in refused.value.message.en
    # payload before guards, with errors per field in both languages
    with pytest.raises(Invalid) as invalid:
        engine.fire(case.id, "submit", people["handler"], {"amount": "many", "x": 1}, 1, NOW)
    assert invalid.value.fields["amount"].zh == "应为整数"
    assert invalid.value.fields["x"].en == "Unknown field"
    # guards last, with the reason
    with pytest.raises(NotAllowed) as guard:
        engine.fire(case.id, "submit", people["handler"], {"amount": 9000}, 1, NOW)
    assert guard.value.message.zh == "金额超过上限"
    assert counts(engine) == before, "a refused action leaves nothing behind"


def test_upper_level_sees_subtree_but_not_siblings(engine, people, tree):
    case = start(engine, people)
    assert engine.get(case.id, people["upper"]).id == case.id
    with pytest.raises(NotFound):
        engine.get(case.id, people["village_reviewer"])
    with pytest.raises(NotFound):
        engine.get(case.id, people["stranger"])


def test_append_only_does_not_turn_an_open_form_stale(engine, people):
    case = start(engine, people)
    engine.fire(case.id, "comment", PUBLIC, {"text": "支持"}, None, NOW)
    case2 = engine.fire(case.id, "comment", people["member"], {"text": "同意"}, 0, NOW)
    assert case2.version == case.version and case2.seq == case.seq + 2
    assert case2.data["comments"] == ["支持", "同意"]
    assert engine.fire(case.id, "submit", people["handler"], {"amount": 5}, case.version,
                       NOW).state == "review"


def test_availability_guard_hides_and_refuses(engine, people, tree):
    case = start(engine, people)
    both = user("li", {(tree["T"], "reviewer"), (tree["T"], "handler")})
    case = engine.fire(case.id, "submit", both, {"amount": 5}, 1, NOW)
    names = [t.name for t in engine.actions(case, people["reviewer"], NOW)]
    assert "approve" not in names, "the submitter may not review their own submission"
    with pytest.raises(NotAllowed) as refused:
        engine.fire(case.id, "approve", people["reviewer"], {}, case.version, NOW)
    assert refused.value.message.en == "You may not review your own submission"
    other = user("zhou", people["reviewer"].grants)
    assert {"approve", "reject", "extend", "comment"} <= {
        t.name for t in engine.actions(case, other, NOW)}
    assert "expire" not in {t.name for t in engine.actions(case, other, NOW)}


def test_signal_is_sent_after_commit(engine, people):
    seen = []

    def listener(sender, case, event):
        with engine.db.engine.connect() as conn:
            seen.append(conn.execute(sa.select(events.c.hash)
                                     .where(events.c.hash == event["hash"])).scalar())

    signals.event_appended.connect(listener)
    try:
        case = start(engine, people)
        with pytest.raises(Invalid):
            engine.fire(case.id, "submit", people["handler"], {}, 1, NOW)
    finally:
        signals.event_appended.disconnect(listener)
    assert len(seen) == 1 and seen[0] is not None


CLIENTS = 8


def test_eight_officers_race_one_wins(engine, people, db_url):
    """Optimistic concurrency, as the review ran it: 8 clients, each with its own engine
    and connections, fire a state-changing trigger with the same expected version at
    once. Exactly one commits; the seven others get StaleVersion (409) and change
    nothing, and the case's chain stays contiguous. On SQLite and PostgreSQL."""
    case = start(engine, people)
    case = engine.fire(case.id, "submit", people["handler"], {"amount": 5}, 1, NOW)
    clients = [Engine(Database(db_url), engine.registry) for _ in range(CLIENTS)]
    results: list[object] = []
    barrier = threading.Barrier(CLIENTS)

    def act(client: Engine, trigger: str, payload: dict) -> None:
        barrier.wait()
        try:
            client.fire(case.id, trigger, people["reviewer"], payload, case.version, NOW)
            results.append("ok")
        except WorkflowError as exc:
            results.append(exc)

    threads = [threading.Thread(target=act, args=(client, *(
        ("approve", {}) if i % 2 else ("reject", {"reason": "不符"}))))
        for i, client in enumerate(clients)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for client in clients:
            client.db.dispose()
    assert results.count("ok") == 1, results
    lost = [r for r in results if r != "ok"]
    assert all(isinstance(r, StaleVersion) and r.status == 409 for r in lost), lost
    assert len(lost) == CLIENTS - 1
    with engine.db.read() as conn:
        seqs = conn.execute(sa.select(events.c.seq).where(events.c.case_id == case.id)
                            .order_by(events.c.seq)).scalars().all()
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == case.version + 1
    assert engine.get(case.id, people["reviewer"]).version == case.version + 1
    assert verify(engine.db, engine.registry).ok


def test_system_trigger_is_refused_to_people(engine, people):
    case = start(engine, people)
    case = engine.fire(case.id, "submit", people["handler"], {"amount": 5}, 1, NOW)
    with pytest.raises(Forbidden):
        engine.fire(case.id, "expire", people["reviewer"], {}, case.version, NOW)
    assert engine.fire(case.id, "expire", SYSTEM, {}, None, NOW).state == "expired"


def test_unknown_org_and_start_errors(engine, people):
    with pytest.raises(NotFound) as missing:
        engine.start("sample", "NOPE", people["handler"], {"title": "x"}, NOW)
    assert missing.value.message.zh == "找不到该组织"
    with pytest.raises(Forbidden):
        engine.start("sample", "T", people["member"], {"title": "x"}, NOW)
    with pytest.raises(Invalid) as invalid:
        engine.start("sample", "T", people["handler"], {"title": " "}, NOW)
    assert invalid.value.fields["title"].zh == "必填项"
    assert counts(engine) == (0, 0)


def test_settings_are_inherited_and_frozen_at_start(engine, people):
    import json

    from workflow.store.models import Org

    orgs = Org.__table__
    with engine.db.write() as conn:
        conn.execute(sa.update(orgs).where(orgs.c.code == "C").values(
            settings=json.dumps({"sample": {"max_amount": 100, "unknown": 1}})))
    case = start(engine, people)
    assert case.data["_settings"]["max_amount"] == 100
    assert "unknown" not in case.data["_settings"]
    with engine.db.write() as conn:
        conn.execute(sa.update(orgs).where(orgs.c.code == "C").values(settings="{}"))
    with pytest.raises(NotAllowed):
        engine.fire(case.id, "submit", people["handler"], {"amount": 500}, 1, NOW)


def test_au1_assigning_is_an_event_that_replay_rebuilds_and_verify_checks(engine, people):
    """AU1: claim, assign and release are append-only ``assign`` events, not a silent
    update of the case row, so the audit trail says who gave the case to whom."""
    from workflow.audit.chain import case_events, replay
    from workflow.core.engine import ASSIGN
    from workflow.store.models import cases

    case = start(engine, people)
    case = engine.assign(case.id, people["handler"], "li", NOW)
    assert (case.assignee, case.version, case.seq) == ("li", 1, 2), "append-only: no version"
    case = engine.fire(case.id, "submit", people["handler"], {"amount": 5}, 1, NOW)
    case = engine.assign(case.id, people["reviewer"], None, NOW)
    rows = case_events(engine.db, case.id)
    assert [(r["trigger"], r["actor"]) for r in rows] == [
        ("start", "user:hu"), (ASSIGN, "user:hu"), ("submit", "user:hu"), (ASSIGN, "user:li")]
    assert replay(rows[:2], engine.registry).assignee == "li"
    assert replay(rows, engine.registry).assignee is None
    assert verify(engine.db, engine.registry).ok
    with pytest.raises(NotFound):
        engine.assign(case.id, people["stranger"], "qian", NOW)

    with engine.db.write() as conn:
        conn.execute(sa.update(cases).where(cases.c.id == case.id).values(assignee="qian"))
    report = verify(engine.db, engine.registry)
    assert [(p.code, p.message.en) for p in report.problems] == [
        ("state_mismatch", "case row disagrees with replay: assignee")]


def test_start_many_opens_all_cases_or_none(engine, people):
    """A catalogue made from a template (R2) is one transaction: a bad entry leaves none."""
    before = counts(engine)
    with pytest.raises(Invalid) as bad:
        engine.start_many("sample", "T", people["handler"],
                          [{"title": "第一条"}, {"title": ""}, {"title": "第三条"}], NOW)
    assert set(bad.value.fields) == {"2.title"}, "the entry is named by its position"
    assert counts(engine) == before
    made = engine.start_many("sample", "T", people["handler"],
                             [{"title": "第一条"}, {"title": "第二条"}], NOW)
    assert [c.title for c in made] == ["第一条", "第二条"] and all(c.seq == 1 for c in made)
    assert verify(engine.db, engine.registry).ok


def test_a_guard_refuses_on_a_field_with_422(db, tree):
    """A guard that needs the day (which a schema's checks cannot see) names the field
    that must change: the door answers ``Invalid`` with that field's error, nothing
    appended."""
    import dataclasses

    from tests.workflow.sample import SAMPLE
    from workflow.base.text import Text
    from workflow.core.declare import Field, Schema, Trigger
    from workflow.core.engine import Engine
    from workflow.core.registry import Registry, refusal_text

    def not_before_today(ctx):
        if ctx.payload["on"] < ctx.today.isoformat():
            return {"on": Text("不能早于今天", "Not before today")}
        return None

    dated = Trigger("plan", ("draft",), None, {"handler"}, Text("排期", "Plan"),
                    Schema((Field("on", "date", Text("日期", "Date")),)),
                    guards=(not_before_today,), append_only=True)
    eng = Engine(db, Registry([dataclasses.replace(SAMPLE, kind="dated",
                                                   triggers=(*SAMPLE.triggers, dated))]))
    eng.record_definitions()
    handler = user("hu", {(tree["T"], "handler")})
    case = eng.start("dated", "T", handler, {"title": "会议"}, NOW)
    with pytest.raises(Invalid) as refused:
        eng.fire(case.id, "plan", handler, {"on": "2026-11-01"}, None, NOW)
    assert refused.value.fields["on"].en == "Not before today"
    assert eng.get(case.id, handler).seq == 1
    assert eng.fire(case.id, "plan", handler, {"on": "2026-11-02"}, None, NOW).seq == 2
    assert refusal_text({"on": Text("甲", "a")}) == Text("on：甲", "on: a")


@pytest.mark.parametrize("value", [[None], {"a": 1}, ["draft"], 5, True])
def test_a_choice_of_the_wrong_type_is_a_field_error(value):
    """Issue 20, item 3: ``[null]`` where a choice is expected was a 500 (unhashable)."""
    from workflow.core.schema import Field, Schema

    _clean, errors = Schema((Field("kind", "choice", choices={"a": None}),)).validate(
        {"kind": value})
    assert "kind" in errors


def test_org_settings_changed_elsewhere_reach_every_engine(db, registry, tree, people):
    """Issue 21: each process caches the organisation tree and settings; a change made by
    another process (here plain SQL beside a second engine) is seen at the next start."""
    import json

    from workflow.store.models import orgs

    first, second = Engine(db, registry), Engine(db, registry)
    first.record_definitions()
    before = second.start("sample", "T", people["handler"], {"title": "前"})
    with db.write() as conn:
        conn.execute(sa.update(orgs).where(orgs.c.code == "T").values(
            settings=json.dumps({"sample": {"deadline_days": 3}})))
    after = second.start("sample", "T", people["handler"], {"title": "后"})
    assert before.data["_settings"]["deadline_days"] != 3
    assert after.data["_settings"]["deadline_days"] == 3
    assert first.get(after.id, people["handler"]) == after
