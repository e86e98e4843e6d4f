"""The command line the process package offers (``gongkai.commands`` entry point):
a thin click adapter around pure machine code, loaded by ``workflow.cli``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from machines import lottery as draw
from workflow.cli import fail


@click.group()
def lottery() -> None:
    """旁听席位抽签，无需数据库 / the observer-seat draw, re-run with no database (O7).

    Anyone re-runs a published draw with nothing but its bundle: the draw is pure code
    (machines/lottery.py). Offered to ``gongkai`` through the ``gongkai.commands`` entry
    point, so the engine never names a machine module.
    """


@lottery.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def lottery_verify(bundle: Path, as_json: bool) -> None:
    """按抽签包重算抽签，检查公布结果 / re-run a draw from its bundle and check the result."""
    try:
        data = json.loads(bundle.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"不是 JSON 抽签包 / not a JSON draw bundle: {exc}")
    if not isinstance(data, dict):
        fail("不是抽签包 / not a draw bundle")
    problems = draw.verify(data)
    if as_json:
        click.echo(json.dumps({"matches": not problems, "problems": problems,
                               "algorithm": data.get("algorithm"),
                               "result": data.get("result")}, ensure_ascii=False, indent=2))
    elif problems:
        click.echo("\n".join(problems))
    else:
        seats = len((data.get("result") or {}).get("seats", []))
        click.echo(f"一致：公布的结果由公布的输入算出（{seats} 个席位） / matches: the published "
                   f"result follows from the published inputs ({seats} seats)")
    sys.exit(1 if problems else 0)


@lottery.command("rfc3797")
@click.option("--pool", "pool_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="候选名单，每行一人，按给出的顺序 / one candidate per line, in order")
@click.option("--source", "sources", multiple=True, required=True, metavar="TEXT",
              help="随机源的公布值，按公布顺序重复给出 / a random source's value, in order")
@click.option("--count", type=click.IntRange(min=0), required=True,
              help="选出人数 / how many to select")
@click.option("--json", "as_json", is_flag=True, help='输出 {"key", "selected"}')
def lottery_rfc3797(pool_file: Path, sources: tuple[str, ...], count: int,
                    as_json: bool) -> None:
    """RFC 3797 第 4 节的选取 / RFC 3797 section 4's selection from a pool file."""
    try:
        lines = pool_file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        fail("候选名单须为 UTF-8 文本 / the pool file must be UTF-8 text")
    pool = [line.strip() for line in lines if line.strip()]
    try:
        found = draw.rfc3797(pool, sources, count)
    except draw.DrawError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps({"key": found["key"], "selected": found["selected"]},
                              ensure_ascii=False))
        return
    click.echo(f"key: {found['key']}")
    for step in found["steps"]:
        click.echo(f"{step['n'] + 1:>3}  {step['md5'].upper()}  {step['remaining']:>3}  "
                   f"{step['index']:>3}  {step['selected']}")
