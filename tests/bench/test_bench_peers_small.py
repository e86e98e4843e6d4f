"""bench_peers at a tiny size: every system completes every case, gongkai verifies."""

from __future__ import annotations

import builtins

from bench import bench_peers

SYSTEMS = ("gongkai", "raw", "transitions_sqlmodel", "spiffworkflow")


def test_every_system_completes_every_case(tmp_path, capsys):
    figures = bench_peers.main(4, workdir=tmp_path)
    assert figures["verify_ok"]
    assert set(figures["systems"]) == set(SYSTEMS)
    for name in SYSTEMS:
        found = figures["systems"][name]
        assert found["completed_all"] and found["cases_completed"] == 4, (name, found)
        assert {"steps_per_s", "start_per_s", "fire_per_s"} <= set(found), name
    assert set(figures["ratios"]) == set(SYSTEMS) - {"gongkai"}
    assert capsys.readouterr().out.splitlines()[-1].startswith("ratio: ")
    assert not list(tmp_path.iterdir()), "the database files are removed"


def test_a_missing_peer_is_skipped_with_a_message(tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def without_spiff(name, *args, **kwargs):
        if name.startswith("SpiffWorkflow"):
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_spiff)
    figures = bench_peers.main(2, workdir=tmp_path)
    assert "not installed" in figures["systems"]["spiffworkflow"]["skipped"]
    assert "spiffworkflow" not in figures["ratios"]
    assert "spiffworkflow: skipped" in capsys.readouterr().out


def test_without_fsync_every_system_still_completes(tmp_path, monkeypatch):
    """``GONGKAI_BENCH_SYNCHRONOUS=OFF`` (the CPU side alone) runs every system alike."""
    monkeypatch.setenv("GONGKAI_BENCH_SYNCHRONOUS", "OFF")
    figures = bench_peers.main(2, workdir=tmp_path)
    assert figures["synchronous"] == "OFF" and figures["verify_ok"]
    assert all(found["completed_all"] for found in figures["systems"].values())
