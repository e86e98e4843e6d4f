"""bench_stats at a tiny size: every request answers with the loaded cases, the ratio is
computed (never asserted: no wall-clock time in a unit test)."""

from __future__ import annotations

from bench import bench_stats


def test_bench_stats_small(tmp_path, capsys):
    figures = bench_stats.main(1000, workdir=tmp_path)
    assert figures["baseline"] == 100 and figures["size"] == 1000
    assert figures["small"]["received"] > 0 and figures["large"]["received"] > 0
    assert figures["large"]["counter_rows"] > figures["small"]["counter_rows"]
    assert figures["ratio"] > 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("ratio: ")
    assert not list(tmp_path.iterdir())
