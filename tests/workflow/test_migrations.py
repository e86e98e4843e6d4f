"""Schema changes are Alembic migrations: the migrated database equals the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                SQLModel.metadata)
    assert diff == [], f"write a migration: gongkai models and migrations differ: {diff}"


def test_upgrade_twice_is_harmless(db):
    from workflow import migrate

    migrate.upgrade(db)
    migrate.upgrade(db)
