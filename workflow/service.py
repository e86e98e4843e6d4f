"""Assembly: the database, the registered processes and the engine, built once per process."""

from __future__ import annotations

from workflow.core.engine import Engine
from workflow.core.registry import Registry
from workflow.store.db import Database


def build(url: str | None = None, registry: Registry | None = None) -> Engine:
    return Engine(Database(url), registry or Registry.from_entry_points())
