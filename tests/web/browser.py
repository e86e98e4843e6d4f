"""Helpers for the browser tests: a live server and Debian's Chromium through Playwright.

A test module loads them with ``pytest_plugins = ["tests.web.browser"]`` (and imports
nothing else from here at run time, or pytest warns that it cannot rewrite the module);
they are not in ``conftest.py`` so that only the browser tests pay for them.

* ``browser`` (module scope): one headless Chromium per test module and xdist worker,
  ``/usr/bin/chromium`` launched with explicit flags (root, closed network). Playwright
  gives a non-persistent launch a fresh temporary ``--user-data-dir`` of its own (it
  refuses one in ``args``) and removes it on close; every test then opens its own
  context. Playwright's own browser download is never used. When Chromium is missing
  the tests fail and say to run ``make test`` (which installs it); only with
  ``GONGKAI_SKIP_BROWSER=1`` are they skipped, with that reason.
* ``server`` (module scope): a threaded werkzeug server on 127.0.0.1 and a free port
  (port 0, so xdist workers never collide). It serves whichever app is mounted on it.
* ``live`` (per test): a fresh database from ``db_url`` (a new SQLite file per test, or
  the worker's PostgreSQL database emptied, when GONGKAI_TEST_DATABASE_URL is set),
  migrated, with the real processes of ``machines`` and the demo data; a new app over
  it with CSRF on (rate limits off) is mounted on ``server`` for the test. Any
  exception raised inside the app during the test fails it at teardown.
* ``page`` (per test): a new browser context (1280×900, zh-CN, no shared cookies) and
  a page in it, with generous timeouts for a slow machine.
* ``log_in`` (per test): ``log_in("qs-handler")`` signs a demo user in on ``page`` and
  waits for the inbox.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import got_request_exception
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from web import create_app
from web.extensions import limiter
from workflow import demo
from workflow.core.engine import Engine
from workflow.people import accounts
from workflow.people.actors import Actor
from workflow.service import build
from workflow.store import migrate

CHROMIUM = Path("/usr/bin/chromium")
SKIP_ENV = "GONGKAI_SKIP_BROWSER"
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--lang=zh-CN",
]
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 30_000  # the machine is slow (2 cores); waits are explicit and generous


# -- Chromium ------------------------------------------------------------------------------


def require_chromium() -> None:
    """Fail loudly when Chromium is missing; skip only when asked to (GONGKAI_SKIP_BROWSER=1)."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: browser tests skipped on request")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's "
                    f"chromium (scripts/apt-ensure.sh), or set {SKIP_ENV}=1 to skip the "
                    "browser tests", pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      timeout=60_000, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", accept_downloads=True,
                                  base_url=live.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def log_in(page: Page) -> Callable[..., None]:
    def sign_in(username: str, password: str = demo.PASSWORD) -> None:
        page.goto("/login")
        page.locator("#username").fill(username)
        page.locator("#password").fill(password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/inbox")
        expect(page.locator("header .me")).to_be_visible()

    return sign_in


# -- the live server -----------------------------------------------------------------------


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log in test output
        pass


class Mount:
    """The WSGI app of the server: whichever Flask app the current test mounted."""

    def __init__(self) -> None:
        self.app: Callable | None = None

    def __call__(self, environ, start_response):
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"no app mounted"]
        return self.app(environ, start_response)


@dataclass
class Server:
    url: str
    mount: Mount


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    mount = Mount()
    httpd = make_server("127.0.0.1", 0, mount, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_port}", mount)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@dataclass
class Live:
    """The app under test: its address and its engine (for what officers do off-page)."""

    url: str
    engine: Engine
    errors: list[BaseException] = field(default_factory=list)

    def actor(self, username: str) -> Actor:
        """A demo person, as the engine sees them."""
        with self.engine.db.read() as conn:
            user_id = conn.execute(sa.select(accounts.users.c.id).where(
                accounts.users.c.username == username)).scalar_one()
            return accounts.load(conn, user_id).actor

    def fire(self, code: str, trigger: str, username: str, payload: dict | None = None):
        """Take an action on the case with this tracking code, as ``username`` would."""
        who = self.actor(username)
        case = self.engine.get_by_code(code, who)
        return self.engine.fire(case.id, trigger, who, payload or {}, case.version)


@pytest.fixture
def live(server: Server, db_url: str) -> Iterator[Live]:
    engine = build(db_url)
    migrate.upgrade(engine.db)
    engine.record_definitions()
    demo.load(engine)
    # Flask-Limiter keeps RATELIMIT_ENABLED on the one shared Limiter (web.extensions):
    # put it back afterwards, or later apps in this worker would not throttle either.
    limiting = limiter.enabled
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-tests",
                      "RATELIMIT_ENABLED": False})
    state = Live(server.url, engine)

    def record(_sender, exception: BaseException, **_extra) -> None:
        state.errors.append(exception)

    got_request_exception.connect(record, app)
    server.mount.app = app
    try:
        yield state
    finally:
        server.mount.app = None
        limiter.enabled = limiting
        got_request_exception.disconnect(record, app)
        engine.db.dispose()
    if state.errors:
        pytest.fail(f"the app raised during the test: {state.errors!r}", pytrace=False)
