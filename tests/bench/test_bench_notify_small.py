"""bench_notify at a tiny size: every e-mail reaches the local server once; --json's line."""

from __future__ import annotations

import json
import sys

from bench import bench_notify
from bench.common import cli


def test_bench_notify_small(tmp_path, capsys):
    figures = bench_notify.main(20, workdir=tmp_path)
    assert figures["sent"] == figures["received"] == figures["distinct_received"] == 20
    assert figures["received_twice"] == 0
    assert figures["events_per_s"] > 0 and figures["messages_per_s"] > 0
    assert figures["ratio"] > 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("ratio: ")
    assert not list(tmp_path.glob("*.db*")), "the database files are removed"


def test_bench_notify_json_is_the_last_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["bench_notify.py", "--size", "3", "--dir",
                                      str(tmp_path), "--json"])
    cli(bench_notify.main, bench_notify.DEFAULT_SIZE, bench_notify.__doc__)
    figures = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert figures["size"] == 3 and figures["distinct_received"] == 3
