"""Stateful property test of the one door over the ``sample`` process (STYLE.md).

Hypothesis drives random sequences of: starting cases; firing any trigger by any of the
people (right or stale ``expected_version``, payloads in and out of bounds); taking an
action the inbox offers; moving a fake clock forward, with and without running the due
timers at it. Every event is written at the fake ``now``. After every step:

- replaying each case's events gives its row (state, data, version, seq, head hash);
- ``verify`` finds every chain intact;
- no timer fired twice: per case and timer name, the events naming it in ``_timer``
  match the fired timer rows one to one (at the row's ``fired_seq``), and no timer failed;
- a live timer sits in a state it runs (or pauses) in, so a final case has none; the due
  date is the pending deadline's;
- time never runs backwards within a case.

A refused action must leave the database exactly as it was, and the outcome decided
before the case's state matters (scope 404, role 403, version 409) is predicted.

Each example gets an empty database: a new SQLite file (a copy of one migrated file),
or, when GONGKAI_TEST_DATABASE_URL is set, the worker's PostgreSQL database (conftest's
``pg_url``) emptied the way conftest's ``db_url`` empties it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import event as note
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import SQLModel

from tests.workflow.sample import definitions
from workflow.audit.chain import case_events, replay, verify
from workflow.base.errors import Forbidden, Invalid, NotAllowed, NotFound, StaleVersion
from workflow.base.timeutil import iso_utc
from workflow.core.engine import Engine
from workflow.core.registry import Registry
from workflow.core.timers import run_due
from workflow.people.actors import SYSTEM, user
from workflow.people.orgs import add_org
from workflow.store import migrate
from workflow.store.db import Database
from workflow.store.models import cases, events, orgs, timers

EXPECTED = (NotFound, Forbidden, StaleVersion, NotAllowed, Invalid)

# Monday 10:00 in Shanghai, just before the National Day week: deadlines skip holidays.
START = dt.datetime(2026, 9, 28, 2, 0, tzinfo=dt.UTC)

registry = Registry(definitions())
SAMPLE = registry.get("sample")
PROCESS = SAMPLE.process
FINAL = {s.name for s in PROCESS.states if s.final}
TIMER_SPECS = {t.name: t for t in PROCESS.timers}

PEOPLE = ("handler", "reviewer", "upper", "member", "stranger")
# Every trigger people might try, the runner's own ``expire`` included (always refused).
TRIGGERS = tuple(dict.fromkeys(t.name for t in PROCESS.triggers))

texts = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["同意", "  ", "😀\u2028\x00", "不符合规定"])
NO_PAYLOAD = st.just({}) | st.just({"x": 1})
PAYLOADS = {
    "submit": st.fixed_dictionaries({"amount": st.integers(-3, 8000)})
    | st.sampled_from([{"amount": 999}, {"amount": 1000}, {"amount": 5000}, {"amount": 5001},
                       {}, {"amount": "many"}]),
    "reject": st.fixed_dictionaries({"reason": texts}),
    "extend": st.fixed_dictionaries({"days": st.integers(0, 25)}),
    "comment": st.fixed_dictionaries({"text": texts}),
}
MAX_LIVE_CASES = 3  # a few cases taken far find more than many barely started
offsets = st.sampled_from([0, 0, 0, -1, 1])  # expected_version = version + offset


def payloads(trigger: str) -> st.SearchStrategy[dict]:
    return PAYLOADS.get(trigger, NO_PAYLOAD)


def empty_database(pg_url: str | None, template: Path, tmp_dir: str) -> Database:
    """A migrated database with no rows: a copy of the migrated SQLite template, or the
    PostgreSQL database truncated (as conftest's ``db_url`` does between tests)."""
    if pg_url:
        db = Database(pg_url)
        names = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        return db
    if not template.exists():
        db = Database(f"sqlite:///{template}")
        migrate.upgrade(db)
        db.dispose()  # the last connection closing folds the WAL into the file
    shutil.copyfile(template, f"{tmp_dir}/gongkai.db")
    return Database(f"sqlite:///{tmp_dir}/gongkai.db")


class SampleProcess(RuleBasedStateMachine):
    """One example: one database, one fake clock, the people of conftest's ``people``."""

    pg_url: str | None = None
    template: Path = Path(tempfile.gettempdir()) / "unused.db"

    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.tmp_dir = tempfile.mkdtemp(prefix="gongkai-stateful-")
        self.db = empty_database(self.pg_url, self.template, self.tmp_dir)
        self.engine = Engine(self.db, registry)
        self.now = START
        self.engine.record_definitions(self.now)
        with self.db.write() as conn:
            paths = {code: add_org(conn, code, f"组织{code}", parent, kind)["path"]
                     for code, parent, kind in (("C", None, "county_committee"),
                                                ("T", "C", "town"), ("B", "C", "bureau"))}
        self.town = paths["T"]
        self.people = {
            "handler": user("hu", {(paths["T"], "handler")}),
            "reviewer": user("li", {(paths["T"], "reviewer")}),
            "upper": user("wang", {(paths["C"], "reviewer")}),
            "member": user("zhao", {(paths["T"], "member")}),
            "stranger": user("qian", {(paths["B"], "handler"), (paths["B"], "reviewer")}),
        }
        # Who may take which trigger on a case of the town, read off the declaration.
        self.may = {who: {name for name in TRIGGERS
                          if actor.holds(SAMPLE.first(name).roles, self.town)}
                    for who, actor in self.people.items()}

    def teardown(self) -> None:
        self.db.dispose()
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    # -- reading the database ----------------------------------------------------------

    def snapshot(self) -> tuple:
        """Everything a refused action must leave untouched."""
        with self.db.read() as conn:
            return tuple(
                [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]
                for table in (cases, events, timers))

    def event_count(self) -> int:
        with self.db.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()

    def live_cases(self) -> int:
        with self.db.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(cases)
                                .where(cases.c.state.not_in(FINAL))).scalar_one()

    def case_rows(self) -> list:
        with self.db.read() as conn:
            return conn.execute(sa.select(cases).order_by(cases.c.id)).all()

    def timer_rows(self) -> list:
        with self.db.read() as conn:
            return conn.execute(sa.select(timers).order_by(timers.c.id)).all()

    # -- the door ----------------------------------------------------------------------

    def predicted_refusal(self, who: str, trigger: str, offset: int):
        """The outcome fixed before the case's state matters: scope, role, version."""
        if not self.people[who].sees(self.town, None):
            return NotFound
        if trigger not in self.may[who]:
            return Forbidden
        if offset != 0 and not SAMPLE.first(trigger).append_only:
            return StaleVersion
        return None

    def fire(self, case_id: int, trigger: str, who: str, offset: int, payload: dict):
        """Fire through the door at the fake clock; a refusal must leave nothing behind.
        Returns the refusal, or None when the trigger was applied."""
        with self.db.read() as conn:
            version, seq = conn.execute(sa.select(cases.c.version, cases.c.seq)
                                        .where(cases.c.id == case_id)).one()
        before = self.snapshot()
        predicted = self.predicted_refusal(who, trigger, offset)
        try:
            case = self.engine.fire(case_id, trigger, self.people[who], payload,
                                    version + offset, now=self.now)
        except EXPECTED as exc:
            note(f"{trigger} refused: {type(exc).__name__}")
            assert self.snapshot() == before, f"refused {trigger} left something behind"
            if predicted is not None:
                assert type(exc) is predicted, (who, trigger, offset, exc)
            return exc
        note(f"{trigger} done: {case.state}")
        assert predicted is None, f"{who} {trigger} offset {offset} should be {predicted}"
        assert case.seq == seq + 1
        append_only = SAMPLE.first(trigger).append_only
        assert case.version == version + (0 if append_only else 1)
        last = case_events(self.db, case_id)[-1]
        assert (last["seq"], last["trigger"], last["actor"], last["at"]) == (
            case.seq, trigger, self.people[who].label, iso_utc(self.now))
        return None

    # -- rules ---------------------------------------------------------------------------

    @initialize(target=cases, deadline_days=st.sampled_from([10, 3, 1]),
                reminders=st.sampled_from([[5, 1], [2], []]))
    def first_case(self, deadline_days, reminders):
        """The town's own settings (frozen into each case at start), then a first case.
        Short deadlines make timers fall due within an example's few steps."""
        with self.db.write() as conn:
            conn.execute(sa.update(orgs).where(orgs.c.code == "T").values(settings=json.dumps(
                {"sample": {"deadline_days": deadline_days, "reminders": reminders}})))
        return self.engine.start("sample", "T", self.people["handler"], {"title": "第一件"},
                                 self.now).id

    @precondition(lambda self: self.live_cases() < MAX_LIVE_CASES)
    @rule(target=cases, who=st.sampled_from(["handler", "handler", "handler", "member",
                                             "stranger"]),
          title=st.sampled_from(["办公用品", "会议😀"]) | texts,
          meeting_in_hours=st.none() | st.integers(-48, 24 * 40))
    def start(self, who, title, meeting_in_hours):
        payload = {"title": title}
        if meeting_in_hours is not None:  # the notice timer falls due 10 days before
            payload["meeting_at"] = (self.now + dt.timedelta(hours=meeting_in_hours)).isoformat()
        before = self.snapshot()
        try:
            case = self.engine.start("sample", "T", self.people[who], payload, self.now)
        except EXPECTED as exc:
            note(f"start refused: {type(exc).__name__}")
            assert self.snapshot() == before, "a refused start leaves nothing behind"
            if who != "handler":
                assert isinstance(exc, NotFound if who == "stranger" else Forbidden)
            return multiple()
        note("start done")
        assert who == "handler"
        assert (case.state, case.version, case.seq) == (PROCESS.initial, 1, 1)
        assert case_events(self.db, case.id)[0]["at"] == iso_utc(self.now)
        return case.id

    @rule(case_id=cases, trigger=st.sampled_from(TRIGGERS), offset=offsets, data=st.data())
    def fire_any(self, case_id, trigger, offset, data):
        """Any trigger (the runner's too) by anyone, half the time someone who may take
        it, with the right or a stale version."""
        rightful = sorted(who for who in PEOPLE if trigger in self.may[who])
        anyone = st.sampled_from(PEOPLE)
        who = data.draw(st.sampled_from(rightful) | anyone if rightful else anyone, "who")
        self.fire(case_id, trigger, who, offset, data.draw(payloads(trigger), "payload"))

    @rule(data=st.data())
    def take_an_offered_action(self, data):
        """An action the inbox offers someone on some case (``actions``), sent with the
        right version: only the payload or a payload guard may refuse it now. This is what
        moves cases along, so most examples reach the later states and their timers."""
        offers = []
        for row in self.case_rows():
            case = self.engine.get(row.id, SYSTEM)
            for who in PEOPLE:
                actor = self.people[who]
                if not actor.sees(case.org_path, case.code):
                    continue
                names = [t.name for t in self.engine.actions(case, actor, self.now)]
                assert set(names) <= self.may[who], (who, names)
                assert names or who not in ("handler", "reviewer") or row.state in FINAL, (
                    "a live case offers its officers at least a comment")
                offers.extend((row.id, who, name) for name in names)
        if not offers:
            note("nothing offered")
            return
        # Choose the action first: otherwise comments, offered to nearly everyone, crowd
        # out the moves that change state.
        trigger = data.draw(st.sampled_from(sorted({name for _, _, name in offers})),
                            label="trigger")
        case_id, who, _ = data.draw(st.sampled_from(
            [offer for offer in offers if offer[2] == trigger]), label="offer")
        refused = self.fire(case_id, trigger, who, 0, data.draw(payloads(trigger), "payload"))
        assert refused is None or isinstance(refused, Invalid | NotAllowed), refused

    @rule(hours=st.integers(1, 72) | st.integers(1, 20).map(lambda days: 24 * days))
    def advance_clock(self, hours):
        """Time passes without the runner: people may act after a deadline passed."""
        self.now += dt.timedelta(hours=hours)

    @rule(hours=st.sampled_from([0, 1, 24, 24 * 3, 24 * 7, 24 * 15]) | st.integers(1, 24 * 20))
    def run_timers(self, hours):
        self.now += dt.timedelta(hours=hours)
        before = self.event_count()
        fired = run_due(self.engine, now=self.now)
        note(f"timers fired: {min(fired, 3)}{'+' if fired > 3 else ''}")
        assert self.event_count() == before + fired, "one event per fired timer"
        assert run_due(self.engine, now=self.now) == 0, "a second run at once fires nothing"
        for t in self.timer_rows():
            if t.status == "pending":  # SQLite hands back naive UTC, PostgreSQL aware
                due_at = t.due_at if t.due_at.tzinfo else t.due_at.replace(tzinfo=dt.UTC)
                assert due_at > self.now, f"timer {t.name} left due"

    # -- invariants ------------------------------------------------------------------------
    # One invariant reading the tables once per step (PostgreSQL round trips add up);
    # each check below is a plain method so a failure names it in the traceback.

    @invariant()
    def invariants_hold(self):
        with self.db.read() as conn:
            rows = conn.execute(sa.select(cases).order_by(cases.c.id)).all()
            timer_rows = conn.execute(sa.select(timers).order_by(timers.c.id)).all()
            event_rows = conn.execute(sa.select(events.c.case_id, events.c.seq,
                                                events.c.trigger, events.c.actor,
                                                events.c.at, events.c.payload)
                                      .order_by(events.c.case_id, events.c.seq)).all()
        self.replay_equals_every_case_row(rows)
        self.every_chain_verifies()
        self.no_timer_fired_twice(timer_rows, event_rows)
        self.live_timers_sit_where_they_run(rows, timer_rows)
        self.due_date_is_the_pending_deadline(rows, timer_rows)
        self.time_never_runs_backwards_in_a_case(event_rows)

    def replay_equals_every_case_row(self, rows):
        for row in rows:
            rebuilt = replay(case_events(self.db, row.id), registry)
            assert (rebuilt.state, rebuilt.data, rebuilt.version, rebuilt.seq,
                    rebuilt.head_hash) == (row.state, json.loads(row.data), row.version,
                                           row.seq, row.head_hash), f"case {row.id}"

    def every_chain_verifies(self):
        report = verify(self.db, registry)
        assert report.ok, [p.describe("en") for p in report.problems]

    @staticmethod
    def no_timer_fired_twice(timer_rows, event_rows):
        """Per case and timer name, the events naming it in ``_timer`` and the fired rows
        match one to one, each at the row's ``fired_seq``; no timer failed."""
        fired_rows: Counter = Counter()
        for t in timer_rows:
            assert t.status != "failed", f"timer {t.name} failed: {t.note}"
            if t.status == "fired":
                fired_rows[(t.case_id, t.name)] += 1
                assert t.fired_seq is not None and t.fired_seq > t.started_seq
        fired_events: Counter = Counter()
        by_seq = {}
        for ev in event_rows:
            name = json.loads(ev.payload).get("_timer")
            if name is not None:
                assert ev.actor == "system", "only the runner names a timer"
                fired_events[(ev.case_id, name)] += 1
                by_seq[(ev.case_id, ev.seq)] = (name, ev.trigger)
        assert fired_events == fired_rows
        for t in timer_rows:
            if t.status == "fired":
                assert by_seq[(t.case_id, t.fired_seq)] == (t.name, t.trigger)

    @staticmethod
    def live_timers_sit_where_they_run(rows, timer_rows):
        """A pending timer only in a state it runs in, a paused one only where it pauses:
        leaving cancels them, so a case in a final state has none."""
        state = {row.id: row.state for row in rows}
        for t in timer_rows:
            spec = TIMER_SPECS[t.name.split(".")[0]]
            if t.status == "pending":
                assert state[t.case_id] in spec.states, (t.name, state[t.case_id])
            elif t.status == "paused":
                assert state[t.case_id] in spec.pauses, (t.name, state[t.case_id])
                assert "." not in t.name, "reminders are not paused but cancelled"
            if t.status in ("pending", "paused"):
                assert state[t.case_id] not in FINAL

    @staticmethod
    def due_date_is_the_pending_deadline(rows, timer_rows):
        """Each sets-due timer is live exactly once while the case is where it runs or
        pauses, and the case's due date is its due date (none while it is paused)."""
        live: dict[tuple[int, str], list] = {}
        for t in timer_rows:
            if t.status in ("pending", "paused") and "." not in t.name:
                live.setdefault((t.case_id, t.name), []).append(t)
        for row in rows:
            due = None
            for spec in PROCESS.timers:
                if not spec.sets_due:
                    continue
                found = [t.status for t in live.get((row.id, spec.name), [])]
                if row.state in spec.states:
                    assert found == ["pending"], (row.id, row.state, spec.name, found)
                    due = live[(row.id, spec.name)][0]
                elif row.state in spec.pauses:
                    assert found == ["paused"], (row.id, row.state, spec.name, found)
                else:
                    assert found == [], (row.id, row.state, spec.name, found)
            if due is None:
                assert row.due_at is None, (row.id, row.state)
            else:
                assert (row.due_at, row.due_date) == (due.due_at, due.due_date)

    def time_never_runs_backwards_in_a_case(self, event_rows):
        last: dict[int, str] = {}
        for ev in event_rows:
            assert ev.at <= iso_utc(self.now)
            assert ev.at >= last.get(ev.case_id, ""), f"case {ev.case_id} went back in time"
            last[ev.case_id] = ev.at


SETTINGS = settings(max_examples=30, stateful_step_count=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def test_sample_process_as_a_state_machine(pg_url, tmp_path):
    class OnThisDatabase(SampleProcess):
        pass

    OnThisDatabase.pg_url = pg_url
    OnThisDatabase.template = tmp_path / "migrated.db"
    run_state_machine_as_test(OnThisDatabase, settings=SETTINGS)


def test_nul_in_text_is_invalid_on_every_database(engine, people):
    """Found by the machine above on PostgreSQL, whose text columns cannot hold NUL: the
    title went into ``cases.title`` and the driver failed with a bare DataError. The door
    now refuses it as a field error on both databases (SQLite would have stored it)."""
    with pytest.raises(Invalid) as refused:
        engine.start("sample", "T", people["handler"], {"title": "会议\x00"}, START)
    assert "title" in refused.value.fields
    case = engine.start("sample", "T", people["handler"], {"title": "会议"}, START)
    with pytest.raises(Invalid):
        engine.fire(case.id, "comment", people["member"], {"text": "\x00"}, None, START)
