"""The database: SQLite (WAL, synchronous=FULL) by default, PostgreSQL with the same code.

``Database.write()`` is the unit of work: one transaction that commits only when its
block ends without an error. On SQLite it starts with ``BEGIN IMMEDIATE`` so two
writers queue instead of failing half-way; on PostgreSQL the door locks the case row.
"""

from __future__ import annotations

import os
import sqlite3
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from workflow.base.errors import Unavailable

DEFAULT_URL = "sqlite:///instance/gongkai.db"


def busy_seconds() -> float:
    """How long a change waits for another writer's lock before the service answers 503
    (``GONGKAI_DB_BUSY_SECONDS``, default 5)."""
    return float(os.environ.get("GONGKAI_DB_BUSY_SECONDS", "5"))


#: what the drivers say when the database cannot take a change now (SQLite: busy past the
#: wait, full disk, I/O; PostgreSQL: SQLSTATE 55P03 lock not available, class 53
#: insufficient resources)
_SQLITE_UNAVAILABLE = ("database is locked", "database or disk is full", "disk i/o error",
                       "database table is locked")


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means "try again later" rather than a fault in the request."""
    original = getattr(exc, "orig", exc)
    if isinstance(original, sqlite3.OperationalError):
        return str(original).lower().startswith(_SQLITE_UNAVAILABLE)
    state = getattr(original, "sqlstate", None)
    return isinstance(state, str) and (state == "55P03" or state.startswith("53"))


@contextmanager
def _or_unavailable() -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # the door runs statements on the driver too: any driver's error
        if unavailable(exc):
            raise Unavailable() from exc
        raise


def database_url() -> str:
    return os.environ.get("GONGKAI_DATABASE_URL", DEFAULT_URL)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        wait = busy_seconds()
        engine = sa.create_engine(url, connect_args={"timeout": wait,
                                                     "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            driver = conn.connection.dbapi_connection
            if not driver.in_transaction:  # ``Database.write`` began it already
                driver.execute("BEGIN")

        return engine
    lock_ms = int(busy_seconds() * 1000)
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                            connect_args={"options": f"-c lock_timeout={lock_ms}"})


#: SQLite connections the door keeps open between transactions (see ``Database.write``)
IDLE_WRITERS = 4


class Database:
    """One engine per process; nothing binds at import time."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._idle: deque[Connection] = deque()

    def write(self) -> AbstractContextManager[Connection]:
        """One transaction; :class:`Unavailable` (503) when the database cannot take it
        now, with nothing written."""
        return _SqliteTransaction(self) if self.is_sqlite else self._pooled_write()

    @contextmanager
    def _pooled_write(self) -> Iterator[Connection]:
        with _or_unavailable(), self.engine.connect() as conn, conn.begin():
            yield conn

    def _checkout(self) -> Connection:
        try:
            conn = self._idle.pop()
        except IndexError:
            return self.engine.connect()
        return conn if not (conn.closed or conn.invalidated) else self.engine.connect()

    def _checkin(self, conn: Connection) -> None:
        if len(self._idle) < IDLE_WRITERS:
            self._idle.append(conn)
        else:
            conn.close()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with _or_unavailable(), self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        while self._idle:
            self._idle.pop().close()
        self.engine.dispose()

    def forget_connections(self) -> None:
        """In a forked child: drop the parent's connections without closing them."""
        self._idle.clear()
        self.engine.dispose(close=False)


class _SqliteTransaction:
    """``Database.write`` on SQLite, the door's hot path: checking a connection out of the
    pool and back and SQLAlchemy's transaction objects cost more than SQLite's own work
    for a change (bench/bench_fire.py). So a few connections stay open between
    transactions (a free list; deque pop/append are atomic), BEGIN IMMEDIATE and COMMIT
    go straight to the driver, and this is one object rather than nested generator
    contexts. A statement run through SQLAlchemy inside joins the transaction: the
    "begin" listener sees the driver's open transaction, and SQLAlchemy's commit then
    ends it. A failed transaction's connection is rolled back and closed."""

    __slots__ = ("db", "conn")

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> Connection:
        conn = self.conn = self.db._checkout()
        try:
            conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            conn.close()
            mapped = _mapped(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        return conn

    def __exit__(self, kind, exc, _tb) -> bool:
        conn = self.conn
        driver = conn.connection.dbapi_connection
        if kind is None:
            try:
                if conn.in_transaction():
                    conn.commit()
                else:
                    driver.commit()
            except BaseException as failed:
                exc = failed
            else:
                self.db._checkin(conn)
                return False
        try:
            if conn.in_transaction():
                conn.rollback()
            elif driver.in_transaction:
                driver.rollback()
        finally:
            conn.close()
        mapped = _mapped(exc)
        if mapped is not exc:
            raise mapped from exc
        if kind is None:  # the commit failed
            raise exc
        return False


def _mapped(exc: BaseException) -> BaseException:
    """``exc``, or :class:`Unavailable` when it means "try again later"."""
    return Unavailable() if isinstance(exc, Exception) and unavailable(exc) else exc
