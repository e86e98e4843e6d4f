"""Each benchmark's ``main`` at a tiny size: the structural outcomes, never the times."""

from __future__ import annotations

import pytest

from bench import bench_fire, bench_timers, bench_verify


def test_bench_fire_small(tmp_path, capsys):
    figures = bench_fire.main(12, workdir=tmp_path)
    assert figures["verify_ok"]
    # four cases: a start each, then 12 state changes and 12 comments (plus the warm-up)
    assert figures["cases"] == bench_fire.CASES
    assert figures["events"] == bench_fire.CASES + 12 + 12 + 12
    for name in ("fire_per_s", "append_only_fire_per_s", "raw_per_s", "ratio",
                 "compile_s", "compile_vs_raw", "shared_run_s", "event_hash_s"):
        assert figures[name] > 0, name
    assert capsys.readouterr().out.splitlines()[-1].startswith("ratio: ")
    assert not list(tmp_path.iterdir()), "the database files are removed"


@pytest.mark.parametrize(("size", "cases"), [(25, 3), (1, 1), (30, 3)])
def test_bench_verify_small(tmp_path, capsys, size, cases):
    figures = bench_verify.main(size, workdir=tmp_path)
    assert figures["verify_ok"] and figures["chain_only_ok"]
    assert figures["events"] == figures["verified_events"] == size
    assert figures["cases"] == figures["verified_cases"] == cases
    for name in ("verify_per_s", "hash_per_s", "replay_per_s", "load_per_s", "digest_per_s",
                 "chain_only_per_s", "read_per_s", "events_per_s", "hash_per_s_one_core",
                 "cores", "ratio", "header_hash_per_s"):
        assert figures[name] > 0, name
    assert capsys.readouterr().out.splitlines()[-1].startswith("ratio: ")


def test_bench_timers_small(tmp_path, capsys):
    figures = bench_timers.main(20, workdir=tmp_path)
    assert figures["timers"] == figures["timers_due"] == 20
    assert figures["run_due_returned"] == figures["timers_fired"] == 20
    assert figures["timers_pending"] == figures["timers_other"] == 0
    assert figures["timer_events"] == figures["timer_event_cases"] == 20
    assert figures["cases_fired_twice"] == 0
    assert figures["fired_seq_matches"] == figures["cases_expired"] == 20
    assert figures["verify_ok"] and figures["verified_events"] == 40
    assert figures["fired_exactly_once"] == 20 and figures["ratio"] == 1.0
    assert figures["due"] == figures["fired_once"] == 20
    assert figures["timers_per_s"] > 0 and figures["fires_per_s"] > 0
    assert capsys.readouterr().out.splitlines()[-1] == "ratio: 1.00 (target >= 1.0)"


def test_run_due_twice_fires_nothing_more(tmp_path):
    """A second run over the same instant finds nothing due (exactly once)."""
    from bench.common import open_site
    from bench.loader import load_cases
    from workflow.core.timers import run_due

    site = open_site(tmp_path / "again.db")
    try:
        load_cases(site, "bench_timer", 5, 0)
        assert run_due(site.engine, bench_timers.NOW) == 5
        assert run_due(site.engine, bench_timers.NOW) == 0
        assert bench_timers.counts(site, ["timer_events"]) == {"timer_events": 5}
    finally:
        site.close()


def test_json_flag_prints_the_figures_last(tmp_path):
    """``--json``: the last line printed is one JSON object with the figures."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(root / "bench" / "bench_timers.py"), "--size",
                           "3", "--dir", str(tmp_path), "--json"],
                          capture_output=True, text=True, check=True, cwd=root)
    figures = json.loads(done.stdout.splitlines()[-1])
    assert figures["due"] == figures["fired_once"] == 3
