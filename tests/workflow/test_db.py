"""``Database.write`` on SQLite: one transaction that commits whole or leaves nothing,
also when the COMMIT itself fails, and "try again later" as :class:`Unavailable`."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from workflow.base.errors import Unavailable
from workflow.store.db import Database


@pytest.fixture
def sqlite_db(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_DB_BUSY_SECONDS", "0.2")
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER "
                             "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
    yield db
    db.dispose()


def count(db: Database, table: str) -> int:
    with db.read() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_failing_commit_leaves_nothing_and_the_next_write_works(sqlite_db) -> None:
    """A deferred foreign key is checked at COMMIT: the COMMIT fails, the transaction is
    rolled back (nothing of it stays) and its connection is not handed out again."""
    with pytest.raises(sa.exc.IntegrityError), sqlite_db.write() as conn:
        conn.exec_driver_sql("INSERT INTO parent (id) VALUES (1)")
        conn.exec_driver_sql("INSERT INTO child (id, parent) VALUES (1, 99)")
    assert count(sqlite_db, "parent") == 0 and count(sqlite_db, "child") == 0
    with sqlite_db.write() as conn:
        conn.exec_driver_sql("INSERT INTO parent (id) VALUES (2)")
    assert count(sqlite_db, "parent") == 1


def test_an_error_in_the_block_rolls_back(sqlite_db) -> None:
    with pytest.raises(ZeroDivisionError), sqlite_db.write() as conn:
        conn.exec_driver_sql("INSERT INTO parent (id) VALUES (3)")
        1 / 0  # noqa: B018
    assert count(sqlite_db, "parent") == 0


def test_a_writer_held_elsewhere_is_unavailable_with_nothing_written(sqlite_db, tmp_path
                                                                    ) -> None:
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Unavailable), sqlite_db.write() as conn:
            conn.exec_driver_sql("INSERT INTO parent (id) VALUES (4)")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert count(sqlite_db, "parent") == 0
    with sqlite_db.write() as conn:
        conn.exec_driver_sql("INSERT INTO parent (id) VALUES (5)")
    assert count(sqlite_db, "parent") == 1
