"""Timers fire exactly once: after a crash, with two runners at once, under one lease.

The crash test runs the real command, ``gongkai timers run-due``, in a subprocess over
hundreds of due timers, kills it with SIGKILL part-way (no chance to clean up), then
runs it again to the end. A timer is marked fired in the transaction that appends its
event, so a firing is either wholly there or not at all: nothing fires twice and nothing
is lost. Runs on SQLite, and on PostgreSQL when GONGKAI_TEST_DATABASE_URL is set
(conftest's ``db_url``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from workflow.audit.chain import verify
from workflow.base.timeutil import iso_utc
from workflow.core.engine import Engine
from workflow.core.timers import acquire, release, run_due
from workflow.store.db import Database
from workflow.store.models import Definition, Lock, cases, events, timers

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 9, 28, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai
FAR = dt.datetime(2027, 6, 30, tzinfo=dt.UTC)  # every deadline and reminder is due by then
CASES = 400  # three timers each (deadline, 5- and 1-day reminders); doubled if too quick
ATTEMPTS = 5
POLL_SECONDS = 0.01
WAIT_SECONDS = 300


def gongkai() -> str:
    """The console script installed next to this interpreter (the project's venv)."""
    beside = Path(sys.executable).parent / "gongkai"
    found = str(beside) if beside.exists() else shutil.which("gongkai")
    assert found, "the gongkai console script is not installed (pip install -e .)"
    return found


def runner_env(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "GONGKAI_DATABASE_URL": db_url,
        "GONGKAI_PROCESSES": "tests.workflow.sample:definitions",
        # A console script puts its own directory on sys.path, not the working one.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        "PYTHONIOENCODING": "utf-8",
    })
    return env


def run_due_command(db_url: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([gongkai(), "timers", "run-due", "--now", iso_utc(FAR)],
                            cwd=ROOT, env=runner_env(db_url), **popen)


def submit_cases(engine: Engine, people, n: int) -> list[int]:
    """``n`` cases in review: each has a pending deadline and two pending reminders."""
    ids = []
    for i in range(n):
        case = engine.start("sample", "T", people["handler"], {"title": f"事项{i}"}, NOW)
        engine.fire(case.id, "submit", people["handler"], {"amount": 5}, 1, NOW)
        ids.append(case.id)
    return ids


def due_pending(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(timers).where(
            timers.c.status == "pending", timers.c.due_at <= FAR)).scalar_one()


def assert_each_timer_fired_once(db: Database, registry) -> None:
    """Every timer fired, each by exactly one event naming it, at the row's fired_seq."""
    with db.read() as conn:
        timer_rows = conn.execute(sa.select(timers)).all()
        event_rows = conn.execute(sa.select(events.c.case_id, events.c.seq, events.c.trigger,
                                            events.c.payload)).all()
        states = Counter(conn.execute(sa.select(cases.c.state)).scalars())
        case_count = conn.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one()
    assert due_pending(db) == 0, "no timer is left due"
    assert {t.status for t in timer_rows} == {"fired"}, Counter(t.status for t in timer_rows)
    fired = Counter((t.case_id, t.name) for t in timer_rows)
    assert set(fired.values()) == {1}
    named = Counter()
    at_seq = {}
    for ev in event_rows:
        name = json.loads(ev.payload).get("_timer")
        if name is not None:
            named[(ev.case_id, name)] += 1
            at_seq[(ev.case_id, ev.seq)] = name
    assert named == fired, "for every fired timer exactly one event carries its name"
    assert all(at_seq[(t.case_id, t.fired_seq)] == t.name for t in timer_rows)
    expires = Counter(ev.case_id for ev in event_rows if ev.trigger == "expire")
    assert len(expires) == case_count and set(expires.values()) == {1}, "one expire per case"
    assert states == {"expired": case_count}
    report = verify(db, registry)
    assert report.ok, [p.describe("en") for p in report.problems[:10]]


def kill_mid_way(proc: subprocess.Popen, db: Database, due: int, log: Path) -> int | None:
    """SIGKILL the runner once some but not all timers fired. Returns how many were still
    due after the kill, or None when the runner finished first (then scale up)."""
    threshold = max(1, due // 10)
    give_up = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < give_up:
        if proc.poll() is not None:
            assert proc.returncode == 0, log.read_text(errors="replace")
            return None
        if due - due_pending(db) >= threshold:
            os.kill(proc.pid, signal.SIGKILL)
            code = proc.wait(timeout=60)
            left = due_pending(db)
            if code == 0 and not left:
                return None  # it finished between the poll and the kill
            assert code == -signal.SIGKILL, (code, log.read_text(errors="replace"))
            return left if left else None
        time.sleep(POLL_SECONDS)
    pytest.fail(f"the runner fired no timer within {WAIT_SECONDS}s: "
                f"{log.read_text(errors='replace')}")


@pytest.mark.slow
def test_killed_runner_then_rerun_fires_every_timer_exactly_once(engine, people, db_url,
                                                                  tmp_path):
    n, left = CASES, None
    for attempt in range(ATTEMPTS):
        submit_cases(engine, people, n)
        due = due_pending(engine.db)
        log = tmp_path / f"run-due-{attempt}.log"
        with log.open("w") as stderr:
            proc = run_due_command(db_url, stdout=subprocess.DEVNULL, stderr=stderr)
            try:
                left = kill_mid_way(proc, engine.db, due, log)
            finally:
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=60)
        if left is not None:
            break
        n *= 2  # it finished before it could be killed: more timers next time
    assert left is not None, f"the runner always finished first, even with {n // 2} cases"
    assert 0 < left < due

    # The crash left only whole firings: each fired timer has its one event, chains verify.
    with engine.db.read() as conn:
        fired_rows = conn.execute(sa.select(sa.func.count()).select_from(timers)
                                  .where(timers.c.status == "fired")).scalar_one()
        named = sum(1 for p in conn.execute(sa.select(events.c.payload)).scalars()
                    if "_timer" in json.loads(p))
    assert named == fired_rows
    assert verify(engine.db, engine.registry).ok

    rerun = run_due_command(db_url, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = rerun.communicate(timeout=WAIT_SECONDS)
    assert rerun.returncode == 0, err
    assert int(out.split()[-1]) == left, "the rerun fires exactly what the crash left due"
    assert_each_timer_fired_once(engine.db, engine.registry)


def test_two_runners_at_once_fire_every_timer_exactly_once(engine, people, db_url):
    """Two runners in one process (threads), each with its own engine and connections,
    racing over the same due timers: every firing lands once."""
    submit_cases(engine, people, 60)
    due = due_pending(engine.db)
    other = Engine(Database(db_url), engine.registry)
    barrier = threading.Barrier(2)
    fired: dict[int, int] = {}
    errors: list[BaseException] = []

    def runner(i: int, eng: Engine) -> None:
        try:
            barrier.wait()
            fired[i] = run_due(eng, FAR, batch=25)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i, eng))
               for i, eng in enumerate((engine, other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT_SECONDS)
    other.db.dispose()
    assert not errors, errors
    assert fired[0] + fired[1] == due, fired
    assert_each_timer_fired_once(engine.db, engine.registry)


@pytest.mark.slow
def test_two_runner_processes_at_once_fire_every_timer_exactly_once(engine, people, db_url):
    submit_cases(engine, people, 150)
    due = due_pending(engine.db)
    procs = [run_due_command(db_url, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    counts = []
    for proc in procs:
        out, err = proc.communicate(timeout=WAIT_SECONDS)
        assert proc.returncode == 0, err
        counts.append(int(out.split()[-1]))
    assert sum(counts) == due, counts
    assert_each_timer_fired_once(engine.db, engine.registry)


def test_clock_lease_goes_to_one_holder_and_to_another_once_it_expires(db):
    second = dt.timedelta(seconds=1)
    assert acquire(db, "a", ttl=60, now=NOW)
    assert not acquire(db, "b", ttl=60, now=NOW + 10 * second), "a holds it"
    assert acquire(db, "a", ttl=60, now=NOW + 30 * second), "the holder renews"
    assert not acquire(db, "b", ttl=60, now=NOW + 89 * second), "renewed until +90s"
    assert acquire(db, "b", ttl=60, now=NOW + 91 * second), "expired: b takes over"
    assert not acquire(db, "a", ttl=60, now=NOW + 100 * second), "a lost it"
    assert acquire(db, "a", ttl=60, now=NOW + 100 * second, name="checkpoint"), "per name"
    release(db, "a")  # not the holder of the clock: no effect
    assert not acquire(db, "a", ttl=60, now=NOW + 100 * second)
    release(db, "b")
    assert acquire(db, "a", ttl=60, now=NOW + 100 * second), "released: free again"


@pytest.mark.parametrize("expired_holder", [False, True], ids=["free", "expired"])
def test_clock_lease_race_has_one_winner(db, expired_holder):
    """Several would-be holders at the same instant, with no lease yet or an expired one:
    exactly one gets it."""
    for round_ in range(5):
        now = NOW + dt.timedelta(hours=round_)
        with db.write() as conn:
            conn.execute(sa.delete(Lock.__table__))
        if expired_holder:
            assert acquire(db, "old", ttl=1, now=now - dt.timedelta(minutes=1))
        barrier = threading.Barrier(6)
        won: list[str] = []
        errors: list[BaseException] = []

        def contend(holder: str, now=now, barrier=barrier, won=won, errors=errors) -> None:
            try:
                barrier.wait()
                if acquire(db, holder, ttl=60, now=now):
                    won.append(holder)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=contend, args=(f"h{i}",)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        assert len(won) == 1, won
        with db.read() as conn:
            assert conn.execute(sa.select(Lock.__table__.c.holder)).scalar_one() == won[0]


def test_processes_starting_together_record_each_definition_once(db, registry):
    """Every command records the process definitions when it starts; two starting at once
    (the scheduler beside web workers) must not both insert one: on PostgreSQL the second
    used to fail on the primary key. Here the first is held half-way, its rows inserted
    but not committed, while the second starts."""
    table = Definition.__table__
    second_db = Database(db.url)
    errors: list[BaseException] = []

    def start_second() -> None:
        try:
            Engine(second_db, registry).record_definitions(NOW)
        except BaseException as exc:
            errors.append(exc)

    second = threading.Thread(target=start_second)
    with db.write() as conn:
        for compiled in registry.all():
            conn.execute(sa.insert(table).values(kind=compiled.kind, version=compiled.version,
                                                 fingerprint=compiled.fingerprint,
                                                 recorded_at=NOW))
        second.start()
        wait_until_blocked(db, second)
    second.join(timeout=60)
    second_db.dispose()
    assert not errors, errors
    with db.read() as conn:
        recorded = conn.execute(sa.select(table.c.kind, table.c.version)).all()
    assert sorted(map(tuple, recorded)) == sorted((c.kind, c.version) for c in registry.all())


def wait_until_blocked(db: Database, thread: threading.Thread) -> None:
    """Until the other connection waits on a lock we hold (PostgreSQL can tell; SQLite's
    writer just waits on the database lock, so give it a moment)."""
    if db.is_sqlite:
        time.sleep(0.5)
        return
    probe = sa.create_engine(db.url, isolation_level="AUTOCOMMIT")
    try:
        give_up = time.monotonic() + 30
        with probe.connect() as conn:
            while thread.is_alive() and time.monotonic() < give_up:
                waiting = conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()").scalar_one()
                if waiting:
                    return
                time.sleep(POLL_SECONDS)
    finally:
        probe.dispose()
