"""`audit verify` events per second on a large database vs bare SHA-256 over canonical JSON.

The database is filled by the bulk loader (bench/loader.py): cases of the ``bench``
process, each a ``start`` and append-only ``comment`` events, with valid chains and
case rows that replay reproduces. ``verify`` then reads every event, checks payload
digests, header hashes and links, replays every case and compares it with its row.
``audit verify`` runs as ``gongkai audit verify`` does, with one process per core
(``--jobs``, ranges of case ids; here ``os.cpu_count()``); the same verify in one
process is printed beside it. The yardstick is ``workflow.base.canonical.event_hash`` over
the same headers held in memory, in one process (one SHA-256 over canonical JSON per
event), times the number of cores: the goal is ``audit verify`` at half of that or
more. Where the rest goes is printed beside it: reading the events alone (streamed as
verify streams them), the chain checks alone (verify without replay), and over the same
events held in memory as the rows verify reads: the header hashes alone, the payload
digests alone and ``workflow.audit.chain.replay_rows`` alone.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import cli, open_site, remove_db, show, show_ratio, timed, work_dir  # noqa: E402
from bench.loader import EVENT_COLUMNS, load_cases  # noqa: E402
from workflow.audit.chain import ROW_COLUMNS, _streamed, replay_rows, row_of, verify  # noqa: E402
from workflow.base.canonical import (  # noqa: E402
    HEADER_KEYS,
    event_hash,
    header_hash_of,
    payload_digest,
)

DEFAULT_SIZE = 1_000_000
HEADER_END = len(HEADER_KEYS)  # a row (``ROW_COLUMNS``): the header's values, then the payload
EVENTS_PER_CASE = 10


def read_events(path: Path) -> list[dict]:
    """Every event as a dict, in (case, seq) order, straight from sqlite3."""
    conn = sqlite3.connect(path)
    try:
        cursor = conn.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events "
                              "ORDER BY case_id, seq")
        return [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in cursor]
    finally:
        conn.close()


def read_streamed(site) -> int:
    """Stream every event as verify does (its query and rows); how many."""
    import sqlalchemy as sa

    from workflow.store.models import events

    query = sa.select(*[events.c[n] for n in ROW_COLUMNS]).order_by(events.c.case_id,
                                                                   events.c.seq)
    count = 0
    with site.db.read() as conn, _streamed(conn, query) as rows:
        for _row in rows:
            count += 1
    return count


def grouped(rows: list[dict]) -> list[list[dict]]:
    groups: list[list[dict]] = []
    current = None
    for row in rows:
        if row["case_id"] != current:
            current = row["case_id"]
            groups.append([])
        groups[-1].append(row)
    return groups


def main(size: int = DEFAULT_SIZE, workdir: Path | None = None) -> dict:
    size = max(size, 1)
    per_case = min(EVENTS_PER_CASE, size)
    counts = [per_case - 1] * (size // per_case)
    if size % per_case:
        counts.append(size % per_case - 1)
    with work_dir(workdir) as where:
        path = where / "verify.db"
        site = open_site(path)
        try:
            load_s, loaded = timed(lambda: load_cases(site, "bench", len(counts), counts))
            show("cases loaded", loaded.cases)
            show("events loaded", loaded.events)
            show("bulk load", loaded.events / load_s, "events/s")
            jobs = os.cpu_count() or 1
            verify_s, report = timed(lambda: verify(site.db, site.registry, jobs=jobs))
            show("verify", "ok" if report.ok else
                 f"FAILED: {[p.describe('en') for p in report.problems[:5]]}")
            show(f"audit verify ({jobs} processes)", report.events / verify_s, "events/s")
            serial_s, serial = timed(lambda: verify(site.db, site.registry))
            show("audit verify (one process)", serial.events / serial_s, "events/s")
            chain_s, chain_report = timed(lambda: verify(site.db, site.registry,
                                                         replay_cases=False))
            show("verify without replay (one process)", chain_report.events / chain_s,
                 "events/s")
            read_s, read = timed(lambda: read_streamed(site))
            show("reading the events alone (one process)", read / read_s, "events/s")
            events = read_events(path)
            hash_s, _ = timed(lambda: [event_hash(ev) for ev in events])
            show("event_hash over headers in memory", len(events) / hash_s, "events/s")
            cases = [[row_of(ev) for ev in rows] for rows in grouped(events)]
            rows = [row for case in cases for row in case]
            header_s, _ = timed(lambda: [header_hash_of(row[:HEADER_END]) for row in rows])
            show("header hashes over rows in memory", len(rows) / header_s, "events/s")
            digest_s, _ = timed(lambda: [payload_digest(row[HEADER_END]) for row in rows])
            show("payload digests in memory", len(rows) / digest_s, "events/s")
            replay_s, _ = timed(lambda: [replay_rows(rows, site.registry) for rows in cases])
            show("replay only (events in memory)", len(events) / replay_s, "events/s")
        finally:
            site.close()
            remove_db(path)
    verify_rate, hash_rate = report.events / verify_s, len(events) / hash_s
    cores = os.cpu_count() or 1
    figures = {
        "size": size, "cases": loaded.cases, "events": loaded.events, "load_s": load_s,
        "load_per_s": loaded.events / load_s, "verify_ok": report.ok,
        "verified_events": report.events, "verified_cases": report.cases,
        "verify_s": verify_s, "verify_per_s": verify_rate, "hash_per_s": hash_rate,
        "jobs": jobs, "serial_ok": serial.ok, "serial_per_s": serial.events / serial_s,
        "serial_ratio": serial.events / serial_s / hash_rate,
        "replay_per_s": len(events) / replay_s, "chain_only_ok": chain_report.ok,
        "chain_only_per_s": chain_report.events / chain_s,
        "chain_only_ratio": chain_report.events / chain_s / hash_rate,
        "read_per_s": read / read_s, "header_hash_per_s": len(rows) / header_s,
        "digest_per_s": len(rows) / digest_s,
        "events_per_s": verify_rate, "hash_per_s_one_core": hash_rate, "cores": cores,
        "one_core_ratio": verify_rate / hash_rate,
        "ratio": verify_rate / (hash_rate * cores),
    }
    show("verify without replay (one process) ÷ event_hash", figures["chain_only_ratio"])
    show("verify (one process) ÷ event_hash", figures["serial_ratio"])
    show(f"verify ({jobs} processes) ÷ event_hash (one process)", figures["one_core_ratio"])
    show(f"verify ({jobs} processes) ÷ (event_hash × {cores} cores)", figures["ratio"])
    show_ratio(figures["ratio"])
    return figures


if __name__ == "__main__":
    cli(main, DEFAULT_SIZE, __doc__)
