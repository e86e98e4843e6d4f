"""The bulk loader writes exactly the rows the engine writes (DESIGN.md, Database)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bench.common import T0, open_site
from bench.loader import comment_at, comment_text, load_cases, title_for
from workflow.audit.chain import verify
from workflow.store.models import cases, events, timers

CASE_COLUMNS = ("id", "kind", "def_version", "org_id", "code", "title", "state", "data",
                "version", "seq", "head_hash", "due_at", "due_date", "due_provisional",
                "due_explain", "assignee", "created_at", "updated_at")


def rows(site) -> dict[str, list]:
    with site.db.read() as conn:
        return {
            "cases": [tuple(r) for r in conn.execute(
                sa.select(*[cases.c[n] for n in CASE_COLUMNS]).order_by(cases.c.id))],
            "events": [tuple(r) for r in conn.execute(
                sa.select(*[c for c in events.c if c.name != "id"])
                .order_by(events.c.case_id, events.c.seq))],
            "timers": [tuple(r) for r in conn.execute(
                sa.select(*[c for c in timers.c if c.name != "id"]).order_by(timers.c.id))],
        }


@pytest.mark.parametrize("kind", ["bench", "bench_timer"])
def test_loaded_cases_equal_cases_made_through_the_engine(tmp_path, kind):
    through_engine = open_site(tmp_path / "engine.db")
    loaded = open_site(tmp_path / "loaded.db")
    try:
        comments = [0, 3, 1]
        for i, n in enumerate(comments, start=1):
            case = through_engine.engine.start(kind, through_engine.org_code,
                                               through_engine.actor, {"title": title_for(i)}, T0)
            assert case.id == i
            for k in range(1, n + 1):
                through_engine.engine.fire(case.id, "comment", through_engine.actor,
                                           {"text": comment_text(case.id, k)},
                                           now=comment_at(T0, k))
        done = load_cases(loaded, kind, len(comments), comments)
        assert (done.cases, done.events) == (3, 3 + sum(comments))
        assert done.timers == (3 if kind == "bench_timer" else 0)
        want, got = rows(through_engine), rows(loaded)
        assert got["cases"] and got["cases"] == want["cases"]
        assert got["events"] == want["events"]
        assert got["timers"] == want["timers"]
        report = verify(loaded.db, loaded.registry)
        assert report.ok, [p.describe("en") for p in report.problems]
        assert (report.cases, report.events) == (3, 3 + sum(comments))
    finally:
        through_engine.close()
        loaded.close()
