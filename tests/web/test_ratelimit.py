"""Rate limits (issue 20, item 6): keyed on the account for a valid token and on the
address otherwise, shared between processes through Redis, off only when asked.

The shared-store test runs two real ``gongkai serve`` processes (one of them with two
gunicorn workers) over one Redis: it needs ``GONGKAI_TEST_REDIS_URL`` (a throwaway
server, emptied by the test; ``make test`` starts one for its PostgreSQL round with
scripts/redis-test.sh) and is skipped without it.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.web.conftest import bearer, make_user
from tests.web.test_serve import GONGKAI, free_port
from web import create_app
from web.extensions import limiter_settings, unshared_store_warning
from workflow.people import accounts

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("GONGKAI_TEST_REDIS_URL")


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True}


def test_junk_tokens_from_one_address_are_limited(client):
    """The review's 700 requests, each with a fresh junk token: past the API's 600 a
    minute they are refused, because an unknown token counts against the address."""
    codes = Counter(client.get(f"{API}/processes", headers=bearer(f"gk_junk{i}")).status_code
                    for i in range(700))
    assert codes == {401: 600, 429: 100}


def test_a_revoked_token_counts_against_the_address(app, client, engine, tree):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    gone = make_user(engine, "gone", "T", ["handler"])
    kept = make_user(engine, "kept", "T", ["handler"])
    with engine.db.write() as conn:
        accounts.revoke_tokens(conn, "gone")
    codes = [client.get(f"{API}/processes", headers=gone.headers).status_code
             for _ in range(3)]
    assert codes == [401, 401, 401]
    assert client.get(f"{API}/processes").status_code == 429  # the address is spent
    assert client.get(f"{API}/processes", headers=kept.headers).status_code == 200


def test_a_valid_token_is_limited_per_account_from_any_address(app, client, engine, tree):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    officer = make_user(engine, "officer", "T", ["handler"])
    codes = [client.get(f"{API}/processes", headers=officer.headers,
                        environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
             for i in range(3)]
    assert codes == [200, 200, 429]
    assert client.get(f"{API}/processes").status_code == 401  # the address is not spent


def test_limits_are_on_unless_turned_off(engine, monkeypatch):
    monkeypatch.delenv("GONGKAI_RATELIMIT_ENABLED", raising=False)
    assert limiter_settings()["RATELIMIT_ENABLED"] is True
    monkeypatch.setenv("GONGKAI_RATELIMIT_ENABLED", "0")
    app = create_app({"ENGINE": engine, "SECRET_KEY": "test", "API_RATE_LIMIT": "1/minute"})
    client = app.test_client()
    assert [client.get(f"{API}/processes").status_code for _ in range(3)] == [401] * 3


def test_several_workers_with_a_memory_store_are_warned(monkeypatch):
    monkeypatch.delenv("GONGKAI_RATELIMIT_ENABLED", raising=False)
    monkeypatch.delenv("GONGKAI_RATELIMIT_STORAGE", raising=False)
    assert unshared_store_warning(1) is None
    assert "GONGKAI_RATELIMIT_STORAGE=redis://" in unshared_store_warning(4)
    monkeypatch.setenv("GONGKAI_RATELIMIT_STORAGE", "redis://127.0.0.1:6379/0")
    assert unshared_store_warning(4) is None
    monkeypatch.setenv("GONGKAI_RATELIMIT_STORAGE", "memory://")
    monkeypatch.setenv("GONGKAI_RATELIMIT_ENABLED", "0")
    assert unshared_store_warning(4) is None


# -- real servers --------------------------------------------------------------------------


def get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@contextmanager
def serving(env: dict[str, str], log: Path, *args: str):
    """``gongkai serve *args`` on a free port until the block ends: (base URL, log)."""
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen([GONGKAI, "serve", "--port", str(port), *args], env=env,
                                  cwd=log.parent, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/public"):
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"no answer in 60 s: {log.read_text()}"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def serve_env(db_url, tmp_path):
    subprocess.run([GONGKAI, "init"], check=True, capture_output=True, cwd=tmp_path,
                   env=os.environ | {"GONGKAI_DATABASE_URL": db_url})
    env = os.environ | {"GONGKAI_DATABASE_URL": db_url, "GONGKAI_SECRET_KEY": "test",
                        "GONGKAI_TICK_SECONDS": "1", "GONGKAI_API_RATE_LIMIT": "10 per minute",
                        "PYTHONPATH": str(ROOT)}
    env.pop("GONGKAI_RATELIMIT_ENABLED", None)
    env.pop("GONGKAI_RATELIMIT_STORAGE", None)
    return env


def test_serve_with_several_workers_and_a_memory_store_says_so(serve_env, tmp_path):
    log = tmp_path / "serve.log"
    with serving(serve_env, log, "--workers", "2") as url:
        assert get(f"{url}{API}/processes", "gk_junk") == 401
    assert "GONGKAI_RATELIMIT_STORAGE=redis://" in log.read_text()


@pytest.mark.skipif(not REDIS_URL, reason="GONGKAI_TEST_REDIS_URL is not set: the shared "
                    "store needs a Redis (make test starts one: scripts/redis-test.sh)")
def test_the_limit_holds_across_processes_with_the_shared_store(serve_env, tmp_path):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # no counts left from an earlier run
    env = serve_env | {"GONGKAI_RATELIMIT_STORAGE": REDIS_URL}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with serving(env, tmp_path / "a" / "serve.log", "--workers", "2") as first, \
            serving(env, tmp_path / "b" / "serve.log") as second:
        codes = Counter(get(f"{(first, second)[i % 2]}{API}/processes", f"gk_junk{i}")
                        for i in range(30))
    assert codes == {401: 10, 429: 20}
    assert "GONGKAI_RATELIMIT_STORAGE" not in (tmp_path / "a" / "serve.log").read_text()


def test_a_429_says_when_to_come_back(engine, users):
    from web import create_app

    app = create_app({"ENGINE": engine, "SECRET_KEY": "t", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT": "1 per minute"})
    client = app.test_client()
    for _ in range(2):
        response = client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 429
    assert response.headers["Retry-After"].isdigit()


def test_a_request_counts_once_however_many_apps_the_process_made(engine, tree):
    """Every API blueprint and the board's list share one limit object: one made anew by
    each ``create_app`` was kept once per app, and a request counted that many times."""
    auditor = make_user(engine, "auditor", "T", ["auditor"])
    for _ in range(4):
        app = create_app({"ENGINE": engine, "SECRET_KEY": "t", "RATELIMIT_ENABLED": True,
                          "API_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    for paths in (("/audit/events", "/processes"), ("/publications",)):
        codes = [client.get(f"{API}{paths[i % len(paths)]}", headers=auditor.headers
                            ).status_code for i in range(4)]
        assert codes == [200, 200, 200, 429], paths
