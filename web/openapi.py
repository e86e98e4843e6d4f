"""The API's OpenAPI 3.1 document, generated from the code and never kept by hand.

Every API view is declared through :meth:`Routes.route`. The decorator registers the
Flask rule *and* records what the document needs (method, path, summary, parameters,
request and response schemas, error codes, whether a token is required), so a view
cannot exist without being documented, nor be documented without existing.
:func:`document` turns those records, the named schemas of the API module and every
registered process's payload schemas (``Schema.json_schema()``) into the document;
the JSON route and the HTML docs page both serve that one dictionary.

Texts may be bilingual :class:`workflow.base.text.Text`; the document is built in one
language (Chinese unless English is asked for).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask

from workflow.base.text import Text
from workflow.core.registry import Compiled, Registry

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
HTML = "text/html"

# The one error shape (DESIGN.md, Conventions): code -> HTTP status and what it means.
ERRORS: dict[str, tuple[int, Text]] = {
    "unauthenticated": (401, Text("缺少、无效或已吊销的访问令牌",
                                  "Missing, invalid or revoked access token")),
    "forbidden": (403, Text("您的角色不能执行此操作", "Your role may not take this action")),
    "not_found": (404, Text("不存在，或不在您的组织范围内",
                            "Does not exist, or is outside your organisations")),
    "invalid": (422, Text("请求有误：`fields` 按字段说明", "Invalid request: `fields` says why")),
    "stale_version": (409, Text("`expected_version` 已过时：事项已被他人更新",
                                "`expected_version` is stale: someone changed the case")),
    "not_allowed": (409, Text("当前状态下不能执行，`message` 说明原因",
                              "Not possible now; `message` gives the reason")),
    "rate_limited": (429, Text("请求过于频繁", "Too many requests")),
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "description": Text("所有错误的统一格式；`message` 与 `fields` 使用 Accept-Language 指定的语言"
                        "（默认中文）",
                        "Every error has this shape; `message` and `fields` are in the "
                        "language of Accept-Language (Chinese by default)"),
    "required": ["error", "message", "fields"],
    "properties": {
        "error": {"type": "string", "enum": list(ERRORS),
                  "description": Text("错误代码", "Error code")},
        "message": {"type": "string", "description": Text("说明", "Human-readable message")},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": Text("字段名 → 该字段的错误", "Field name -> its error")},
    },
}

_RULE_PART = re.compile(r"<(?:(?P<conv>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def openapi_path(rule: str) -> str:
    """``/api/v1/cases/<int:case_id>`` -> ``/api/v1/cases/{case_id}``."""
    return _RULE_PART.sub(lambda m: "{" + m["name"] + "}", rule)


def _path_params(rule: str) -> list[tuple[str, str]]:
    return [(m["name"], m["conv"] or "string") for m in _RULE_PART.finditer(rule)]


@dataclass(frozen=True)
class Param:
    """A query (or header) parameter of an operation."""

    name: str
    schema: Mapping[str, Any]
    description: Text
    required: bool = False
    where: str = "query"


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # the Flask rule, prefix included
    endpoint: str
    summary: Text
    description: Text | None
    tag: str
    params: tuple[Param, ...]
    body: str | None  # a schema name in components
    status: int
    response: str | None  # a schema name in components; None for a non-JSON response
    media: str
    errors: tuple[str, ...]
    auth: bool

    @property
    def path(self) -> str:
        return openapi_path(self.rule)


@dataclass
class Routes:
    """Declares API views on a blueprint and remembers them for the document.

    ``guard`` wraps every view declared with ``auth=True`` (the bearer-token check), so
    the document's security requirement is the code's, not a comment's. ``schemas`` are
    named schemas the declared views refer to (added to the document's components).

    Another blueprint that serves paths under /api/v1 declares its views with its own
    ``Routes`` and calls :func:`register` for the app, so the document covers it too.
    """

    bp: Blueprint
    guard: Callable[[Callable[..., Any]], Callable[..., Any]]
    path_docs: Mapping[str, tuple[Text, Mapping[str, Any]]] = field(default_factory=dict)
    schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    operations: list[Operation] = field(default_factory=list)

    def route(self, rule: str, method: str = "GET", *, summary: Text,
              description: Text | None = None, tag: str = "cases",
              params: Iterable[Param] = (), body: str | None = None, status: int = 200,
              response: str | None = None, media: str = JSON, errors: Iterable[str] = (),
              auth: bool = True, endpoint: str | None = None):
        """Register ``view`` for ``method rule`` on the blueprint and document it.

        ``body`` and ``response`` name schemas in the document's components; ``errors``
        are the error codes (``ERRORS``) it may answer besides 401 (added when ``auth``)
        and 429 (always). ``endpoint`` defaults to the view's name.
        """

        def declare(view: Callable[..., Any]) -> Callable[..., Any]:
            name = endpoint or view.__name__
            codes = tuple(errors)
            unknown = set(codes) - set(ERRORS)
            if unknown:
                raise ValueError(f"{name}: unknown error codes {sorted(unknown)}")
            if auth and "unauthenticated" not in codes:
                codes = ("unauthenticated", *codes)
            self.operations.append(Operation(
                method=method.upper(), rule=(self.bp.url_prefix or "") + rule,
                endpoint=f"{self.bp.name}.{name}", summary=summary,
                description=description, tag=tag, params=tuple(params), body=body,
                status=status, response=response, media=media, errors=codes, auth=auth))
            self.bp.add_url_rule(rule, name, self.guard(view) if auth else view,
                                 methods=[method.upper()])
            return view

        return declare


EXTENSION = "gongkai.openapi"


def register(app: Flask, routes: Routes) -> None:
    """Include ``routes`` in ``app``'s API document (once per app)."""
    found = app.extensions.setdefault(EXTENSION, [])
    if not any(known is routes for known in found):
        found.append(routes)


def registered(app: Flask) -> list[Routes]:
    return list(app.extensions.get(EXTENSION, []))


def payload_component(kind: str, version: int, trigger: str) -> str:
    """The component name of a payload schema; ``trigger`` is ``start`` for a new case."""
    return f"{kind}.v{version}.{trigger}"


def payload_schemas(registry: Registry) -> dict[str, dict[str, Any]]:
    """Every version's start and trigger payload schemas, by component name."""
    found: dict[str, dict[str, Any]] = {}
    for compiled in registry.all():
        process = compiled.process
        found[payload_component(compiled.kind, compiled.version, "start")] = (
            process.start_schema.json_schema()
            | {"title": f"{process.label.zh} · 立案", "description":
               f"{process.label.en} · start (version {compiled.version})"})
        for name in trigger_names(compiled):
            arrow = compiled.first(name)
            found[payload_component(compiled.kind, compiled.version, name)] = (
                arrow.schema.json_schema()
                | {"title": f"{process.label.zh} · {arrow.label.zh}",
                   "description": f"{process.label.en} · {arrow.label.en} "
                                  f"(version {compiled.version})"})
    return found


def trigger_names(compiled: Compiled) -> list[str]:
    """Trigger names in declaration order (the engine's ``remind`` last)."""
    return list(dict.fromkeys(name for (_, name) in compiled.arrows))


def localise(value: Any, lang: str) -> Any:
    """Replace every bilingual Text inside ``value`` by its text in ``lang``."""
    if isinstance(value, Text):
        return value.get(lang)
    if isinstance(value, Mapping):
        return {k: localise(v, lang) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [localise(v, lang) for v in value]
    return value


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _param(name: str, where: str, schema: Mapping[str, Any], description: Any,
           required: bool) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description,
            "schema": dict(schema)}


def _operation(op: Operation, routes: Routes) -> dict[str, Any]:
    params = []
    for name, conv in _path_params(op.rule):
        text, schema = routes.path_docs.get(name, (Text(name, name), {}))
        base = {"type": "integer"} if conv == "int" else {"type": "string"}
        params.append(_param(name, "path", base | dict(schema), text, True))
    params += [_param(p.name, p.where, p.schema, p.description, p.required) for p in op.params]
    if op.response is None:
        content = {op.media: {"schema": {"type": "string" if op.media == HTML else "object"}}}
    else:
        content = {op.media: {"schema": _ref(op.response)}}
    responses: dict[str, Any] = {
        str(op.status): {"description": Text("成功", "Success"), "content": content}}
    by_status: dict[int, list[str]] = {}
    for code in (*op.errors, "rate_limited"):
        by_status.setdefault(ERRORS[code][0], []).append(code)
    for status, codes in sorted(by_status.items()):
        responses[str(status)] = {
            "description": Text("；".join(f"{c}：{ERRORS[c][1].zh}" for c in codes),
                                "; ".join(f"{c}: {ERRORS[c][1].en}" for c in codes)),
            "content": {JSON: {"schema": _ref("Error"), "examples": {
                c: {"value": {"error": c, "message": ERRORS[c][1], "fields": {}}}
                for c in codes}}},
            "x-error-codes": codes,
        }
    doc: dict[str, Any] = {
        "operationId": op.endpoint.replace(".", "_"),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": params,
        "responses": responses,
    }
    if op.description is not None:
        doc["description"] = op.description
    if op.body is not None:
        doc["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(op.body)}}}
    if not op.auth:
        doc["security"] = []
    return doc


TAGS = {
    "processes": Text("流程定义", "Process definitions"),
    "cases": Text("事项", "Cases"),
    "docs": Text("接口文档", "API documentation"),
}

INFO = {
    "title": Text("党务公开工作平台 JSON 接口", "gongkai JSON API"),
    "version": "1",
    "description": Text(
        "与网页相同的办理入口：每个请求都经过流程引擎的同一道门（范围 → 角色 → 版本 → 状态 → "
        "内容 → 条件）。使用 `Authorization: Bearer <令牌>` 认证（令牌由管理员签发，"
        "不接受会话 Cookie）。错误统一为 `Error` 格式，语言取自 Accept-Language（默认中文）。"
        "超出您组织范围的事项一律返回 404。",
        "The same door as the web pages: every request goes through the engine's one door "
        "(scope → role → version → state → payload → guards). Authenticate with "
        "`Authorization: Bearer <token>` (issued by an administrator; session cookies are "
        "not accepted). Errors share the `Error` shape, in the language of Accept-Language "
        "(Chinese by default). A case outside your organisations is always 404."),
}


def document(routes: Iterable[Routes], schemas: Mapping[str, Mapping[str, Any]],
             registry: Registry, lang: str = "zh") -> dict[str, Any]:
    """The OpenAPI 3.1 document for every operation of ``routes``, in ``lang``.

    ``schemas`` are the API's named schemas; they may call for the process payload
    schemas by ``$ref`` to names from :func:`payload_component`, which are added here.
    """
    routes = list(routes)
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {"Error": ERROR_SCHEMA, **schemas}
    for group in routes:
        components.update(group.schemas)
        for op in group.operations:
            paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, group)
    components.update(payload_schemas(registry))
    tags = {op.tag for group in routes for op in group.operations}
    doc = {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": INFO,
        "tags": [{"name": t, "description": TAGS.get(t, t)} for t in [
            *[t for t in TAGS if t in tags], *sorted(tags - set(TAGS))]],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": Text("管理员签发的访问令牌（gk_…）",
                                    "An access token issued by an administrator (gk_…)")}},
        },
        "security": [{"bearer": []}],
    }
    return localise(doc, lang)
