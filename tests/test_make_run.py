"""``make run`` (issue 22): it honours HOST and PORT and makes the signing keys before it
serves, so that the clock's checkpoints are signed from the start (AU3).

``make -n`` only prints the recipe: nothing is installed, migrated or served.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def recipe(*args: str, **env: str) -> list[str]:
    if shutil.which("make") is None:
        pytest.fail("make is missing: the project's commands need it")
    clean = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT")}
    # --no-print-directory: under make test (a sub-make) make would add its own lines
    done = subprocess.run(["make", "-n", "--no-print-directory", "run", *args], cwd=ROOT,
                          env=clean | env,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.splitlines()


def test_make_run_serves_on_localhost_5000_by_default_after_making_keys():
    lines = recipe()
    assert lines[-1].endswith("gongkai serve --host '127.0.0.1' --port '5000'")
    assert lines[-2].endswith("gongkai audit keygen"), "keys before the first checkpoint"


def test_make_run_honours_host_and_port_from_the_environment_or_the_command_line():
    assert recipe(HOST="0.0.0.0", PORT="8123")[-1].endswith(
        "gongkai serve --host '0.0.0.0' --port '8123'")
    assert recipe("PORT=8080")[-1].endswith("--port '8080'")
