"""A check of every process's figures against the demo's case rows and events (G14)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa

from workflow.base.timeutil import iso_utc
from workflow.store.models import cases, events
from workflow.views import statistics as stats


def counts_match_rows_and_events(engine) -> None:
    """G14: the demo's cases of every process, counted here straight from the case rows
    and the event log, against the figures of the county's subtree over all time, and
    the counters against replay. The browser test calls it on the demo it loads anyway
    (loading the demo costs seconds)."""
    everything = stats.scope_of(engine.db, ["/"])
    first, last = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
    found = stats.figures(engine, everything, "XW", first, last)
    with engine.db.read() as conn:
        states = Counter(conn.execute(sa.select(cases.c.kind, cases.c.state)).all())
        fired = Counter(conn.execute(sa.select(events.c.kind, events.c.trigger)).all())
    kinds = Counter()
    for (kind, _state), n in states.items():
        kinds[kind] += n
    counted = {p.kind: {f.name: f.total for f in p.figures} for p in found.processes}
    for proc in found.processes:
        assert proc.figures[0].total == kinds[proc.kind], proc.kind
    assert counted["application"]["answered"] == sum(
        states[("application", s)] for s in ("answered", "filed", "archived"))
    assert counted["application"]["withdrawn"] == states[("application", "withdrawn")]
    assert counted["inquiry"]["published"] == states[("inquiry", "published")]
    assert counted["routine"]["opinions"] == fired[("routine", "opinion")]
    assert counted["routine"]["opinions_answered"] == fired[("routine", "answer_opinion")]
    assert counted["pre_disclosure"]["comments"] == (
        fired[("pre_disclosure", "comment")] + fired[("pre_disclosure", "supervisor_comment")])
    assert counted["pre_disclosure"]["dispositions"] == fired[("pre_disclosure", "dispose")]
    assert counted["observer_seats"]["registrations"] == fired[("observer_seats", "register")]
    assert counted["observer_seats"]["verifications"] == fired[("observer_seats", "verify")]
    assert counted["village_decision"]["publications"] == (
        fired[("village_decision", "publish_resolution")]
        + fired[("village_decision", "publish_result")])
    later = iso_utc(dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    replayed = stats.as_of(engine, everything, "XW", first, last, later)
    assert replayed.processes == found.processes
