"""bench/report.py: the README's table is the recorded figures, and a run records them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report

FIRE = {"size": 2000, "ratio": 0.61, "fire_per_s": 2750.8, "raw_per_s": 4480.9,
        "append_only_ratio": 0.65, "append_only_fire_per_s": 2902.0,
        "fire_user_s": 165e-6, "fire_system_s": 75e-6, "raw_user_s": 50e-6,
        "raw_system_s": 55e-6}
TIMERS = {"size": 100_000, "timers_per_fire": 4.28, "timers_per_s": 12652.0,
          "fires_per_s": 2958.0, "ratio": 1.0, "fired_once": 100_000, "due": 100_000}
MEMORY = {"size": 1_000_000, "ratio": 1.0, "rss_10k": 100 * report.MIB,
          "rss_1m": 100 * report.MIB, "verify_ratio": 1.25,
          "verify_rss_10k": 100 * report.MIB, "verify_rss_1m": 125 * report.MIB}


def run(figures: dict, **extra) -> dict:
    return {"at": "2026-12-06 23:50", "commit": "abc1234", "dirty": False, "load": 0.5,
            "cores": 2, "python": "3.11.7", "figures": figures, **extra}


def row_of(block: str, measures: str) -> str:
    return next(line for line in block.splitlines() if measures in line)


def test_the_readme_table_is_the_recorded_figures():
    """Nobody types a figure into the table: it is rendered from bench/results.json."""
    assert report.block(report.README) == report.render(report.load(report.RESULTS))


def test_each_goal_is_judged_from_its_figures():
    block = report.render({"FULL": {"bench_fire": run(FIRE), "bench_timers": run(TIMERS),
                                    "bench_memory": run(MEMORY)},
                           "OFF": {"bench_fire": run(FIRE | {"ratio": 0.42})}})
    fire = row_of(block, "`Engine.fire` ÷ raw")
    assert "**0.61** (2 751 ÷ 4 481) — not met" in fire
    assert fire.endswith("| 0.42 (2 751 ÷ 4 481) |")  # OFF: the figure, no verdict
    assert "**4.28** (12 652 ÷ 2 958) — met" in row_of(block, "`run_due`")
    assert "**1.00** (100 000 ÷ 100 000) — met" in row_of(block, "exactly once")
    assert "— met" in row_of(block, "`gongkai serve` RSS")
    assert "**1.25** (125.0 MiB ÷ 100.0 MiB) — not met" in row_of(block, "peak RSS")
    assert "165 + 75 µs ÷ 50 + 55 µs" in row_of(block, "CPU per change")
    assert row_of(block, "whole case").endswith("| — | — |")  # bench_peers was not run
    assert "- `FULL` `bench_fire.py`: 2026-12-06 23:50, `abc1234`, load 0.50" in block
    dirty = report.render({"FULL": {"bench_fire": run(FIRE, dirty=True)}})
    assert "with uncommitted changes" in dirty


def test_a_skipped_peer_leaves_its_cells_empty():
    peers = {"size": 10, "systems": {
        "gongkai": {"steps_per_s": 300.0, "start_per_s": 250.0, "fire_per_s": 320.0},
        "raw": {"steps_per_s": 500.0, "start_per_s": 480.0, "fire_per_s": 510.0},
        "spiffworkflow": {"skipped": "SpiffWorkflow is not installed"}},
        "ratios": {"raw": {"steps_per_s": 0.6, "start_per_s": 0.52, "fire_per_s": 0.63}}}
    block = report.render({"FULL": {"bench_peers": run(peers)}})
    assert "**0.60** (300 ÷ 500) — met" in row_of(block, "whole case")
    assert row_of(block, "SpiffWorkflow 3.2 (steps)").endswith("| — | — |")
    assert "| spiffworkflow | skipped: SpiffWorkflow is not installed | | | |" in block


def test_a_run_records_the_figures_and_writes_the_table(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Bench\n\n{report.BEGIN}\nold\n{report.END}\n\nAfter.\n",
                      encoding="utf-8")
    results = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k != "GONGKAI_BENCH_SYNCHRONOUS"}
    done = subprocess.run(
        [sys.executable, str(report.HERE / "report.py"), "run", "--only", "bench_fire",
         "--size", "8", "--results", str(results), "--readme", str(readme)],
        capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "== bench/bench_fire.py" in done.stdout and "ratio: " in done.stdout
    recorded = json.loads(results.read_text(encoding="utf-8"))
    assert list(recorded) == ["FULL"] and list(recorded["FULL"]) == ["bench_fire"]
    fire = recorded["FULL"]["bench_fire"]
    assert fire["figures"]["size"] == 8 and fire["figures"]["verify_ok"]
    assert fire["cores"] == os.cpu_count()
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Bench\n\n") and text.endswith(f"{report.END}\n\nAfter.\n")
    assert "old" not in text
    assert report.block(readme) == report.render(recorded)
    assert "8 changes" in row_of(report.block(readme), "`Engine.fire` ÷ raw")


def test_the_table_needs_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Bench\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="markers"):
        report.rewrite(readme, {})
    assert readme.read_text(encoding="utf-8") == "# Bench\n"


def test_an_unknown_script_is_refused():
    with pytest.raises(SystemExit, match="no such benchmark: bench_nothing"):
        report.scripts(["bench_nothing"])
    assert [p.stem for p in report.scripts(["bench_fire"])] == ["bench_fire"]
    assert Path(report.HERE / "bench_peers.py") in report.scripts([])


def test_a_change_beside_the_two_written_files_marks_the_run(monkeypatch):
    """``git status --porcelain`` as git prints it: the first line starts with a space."""
    status = {" M bench/README.md\n?? bench/results.json\n": False,
              " M bench/README.md\n M workflow/core/engine.py\n": True,
              "?? bench/new_bench.py\n": True, "": False}
    for out, dirty in status.items():
        monkeypatch.setattr(report.subprocess, "run", lambda *a, out=out, **k:
                            subprocess.CompletedProcess(a, 0, stdout=out, stderr=""))
        assert report._dirty(report.RESULTS, report.README) is dirty, out
