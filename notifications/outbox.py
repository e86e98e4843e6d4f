"""The outbox: events after the durable cursor become message rows, exactly once.

One batch is one transaction: the messages of its events and the cursor moved past them
commit together, so a crash loses nothing (the batch is read again) and a rerun adds
nothing (the cursor has moved; the unique (source, recipient, channel) refuses a copy).
A new database starts its cursor at 0; the migration that adds the outbox starts it at
the newest event, so history before it is not announced.

On PostgreSQL ids are taken before commit, so an event with a lower id can commit after
one with a higher id; the cursor therefore stops before a gap in the ids for
``GAP_SECONDS`` (the gap's transaction may still commit) and moves past it after that
(a rolled-back transaction leaves a gap for ever). SQLite has one writer: no gaps.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from notifications import prefs
from notifications.kinds import KINDS, WORDS
from notifications.rules import Contact, Intent, Person, Role, Seen, intents
from workflow.base.timeutil import parse_iso, utcnow
from workflow.core.engine import Engine
from workflow.store.db import Database
from workflow.store.models import (
    cases,
    events,
    grants,
    notify_cursor,
    notify_messages,
    orgs,
    users,
)

log = logging.getLogger("gongkai.notify")

CURSOR = "events"
GAP_SECONDS = 30
BATCH = 500


def fill(engine: Engine, now: dt.datetime | None = None, batch: int = BATCH) -> int:
    """Turn the next ``batch`` events after the cursor into messages; how many events."""
    now = now or utcnow()
    with engine.db.write() as conn:
        cursor = _cursor(conn, now)
        rows = conn.execute(
            sa.select(events, cases.c.title, cases.c.code, cases.c.data, cases.c.assignee,
                      orgs.c.path.label("org_path"), orgs.c.name.label("org_name"))
            .join(cases, cases.c.id == events.c.case_id)
            .join(orgs, orgs.c.id == cases.c.org_id)
            .where(events.c.id > cursor).order_by(events.c.id).limit(batch)).all()
        rows = _before_gap(engine.db, cursor, rows, now)
        if not rows:
            return 0
        writer = _Writer(conn, now)
        for row in rows:
            event = row._mapping
            for intent in _intents_of(engine, conn, event):
                writer.add(f"event:{event['id']}", intent, event["case_id"], event["org"],
                           event["org_path"], exclude=event["actor"])
        writer.flush()
        conn.execute(sa.update(notify_cursor).where(notify_cursor.c.name == CURSOR)
                     .values(event_id=rows[-1].id, updated_at=now))
    return len(rows)


def _intents_of(engine: Engine, conn: Connection, event: Mapping[str, Any]) -> list[Intent]:
    """The messages one event causes. An event no rule can read (its process no longer
    registered, a rule's fault) is logged by id and passed over, so it never holds up
    the events after it."""
    try:
        compiled = engine.registry.get(event["kind"], event["def_version"])
        case = {"id": event["case_id"], "title": event["title"], "code": event["code"],
                "assignee": event["assignee"], "org_path": event["org_path"],
                "org_name": event["org_name"]}
        return intents(Seen(conn, event, json.loads(event["payload"]), case,
                            json.loads(event["data"]), compiled))
    except Exception:
        log.exception("event %d (%s.%s) passed over: no messages", event["id"],
                      event["kind"], event["trigger"])
        return []


def alert(db: Database, what: str, detail: str, now: dt.datetime | None = None) -> int:
    """A failed ``audit verify`` or checkpoint, to every auditor and administrator."""
    now = now or utcnow()
    with db.write() as conn:
        people = conn.execute(
            sa.select(users.c.username).distinct().join(grants, grants.c.user_id == users.c.id)
            .where(grants.c.role.in_(("auditor", "admin")), users.c.active.is_(True))
            .order_by(users.c.username)).scalars().all()
        writer = _Writer(conn, now)
        writer.add(f"alert:{what}:{now.isoformat(timespec='seconds')}",
                   Intent("audit_failed", tuple(Person(p) for p in people),
                          {"what": WORDS[what]._asdict(), "detail": detail}), None, "", None)
        return writer.flush()


def _cursor(conn: Connection, now: dt.datetime) -> int:
    found = conn.execute(sa.select(notify_cursor.c.event_id).where(
        notify_cursor.c.name == CURSOR)).scalar()
    if found is None:
        conn.execute(sa.insert(notify_cursor).values(name=CURSOR, event_id=0, updated_at=now))
        return 0
    return found


def _before_gap(db: Database, cursor: int, rows: list, now: dt.datetime) -> list:
    if db.is_sqlite:
        return rows
    kept, expected = [], cursor + 1
    for row in rows:
        if row.id != expected and (now - parse_iso(row.at)).total_seconds() < GAP_SECONDS:
            break
        kept.append(row)
        expected = row.id + 1
    return kept


class _Writer:
    """Resolves audiences to people and their channels and inserts the rows in one go."""

    def __init__(self, conn: Connection, now: dt.datetime) -> None:
        self.conn, self.now = conn, now
        self.rows: list[dict[str, Any]] = []
        self._people: dict[str, Any] = {}
        self._roles: dict[tuple[str, str], list[str]] = {}
        self._settings: dict[str | None, dict[str, Any]] = {}

    def add(self, source: str, intent: Intent, case_id: int | None, org: str,
            org_path: str | None, exclude: str = "") -> None:
        spec = KINDS[intent.kind]
        settings = self._org_settings(org_path)
        for audience in intent.to:
            base = {"source": source, "kind": intent.kind, "case_id": case_id, "org": org,
                    "urgent": spec.urgent, "params": json.dumps(intent.params,
                                                                ensure_ascii=False),
                    "attempts": 0, "created_at": self.now, "error": None, "read_at": None}
            if isinstance(audience, Contact):  # quiet hours are an officer's preference
                self.rows.append(base | {"recipient": audience.key, "channel": "email",
                                         "address": audience.email, "lang": "zh"}
                                 | self._timing(True, False, settings))
                continue
            names = ([audience.username] if isinstance(audience, Person)
                     else self._holders(audience))
            for name in names:
                if spec.officers and f"user:{name}" == exclude:
                    continue  # no one is told of their own work; a receipt is for its sender
                person = self._person(name)
                if person is None:
                    continue
                pref, lang = person
                for channel in pref.channels_for(intent.kind):
                    address = {"inapp": "", "email": pref.email,
                               "webhook": pref.webhook}[channel]
                    row = base | {"recipient": f"user:{name}", "channel": channel,
                                  "address": address, "lang": lang}
                    if channel == "inapp":
                        row |= {"status": "sent", "next_at": self.now, "sent_at": self.now}
                    else:
                        row |= self._timing(spec.urgent, pref.digest, settings)
                    self.rows.append(row)

    def _timing(self, urgent: bool, digest: bool, settings: Mapping[str, Any]) -> dict:
        """Urgent now; a digest reader's at the next digest; others after quiet hours."""
        if urgent:
            return {"status": "pending", "next_at": self.now, "sent_at": None}
        if digest:
            return {"status": "held", "next_at": prefs.next_digest(self.now, settings),
                    "sent_at": None}
        return {"status": "pending", "next_at": prefs.after_quiet(self.now, settings),
                "sent_at": None}

    def _org_settings(self, path: str | None) -> dict[str, Any]:
        if path not in self._settings:
            self._settings[path] = prefs.org_settings(self.conn, path)
        return self._settings[path]

    def _holders(self, role: Role) -> list[str]:
        key = (role.role, role.path)
        if key not in self._roles:
            self._roles[key] = list(self.conn.execute(
                sa.select(users.c.username).distinct()
                .join(grants, grants.c.user_id == users.c.id)
                .join(orgs, orgs.c.id == grants.c.org_id)
                .where(orgs.c.path == role.path, grants.c.role == role.role,
                       users.c.active.is_(True)).order_by(users.c.username)).scalars())
        return self._roles[key]

    def _person(self, name: str) -> tuple[prefs.Preference, str] | None:
        if name not in self._people:
            row = self.conn.execute(sa.select(users.c.id, users.c.lang).where(
                users.c.username == name, users.c.active.is_(True))).first()
            self._people[name] = None if row is None else (prefs.load(self.conn, row.id),
                                                           row.lang)
        return self._people[name]

    def flush(self) -> int:
        """Insert the rows; one already there (same source, recipient, channel) is kept."""
        rows = _unique(self.rows)
        if rows:
            make = sqlite_insert if self.conn.dialect.name == "sqlite" else pg_insert
            self.conn.execute(make(notify_messages).on_conflict_do_nothing(
                index_elements=["source", "recipient", "channel"]), rows)
        self.rows = []
        return len(rows)


def _unique(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (source, recipient, channel): a person reached twice by one event (the
    handler who is also the reviewer) gets one message: the first rule's."""
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        seen.setdefault((row["source"], row["recipient"], row["channel"]), row)
    return list(seen.values())
