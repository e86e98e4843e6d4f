"""Schema changes are Alembic migrations from the first table on (``gongkai init``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from workflow.store.db import Database

HERE = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE))
    return config


def upgrade(db: Database) -> None:
    """Create or upgrade the schema; idempotent."""
    config = alembic_config(db)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def revision(db: Database, message: str) -> None:
    """Developers: write a new migration from the models' difference to the database."""
    config = alembic_config(db)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.revision(config, message=message, autogenerate=True)
