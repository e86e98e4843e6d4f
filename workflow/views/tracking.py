"""Tracking a publicly started case: a short tracking code (the case code) plus a secret
access code shown once. Nothing about the case is visible without both (A1, A5).

Access codes are stored as salted password hashes, never in the event log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.base.text import Text
from workflow.base.timeutil import utcnow
from workflow.core.engine import CaseView, Engine
from workflow.people.access import hashed, matches, normalise
from workflow.people.actors import applicant
from workflow.store.models import access_codes, cases
from workflow.views.inbox import timeline


def keeper(access_code: str) -> Callable[[Connection, int, str], None]:
    """What ``Engine.start(within=…)`` runs: store the access code with the case."""

    def store(conn: Connection, case_id: int, _code: str) -> None:
        conn.execute(sa.insert(access_codes).values(
            case_id=case_id, digest=hashed(access_code),
            created_at=utcnow()))

    return store


def open_case(engine: Engine, tracking_code: str, access_code: str | None) -> CaseView | None:
    """The case for a tracking code and its access code; None for any mismatch, so a wrong
    code and an unknown one look the same."""
    code = normalise(tracking_code or "")
    with engine.db.read() as conn:
        row = conn.execute(sa.select(cases.c.id, access_codes.c.digest)
                           .join(access_codes, access_codes.c.case_id == cases.c.id)
                           .where(cases.c.code == code)).first()
    if not matches(row.digest if row else None, access_code) or row is None:
        return None
    return engine.get(row.id, applicant(code))


STAFF = Text("工作人员", "Staff")
SUBMITTED = Text("提交申请", "Submitted")
APPLICANT = Text("申请人", "Applicant")
PRIVATE_SUFFIXES = ("_by",)


def public_timeline(engine: Engine, case: CaseView) -> list[dict[str, Any]]:
    """The events an applicant may see: the submission and triggers declared public, with
    officers shown as staff and no payloads (third parties' names stay inside)."""
    compiled = engine.registry.get(case.kind, case.def_version)
    shown = []
    for event in timeline(engine, case.id):
        arrow = compiled.first(event["trigger"])
        if event["seq"] == 1 or (arrow is not None and arrow.public):
            who = STAFF if event["actor"].startswith("user:") else event["who"]
            if event["actor"] == "public:anonymous" or event["actor"].startswith("applicant:"):
                who = APPLICANT
            label = SUBMITTED if event["seq"] == 1 else event["label"]
            shown.append(event | {"who": who, "label": label, "payload": {}})
    return shown


def public_data(engine: Engine, case: CaseView) -> list[tuple[Text, Any]]:
    """The parts of the case data its process declares fit for the applicant."""
    compiled = engine.registry.get(case.kind, case.def_version)
    found = []
    for key, label in compiled.process.public_data.items():
        if case.data.get(key):
            found.append((label, _without_private(case.data[key])))
    return found


def _without_private(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_private(v) for k, v in value.items()
                if not k.endswith(PRIVATE_SUFFIXES)}
    if isinstance(value, list):
        return [_without_private(v) for v in value]
    return value


def labeller(engine: Engine, case: CaseView) -> Callable[[str], Text | None]:
    """Labels for the case's data keys and choice values."""
    return engine.registry.get(case.kind, case.def_version).label
