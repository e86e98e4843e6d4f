"""The statistics desk's read model (G14): figures per organisation and subtree, a period
and a process, kept up to date incrementally from the event log (docs/statistics.md).

What a process counts is its own declaration (``Process.statistics``: figures and a pure
``marks(events, data, days_between)``, beside its machine); this module knows no process.
``catch_up`` reads the events after a durable cursor, recomputes the marks of each case
they touch and moves the counters (``stats_counts``: per organisation alone and with its
subtree, process, day and month) by the difference from the marks stored for the case
(``stats_cases``). A period's figures are then the month rows of its whole months and the
day rows of its edges: a few hundred rows whatever the size of the log. ``as_of`` rebuilds
the same figures from the events up to a moment by replay (AU2), without the counters.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.audit.chain import EVENT_COLUMNS, replay
from workflow.base.errors import Forbidden, Invalid, NotAllowed, NotFound
from workflow.base.text import Text
from workflow.base.timeutil import end_of_local_day, iso_utc, local_date
from workflow.core.declare import Mark, Statistics
from workflow.core.engine import Engine
from workflow.core.registry import Registry
from workflow.people.actors import Actor
from workflow.store.models import (
    cases,
    events,
    orgs,
    stats_cases,
    stats_counts,
    stats_cursor,
)
from workflow.views.audit import Scope

CURSOR = "stats"
BATCH = 2000
#: how long an id below the cursor is waited for (a transaction not yet committed)
GAP_SECONDS = 120.0
#: who sees an organisation's figures and its subtree's (G14, G15)
ROLES = ("secretary", "reviewer", "handler", "office", "auditor")
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2099, 12, 31)

NOT_ALLOWED = Text("只有组织的负责人、工作人员和审计员可以查看统计",
                   "Only an organisation's responsible people, officers and auditors see "
                   "its statistics")
OUTSIDE = Text("不在您可以查看统计的范围内的组织",
               "An organisation outside the subtrees whose statistics you may see")
BAD_PERIOD = Text("日期应为 YYYY-MM-DD，2000 至 2099 年之间，且开始不晚于结束",
                  "Dates are YYYY-MM-DD between 2000 and 2099, the start not after the end")
BAD_AS_OF = Text("截至日期应为 YYYY-MM-DD，2000 至 2099 年之间",
                 "The as-of date is YYYY-MM-DD between 2000 and 2099")
UNKNOWN_KIND = Text("没有这个流程的统计", "No statistics for this process")


# -- the projection -----------------------------------------------------------------------------


def _key_of(mark: Mark, statistics: Statistics) -> tuple[str, str, str, int, int]:
    """(figure, part, who, bucket, n) of one mark: a days figure counts one case in the
    bucket of its working days (one histogram, not split by applicant kind: it would
    triple the rows and no table needs it), any other adds its value."""
    if statistics.figure(mark.figure).unit == "days":
        return mark.figure, mark.part, "", mark.value, 1
    return mark.figure, mark.part, mark.who, 0, mark.value


def _encoded(marks: Iterable[Mark], statistics: Statistics) -> list[list[Any]]:
    rows = []
    for mark in marks:
        figure, part, who, bucket, n = _key_of(mark, statistics)
        rows.append([mark.day.isoformat(), figure, part, who, bucket, n])
    return sorted(rows)


def _path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def _deltas(old: list[list[Any]], new: list[list[Any]]) -> Counter:
    """The counter changes from a case's stored marks to its new ones: (day, figure, part,
    who, bucket) -> n."""
    change: Counter = Counter()
    for sign, rows in ((-1, old), (1, new)):
        for day, figure, part, who, bucket, n in rows:
            change[(day, figure, part, who, bucket)] += sign * n
    return change


def _insert(dialect: str, table: sa.Table):
    """An INSERT that can say what to do on a conflict, in the database's own dialect."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert(table)


def _upsert(conn: Connection, dialect: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = _insert(dialect, stats_counts)
    keys = [c.name for c in stats_counts.primary_key.columns]
    conn.execute(stmt.on_conflict_do_update(index_elements=keys,
                                            set_={"n": stats_counts.c.n + stmt.excluded.n}),
                 rows)


def _counter_rows(org_path: str, kind: str, change: Counter) -> list[dict[str, Any]]:
    """Each change, for the organisation alone and for every subtree it is in, by day and
    by month."""
    ids = _path_ids(org_path)
    merged: Counter = Counter()
    for (day, figure, part, who, bucket), n in change.items():
        if not n:
            continue
        for org_id, subtree in [(ids[-1], False), *((i, True) for i in ids)]:
            for grain, period in (("d", day), ("m", day[:7])):
                merged[(org_id, subtree, grain, period, figure, part, who, bucket)] += n
    return [{"org_id": org_id, "subtree": subtree, "grain": grain, "kind": kind,
             "period": period, "figure": figure, "part": part, "who": who, "bucket": bucket,
             "n": n}
            for (org_id, subtree, grain, period, figure, part, who, bucket), n in merged.items()
            if n]


def _event_dicts(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [dict(r) | {"payload": json.loads(r["payload"])} for r in rows]


def case_marks(eng: Engine, conn: Connection, kind: str, version: int, org_path: str,
               rows: Sequence[Mapping[str, Any]], data: Mapping[str, Any]) -> list[Mark]:
    """The marks a case's events give, by its process's own declaration (none without)."""
    statistics = eng.registry.get(kind, version).process.statistics
    if statistics is None or not rows:
        return []
    calendar = eng.calendars.for_org(conn, org_path)
    return statistics.marks(_event_dicts(rows), data, calendar.working_days_between)


def _statistics(registry: Registry, kind: str, version: int) -> Statistics | None:
    return registry.get(kind, version).process.statistics


def _refresh_case(eng: Engine, conn: Connection, case_id: int) -> None:
    """Recompute one case's marks and move the counters by the difference."""
    row = conn.execute(sa.select(cases.c.kind, cases.c.def_version, cases.c.org_id,
                                 cases.c.data, cases.c.seq, orgs.c.path)
                       .join(orgs, orgs.c.id == cases.c.org_id)
                       .where(cases.c.id == case_id)).first()
    statistics = None if row is None else _statistics(eng.registry, row.kind, row.def_version)
    if statistics is None:
        return
    evs = [dict(r._mapping) for r in conn.execute(
        sa.select(*[events.c[n] for n in EVENT_COLUMNS])
        .where(events.c.case_id == case_id).order_by(events.c.seq))]
    new = _encoded(case_marks(eng, conn, row.kind, row.def_version, row.path, evs,
                              json.loads(row.data)), statistics)
    stored = conn.execute(sa.select(stats_cases.c.marks)
                          .where(stats_cases.c.case_id == case_id)).scalar()
    if stored is None:
        conn.execute(sa.insert(stats_cases).values(case_id=case_id, kind=row.kind,
                                                   org_id=row.org_id, seq=row.seq,
                                                   marks=json.dumps(new)))
        old: list = []
    else:
        old = json.loads(stored)
        conn.execute(sa.update(stats_cases).where(stats_cases.c.case_id == case_id)
                     .values(seq=row.seq, marks=json.dumps(new)))
    _upsert(conn, eng.db.engine.dialect.name,
            _counter_rows(row.path, row.kind, _deltas(old, new)))


def _behind(eng: Engine) -> bool:
    with eng.db.read() as conn:
        cursor = conn.execute(sa.select(stats_cursor).where(stats_cursor.c.name == CURSOR)).first()
        top = conn.execute(sa.select(sa.func.max(events.c.id))).scalar() or 0
    return cursor is None or cursor.position < top or cursor.gaps != "[]"


def catch_up(eng: Engine, now: float | None = None) -> int:
    """Take the events after the cursor (and the ids missed below it) into the counters;
    how many events were taken. Safe to run from several workers at once: the cursor row
    is locked for the transaction."""
    taken = 0
    while _behind(eng):
        moment = time.time() if now is None else now
        with eng.db.write() as conn:
            conn.execute(_insert(eng.db.engine.dialect.name, stats_cursor)
                         .values(name=CURSOR, position=0, gaps="[]")
                         .on_conflict_do_nothing(index_elements=["name"]))
            query = sa.select(stats_cursor).where(stats_cursor.c.name == CURSOR)
            if not eng.db.is_sqlite:
                query = query.with_for_update()
            cursor = conn.execute(query).one()
            position, gaps = cursor.position, json.loads(cursor.gaps)
            waiting = {gap_id: since for gap_id, since in gaps}
            new = conn.execute(sa.select(events.c.id, events.c.case_id)
                               .where(events.c.id > position).order_by(events.c.id)
                               .limit(BATCH)).all()
            found = conn.execute(sa.select(events.c.id, events.c.case_id)
                                 .where(events.c.id.in_(list(waiting)))).all() if waiting else []
            touched = sorted({r.case_id for r in [*new, *found]})
            for case_id in touched:
                _refresh_case(eng, conn, case_id)
            top = new[-1].id if new else position
            seen = {r.id for r in new} | {r.id for r in found}
            missing = [[i, moment] for i in range(position + 1, top) if i not in seen]
            kept = [[i, since] for i, since in waiting.items()
                    if i not in seen and moment - since < GAP_SECONDS]
            conn.execute(sa.update(stats_cursor).where(stats_cursor.c.name == CURSOR)
                         .values(position=top, gaps=json.dumps(kept + missing)))
            taken += len(new) + len(found)
            if not new and not found and kept == gaps:
                break
            if not new and not found:
                continue
    return taken


# -- periods and who may see them -----------------------------------------------------------


def period(start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    """A period from two ISO dates (422 with the reason when they are not)."""
    try:
        first = dt.date.fromisoformat(start or "")
        last = dt.date.fromisoformat(end or "")
    except (TypeError, ValueError):
        raise Invalid(fields={"from": BAD_PERIOD, "to": BAD_PERIOD}) from None
    if not (EARLIEST <= first <= last <= LATEST):
        raise Invalid(fields={"from": BAD_PERIOD, "to": BAD_PERIOD})
    return first, last


def end_of_day(text: str | None) -> str:
    """The last moment of a day in China (an ``as_of`` date), as the canonical UTC text
    :func:`as_of` takes (422 with the reason when it is not a date of 2000–2099)."""
    try:
        day = dt.date.fromisoformat(text or "")
    except (TypeError, ValueError):
        raise Invalid(fields={"as_of": BAD_AS_OF}) from None
    if not EARLIEST <= day <= LATEST:
        raise Invalid(fields={"as_of": BAD_AS_OF})
    return iso_utc(end_of_local_day(day) - dt.timedelta(microseconds=1))


def scope_of(db, paths: Iterable[str]) -> Scope:
    """The subtrees under ``paths`` (where the person holds a statistics role); 403 for
    none."""
    paths = sorted(set(paths))
    if not paths:
        raise Forbidden(NOT_ALLOWED)
    with db.read() as conn:
        rows = conn.execute(sa.select(orgs.c.code, orgs.c.name, orgs.c.path).where(
            sa.or_(*[orgs.c.path.startswith(p) for p in paths])).order_by(orgs.c.path)).all()
    return Scope({r.code: (r.name, r.path) for r in rows},
                 tuple(r.code for r in rows if r.path in paths))


def account_paths(roles: Iterable[tuple[str, str, str, str]]) -> list[str]:
    """The organisation paths where an account's roles let it see statistics."""
    return [path for _code, _name, path, role in roles if role in ROLES]


# -- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartValue:
    name: str
    label: Text
    total: int
    by_who: Mapping[str, int]


@dataclass(frozen=True)
class FigureValue:
    name: str
    label: Text
    unit: str
    total: int
    by_who: Mapping[str, int]
    parts: tuple[PartValue, ...] = ()
    #: a days figure: cases counted, median, 90th percentile and longest (nearest rank)
    median: int | None = None
    p90: int | None = None
    longest: int | None = None
    histogram: tuple[tuple[int, int], ...] = ()

    def part(self, name: str) -> int:
        return next((p.total for p in self.parts if p.name == name), 0)


@dataclass(frozen=True)
class ProcessFigures:
    kind: str
    label: Text
    figures: tuple[FigureValue, ...]
    #: cases open at the start of the period and at its end (received minus closed), by
    #: applicant kind
    carried_over_by_who: Mapping[str, int] | None = None
    carried_forward_by_who: Mapping[str, int] | None = None

    @property
    def carried_over(self) -> int | None:
        return None if self.carried_over_by_who is None else sum(
            self.carried_over_by_who.values())

    @property
    def carried_forward(self) -> int | None:
        return None if self.carried_forward_by_who is None else sum(
            self.carried_forward_by_who.values())

    def figure(self, name: str) -> FigureValue:
        return next(f for f in self.figures if f.name == name)


@dataclass(frozen=True)
class Figures:
    org: str
    org_name: str
    start: dt.date
    end: dt.date
    subtree: bool
    processes: tuple[ProcessFigures, ...] = field(default_factory=tuple)

    def process(self, kind: str) -> ProcessFigures:
        return next(p for p in self.processes if p.kind == kind)

    @property
    def timeliness(self) -> tuple[int, int, int]:
        """On time, overdue, long overdue over every process that times its cases (A9)."""
        counts = [0, 0, 0]
        for proc in self.processes:
            for fig in proc.figures:
                if fig.name == "timeliness":
                    for i, part in enumerate(("on_time", "overdue", "long_overdue")):
                        counts[i] += fig.part(part)
        return counts[0], counts[1], counts[2]

    @property
    def on_time_rate(self) -> float | None:
        on_time, late, long_late = self.timeliness
        total = on_time + late + long_late
        return on_time / total if total else None


def nearest_rank(histogram: Sequence[tuple[int, int]], share: float) -> int | None:
    """The smallest value with at least ``share`` of the cases at or below it."""
    total = sum(n for _v, n in histogram)
    if not total:
        return None
    need, running = math.ceil(share * total), 0
    for value, n in sorted(histogram):
        running += n
        if running >= need:
            return value
    return None


Row = tuple[str, str, str, str, int, int]  # kind, figure, part, who, bucket, n


def shape(registry: Registry, kinds: Sequence[str], rows: Iterable[Row],
          carried: Mapping[str, tuple[Counter, Counter]]) -> tuple[ProcessFigures, ...]:
    """The figures of each process from summed counter rows."""
    sums: dict[str, dict[str, list[tuple[str, str, int, int]]]] = defaultdict(
        lambda: defaultdict(list))
    for kind, figure, part, who, bucket, n in rows:
        sums[kind][figure].append((part, who, bucket, n))
    shaped = []
    for kind in kinds:
        process = registry.get(kind).process
        statistics = process.statistics
        values = []
        for fig in statistics.figures:
            entries = sums[kind].get(fig.name, [])
            by_who: Counter = Counter()
            by_part: dict[str, Counter] = defaultdict(Counter)
            histogram: Counter = Counter()
            for part, who, bucket, n in entries:
                by_who[who] += n
                by_part[part][who] += n
                histogram[bucket] += n
            names = list(fig.part_labels) + sorted(set(by_part) - set(fig.part_labels) - {""})
            parts = tuple(PartValue(p, fig.part_labels.get(p, Text(p, p)),
                                    sum(by_part[p].values()), dict(by_part[p]))
                          for p in names) if fig.part_labels or len(by_part) > 1 else ()
            hist = tuple(sorted(histogram.items())) if fig.unit == "days" else ()
            values.append(FigureValue(
                fig.name, fig.label, fig.unit, sum(by_who.values()), dict(by_who), parts,
                nearest_rank(hist, 0.5), nearest_rank(hist, 0.9),
                max((v for v, n in hist if n), default=None), hist))
        over, forward = carried.get(kind, (None, None))
        shaped.append(ProcessFigures(kind, process.label, tuple(values),
                                     None if over is None else dict(+over),
                                     None if forward is None else dict(+forward)))
    return tuple(shaped)


def kinds_of(registry: Registry, kind: str | None) -> list[str]:
    """The processes that count (all, or the one asked for; 404 for one that doesn't)."""
    counting = [k for k in registry.kinds() if registry.get(k).process.statistics]
    if kind is None:
        return counting
    if kind not in counting:
        raise NotFound(UNKNOWN_KIND)
    return [kind]


def _ranges(start: dt.date, end: dt.date) -> list[tuple[str, str, str]]:
    """(grain, first, last) covering ``start``..``end``: whole months by their month rows,
    the days at the edges by their day rows."""
    first_whole = start if start.day == 1 else _next_month(start)
    last_whole = end if _month_end(end) == end else _month_start(end) - dt.timedelta(days=1)
    out: list[tuple[str, str, str]] = []
    if first_whole > last_whole:
        return [("d", start.isoformat(), end.isoformat())]
    out.append(("m", first_whole.isoformat()[:7], last_whole.isoformat()[:7]))
    if start < first_whole:
        out.append(("d", start.isoformat(), (first_whole - dt.timedelta(days=1)).isoformat()))
    if last_whole < end:
        out.append(("d", (last_whole + dt.timedelta(days=1)).isoformat(), end.isoformat()))
    return out


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    return _next_month(day) - dt.timedelta(days=1)


def _summed(conn: Connection, org_id: int, subtree: bool, kinds: Sequence[str],
            ranges: Sequence[tuple[str, str, str]],
            figures: Sequence[str] = ()) -> list[Row]:
    """The counters summed over the ranges: one query per range, each an index range scan
    (the key begins organisation, subtree, grain, process, period), so the rows read are
    the rows summed and never the organisation's whole history."""
    c = stats_counts.c
    total: Counter = Counter()
    for grain, lo, hi in ranges:
        query = sa.select(c.kind, c.figure, c.part, c.who, c.bucket, sa.func.sum(c.n)).where(
            c.org_id == org_id, c.subtree == subtree, c.grain == grain, c.kind.in_(kinds),
            c.period.between(lo, hi))
        if figures:
            query = query.where(c.figure.in_(figures))
        for r in conn.execute(query.group_by(c.kind, c.figure, c.part, c.who, c.bucket)):
            total[tuple(r[:5])] += int(r[5])
    return [(*key, n) for key, n in total.items() if n]


def _open_at(conn: Connection, registry: Registry, org_id: int, subtree: bool,
             kinds: Sequence[str], before: dt.date) -> dict[str, Counter]:
    """Cases open at the start of ``before``, by applicant kind, for the processes that
    name their opening and closing figures: everything opened before minus everything
    closed before."""
    counted = {k: registry.get(k).process.statistics.open_close for k in kinds}
    counted = {k: v for k, v in counted.items() if v}
    if not counted:
        return {}
    found: dict[str, Counter] = {k: Counter() for k in counted}
    figures = sorted({f for pair in counted.values() for f in pair})
    for kind, figure, _part, who, _bucket, n in _summed(
            conn, org_id, subtree, list(counted), _ranges(EARLIEST, before - dt.timedelta(days=1)),
            figures):
        opened, closed = counted[kind]
        if figure in (opened, closed):
            found[kind][who] += n * (1 if figure == opened else -1)
    return found


def _org(conn: Connection, scope: Scope, code: str) -> Any:
    if not scope.holds(code):
        raise NotFound(OUTSIDE)
    return conn.execute(sa.select(orgs.c.id, orgs.c.code, orgs.c.name, orgs.c.path)
                        .where(orgs.c.code == code)).first()


def figures(eng: Engine, scope: Scope, code: str, start: dt.date, end: dt.date,
            kind: str | None = None, subtree: bool = True) -> Figures:
    """The figures of ``code`` (with its subtree, or alone) for the period, as the event
    log stands now (the counters caught up first)."""
    kinds = kinds_of(eng.registry, kind)
    catch_up(eng)
    with eng.db.read() as conn:
        org = _org(conn, scope, code)
        return _figures(conn, eng.registry, org, start, end, kinds, subtree)


def _figures(conn: Connection, registry: Registry, org: Any, start: dt.date, end: dt.date,
             kinds: Sequence[str], subtree: bool) -> Figures:
    rows = _summed(conn, org.id, subtree, kinds, _ranges(start, end))
    over = _open_at(conn, registry, org.id, subtree, kinds, start)
    forward = _open_at(conn, registry, org.id, subtree, kinds, end + dt.timedelta(days=1))
    carried = {k: (over[k], forward[k]) for k in over}
    return Figures(org.code, org.name, start, end, subtree,
                   shape(registry, kinds, rows, carried))


def children(eng: Engine, scope: Scope, code: str, start: dt.date, end: dt.date,
             kind: str | None = None) -> list[Figures]:
    """Each child organisation's subtree figures side by side, the worst on-time rate
    first (those with nothing timed last), then by code."""
    kinds = kinds_of(eng.registry, kind)
    catch_up(eng)
    with eng.db.read() as conn:
        org = _org(conn, scope, code)
        rows = conn.execute(sa.select(orgs.c.id, orgs.c.code, orgs.c.name, orgs.c.path)
                            .where(orgs.c.parent_id == org.id).order_by(orgs.c.code)).all()
        found = [_figures(conn, eng.registry, child, start, end, kinds, True) for child in rows]
    return sorted(found, key=lambda f: (f.on_time_rate is None, f.on_time_rate or 0, f.org))


@dataclass(frozen=True)
class Month:
    month: str
    processes: tuple[ProcessFigures, ...]


def monthly(eng: Engine, scope: Scope, code: str, start: dt.date, end: dt.date,
            kind: str | None = None) -> list[Month]:
    """The figures month by month over the period (the edge months cut to it)."""
    kinds = kinds_of(eng.registry, kind)
    catch_up(eng)
    out = []
    with eng.db.read() as conn:
        org = _org(conn, scope, code)
        first = _month_start(start)
        while first <= end:
            lo, hi = max(first, start), min(_month_end(first), end)
            rows = _summed(conn, org.id, True, kinds, _ranges(lo, hi))
            out.append(Month(first.isoformat()[:7], shape(eng.registry, kinds, rows, {})))
            first = _next_month(first)
    return out


# -- as of a past moment, by replay (AU2) -----------------------------------------------------


def _replayed(eng: Engine, conn: Connection, org: Any, kinds: Sequence[str], at: str,
              subtree: bool) -> Counter:
    """Every case of the organisation (and its subtree) replayed to ``at`` and read by its
    process's declaration: the marks' counts by (kind, day, figure, part, who, bucket)."""
    counted: Counter = Counter()
    where = orgs.c.path.startswith(org.path) if subtree else orgs.c.id == org.id
    ids = [r.id for r in conn.execute(
        sa.select(cases.c.id).join(orgs, orgs.c.id == cases.c.org_id)
        .where(where, cases.c.kind.in_(kinds)).order_by(cases.c.id))]
    for case_id in ids:
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(*[events.c[n] for n in EVENT_COLUMNS])
            .where(events.c.case_id == case_id, events.c.at <= at)
            .order_by(events.c.seq))]
        if not rows:
            continue
        rebuilt = replay(rows, eng.registry)
        path = conn.execute(sa.select(orgs.c.path).where(orgs.c.code == rebuilt.org)).scalar()
        statistics = _statistics(eng.registry, rebuilt.kind, rebuilt.def_version)
        for day, figure, part, who, bucket, n in _encoded(
                case_marks(eng, conn, rebuilt.kind, rebuilt.def_version, path, rows,
                           rebuilt.data), statistics):
            counted[(rebuilt.kind, day, figure, part, who, bucket)] += n
    return counted


def _within(counted: Counter, start: dt.date, end: dt.date) -> list[tuple]:
    first, last = start.isoformat(), end.isoformat()
    return [(k, f, p, w, b, n) for (k, d, f, p, w, b), n in counted.items()
            if first <= d <= last]


def as_of(eng: Engine, scope: Scope, code: str, start: dt.date, end: dt.date, at: str,
          kind: str | None = None, subtree: bool = True) -> Figures:
    """The same figures from the events up to ``at`` (canonical UTC text) alone: every
    case of the subtree replayed to then and read by its process's declaration; no
    counter is used, so this checks the projection as well as answering for the past."""
    kinds = kinds_of(eng.registry, kind)
    with eng.db.read() as conn:
        org = _org(conn, scope, code)
        counted = _replayed(eng, conn, org, kinds, at, subtree)
    first = start.isoformat()
    carried = {}
    for k in kinds:
        pair = eng.registry.get(k).process.statistics.open_close
        if pair:
            def open_before(limit: str, k=k, pair=pair) -> Counter:
                found: Counter = Counter()
                for (kk, d, f, _p, who, _b), n in counted.items():
                    if kk == k and d < limit and f in pair:
                        found[who] += n * (1 if f == pair[0] else -1)
                return found
            carried[k] = (open_before(first),
                          open_before((end + dt.timedelta(days=1)).isoformat()))
    return Figures(org.code, org.name, start, end, subtree,
                   shape(eng.registry, kinds, _within(counted, start, end), carried))


def children_as_of(eng: Engine, scope: Scope, code: str, start: dt.date, end: dt.date,
                   at: str, kind: str | None = None) -> list[Figures]:
    """:func:`children` as they stood at ``at``, each child's subtree replayed."""
    with eng.db.read() as conn:
        org = _org(conn, scope, code)
        codes = [r.code for r in conn.execute(sa.select(orgs.c.code)
                                              .where(orgs.c.parent_id == org.id))]
    found = [as_of(eng, scope, child, start, end, at, kind) for child in codes]
    return sorted(found, key=lambda f: (f.on_time_rate is None, f.on_time_rate or 0, f.org))


def monthly_as_of(eng: Engine, scope: Scope, code: str, start: dt.date, end: dt.date,
                  at: str, kind: str | None = None) -> list[Month]:
    """:func:`monthly` as it stood at ``at``, from one replay of the subtree."""
    kinds = kinds_of(eng.registry, kind)
    with eng.db.read() as conn:
        counted = _replayed(eng, conn, _org(conn, scope, code), kinds, at, True)
    out, first = [], _month_start(start)
    while first <= end:
        rows = _within(counted, max(first, start), min(_month_end(first), end))
        out.append(Month(first.isoformat()[:7], shape(eng.registry, kinds, rows, {})))
        first = _next_month(first)
    return out


# -- the annual report (年度报告) ---------------------------------------------------------------

YEAR_NOT_OVER = Text("年度尚未结束，年度报告只能在次年发布",
                     "The year is not over: its annual report is published the year after")
ALREADY_PUBLISHED = Text("年度报告已发布，不能再修改",
                         "The annual report is published: no more edits")
BAD_YEAR = Text("年份应在 2000 至 2099 之间", "The year is between 2000 and 2099")
NOT_PUBLISHED = Text("该年度报告尚未发布", "This annual report is not published")
#: the process keeping a report's texts and publication (machines/annual_report.py)
REPORT_KIND = "annual_report"


@dataclass(frozen=True)
class ReportLine:
    label: Text
    level: int
    cells: Mapping[str, int]
    total: int


@dataclass(frozen=True)
class ReportTable:
    kind: str
    label: Text
    columns: tuple[tuple[str, Text], ...]
    lines: tuple[ReportLine, ...]


@dataclass(frozen=True)
class Annual:
    org: str
    org_name: str
    year: int
    tables: tuple[ReportTable, ...]
    problems: str = ""
    improvements: str = ""
    published_at: dt.datetime | None = None
    published_by: str | None = None


def year_of(text: object) -> int:
    """A report year from a path or form (422 for anything but 2000–2099)."""
    try:
        year = int(str(text))
    except ValueError:
        raise Invalid(fields={"year": BAD_YEAR}) from None
    if not 2000 <= year <= 2099:
        raise Invalid(fields={"year": BAD_YEAR})
    return year


def report_tables(registry: Registry, found: Figures) -> tuple[ReportTable, ...]:
    """Each process's report rows (its own declaration) filled from a year's figures:
    a cell per applicant kind and the row's total."""
    tables = []
    for proc in found.processes:
        statistics = registry.get(proc.kind).process.statistics
        if not statistics.report:
            continue
        columns = tuple(statistics.who_labels.items())
        lines = []
        for row in statistics.report:
            cells: Counter = Counter()
            if row.carried:
                cells.update((proc.carried_over_by_who if row.carried == "over"
                              else proc.carried_forward_by_who) or {})
            for figure, part in row.counts:
                fig = proc.figure(figure)
                source = fig.by_who if not part else next(
                    (p.by_who for p in fig.parts if p.name == part), {})
                cells.update(source)
            lines.append(ReportLine(row.label, row.level,
                                    {who: cells.get(who, 0) for who, _l in columns},
                                    sum(cells.get(who, 0) for who, _l in columns)))
        tables.append(ReportTable(proc.kind, proc.label, columns, tuple(lines)))
    return tuple(tables)


def _year_figures(eng: Engine, conn: Connection, org: Any, year: int) -> Figures:
    kinds = [k for k in kinds_of(eng.registry, None)
             if eng.registry.get(k).process.statistics.report]
    return _figures(conn, eng.registry, org, dt.date(year, 1, 1), dt.date(year, 12, 31),
                    kinds, True)


def _report(conn: Connection, org_id: int, year: int) -> tuple[Any, dict[str, Any]] | None:
    """The case keeping an organisation's report of a year, with its data (one at most:
    the process's ``one_per``; the oldest, should a database from before hold two)."""
    for row in conn.execute(sa.select(cases.c.id, cases.c.version, cases.c.data)
                            .where(cases.c.kind == REPORT_KIND, cases.c.org_id == org_id)
                            .order_by(cases.c.id)):
        data = json.loads(row.data)
        if data.get("year") == year:
            return row, data
    return None


def _released_at(publication: Mapping[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(publication["published_public"]["at"])


def annual(eng: Engine, scope: Scope | None, code: str, year: int) -> Annual:
    """An organisation's annual report with its subtree's tables; ``scope`` None is the
    public, who see a published report only (404 otherwise)."""
    catch_up(eng)
    with eng.db.read() as conn:
        if scope is None:
            org = conn.execute(sa.select(orgs.c.id, orgs.c.code, orgs.c.name, orgs.c.path)
                               .where(orgs.c.code == code)).first()
        else:
            org = _org(conn, scope, code)
        saved = {} if org is None else (_report(conn, org.id, year) or (None, {}))[1]
        publication = saved.get("publication")
        if scope is None and not publication:
            raise NotFound(NOT_PUBLISHED)
        tables = report_tables(eng.registry, _year_figures(eng, conn, org, year))
    return Annual(org.code, org.name, year, tables, saved.get("problems", ""),
                  saved.get("improvements", ""),
                  _released_at(publication) if publication else None,
                  publication["by"] if publication else None)


def may_edit(eng: Engine, actor: Actor, org_path: str) -> bool:
    """Whether this person writes and publishes the organisation's report (the report
    process's own roles: its office or secretary, or its parent's)."""
    return actor.holds(eng.registry.get(REPORT_KIND).process.start_roles, org_path)


def _open_report(eng: Engine, scope: Scope, code: str, year: int
                 ) -> tuple[Any, tuple[Any, dict[str, Any]] | None]:
    with eng.db.read() as conn:
        org = _org(conn, scope, code)
        found = _report(conn, org.id, year)
    if found is not None and found[1].get("publication"):
        raise NotAllowed(ALREADY_PUBLISHED)
    return org, found


def save_texts(eng: Engine, scope: Scope, code: str, year: int, actor: Actor,
               problems: str, improvements: str, now: dt.datetime) -> None:
    """The office writes the report's texts: the report's case opened with them, or an
    ``edit`` event; refused once it is published."""
    org, found = _open_report(eng, scope, code, year)
    texts = {"problems": problems, "improvements": improvements}
    if found is None:
        eng.start(REPORT_KIND, org.code, actor, {"year": year} | texts, now)
    else:
        eng.fire(found[0].id, "edit", actor, texts, found[0].version, now)


def publish(eng: Engine, scope: Scope, code: str, year: int, actor: Actor,
            now: dt.datetime) -> None:
    """Published on the public board through the report's ``publish`` trigger: only a
    year that is over, whose figures no longer change; once only."""
    if year >= local_date(now).year:
        raise NotAllowed(YEAR_NOT_OVER)
    org, found = _open_report(eng, scope, code, year)
    if found is None:
        case = eng.start(REPORT_KIND, org.code, actor, {"year": year}, now)
        case_id, version = case.id, case.version
    else:
        case_id, version = found[0].id, found[0].version
    eng.fire(case_id, "publish", actor, {}, version, now)


@dataclass(frozen=True)
class PublishedReport:
    org: str
    org_name: str
    year: int
    published_at: dt.datetime


def published(db) -> list[PublishedReport]:
    """Every published annual report, newest year first (the public board's list)."""
    with db.read() as conn:
        rows = conn.execute(sa.select(orgs.c.code, orgs.c.name, orgs.c.path, cases.c.data)
                            .join(orgs, orgs.c.id == cases.c.org_id)
                            .where(cases.c.kind == REPORT_KIND)).all()
    found = [(row, json.loads(row.data)) for row in rows]
    ordered = sorted(((data["year"], row.path, row, data) for row, data in found
                      if data.get("publication")), key=lambda t: (-t[0], t[1]))
    return [PublishedReport(row.code, row.name, year, _released_at(data["publication"]))
            for year, _path, row, data in ordered]
