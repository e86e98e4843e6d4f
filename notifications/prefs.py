"""Each user's choices and each organisation's quiet hours.

A user picks channels per kind of message and may take a daily digest instead of single
e-mails and webhook posts; in-app messages are always kept. Quiet hours (the
organisation's ``notifications`` settings, default 22:00–07:00 Asia/Shanghai) hold an
officer's non-urgent e-mails and posts until they end; urgent ones (A9 tiers, a failed
audit) and those to applicants, commenters and registrants go at once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from notifications.kinds import KINDS
from workflow.base.errors import Invalid
from workflow.base.text import Text
from workflow.base.timeutil import LOCAL_TZ, utcnow
from workflow.people.orgs import layered_settings
from workflow.store.models import notify_preferences, users

CHANNELS = ("inapp", "email", "webhook")
#: the organisation settings group (``gongkai org settings CODE --set notifications.…``)
SETTINGS_GROUP = "notifications"
SETTINGS = {"quiet_start": "22:00", "quiet_end": "07:00", "digest_at": "07:30"}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Preference:
    channels: dict[str, list[str]] = field(default_factory=dict)
    digest: bool = False
    email: str = ""
    webhook: str = ""
    webhook_secret: str = ""

    def channels_for(self, kind: str) -> list[str]:
        """The channels a message of ``kind`` goes by: the user's choice for it, else
        in-app plus e-mail and webhook where the user gave an address. In-app always."""
        usable = ["inapp"] + (["email"] if self.email else []) + (
            ["webhook"] if self.webhook else [])
        chosen = self.channels.get(kind)
        if chosen is None:
            return usable
        return ["inapp"] + [c for c in usable[1:] if c in chosen]


    def wants(self, kind: str, channel: str) -> bool:
        """Whether the user chose ``channel`` for ``kind`` (all channels until they choose)."""
        chosen = self.channels.get(kind)
        return chosen is None or channel in chosen


def bad_setting(name: str, value: object) -> Text | None:
    """Why an organisation's notifications setting is refused, or None."""
    if not isinstance(value, str) or not _CLOCK.match(value):
        return Text(f"{name} 应为 HH:MM（24 小时制）", f"{name} must be HH:MM (24-hour clock)")
    return None


def org_settings(conn: Connection, path: str | None) -> dict[str, Any]:
    return dict(SETTINGS) if path is None else layered_settings(conn, path, SETTINGS_GROUP,
                                                                   SETTINGS)


def _at(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def after_quiet(now: dt.datetime, settings: Mapping[str, Any]) -> dt.datetime:
    """``now`` outside quiet hours, else the moment they end (local time)."""
    local = now.astimezone(LOCAL_TZ)
    start, end = _at(settings["quiet_start"]), _at(settings["quiet_end"])
    clock = local.time()
    quiet = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not quiet or start == end:
        return now
    day = local.date() if clock < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, LOCAL_TZ).astimezone(dt.UTC)


def next_digest(now: dt.datetime, settings: Mapping[str, Any]) -> dt.datetime:
    """The next daily digest after ``now``."""
    local = now.astimezone(LOCAL_TZ)
    moment = dt.datetime.combine(local.date(), _at(settings["digest_at"]), LOCAL_TZ)
    if moment <= local:
        moment += dt.timedelta(days=1)
    return moment.astimezone(dt.UTC)


def load(conn: Connection, user_id: int) -> Preference:
    row = conn.execute(sa.select(notify_preferences).where(
        notify_preferences.c.user_id == user_id)).first()
    if row is None:
        return Preference()
    return Preference(json.loads(row.channels), bool(row.digest), row.email, row.webhook,
                      row.webhook_secret)


#: a plain e-mail address (a comment's free-text contact is used only when it is one)
EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
WEBHOOK = re.compile(r"^https?://[^\s]+$")


def save(conn: Connection, username: str, channels: Mapping[str, list[str]], digest: bool,
         email: str, webhook: str, webhook_secret: str) -> None:
    """Store a user's choices; a malformed address or an unknown kind is refused (422)."""
    email, webhook = email.strip(), webhook.strip()
    errors: dict[str, Text] = {}
    if email and not EMAIL.match(email):
        errors["email"] = Text("电子邮箱格式不正确", "Not an e-mail address")
    if webhook and not WEBHOOK.match(webhook):
        errors["webhook"] = Text("应为 http(s):// 开头的地址", "Must be an http(s):// URL")
    if any(k not in KINDS or any(c not in CHANNELS for c in v) for k, v in channels.items()):
        errors["channels"] = Text("没有这种消息或渠道", "No such kind of message or channel")
    if errors:
        raise Invalid(fields=errors)
    user_id = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar()
    values = {"channels": json.dumps(dict(channels), sort_keys=True), "digest": digest,
              "email": email, "webhook": webhook, "webhook_secret": webhook_secret.strip(),
              "updated_at": utcnow()}
    done = conn.execute(sa.update(notify_preferences).where(
        notify_preferences.c.user_id == user_id).values(**values))
    if done.rowcount == 0:
        conn.execute(sa.insert(notify_preferences).values(user_id=user_id, **values))
