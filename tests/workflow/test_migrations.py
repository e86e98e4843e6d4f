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
    from workflow.store import migrate

    migrate.upgrade(db)
    migrate.upgrade(db)


def test_assignees_set_before_assign_events_become_events_and_verify(db, registry):
    """A database from before AU1's assign events: the migration records each case's
    assignee as a system ``assign`` event, so verify agrees with the rows."""
    import sqlalchemy as sa
    from alembic import command

    from workflow.audit.chain import case_events, verify
    from workflow.core.engine import Engine
    from workflow.people.actors import user
    from workflow.people.orgs import add_org
    from workflow.store import migrate
    from workflow.store.models import cases

    engine = Engine(db, registry)
    engine.record_definitions()
    with db.write() as conn:
        path = add_org(conn, "T", "组织T", None, "town")["path"]
    handler = user("hu", {(path, "handler")})
    kept = engine.start("sample", "T", handler, {"title": "有人承办"})
    free = engine.start("sample", "T", handler, {"title": "无人承办"})
    # the cases are opened by today's engine (a start reads the organisation tree's
    # generation, a later table), then the schema goes back to before assign events
    config = migrate.alembic_config(db)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "8e164339668a")
    with db.write() as conn:  # what Engine.assign did before
        conn.execute(sa.update(cases).where(cases.c.id == kept.id).values(assignee="hu"))
    assert not verify(db, registry).ok

    migrate.upgrade(db)
    assert verify(db, registry).ok
    assert [(e["trigger"], e["actor"]) for e in case_events(db, kept.id)] == [
        ("start", "user:hu"), ("assign", "system")]
    assert len(case_events(db, free.id)) == 1
