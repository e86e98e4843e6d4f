"""Shared set-up: a fresh SQLite file with the engine's pragmas, one organisation, an actor."""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.processes import definitions
from workflow.core.declare import Process
from workflow.core.engine import Engine
from workflow.core.registry import Registry
from workflow.people.actors import Actor, user
from workflow.people.orgs import add_org
from workflow.store import migrate
from workflow.store.db import Database

ORG = "BENCH"
#: Event times of loaded cases: a Monday morning in Shanghai, well in the past.
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


@dataclass
class Site:
    path: Path
    db: Database
    registry: Registry
    engine: Engine
    org_id: int
    org_code: str
    org_path: str
    actor: Actor

    def close(self) -> None:
        self.db.dispose()


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def synchronous() -> str:
    """SQLite's ``synchronous`` for every system of a run: ``FULL`` (the engine's own, the
    default) or, with ``GONGKAI_BENCH_SYNCHRONOUS=OFF``, no fsync at all, which leaves
    the CPU side of each system alone (how far the ratios fall when the disk is fast)."""
    value = os.environ.get("GONGKAI_BENCH_SYNCHRONOUS", "FULL").upper()
    if value not in ("FULL", "OFF"):
        raise SystemExit("GONGKAI_BENCH_SYNCHRONOUS must be FULL or OFF")
    return value


def fresh_engine(path: Path, processes: Iterable[Process]) -> Engine:
    """An engine on a new, migrated database file (``synchronous`` as the run asks) with
    ``processes`` recorded."""
    remove_db(path)
    db = Database(f"sqlite:///{path}")
    if synchronous() != "FULL":
        @sa.event.listens_for(db.engine, "connect")
        def _synchronous(dbapi_connection, _record) -> None:  # after the engine's pragmas
            dbapi_connection.execute(f"PRAGMA synchronous={synchronous()}")
    migrate.upgrade(db)
    engine = Engine(db, Registry(processes))
    engine.record_definitions()
    return engine


def open_site(path: Path) -> Site:
    """A new, migrated database file with the bench processes and one organisation."""
    engine = fresh_engine(path, definitions())
    db, registry = engine.db, engine.registry
    with db.write() as conn:
        org = add_org(conn, ORG, "基准组织", None, "county_committee")
    actor = user("bench", {(org["path"], "handler")})
    return Site(path, db, registry, engine, org["id"], ORG, org["path"], actor)


@contextmanager
def work_dir(given: Path | None) -> Iterator[Path]:
    """``given`` as is, or a temporary directory (removed afterwards)."""
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-",
                                     dir=os.environ.get("GONGKAI_BENCH_DIR")) as tmp:
        yield Path(tmp)


@contextmanager
def served(config: dict[str, Any]) -> Iterator[Any]:
    """A test client of the app as ``gongkai serve`` keeps it (``web.settled``); the
    freeze is lifted afterwards, as the benchmark goes on in the same process."""
    from web import create_app, settled

    app = settled(create_app(config))
    try:
        yield app.test_client()
    finally:
        gc.unfreeze()


def p95(samples: list[float]) -> float:
    """The 95th percentile of request times (the one sample when there is only one)."""
    return statistics.quantiles(samples, n=20)[18] if len(samples) > 1 else samples[0]


def p95_at_two_sizes(name: str, measure: Callable[[Path, int], dict], size: int,
                     workdir: Path | None, baseline_cap: int = 10_000) -> dict:
    """``measure(path, cases)`` (a dict with ``p95_s``) on a baseline of a tenth of
    ``size`` (at least 100, at most ``baseline_cap``) and at ``size``, each on its own
    file: the figures and the p95 ratio large ÷ small, the two p95 shown."""
    baseline = min(baseline_cap, max(size // 10, 100))
    with work_dir(workdir) as where:
        small = measure(where / f"{name}-small.db", baseline)
        large = measure(where / f"{name}-large.db", size)
    show(f"{name} p95 at {baseline:,} cases", small["p95_s"] * 1000, "ms")
    show(f"{name} p95 at {size:,} cases", large["p95_s"] * 1000, "ms")
    return {"baseline": baseline, "size": size, "small": small, "large": large,
            "ratio": large["p95_s"] / small["p95_s"]}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = fn()
    return time.perf_counter() - began, result


def cli(main: Callable[..., dict], default: int, doc: str | None) -> None:
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--size", type=int, default=default, help=f"default {default}")
    parser.add_argument("--dir", type=Path, default=None,
                        help="keep the database files here (default: a temporary directory)")
    parser.add_argument("--json", action="store_true",
                        help="then print the figures as one JSON object on the last line")
    args = parser.parse_args()
    figures = main(args.size, workdir=args.dir)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, sort_keys=True, default=str), flush=True)


def show(label: str, value: Any, unit: str = "") -> None:
    if isinstance(value, float):
        value = f"{value:,.1f}" if abs(value) >= 100 else f"{value:.4g}"
    elif isinstance(value, int):
        value = f"{value:,}"
    print(f"{label + ':':<46}{value}{' ' + unit if unit else ''}", flush=True)


def show_ratio(ratio: float, target: float = 0.5) -> None:
    print(f"ratio: {ratio:.2f} (target >= {target})", flush=True)
