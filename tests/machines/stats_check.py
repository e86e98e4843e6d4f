"""G14: a process's figures laid flat, to compare with a count a test made by hand, and
the counters checked against replay (AU2)."""

from __future__ import annotations

import datetime as dt

from workflow.base.timeutil import iso_utc
from workflow.views import statistics as stats

FIRST, LAST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)

#: 2026's official days around 国庆 and 中秋 (国务院办公厅通知): off on a weekday, and the
#: make-up working weekend days (调休)
OFF = {dt.date(2026, 9, 25), dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 10, 5),
       dt.date(2026, 10, 6), dt.date(2026, 10, 7)}
WORK = {dt.date(2026, 9, 20), dt.date(2026, 10, 10)}


def working(d: dt.date) -> bool:
    return d in WORK or (d.weekday() < 5 and d not in OFF)


def wd(start: str, end: str) -> int:
    """Working days after ``start`` up to ``end``, counted here without the engine."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return sum(working(first + dt.timedelta(days=i)) for i in range(1, (last - first).days + 1))


def figures(engine, kind: str, start: dt.date = FIRST, end: dt.date = LAST) -> stats.Figures:
    """The process's figures over the county's subtree, from the counters."""
    return stats.figures(engine, stats.scope_of(engine.db, ["/"]), "C", start, end, kind)


def flat(found: stats.Figures, kind: str) -> dict[str, int]:
    """Every declared figure's total under its name (zero too, so a figure the test does
    not expect fails it) and each non-zero part as ``figure.part``."""
    out = {}
    for fig in found.process(kind).figures:
        out[fig.name] = fig.total
        out |= {f"{fig.name}.{p.name}": p.total for p in fig.parts if p.total}
    return out


def histogram(found: stats.Figures, kind: str, name: str) -> dict[int, int]:
    """A days figure's cases by working days."""
    return dict(found.process(kind).figure(name).histogram)


def replay_agrees(engine, kind: str, then: dt.datetime, counted_then: stats.Figures) -> None:
    """AU2: replaying the events up to ``then`` gives what the counters gave at that
    moment, and replaying everything gives what they give now, over any period."""
    scope = stats.scope_of(engine.db, ["/"])
    past = stats.as_of(engine, scope, "C", counted_then.start, counted_then.end,
                       iso_utc(then), kind)
    assert past.processes == counted_then.processes
    later = iso_utc(dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    for start, end in ((FIRST, LAST), (counted_then.start, counted_then.end)):
        assert stats.as_of(engine, scope, "C", start, end, later,
                           kind).processes == figures(engine, kind, start, end).processes
