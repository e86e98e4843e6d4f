"""``gongkai backup`` and ``gongkai restore``: a restored copy keeps the audit chain.

A database with signed, witnessed checkpoints (keys for the county C and the town T,
three cases at T) is backed up with the command line and restored into a fresh database
(a second database on PostgreSQL, a new file on SQLite); ``gongkai audit verify`` then
finds every chain, checkpoint and signature intact there. The keys and attachments stay
where they are, as in a real recovery (README, Backups).
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.history import LATER, at, three_cases
from workflow.audit import signing
from workflow.audit.chain import write_checkpoint
from workflow.store.db import Database
from workflow.store.models import events


@pytest.fixture(autouse=True)
def keys_dir(tmp_path, monkeypatch):
    path = tmp_path / "keys"
    monkeypatch.setenv("GONGKAI_KEY_DIR", str(path))
    monkeypatch.delenv("GONGKAI_KEY_PASSPHRASE", raising=False)
    return path


@pytest.fixture
def signed(engine, people, tree):
    signing.add_key(engine.db, "C", now=at(-20))
    signing.add_key(engine.db, "T", "user:li", now=at(-10))
    three_cases(engine, people)
    assert len(write_checkpoint(engine.db, now=LATER)) == 2


@pytest.fixture
def fresh_url(db_url, tmp_path):
    """An empty database beside the test's own: a file, or a second PostgreSQL database."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'gongkai.db'}"
        return
    url = sa.engine.make_url(db_url)
    name = f"{url.database}_restored"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def event_count(url: str) -> int:
    db = Database(url)
    try:
        with db.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()
    finally:
        db.dispose()


def test_a_restored_backup_passes_audit_verify_with_its_signed_checkpoints(
        run, cli_env, signed, db_url, fresh_url, tmp_path):
    file = tmp_path / "gongkai.backup"
    done = run("backup", str(file))
    assert done.exit_code == 0, done.output
    assert file.stat().st_size > 0 and not list(tmp_path.glob("*.partial"))

    cli_env["GONGKAI_DATABASE_URL"] = fresh_url
    done = run("restore", str(file))
    assert done.exit_code == 0, done.output
    verified = run("audit", "verify", "--json")
    report = json.loads(verified.stdout)
    assert verified.exit_code == 0, report
    assert (report["cases"], report["checkpoints"], report["signed"]) == (3, 2, 2)
    assert event_count(fresh_url) == event_count(db_url)


def test_restore_replaces_a_database_that_holds_data_only_with_force(
        run, signed, engine, people, tmp_path):
    file = tmp_path / "gongkai.backup"
    assert run("backup", str(file)).exit_code == 0
    before = event_count(engine.db.url)
    engine.start("sample", "T", people["handler"], {"title": "备份之后"}, LATER)
    refused = run("restore", str(file))
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert event_count(engine.db.url) == before + 1, "nothing replaced"
    engine.db.dispose()
    assert run("restore", "--force", str(file)).exit_code == 0
    assert event_count(engine.db.url) == before
    assert run("audit", "verify").exit_code == 0


def test_restore_refuses_a_file_that_is_not_a_backup(run, cli_env, fresh_url, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup\n" * 100)
    cli_env["GONGKAI_DATABASE_URL"] = fresh_url
    done = run("restore", str(junk))
    assert done.exit_code == 1 and done.stderr.strip()

