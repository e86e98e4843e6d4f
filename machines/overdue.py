"""A9: overdue in two tiers, with reminders before the due date.

A process with an answer deadline takes all four pieces: its ``SETTINGS`` (per
organisation), ``fields`` in its start data, the ``triggers`` the timers fire and the
``timers`` themselves, e.g. ``*overdue.timers(ANSWERING, WorkingDays(20, ...))``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflow.core.declare import Ctx, Timer, Trigger, WorkingDays
from workflow.core.declare import Text as T

#: A9 (default): long overdue 20 working days past due; reminders 5 and 1 working days before.
SETTINGS = {"long_overdue_days": 20, "reminders": [5, 1]}


def fields(settings: Mapping[str, Any], deadline_days: int) -> dict:
    """A9: a case starts not overdue, its long-overdue line ``long_n`` working days on."""
    return {"overdue": 0, "long_n": deadline_days + settings["long_overdue_days"]}


def mark_overdue(ctx: Ctx) -> dict:
    """A9 first tier: past the due date."""
    return {"overdue": max(1, ctx.data.get("overdue", 0))}


def mark_long_overdue(ctx: Ctx) -> dict:
    """A9 second tier: long overdue (20 working days past due, configurable)."""
    return {"overdue": 2}


def triggers(states: tuple[str, ...], rules: tuple[str, ...] = ("A9",)
                     ) -> tuple[Trigger, Trigger]:
    """A9: the two tiers as the timers mark them, on the public record."""
    return (
        Trigger("overdue", states, None, {"system"}, T("已逾期", "Overdue"),
                effects=(mark_overdue,), append_only=True, rules=rules, public=True),
        Trigger("long_overdue", states, None, {"system"}, T("严重逾期", "Long overdue"),
                effects=(mark_long_overdue,), append_only=True, rules=("A9",), public=True),
    )


def timers(states: tuple[str, ...], deadline: WorkingDays,
                   pauses: tuple[str, ...] = (),
                   extend_on: Mapping[str, str] | None = None) -> tuple[Timer, Timer]:
    """A9: the answer deadline with its reminders, and the long-overdue line after it
    (``long_n`` working days from the same start, kept by :func:`fields`)."""
    extend = dict(extend_on or {})
    return (
        Timer("deadline", states, "overdue", deadline, T("答复期限", "Answer deadline"),
              reminder_setting="reminders", reminders=(5, 1), sets_due=True, pauses=pauses,
              extend_on=extend),
        Timer("long_overdue", states, "long_overdue",
              WorkingDays(deadline.n + SETTINGS["long_overdue_days"], n_field="long_n",
                          start_field=deadline.start_field),
              T("严重逾期界限", "Long-overdue line"), pauses=pauses, extend_on=extend),
    )
