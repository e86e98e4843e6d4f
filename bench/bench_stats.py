"""Statistics p95 at 10k cases and at 1M cases, and their ratio (target <= 2), G14.

A county's figures come from the statistics projection's counters (per organisation and
subtree, day and month), never from the event log, so the request should cost about the
same whatever the number of cases. Building a million cases through the door would take
hours, so the history is written straight into the projection: for each application
case (a county of 20 towns with 10 villages each, over two years) the marks its events
would give (received; answered with an outcome after some working days, on time or
late; some withdrawn), computed here and summed into ``stats_counts`` exactly as the
projection sums them (``workflow.views.statistics._counter_rows``); the cursor stands at
the end of an empty event log, so a request catches up nothing. Each request then goes
through the real Flask app and the API with a token: the county's figures for a whole
year, for a period cut inside months (month rows plus day rows at the edges), and for a
town; ``--json`` prints the figures as one JSON object on the last line.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench.common import (  # noqa: E402
    cli,
    fresh_engine,
    p95,
    p95_at_two_sizes,
    remove_db,
    served,
    show,
)
from machines import definitions  # noqa: E402
from workflow.base.timeutil import utcnow  # noqa: E402
from workflow.core.engine import Engine  # noqa: E402
from workflow.people import accounts  # noqa: E402
from workflow.people.orgs import add_org  # noqa: E402
from workflow.store.models import stats_counts, stats_cursor  # noqa: E402
from workflow.views.statistics import CURSOR, _counter_rows  # noqa: E402

DEFAULT_SIZE = 1_000_000
BASELINE = 10_000
REQUESTS = 30
FIRST_DAY = dt.date(2025, 1, 1)
DAYS = 730
OUTCOMES = ("disclosed", "published", "partial", "withheld", "not_held", "not_ours",
            "repeated", "not_request")
WHO = ("party", "public", "public", "org")
QUERIES = (
    {"org": "C", "from": "2026-01-01", "to": "2026-12-31"},
    {"org": "C", "from": "2025-03-15", "to": "2026-02-10", "process": "application"},
    {"org": "T3", "from": "2026-01-01", "to": "2026-06-30"},
)


def organisations(engine: Engine) -> tuple[list[str], str]:
    """The county tree and its secretary: the organisations' paths (the 200 villages
    first, then the 20 towns) and the secretary's API token."""
    with engine.db.write() as conn:
        add_org(conn, "C", "县委", None, "county_committee")
        paths = []
        for t in range(20):
            town = add_org(conn, f"T{t}", f"镇{t}", "C", "town")
            paths.append(town["path"])
            for v in range(10):
                paths.insert(0, add_org(conn, f"T{t}V{v}", f"村{t}-{v}", f"T{t}",
                                        "village")["path"])
        accounts.add_user(conn, "bench", "C", ["secretary"], "bench-pass-1")
        token = accounts.new_token(conn, "bench")
    return paths, token


def marks(rng: random.Random) -> list[tuple[str, str, str, str, int, int]]:
    """One application's marks as (day, figure, part, who, bucket, n)."""
    received = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
    who = rng.choice(WHO)
    found = [(received.isoformat(), "received", "", who, 0, 1)]
    if rng.random() < 0.05:
        closed = received + dt.timedelta(days=rng.randint(1, 20))
        return [*found, (closed.isoformat(), "withdrawn", "applicant", who, 0, 1),
                (closed.isoformat(), "closed", "", who, 0, 1)]
    days = min(60, int(rng.expovariate(1 / 12)) + 1)
    answered = (received + dt.timedelta(days=days * 7 // 5)).isoformat()
    tier = "on_time" if days <= 20 else ("overdue" if days <= 40 else "long_overdue")
    found += [(answered, "answered", rng.choice(OUTCOMES), who, 0, 1),
              (answered, "answer_days", "", "", days, 1),
              (answered, "timeliness", tier, who, 0, 1),
              (answered, "closed", "", who, 0, 1)]
    if rng.random() < 0.1:
        found.append((received.isoformat(), "clarifications", "", who, 0, 1))
    return found


def load(engine: Engine, paths: list[str], count: int, seed: int = 7) -> int:
    """``count`` cases' marks summed into the projection's counters; how many rows."""
    rng = random.Random(seed)
    villages, towns = paths[:200], paths[200:]
    per_org: dict[str, Counter] = {}
    for i in range(count):
        path = rng.choice(villages if i % 3 else towns)
        counted = per_org.setdefault(path, Counter())
        for mark in marks(rng):
            counted[mark[:5]] += mark[5]
    rows = 0
    with engine.db.write() as conn:
        conn.execute(sa.insert(stats_cursor).values(name=CURSOR, position=0, gaps="[]"))
        for path, counted in per_org.items():
            batch = _counter_rows(path, "application", counted)
            merged: Counter = Counter()
            for row in batch:
                merged[tuple(row[k] for k in KEYS)] += row["n"]
            rows += len(merged)
            _add(conn, merged)
    return rows


KEYS = ("org_id", "subtree", "grain", "kind", "period", "figure", "part", "who", "bucket")


def _add(conn, merged: Counter) -> None:
    """Add to the counters (a subtree's rows are shared by the organisations under it)."""
    from sqlalchemy.dialects.sqlite import insert

    stmt = insert(stats_counts)
    conn.execute(stmt.on_conflict_do_update(index_elements=list(KEYS),
                                            set_={"n": stats_counts.c.n + stmt.excluded.n}),
                 [dict(zip(KEYS, key, strict=True)) | {"n": n} for key, n in merged.items()])


def measure(path: Path, count: int) -> dict:
    engine = fresh_engine(path, definitions())
    db = engine.db
    paths, token = organisations(engine)
    rows = load(engine, paths, count)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    headers = {"Authorization": f"Bearer {token}"}
    samples: list[float] = []
    received = 0
    with served({"ENGINE": engine, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}) as client:
        for _ in range(REQUESTS):
            for query in QUERIES:
                began = utcnow()
                response = client.get("/api/v1/stats", query_string=query, headers=headers)
                samples.append((utcnow() - began).total_seconds())
                assert response.status_code == 200, response.get_data(as_text=True)
                received = max(received, response.json["processes"][0]["figures"][0]["total"])
    db.dispose()
    remove_db(path)
    return {"p95_s": p95(samples), "median_s": statistics.median(samples),
            "counter_rows": rows, "received": received}


def main(size: int = DEFAULT_SIZE, workdir: Path | None = None) -> dict:
    figures = p95_at_two_sizes("stats", measure, size, workdir, BASELINE)
    show(f"counter rows at {size:,} cases", figures["large"]["counter_rows"])
    print(f"ratio: {figures['ratio']:.2f} (target <= 2)", flush=True)
    return figures


if __name__ == "__main__":
    cli(main, DEFAULT_SIZE, __doc__)
