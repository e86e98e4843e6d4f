"""``gongkai notify`` and what the notifications add to other commands: the quiet hours
in ``gongkai org settings`` and the alert of a failed ``gongkai audit verify``."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

import web.cli  # noqa: F401  (adds notify, the settings group and the alert listener)
from workflow.people.actors import PUBLIC
from workflow.store.models import events, notify_messages


@pytest.fixture
def cli_env(cli_env, tmp_path):
    """The real processes; e-mails into files under the test's folder."""
    return {k: v for k, v in cli_env.items() if k != "GONGKAI_PROCESSES"} | {
        "GONGKAI_SMTP_HOST": ""}


def test_notify_run_once_sends_what_is_due_and_lists_failures(engine, tree, run,
                                                            monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    engine.start("application", "T", PUBLIC, {"name": "张三", "email": "z@example.cn",
                                             "description": "党费", "delivery": "electronic"})
    done = run("notify", "run", "--once")
    assert done.exit_code == 0, done.output
    assert "read 1 events, sent 1 messages" in done.output
    [eml] = (tmp_path / "instance" / "mail").glob("*.eml")
    assert b"To: z@example.cn" in eml.read_bytes()
    listed = run("notify", "failed")
    assert listed.output.strip().endswith("0 failed")
    assert run("notify", "retry", "12345").exit_code == 2


def test_a_bad_smtp_security_stops_the_command(run, cli_env):
    cli_env |= {"GONGKAI_SMTP_HOST": "mail.example.cn", "GONGKAI_SMTP_SECURITY": "tls"}
    done = run("notify", "run", "--once")
    assert done.exit_code == 2 and "none|starttls|ssl" in done.output


def test_quiet_hours_are_an_organisation_setting(engine, tree, run):
    done = run("org", "settings", "T", "--set", "notifications.quiet_start=23:30", "--json")
    assert done.exit_code == 0, done.output
    effective = json.loads(done.output)["effective"]["notifications"]
    assert effective == {"quiet_start": "23:30", "quiet_end": "07:00", "digest_at": "07:30"}
    refused = run("org", "settings", "T", "--set", "notifications.quiet_end=25:00")
    assert refused.exit_code == 2 and "HH:MM" in refused.output


def test_a_failed_audit_verify_alerts_the_auditors(engine, tree, run):
    case = engine.start("application", "T", PUBLIC, {"name": "张三", "phone": "13800000001",
                                                    "description": "党费",
                                                    "delivery": "electronic"})
    with engine.db.write() as conn:
        conn.execute(sa.update(events).where(events.c.case_id == case.id)
                     .values(payload='{"tampered": true}'))
    assert run("audit", "verify", "--jobs", "1").exit_code == 1
    with engine.db.read() as conn:
        alerted = conn.execute(sa.select(notify_messages.c.recipient).where(
            notify_messages.c.kind == "audit_failed")).scalars().all()
    assert sorted(alerted) == ["user:root", "user:shen"]


def test_a_checkpoint_the_clock_cannot_write_alerts_the_auditors(engine, tree, monkeypatch):
    from workflow import clock

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(clock, "write_checkpoint", broken)
    clock.Clock(engine).checkpoint()
    with engine.db.read() as conn:
        alerted = conn.execute(sa.select(notify_messages.c.recipient, notify_messages.c.params)
                               .where(notify_messages.c.kind == "audit_failed")).all()
    assert sorted(r.recipient for r in alerted) == ["user:root", "user:shen"]
    assert "OSError" in alerted[0].params
