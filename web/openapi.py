"""The API's OpenAPI 3.1 document, generated from the code and never kept by hand.

Every API view is declared through :meth:`Routes.route`. The decorator registers the
Flask rule *and* records what the document needs (method, path, summary, parameters,
request and response schemas, error codes, whether a token is required), so a view
cannot exist without being documented, nor be documented without existing.
:func:`document` turns those records, the named schemas (:func:`api_schemas` for
web/api.py, ``AUDIT_SCHEMAS`` for the audit desk's routes, both at the end of this
module, built from the same few helpers) and every registered process's payload schemas
(``Schema.json_schema()``) into the document; the JSON route and the HTML docs page
both serve that one dictionary.

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
MULTIPART = "multipart/form-data"
BINARY = "application/octet-stream"
#: ``Routes.route(auth=OPTIONAL)``: a bearer token is checked when sent, else none is needed
OPTIONAL = "optional"

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
    "too_large": (413, Text("请求体超过服务器允许的大小（上传的文件过大）",
                            "The request body is larger than the server accepts (the upload "
                            "is too large)")),
    "rate_limited": (429, Text("请求过于频繁，`Retry-After` 为需等待的秒数（若给出）",
                               "Too many requests; `Retry-After` gives the seconds to wait "
                               "(when sent)")),
    "unavailable": (503, Text("数据库繁忙，未保存任何内容；按 `Retry-After` 秒后重试",
                              "The database is busy and nothing was saved; retry after "
                              "`Retry-After` seconds")),
}
#: what every operation may answer, whatever it declares: ``invalid`` because every
#: request with a NUL byte in its query string or form is refused (web.views.refuse_nul)
ALWAYS = ("invalid", "rate_limited", "unavailable")
#: the headers an error answer carries
RETRY_AFTER = {"Retry-After": {
    "description": Text("重试前需等待的秒数", "Seconds to wait before retrying"),
    "required": False, "schema": {"type": "integer", "minimum": 0}}}

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
    body_media: str
    status: int
    response: str | None  # a schema name in components; None for a non-JSON response
    media: str | tuple[str, ...]  # several: the response is one of them (a download)
    errors: tuple[str, ...]
    auth: bool | str  # True, False or OPTIONAL

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
              params: Iterable[Param] = (), body: str | None = None,
              body_media: str = JSON, status: int = 200, response: str | None = None,
              media: str | tuple[str, ...] = JSON, errors: Iterable[str] = (),
              auth: bool | str = True,
              endpoint: str | None = None):
        """Register ``view`` for ``method rule`` on the blueprint and document it.

        ``body`` and ``response`` name schemas in the document's components (``body_media``
        and ``media`` their media types); ``errors`` are the error codes (``ERRORS``) it
        may answer besides 401 (added when ``auth``), 413 (added with a ``body``: the
        server limits every body) and 429 and 503 (always). ``auth=OPTIONAL``:
        the view itself checks a token when one is sent (the guard is not applied).
        ``endpoint`` defaults to the view's name.
        """

        def declare(view: Callable[..., Any]) -> Callable[..., Any]:
            name = endpoint or view.__name__
            codes = tuple(errors)
            unknown = set(codes) - set(ERRORS)
            if unknown:
                raise ValueError(f"{name}: unknown error codes {sorted(unknown)}")
            if auth and "unauthenticated" not in codes:
                codes = ("unauthenticated", *codes)
            if body is not None and "too_large" not in codes:
                codes = (*codes, "too_large")
            self.operations.append(Operation(
                method=method.upper(), rule=(self.bp.url_prefix or "") + rule,
                endpoint=f"{self.bp.name}.{name}", summary=summary,
                description=description, tag=tag, params=tuple(params), body=body,
                body_media=body_media, status=status, response=response, media=media,
                errors=codes, auth=auth))
            self.bp.add_url_rule(rule, name, self.guard(view) if auth is True else view,
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
    medias = (op.media,) if isinstance(op.media, str) else op.media
    if op.response is None:
        content = {media: {"schema": {"type": "string" if media == HTML else "object"}
                           if media in (HTML, JSON) else {"type": "string", "format": "binary"}}
                   for media in medias}
    else:
        content = {media: {"schema": _ref(op.response)} for media in medias}
    responses: dict[str, Any] = {
        str(op.status): {"description": Text("成功", "Success"), "content": content}}
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys((*op.errors, *ALWAYS)):
        by_status.setdefault(ERRORS[code][0], []).append(code)
    for status, codes in sorted(by_status.items()):
        if status in (429, 503):
            responses[str(status)] = {"headers": RETRY_AFTER}
        responses.setdefault(str(status), {}).update({
            "description": Text("；".join(f"{c}：{ERRORS[c][1].zh}" for c in codes),
                                "; ".join(f"{c}: {ERRORS[c][1].en}" for c in codes)),
            "content": {JSON: {"schema": _ref("Error"), "examples": {
                c: {"value": {"error": c, "message": ERRORS[c][1], "fields": {}}}
                for c in codes}}},
            "x-error-codes": codes,
        })
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
        doc["requestBody"] = {"required": True,
                              "content": {op.body_media: {"schema": _ref(op.body)}}}
    if not op.auth:
        doc["security"] = []
    elif op.auth == OPTIONAL:
        doc["security"] = [{}, {"bearer": []}]
    return doc


TAGS = {
    "processes": Text("流程定义", "Process definitions"),
    "cases": Text("事项", "Cases"),
    "attachments": Text("附件", "Attachments"),
    "docs": Text("接口文档", "API documentation"),
    "stats": Text("统计（考核评价）", "Statistics (assessment)"),
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


# -- named schemas (the document's components) ---------------------------------------------

STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
OPT_STR = {"type": ["string", "null"]}
OPT_INT = {"type": ["integer", "null"]}
STAMP = {"type": "string", "format": "date-time"}
JSON_SCHEMA = {"type": "object", "description": Text("该操作内容的 JSON Schema",
                                                     "JSON Schema of the payload")}


def _obj(props: Mapping[str, Any], required: tuple[str, ...] | None = None,
         description: Text | None = None, extra: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": dict(props),
                              "required": list(props if required is None else required),
                              "additionalProperties": extra}
    if description:
        schema["description"] = description
    return schema


def _d(schema: Mapping[str, Any], zh: str, en: str) -> dict[str, Any]:
    return {**schema, "description": Text(zh, en)}


ACTION = _obj({
    "trigger": _d(STR, "操作名", "Trigger name"),
    "label": _d(STR, "操作名称", "Label"),
    "append_only": _d(BOOL, "只追加记录、不改变状态（无需 expected_version）",
                      "Records without changing state (no expected_version needed)"),
    "schema": JSON_SCHEMA,
}, description=Text("调用者此刻可执行的操作", "An action the caller may take now"))

CASE = _obj({
    "id": INT, "code": OPT_STR, "title": STR, "kind": STR, "kind_label": STR,
    "def_version": _d(INT, "流程定义版本", "Process definition version"),
    "org": _d(STR, "组织代码", "Organisation code"), "state": STR,
    "state_label": _d(STR, "状态名称（请求语言）", "State label (request language)"),
    "final": BOOL,
    "version": _d(INT, "版本：改变状态的操作须以 expected_version 带回",
                  "Version: send it back as expected_version"),
    "seq": _d(INT, "事件序号", "Event sequence number"),
    "data": _d({"type": "object"}, "事项数据（不含内部键 `_…`）",
               "Case data (internal `_…` keys left out)"),
    "due": _d({"type": ["string", "null"], "format": "date"}, "期限日", "Due day"),
    "due_at": _d({"type": ["string", "null"], "format": "date-time"}, "到期时刻（UTC）",
                 "Due moment (UTC)"),
    "due_provisional": _d(BOOL, "期限为暂定（该年度放假安排未发布）",
                          "Due date provisional (holiday calendar not yet published)"),
    "due_explain": _d(OPT_STR, "期限如何算出", "How the due date was reached"),
    "assignee": OPT_STR, "created_at": STAMP, "updated_at": STAMP,
    "actions": {"type": "array", "items": _ref("Action")},
})

CASE_SUMMARY = _obj({
    "id": INT, "code": OPT_STR, "title": STR, "kind": STR, "kind_label": STR, "org": STR,
    "org_name": STR, "state": STR, "state_label": STR, "final": BOOL, "version": INT,
    "due": {"type": ["string", "null"], "format": "date"},
    "due_at": {"type": ["string", "null"], "format": "date-time"}, "due_provisional": BOOL,
    "overdue": BOOL,
    "days_left": _d({"type": ["integer", "null"]}, "剩余工作日（逾期为负）",
                    "Working days left (negative when overdue)"),
    "assignee": OPT_STR, "updated_at": STAMP,
})

CASE_PAGE = _obj({
    "items": {"type": "array", "items": _ref("CaseSummary")},
    "next": _d(OPT_STR, "下一页的 `after` 值；没有下一页时为 null",
               "The `after` value of the next page; null on the last page"),
})

EVENT = _obj({
    "seq": INT, "at": _d(STR, "时间（UTC，ISO-8601，以 Z 结尾）", "Time (UTC ISO-8601, Z)"),
    "trigger": STR, "label": STR,
    "actor": _d(STR, "操作人（user:… / applicant:… / public:… / system）",
                "Actor (user:… / applicant:… / public:… / system)"),
    "from_state": OPT_STR, "to_state": STR,
    "payload": _d({"type": "object"}, "操作内容（不含内部键）", "Payload (internal keys left out)"),
    "hash": STR, "prev_hash": STR,
})

PROCESS = _obj({
    "kind": STR, "version": INT, "latest": _d(BOOL, "新事项使用的版本", "Used for new cases"),
    "label": STR, "initial": STR,
    "states": {"type": "array", "items": _obj({
        "name": STR, "label": STR, "final": BOOL,
        "role": _d(OPT_STR, "待办所在角色（upper:… 为上级组织）",
                   "Role whose inbox it is in (upper:… at the parent)")})},
    "start": _obj({"roles": {"type": "array", "items": STR}, "schema": JSON_SCHEMA,
                   "schema_ref": STR}),
    "triggers": {"type": "array", "items": _obj({
        "name": STR, "label": STR, "roles": {"type": "array", "items": STR},
        "from": {"type": "array", "items": STR},
        "to": _d({"type": "array", "items": OPT_STR}, "目标状态（null 为不改变状态）",
                 "Target states (null: stays)"),
        "append_only": BOOL, "schema": JSON_SCHEMA,
        "schema_ref": _d(STR, "components 中的同一 Schema", "The same schema in components"),
    })},
    "timers": {"type": "array", "items": _obj({
        "name": STR, "label": STR, "trigger": STR,
        "after": _d({"type": "object", "properties": {"unit": {
            "type": "string", "enum": ["working_days", "calendar_days", "at_field"]}}},
            "期限的算法", "How the deadline is counted"),
        "reminders": _d({"type": "array", "items": INT}, "提前提醒的天数",
                        "Days before the due day to remind"),
        "sets_due": _d(BOOL, "作为事项的期限", "Is the case's due date"),
    }, description=Text("计时器声明的全部字段", "Every field of the timer's declaration"),
        extra=True)},
})


ATTACHMENT = _obj({
    "id": _d(INT, "附件编号：放入操作内容的附件字段（如 `{\"documents\": [id]}`）",
             "Attachment id: put it in the action's file field (`{\"documents\": [id]}`)"),
    "sha256": _d(STR, "文件内容的 SHA-256（十六进制）", "SHA-256 of the content (hex)"),
    "size": _d(INT, "字节数", "Size in bytes"),
    "media_type": _d(STR, "按内容判断的类型", "Media type, judged from the content"),
    "name": _d(STR, "文件名（仅供显示，已去掉路径字符）",
               "File name (for display only; path characters removed)"),
}, description=Text("已保存、尚未被操作引用的附件；一天内未被引用即删除",
                    "A stored upload no action has used yet; removed after a day unused"))

ATTACHMENT_UPLOAD = _obj({
    "file": {"type": "string", "format": "binary", "contentMediaType": BINARY,
             "description": Text("文件（PDF、JPEG、PNG、DOCX、XLSX 等，以组织和字段的设置为准）",
                                 "The file (PDF, JPEG, PNG, DOCX, XLSX…, as the organisation "
                                 "and the field allow)")},
})


def _fire_bodies(registry: Registry) -> dict[str, Any]:
    """``FireAction``: a state-changing trigger's body needs ``expected_version``, an
    append-only one's not (the engine's ``version_of``); the payload is the trigger's."""
    groups: dict[bool, list[dict[str, str]]] = {False: [], True: []}
    for c in registry.all():
        for name in trigger_names(c):
            groups[c.first(name).append_only].append(
                _ref(payload_component(c.kind, c.version, name)))
    version = {
        False: _d(INT, "事项当前的 version", "The case's current version"),
        True: _d(INT, "可不带；带了也不检查", "Not needed; ignored when sent"),
    }
    bodies = {
        "FireChange": _obj({
            "payload": {"anyOf": groups[False] or [{"type": "object"}], "description": Text(
                "该操作的内容（缺省为 {}）", "The trigger's payload (default {})")},
            "expected_version": version[False],
        }, required=("expected_version",), description=Text(
            "改变状态的操作", "A trigger that changes the state")),
        "FireAppendOnly": _obj({
            "payload": {"anyOf": groups[True] or [{"type": "object"}], "description": Text(
                "该操作的内容（缺省为 {}）", "The trigger's payload (default {})")},
            "expected_version": version[True],
        }, required=(), description=Text("只追加记录的操作（`append_only`）",
                                         "An append-only trigger (`append_only`)")),
    }
    return {"FireAction": {"anyOf": [_ref(name) for name in bodies], "description": Text(
        "改变状态的操作须带 expected_version；只追加记录的操作不需要",
        "expected_version is required unless the trigger is append-only")}, **bodies}


def _start_bodies(registry: Registry) -> dict[str, Any]:
    """``StartCase``: one shape per process, its latest version's start payload."""
    variants = []
    for c in registry.latest():
        start = c.process.start_schema.json_schema()
        variants.append(_obj({
            "kind": _d({"type": "string", "const": c.kind}, "流程", "Process kind"),
            "org": _d({"type": "string", "minLength": 1}, "立案组织代码", "Organisation code"),
            "payload": {**_ref(payload_component(c.kind, c.version, "start")),
                        "description": Text("立案内容", "Start payload")},
        }, required=("kind", "org", *(("payload",) if start["required"] else ()))))
    return {"StartCase": {"anyOf": variants, "description": Text(
        "该流程最新版本的立案内容", "The start payload of the process's latest version")}}


def api_schemas(registry: Registry) -> dict[str, Any]:
    """The API's named schemas; request bodies refer to every process's payload schemas."""
    return {
        "Action": ACTION, "Case": CASE, "CaseSummary": CASE_SUMMARY, "CasePage": CASE_PAGE,
        "Event": EVENT, "EventList": _obj({"items": {"type": "array", "items": _ref("Event")}}),
        "Process": PROCESS,
        "ProcessList": _obj({"items": {"type": "array", "items": _ref("Process")}}),
        **_start_bodies(registry), **_fire_bodies(registry),
        "Assign": _obj({"assignee": _d(
            {"type": ["string", "null"], "minLength": 1, "maxLength": 64, "pattern": r"\S"},
            "用户名；null 为释放", "Username; null releases")}),
        "Attachment": ATTACHMENT, "AttachmentUpload": ATTACHMENT_UPLOAD,
    }


# -- the audit desk's schemas (web/audit.py) ---------------------------------------------

PROBLEM = _obj({
    "case_id": OPT_INT, "seq": OPT_INT,
    "code": _d(STR, "问题代码（见 docs/audit-format.md）", "Problem code (docs/audit-format.md)"),
    "org": _d(OPT_STR, "检查点与组织台账的问题所属组织", "Organisation of a checkpoint or ledger "
              "problem"),
    "message": STR,
})

AUDIT_EVENT_FIELDS = {
    "id": _d(OPT_INT, "事件行号（翻页用）", "Row id (for paging)"),
    "case_id": INT, "case_code": OPT_STR, "seq": INT,
    "at": _d(STR, "时间（UTC，ISO-8601，以 Z 结尾）", "Time (UTC ISO-8601, Z)"),
    "org": STR, "kind": STR, "def_version": INT, "trigger": STR, "label": STR, "actor": STR,
    "from_state": OPT_STR, "to_state": STR,
    "payload": _d({"type": ["object", "null"]}, "操作内容（含内部键）",
                  "Payload (internal keys included)"),
    "payload_digest": STR, "prev_hash": STR, "hash": STR,
}

#: an event in a case's history (``GET /api/v1/audit/cases/{id}``): the log's fields, the
#: state after it and the data it changed
AUDIT_CASE_EVENT = _obj(AUDIT_EVENT_FIELDS | {
    "state_after": _d(OPT_STR, "该事件后的状态", "The state after the event"),
    "changes": _d({"type": ["array", "null"], "items": _obj({
        "key": STR, "kind": {"type": "string", "enum": ["added", "changed", "removed"]},
        "before": {}, "after": {}})}, "该事件改变的数据（无法重放时为 null）",
        "The data the event changed (null when it cannot be replayed)"),
})

AUDIT_SCHEMAS: dict[str, Any] = {
    "AuditProblem": PROBLEM,
    "AuditEvent": _obj(AUDIT_EVENT_FIELDS),
    "AuditCaseEvent": AUDIT_CASE_EVENT,
    "AuditEventPage": _obj({
        "items": {"type": "array", "items": _ref("AuditEvent")},
        "next": _d(OPT_STR, "下一页的 `after` 值", "The `after` value of the next page"),
    }),
    "AuditCase": _obj({
        "case_id": INT, "org": STR,
        "stored": _d({"type": ["object", "null"]}, "数据库中的事项记录（投影）",
                     "The stored case row (the projection)"),
        "as_of": OPT_STR,
        "rebuilt": _d({"type": ["object", "null"]}, "按事件重放出的 as_of 时的事项",
                      "The case rebuilt by replay as of `as_of`"),
        "rebuilt_error": OPT_STR,
        "events": {"type": "array", "items": _ref("AuditCaseEvent")},
        "problems": {"type": "array", "items": _ref("AuditProblem")},
    }),
    "AuditVerifyRequest": _obj({"org": _d(OPT_STR, "组织代码（缺省为整个审计范围）",
                                          "Organisation code (default: the whole scope)")},
                               required=()),
    "AuditReport": _obj({
        "ok": BOOL, "scope": {"type": "array", "items": STR}, "cases": INT, "events": INT,
        "checkpoints": INT, "signed": INT, "ledger_events": INT,
        "problems": {"type": "array", "items": _ref("AuditProblem")},
        "results": {"type": "array", "items": _obj({"case_id": INT, "ok": BOOL})},
    }),
    "PublishedKeys": _obj({"items": {"type": "array", "items": _obj({
        "org": STR, "name": STR,
        "keys": {"type": "array", "items": _obj({
            "org": STR, "key_id": STR, "algorithm": STR,
            "public_key": _d(STR, "Ed25519 公钥（32 字节，十六进制）",
                             "Ed25519 public key (32 bytes, hex)"),
            "added_at": STR, "retired_at": OPT_STR, "ledger_seq": INT, "replaces": OPT_STR})},
        "latest_checkpoint": {"type": ["object", "null"]},
    })}}),
}


# -- the statistics desk's schemas (web/stats.py) -----------------------------------------------

#: counts by kind of applicant (``party``, ``public``, ``org``; empty keys for none)
BY_KIND = _d({"type": "object", "additionalProperties": INT}, "按申请人类别（party 党员、public "
             "群众、org 组织）", "By kind of applicant (party, public, org)")
STATS_FIGURE = _obj({
    "name": STR, "label": STR,
    "unit": _d({"type": "string", "enum": ["count", "days"]}, "count 计数；days 工作日分布",
               "count: summed; days: a distribution of working days"),
    "total": INT, "by_kind": BY_KIND,
    "parts": {"type": "array", "items": _obj({"name": STR, "label": STR, "total": INT,
                                              "by_kind": BY_KIND})},
    "median": OPT_INT, "p90": OPT_INT, "longest": OPT_INT,
    "histogram": _d({"type": "array", "items": {"type": "array", "items": INT}},
                    "[工作日, 件数]", "[working days, cases]"),
}, required=("name", "label", "unit", "total", "by_kind", "parts"))

STATS_SCHEMAS: dict[str, Any] = {
    "StatsFigure": STATS_FIGURE,
    "StatsFigures": _obj({
        "org": STR, "org_name": STR, "from": STR, "to": STR, "subtree": BOOL,
        "on_time": INT, "overdue": INT, "long_overdue": INT,
        "on_time_rate": _d({"type": ["number", "null"]}, "按期率（无计时事项时为 null）",
                           "On-time rate (null when nothing was timed)"),
        "processes": {"type": "array", "items": _obj({
            "kind": STR, "label": STR, "carried_over": OPT_INT, "carried_forward": OPT_INT,
            "figures": {"type": "array", "items": _ref("StatsFigure")}})},
    }),
    "StatsAnnual": _obj({
        "org": STR, "org_name": STR, "year": INT, "problems": STR, "improvements": STR,
        "published_at": OPT_STR,
        "tables": {"type": "array", "items": _obj({
            "kind": STR, "label": STR,
            "columns": {"type": "array", "items": _obj({"kind": STR, "label": STR})},
            "rows": {"type": "array", "items": _obj({
                "label": STR, "level": INT,
                "cells": {"type": "object", "additionalProperties": INT}, "total": INT})}})},
    }),
}
