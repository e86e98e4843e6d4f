"""The real processes on a small organisation tree, with the people who work them."""

from __future__ import annotations

import pytest

from machines import definitions
from workflow.core.registry import Registry
from workflow.people.actors import user
from workflow.people.orgs import add_org


@pytest.fixture
def registry() -> Registry:
    return Registry(definitions())


@pytest.fixture
def tree(engine) -> dict[str, str]:
    """County C → town T → village V; code -> path."""
    with engine.db.write() as conn:
        return {code: add_org(conn, code, f"组织{code}", parent, kind)["path"]
                for code, parent, kind in (("C", None, "county_committee"), ("T", "C", "town"),
                                           ("V", "T", "village"))}


@pytest.fixture
def people(tree):
    return {
        "office": user("ban", {(tree["T"], "office")}),
        "handler": user("hu", {(tree["T"], "handler")}),
        "reviewer": user("li", {(tree["T"], "reviewer")}),
        "upper": user("wang", {(tree["C"], "reviewer")}),
        "receiver": user("zhou", {(tree["C"], "upper_receiver")}),
        "root_handler": user("chen", {(tree["C"], "handler")}),
        "root_reviewer": user("liu", {(tree["C"], "reviewer")}),
    }
