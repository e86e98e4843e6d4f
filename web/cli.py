"""The commands that assemble the engine with the web and the notifications, added to the
engine's CLI here so that ``workflow`` never imports ``web`` or ``notifications``
(DESIGN.md, Layout): ``gongkai serve``, ``gongkai scheduler`` and ``gongkai notify``."""

from __future__ import annotations

import click
from gunicorn.app.base import BaseApplication

from notifications import prefs
from notifications.cli import notify, smtp_settings
from notifications.service import Dispatcher, listen_for_alerts
from workflow.cli import SETTINGS_GROUPS, _engine, main

main.add_command(notify)
SETTINGS_GROUPS[prefs.SETTINGS_GROUP] = (prefs.SETTINGS, prefs.bad_setting)
listen_for_alerts()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="工作进程数（多于 1 时用 gunicorn） / processes (gunicorn when more than 1)")
def serve(host: str, port: int, workers: int) -> None:
    """网页服务、时钟和通知 / the web service, the clock and the notifications together."""
    from web.extensions import unshared_store_warning

    warning = unshared_store_warning(workers)
    if warning:
        click.echo(warning, err=True)
    engine = _engine()  # the schema is brought up to date once, before any worker starts
    click.echo(f"gongkai 已启动 / serving on http://{host}:{port}")
    if smtp_settings() is None:
        click.echo("未配置 SMTP：邮件写入 instance/mail/*.eml / no SMTP configured: e-mails "
                   "are written to instance/mail/*.eml")
    if workers > 1:
        engine.db.dispose()  # no connection crosses the fork
        _Workers(host, port, workers).run()
        return
    from waitress import serve as waitress_serve

    from web import create_app, settled
    from workflow.clock import Clock

    Clock(engine).start()
    Dispatcher(engine).start()
    app = settled(create_app({"ENGINE": engine}))
    waitress_serve(app, host=host, port=port, threads=8, ident="gongkai")


def _worker_app():
    """One worker's app, built after the fork: its own engine and connections, and its
    own clock and dispatcher, of which the lease in the database lets one work at a time."""
    from web import create_app, settled
    from workflow.clock import Clock

    engine = _engine(init=False)
    Clock(engine).start()
    Dispatcher(engine).start()
    return settled(create_app({"ENGINE": engine}))


@main.command()
def scheduler() -> None:
    """只运行时钟和通知（多 web 进程部署时） / the clock and the notifications alone."""
    from workflow.clock import Clock

    engine = _engine()
    click.echo("时钟已启动 / clock started")
    Dispatcher(engine).start()
    Clock(engine, blocking=True).start()


class _Workers(BaseApplication):
    """Gunicorn's pre-fork server with ``workers`` processes of 8 threads each."""

    def __init__(self, host: str, port: int, workers: int) -> None:
        self.options = {"bind": f"{host}:{port}", "workers": workers,
                        "worker_class": "gthread", "threads": 8,
                        # its default socket is one path per user: two servers would clash
                        "control_socket_disable": True}
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return _worker_app()


__all__ = ["main"]
