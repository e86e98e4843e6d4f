"""JSON API under /api/v1: bearer tokens, one error shape, the same door as the pages.

Routes only translate (STYLE.md): parse the request, call one engine function, map its
typed errors to the JSON error shape. Every view is declared with ``routes.route``,
which also records it for the OpenAPI document (web/openapi.py): the document is
generated from these declarations and the registered processes, never kept by hand.

Only a bearer token authenticates (``Authorization: Bearer gk_…``); a session cookie
is ignored here, and the blueprint is CSRF-exempt for that reason. The language of
messages is ``?lang=`` or ``Accept-Language`` (Chinese unless English is asked for).

Checks come in this order: the token (401); the request's own shape — JSON body, a
payload that is an object (422); then the engine's door: the case's scope (404), role
(403), for a state-changing trigger ``expected_version`` present and an integer (422)
and current (409 ``stale_version``), state (409), payload fields (422), guards (409
with the reason).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from web.extensions import limiter
from web.i18n import LANGUAGES
from web.i18n import lang as page_lang
from web.openapi import (
    BINARY,
    HTML,
    MULTIPART,
    OPTIONAL,
    STR,
    Param,
    Routes,
    api_schemas,
    document,
    payload_component,
    register,
    registered,
    trigger_names,
)
from web.views import attachment_response, engine
from workflow.audit import chain as audit
from workflow.base.errors import Invalid, WorkflowError
from workflow.base.text import Text
from workflow.base.timeutil import iso_utc
from workflow.core.attachments import MEDIA_TYPES
from workflow.core.deadlines import explain_due
from workflow.core.engine import CaseView, event_label
from workflow.core.registry import Compiled
from workflow.core.schema import REQUIRED, UNKNOWN, Upload
from workflow.people import accounts
from workflow.people.actors import PUBLIC
from workflow.views import attachments
from workflow.views import inbox as queries

bp = Blueprint("api", __name__, url_prefix="/api/v1")

UNAUTHENTICATED = Text("缺少或无效的访问令牌", "Missing or invalid access token")
BAD_CURSOR = queries.BAD_CURSOR  # one reason for every forged page cursor (inbox, audit)
RATE_LIMITED = Text("请求过于频繁，请稍后再试", "Too many requests; try later")
BAD_JSON = Text("请求体不是有效的 JSON", "The request body is not valid JSON")
NOT_OBJECT = Text("应为 JSON 对象", "Must be a JSON object")
NOT_TEXT = Text("应为文字", "Must be text")
UNKNOWN_KIND = Text("没有这个流程", "No such process")
ONE_OF = Text("应为以下之一：{c}", "Must be one of: {c}")
LIMIT_RANGE = Text("应为 1 到 {n} 之间的整数", "Must be a whole number from 1 to {n}")
NO_FILE = Text("请以 multipart/form-data 上传，文件放在字段 file 中（每次一个）",
               "Send one file as multipart/form-data in the field `file`")
EMPTY_FILE = Text("文件为空", "The file is empty")

MAX_LIMIT = 200
DEFAULT_RATE_LIMIT = "600 per minute"


def lang() -> str:
    """The API's language: ``?lang=`` or Accept-Language; never the session's."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(LANGUAGES, default="zh")
    return "en" if best == "en" else "zh"


def error(code: str, message: Text, status: int, fields: dict | None = None):
    return {"error": code, "message": message.get(lang()),
            "fields": {k: v.get(lang()) for k, v in (fields or {}).items()}}, status


def _bearer() -> str | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _account(token: str | None) -> accounts.Account | None:
    if not token:
        return None
    with engine().db.read() as conn:
        return accounts.by_token(conn, token)


def _unauthenticated():
    body, status = error("unauthenticated", UNAUTHENTICATED, 401)
    return body, status, {"WWW-Authenticate": 'Bearer realm="gongkai"'}


def token_required(view):
    """Bearer token from ``gongkai user token``; 401 without a valid one."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        account = _account(_bearer())
        if account is None:
            return _unauthenticated()
        g.account = account
        return view(*args, **kwargs)

    return wrapper


def token_optional(view):
    """A token is checked when one is sent (401 when it is wrong); without one the caller
    is the public (``g.account`` None)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = _bearer()
        g.account = _account(token)
        if token and g.account is None:
            return _unauthenticated()
        return view(*args, **kwargs)

    return wrapper


def _rate_key() -> str:
    """Per account for a valid token, else per address: an unknown or revoked token
    counts against the address it came from, so fresh junk tokens buy no fresh limits."""
    account = _account(_bearer())
    if account is not None:
        return f"account:{account.id}"
    return "addr:" + (get_remote_address() or "")


def api_rate_limit() -> str:
    """The API's limit, per app (``API_RATE_LIMIT``). One function for every limit that
    uses it: Flask-Limiter keeps the limits of a blueprint or a view in a set, so a limit
    made with a fresh lambda by each ``create_app`` was added again for every app the
    process made, and a request counted once per app."""
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


#: the API's one budget per caller, shared by every API blueprint (the audit desk's too)
API_LIMIT = limiter.shared_limit(api_rate_limit, scope="api", key_func=_rate_key)
API_LIMIT(bp)


@bp.errorhandler(WorkflowError)
def workflow_error(exc: WorkflowError):
    return exc.as_json(lang()), exc.status, exc.headers


@bp.errorhandler(429)
def rate_limited(_exc):
    return error("rate_limited", RATE_LIMITED, 429)


PATH_DOCS = {
    "case_id": (Text("事项编号（`id`）", "Case id"), {"minimum": 1}),
    "attachment_id": (Text("附件编号（上传时返回的 `id`，或事件中附件记录的 `attachment`）",
                           "Attachment id (the upload's `id`, or `attachment` in an event's "
                           "record)"), {"minimum": 1}),
    "trigger": (Text("操作名（见事项的 `actions` 或流程定义）",
                     "Trigger name (see the case's `actions` or the process definitions)"), {}),
}

routes = Routes(bp, token_required, PATH_DOCS)


@bp.record_once
def _document_these_routes(state) -> None:
    register(state.app, routes)


# -- request parsing ---------------------------------------------------------------------


def json_body(allowed: tuple[str, ...]) -> dict[str, Any]:
    """The body as a JSON object with only ``allowed`` keys; an empty body is ``{}``."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Invalid(BAD_JSON, {"body": BAD_JSON}) from None
    if not isinstance(body, dict):
        raise Invalid(fields={"body": NOT_OBJECT})
    unknown = {key: UNKNOWN for key in body if key not in allowed}
    if unknown:
        raise Invalid(fields=unknown)
    return body


def _payload(body: Mapping[str, Any], fields: dict[str, Text]) -> dict[str, Any]:
    payload = body.get("payload", {})
    if not isinstance(payload, dict):
        fields["payload"] = NOT_OBJECT
        return {}
    return payload


# -- JSON shapes -------------------------------------------------------------------------


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return iso_utc(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))


def public(data: Mapping[str, Any]) -> dict[str, Any]:
    """Case data or a payload without the engine's internal keys (``_…``)."""
    return {k: v for k, v in data.items() if not k.startswith("_")}


def action_json(arrow, language: str) -> dict[str, Any]:
    return {"trigger": arrow.name, "label": arrow.label.get(language),
            "append_only": arrow.append_only, "schema": arrow.schema.json_schema()}


def case_json(case: CaseView) -> dict[str, Any]:
    eng, language = engine(), lang()
    compiled = eng.registry.get(case.kind, case.def_version)
    state = compiled.state(case.state)
    return {
        "id": case.id, "code": case.code, "title": case.title, "kind": case.kind,
        "kind_label": compiled.process.label.get(language), "def_version": case.def_version,
        "org": case.org_code, "state": case.state, "state_label": state.label.get(language),
        "final": state.final, "version": case.version, "seq": case.seq,
        "data": public(case.data),
        "due": case.due_date.isoformat() if case.due_date else None,
        "due_at": _iso(case.due_at), "due_provisional": case.due_provisional,
        "due_explain": explain_due(case.due_explain, language), "assignee": case.assignee,
        "created_at": _iso(case.created_at), "updated_at": _iso(case.updated_at),
        "actions": [action_json(a, language) for a in eng.actions(case, g.account.actor)],
    }


def summary_json(item: Mapping[str, Any]) -> dict[str, Any]:
    language = lang()
    return {
        "id": item["id"], "code": item["code"], "title": item["title"], "kind": item["kind"],
        "kind_label": item["kind_label"].get(language), "org": item["org"],
        "org_name": item["org_name"], "state": item["state"],
        "state_label": item["state_label"].get(language), "final": item["final"],
        "version": item["version"],
        "due": item["due"].isoformat() if item["due"] else None,
        "due_at": _iso(item["due_at"]), "due_provisional": item["due_provisional"],
        "overdue": item["overdue"], "days_left": item["days_left"],
        "assignee": item["assignee"], "updated_at": _iso(item["updated_at"]),
    }


def event_json(ev: Mapping[str, Any], language: str) -> dict[str, Any]:
    compiled = engine().registry.get(ev["kind"], ev["def_version"])
    label = event_label(compiled, ev["trigger"])
    return {
        "seq": ev["seq"], "at": ev["at"], "trigger": ev["trigger"],
        "label": label.get(language), "actor": ev["actor"],
        "from_state": ev["from_state"], "to_state": ev["to_state"],
        "payload": public(json.loads(ev["payload"])), "hash": ev["hash"],
        "prev_hash": ev["prev_hash"],
    }


def _after(after: Any) -> dict[str, Any]:
    unit = {"WorkingDays": "working_days", "CalendarDays": "calendar_days",
            "AtField": "at_field"}[type(after).__name__]
    return {"unit": unit, **dataclasses.asdict(after)}


def process_json(compiled: Compiled, latest: bool, language: str) -> dict[str, Any]:
    process = compiled.process
    triggers = []
    for name in trigger_names(compiled):
        arrows = [(src, a) for (src, n), found in compiled.arrows.items() if n == name
                  for a in found]
        first = compiled.first(name)
        triggers.append({
            "name": name, "label": first.label.get(language),
            "roles": sorted({r for _s, a in arrows for r in a.roles}),
            "from": list(dict.fromkeys(src for src, _a in arrows)),
            "to": list(dict.fromkeys(a.dest for _s, a in arrows)),
            "append_only": first.append_only, "schema": first.schema.json_schema(),
            "schema_ref": "#/components/schemas/"
                          + payload_component(compiled.kind, compiled.version, name),
        })
    return {
        "kind": process.kind, "version": process.version, "latest": latest,
        "label": process.label.get(language), "initial": process.initial,
        "states": [{"name": s.name, "label": s.label.get(language), "final": s.final,
                    "role": s.role} for s in process.states],
        "start": {"roles": sorted(process.start_roles),
                  "schema": process.start_schema.json_schema(),
                  "schema_ref": "#/components/schemas/"
                                + payload_component(compiled.kind, compiled.version, "start")},
        "triggers": triggers,
        "timers": [timer_json(t, language) for t in process.timers],
    }


def timer_json(timer: Any, language: str) -> dict[str, Any]:
    """Every field of the timer's declaration, as plain JSON."""
    found: dict[str, Any] = {}
    for f in dataclasses.fields(timer):
        value = getattr(timer, f.name)
        if isinstance(value, Text):
            value = value.get(language)
        elif f.name == "after":
            value = _after(value)
        elif isinstance(value, tuple):
            value = list(value)
        found[f.name] = value
    return found


def openapi_document(language: str) -> dict[str, Any]:
    """The app's document: these routes and any other blueprint's registered ones."""
    registry = engine().registry
    return document(registered(current_app), api_schemas(registry), registry, language)


# -- views ---------------------------------------------------------------------------------


@routes.route("/processes", summary=Text("流程定义", "Process definitions"), tag="processes",
              description=Text("每个已登记的流程版本：状态、操作（含内容 Schema）与计时器",
                               "Every registered process version: states, triggers with "
                               "payload schemas, timers"),
              response="ProcessList")
def processes():
    registry, language = engine().registry, lang()
    latest = {c.kind: c.version for c in registry.latest()}
    return {"items": [process_json(c, latest[c.kind] == c.version, language)
                      for c in registry.all()]}


LIST_PARAMS = (
    Param("view", {"type": "string", "enum": list(queries.VIEWS), "default": "mine"},
          Text("mine 我的待办；org 本单位及下级；due 即将到期；overdue 已逾期",
               "mine: my queue; org: my organisations; due: due soon; overdue")),
    Param("kind", STR, Text("流程", "Process kind")),
    Param("state", STR, Text("状态", "State")),
    Param("org", STR, Text("组织代码（含其下级）", "Organisation code (with its subtree)")),
    Param("q", STR, Text("编号的一部分（如 004965）或标题关键字",
                         "Part of the code (e.g. 004965) or words of the title")),
    Param("assignee", STR, Text("承办人用户名", "Assignee's username")),
    Param("sort", {"type": "string", "enum": list(queries.SORTS), "default": "new"},
          Text("new 新的在前；due 期限近的在前", "new: newest first; due: soonest due first")),
    Param("after", STR, Text("上一页返回的 `next`", "The previous page's `next`")),
    Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                    "default": queries.PAGE}, Text("每页条数", "Page size")),
)


def _filters() -> queries.Filters:
    args, fields = request.args, {}
    view = args.get("view") or "mine"
    if view not in queries.VIEWS:
        fields["view"] = ONE_OF.format(c="、".join(queries.VIEWS))
    sort = args.get("sort") or "new"
    if sort not in queries.SORTS:
        fields["sort"] = ONE_OF.format(c="、".join(queries.SORTS))
    limit = page_limit(args, queries.PAGE, fields)
    after = args.get("after") or None
    if after and not queries.cursor_ok(after, sort == "due" or view in ("due", "overdue")):
        fields["after"] = BAD_CURSOR
    if fields:
        raise Invalid(fields=fields)
    return queries.Filters(view=view, kind=args.get("kind") or None,
                           state=args.get("state") or None, org=args.get("org") or None,
                           q=args.get("q") or None, sort=sort, after=after, limit=limit,
                           assignee=args.get("assignee") or None)


def page_limit(args: Mapping[str, str], default: int, fields: dict[str, Text]) -> int:
    """``?limit=``: a whole number from 1 to ``MAX_LIMIT`` (else a field error in
    ``fields``), ``default`` when not given."""
    if not args.get("limit"):
        return default
    try:
        limit = int(args["limit"])
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        fields["limit"] = LIMIT_RANGE.format(n=MAX_LIMIT)
    return limit


@routes.route("/cases", summary=Text("事项列表", "List cases"),
              description=Text("与待办页相同的筛选；按键值翻页：把 `next` 作为下一次的 `after`",
                               "The inbox's filters; keyset paging: pass `next` as `after`"),
              params=LIST_PARAMS, response="CasePage", errors=("invalid",))
def list_cases():
    page = queries.list_cases(engine(), g.account.actor.grants, _filters())
    return {"items": [summary_json(i) for i in page.items], "next": page.next}


@routes.route("/cases", "POST", summary=Text("立案", "Start a case"),
              description=Text("以最新版本的流程在某组织立案", "Open a case of the latest "
                               "version of a process at an organisation"),
              body="StartCase", status=201, response="Case",
              errors=("forbidden", "not_found", "invalid", "not_allowed"))
def start_case():
    body = json_body(("kind", "org", "payload"))
    fields: dict[str, Text] = {}
    kind, org = body.get("kind"), body.get("org")
    if kind is None:
        fields["kind"] = REQUIRED
    elif not isinstance(kind, str) or kind not in engine().registry:
        fields["kind"] = UNKNOWN_KIND
    if org is None or org == "":
        fields["org"] = REQUIRED
    elif not isinstance(org, str):
        fields["org"] = NOT_TEXT
    payload = _payload(body, fields)
    if fields:
        raise Invalid(fields=fields)
    case = engine().start(kind, org, g.account.actor, payload)
    return case_json(case), 201, {"Location": url_for("api.get_case", case_id=case.id)}


@routes.route("/cases/<int:case_id>", summary=Text("事项详情", "A case"),
              description=Text("含 `version`、`state`、期限及调用者此刻可执行的操作",
                               "With `version`, `state`, due date and the actions the caller "
                               "may take now"),
              response="Case", errors=("not_found",))
def get_case(case_id: int):
    return case_json(engine().get(case_id, g.account.actor))


@routes.route("/cases/<int:case_id>/events", summary=Text("办理记录", "A case's events"),
              description=Text("按序号排列的哈希链事件", "Hash-chained events, oldest first"),
              response="EventList", errors=("not_found",))
def case_events(case_id: int):
    eng = engine()
    eng.get(case_id, g.account.actor)
    language = lang()
    return {"items": [event_json(ev, language) for ev in audit.case_events(eng.db, case_id)]}


@routes.route("/cases/<int:case_id>/actions/<trigger>", "POST",
              summary=Text("执行操作", "Take an action"),
              description=Text(
                  "改变状态的操作须带 `expected_version`（事项当前的 `version`）；成功时返回"
                  "更新后的事项。409 `stale_version`：事项已被他人更新；409 `not_allowed`："
                  "当前不能执行，`message` 说明原因。",
                  "A state-changing trigger needs `expected_version` (the case's current "
                  "`version`); returns the updated case. 409 `stale_version`: someone changed "
                  "it; 409 `not_allowed`: not possible now, `message` says why."),
              body="FireAction", response="Case",
              errors=("forbidden", "not_found", "invalid", "stale_version", "not_allowed"))
def fire(case_id: int, trigger: str):
    body = json_body(("payload", "expected_version"))
    fields: dict[str, Text] = {}
    payload = _payload(body, fields)
    if fields:
        raise Invalid(fields=fields)
    return case_json(engine().fire(case_id, trigger, g.account.actor, payload,
                                   body.get("expected_version")))


@routes.route("/cases/<int:case_id>/assign", "POST",
              summary=Text("认领、分派或释放", "Claim, assign or release"),
              description=Text("`assignee` 为用户名（认领或分派）或 null（释放）；不改变版本",
                               "`assignee` is a username (claim or assign) or null (release); "
                               "the version does not change"),
              body="Assign", response="Case", errors=("forbidden", "not_found", "invalid"))
def assign(case_id: int):
    body = json_body(("assignee",))
    if "assignee" not in body:
        raise Invalid(fields={"assignee": REQUIRED})
    assignee = body["assignee"]
    if assignee is not None and (not isinstance(assignee, str) or not assignee.strip()
                                 or len(assignee) > 64):
        raise Invalid(fields={"assignee": NOT_TEXT})
    case = queries.assign(engine(), case_id, g.account.actor,
                          assignee.strip() if assignee else None)
    return case_json(case)


def attachment_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ("id", "sha256", "size", "media_type", "name")}


@routes.route("/cases/<int:case_id>/attachments", "POST",
              summary=Text("上传附件", "Upload an attachment"), tag="attachments",
              description=Text(
                  "以 multipart/form-data 上传一个文件（字段 `file`），再把返回的 `id` 放入操作内容"
                  "的附件字段（如 `{\"payload\": {\"documents\": [id]}}`）。只有此刻能对该事项"
                  "执行操作的人可以上传。类型按文件内容判断（不看文件名和 Content-Type），大小与"
                  "类型限制以组织设置和字段为准，不符时 422 说明限制；一天内未被操作引用的上传会被"
                  "删除。请求体超过服务器上限时 413。",
                  "Upload one file as multipart/form-data (field `file`), then put the "
                  "returned `id` in the action's file field (`{\"payload\": {\"documents\": "
                  "[id]}}`). Only someone who may take an action on the case now may upload. "
                  "The kind is judged from the content (never the name or Content-Type); the "
                  "organisation's settings and the field set the allowed kinds and size, and "
                  "a file outside them is a 422 naming the limit. An upload no action uses "
                  "within a day is removed. A body over the server's limit is a 413."),
              body="AttachmentUpload", body_media=MULTIPART, status=201,
              response="Attachment",
              errors=("forbidden", "not_found", "invalid", "too_large"))
def upload(case_id: int):
    sent = request.files.getlist("file")
    if len(sent) != 1:
        raise Invalid(NO_FILE, {"file": NO_FILE})
    data = sent[0].read()
    if not data:
        raise Invalid(EMPTY_FILE, {"file": EMPTY_FILE})
    row = engine().upload(case_id, g.account.actor, Upload(sent[0].filename or "", data))
    return attachment_json(row), 201, {
        "Location": url_for("api.download", attachment_id=row["id"])}


@routes.route("/attachments/<int:attachment_id>",
              summary=Text("下载附件", "Download an attachment"), tag="attachments",
              description=Text(
                  "返回文件本身（记录的类型，`Content-Disposition: attachment`，"
                  "`X-Content-Type-Options: nosniff`）。能查看该事项的人可以下载；尚未使用的"
                  "上传只有上传人可以下载；已公开事项中非个人信息的附件：党外事项对所有人（无需"
                  "令牌），党内事项只对本组织及其下级组织的党员（G1）。其余一律 404，与不存在"
                  "相同。工作人员下载个人信息附件会记入办理记录（`download` 事件）。",
                  "The file itself (its recorded type, `Content-Disposition: attachment`, "
                  "`X-Content-Type-Options: nosniff`). Whoever may see the case may download "
                  "it; an upload not yet used only its uploader; a published item's "
                  "attachments that hold no personal data: everyone (no token) for a public "
                  "item, only Party members of the organisation's subtree for an internal "
                  "one (G1). Anything else is a 404, as if it did not exist. An officer's "
                  "download of a personal-data attachment is recorded (a `download` event)."),
              media=(BINARY, *MEDIA_TYPES.values()), auth=OPTIONAL,
              errors=("unauthenticated", "not_found", "not_allowed"))
@token_optional
def download(attachment_id: int):
    actor = g.account.actor if g.account is not None else PUBLIC
    return attachment_response(attachments.fetch(engine(), attachment_id, actor))


@routes.route("/openapi.json", summary=Text("OpenAPI 文档", "The OpenAPI document"),
              description=Text("由代码生成的 OpenAPI 3.1 文档", "OpenAPI 3.1, generated from "
                               "the code"), tag="docs", auth=False)
def openapi_json():
    return openapi_document(lang())


@routes.route("/docs", summary=Text("接口文档（网页）", "API documentation (HTML)"),
              description=Text("同一份 OpenAPI 文档的网页版，无需脚本",
                               "The same OpenAPI document as a page, no scripts needed"),
              tag="docs", media=HTML, auth=False)
def docs():
    doc = openapi_document(page_lang())
    return render_template("api_docs.html", doc=doc, title=_("接口文档"))
