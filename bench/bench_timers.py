"""Timers due at once: ``workflow.core.timers.run_due`` fires each exactly once.

The bulk loader writes ``size`` cases of the ``bench_timer`` process, each with its
``start`` event and one pending one-day deadline that fell due long ago. One call of
``run_due(engine, now)`` fires them all through the door as the system actor, by group
commit (batches of timers, one transaction each). In the same run, single ``Engine.fire``
calls (one transaction each, the ``bench`` process's hold/resume) on a second file, half
just before ``run_due`` and half just after, give ``fires_per_s``: the goal is timers/s
at least four times fires/s.
Afterwards every timer row must be ``fired``, every case ``expired``, and the events
carrying ``_timer`` must number exactly the timers, one per case; ``verify`` checks
the chains and replays every case. The ratio is timers fired exactly once ÷ timers due.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench.bench_fire import Fire  # noqa: E402
from bench.common import T0, cli, open_site, remove_db, show, show_ratio, timed, work_dir  # noqa: E402
from bench.loader import load_cases  # noqa: E402
from workflow.audit.chain import verify  # noqa: E402
from workflow.core.timers import run_due  # noqa: E402

DEFAULT_SIZE = 100_000
#: single fires measured beside the timers (at most; fewer for a small size)
FIRES = 2000
NOW = T0 + dt.timedelta(days=30)  # every loaded deadline (T0's next day) is long past

COUNTS = {
    "timers_due": "SELECT count(*) FROM timers WHERE status = 'pending' AND due_at <= :now",
    "timers_fired": "SELECT count(*) FROM timers WHERE status = 'fired'",
    "timers_pending": "SELECT count(*) FROM timers WHERE status = 'pending'",
    "timers_other": "SELECT count(*) FROM timers WHERE status NOT IN ('pending', 'fired')",
    "timer_events": "SELECT count(*) FROM events WHERE json_extract(payload, '$._timer') "
                    "IS NOT NULL",
    "timer_event_cases": "SELECT count(DISTINCT case_id) FROM events "
                         "WHERE json_extract(payload, '$._timer') IS NOT NULL",
    "cases_fired_twice": "SELECT count(*) FROM (SELECT case_id FROM events "
                         "WHERE json_extract(payload, '$._timer') IS NOT NULL "
                         "GROUP BY case_id HAVING count(*) > 1)",
    "fired_seq_matches": "SELECT count(*) FROM timers JOIN events ON events.case_id = "
                         "timers.case_id AND events.seq = timers.fired_seq "
                         "WHERE events.\"trigger\" = 'expire'",
    "cases_expired": "SELECT count(*) FROM cases WHERE state = 'expired'",
}


def counts(site, names: list[str]) -> dict[str, int]:
    with site.db.read() as conn:
        return {name: conn.execute(sa.text(COUNTS[name]), {"now": NOW}).scalar_one()
                for name in names}


def main(size: int = DEFAULT_SIZE, workdir: Path | None = None) -> dict:
    fires = max(2, min(FIRES, size))
    with work_dir(workdir) as where:
        path = where / "timers.db"
        site = open_site(path)
        single = Fire(where / "fires.db")
        try:
            load_s, loaded = timed(lambda: load_cases(site, "bench_timer", size, 0))
            before = counts(site, ["timers_due"])
            single.run(min(fires, 50))  # warm up, as bench_fire does
            # half the single fires just before the timers and half just after, so that a
            # change in the disk's speed during the run weighs on both figures alike
            fire_s = single.run(fires // 2)
            elapsed, fired = timed(lambda: run_due(site.engine, NOW))
            fire_s += single.run(fires - fires // 2)
            after = counts(site, [name for name in COUNTS if name != "timers_due"])
            report = verify(site.db, site.registry)
        finally:
            site.close()
            single.site.close()
            remove_db(path)
            remove_db(where / "fires.db")
    once = min(after["timers_fired"], after["timer_events"],
               after["timer_event_cases"]) - after["cases_fired_twice"]
    figures = {"size": size, "cases": loaded.cases, "timers": loaded.timers,
               "load_s": load_s, **before, "run_due_returned": fired, **after,
               "elapsed_s": elapsed, "timers_per_s": fired / elapsed if elapsed else 0.0,
               "verify_ok": report.ok, "verified_events": report.events,
               "fired_exactly_once": once, "ratio": once / before["timers_due"],
               "due": before["timers_due"], "fired_once": once,
               "fires_per_s": fires / fire_s}
    figures["timers_per_fire"] = figures["timers_per_s"] / figures["fires_per_s"]
    show("cases with a pending timer", loaded.cases)
    show("bulk load", loaded.cases / load_s, "cases/s")
    show("timers due", before["timers_due"])
    show("run_due returned", fired)
    show("timer rows fired", after["timers_fired"])
    show("timer rows still pending", after["timers_pending"])
    show("timer rows failed or cancelled", after["timers_other"])
    show("events carrying _timer", after["timer_events"])
    show("cases with a _timer event", after["timer_event_cases"])
    show("cases fired twice", after["cases_fired_twice"])
    show("fired_seq names the expire event", after["fired_seq_matches"])
    show("cases expired", after["cases_expired"])
    show("run_due elapsed", elapsed, "s")
    show("run_due", figures["timers_per_s"], "timers/s")
    show("Engine.fire, one transaction each", figures["fires_per_s"], "fires/s")
    show("timers/s ÷ fires/s (goal >= 4)", figures["timers_per_fire"])
    show("verify", f"{'ok' if report.ok else 'FAILED'} ({report.events:,} events)")
    show("fired exactly once ÷ due", figures["ratio"])
    show_ratio(figures["ratio"], target=1.0)
    return figures


if __name__ == "__main__":
    cli(main, DEFAULT_SIZE, __doc__)
