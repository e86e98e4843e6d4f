"""Assembly: the database, the registered processes and the engine, built once per process."""

from __future__ import annotations

from workflow.db import Database
from workflow.engine import Engine
from workflow.registry import Registry


def build(url: str | None = None, registry: Registry | None = None) -> Engine:
    return Engine(Database(url), registry or Registry.from_entry_points())
