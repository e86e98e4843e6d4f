"""Who hears what: the rules that turn one event into messages, per process and trigger.

Rules read the event, its case and (for a receipt) the event that issued the receipt;
they name audiences, not addresses: :mod:`notifications.outbox` turns a role at an
organisation into its people and a person into their channels. A rule never copies an
ID number or a phone into ``params``: a contact is used only as the address it is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from notifications.kinds import WORDS
from notifications.prefs import EMAIL
from workflow.core.registry import Compiled
from workflow.people.actors import parent_path
from workflow.store.models import events, receipts

#: roles that hold nobody's inbox (the state waits for someone outside the office)
NOT_OFFICERS = {"applicant", "public", "system", "member"}
#: the processes whose starter is an applicant told of their request (A1, A5, A7)
REQUESTS = {"application", "inquiry"}


@dataclass(frozen=True)
class Role:
    """Everyone holding ``role`` at the organisation at ``path``."""
    role: str
    path: str


@dataclass(frozen=True)
class Person:
    """A user by name (their channels and language come from their preferences)."""
    username: str


@dataclass(frozen=True)
class Contact:
    """Someone without an account, reached by e-mail only; ``key`` names them without
    the address (a case code or a receipt number)."""
    key: str
    email: str


Audience = Role | Person | Contact


@dataclass(frozen=True)
class Intent:
    kind: str
    to: tuple[Audience, ...]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """One event with what the rules may read about it."""
    conn: Connection
    event: Mapping[str, Any]
    payload: dict[str, Any]
    case: Mapping[str, Any]
    data: dict[str, Any]
    compiled: Compiled

    @property
    def path(self) -> str:
        return self.case["org_path"]

    def common(self) -> dict[str, Any]:
        process = self.compiled.process
        state = self.compiled.state(self.event["to_state"]).label
        return {"title": self.case["title"], "code": self.case["code"] or "",
                "process": process.label._asdict(), "state": state._asdict(),
                "org": self.case["org_name"]}


def base_url() -> str:
    """Where links in messages point (``GONGKAI_BASE_URL``)."""
    return os.environ.get("GONGKAI_BASE_URL", "http://127.0.0.1:5000").rstrip("/")


def tracking_link(code: str) -> str:
    return f"{base_url()}/track/{code}"


def handlers(seen: Seen) -> tuple[Audience, ...]:
    """A9 first tier: whoever works on the case, else the role its state waits for."""
    if seen.case["assignee"]:
        return (Person(seen.case["assignee"]),)
    role = seen.compiled.state(seen.event["to_state"]).role
    return (role_at(role, seen.path),) if role and role not in NOT_OFFICERS else ()


def role_at(role: str, path: str) -> Role:
    """``upper:ROLE`` is the role at the parent organisation (A3, A4)."""
    if role.startswith("upper:"):
        return Role(role.removeprefix("upper:"), parent_path(path) or path)
    return Role(role, path)


def responsible(path: str) -> tuple[Audience, ...]:
    """A9 second step: the organisation's responsible person (its reviewer, G3)."""
    return (Role("reviewer", path),)


def upper_level(path: str) -> tuple[Audience, ...]:
    """A9 last step: the upper level's reviewer and leading group."""
    upper = parent_path(path)
    return () if upper is None else (Role("reviewer", upper), Role("leading_group", upper))


# -- every process -----------------------------------------------------------------------

def queue(seen: Seen) -> Iterator[Intent]:
    """New work: the case moved into a state that sits in a role's inbox."""
    event = seen.event
    if event["from_state"] == event["to_state"]:
        return
    role = seen.compiled.state(event["to_state"]).role
    if role and role.split(":")[-1] not in NOT_OFFICERS and not role.startswith("lower:"):
        yield Intent("queue", (role_at(role, seen.path),), seen.common())


def assigned(seen: Seen) -> Iterator[Intent]:
    assignee = seen.payload.get("assignee")
    if assignee and f"user:{assignee}" != seen.event["actor"]:
        yield Intent("assigned", (Person(assignee),),
                     seen.common() | {"by": seen.event["actor"].removeprefix("user:")})


def reminder(seen: Seen) -> Iterator[Intent]:
    yield Intent("reminder", handlers(seen), seen.common() | {"due": seen.payload.get("due")
                                                               or ""})


def overdue(seen: Seen) -> Iterator[Intent]:
    """A9: overdue to the handler and the responsible person."""
    yield Intent("overdue", handlers(seen) + responsible(seen.path), seen.common())


def long_overdue(seen: Seen) -> Iterator[Intent]:
    """A9: long overdue to the handler, the responsible person and the upper level."""
    yield Intent("long_overdue", handlers(seen) + responsible(seen.path)
                 + upper_level(seen.path), seen.common())


# -- applications and inquiries (A1, A5, A7) ---------------------------------------------

def requester(seen: Seen) -> tuple[Audience, ...]:
    """The applicant: by the e-mail address they gave, and in-app when a member started it."""
    to: list[Audience] = []
    email = seen.data.get("email")
    if isinstance(email, str) and EMAIL.match(email):
        to.append(Contact(f"applicant:{seen.case['code'] or seen.case['id']}", email))
    starter = _starter(seen)
    if starter.startswith("user:"):
        to.append(Person(starter.removeprefix("user:")))
    return tuple(to)


def _starter(seen: Seen) -> str:
    if seen.event["seq"] == 1:
        return seen.event["actor"]
    return seen.conn.execute(sa.select(events.c.actor).where(
        events.c.case_id == seen.case["id"], events.c.seq == 1)).scalar() or ""


def request_intents(seen: Seen) -> Iterator[Intent]:
    event = seen.event
    code = seen.case["code"] or ""
    params = seen.common() | {"link": tracking_link(code)}
    if event["trigger"] == "start":
        yield Intent("applicant_ack", requester(seen), params)
    elif event["trigger"] == "request_clarification":
        yield Intent("clarify_request", requester(seen), params)
    elif event["to_state"] == "answered" and event["from_state"] != "answered":
        yield Intent("answered", requester(seen), params)


# -- pre-disclosure comments (预公开) and observer seats (党员旁听) ---------------------------

def _receipt_event(seen: Seen, number: object) -> Mapping[str, Any] | None:
    """The event that issued receipt ``number`` on this case."""
    if not isinstance(number, str):
        return None
    found = seen.conn.execute(
        sa.select(events.c.actor, events.c.payload)
        .join(receipts, sa.and_(receipts.c.case_id == events.c.case_id,
                                receipts.c.seq == events.c.seq))
        .where(receipts.c.number == number, receipts.c.case_id == seen.case["id"])).first()
    return None if found is None else {"actor": found.actor,
                                       "payload": json.loads(found.payload)}


def sender(actor: str, payload: Mapping[str, Any], key: str) -> tuple[Audience, ...]:
    """Whoever sent a comment or a registration: in-app when signed in, by e-mail when
    the contact they gave is an address."""
    to: list[Audience] = []
    if actor.startswith("user:"):
        to.append(Person(actor.removeprefix("user:")))
    contact = payload.get("contact")
    if isinstance(contact, str) and EMAIL.match(contact.strip()):
        to.append(Contact(key, contact.strip()))
    return tuple(to)


def comment_intents(seen: Seen) -> Iterator[Intent]:
    event, payload = seen.event, seen.payload
    if event["trigger"] in ("comment", "supervisor_comment"):
        receipt = payload.get("_receipt") or ""
        params = seen.common() | {"receipt": receipt}
        yield Intent("comment_receipt", sender(event["actor"], payload, f"receipt:{receipt}"),
                     params)
        yield Intent("comment_new", handlers(seen), params)
    elif event["trigger"] == "dispose":
        original = _receipt_event(seen, payload.get("receipt"))
        if original is not None:
            outcome = seen.compiled.label(str(payload.get("outcome")))
            yield Intent("comment_disposed",
                         sender(original["actor"], original["payload"],
                                f"receipt:{payload['receipt']}"),
                         seen.common() | {"receipt": payload["receipt"],
                                          "outcome": outcome._asdict() if outcome else "",
                                          "link": f"{base_url()}/predisclosure/"
                                                  f"{seen.case['id']}"})


def observer_intents(seen: Seen) -> Iterator[Intent]:
    event, payload = seen.event, seen.payload
    if event["trigger"] == "verify":
        original = _receipt_event(seen, payload.get("receipt"))
        if original is not None:
            result = WORDS["verified" if payload.get("verified") else "refused"]
            yield Intent("observer_verified", registrant(original, payload["receipt"]),
                         seen.common() | {"receipt": payload["receipt"],
                                          "result": result._asdict(),
                                          "link": status_link(seen)})
    elif event["trigger"] == "draw":
        seating = seen.data.get("seating") or {}
        seated = {str(s.get("id")) for s in seating.get("seats", [])}
        waiting = {str(w) for w in seating.get("waiting", [])}
        for registered in seen.conn.execute(
                sa.select(events.c.actor, events.c.payload).where(
                    events.c.case_id == seen.case["id"], events.c.trigger == "register")):
            reg_payload = json.loads(registered.payload)
            number = str(reg_payload.get("_receipt") or "")
            word = "seated" if number in seated else "waiting" if number in waiting \
                else "not_drawn"
            yield Intent("observer_draw",
                         registrant({"actor": registered.actor, "payload": reg_payload},
                                    number),
                         seen.common() | {"receipt": number, "result": WORDS[word]._asdict(),
                                          "link": status_link(seen)})


def status_link(seen: Seen) -> str:
    """The registration's status page, where the receipt number and access code show it."""
    return f"{base_url()}/observer-meetings/{seen.case['id']}/status"


def registrant(original: Mapping[str, Any], number: str) -> tuple[Audience, ...]:
    """A registrant (O4): in-app when a member registered signed in, by e-mail when they
    gave the optional address; one who left only a phone is not written to."""
    to: list[Audience] = []
    actor = original["actor"]
    if actor.startswith("user:"):
        to.append(Person(actor.removeprefix("user:")))
    email = original["payload"].get("email")
    if isinstance(email, str) and EMAIL.match(email):
        to.append(Contact(f"receipt:{number}", email))
    return tuple(to)


#: per trigger, for every process
COMMON: dict[str, Callable[[Seen], Iterator[Intent]]] = {
    "assign": assigned, "remind": reminder, "overdue": overdue, "long_overdue": long_overdue,
}
#: per process kind, beside the common rules
BY_KIND: dict[str, Callable[[Seen], Iterator[Intent]]] = {
    "application": request_intents, "inquiry": request_intents,
    "pre_disclosure": comment_intents, "observer_seats": observer_intents,
}


def intents(seen: Seen) -> list[Intent]:
    """Every message one event causes (routine and village decisions use the common rules:
    their publications due are new work, their overdue tiers A9)."""
    found = list(queue(seen))
    rule = COMMON.get(seen.event["trigger"])
    if rule is not None:
        found.extend(rule(seen))
    special = BY_KIND.get(seen.event["kind"])
    if special is not None:
        found.extend(special(seen))
    return [i for i in found if i.to]
