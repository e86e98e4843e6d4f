"""Inbox page p95 at 10k cases and at 1M cases, and their ratio (target <= 2).

The inbox is keyset-paged on indexed columns, so its first page and its later pages
should cost about the same at a million cases as at ten thousand. The cases are
bulk-loaded as rows (the inbox reads case rows and organisations only) over a county
with 20 towns of 10 villages each; a town officer, whose scope is one town's subtree,
opens their queue, their organisation's cases, the due-soon view and a later page,
through the real Flask app (login, query, template) as a browser would.
"""

from __future__ import annotations

import datetime as dt
import html
import random
import statistics
import sys
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
from workflow.base.timeutil import local_date, utcnow  # noqa: E402
from workflow.core.engine import Engine  # noqa: E402
from workflow.people import accounts
from workflow.people.orgs import add_org  # noqa: E402
from workflow.store.models import cases

DEFAULT_SIZE = 1_000_000
BASELINE = 10_000
REQUESTS = 30
PAGES = ("/inbox", "/inbox?view=org", "/inbox?view=due", "/inbox?view=org&kind=application")
STATES = ("received", "processing", "review", "consent", "answered", "filed", "archived")


def load(engine: Engine, count: int, seed: int = 7) -> list[int]:
    """Organisations and ``count`` application case rows; returns the village ids."""
    rng = random.Random(seed)
    with engine.db.write() as conn:
        add_org(conn, "C", "县委", None, "county_committee")
        villages = []
        for t in range(20):
            add_org(conn, f"T{t}", f"镇{t}", "C", "town")
            for v in range(10):
                villages.append(add_org(conn, f"T{t}V{v}", f"村{t}-{v}", f"T{t}",
                                        "village")["id"])
        towns = [r.id for r in conn.execute(sa.text(
            "SELECT id FROM orgs WHERE type = 'town'"))]
        accounts.add_user(conn, "bench", "T0", ["handler", "reviewer", "office"], "bench-pass-1")
    now = utcnow()
    rows = []
    with engine.db.write() as conn:
        for i in range(count):
            due = now + dt.timedelta(days=rng.randint(-30, 60))
            rows.append({
                "kind": "application", "def_version": 1,
                "org_id": rng.choice(villages if i % 3 else towns), "code": f"YS-2026-{i:07d}",
                "title": f"申请公开事项 {i}", "state": rng.choice(STATES), "data": "{}",
                "version": 1, "seq": 1, "head_hash": "", "due_at": due,
                "due_date": local_date(due), "due_provisional": False,
                "created_at": now, "updated_at": now})
            if len(rows) == 20_000:
                conn.execute(sa.insert(cases), rows)
                rows = []
        if rows:
            conn.execute(sa.insert(cases), rows)
    return villages


def measure(path: Path, count: int) -> dict:
    engine = fresh_engine(path, definitions())
    db = engine.db
    load(engine, count)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    with served({"ENGINE": engine, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                 "RATELIMIT_ENABLED": False}) as client:
        assert client.post("/login", data={"username": "bench",
                                           "password": "bench-pass-1"}).status_code == 302
        first = client.get("/inbox?view=org").get_data(as_text=True)
        cursor = (html.unescape(first.split("after=")[1].split('"')[0]) if "after=" in first
                  else "")
        pages = (*PAGES, f"/inbox?view=org&after={cursor}")
        samples: dict[str, list[float]] = {page: [] for page in pages}
        rows = 0
        for _ in range(REQUESTS):
            for page in pages:
                began = utcnow()
                response = client.get(page)
                samples[page].append((utcnow() - began).total_seconds())
                assert response.status_code == 200
                rows += response.get_data(as_text=True).count("<tr")
    all_samples = [s for found in samples.values() for s in found]
    db.dispose()
    remove_db(path)
    return {"p95_s": p95(all_samples), "median_s": statistics.median(all_samples),
            "pages": {page: p95(found) for page, found in samples.items()}, "rows": rows}


def main(size: int = DEFAULT_SIZE, workdir: Path | None = None) -> dict:
    figures = p95_at_two_sizes("inbox", measure, size, workdir, BASELINE)
    for page, value in figures["large"]["pages"].items():
        show(f"  {page[:40]}", value * 1000, "ms p95")
    print(f"ratio: {figures['ratio']:.2f} (target <= 2)", flush=True)
    return figures


if __name__ == "__main__":
    cli(main, DEFAULT_SIZE, __doc__)
