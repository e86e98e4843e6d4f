"""From a timer declaration to due instants: the deadline and its reminders.

A day-count deadline falls due at the end of its due day in Asia/Shanghai (overdue
from the next midnight); a reminder fires at the start of its day. The ``basis`` kept
on each timer row is enough to compute it again, e.g. after an official holiday
schedule replaces a provisional one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflow.base.timeutil import end_of_local_day, local_date, parse_iso, start_of_local_day
from workflow.calendar.holidays import Due, Skipped, WorkCalendar, official_known
from workflow.core.declare import AtField, CalendarDays, Timer, WorkingDays


@dataclass(frozen=True)
class Planned:
    name: str
    trigger: str
    due_at: dt.datetime
    due_date: dt.date | None
    provisional: bool
    basis: dict[str, Any]
    explain: dict[str, Any] | None = None


def _amount(rule: WorkingDays | CalendarDays, data: Mapping[str, Any]) -> int:
    if rule.n_field and data.get(rule.n_field) is not None:
        return int(data[rule.n_field])
    settings = data.get("_settings", {})
    if rule.setting and settings.get(rule.setting) is not None:
        return int(settings[rule.setting])
    return rule.n


def _start(rule: WorkingDays | CalendarDays, data: Mapping[str, Any], entered: dt.datetime):
    if rule.start_field and data.get(rule.start_field):
        return dt.date.fromisoformat(str(data[rule.start_field])[:10])
    return local_date(entered)


def compute(basis: Mapping[str, Any], calendar: WorkCalendar):
    """(due_at, due_date, provisional, explain) for a basis; reminders shift by ``before``."""
    unit = basis["unit"]
    if unit == "at":
        due_at = parse_iso(basis["at"])
        day = local_date(due_at)
        if basis.get("before"):
            day = day - dt.timedelta(days=basis["before"])
            return start_of_local_day(day), day, False, None
        return due_at, day, False, None
    start = dt.date.fromisoformat(basis["start"])
    if unit == "working":
        due = calendar.add_working_days(start, basis["n"])
        explain = _trail(basis) | due.to_json()
        day, provisional = due.due, due.provisional
        if basis.get("before"):
            remind = calendar.subtract_working_days(day, basis["before"])
            return start_of_local_day(remind), remind, provisional, None
    else:
        day = start + dt.timedelta(days=basis["n"])
        explain = _trail(basis) | {"due": day.isoformat(), "provisional": False, "skipped": []}
        provisional = False
        if basis.get("before"):
            remind = day - dt.timedelta(days=basis["before"])
            return start_of_local_day(remind), remind, False, None
    return end_of_local_day(day), day, provisional, explain


def _trail(basis: Mapping[str, Any]) -> dict[str, Any]:
    """What a due date's explanation carries beyond the count: earlier pauses and origin."""
    keep = {k: basis[k] for k in ("pauses", "origin", "extensions") if k in basis}
    return {"unit": basis["unit"], "start": basis["start"], "n": basis["n"]} | keep


def initial_basis(spec: Timer, data: Mapping[str, Any],
                  entered: dt.datetime) -> dict[str, Any] | None:
    """How a timer counts when it starts; None when the date it needs is not in the data."""
    rule = spec.after
    if isinstance(rule, AtField):
        value = data.get(rule.field)
        if not value:
            return None
        moment = (start_of_local_day(dt.date.fromisoformat(value)) if len(str(value)) == 10
                  else parse_iso(str(value)))
        days_before = int(data.get("_settings", {}).get(rule.setting, rule.days_before)
                          if rule.setting else rule.days_before)
        return {"unit": "at", "at": (moment - dt.timedelta(days=days_before)).isoformat()}
    return {"unit": "working" if isinstance(rule, WorkingDays) else "calendar",
            "start": _start(rule, data, entered).isoformat(), "n": _amount(rule, data)}


def paused_basis(basis: Mapping[str, Any], due_date: dt.date, today: dt.date,
                 calendar: WorkCalendar) -> dict[str, Any] | None:
    """Stop the clock today, keeping the days left; a fixed instant cannot pause (None)."""
    if basis["unit"] == "at":
        return None
    if basis["unit"] == "working":
        left = calendar.working_days_between(today, due_date) if due_date > today else 0
    else:
        left = max((due_date - today).days, 0)
    return dict(basis) | {"remaining": left, "paused_on": today.isoformat()}


def resumed_basis(basis: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """Run on from today with the days that were left; the pause is kept for the record."""
    pauses = [*basis.get("pauses", []), {"from": basis["paused_on"], "to": today.isoformat()}]
    origin = basis.get("origin", {"start": basis["start"], "n": basis["n"]})
    kept = {k: v for k, v in basis.items() if k not in ("remaining", "paused_on")}
    return kept | {"start": today.isoformat(), "n": basis["remaining"], "pauses": pauses,
                   "origin": origin}


def extended_basis(basis: Mapping[str, Any], days: int, today: dt.date) -> dict[str, Any]:
    """The same count with ``days`` more, the extension kept for the explanation."""
    extensions = [*basis.get("extensions", []), {"days": days, "on": today.isoformat()}]
    return dict(basis) | {"n": basis["n"] + days, "extensions": extensions}


def plan(spec: Timer, data: Mapping[str, Any], entered: dt.datetime, calendar: WorkCalendar,
         basis: Mapping[str, Any] | None = None) -> list[Planned]:
    """The timer row and its reminder rows, from a fresh start or a given basis."""
    basis = basis if basis is not None else initial_basis(spec, data, entered)
    if basis is None:
        return []
    basis = {k: v for k, v in basis.items() if k != "sets_due"}
    due_at, due_date, provisional, explain = compute(basis, calendar)
    planned = [Planned(spec.name, spec.trigger, due_at, due_date, provisional,
                       basis | {"sets_due": spec.sets_due}, explain)]
    reminders = spec.reminders
    if spec.reminder_setting and spec.reminder_setting in data.get("_settings", {}):
        reminders = tuple(data["_settings"][spec.reminder_setting])
    for before in reminders:
        rbasis = basis | {"before": before, "for": spec.name, "due": due_date.isoformat()}
        at, day, prov, _ = compute(rbasis, calendar)
        if at > entered:
            planned.append(Planned(f"{spec.name}.remind{before}", "remind", at, day, prov, rbasis))
    return planned


def explain_due(basis: Mapping[str, Any] | None, language: str = "zh") -> str | None:
    """A5: the sentence saying how a case's due date was reached: the days skipped and
    why, whether it is provisional, and the extensions and pauses on the way. One text
    for the case page, the tracking page and the API."""
    if not basis:
        return None
    zh = language == "zh"
    if basis.get("unit") == "calendar":
        return (f"自 {basis['start']} 起 {basis['n']} 个自然日" if zh
                else f"{basis['n']} calendar days after {basis['start']}")
    start, due = basis["start"], basis["due"]
    text = Due(
        start=dt.date.fromisoformat(start), days=basis["n"], due=dt.date.fromisoformat(due),
        provisional=basis["provisional"],
        skipped=tuple(Skipped(dt.date.fromisoformat(s["date"]), s["reason"])
                      for s in basis.get("skipped", ())),
        provisional_years=tuple(y for y in range(int(start[:4]), int(due[:4]) + 1)
                                if not official_known(y)) if basis["provisional"] else (),
    ).explain(language)
    for ext in basis.get("extensions", ()):
        text += (f"（{ext['on']} 经批准延期 {ext['days']} 个工作日）" if zh
                 else f" (extended by {ext['days']} working days on {ext['on']})")
    for pause in basis.get("pauses", ()):
        text += (f"（计时暂停：{pause['from']} 至 {pause['to']}，不计入期限）" if zh
                 else f" (clock stopped {pause['from']} to {pause['to']}, not counted)")
    return text
