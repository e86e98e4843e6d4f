"""APScheduler as the clock: it wakes the timer runner, writes checkpoints and keeps the
statistics projection near the head of the event log (G14).

APScheduler's job store is not shared between processes (its FAQ), so the durable
state lives in our ``timers`` table and the clock only wakes the runner; a lease in
the database lets exactly one clock work at a time.
"""

from __future__ import annotations

import logging
import os
import socket

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from workflow.audit.chain import write_checkpoint
from workflow.base.timeutil import utcnow
from workflow.core import attachments, signals
from workflow.core.engine import Engine
from workflow.core.timers import acquire, run_due
from workflow.views import statistics

log = logging.getLogger("gongkai.clock")

TICK_SECONDS = float(os.environ.get("GONGKAI_TICK_SECONDS", "30"))
CHECKPOINT_MINUTES = int(os.environ.get("GONGKAI_CHECKPOINT_MINUTES", "60"))


def holder() -> str:
    """This process's name on the lease: whatever runs under it here (the clock, the
    notification dispatcher) renews one lease."""
    return f"{socket.gethostname()}:{os.getpid()}"


#: how long a lease lasts without renewal
LEASE_SECONDS = TICK_SECONDS * 4


class Clock:
    def __init__(self, engine: Engine, blocking: bool = False) -> None:
        self.engine = engine
        self.holder = holder()
        self.scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
            timezone="Asia/Shanghai")
        self.scheduler.add_job(self.tick, "interval", seconds=TICK_SECONDS, id="timers",
                               max_instances=1, coalesce=True, next_run_time=utcnow())
        self.scheduler.add_job(self.checkpoint, "interval", minutes=CHECKPOINT_MINUTES,
                               id="checkpoint", max_instances=1, coalesce=True)
        self.scheduler.add_job(self.sweep, "interval", minutes=CHECKPOINT_MINUTES,
                               id="attachments", max_instances=1, coalesce=True)
        self.scheduler.add_job(self.statistics, "interval", seconds=TICK_SECONDS,
                               id="statistics", max_instances=1, coalesce=True)

    def tick(self) -> int:
        if not acquire(self.engine.db, self.holder, ttl=LEASE_SECONDS):
            return 0
        fired = run_due(self.engine)
        if fired:
            log.info("fired %d timers", fired)
        return fired

    def checkpoint(self) -> None:
        """A checkpoint that cannot be written is announced (``audit_failed``) and logged."""
        if acquire(self.engine.db, self.holder, ttl=LEASE_SECONDS):
            try:
                write_checkpoint(self.engine.db, only_changed=True)
            except Exception as exc:
                log.exception("checkpoint failed")
                signals.audit_failed.send(self.engine, what="checkpoint",
                                          detail=type(exc).__name__)

    def sweep(self) -> None:
        """Uploads no event took within a day are removed (attachments)."""
        if acquire(self.engine.db, self.holder, ttl=LEASE_SECONDS):
            removed = attachments.sweep(self.engine.db, self.engine.files, utcnow())
            if removed:
                log.info("removed %d unreferenced uploads", removed)

    def statistics(self) -> int:
        """The events since the last request or tick into the statistics' counters, so a
        request seldom has more than a few to take (the cursor's lock keeps it exact)."""
        taken = statistics.catch_up(self.engine)
        if taken:
            log.info("statistics took %d events", taken)
        return taken

    def start(self) -> None:
        """Blocks for the stand-alone scheduler; returns at once inside ``gongkai serve``."""
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
