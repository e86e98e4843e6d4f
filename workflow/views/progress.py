"""A case's chain as a progress line (V1: the order of 四议两公开), from its declaration's
milestones (``Process.milestones``) and its data: each step done, skipped, current or still
to come, with its date and what it decided. The case page's partial shows it as it is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflow.base.text import Text
from workflow.core.declare import Milestone, Process

DONE, SKIPPED, CURRENT, TODO = "done", "skipped", "current", "todo"


@dataclass(frozen=True)
class Step:
    """One step of the line: its label, status, date and summary (a text or a value)."""

    name: str
    label: Text
    status: str
    date: str | None = None
    summary: Any = None
    attempts: int = 0  # records of this step for the current round (e.g. a reconvened meeting)


def _path(record: Mapping[str, Any], path: str | None) -> Any:
    value: Any = record
    for key in (path or "").split(".") if path else ():
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _records(milestone: Milestone, data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = data.get(milestone.record)
    if isinstance(found, Mapping):
        found = [found]
    if not isinstance(found, list):
        return []
    return [r for r in found if isinstance(r, Mapping)
            and all(r.get(k) == v for k, v in milestone.match.items())]


def _shown(value: Any) -> Any:
    """A recorded two-language text (``{"zh", "en"}``) as a :class:`Text`."""
    if isinstance(value, Mapping) and set(value) == {"zh", "en"}:
        return Text(value["zh"], value["en"])
    return value


def steps(process: Process, state: str, data: Mapping[str, Any], final: bool) -> list[Step]:
    """The progress line of a case in ``state`` with ``data``. Steps before the current one
    are done (or skipped, with no record); the current one shows its latest attempt; later
    ones are still to come (their records, from an earlier round, are not this round's)."""
    milestones = process.milestones
    current = next((i for i, m in enumerate(milestones) if state in m.states),
                   len(milestones) if final else None)
    line = []
    for index, milestone in enumerate(milestones):
        records = _records(milestone, data)
        last = records[-1] if records else None
        if current is None:
            status = DONE if last else TODO
        elif index < current:
            status = DONE if last else SKIPPED
        elif index == current:
            status = CURRENT
        else:
            status, last = TODO, None
        line.append(Step(milestone.name, milestone.label, status,
                         _path(last, milestone.date) if last else None,
                         _shown(_path(last, milestone.summary)) if last else None,
                         len(records)))
    return line
