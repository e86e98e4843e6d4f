"""bench_inbox at a tiny size: every page answers with rows, the ratio is computed."""

from __future__ import annotations

from bench import bench_inbox


def test_bench_inbox_small(tmp_path, capsys):
    figures = bench_inbox.main(1000, workdir=tmp_path)
    assert figures["baseline"] == 100 and figures["size"] == 1000
    assert figures["small"]["rows"] > 0 and figures["large"]["rows"] > 0
    assert set(figures["large"]["pages"]) >= set(bench_inbox.PAGES)
    assert figures["ratio"] > 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("ratio: ")
    assert not list(tmp_path.iterdir())
