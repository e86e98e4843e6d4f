"""`gongkai serve` on a fresh database answers pages and, with no SMTP server, writes the
demo's e-mails under instance/mail/; `gongkai scheduler` runs the clock."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

GONGKAI = str(Path(sys.executable).parent / "gongkai")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(db_url):
    return os.environ | {"GONGKAI_DATABASE_URL": db_url, "GONGKAI_TICK_SECONDS": "1",
                         "GONGKAI_SMTP_HOST": ""}


def test_serve_answers_pages_and_runs_the_clock(env, tmp_path):
    subprocess.run([GONGKAI, "demo", "--if-empty"], env=env, check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([GONGKAI, "serve", "--port", str(port)], env=env,
                                  cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/public") as response:
                    body = response.read().decode("utf-8")
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "gongkai serve did not answer in 60 s"
                time.sleep(0.3)
        assert "依申请公开" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login") as response:
            assert response.status == 200
        mail = tmp_path / "instance" / "mail"
        while not list(mail.glob("*.eml")):  # the demo applicant's acknowledgement, no SMTP
            assert time.monotonic() < deadline, "no e-mail written under instance/mail/"
            time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_scheduler_takes_the_clock_lease(env, db, tmp_path):
    import sqlalchemy as sa

    from workflow.store.models import Lock

    log = tmp_path / "scheduler.log"
    with log.open("wb") as out:
        clock = subprocess.Popen([GONGKAI, "scheduler"], env=env, stdout=out,
                                 stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        holder = None
        while holder is None:
            assert clock.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the scheduler never took the lease"
            time.sleep(0.3)
            try:
                with db.read() as conn:
                    holder = conn.execute(sa.select(Lock.__table__.c.holder)).scalar()
            except sa.exc.OperationalError:
                continue
        assert holder.endswith(f":{clock.pid}")
    finally:
        clock.terminate()
        clock.wait(timeout=20)


def test_a_served_app_is_out_of_the_collectors_sight(engine):
    """``gongkai serve`` and each of its workers settle their app (``web.settled``): what
    start-up built is frozen, so a full collection does not walk it in a request."""
    import gc

    from web import create_app, settled

    app = create_app({"ENGINE": engine, "SECRET_KEY": "test"})
    try:
        assert settled(app) is app and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
