"""Run the benchmarks and regenerate the table in bench/README.md from their output.

``make bench`` runs ``bench/report.py run``: every ``bench/bench_*.py`` in turn with
``--json`` (its output shown as it comes), its figures (the JSON object on its last line)
kept in ``bench/results.json`` with when, on which commit and under what load they were
measured, and then the block between the markers in ``bench/README.md`` written anew
from that file. ``GONGKAI_BENCH_SYNCHRONOUS=OFF`` runs fill the ``OFF`` column and keep
the ``FULL`` one. ``bench/report.py table`` only rewrites the block from the file, and
``tests/bench/test_report.py`` holds the README's block equal to it, so no figure in the
table is typed by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.json"
README = HERE / "README.md"
BEGIN = "<!-- bench table: begin (written by bench/report.py from bench/results.json) -->"
END = "<!-- bench table: end -->"
MODES = ("FULL", "OFF")
MIB = 1024 * 1024

Figures = dict[str, Any]


def number(value: float) -> str:
    """A rate or count as the README writes it: whole, thousands apart by a space."""
    return f"{value:,.0f}".replace(",", " ")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def mib(size: float) -> str:
    return f"{size / MIB:.1f} MiB"


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure of one script, how it is worked out, its goal."""

    script: str
    measures: str
    value: Callable[[Figures], float] | None  # None: the detail alone (where time goes)
    detail: Callable[[Figures], str]
    goal: str = ""  # ">= 0.6", "<= 1.2", "= 1.0" or nothing

    def met(self, value: float) -> bool | None:
        if not self.goal:
            return None
        sign, target = self.goal.split()
        bound = float(target)
        return {">=": value >= bound, "<=": value <= bound, "=": value == bound}[sign]


def _peer(name: str, key: str) -> Callable[[Figures], float]:
    return lambda f: f["ratios"][name][key]


def _peer_detail(name: str, key: str) -> Callable[[Figures], str]:
    return lambda f: (f"{number(f['systems']['gongkai'][key])} ÷ "
                      f"{number(f['systems'][name][key])}")


def _rss(small: str, large: str) -> Callable[[Figures], str]:
    return lambda f: f"{mib(f[large])} ÷ {mib(f[small])}"


def _per_event(f: Figures) -> str:
    """Where verify's time goes, in µs per event in one process."""
    parts = (("verify", "serial_per_s"), ("without replay", "chain_only_per_s"),
             ("reading alone", "read_per_s"), ("header hash", "header_hash_per_s"),
             ("payload digest", "digest_per_s"), ("replay alone", "replay_per_s"))
    return "; ".join(f"{label} {1e6 / f[key]:.1f}" for label, key in parts)


def _p95(f: Figures) -> str:
    return f"{ms(f['large']['p95_s'])} ÷ {ms(f['small']['p95_s'])}"


ROWS = (
    Row("bench_peers", "gongkai steps/s ÷ raw sqlite3 (the whole case)",
        _peer("raw", "steps_per_s"), _peer_detail("raw", "steps_per_s"), ">= 0.6"),
    Row("bench_peers", "gongkai start/s ÷ raw start/s", _peer("raw", "start_per_s"),
        _peer_detail("raw", "start_per_s"), ">= 0.5"),
    Row("bench_peers", "gongkai fire/s ÷ raw fire/s", _peer("raw", "fire_per_s"),
        _peer_detail("raw", "fire_per_s")),
    Row("bench_peers", "gongkai ÷ transitions + SQLModel (steps)",
        _peer("transitions_sqlmodel", "steps_per_s"),
        _peer_detail("transitions_sqlmodel", "steps_per_s")),
    Row("bench_peers", "gongkai ÷ SpiffWorkflow 3.2 (steps)",
        _peer("spiffworkflow", "steps_per_s"), _peer_detail("spiffworkflow", "steps_per_s")),
    Row("bench_fire", "`Engine.fire` ÷ raw BEGIN+SELECT+UPDATE+INSERT+COMMIT",
        lambda f: f["ratio"],
        lambda f: f"{number(f['fire_per_s'])} ÷ {number(f['raw_per_s'])}", ">= 0.7"),
    Row("bench_fire", "append-only `comment` ÷ the same raw loop",
        lambda f: f["append_only_ratio"],
        lambda f: f"{number(f['append_only_fire_per_s'])} ÷ {number(f['raw_per_s'])}"),
    Row("bench_fire", "CPU per change, `Engine.fire` ÷ raw (user + kernel)",
        lambda f: (f["fire_user_s"] + f["fire_system_s"]) / (f["raw_user_s"] + f["raw_system_s"]),
        lambda f: (f"{f['fire_user_s'] * 1e6:.0f} + {f['fire_system_s'] * 1e6:.0f} µs ÷ "
                   f"{f['raw_user_s'] * 1e6:.0f} + {f['raw_system_s'] * 1e6:.0f} µs")),
    Row("bench_timers", "`run_due` timers/s ÷ single fires/s, same run",
        lambda f: f["timers_per_fire"],
        lambda f: f"{number(f['timers_per_s'])} ÷ {number(f['fires_per_s'])}", ">= 4"),
    Row("bench_timers", "timers fired exactly once ÷ due", lambda f: f["ratio"],
        lambda f: f"{number(f['fired_once'])} ÷ {number(f['due'])}", "= 1.0"),
    Row("bench_verify", "`audit verify` events/s ÷ (one-core `event_hash`/s × cores)",
        lambda f: f["ratio"],
        lambda f: (f"{number(f['events_per_s'])} ÷ ({number(f['hash_per_s_one_core'])} "
                   f"× {f['cores']})"), ">= 0.5"),
    Row("bench_verify", "µs per event in one process: where the time goes", None,
        _per_event),
    Row("bench_memory", "`gongkai serve` RSS after inbox, board, audit desk: 1M ÷ 10k cases",
        lambda f: f["ratio"], _rss("rss_10k", "rss_1m"), "<= 1.2"),
    Row("bench_memory", "`audit verify` peak RSS: 1M ÷ 10k events",
        lambda f: f["verify_ratio"], _rss("verify_rss_10k", "verify_rss_1m"), "<= 1.2"),
    Row("bench_inbox", "inbox page p95: 1M ÷ 10k cases", lambda f: f["ratio"], _p95, "<= 2"),
    Row("bench_notify", "e-mails dispatched/s to a local SMTP server ÷ events/s",
        lambda f: f["ratio"],
        lambda f: f"{number(f['messages_per_s'])} ÷ {number(f['events_per_s'])}", ">= 0.5"),
    Row("bench_stats", "`GET /api/v1/stats` p95: 1M ÷ 10k cases", lambda f: f["ratio"], _p95,
        "<= 2"),
)


def _cell(row: Row, run: dict[str, Any] | None, bold: bool) -> str:
    if run is None:
        return "—"
    try:
        detail = row.detail(run["figures"])
        if row.value is None:
            return detail
        value = row.value(run["figures"])
    except (KeyError, ZeroDivisionError):
        return "—"  # a peer skipped, a figure the run did not have
    text = f"**{value:.2f}**" if bold and row.goal else f"{value:.2f}"
    met = row.met(value)
    verdict = "" if met is None or not bold else " — met" if met else " — not met"
    return f"{text} ({detail}){verdict}"


#: what each script's ``size`` counts
UNITS = {"bench_peers": "cases × 5 steps", "bench_fire": "changes", "bench_timers": "timers",
         "bench_verify": "events", "bench_memory": "cases", "bench_inbox": "cases",
         "bench_notify": "applications", "bench_stats": "cases"}


def _size(script: str, runs: dict[str, dict[str, Any]]) -> str:
    run = runs["FULL"].get(script) or runs["OFF"].get(script)
    return f"{number(run['figures']['size'])} {UNITS.get(script, '')}".strip() if run else "—"


def render(results: dict[str, Any]) -> str:
    """The block between the markers: the goals, each run's place and time, the peers."""
    runs = {mode: results.get(mode, {}) for mode in MODES}
    lines = ["| script | size | measures | goal | `FULL` | `OFF` |",
             "|---|---|---|---|---|---|"]
    last = None
    for row in ROWS:
        first = row.script != last
        last = row.script
        lines.append("| " + " | ".join((
            f"`{row.script}.py`" if first else "", _size(row.script, runs) if first else "",
            row.measures, row.goal.replace(">=", "≥").replace("<=", "≤"),
            _cell(row, runs["FULL"].get(row.script), True),
            _cell(row, runs["OFF"].get(row.script), False))) + " |")
    if any(runs.values()):
        lines += ["", "Where and when each figure was measured (`synchronous`, UTC, commit, "
                  "load average over 1 minute at the start, cores):", ""]
    for mode in MODES:
        for script, run in sorted(runs[mode].items()):
            dirty = " with uncommitted changes" if run["dirty"] else ""
            lines.append(f"- `{mode}` `{script}.py`: {run['at']}, `{run['commit']}`{dirty}, "
                         f"load {run['load']:.2f}, {run['cores']} cores, "
                         f"Python {run['python']}")
    peers = runs["FULL"].get("bench_peers")
    if peers:
        systems = peers["figures"]["systems"]
        lines += ["", "`bench_peers.py` per system (`FULL`):", "",
                  "| system | steps/s | start/s | fire/s | gongkai ÷ it (steps) |",
                  "|---|---|---|---|---|"]
        for name, found in systems.items():
            if "skipped" in found:
                lines.append(f"| {name} | skipped: {found['skipped']} | | | |")
                continue
            ratio = peers["figures"]["ratios"].get(name, {}).get("steps_per_s")
            lines.append(f"| {name} | {number(found['steps_per_s'])} | "
                         f"{number(found['start_per_s'])} | {number(found['fire_per_s'])} | "
                         f"{'—' if ratio is None else f'{ratio:.2f}'} |")
    return "\n".join(lines)


def rewrite(readme: Path, results: dict[str, Any]) -> None:
    """Replace the block between the markers in ``readme``."""
    text = readme.read_text(encoding="utf-8")
    head, found, rest = text.partition(BEGIN)
    _, closed, tail = rest.partition(END)
    if not found or not closed:
        raise SystemExit(f"{readme}: the markers of the bench table are missing")
    readme.write_text(f"{head}{BEGIN}\n{render(results)}\n{END}{tail}", encoding="utf-8")


def block(readme: Path) -> str:
    """What stands between the markers now."""
    text = readme.read_text(encoding="utf-8")
    return text.partition(BEGIN)[2].partition(END)[0].strip("\n")


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _git(*args: str) -> str:
    found = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return found.stdout.rstrip() if found.returncode == 0 else ""  # status lines start " M"


def _dirty(results: Path, readme: Path) -> bool:
    """Uncommitted changes besides the two files this script writes."""
    ours = {str(p.resolve().relative_to(ROOT)) for p in (results, readme)
            if p.resolve().is_relative_to(ROOT)}
    return any(line[3:] not in ours for line in _git("status", "--porcelain").splitlines())


def run_script(path: Path, size: int | None) -> Figures:
    """Run one script with ``--json``, its output passed through; its figures."""
    command = [sys.executable, str(path), "--json"]
    if size is not None:
        command += ["--size", str(size)]
    last = ""
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("{"):
                last = line
            else:
                print(line, end="", flush=True)
    if proc.returncode != 0 or not last:
        raise SystemExit(f"{path.name} failed (exit {proc.returncode})")
    return json.loads(last)


def scripts(only: Sequence[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    unknown = set(only) - {p.stem for p in found}
    if unknown:
        raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
    return [p for p in found if not only or p.stem in only]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("action", choices=("run", "table"))
    parser.add_argument("--only", nargs="*", default=[], help="these scripts (bench_fire …)")
    parser.add_argument("--size", type=int, default=None, help="every script at this size")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    results = load(args.results)
    if args.action == "run":
        mode = os.environ.get("GONGKAI_BENCH_SYNCHRONOUS", "FULL").upper()
        if mode not in MODES:
            raise SystemExit(f"GONGKAI_BENCH_SYNCHRONOUS must be one of {', '.join(MODES)}")
        commit = _git("rev-parse", "--short", "HEAD") or "unknown"
        for path in scripts(args.only):
            print(f"== {path.relative_to(ROOT)}", flush=True)
            at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
            load_average = os.getloadavg()[0]
            figures = run_script(path, args.size)
            results.setdefault(mode, {})[path.stem] = {
                "at": at, "commit": commit, "dirty": _dirty(args.results, args.readme),
                "load": load_average, "cores": os.cpu_count() or 1,
                "python": platform.python_version(), "figures": figures}
            args.results.write_text(json.dumps(results, ensure_ascii=False, indent=1,
                                               sort_keys=True) + "\n", encoding="utf-8")
    rewrite(args.readme, results)
    print(f"{args.readme}: table written from {args.results}", flush=True)


if __name__ == "__main__":
    main()
