"""The working-day calendar an organisation counts with: national schedule + overrides.

Imported official days (``calendar_days`` rows without an organisation) take
precedence over the ``chinesecalendar`` package and the fallback rules; an
organisation's overrides, and its ancestors', take precedence over both (nearest wins).
Calendars are cached per organisation and rebuilt after this process changes a row;
other processes see a change within ``TTL`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.calendar.holidays import ScheduleDay, WorkCalendar
from workflow.store.models import days

TTL = 60.0


def _ancestor_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


class Calendars:
    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, WorkCalendar]] = {}

    def for_org(self, conn: Connection, org_path: str) -> WorkCalendar:
        hit = self._cache.get(org_path)
        if hit and time.monotonic() - hit[0] < TTL:
            return hit[1]
        chain = _ancestor_ids(org_path)
        rows = conn.execute(
            sa.select(days.c.org_id, days.c.day, days.c.workday, days.c.reason).where(
                sa.or_(days.c.org_id.is_(None), days.c.org_id.in_(chain))
            )
        ).all()
        official = {r.day: (bool(r.workday), r.reason) for r in rows if r.org_id is None}
        depth = {org_id: i for i, org_id in enumerate(chain)}
        overrides: dict = {}
        for r in sorted((r for r in rows if r.org_id is not None), key=lambda r: depth[r.org_id]):
            overrides[r.day] = (bool(r.workday), r.reason)
        calendar = WorkCalendar(official=official, overrides=overrides)
        self._cache[org_path] = (time.monotonic(), calendar)
        return calendar

    def invalidate(self) -> None:
        self._cache.clear()


def store_days(conn: Connection, org_id: int | None, entries: Iterable[ScheduleDay]) -> int:
    """Insert or replace days (an official year import, or one organisation's overrides)."""
    count = 0
    for entry in entries:
        match = sa.and_(days.c.day == entry.date,
                        days.c.org_id.is_(None) if org_id is None else days.c.org_id == org_id)
        conn.execute(sa.delete(days).where(match))
        conn.execute(sa.insert(days).values(org_id=org_id, day=entry.date,
                                            workday=entry.workday, reason=entry.name))
        count += 1
    return count
