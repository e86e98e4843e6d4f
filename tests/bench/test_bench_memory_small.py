"""bench_memory at a tiny size: the real `gongkai serve` answers every page, verify passes."""

from __future__ import annotations

import os
from pathlib import Path

from bench import bench_memory

ROOT = Path(__file__).resolve().parents[2]


def test_serve_and_verify_are_measured(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    figures = bench_memory.main(20, workdir=tmp_path)
    assert figures["pages"] == 2 * bench_memory.REPEATS * len(bench_memory.PAGES)
    assert figures["verify_ok"]
    for name in ("rss_10k", "rss_1m", "verify_rss_10k", "verify_rss_1m"):
        assert figures[name] > 0, name
    assert capsys.readouterr().out.splitlines()[-1].startswith("ratio: ")
    assert not list(tmp_path.glob("*.db")), "the database files are removed"
