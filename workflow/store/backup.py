"""The database's backup and restore (``gongkai backup FILE``, ``gongkai restore FILE``).

SQLite: the online backup API (``sqlite3.Connection.backup``), a consistent copy taken
while the service runs, written beside the target and renamed into place, so a FILE is
never half a backup. PostgreSQL: ``pg_dump -Fc`` and ``pg_restore --clean --if-exists``
in one transaction, with the server's own tools (on PATH, else the newest under
/usr/lib/postgresql/*/bin, as scripts/pg-test.sh finds them).

Only the database: the attachments' file store (``GONGKAI_FILES_URL``) and the
organisations' private checkpoint keys (``GONGKAI_KEY_DIR``) live elsewhere and are
kept by their own means (README, Backups).
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa

from workflow.base.text import Text
from workflow.store.db import Database
from workflow.store.models import orgs

PG_BINDIRS = "/usr/lib/postgresql/*/bin"
NOT_A_BACKUP = Text("{f} 不是 gongkai 的 SQLite 备份", "{f} is not a gongkai SQLite backup")
NO_DATABASE = Text("没有数据库文件 {f}", "No database file {f}")
NO_TOOL = Text("找不到 {t}（请安装 postgresql-client）",
               "{t} not found (install postgresql-client)")
TOOL_FAILED = Text("{t} 失败：{e}", "{t} failed: {e}")


class BackupFailed(Exception):
    """A backup or restore that did not happen; nothing was replaced."""

    def __init__(self, message: Text) -> None:
        super().__init__(str(message))


def holds_data(db: Database) -> bool:
    """Whether the database already has organisations (a restore would replace them)."""
    with db.engine.connect() as conn:
        if not sa.inspect(conn).has_table(orgs.name):
            return False
        return conn.execute(sa.select(orgs.c.id).limit(1)).first() is not None


def backup(db: Database, target: Path) -> None:
    """Write the whole database to ``target`` (replaced only once the copy is complete)."""
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    try:
        if db.is_sqlite:
            _sqlite_backup(_sqlite_path(db), partial)
        else:
            _run("pg_dump", db, "--format=custom", "--file", str(partial))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def restore(db: Database, source: Path) -> None:
    """Replace the database's contents with the backup in ``source``, all or nothing."""
    db.dispose()
    if db.is_sqlite:
        _sqlite_restore(Path(source), _sqlite_path(db))
    else:
        _run("pg_restore", db, "--clean", "--if-exists", "--no-owner",
             "--single-transaction", str(source))


def _sqlite_path(db: Database) -> Path:
    return Path(sa.engine.make_url(db.url).database)


def _sqlite_backup(source: Path, partial: Path) -> None:
    if not source.is_file():
        raise BackupFailed(NO_DATABASE.format(f=source))
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        # one self-contained file: no -wal beside it
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _sqlite_restore(source: Path, path: Path) -> None:
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        try:
            known = src.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'"
                                ).fetchone()
        except sqlite3.DatabaseError:
            known = None
        if not known:
            raise BackupFailed(NOT_A_BACKUP.format(f=source))
        path.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(path, timeout=60)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def pg_tool(name: str) -> str:
    """A PostgreSQL client binary: on PATH, else the newest server's."""
    found = shutil.which(name)
    if found:
        return found
    for bindir in sorted(glob.glob(PG_BINDIRS), key=_version, reverse=True):
        if os.access(os.path.join(bindir, name), os.X_OK):
            return os.path.join(bindir, name)
    raise BackupFailed(NO_TOOL.format(t=name))


def _version(bindir: str) -> tuple[int, ...]:
    number = Path(bindir).parent.name
    return tuple(int(p) for p in number.split(".") if p.isdigit())


def _run(tool: str, db: Database, *args: str) -> None:
    """``tool`` against the database: libpq's URL, the password only in the environment."""
    url = sa.engine.make_url(db.url)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run([pg_tool(tool), "--dbname", conninfo, *args], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupFailed(TOOL_FAILED.format(t=tool, e=done.stderr.strip()))
