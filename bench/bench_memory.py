"""Resident memory of `gongkai serve` and of `gongkai audit verify` at 10k and at 1M cases.

Two databases are bulk-loaded (bench/loader.py): 10 000 and ``--size`` cases of the
``bench`` process at one organisation, each with its ``start`` event (so the big one
holds as many events as cases), and an officer who is also an auditor. For each, a real
``gongkai serve`` is started on a free port; the officer logs in and opens the inbox
(four views), the public board and the audit desk, three times each; then the
resident set size (RSS) of the server process and its children is read with psutil.
Then ``gongkai audit verify`` runs over the same database, the peak RSS of its largest
process (itself or one of its forked workers) sampled while it runs. Neither may grow
with the cases: the targets are RSS at ``--size`` ÷ RSS at 10k ≤ 1.2, for the server
and for verify (which holds no per-event objects: it streams events and case rows).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import cli, open_site, remove_db, show, timed, work_dir  # noqa: E402
from bench.loader import load_cases  # noqa: E402
from workflow.people import accounts  # noqa: E402

DEFAULT_SIZE = 1_000_000
BASELINE = 10_000
ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-pass-1"
PAGES = ("/inbox", "/inbox?view=org", "/inbox?view=due", "/inbox?view=org&kind=bench",
         "/board", "/audit/")
REPEATS = 3
SAMPLE_SECONDS = 0.05


def gongkai() -> str:
    beside = Path(sys.executable).parent / "gongkai"
    return str(beside) if beside.exists() else "gongkai"


def environment(path: Path) -> dict[str, str]:
    return os.environ | {
        "GONGKAI_DATABASE_URL": f"sqlite:///{path}",
        "GONGKAI_PROCESSES": "bench.processes:definitions",
        "GONGKAI_SECRET_KEY": "bench-memory",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def build(path: Path, count: int) -> float:
    """The database with ``count`` cases and the officer; seconds it took."""
    site = open_site(path)
    try:
        with site.db.write() as conn:
            accounts.add_user(conn, "bench", site.org_code, ["handler", "auditor"], PASSWORD)
        seconds, _ = timed(lambda: load_cases(site, "bench", count, 0))
        with site.db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        site.close()
    return seconds


def tree_rss(process, largest: bool = False) -> int:
    """Bytes resident in ``process`` and its children (or in the largest of them: forked
    workers share their parent's pages, which a sum would count once per process)."""
    import psutil

    found = []
    for each in [process, *process.children(recursive=True)]:
        try:
            found.append(each.memory_info().rss)
        except psutil.NoSuchProcess:
            continue
    return (max(found, default=0) if largest else sum(found))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_rss(path: Path, where: Path) -> tuple[int, int]:
    """RSS of ``gongkai serve`` after the pages were served, and the pages served."""
    import psutil

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = where / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([gongkai(), "serve", "--port", str(port)],
                                  env=environment(path), cwd=where, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        login = wait_for(opener, f"{base}/login", server, log)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login)
        fields = {"username": "bench", "password": PASSWORD}
        if token:
            fields["csrf_token"] = token.group(1)
        opener.open(f"{base}/login", urllib.parse.urlencode(fields).encode()).read()
        served = 0
        for _ in range(REPEATS):
            for page in PAGES:
                with opener.open(f"{base}{page}") as response:
                    if response.status != 200 or "/login" in response.url:
                        raise RuntimeError(f"{page}: {response.status} {response.url}")
                    response.read()
                    served += 1
        return tree_rss(psutil.Process(server.pid)), served
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_for(opener, url: str, server: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + 120
    while True:
        try:
            with opener.open(url) as response:
                return response.read().decode("utf-8")
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gongkai serve did not answer: {log.read_text()}") from None
            time.sleep(0.3)


def verify_rss(path: Path, where: Path) -> tuple[int, bool]:
    """Peak RSS of the largest process of ``gongkai audit verify`` (it or one of its
    forked workers) over the database; ok?"""
    import psutil

    with (where / "verify.log").open("wb") as out:
        proc = subprocess.Popen([gongkai(), "audit", "verify"], env=environment(path),
                                cwd=where, stdout=out, stderr=subprocess.STDOUT)
        watched = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                peak = max(peak, tree_rss(watched, largest=True))
            except psutil.NoSuchProcess:
                break
            time.sleep(SAMPLE_SECONDS)
    return peak, proc.returncode == 0


def measure(path: Path, where: Path, count: int) -> dict:
    remove_db(path)
    try:
        load_s = build(path, count)
        rss, served = serve_rss(path, where)
        peak, ok = verify_rss(path, where)
    finally:
        remove_db(path)
    return {"cases": count, "load_s": load_s, "serve_rss": rss, "pages": served,
            "verify_rss": peak, "verify_ok": ok}


def main(size: int = DEFAULT_SIZE, workdir: Path | None = None) -> dict:
    baseline = min(BASELINE, size)
    with work_dir(workdir) as where:
        small = measure(where / "memory-small.db", where, baseline)
        large = measure(where / "memory-large.db", where, size)
    mib = 1024 * 1024
    figures = {"baseline": baseline, "size": size, "rss_10k": small["serve_rss"],
               "rss_1m": large["serve_rss"], "verify_rss_10k": small["verify_rss"],
               "verify_rss_1m": large["verify_rss"],
               "pages": small["pages"] + large["pages"],
               "verify_ok": small["verify_ok"] and large["verify_ok"],
               "ratio": large["serve_rss"] / small["serve_rss"],
               "verify_ratio": large["verify_rss"] / small["verify_rss"]}
    show(f"bulk load {size:,} cases", large["load_s"], "s")
    show(f"gongkai serve RSS at {baseline:,} cases", small["serve_rss"] / mib, "MiB")
    show(f"gongkai serve RSS at {size:,} cases", large["serve_rss"] / mib, "MiB")
    show(f"audit verify peak RSS over {baseline:,} events", small["verify_rss"] / mib, "MiB")
    show(f"audit verify peak RSS over {size:,} events", large["verify_rss"] / mib, "MiB")
    show("audit verify ok", str(figures["verify_ok"]))
    show("verify RSS ratio (target <= 1.2)", figures["verify_ratio"])
    print(f"ratio: {figures['ratio']:.2f} (target <= 1.2)", flush=True)
    return figures


if __name__ == "__main__":
    cli(main, DEFAULT_SIZE, __doc__)
