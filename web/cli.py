"""``gongkai serve``: the one command that needs the web, added to the engine's CLI here so
that ``workflow`` never imports ``web`` (DESIGN.md, Layout)."""

from __future__ import annotations

import click

from workflow.cli import _engine, main


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """网页服务和时钟 / the web service and the clock together (embedded default)."""
    from waitress import serve as waitress_serve

    from web import create_app
    from workflow.clock import Clock

    engine = _engine()
    Clock(engine).start()
    app = create_app({"ENGINE": engine})
    click.echo(f"gongkai 已启动 / serving on http://{host}:{port}")
    waitress_serve(app, host=host, port=port, threads=8, ident="gongkai")


__all__ = ["main"]
