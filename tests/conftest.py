"""Fixtures: every test gets an empty, migrated database.

SQLite by default (a new file per test, a copy of one migrated per worker: Alembic's
upgrade cost a tenth of a second a test); PostgreSQL when GONGKAI_TEST_DATABASE_URL is
set (``make test`` starts a throwaway cluster): one database per xdist worker, emptied
between tests. The same tests run on both (DESIGN.md, Database).

The clock: when GONGKAI_TEST_CLOCK is set (an ISO-8601 instant with its offset, e.g.
``2026-12-31T23:30+08:00``), time-machine moves every clock read of the test process
there for the whole run and lets it tick on, so the suite can be run "on" any day
(``make test`` sweeps several). A test that needs a particular day passes ``now``.

Passwords and access codes are hashed with scrypt at a 32nd of werkzeug's cost
(``TEST_HASH``): the same scheme and the same check, but the suite makes and checks
hundreds of them and each cost 0.18 s at full strength. Subprocesses (``gongkai serve``,
``make run``) hash at full cost; ``test_passwords_and_codes_are_hashed_at_full_cost`` holds the
product's own cost.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import SQLModel
from werkzeug.security import generate_password_hash

from workflow.core.engine import Engine
from workflow.core.registry import Registry
from workflow.people import access, accounts
from workflow.people.actors import user
from workflow.store import migrate
from workflow.store.db import Database

PG_URL = os.environ.get("GONGKAI_TEST_DATABASE_URL")
CLOCK = os.environ.get("GONGKAI_TEST_CLOCK")
TEST_HASH = "scrypt:1024:8:1"


def pytest_configure(config) -> None:
    cheap = functools.partial(generate_password_hash, method=TEST_HASH)
    accounts.generate_password_hash = access.generate_password_hash = cheap
    access._DECOY = cheap("decoy")
    if CLOCK:
        traveller = time_machine.travel(dt.datetime.fromisoformat(CLOCK), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked ``slow`` first: on two workers, a long test that starts last is the
    run's tail, with the other worker idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_report_header(config) -> str:
    return f"clock: {CLOCK}" if CLOCK else "clock: the real one"


def _worker_pg_url(worker: str) -> str:
    url = sa.engine.make_url(PG_URL)
    name = f"{url.database}_{worker}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def file_store(tmp_path, monkeypatch):
    """Every test's attachments go to a folder of its own (GONGKAI_FILES_URL)."""
    from workflow.store.files import FolderStore

    root = tmp_path / "files"
    monkeypatch.setenv("GONGKAI_FILES_URL", root.as_uri())
    return FolderStore(root)


@pytest.fixture(autouse=True)
def key_folder(tmp_path, monkeypatch):
    """Every test's keys (checkpoint keys, the sealing key) go to a folder of its own."""
    folder = tmp_path / "keys"
    monkeypatch.setenv("GONGKAI_KEY_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> str | None:
    if not PG_URL:
        return None
    url = _worker_pg_url(worker_id)
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    return url


@pytest.fixture
def db_url(tmp_path, pg_url) -> str:
    if pg_url:
        db = Database(pg_url)
        tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        db.dispose()
        return pg_url
    return f"sqlite:///{tmp_path / 'gongkai.db'}"


@pytest.fixture(scope="session")
def sqlite_migrated(tmp_path_factory, pg_url) -> str | None:
    """A SQLite file migrated to the head once per worker, for ``db`` to copy."""
    if pg_url:
        return None
    path = tmp_path_factory.mktemp("migrated") / "gongkai.db"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return str(path)


@pytest.fixture
def db(db_url, sqlite_migrated):
    if sqlite_migrated:
        shutil.copyfile(sqlite_migrated, sa.engine.make_url(db_url).database)
        database = Database(db_url)
    else:
        database = Database(db_url)
        migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def registry() -> Registry:
    from tests.workflow.sample import definitions

    return Registry(definitions())


@pytest.fixture
def engine(db, registry) -> Engine:
    """An engine on ``db`` with its processes' definitions recorded; a folder or module
    that works on the real processes overrides ``registry``."""
    eng = Engine(db, registry)
    eng.record_definitions()
    return eng


@pytest.fixture
def cli_env(db_url) -> dict[str, str]:
    """The environment every ``gongkai`` invocation of a test gets; a test may add to it."""
    return {"GONGKAI_DATABASE_URL": db_url,
            "GONGKAI_PROCESSES": "tests.workflow.sample:definitions"}


@pytest.fixture
def run(cli_env, monkeypatch):
    """``run("audit", "verify")``: one in-process invocation of the command line.

    Each command builds its own engine; the fixture disposes them after the call so no
    connection outlives the test (PostgreSQL truncates between tests).
    """
    from click.testing import CliRunner

    from workflow import cli as cli_module
    from workflow.service import build

    built = []

    def tracking_build(*args, **kwargs):
        engine = build(*args, **kwargs)
        built.append(engine)
        return engine

    monkeypatch.setattr(cli_module, "build", tracking_build)

    def invoke(*args: str, input: str | None = None):
        try:
            return CliRunner().invoke(cli_module.main, list(args), env=cli_env, input=input,
                                      catch_exceptions=False)
        finally:
            while built:
                built.pop().db.dispose()

    return invoke


@pytest.fixture
def tree(engine) -> dict[str, str]:
    """A county, a town under it and a village under the town: code -> path."""
    from workflow.people.orgs import add_org

    with engine.db.write() as conn:
        paths = {}
        for code, parent, kind in (("C", None, "county_committee"), ("T", "C", "town"),
                                   ("V", "T", "village"), ("B", "C", "bureau")):
            paths[code] = add_org(conn, code, f"组织{code}", parent, kind)["path"]
    return paths


@pytest.fixture
def people(tree):
    """Actors by name: handler and reviewer at the town, the county's reviewer, others."""
    return {
        "handler": user("hu", {(tree["T"], "handler")}),
        "reviewer": user("li", {(tree["T"], "reviewer")}),
        "upper": user("wang", {(tree["C"], "reviewer")}),
        "member": user("zhao", {(tree["T"], "member")}),
        "stranger": user("qian", {(tree["B"], "handler"), (tree["B"], "reviewer")}),
        "village_reviewer": user("sun", {(tree["V"], "reviewer")}),
    }
