"""``gongkai lottery``: RFC 3797 on a pool file and a draw bundle re-run, with no database
(O7): exit 0 when it matches, 1 when it does not, 2 on bad input."""

from __future__ import annotations

import json

from click.testing import CliRunner

from machines import lottery
from tests.machines.test_lottery import RFC_POOL
from workflow.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_o7_rfc3797_command_reproduces_the_rfc_example(tmp_path):
    pool = tmp_path / "pool.txt"
    pool.write_text("\n".join(RFC_POOL) + "\n", encoding="utf-8")
    args = ("lottery", "rfc3797", "--pool", str(pool), "--source", "9319",
            "--source", "2 5 12 8 10", "--source", "9 18 26 34 41 45", "--count", "3")
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"key": "9319./2.5.8.10.12./9.18.26.34.41.45./",
                                         "selected": ["Lee", "Doc", "Mary"]}
    table = run(*args)
    assert "990DD0A5692A029A98B5E01AA28F3459" in table.stdout and "Lee" in table.stdout
    too_many = run("lottery", "rfc3797", "--pool", str(pool), "--source", "1",
                   "--count", "26")
    assert too_many.exit_code == 2 and "不能" in too_many.output


def test_o7_verify_command_says_matches_or_names_the_problem(tmp_path):
    record = lottery.make_record(
        [{"id": f"BM-2026-{i:06d}", "category": "农村" if i % 2 else "社区"}
         for i in range(1, 7)],
        [{"category": "农村", "seats": 1}, {"category": "社区", "seats": 2}],
        {"kind": "public", "name": "福彩3D 第2026280期"})
    bundle = lottery.draw(record, ["5 0 9"])
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    good = run("lottery", "verify", str(path))
    assert good.exit_code == 0 and "matches" in good.stdout
    assert json.loads(run("lottery", "verify", str(path), "--json").stdout)["matches"]
    bundle["sources"] = ["5 0 8"]
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    bad = run("lottery", "verify", str(path))
    assert bad.exit_code == 1 and "differs" in bad.stdout
    path.write_text("not json", encoding="utf-8")
    assert run("lottery", "verify", str(path)).exit_code == 2
