"""The OpenAPI document is generated from the code and matches it (and the docs page)."""

from __future__ import annotations

import re

import pytest

from web.openapi import ERRORS, openapi_path, payload_component, trigger_names

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def doc(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def api_rules(app) -> set[tuple[str, str]]:
    return {(openapi_path(rule.rule), method.lower())
            for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def documented(doc) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item
            if method in METHODS}


def test_document_looks_like_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["paths"] and doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"]}
    assert doc["security"] == [{"bearer": []}]
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for path, item in doc["paths"].items():
        assert path.startswith("/api/v1/")
        for op in item.values():
            assert op["summary"] and op["responses"]
            for status in op["responses"]:
                assert re.fullmatch(r"[1-5]\d\d", status)
            # every {name} in the path is a declared path parameter, and back
            in_path = set(re.findall(r"{(\w+)}", path))
            assert {p["name"] for p in op["parameters"] if p["in"] == "path"} == in_path


def test_every_flask_rule_is_documented_and_back(app, doc):
    rules = api_rules(app)
    assert rules == documented(doc)
    assert ("/api/v1/cases/{case_id}/actions/{trigger}", "post") in rules


def test_every_reference_resolves(doc):
    schemas = doc["components"]["schemas"]

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref is not None:
                assert ref.startswith("#/components/schemas/")
                assert ref.rsplit("/", 1)[1] in schemas, ref
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


def test_errors_are_one_component(doc):
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message", "fields"]
    assert set(error["properties"]["error"]["enum"]) == set(ERRORS)
    ops = [op for item in doc["paths"].values() for op in item.values()]
    for op in ops:
        for status, response in op["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}
                codes = response["x-error-codes"]
                assert len(codes) == len(set(codes))
                for code in codes:
                    assert ERRORS[code][0] == int(status)
        # a NUL byte in any query string or form is refused (web.views.refuse_nul)
        assert "invalid" in op["responses"]["422"]["x-error-codes"]
    fire = doc["paths"]["/api/v1/cases/{case_id}/actions/{trigger}"]["post"]
    assert set(fire["responses"]) == {"200", "401", "403", "404", "409", "413", "422", "429",
                                      "503"}
    assert set(fire["responses"]["409"]["x-error-codes"]) == {"stale_version", "not_allowed"}
    # token-free operations say so; the rest need the bearer token (and may answer 401)
    for op in ops:
        if op.get("security") == []:
            assert "401" not in op["responses"]
        else:
            assert "401" in op["responses"]


def test_payload_schemas_of_every_process_are_components(doc, engine):
    schemas = doc["components"]["schemas"]
    for compiled in engine.registry.all():
        start = schemas[payload_component(compiled.kind, compiled.version, "start")]
        expected = compiled.process.start_schema.json_schema()
        assert {k: start[k] for k in expected} == expected
        for name in trigger_names(compiled):
            schema = schemas[payload_component(compiled.kind, compiled.version, name)]
            expected = compiled.first(name).schema.json_schema()
            assert {k: schema[k] for k in expected} == expected
    submit = schemas["sample.v1.submit"]
    assert submit["properties"]["amount"]["type"] == "integer"
    assert submit["required"] == ["amount"]
    changes = schemas["FireChange"]["properties"]["payload"]["anyOf"]
    assert {"$ref": "#/components/schemas/sample.v1.submit"} in changes


def test_document_language_follows_accept_language(client):
    zh = client.get("/api/v1/openapi.json").get_json()
    en = client.get("/api/v1/openapi.json", headers={"Accept-Language": "en"}).get_json()
    assert zh["paths"]["/api/v1/cases"]["post"]["summary"] == "立案"
    assert en["paths"]["/api/v1/cases"]["post"]["summary"] == "Start a case"


def test_document_needs_no_token(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_docs_page_renders_the_document(client, doc):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    scripts = html.split("<script")[1:]
    assert [s.split(">")[0] for s in scripts] == [' src="/static/shell.js" defer'], (
        "no script but the shell's own (the phone menu), nothing from elsewhere")
    assert "cdn" not in html.lower()
    assert "接口文档" in html
    for path, item in doc["paths"].items():
        assert path in html
        for method, op in item.items():
            assert f'id="op-{op["operationId"]}"' in html
            heading = f'<span class="method {method}">{method.upper()}</span> <code>{path}</code>'
            assert heading in html
            for param in op["parameters"]:
                assert f"<code>{param['name']}</code>" in html
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    # request bodies and responses are shown with their schemas
    assert "请求体" in html and "响应" in html and 'href="#schema-Case"' in html
    assert "<code>expected_version</code>" in html and "<code>amount</code>" in html


def test_rule_to_path_and_declaring_unknown_errors():
    from flask import Blueprint

    from web.openapi import Routes

    assert openapi_path("/api/v1/cases/<int:case_id>/actions/<trigger>") == (
        "/api/v1/cases/{case_id}/actions/{trigger}")
    assert openapi_path("/x/<any(a, b):part>/<path:rest>") == "/x/{part}/{rest}"
    routes = Routes(Blueprint("t", __name__, url_prefix="/t"), guard=lambda view: view)
    with pytest.raises(ValueError, match="teapot"):
        routes.route("/x", summary=None, errors=("teapot",))(lambda: "")
    assert routes.operations == []


def test_another_blueprint_joins_the_document_and_a_rogue_rule_is_caught(engine):
    from flask import Blueprint

    from web import create_app
    from web.openapi import Routes, register
    from workflow.base.text import Text

    app = create_app({"ENGINE": engine, "SECRET_KEY": "test", "TESTING": True})
    extra = Blueprint("extra", __name__, url_prefix="/api/v1")
    extra_routes = Routes(extra, guard=lambda view: view, schemas={"Thing": {
        "type": "object", "properties": {"code": {"type": "string"}}}})

    @extra_routes.route("/things/<code>", summary=Text("东西", "A thing"), tag="things",
                        response="Thing", errors=("not_found",), auth=False)
    def thing(code):
        return {"code": code}

    app.register_blueprint(extra)
    register(app, extra_routes)
    app.add_url_rule("/api/v1/rogue", "rogue", lambda: {})  # declared by no Routes
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert api_rules(app) - documented(doc) == {("/api/v1/rogue", "get")}
    assert documented(doc) <= api_rules(app)
    op = doc["paths"]["/api/v1/things/{code}"]["get"]
    assert op["summary"] == "东西" and set(op["responses"]) == {"200", "404", "422", "429",
                                                            "503"}
    assert "Thing" in doc["components"]["schemas"]
    assert {"name": "things", "description": "things"} in doc["tags"]
