"""Every page without a path argument, asked with hostile query strings by an officer and
by an auditor, answers below 500: the HTML pages' counterpart of the API's schemathesis
run (a time at the calendar's edge in a cursor or a filter was a 500 until 16c0336)."""

from __future__ import annotations

import itertools

import pytest

from machines import definitions
from tests.web.conftest import login
from workflow.core.registry import Registry

#: a day and a time at the calendar's edges, past 64 bits, a NUL (long texts and formulas
#: have tests of their own: test_hardening.py)
VALUES = ("9999-12-31", "0001-01-01T00:00:00+14:00", "99999999999999999999", "a\x00b")
#: the query parameters the pages read
PARAMS = ("since", "until", "as_of", "from", "to", "year", "org", "kind", "state", "q",
          "sort", "after", "before", "limit", "view", "next")


@pytest.fixture
def registry() -> Registry:
    return Registry(definitions())


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


@pytest.mark.slow
def test_no_page_answers_500_to_a_hostile_query(app, client, users):
    rules = sorted(r.rule for r in app.url_map.iter_rules()
                   if "GET" in r.methods and not r.arguments and not r.rule.startswith("/static"))
    assert "/inbox" in rules and "/audit/" in rules
    failed = []
    for who in ("handler", "auditor"):
        login(client, users[who])
        for rule, name, value in itertools.product(rules, PARAMS, VALUES):
            response = client.get(rule, query_string={name: value})
            response.close()
            if response.status_code >= 500:
                failed.append((who, rule, name, value[:20], response.status_code))
    assert not failed
