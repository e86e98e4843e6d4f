"""``kill -9`` of ``gongkai notify run`` in the middle of a burst, then a rerun, counted
at the local SMTP server: every message arrives (distinct Message-IDs == burst), and the
only one that may arrive twice is the one in flight at the kill: the row left
``sending``, sent again with the same Message-ID (docs/notifications.md)."""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from notifications import outbox
from notifications.deliver import Lease
from workflow.core.timers import acquire
from workflow.people.actors import PUBLIC
from workflow.store.models import locks, notify_messages

GONGKAI = str(Path(sys.executable).parent / "gongkai")
ROOT = Path(__file__).resolve().parents[2]
BURST = 2000


def test_kill_nine_mid_burst_then_rerun_delivers_every_message_once(engine, tree, db_url,
                                                                    smtp_server, tmp_path):
    smtp, port = smtp_server
    payloads = [{"name": "张三", "email": f"a{i}@example.cn", "description": "党费收缴情况",
                 "delivery": "electronic"} for i in range(BURST)]
    engine.start_many("application", "T", PUBLIC, payloads)
    env = os.environ | {
        "GONGKAI_DATABASE_URL": db_url, "GONGKAI_TICK_SECONDS": "0.25",
        "PYTHONPATH": str(ROOT), "GONGKAI_SMTP_HOST": "127.0.0.1",
        "GONGKAI_SMTP_PORT": str(port), "GONGKAI_SMTP_SECURITY": "none",
        "GONGKAI_MAIL_FROM": "gongkai@example.cn"}
    log = tmp_path / "notify.log"
    with log.open("wb") as out:
        running = subprocess.Popen([GONGKAI, "notify", "run"], env=env, cwd=tmp_path,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while len(smtp.raw) < BURST // 4:
            assert running.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the dispatcher sent too little in 60 s"
            time.sleep(0.02)
    finally:
        running.send_signal(signal.SIGKILL)
        running.wait(timeout=10)
    assert len(smtp.raw) < BURST, "killed in the middle of the burst"
    with engine.db.read() as conn:
        in_flight = conn.execute(sa.select(notify_messages.c.id).where(
            notify_messages.c.status == "sending")).scalars().all()
    assert len(in_flight) <= 1, "one message at a time is in flight"

    rerun = subprocess.run([GONGKAI, "notify", "run", "--once"], env=env, cwd=tmp_path,
                           capture_output=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr.decode()

    counted = collections.Counter(smtp.header("Message-ID"))
    assert len(counted) == BURST, "every message arrived"
    assert sorted(set(smtp.header("To"))) == sorted(p["email"] for p in payloads)
    repeated = {mid for mid, n in counted.items() if n > 1}
    assert repeated <= {f"<gongkai-{i}@example.cn>" for i in in_flight}, \
        "only the message in flight at the kill may arrive twice"
    assert all(counted[mid] == 2 for mid in repeated)
    with engine.db.read() as conn:
        statuses = collections.Counter(conn.execute(
            sa.select(notify_messages.c.status).where(notify_messages.c.channel == "email")
        ).scalars())
    assert statuses == {"sent": BURST}


def test_a_dispatcher_whose_lease_passed_on_claims_nothing_more(engine, tree, deliverer,
                                                                smtp_server):
    """Two dispatchers never send the same batch: the claim renews the lease or stops."""
    smtp, _port = smtp_server
    engine.start_many("application", "T", PUBLIC, [
        {"name": "张三", "email": f"b{i}@example.cn", "description": "党费",
         "delivery": "electronic"} for i in range(3)])
    outbox.fill(engine)
    assert acquire(engine.db, "here:1", ttl=60)
    with engine.db.write() as conn:  # its lease ran out and another process took it
        conn.execute(sa.update(locks).values(holder="there:2"))
    assert deliverer.run(lease=Lease("here:1", 60)) == 0
    assert smtp.raw == []
    assert deliverer.run(lease=Lease("there:2", 60)) == 3
    assert len(smtp.raw) == 3


def test_the_message_left_in_flight_goes_again_with_its_message_id(engine, tree, deliverer,
                                                                   smtp_server, caplog):
    smtp, _port = smtp_server
    engine.start("application", "T", PUBLIC, {"name": "张三", "email": "c@example.cn",
                                               "description": "党费", "delivery": "electronic"})
    outbox.fill(engine)
    with engine.db.write() as conn:  # what a kill after the server's 250 leaves behind
        conn.execute(sa.update(notify_messages).where(notify_messages.c.channel == "email")
                     .values(status="sending"))
        [row_id] = conn.execute(sa.select(notify_messages.c.id).where(
            notify_messages.c.channel == "email")).scalars()
    caplog.set_level(logging.INFO, "gongkai.notify")
    assert deliverer.run() == 1
    assert smtp.header("Message-ID") == [f"<gongkai-{row_id}@example.cn>"]
    assert f"message {row_id} was in flight" in caplog.text
    assert "c@example.cn" not in caplog.text
