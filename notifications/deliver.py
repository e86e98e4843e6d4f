"""Sending what the outbox holds: due messages over their channel, retried with
exponential backoff, failed after the last try with the reason.

One commit per message does three things: it records the outcome of the message just
tried, marks the next one ``sending`` (in flight) and keeps the dispatcher's lease. So
at most one row is ever ``sending``, and it is the only message that can reach its
server twice: a crash between the server's *250* and the next commit leaves it
``sending``, and the next run sends it again with the same ``Message-ID``
(``<gongkai-N@…>``), which mail programs show once. SMTP has no idempotent submit, so
that one repeat cannot be closed from this side (docs/notifications.md, How exactly-once
works). A dispatcher that finds its lease gone stops before claiming another message, so
two dispatchers never send the same batch. Folding a digest reader's held messages into
one digest is one transaction too.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from notifications.channels import DeliveryError, webhook
from notifications.channels.mail import Letter, Mailer, MailFolder, mailer
from notifications.kinds import render
from workflow.base.timeutil import LOCAL_TZ, utcnow
from workflow.store.db import Database
from workflow.store.models import locks, notify_messages, notify_preferences, users
from workflow.store.prepared import Prepared

log = logging.getLogger("gongkai.notify")

MAX_ATTEMPTS = 5
#: the wait after the first failure; each further failure doubles it
BACKOFF = dt.timedelta(minutes=1)
BATCH = 200
#: the one message whose server may have it already (see the module's docstring)
SENDING = "sending"


#: a burst's two statements per message, compiled once (workflow/store/prepared.py): through
#: SQLAlchemy's execution path they cost a tenth of a message (bench/bench_notify.py)
_CLAIM = Prepared(sa.update(notify_messages).where(
    notify_messages.c.id == sa.bindparam("b_id")), ("status",))


@functools.cache
def _outcome(keys: tuple[str, ...]) -> Prepared:
    """The UPDATE recording a message's outcome (``keys``), only while it is in flight."""
    return Prepared(sa.update(notify_messages).where(
        notify_messages.c.id == sa.bindparam("b_id"), notify_messages.c.status == SENDING),
        keys)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 minutes after the 1st, 2nd, 3rd, 4th failure."""
    return BACKOFF * (2 ** (attempts - 1))


class Lease:
    """The clock's database lease (:func:`workflow.core.timers.acquire`) this dispatcher
    holds, renewed while it claims messages so a long batch never outlives it: at least
    every quarter of its length, so no other process can take it in between."""

    def __init__(self, holder: str, seconds: float, name: str = "clock") -> None:
        self.holder, self.seconds, self.name = holder, seconds, name
        self._renewed = -math.inf

    def keep(self, conn: Any) -> bool:
        """Renew it inside ``conn``'s transaction when due; False when another process
        has it."""
        if time.monotonic() - self._renewed < self.seconds / 4:
            return True
        until = utcnow() + dt.timedelta(seconds=self.seconds)
        if conn.execute(sa.update(locks).where(
                locks.c.name == self.name, locks.c.holder == self.holder)
                .values(expires_at=until)).rowcount != 1:
            return False
        self._renewed = time.monotonic()
        return True


class Deliverer:
    """Holds the channels open across batches (one SMTP connection)."""

    def __init__(self, db: Database, instance: Path,
                 mail: Mailer | MailFolder | None = None,
                 post: Callable[[webhook.Post], None] = webhook.send) -> None:
        self.db = db
        self.mail = mail or mailer(instance)
        self.post = post

    def run(self, now: dt.datetime | None = None, batch: int = BATCH,
            lease: Lease | None = None) -> int:
        """Fold due digests, then send up to ``batch`` due messages, each claimed under
        ``lease`` when one is given; how many went out."""
        now = now or utcnow()
        fold_digests(self.db, now)
        with self.db.read() as conn:
            due = conn.execute(
                sa.select(notify_messages).where(
                    notify_messages.c.status.in_(("pending", SENDING)),
                    notify_messages.c.next_at <= now)
                .order_by(notify_messages.c.next_at, notify_messages.c.id).limit(batch)
            ).all()
            secrets = _webhook_secrets(conn, {r.recipient for r in due
                                              if r.channel == "webhook"})
        sent = 0
        if not due or not self._settle(None, due[0].id, lease):
            return sent
        for n, row in enumerate(due):
            if row.status == SENDING:
                log.info("message %d was in flight when a dispatcher stopped: sent again "
                         "with the same Message-ID", row.id)
            try:
                self._send(row._mapping, secrets.get(row.recipient, ""))
            except DeliveryError as exc:
                outcome = self._failure(row, str(exc), now)
            else:
                outcome = {"status": "sent", "sent_at": now, "attempts": row.attempts + 1,
                           "error": None}
                sent += 1
            following = due[n + 1].id if n + 1 < len(due) else None
            if not self._settle((row.id, outcome), following, lease):
                break
        return sent

    def _settle(self, done: tuple[int, dict[str, Any]] | None, claim: int | None,
                lease: Lease | None) -> bool:
        """One commit: the outcome of the message just tried, then the next one claimed
        (``sending``) under the lease; False when the lease is gone."""
        with self.db.write() as conn:
            if done is not None:
                _outcome(tuple(done[1])).execute(conn, done[1] | {"b_id": done[0]})
            if claim is None:
                return True
            if lease is not None and not lease.keep(conn):
                log.warning("the dispatcher's lease passed to another process: stopping")
                return False
            _CLAIM.execute(conn, {"status": SENDING, "b_id": claim})
        return True

    def _send(self, row: Any, secret: str) -> None:
        params = json.loads(row["params"])
        zh, en = render(row["kind"], params, "zh"), render(row["kind"], params, "en")
        if row["channel"] == "email":
            self.mail.send(Letter(row["id"], row["address"], (zh[0], en[0]), (zh[1], en[1])))
        elif row["channel"] == "webhook":
            self.post(webhook.Post(row["address"], secret, (zh[0], en[0]), (zh[1], en[1])))
        else:
            raise DeliveryError(f"no such channel / 没有这个发送渠道: {row['channel']}")

    def _failure(self, row: Any, reason: str, now: dt.datetime) -> dict[str, Any]:
        """The row's values after a failed try: back to pending after the backoff, or
        failed after the last try."""
        attempts = row.attempts + 1
        last = attempts >= MAX_ATTEMPTS
        log.warning("message %d (%s over %s) not delivered, try %d of %d: %s", row.id,
                    row.kind, row.channel, attempts, MAX_ATTEMPTS, reason)
        return {"attempts": attempts, "error": reason[:500],
                "status": "failed" if last else "pending",
                "next_at": now if last else now + backoff(attempts)}

    def close(self) -> None:
        self.mail.close()


def _webhook_secrets(conn, recipients: set[str]) -> dict[str, str]:
    """DingTalk signing secrets, read when sending and never copied into a message row."""
    if not recipients:
        return {}
    names = [r.removeprefix("user:") for r in recipients]
    return {f"user:{r.username}": r.webhook_secret for r in conn.execute(
        sa.select(users.c.username, notify_preferences.c.webhook_secret)
        .join(notify_preferences, notify_preferences.c.user_id == users.c.id)
        .where(users.c.username.in_(names)))}


def fold_digests(db: Database, now: dt.datetime) -> int:
    """Every held message now due becomes part of one digest per person and channel."""
    with db.write() as conn:
        held = conn.execute(
            sa.select(notify_messages).where(notify_messages.c.status == "held",
                                             notify_messages.c.next_at <= now)
            .order_by(notify_messages.c.recipient, notify_messages.c.channel,
                      notify_messages.c.id)).all()
        groups: dict[tuple[str, str], list[Any]] = {}
        for row in held:
            groups.setdefault((row.recipient, row.channel), []).append(row)
        for (recipient, channel), rows in groups.items():
            lines_zh, lines_en = [], []
            for row in rows:
                params = json.loads(row.params)
                lines_zh.append("· " + render(row.kind, params, "zh")[0])
                lines_en.append("· " + render(row.kind, params, "en")[0])
            day = now.astimezone(LOCAL_TZ).date().isoformat()
            conn.execute(sa.insert(notify_messages).values(
                source=f"digest:{day}:{rows[0].id}", recipient=recipient, channel=channel,
                kind="digest", case_id=None, org=rows[0].org, lang=rows[0].lang, urgent=False,
                params=json.dumps({"count": len(rows), "lines": {
                    "zh": "\n".join(lines_zh), "en": "\n".join(lines_en)}},
                    ensure_ascii=False),
                address=rows[0].address, status="pending", attempts=0, next_at=now,
                created_at=now))
            conn.execute(sa.update(notify_messages).where(
                notify_messages.c.id.in_([r.id for r in rows])).values(status="digested",
                                                                        sent_at=now))
        return len(groups)
