"""``gongkai notify``: the dispatcher on its own, and the failed messages."""

from __future__ import annotations

import time

import click

from notifications import inbox
from notifications.channels.mail import SmtpSettings
from notifications.service import Dispatcher
from workflow.cli import _engine, fail


def smtp_settings() -> SmtpSettings | None:
    """The SMTP settings from the environment; a bad value stops the command (exit 2)."""
    try:
        return SmtpSettings.from_env()
    except ValueError as exc:
        fail(str(exc))


@click.group()
def notify() -> None:
    """通知：发送消息 / notifications: send the messages the events call for."""


@notify.command("run")
@click.option("--once", is_flag=True, help="处理完当前待发消息后退出 / send what is due, then exit")
def notify_run(once: bool) -> None:
    """运行通知分发（与时钟共用数据库租约） / run the dispatcher (under the clock's lease)."""
    smtp_settings()
    dispatcher = Dispatcher(_engine())
    if once:
        if not dispatcher.wait_for_lease():
            fail("另一个分发进程持有租约 / another dispatcher holds the lease", 1)
        read, sent = dispatcher.tick()
        dispatcher.deliverer.close()
        click.echo(f"已处理 {read} 个事件，发送 {sent} 条消息 / "
                   f"read {read} events, sent {sent} messages")
        return
    click.echo("通知分发已启动 / dispatcher started")
    dispatcher.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        dispatcher.stop()


@notify.command("failed")
def notify_failed() -> None:
    """列出发送失败的消息 / list the messages that failed."""
    with _engine().db.read() as conn:
        rows = inbox.failed(conn)
    for row in rows:
        click.echo(f"{row['id']}\t{row['kind']}\t{row['channel']}\t{row['attempts']}\t"
                   f"{row['error']}")
    click.echo(f"共 {len(rows)} 条 / {len(rows)} failed")


@notify.command("retry")
@click.argument("message_id", type=int)
def notify_retry(message_id: int) -> None:
    """重新发送一条失败的消息 / send a failed message again."""
    with _engine().db.write() as conn:
        if not inbox.retry(conn, message_id):
            fail(f"没有这条失败的消息：{message_id} / no failed message {message_id}")
    click.echo(f"已重新排队 / queued again: {message_id}")
