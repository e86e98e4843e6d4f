"""The API answers as its OpenAPI document says (issue 20): schemathesis, in-process.

schemathesis reads ``/api/v1/openapi.json`` from the Flask app (WSGI, no network) and
runs its phases (the document's examples, coverage of each schema's edges, then
random data) against every operation, with four checks: no 5xx, only documented status
codes, bodies that match the documented schema, only documented media types. The app
holds the demo data (``workflow/demo.py``, the real processes), so small ids reach real
cases, attachments and events. It runs three times: with an officer's bearer token, with
an auditor's (the audit desk), and with none; rate limits are off, the seed is fixed and
the generation deterministic, so a failure here fails the same way on the next run.

Each caller gets every phase on the operations whose body it reaches, and a light pass
(the document's examples and two random cases) on the others: those answer 401 or 403
before they read a thing, so fuzzing them again for each caller found nothing and cost
two thirds of the test's time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from web import create_app
from web.extensions import limiter
from workflow import demo
from workflow.people import accounts
from workflow.service import build
from workflow.store import migrate

pytestmark = pytest.mark.slow

CHECKS = ("not_a_server_error", "status_code_conformance", "response_schema_conformance",
          "content_type_conformance")
#: examples per operation and phase for the operations a caller reaches
EXAMPLES = 15
SEED = 20


@pytest.fixture
def demo_app(db_url: str) -> Iterator[Flask]:
    """The app over a migrated database with the real processes and the demo data."""
    engine = build(db_url)
    migrate.upgrade(engine.db)
    engine.record_definitions()
    demo.load(engine)
    # Flask-Limiter keeps RATELIMIT_ENABLED on the one shared Limiter: put it back after.
    limiting = limiter.enabled
    try:
        yield create_app({"ENGINE": engine, "SECRET_KEY": "schemathesis",
                          "RATELIMIT_ENABLED": False})
    finally:
        limiter.enabled = limiting
        engine.db.dispose()


#: the light pass over the operations a caller is turned away from
LIGHT = {"coverage": {"enabled": False}}
LIGHT_EXAMPLES = 2


def reaches(who: str | None, operation: dict) -> bool:
    """Whether ``who`` gets past the operation's door: the public where no token is
    needed, an officer where one is taken (all but the audit desk), an auditor at the desk."""
    security = operation.get("security")
    if who is None:
        return security is not None and (security == [] or {} in security)
    return security != [] and ("audit" in operation["tags"]) == (who == "auditor")


def config(token: str | None, light: bool) -> SchemathesisConfig:
    settings = {
        "seed": SEED,
        "workers": 1,
        "continue-on-failure": True,
        "generation": {"max-examples": LIGHT_EXAMPLES if light else EXAMPLES,
                       "deterministic": True},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    }
    if light:
        settings["phases"] = LIGHT
    if token:
        settings["headers"] = {"Authorization": f"Bearer {token}"}
    return SchemathesisConfig.from_dict(settings)


def run(app: Flask, who: str | None, token: str | None
        ) -> tuple[list[str], set[str], set[str], set[str]]:
    """Every failure (operation, check, what and how to reproduce it), the operations
    tested, every operation in the document and those given every phase."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    reached = {f"{method.upper()} {path}" for path, item in document["paths"].items()
               for method, operation in item.items() if reaches(who, operation)}
    failures: list[str] = []
    tested: set[str] = set()
    operations: set[str] = set()
    fuzzed: set[str] = set()
    for light in (False, True):
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app,
                                                config=config(token, light))
        schema = schema.include(lambda ctx, light=light: (ctx.operation.label in reached) != light)
        labels = {result.ok().label for result in schema.get_all_operations()}
        operations |= labels
        if not light:
            fuzzed = labels
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished) and event.label:
                if event.status is not Status.SKIP and event.recorder.interactions:
                    tested.add(event.label)
                for checks in event.recorder.checks.values():
                    failures += [f"{event.label}: {check.name}: {check.failure_info.failure}\n"
                                 f"{check.failure_info.code_sample}"
                                 for check in checks if check.status is Status.FAILURE
                                 and check.failure_info is not None]
            elif isinstance(event, events.NonFatalError | events.FatalError):
                failures.append(f"{getattr(event, 'label', '')}: {event.info.error!r}")
    return list(dict.fromkeys(failures)), tested, operations, fuzzed


@pytest.mark.parametrize("who", ["qs-handler", "auditor", None])
def test_the_api_answers_as_its_document_says(demo_app, who):
    token = None
    if who:
        with demo_app.extensions["gongkai"].db.write() as conn:
            token = accounts.new_token(conn, who)
    failures, tested, operations, fuzzed = run(demo_app, who, token)
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:20])
    assert tested == operations
    assert fuzzed, "every caller gets every phase on the operations it reaches"
