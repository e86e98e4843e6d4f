"""Notifications: e-mails dispatched per second to a local SMTP server ÷ events fired per
second through the door.

``size`` applications, each with an e-mail address, are started one by one through
``Engine.start`` (the events fired per second); then the dispatcher reads those events
from the outbox and sends each applicant's acknowledgement to a local ``aiosmtpd`` server
(the messages dispatched per second, outbox filling included). Every message must
arrive exactly once (counted by Message-ID at the server). Each message costs one commit,
as each event does (it records the message's outcome and claims the next, so at most one
is in flight at a crash): the target is 0.5.
"""

from __future__ import annotations

import collections
import re
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller  # noqa: E402

from bench.common import cli, remove_db, show, show_ratio, timed, work_dir  # noqa: E402
from machines import definitions  # noqa: E402
from notifications import outbox  # noqa: E402
from notifications.channels.mail import Mailer, SmtpSettings  # noqa: E402
from notifications.deliver import Deliverer  # noqa: E402
from workflow.core.engine import Engine  # noqa: E402
from workflow.core.registry import Registry  # noqa: E402
from workflow.people import accounts  # noqa: E402
from workflow.people.actors import PUBLIC  # noqa: E402
from workflow.people.orgs import add_org  # noqa: E402
from workflow.store import migrate  # noqa: E402
from workflow.store.db import Database  # noqa: E402

DEFAULT_SIZE = 5_000
MESSAGE_ID = re.compile(rb"^Message-ID: (.*?)\r?$", re.M | re.I)


class Counter:
    """The local SMTP server's handler: counts each Message-ID it accepts."""

    def __init__(self) -> None:
        self.ids: collections.Counter[bytes] = collections.Counter()

    async def handle_DATA(self, server, session, envelope):
        self.ids[MESSAGE_ID.search(envelope.content).group(1)] += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(size: int = DEFAULT_SIZE, workdir: Path | None = None) -> dict:
    with work_dir(workdir) as where:
        path = where / "notify.db"
        remove_db(path)
        db = Database(f"sqlite:///{path}")
        migrate.upgrade(db)
        engine = Engine(db, Registry(definitions()))
        engine.record_definitions()
        with db.write() as conn:
            add_org(conn, "C", "县委", None, "county_committee")
            add_org(conn, "T", "镇党委", "C", "town")
            accounts.add_user(conn, "ban", "T", ["office"])
        payloads = [{"name": "申请人", "email": f"a{i}@example.cn", "description": "党费收缴",
                     "delivery": "electronic"} for i in range(size)]
        counter, port = Counter(), free_port()
        server = Controller(counter, hostname="127.0.0.1", port=port)
        server.start()
        deliverer = Deliverer(db, where, Mailer(SmtpSettings(
            "127.0.0.1", port, "none", "", "", "gongkai@example.cn")))
        try:
            fire_s, _ = timed(lambda: [engine.start("application", "T", PUBLIC, p)
                                       for p in payloads])

            def dispatch() -> int:
                while outbox.fill(engine):
                    pass
                sent = 0
                while went := deliverer.run():
                    sent += went
                return sent

            dispatch_s, sent = timed(dispatch)
        finally:
            deliverer.close()
            server.stop()
            db.dispose()
            remove_db(path)
    events_per_s = size / fire_s if fire_s else 0.0
    messages_per_s = sent / dispatch_s if dispatch_s else 0.0
    twice = sum(1 for n in counter.ids.values() if n > 1)
    figures = {"size": size, "events": size, "fire_s": fire_s, "events_per_s": events_per_s,
               "sent": sent, "received": sum(counter.ids.values()),
               "distinct_received": len(counter.ids), "received_twice": twice,
               "dispatch_s": dispatch_s, "messages_per_s": messages_per_s,
               "ratio": messages_per_s / events_per_s if events_per_s else 0.0}
    show("applications started (events)", size)
    show("events fired", events_per_s, "events/s")
    show("e-mails sent", sent)
    show("received at the SMTP server", figures["received"])
    show("distinct Message-IDs received", figures["distinct_received"])
    show("received twice", twice)
    show("dispatched", messages_per_s, "messages/s")
    show("messages/s ÷ events/s", figures["ratio"])
    show_ratio(figures["ratio"], target=0.5)
    return figures


if __name__ == "__main__":
    cli(main, DEFAULT_SIZE, __doc__)
