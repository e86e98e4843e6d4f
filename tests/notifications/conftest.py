"""The real processes on county C → town T → village V, with accounts (the dispatcher
tells people by their accounts), a local SMTP server (aiosmtpd) and a local robot."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from machines import definitions
from notifications import prefs
from notifications.channels.mail import Mailer, SmtpSettings
from notifications.deliver import Deliverer
from workflow.core.registry import Registry
from workflow.people import accounts
from workflow.people.actors import user
from workflow.people.orgs import add_org

#: username -> (organisation, roles)
STAFF = {"ban": ("T", ["office"]), "hu": ("T", ["handler"]), "li": ("T", ["reviewer"]),
         "wang": ("C", ["reviewer"]), "zhao": ("C", ["leading_group"]),
         "shen": ("C", ["auditor"]), "root": ("C", ["admin"]), "dang": ("T", ["member"])}


def at(day: str, hour: int = 10, minute: int = 0) -> dt.datetime:
    """``hour`` o'clock in Shanghai on ``day``."""
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00+08:00"
                                     ).astimezone(dt.UTC)


@pytest.fixture
def registry() -> Registry:
    return Registry(definitions())


@pytest.fixture
def tree(engine) -> dict[str, str]:
    with engine.db.write() as conn:
        paths = {code: add_org(conn, code, f"组织{code}", parent, kind)["path"]
                 for code, parent, kind in (("C", None, "county_committee"),
                                            ("T", "C", "town"), ("V", "T", "village"))}
        for name, (org, roles) in STAFF.items():
            accounts.add_user(conn, name, org, roles, display_name=name)
    return paths


@pytest.fixture
def staff(tree):
    """The engine's actors for the accounts."""
    return {name: user(name, {(tree[org], role) for role in roles})
            for name, (org, roles) in STAFF.items()}


def wants_mail(engine, *names: str, **choices) -> None:
    """Give ``names`` an e-mail address (``<name>@example.cn``) and ``choices``."""
    with engine.db.write() as conn:
        for name in names:
            prefs.save(conn, name, choices.get("channels", {}), choices.get("digest", False),
                       f"{name}@example.cn", choices.get("webhook", ""),
                       choices.get("webhook_secret", ""))


class Inbox:
    """What the local SMTP server received, kept raw (parsing in the server's thread
    would slow every sender down) and parsed when a test reads it."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.content)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list:
        from email import message_from_bytes, policy

        return [message_from_bytes(raw, policy=policy.default) for raw in self.raw]

    def header(self, name: str) -> list[str]:
        """One header of every message, read without parsing the whole message."""
        pattern = re.compile(rb"^" + name.encode() + rb": (.*?)\r?$", re.M | re.I)
        return [pattern.search(raw).group(1).decode() for raw in self.raw]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """aiosmtpd on a free local port; yields (Inbox, port)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def mailer(smtp_server):
    inbox, port = smtp_server
    return Mailer(SmtpSettings("127.0.0.1", port, "none", "", "", "gongkai@example.cn"))


@pytest.fixture
def deliverer(engine, mailer, tmp_path):
    found = Deliverer(engine.db, tmp_path, mailer)
    yield found
    found.close()


class Robot(BaseHTTPRequestHandler):
    received: list

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers["Content-Length"])
        self.received.append({"path": self.path, "headers": dict(self.headers),
                              "body": json.loads(self.rfile.read(length))})
        answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        """Quiet."""


@pytest.fixture
def robot():
    """A local HTTP server standing in for DingTalk and WeCom; yields (received, base URL)."""
    received: list = []
    handler = type("Handler", (Robot,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
