"""The same five-step work on gongkai and on its peers, side by side in one run.

Each case is one start (the item is drafted) and four steps (review, approve, publish,
archive), five transactions each with its audit record, on SQLite in WAL mode with
``synchronous=FULL``, every system on a fresh file of its own:

* ``gongkai``: ``Engine.start`` and ``Engine.fire`` on the ``bench_peers`` declaration
  (``bench/processes.py``): the whole door, hash-chained events, the case row.
* ``raw``: the bare SQL through the ``sqlite3`` module on gongkai's migrated schema:
  BEGIN IMMEDIATE, INSERT case + INSERT event (start) or SELECT + UPDATE + INSERT event
  (a step), the two SHA-256 digests, COMMIT.
* ``transitions_sqlmodel``: the naive approach, one shared ``transitions.Machine``, the
  case and its events in SQLModel tables, one ``Session`` and commit per step.
* ``spiffworkflow``: SpiffWorkflow 3.2 running ``bench/peers.bpmn`` (five user tasks); the
  workflow is serialised to JSON into its SQLite row after every step (and read back and
  deserialised before the next), an event row beside it.

``GONGKAI_BENCH_SYNCHRONOUS=OFF`` runs every system without fsync, to show the CPU side
alone. The systems run in alternating rounds (a slice of cases each, round after round) so
that a change in the disk's speed hits all alike. Printed: steps/s, start/s and fire/s
per system and the ratios gongkai ÷ each. Afterwards every case of every system must
be archived with five events, and gongkai's ``verify`` must pass. SpiffWorkflow is in
the ``bench`` extra; without it that system is skipped with a message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    cli,
    open_site,
    remove_db,
    show,
    show_ratio,
    synchronous,
    work_dir,
)
from bench.processes import PEER_STATES  # noqa: E402
from workflow.audit.chain import verify  # noqa: E402

DEFAULT_SIZE = 5000
ROUNDS = 5
STEPS = PEER_STATES[1:]  # each step is named after the state it reaches
BPMN = Path(__file__).with_name("peers.bpmn")
PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=60000")
AT = "2026-03-02T01:00:00.000000Z"


def note(i: int, step: str) -> str:
    return f'{{"note":"第{i}件{step}"}}'


def pragmas() -> tuple[str, ...]:
    """The engine's pragmas (``synchronous`` as the run asks: ``bench.common.synchronous``)."""
    return (*PRAGMAS, f"synchronous={synchronous()}")


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in pragmas():
        conn.execute(f"PRAGMA {pragma}")
    return conn


class Gongkai:
    name = "gongkai"

    def __init__(self, path: Path) -> None:
        self.site = open_site(path)
        self.views: dict[int, object] = {}

    def start(self, i: int) -> None:
        site = self.site
        self.views[i] = site.engine.start("bench_peers", site.org_code, site.actor,
                                          {"title": f"基准 {i}"})

    def step(self, i: int, step: str) -> None:
        view = self.views[i]
        self.views[i] = self.site.engine.fire(view.id, step, self.site.actor,
                                              {"note": f"第{i}件{step}"}, view.version)

    def completed(self) -> tuple[int, int]:
        with self.site.db.read() as conn:
            done = conn.exec_driver_sql(
                "SELECT count(*) FROM cases WHERE kind = 'bench_peers' AND state = ?",
                (PEER_STATES[-1],)).scalar_one()
            events = conn.exec_driver_sql("SELECT count(*) FROM events e JOIN cases c ON "
                                          "c.id = e.case_id WHERE c.kind = 'bench_peers'"
                                          ).scalar_one()
        return done, events

    def verify(self) -> bool:
        return verify(self.site.db, self.site.registry).ok

    def close(self) -> None:
        self.site.close()


class Raw:
    """What reaches the disk for the same work, on gongkai's schema."""

    name = "raw"
    INSERT_CASE = ("INSERT INTO cases (kind, def_version, org_id, code, title, state, data, "
                   "version, seq, head_hash, due_provisional, created_at, updated_at) "
                   "VALUES ('bench_peers', 1, ?, ?, ?, ?, ?, 1, 1, ?, 0, ?, ?)")
    SELECT = "SELECT state, data, version, seq, head_hash FROM cases WHERE id = ?"
    UPDATE = ("UPDATE cases SET state = ?, version = ?, seq = ?, head_hash = ?, updated_at = ? "
              "WHERE id = ? AND seq = ?")
    INSERT_EVENT = ("INSERT INTO events (case_id, seq, kind, def_version, org, \"trigger\", "
                    "from_state, to_state, actor, at, payload, payload_digest, prev_hash, "
                    "hash) VALUES (?, ?, 'bench_peers', 1, 'BENCH', ?, ?, ?, 'user:bench', ?, "
                    "?, ?, ?, ?)")

    def __init__(self, path: Path) -> None:
        site = open_site(path)
        self.org_id = site.org_id
        site.close()
        self.conn = connect(path)
        self.ids: dict[int, int] = {}

    def start(self, i: int) -> None:
        conn = self.conn
        payload = f'{{"title":"基准 {i}"}}'
        digest = hashlib.sha256(payload.encode()).hexdigest()
        head = hashlib.sha256(f"{i}1{digest}".encode()).hexdigest()
        conn.execute("BEGIN IMMEDIATE")
        case_id = conn.execute(self.INSERT_CASE, (self.org_id, f"RAW-{i:06d}", f"基准 {i}",
                                                  PEER_STATES[0], payload, head,
                                                  "2026-03-02 01:00:00.000000",
                                                  "2026-03-02 01:00:00.000000")).lastrowid
        conn.execute(self.INSERT_EVENT, (case_id, 1, "start", None, PEER_STATES[0], AT,
                                         payload, digest, "0" * 64, head))
        conn.execute("COMMIT")
        self.ids[i] = case_id

    def step(self, i: int, step: str) -> None:
        conn, case_id = self.conn, self.ids[i]
        conn.execute("BEGIN IMMEDIATE")
        state, _data, version, seq, head = conn.execute(self.SELECT, (case_id,)).fetchone()
        payload = note(i, step)
        digest = hashlib.sha256(payload.encode()).hexdigest()
        new_head = hashlib.sha256(f"{head}{seq}{digest}".encode()).hexdigest()
        conn.execute(self.UPDATE, (step, version + 1, seq + 1, new_head,
                                   "2026-03-02 01:00:00.000000", case_id, seq))
        conn.execute(self.INSERT_EVENT, (case_id, seq + 1, step, state, step, AT, payload,
                                         digest, head, new_head))
        conn.execute("COMMIT")

    def completed(self) -> tuple[int, int]:
        done = self.conn.execute("SELECT count(*) FROM cases WHERE kind = 'bench_peers' "
                                 "AND state = ?", (PEER_STATES[-1],)).fetchone()[0]
        events = self.conn.execute("SELECT count(*) FROM events "
                                   "WHERE kind = 'bench_peers'").fetchone()[0]
        return done, events

    def close(self) -> None:
        self.conn.close()


class TransitionsSQLModel:
    """One shared ``transitions.Machine``; the case and its events in SQLModel tables."""

    name = "transitions_sqlmodel"

    def __init__(self, path: Path) -> None:
        import sqlalchemy as sa
        from sqlalchemy.orm import registry
        from sqlmodel import Field, Session, SQLModel, create_engine
        from transitions import Machine

        class Base(SQLModel, registry=registry()):  # not gongkai's metadata
            pass

        class PeerCase(Base, table=True):
            __tablename__ = "peer_cases"
            id: int | None = Field(default=None, primary_key=True)
            title: str
            state: str
            version: int = 1
            updated_at: dt.datetime

        class PeerEvent(Base, table=True):
            __tablename__ = "peer_events"
            id: int | None = Field(default=None, primary_key=True)
            case_id: int = Field(foreign_key="peer_cases.id", index=True)
            seq: int
            trigger: str
            from_state: str | None
            to_state: str
            actor: str
            at: dt.datetime
            payload: str

        remove_db(path)
        self.engine = create_engine(f"sqlite:///{path}")

        @sa.event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            for pragma in pragmas():
                dbapi_connection.execute(f"PRAGMA {pragma}")

        Base.metadata.create_all(self.engine)
        self.Session, self.Case, self.Event = Session, PeerCase, PeerEvent
        self.machine = Machine(model=None, states=list(PEER_STATES), initial=PEER_STATES[0],
                               transitions=[{"trigger": dest, "source": src, "dest": dest}
                                            for src, dest in zip(PEER_STATES, STEPS,
                                                                 strict=False)],
                               auto_transitions=False)
        self.model = type("Doc", (), {})()
        self.machine.add_model(self.model)
        self.ids: dict[int, int] = {}
        self.seqs: dict[int, int] = {}

    def start(self, i: int) -> None:
        now = dt.datetime.now(dt.UTC)
        with self.Session(self.engine) as session:
            case = self.Case(title=f"基准 {i}", state=PEER_STATES[0], updated_at=now)
            session.add(case)
            session.flush()
            session.add(self.Event(case_id=case.id, seq=1, trigger="start", from_state=None,
                                   to_state=case.state, actor="user:bench", at=now,
                                   payload=f'{{"title":"基准 {i}"}}'))
            session.commit()
            self.ids[i] = case.id
        self.seqs[i] = 1

    def step(self, i: int, step: str) -> None:
        now = dt.datetime.now(dt.UTC)
        with self.Session(self.engine) as session:
            case = session.get(self.Case, self.ids[i])
            before = case.state
            self.machine.set_state(before, model=self.model)
            self.model.trigger(step)
            case.state, case.version, case.updated_at = self.model.state, case.version + 1, now
            self.seqs[i] += 1
            session.add(self.Event(case_id=case.id, seq=self.seqs[i], trigger=step,
                                   from_state=before, to_state=case.state, actor="user:bench",
                                   at=now, payload=note(i, step)))
            session.commit()

    def completed(self) -> tuple[int, int]:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            done = conn.execute(sa.select(sa.func.count()).select_from(self.Case).where(
                self.Case.state == PEER_STATES[-1])).scalar_one()
            events = conn.execute(sa.select(sa.func.count()).select_from(self.Event)
                                  ).scalar_one()
        return done, events

    def close(self) -> None:
        self.engine.dispose()


class Spiff:
    """SpiffWorkflow: the workflow serialised to JSON in its row after every step."""

    name = "spiffworkflow"

    def __init__(self, path: Path) -> None:
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.util.task import TaskState

        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec("disclosure")
        self.Workflow, self.serializer, self.ready = (BpmnWorkflow, BpmnWorkflowSerializer(),
                                                      TaskState.READY)
        remove_db(path)
        self.conn = connect(path)
        self.conn.execute("CREATE TABLE spiff_cases (id INTEGER PRIMARY KEY, title TEXT, "
                          "state TEXT NOT NULL, workflow TEXT NOT NULL)")
        self.conn.execute("CREATE TABLE spiff_events (id INTEGER PRIMARY KEY, case_id INTEGER "
                          "NOT NULL REFERENCES spiff_cases (id), seq INTEGER, task TEXT, "
                          "at TEXT, payload TEXT)")
        self.ids: dict[int, int] = {}
        self.seqs: dict[int, int] = {}

    def _state(self, workflow) -> str:
        return workflow.get_tasks(state=self.ready)[0].task_spec.name

    def start(self, i: int) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        workflow = self.Workflow(self.spec)
        workflow.do_engine_steps()
        case_id = conn.execute("INSERT INTO spiff_cases (title, state, workflow) VALUES "
                               "(?, ?, ?)", (f"基准 {i}", self._state(workflow),
                                             self.serializer.serialize_json(workflow))
                               ).lastrowid
        conn.execute("INSERT INTO spiff_events (case_id, seq, task, at, payload) VALUES "
                     "(?, 1, 'start', ?, ?)", (case_id, AT, f'{{"title":"基准 {i}"}}'))
        conn.execute("COMMIT")
        self.ids[i], self.seqs[i] = case_id, 1

    def step(self, i: int, step: str) -> None:
        conn, case_id = self.conn, self.ids[i]
        conn.execute("BEGIN IMMEDIATE")
        (text,) = conn.execute("SELECT workflow FROM spiff_cases WHERE id = ?",
                               (case_id,)).fetchone()
        workflow = self.serializer.deserialize_json(text)
        task = workflow.get_tasks(state=self.ready)[0]
        task.data["note"] = f"第{i}件{step}"
        task.run()
        workflow.do_engine_steps()
        conn.execute("UPDATE spiff_cases SET state = ?, workflow = ? WHERE id = ?",
                     (self._state(workflow), self.serializer.serialize_json(workflow),
                      case_id))
        self.seqs[i] += 1
        conn.execute("INSERT INTO spiff_events (case_id, seq, task, at, payload) VALUES "
                     "(?, ?, ?, ?, ?)", (case_id, self.seqs[i], task.task_spec.name, AT,
                                         note(i, step)))
        conn.execute("COMMIT")

    def completed(self) -> tuple[int, int]:
        done = self.conn.execute("SELECT count(*) FROM spiff_cases WHERE state = ?",
                                 (PEER_STATES[-1],)).fetchone()[0]
        events = self.conn.execute("SELECT count(*) FROM spiff_events").fetchone()[0]
        return done, events

    def close(self) -> None:
        self.conn.close()


SYSTEMS: tuple[Callable[[Path], object], ...] = (Gongkai, Raw, TransitionsSQLModel, Spiff)


def open_systems(where: Path) -> tuple[list, dict[str, str]]:
    """Every system on its own fresh file; a peer whose package is missing is skipped."""
    opened, skipped = [], {}
    for system in SYSTEMS:
        try:
            opened.append(system(where / f"{system.name}.db"))
        except ImportError as exc:
            skipped[system.name] = (f"skipped: {exc.name or exc} is not installed "
                                    "(pip install -e '.[bench]')")
    return opened, skipped


def run_round(system, cases: range) -> tuple[float, float]:
    """Seconds spent starting ``cases`` and then taking each through the four steps."""
    began = time.perf_counter()
    for i in cases:
        system.start(i)
    started = time.perf_counter()
    for step in STEPS:
        for i in cases:
            system.step(i, step)
    return started - began, time.perf_counter() - started


def main(size: int = DEFAULT_SIZE, workdir: Path | None = None) -> dict:
    rounds = max(1, min(ROUNDS, size))
    per_round = [size // rounds + (1 if r < size % rounds else 0) for r in range(rounds)]
    warm = min(size, 20)
    with work_dir(workdir) as where:
        systems, skipped = open_systems(where)
        times = {s.name: [0.0, 0.0] for s in systems}
        try:
            for system in systems:  # warm up: compiled statements, machines, caches
                run_round(system, range(-warm, 0))
            first = 0
            for count in per_round:
                for system in systems:
                    start_s, fire_s = run_round(system, range(first, first + count))
                    times[system.name][0] += start_s
                    times[system.name][1] += fire_s
                first += count
            completed = {s.name: s.completed() for s in systems}
            verify_ok = next(s for s in systems if s.name == "gongkai").verify()
        finally:
            for system in systems:
                system.close()
            for system in SYSTEMS:
                remove_db(where / f"{system.name}.db")
    figures: dict = {"size": size, "steps_per_case": 1 + len(STEPS), "verify_ok": verify_ok,
                     "synchronous": synchronous(),
                     "systems": {}, "ratios": {}}
    for name, (start_s, fire_s) in times.items():
        done, events = completed[name]
        figures["systems"][name] = {
            "steps_per_s": size * (1 + len(STEPS)) / (start_s + fire_s),
            "start_per_s": size / start_s, "fire_per_s": size * len(STEPS) / fire_s,
            "cases_completed": done - warm, "events": events,
            "completed_all": done == size + warm and events == (size + warm) * (1 + len(STEPS)),
        }
    for name, reason in skipped.items():
        figures["systems"][name] = {"skipped": reason}
    ours = figures["systems"]["gongkai"]
    for name, theirs in figures["systems"].items():
        if name != "gongkai" and "skipped" not in theirs:
            figures["ratios"][name] = {key: ours[key] / theirs[key]
                                       for key in ("steps_per_s", "start_per_s", "fire_per_s")}
    show("cases per system", size)
    show("SQLite synchronous", synchronous())
    for name, found in figures["systems"].items():
        if "skipped" in found:
            print(f"{name}: {found['skipped']}", flush=True)
            continue
        show(f"{name} steps", found["steps_per_s"], "steps/s")
        show(f"{name} start", found["start_per_s"], "starts/s")
        show(f"{name} fire", found["fire_per_s"], "fires/s")
        show(f"{name} completed every case", str(found["completed_all"]))
    for name, ratio in figures["ratios"].items():
        show(f"gongkai ÷ {name} (steps, start, fire)",
             " / ".join(f"{ratio[k]:.2f}" for k in ("steps_per_s", "start_per_s",
                                                     "fire_per_s")))
    show("gongkai verify", "ok" if verify_ok else "FAILED")
    show_ratio(figures["ratios"]["raw"]["steps_per_s"], target=0.6)
    return figures


if __name__ == "__main__":
    cli(main, DEFAULT_SIZE, __doc__)
