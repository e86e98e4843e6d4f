"""Shared fixtures for the web tests (API, pages and, later, browser tests).

``app`` is a fresh Flask app per test, bound to the per-test database of
``tests/conftest.py`` (SQLite, or PostgreSQL when GONGKAI_TEST_DATABASE_URL is set) and
to the sample process of ``tests/workflow/sample.py``. A test module can change the
app's configuration by overriding the ``app_config`` fixture, e.g.::

    @pytest.fixture
    def app_config():
        return {"WTF_CSRF_ENABLED": False}

``users`` creates one account per role of the authorisation tests on the ``tree``
organisations (county C → town T → village V; bureau B beside T), each with a
password (for ``/login``) and an API token; ``bearer(user)`` gives the header for the
API and ``login(client, user)`` signs a test client in through the login form (which
needs ``WTF_CSRF_ENABLED=False``). Passwords are hashed at the suite's cheaper scrypt cost
(``tests/conftest.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from web import create_app
from workflow.people import accounts
from workflow.people.actors import Actor, user

PASSWORD = "secret-pass-1"

# name -> (organisation code, roles). Cases in the tests are opened at the town T.
ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "handler": ("T", ("handler",)),
    "reviewer": ("T", ("reviewer",)),
    "member": ("T", ("member",)),
    "auditor": ("T", ("auditor",)),
    "admin": ("C", ("admin",)),
    "upper": ("C", ("reviewer",)),  # the parent organisation's reviewer (A3 consent)
    "sibling": ("B", ("reviewer",)),  # a reviewer of a sibling organisation
    "child": ("V", ("reviewer",)),  # a reviewer of a child organisation
}


@dataclass(frozen=True)
class WebUser:
    """A test account: its username is its role name in ``ROLES``."""

    username: str
    password: str
    token: str
    org: str
    roles: tuple[str, ...]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self)


def bearer(user: WebUser | str) -> dict[str, str]:
    token = user.token if isinstance(user, WebUser) else user
    return {"Authorization": f"Bearer {token}"}


def officer(tree, org: str, role: str = "handler") -> Actor:
    """An engine actor holding ``role`` at ``org`` (no account): for walking a case."""
    return user(f"{role}-{org}", {(tree[org], role)})


def login(client, user: WebUser) -> None:
    """Sign ``client`` in through the login form (CSRF must be disabled)."""
    response = client.post("/login", data={"username": user.username,
                                           "password": user.password})
    assert response.status_code == 302, response.get_data(as_text=True)


def make_user(engine, username: str, org: str, roles: tuple[str, ...] | list[str],
              password: str = PASSWORD) -> WebUser:
    """An account with a password and a fresh API token."""
    with engine.db.write() as conn:
        accounts.add_user(conn, username, org, list(roles), password=password)
        token = accounts.new_token(conn, username)
    return WebUser(username, password, token, org, tuple(roles))


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Extra configuration for ``app``; override in a test module to change it."""
    return {}


@pytest.fixture
def app(engine, app_config):
    return create_app({"ENGINE": engine, "SECRET_KEY": "test", "TESTING": True,
                       **app_config})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def users(engine, tree) -> dict[str, WebUser]:
    """One account per entry of ``ROLES``, by name."""
    return {name: make_user(engine, name, org, roles) for name, (org, roles) in ROLES.items()}
