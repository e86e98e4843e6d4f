"""The OpenAPI document tells the truth (issue 20, item 10): what it allows the server
takes, what the server refuses it does not allow, and every answer is one it lists. Each
test failed on the code before its fix; tests/web/test_schemathesis.py fuzzes the rest."""

from __future__ import annotations

from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from referencing import Registry as Refs
from referencing import Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.generation.modes import GenerationMode

from machines import definitions
from machines.common import CHANNELS, CHANNELS_FIELD, RELEASE
from tests.web.conftest import make_user
from web import create_app
from web.openapi import payload_component, trigger_names
from workflow.core.attachments import MEDIA_TYPES
from workflow.core.engine import Engine
from workflow.core.registry import Registry
from workflow.core.schema import MAX_SAFE_INT, Field, FieldError, Schema

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").get_json()


def validator(doc: dict, name: str) -> Draft202012Validator:
    """A validator for the document's component ``name`` (its references resolved)."""
    refs = Refs().with_resource("urn:doc", Resource.from_contents(
        doc, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"urn:doc#/components/schemas/{name}"},
                                registry=refs)


def operations(doc: dict):
    return [(path, method, op) for path, item in doc["paths"].items()
            for method, op in item.items() if method in METHODS]


def test_no_request_body_admits_keys_the_server_refuses(doc):
    schemas, seen = doc["components"]["schemas"], set()

    def walk(node):
        if isinstance(node, dict):
            assert node.get("additionalProperties") is not True
            ref = node.get("$ref", "").rsplit("/", 1)[-1]
            if ref and ref not in seen:
                seen.add(ref)
                walk(schemas[ref])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([op["requestBody"] for _path, _method, op in operations(doc) if "requestBody" in op])
    assert {"StartCase", "FireChange", "Assign", "sample.v1.submit"} <= seen
    # a form that takes more keys (A1) says which names and values
    real = Registry(definitions())
    extra = real.get("application").process.start_schema
    assert extra.extra
    schema = extra.json_schema()
    check = Draft202012Validator(schema)
    body = {"name": "张三", "description": "请公开", "delivery": "electronic",
            "phone": "010-12345678"}
    assert check.is_valid(body | {"org": "T"}) and not extra.validate(body | {"org": "T"})[1]
    for key, value in (("bad key", "x"), ("x", {"bad key": 1}), ("x", 1.5)):
        assert not check.is_valid(body | {key: value}) and extra.validate(body | {key: value})[1]


def test_expected_version_is_required_where_the_engine_requires_it(doc, engine):
    schemas = doc["components"]["schemas"]
    assert schemas["FireChange"]["required"] == ["expected_version"]
    assert schemas["FireAppendOnly"]["required"] == []
    assert {"$ref": "#/components/schemas/FireChange"} in schemas["FireAction"]["anyOf"]
    for compiled in engine.registry.all():
        for name in trigger_names(compiled):
            group = "FireAppendOnly" if compiled.first(name).append_only else "FireChange"
            ref = {"$ref": "#/components/schemas/"
                           + payload_component(compiled.kind, compiled.version, name)}
            assert ref in schemas[group]["properties"]["payload"]["anyOf"]
    change = validator(doc, "FireChange")
    assert not change.is_valid({"payload": {"amount": 5}})
    assert change.is_valid({"payload": {"amount": 5}, "expected_version": 1})


def test_channels_are_a_non_empty_list_of_known_values():
    schema = CHANNELS_FIELD.json_schema()
    assert schema["minItems"] == 1 and schema["items"]["enum"] == list(CHANNELS)
    assert RELEASE.validate({"channels": ["board", " website "]}) == (
        {"channels": ["board", "website"]}, {})
    for refused in ([], ["nowhere"], ["board", "nowhere"]):
        assert RELEASE.validate({"channels": refused})[1]
        assert not Draft202012Validator(schema).is_valid(refused)
    routine = Registry(definitions()).get("routine").process.start_schema.json_schema()
    assert routine["properties"]["channels"]["items"]["enum"] == list(CHANNELS)


@pytest.mark.parametrize(("field", "value"), [
    (Field("t", "str"), "   "), (Field("t", "str"), "a\x00b"),
    (Field("t", "str", max_length=3), "abcd"),
    (Field("t", "text", required=False), "\x00"),
    (Field("n", "int"), MAX_SAFE_INT + 1), (Field("n", "int", min=1, max=5), 6),
    (Field("l", "list"), []), (Field("l", "list"), [" "]),
    (Field("f", "file"), []), (Field("f", "file", required=False), [0]),
    (Field("e", "email"), "a b@c.d"), (Field("e", "email"), "x@y"),
    (Field("p", "phone"), "1     "), (Field("p", "phone"), "12"),
    (Field("c", "choice", choices={"a": None}), "b"),
])
def test_what_a_field_refuses_its_schema_does_not_allow(field, value):
    with pytest.raises(FieldError):
        if value is None or (isinstance(value, str) and not value.strip()):
            raise FieldError(Schema((field,)).validate({field.name: value})[1][field.name])
        field.clean(value)
    assert not Draft202012Validator(field.json_schema()).is_valid(value)


@pytest.mark.parametrize(("field", "value"), [
    (Field("t", "str"), "x"), (Field("t", "text", required=False), ""),
    (Field("n", "int"), -MAX_SAFE_INT), (Field("n", "int"), 3.0), (Field("l", "list"), ["a"]),
    (Field("f", "file"), [1, MAX_SAFE_INT]), (Field("f", "file"), [2.0]),
    (Field("e", "email"), "a.b@c.cn"),
    (Field("p", "phone"), "+86 10-1234 5678"), (Field("p", "phone"), "0571-8888888-"),
])
def test_what_a_field_schema_allows_the_field_takes(field, value):
    assert Draft202012Validator(field.json_schema()).is_valid(value)
    field.clean(value)


def test_every_operation_lists_429_and_503_with_retry_after_and_413_with_a_body(doc):
    for path, method, op in operations(doc):
        for status in ("429", "503"):
            assert op["responses"][status]["headers"]["Retry-After"]["schema"]["type"] == (
                "integer"), (path, method)
        assert ("413" in op["responses"]) == ("requestBody" in op), (path, method)
    assert {"rate_limited", "unavailable", "too_large"} <= set(
        doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"])


def test_claiming_lists_its_403(doc, client, users):
    assign = doc["paths"]["/api/v1/cases/{case_id}/assign"]["post"]
    assert assign["responses"]["403"]["x-error-codes"] == ["forbidden"]


def test_a_download_lists_every_media_type_it_may_send(doc):
    download = doc["paths"]["/api/v1/attachments/{attachment_id}"]["get"]
    assert set(download["responses"]["200"]["content"]) >= set(MEDIA_TYPES.values())


def test_the_audit_history_matches_its_schema(client, users, doc):
    started = client.post("/api/v1/cases", headers=users["handler"].headers, json={
        "kind": "sample", "org": "T", "payload": {"title": "修缮村部"}})
    assert started.status_code == 201
    found = client.get(f"/api/v1/audit/cases/{started.get_json()['id']}",
                       headers=users["auditor"].headers)
    assert found.status_code == 200 and found.get_json()["events"]
    errors = [e.message for e in validator(doc, "AuditCase").iter_errors(found.get_json())]
    assert errors == []
    log = client.get("/api/v1/audit/events", headers=users["auditor"].headers)
    assert validator(doc, "AuditEventPage").is_valid(log.get_json())


@pytest.mark.parametrize("limit", ["²", "٣", "0", "x"])
def test_an_odd_page_size_is_a_field_error(client, users, limit):
    for path in ("/api/v1/audit/events", "/api/v1/cases"):
        response = client.get(path, query_string={"limit": limit},
                              headers=users["auditor"].headers)
        if limit == "٣":  # an Arabic-Indic three is a number
            assert response.status_code == 200
        else:
            assert response.status_code == 422 and "limit" in response.get_json()["fields"]


def test_start_case_ties_the_payload_to_its_kind(doc):
    check = validator(doc, "StartCase")
    assert check.is_valid({"kind": "sample", "org": "T", "payload": {"title": "x"}})
    assert not check.is_valid({"kind": "sample", "org": "", "payload": {"title": "x"}})
    assert not check.is_valid({"kind": "sample", "org": "T", "payload": {"other": 1}})
    assert not check.is_valid({"kind": "nope", "org": "T"})


def test_start_case_takes_what_its_schema_allows(db, tree):
    """Bodies generated from the document (every real process, the organisation fixed to
    the caller's) are taken (201), refused for the caller's role (403), by a check that
    relates two fields (422; JSON Schema does not say those) or, for a process with one
    case per organisation and start values (``one_per``: the annual report's year), as a
    second (409), never for a field's shape: before, nine in ten were (kind and payload of
    different processes, unknown channels, blank text)."""
    engine = Engine(db, Registry(definitions()))
    engine.record_definitions()
    officer = make_user(engine, "officer", "T", ["handler", "office", "member", "secretary"])
    app = create_app({"ENGINE": engine, "SECRET_KEY": "test", "RATELIMIT_ENABLED": False})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    start = schema["/api/v1/cases"]["POST"]

    @given(case=start.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=40, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def taken(case):
        case.body["org"] = "T"
        response = case.call(headers=officer.headers)
        process = engine.registry.get(case.body["kind"]).process
        fields_only = replace(process.start_schema, checks=())
        assert fields_only.validate(case.body.get("payload"))[1] == {}, case.body
        refusals = (403, 422, 409) if process.one_per else (403, 422)
        assert response.status_code in (201, *refusals), (case.body, response.json())

    taken()
