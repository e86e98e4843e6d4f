"""Times: stored in UTC, shown and counted in Asia/Shanghai (DESIGN.md, Working days)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def instant(moment: dt.datetime | None) -> dt.datetime:
    """``moment`` in UTC, or the clock's now: what guards and effects see as ``ctx.now``,
    so a caller's local time yields the same data live as on replay (from the UTC event)."""
    if moment is None:
        return utcnow()
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC)


def iso_utc(moment: dt.datetime) -> str:
    """UTC ISO-8601 ending in Z, microseconds kept: the form events are hashed in."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    # isoformat is several times faster than strftime; same text (years 1000–9999)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_iso(text: str) -> dt.datetime:
    """ISO-8601 text as an aware UTC datetime (no offset: Asia/Shanghai). Python 3.11
    reads a trailing ``Z`` itself; verify's replay parses every event's time. A text that
    is no time, or none that UTC can hold, raises ``ValueError``."""
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    try:
        return moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    except OverflowError:  # the first or last hours of the calendar, shifted out of it
        raise ValueError(f"{text!r}: no UTC time within years 1–9999") from None


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar day in China on which ``moment`` falls (the day of receipt)."""
    return moment.astimezone(LOCAL_TZ).date()


def end_of_local_day(day: dt.date) -> dt.datetime:
    """A deadline on ``day`` falls due at the next midnight in Asia/Shanghai (overdue from
    then). ``ValueError`` for 9999-12-31, which has no next day."""
    if day == dt.date.max:
        raise ValueError(f"{day}: no day follows it")
    return start_of_local_day(day + dt.timedelta(days=1))


def start_of_local_day(day: dt.date) -> dt.datetime:
    """Midnight in Asia/Shanghai of ``day``, in UTC; ``ValueError`` for 0001-01-01, whose
    midnight is in year 0 in UTC."""
    try:
        return dt.datetime.combine(day, dt.time(), LOCAL_TZ).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{day}: no UTC time within years 1–9999") from None
