"""The dispatcher: fills the outbox and sends, under the clock's database lease.

It runs as a thread beside the clock in ``gongkai serve`` and ``gongkai scheduler`` and
on its own as ``gongkai notify run``; whichever process holds the ``clock`` lease works,
the others wait. Signals after a commit only wake it (the door never waits for it); it
also looks every ``GONGKAI_TICK_SECONDS`` on its own, so a missed wake loses nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from pathlib import Path

from notifications import outbox
from notifications.deliver import Deliverer, Lease
from workflow.base.timeutil import utcnow
from workflow.clock import LEASE_SECONDS, TICK_SECONDS, holder
from workflow.core import signals
from workflow.core.engine import Engine
from workflow.core.timers import acquire, release

log = logging.getLogger("gongkai.notify")


class Dispatcher:
    def __init__(self, engine: Engine, instance: Path = Path("instance"),
                 deliverer: Deliverer | None = None) -> None:
        self.engine = engine
        self.deliverer = deliverer or Deliverer(engine.db, instance)
        self.holder = holder()
        self.woken = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, now: dt.datetime | None = None) -> tuple[int, int]:
        """Everything there is to do now, while this process holds the lease:
        (events read, messages sent)."""
        read = sent = 0
        while acquire(self.engine.db, self.holder, ttl=LEASE_SECONDS):
            done = outbox.fill(self.engine, now)
            read += done
            if done:
                continue
            went = self.deliverer.run(now or utcnow(),
                                      lease=Lease(self.holder, LEASE_SECONDS))
            sent += went
            if not went:
                break
        return read, sent

    def wait_for_lease(self) -> bool:
        """Wait at most one lease's length for it (a killed holder's runs out)."""
        deadline = time.monotonic() + LEASE_SECONDS + 1
        while not acquire(self.engine.db, self.holder, ttl=LEASE_SECONDS):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)
        return True

    def wake(self, *_args: object, **_kwargs: object) -> None:
        """A signal receiver: only sets a flag, so the sender never waits."""
        self.woken.set()

    def start(self) -> None:
        """Run in a daemon thread, woken by every event appended."""
        signals.event_appended.connect(self.wake, weak=False)
        signals.timers_run.connect(self.wake, weak=False)
        self._thread = threading.Thread(target=self.forever, name="gongkai-notify",
                                        daemon=True)
        self._thread.start()

    def forever(self) -> None:
        while not self._stopped.is_set():
            try:
                self.tick()
            except Exception:  # a fault here never reaches the door or the clock
                log.exception("notification dispatcher failed; retrying")
            self.woken.wait(TICK_SECONDS)
            self.woken.clear()

    def stop(self) -> None:
        self._stopped.set()
        self.woken.set()
        signals.event_appended.disconnect(self.wake)
        signals.timers_run.disconnect(self.wake)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.deliverer.close()
        release(self.engine.db, self.holder)


def on_audit_failed(sender: Engine, what: str = "verify", detail: str = "") -> None:
    """``audit_failed`` receiver: the alert goes into the outbox at once."""
    try:
        outbox.alert(sender.db, what, detail)
    except Exception:
        log.exception("could not record the audit alert")


def listen_for_alerts() -> None:
    signals.audit_failed.connect(on_audit_failed, weak=False)
