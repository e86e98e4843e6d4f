"""Persisted transitions per second through Engine.fire vs a raw sqlite3 loop.

Both run on a freshly migrated database file (the engine's own tables and indexes) in
WAL mode with synchronous=FULL, one transaction per change. ``Engine.fire`` runs the
whole door (scope, role, version, payload, guards, effects, event, timers, case row)
for triggers that cycle a case between two states (``hold``/``resume``) and for an
append-only ``comment``; the raw loop does what reaches the disk for the same change:
BEGIN IMMEDIATE, SELECT the case row, UPDATE it, INSERT the event row (64-character
hashes, a small JSON payload) and COMMIT. The two run in alternating rounds so that
a change in the disk's speed hits both alike. Also measured: building a
``transitions`` machine per call (``compile_process``) against one fire, and the
process's CPU time per change of each loop, user and kernel (``os.times``): with a
real fsync both grow, the user time roughly in proportion to the Python a change runs.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import statistics
import sys
import time
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
from bench.processes import BENCH  # noqa: E402
from workflow.audit.chain import verify  # noqa: E402
from workflow.base.canonical import canonical, event_hash, payload_digest  # noqa: E402
from workflow.base.timeutil import iso_utc, utcnow  # noqa: E402
from workflow.core.declare import Ctx  # noqa: E402
from workflow.core.registry import compile_process  # noqa: E402

DEFAULT_SIZE = 2000
CASES = 4
ROUNDS = 5

SELECT = "SELECT state, data, version, seq, head_hash FROM cases WHERE id = ?"
UPDATE = ("UPDATE cases SET state = ?, data = ?, version = ?, seq = ?, head_hash = ?, "
          "updated_at = ?, due_at = NULL, due_date = NULL, due_provisional = 0, "
          "due_explain = NULL WHERE id = ? AND seq = ?")
INSERT = ("INSERT INTO events (case_id, seq, kind, def_version, org, \"trigger\", from_state, "
          "to_state, actor, at, payload, payload_digest, prev_hash, hash) "
          "VALUES (?, ?, 'bench', 1, 'BENCH', ?, ?, ?, 'user:bench', ?, ?, ?, ?, ?)")


class Raw:
    """The bare SQL of a state change, through the sqlite3 module, on the engine's schema."""

    def __init__(self, path: Path) -> None:
        site = open_site(path)
        try:
            self.case_ids = [site.engine.start("bench", site.org_code, site.actor,
                                               {"title": f"基准 {i}"}).id for i in range(CASES)]
        finally:
            site.close()
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", f"synchronous={synchronous()}", "foreign_keys=ON",
                       "busy_timeout=60000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.done = 0

    def run(self, count: int) -> float:
        """Seconds for ``count`` transactions."""
        conn = self.conn
        began = time.perf_counter()
        for _ in range(count):
            i = self.done = self.done + 1
            case_id = self.case_ids[i % CASES]
            conn.execute("BEGIN IMMEDIATE")
            state, data, version, seq, head = conn.execute(SELECT, (case_id,)).fetchone()
            new_state, trigger = ("held", "hold") if state == "open" else ("open", "resume")
            payload = f'{{"text":"第{i}条意见"}}'
            digest = hashlib.sha256(payload.encode()).hexdigest()
            new_head = hashlib.sha256(f"{head}{seq}{digest}".encode()).hexdigest()
            conn.execute(UPDATE, (new_state, data, version + 1, seq + 1, new_head,
                                  "2026-03-02 01:00:00.000000", case_id, seq))
            conn.execute(INSERT, (case_id, seq + 1, trigger, state, new_state,
                                  "2026-03-02T01:00:00.000000Z", payload, digest, head,
                                  new_head))
            conn.execute("COMMIT")
        return time.perf_counter() - began

    def close(self) -> None:
        self.conn.close()


class Fire:
    """The same changes through ``Engine.fire``."""

    def __init__(self, path: Path) -> None:
        self.site = site = open_site(path)
        self.views = [site.engine.start("bench", site.org_code, site.actor,
                                        {"title": f"基准 {i}"}) for i in range(CASES)]
        self.done = 0

    def run(self, count: int, append_only: bool = False) -> float:
        engine, actor, views = self.site.engine, self.site.actor, self.views
        began = time.perf_counter()
        for _ in range(count):
            i = self.done = self.done + 1
            view = views[i % CASES]
            if append_only:
                view = engine.fire(view.id, "comment", actor, {"text": f"第{i}条意见"})
            else:
                trigger = "hold" if view.state == "open" else "resume"
                view = engine.fire(view.id, trigger, actor, {}, view.version)
            views[i % CASES] = view
        return time.perf_counter() - began


def machine_costs(site, repeats: int) -> dict[str, float]:
    """Seconds: building a process's machine per call vs the shared one, and the hashes."""
    builds = []
    for _ in range(repeats):
        began = time.perf_counter()
        compile_process(BENCH)
        builds.append(time.perf_counter() - began)
    compiled = site.registry.get("bench")
    ctx = Ctx({}, {}, utcnow(), site.actor.label, "open")
    runs = max(repeats * 10, 100)
    began = time.perf_counter()
    for i in range(runs):
        compiled.run("open" if i % 2 == 0 else "held", "hold" if i % 2 == 0 else "resume", ctx)
    shared = (time.perf_counter() - began) / runs
    header = {"case_id": 1, "seq": 2, "kind": "bench", "def_version": 1, "org": "BENCH",
              "trigger": "hold", "from_state": "open", "to_state": "held",
              "actor": "user:bench", "at": iso_utc(utcnow()),
              "payload_digest": payload_digest(canonical({}).decode()), "prev_hash": "0" * 64}
    began = time.perf_counter()
    for _ in range(runs):
        event_hash(header)
    hashing = (time.perf_counter() - began) / runs
    return {"compile_s": statistics.median(builds), "shared_run_s": shared,
            "event_hash_s": hashing}


class CpuTime:
    """User and kernel seconds of this process spent inside ``with`` blocks, summed."""

    def __init__(self) -> None:
        self.user = self.system = 0.0

    def __enter__(self) -> CpuTime:
        self._began = os.times()
        return self

    def __exit__(self, *_exc) -> None:
        ended = os.times()
        self.user += ended.user - self._began.user
        self.system += ended.system - self._began.system


def main(size: int = DEFAULT_SIZE, workdir: Path | None = None) -> dict:
    rounds = max(1, min(ROUNDS, size))
    per_round = [size // rounds + (1 if r < size % rounds else 0) for r in range(rounds)]
    with work_dir(workdir) as where:
        raw = Raw(where / "raw.db")
        fire = Fire(where / "fire.db")
        try:
            fire.run(min(size, 50))  # warm up: compiled statements, machine models, caches
            raw.run(min(size, 50))
            fire_t = raw_t = comment_t = 0.0
            fire_cpu, raw_cpu = CpuTime(), CpuTime()
            for count in per_round:
                with fire_cpu:
                    fire_t += fire.run(count)
                with raw_cpu:
                    raw_t += raw.run(count)
                comment_t += fire.run(count, append_only=True)
            costs = machine_costs(fire.site, repeats=max(10, min(size // 10, 200)))
            report = verify(fire.site.db, fire.site.registry)
        finally:
            raw.close()
            fire.site.close()
            remove_db(where / "raw.db")
            remove_db(where / "fire.db")
    fire_rate, raw_rate, comment_rate = size / fire_t, size / raw_t, size / comment_t
    one_fire = fire_t / size
    figures = {
        "size": size, "fire_per_s": fire_rate, "append_only_fire_per_s": comment_rate,
        "raw_per_s": raw_rate, "ratio": fire_rate / raw_rate,
        "append_only_ratio": comment_rate / raw_rate, "fire_s": one_fire, **costs,
        "compile_vs_fire": costs["compile_s"] / one_fire,
        "compile_vs_raw": costs["compile_s"] * raw_rate, "verify_ok": report.ok,
        "events": report.events, "cases": report.cases, "synchronous": synchronous(),
        "fire_user_s": fire_cpu.user / size, "fire_system_s": fire_cpu.system / size,
        "raw_user_s": raw_cpu.user / size, "raw_system_s": raw_cpu.system / size,
    }
    show("changes per loop", size)
    show("SQLite synchronous", synchronous())
    show("Engine.fire, hold/resume", fire_rate, "fires/s")
    show("Engine.fire, append-only comment", comment_rate, "fires/s")
    show("raw sqlite3 BEGIN+SELECT+UPDATE+INSERT+COMMIT", raw_rate, "tx/s")
    show("append-only ratio", comment_rate / raw_rate)
    show("one fire (hold/resume)", one_fire * 1e3, "ms")
    show("CPU per fire, user + kernel", f"{fire_cpu.user / size * 1e6:.0f} + "
         f"{fire_cpu.system / size * 1e6:.0f} µs")
    show("CPU per raw change, user + kernel", f"{raw_cpu.user / size * 1e6:.0f} + "
         f"{raw_cpu.system / size * 1e6:.0f} µs")
    show("compile_process (a new Machine)", costs["compile_s"] * 1e3, "ms per call")
    show("Machine per call ÷ one fire", costs["compile_s"] / one_fire)
    show("Machine per call ÷ raw transaction", costs["compile_s"] * raw_rate)
    show("shared machine run", costs["shared_run_s"] * 1e6, "µs per call")
    show("event_hash", costs["event_hash_s"] * 1e6, "µs per call")
    show("verify after the run", f"{'ok' if report.ok else 'FAILED'} ({report.events:,} events)")
    show_ratio(fire_rate / raw_rate, target=0.7)
    return figures


if __name__ == "__main__":
    cli(main, DEFAULT_SIZE, __doc__)
