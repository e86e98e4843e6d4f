"""党员旁听 on the board and over the API (O2–O7): the notice, the registration form, a
registrant's status, the committed record and the result with its in-browser re-check
(``web/static/lottery.js``), the draw bundle, and the office's list of registrations.

Routes only translate: parse, one call (``workflow.views.observers`` or the engine's door),
map typed errors. The API paths are documented in the OpenAPI document:

* ``GET /api/v1/observer-meetings[?org=CODE]`` — the noticed meetings the caller may see
  (G1: a member's bearer token also sees notices released within the Party);
* ``GET /api/v1/observer-meetings/{id}`` — one meeting (notice, record, result);
* ``POST /api/v1/observer-meetings/{id}/registrations`` — 201 ``{"registration",
  "access_code"}``: JSON with the letter as ``{"name", "content_base64"}``, or a
  multipart form with the letter as a file; a bearer token registers as that member;
* ``GET /api/v1/observer-meetings/{id}/registrations/{registration}`` with
  ``X-Access-Code`` — the registrant's status (a wrong code is the same 404);
* ``GET /api/v1/observer-meetings/{id}/draw`` — the draw bundle, once drawn.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from web.extensions import csrf, limiter
from web.i18n import pick
from web.inbox import form_payload, panels
from web.openapi import Param, Routes, payload_component, register
from web.views import engine, lang
from workflow.base.errors import Invalid, WorkflowError
from workflow.base.text import Text
from workflow.core.schema import Upload
from workflow.people import accounts
from workflow.people.actors import PUBLIC, Actor
from workflow.views import attachments, observers, publications

bp = Blueprint("observers", __name__, url_prefix="/observer-meetings")

KIND = observers.KIND
REGISTER = "register"
HONEYPOT = "website"
BAD_LETTER = Text("介绍信应为 {\"name\", \"content_base64\"}，内容为 Base64",
                  "The letter must be {\"name\", \"content_base64\"} with Base64 content")
NOT_OBJECT = Text("请求体应为 JSON 对象", "The body must be a JSON object")


def _actor() -> Actor:
    """The signed-in person, else the anonymous public (who may register where allowed)."""
    if current_user.is_authenticated:
        return current_user.account.actor
    return PUBLIC


def _members() -> tuple[str, ...]:
    """Where the signed-in person is a Party member: what internal releases reach (G1)."""
    if current_user.is_authenticated:
        return publications.member_paths(current_user.account.actor.grants)
    return ()


def _schema():
    return engine().registry.get(KIND).first(REGISTER).schema


# -- pages ----------------------------------------------------------------------------------


@bp.get("")
def index():
    org = request.args.get("org") or None
    return render_template("observers_list.html",
                           meetings=observers.meetings(engine(), org, _members()), org=org)


@bp.get("/<int:case_id>")
def meeting(case_id: int):
    found = observers.meeting(engine(), case_id, _members())
    return render_template("observers_meeting.html", m=found, data=found.data)


@bp.route("/<int:case_id>/register", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def register_page(case_id: int):
    found = observers.meeting(engine(), case_id, _members())
    errors: dict[str, Text] = {}
    values: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        if request.form.get(HONEYPOT):
            abort(400)
        values = form_payload(_schema())
        try:
            sent = engine().submit(case_id, REGISTER, _actor(), values)
        except Invalid as exc:
            errors, status = exc.fields, 422
            flash(pick(exc.message), "error")
        except WorkflowError as exc:
            status = exc.status
            flash(pick(exc.message), "error")
        else:
            session["registrations"] = sorted({*session.get("registrations", []),
                                               f"{case_id}:{sent.number}"})
            return render_template("observers_registered.html", m=found, sent=sent), 201, {
                "Cache-Control": "no-store"}
    values.pop("id_number", None)  # never sent back into a page
    values.pop("letter", None)
    return render_template("observers_register.html", m=found, schema=_schema(),
                           errors=errors, values=values,
                           allowed=attachments.allowed(engine(), _schema().fields),
                           signed_in=current_user.is_authenticated), status


@bp.route("/<int:case_id>/status", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def status_page(case_id: int):
    found = observers.meeting(engine(), case_id, _members())
    shown, error = None, None
    if request.method == "POST":
        try:
            shown = observers.registrant(engine(), case_id, request.form.get("number", ""),
                                         request.form.get("access", ""))
        except WorkflowError as exc:
            error = pick(exc.message)
    return render_template("observers_status.html", m=found, shown=shown, error=error), (
        404 if error else 200)


@bp.get("/<int:case_id>/draw.json")
def draw_file(case_id: int):
    found = observers.bundle(engine(), case_id, _members())
    body = json.dumps(found, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="draw-{case_id}.json"'})


@bp.route("/<int:case_id>/registrations", methods=["GET", "POST"])
@login_required
def office_page(case_id: int):
    """O5: the office's list, ID numbers masked; one number shown in clear on request
    (recorded as a reading of personal data)."""
    actor = current_user.account.actor
    case = observers.office_case(engine(), case_id, actor)
    revealed = None
    if request.method == "POST":
        number = request.form.get("registration", "")
        revealed = (number, observers.reveal_id_number(engine(), case_id, actor, number))
    return render_template("observers_office.html", case=case,
                           registrations=case.data["registrations"], revealed=revealed,
                           labels=observers.STATUS_LABELS), 200, {"Cache-Control": "no-store"}


def registrations_panel(case) -> dict[str, Any] | None:
    """O5: the case page's way to the office's list of registrations, for the office."""
    if not observers.is_office(case, current_user.account.actor):
        return None
    return {"template": "observers_case_panel.html", "count": len(case.data["registrations"]),
            "url": url_for("observers.office_page", case_id=case.id)}


# -- the API --------------------------------------------------------------------------------

SCHEMAS = {
    "ObserverMeeting": {
        "type": "object", "description": Text("旁听会议：通知、抽签记录与结果（不含个人信息）",
                                             "A meeting: notice, draw record and result "
                                             "(no personal data)"),
        "required": ["id", "code", "org", "title", "state", "meeting_at", "quotas"],
        "properties": {
            "id": {"type": "integer"}, "code": {"type": "string"}, "org": {"type": "string"},
            "org_name": {"type": "string"}, "title": {"type": "string"},
            "state": {"type": "string"}, "state_label": {"type": "string"},
            "meeting_at": {"type": "string", "format": "date-time"},
            "place": {"type": "string"}, "topics": {"type": "string"},
            "quotas": {"type": "array", "items": {"type": "object", "properties": {
                "category": {"type": "string"}, "seats": {"type": "integer"}}}},
            "seats": {"type": "integer"}, "conditions": {"type": "string"},
            "registration_until": {"type": "string", "format": "date"},
            "how_to_register": {"type": "string"},
            "registration_open": {"type": "boolean"},
            "notice": {"type": ["object", "null"]},
            "record": {"type": ["object", "null"], "description": Text(
                "公布的抽签记录：候选名单（报名号、类别）、名额、算法版本、随机源",
                "The committed record: pool (numbers, categories), quotas, algorithm, source")},
            "commitment": {"type": ["string", "null"]},
            "short": {"type": ["array", "null"]},
            "result": {"type": ["object", "null"]},
            "seating": {"type": ["object", "null"]},
            "cancelled_draws": {"type": "array"},
        },
    },
    "ObserverMeetings": {"type": "object", "required": ["meetings"], "properties": {
        "meetings": {"type": "array", "items": {"$ref": "#/components/schemas/ObserverMeeting"}}}},
    "ObserverRegistered": {"type": "object", "required": ["registration", "access_code"],
                           "properties": {
                               "registration": {"type": "string",
                                                "examples": ["BM-2026-000045"]},
                               "access_code": {"type": "string", "description": Text(
                                   "只显示这一次", "Shown once")}}},
    "ObserverRegistration": {"type": "object", "required": ["registration", "status"],
                             "properties": {
                                 "registration": {"type": "string"},
                                 "category": {"type": "string"},
                                 "status": {"type": "string",
                                            "enum": list(observers.STATUS_LABELS)},
                                 "status_label": {"type": "string"},
                                 "reason": {"type": "string"},
                                 "draw": {"type": ["string", "null"],
                                          "enum": ["seat", "waiting", None]},
                                 "timeline": {"type": "array"}}},
    "DrawBundle": {"type": "object", "description": Text(
        "抽签包：记录、承诺值、随机值、密钥串、每一步和结果；gongkai lottery verify 可离线重算",
        "The draw bundle: record, commitment, sources, key, every step and the result; "
        "re-run offline with gongkai lottery verify"),
        "required": ["format", "algorithm", "record", "commitment", "sources", "key", "steps",
                     "result"]},
}

ORG = Param("org", {"type": "string"}, Text("组织代码（含下级）",
                                            "Organisation code (and those below)"))
ACCESS_CODE = Param("X-Access-Code", {"type": "string"}, Text("查询码", "Access code"),
                    required=True, where="header")


def _error(exc: WorkflowError):
    return exc.as_json(lang()), exc.status


def _api_members() -> tuple[str, ...]:
    """A member's bearer token sees the notices released within the Party (G1)."""
    return publications.member_paths(_api_actor().grants)


def list_meetings():
    """O2: the noticed meetings this caller may see, newest first."""
    found = observers.meetings(engine(), request.args.get("org") or None, _api_members())
    return {"meetings": [m.as_json(lang()) for m in found]}


def get_meeting(case_id: int):
    return observers.meeting(engine(), case_id, _api_members()).as_json(lang())


def _api_payload() -> dict[str, Any]:
    """JSON with the letter in Base64, or a multipart form with the letter as a file."""
    if request.mimetype == "multipart/form-data":
        return form_payload(_schema())
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid(NOT_OBJECT, {"body": NOT_OBJECT})
    letter = body.get("letter")
    if isinstance(letter, dict):
        try:
            body["letter"] = Upload(str(letter.get("name") or "letter"),
                                    base64.b64decode(str(letter.get("content_base64", "")),
                                                     validate=True))
        except (binascii.Error, ValueError):
            raise Invalid(fields={"letter": BAD_LETTER}) from None
    return body


def _api_actor() -> Actor:
    """A bearer token registers as its member; none is the public."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        with engine().db.read() as conn:
            account = accounts.by_token(conn, token.strip())
        if account is None:
            raise Invalid(Text("访问令牌无效", "Invalid access token"))
        return account.actor
    return PUBLIC


def api_register(case_id: int):
    """O3, O4: 201 with the registration number and the access code, shown once."""
    actor = _api_actor()
    # 404 for any case that is not a meeting whose notice reaches this caller (G1)
    observers.meeting(engine(), case_id, publications.member_paths(actor.grants))
    sent = engine().submit(case_id, REGISTER, actor, _api_payload())
    return {"registration": sent.number, "access_code": sent.access_code}, 201


def api_registration(case_id: int, registration: str):
    """O5: what became of it; a wrong access code is the same 404 as an unknown number."""
    shown = observers.registrant(engine(), case_id, registration,
                                 request.headers.get("X-Access-Code"))
    return shown.as_json(lang())


def api_draw(case_id: int):
    """O7: the bundle, once drawn and its result released to this caller (G1)."""
    return observers.bundle(engine(), case_id, _api_members())


def _api(app: Flask) -> None:
    """The JSON paths, declared for this app when it runs the observer-seat process, and
    documented in its OpenAPI document."""
    api = Blueprint("observers_api", __name__, url_prefix="/api/v1/observer-meetings")
    api.register_error_handler(WorkflowError, _error)
    routes = Routes(api, guard=lambda view: view, schemas=SCHEMAS)
    routes.route("", "GET", auth=False, tag="observers", response="ObserverMeetings",
                 params=(ORG,), errors=("not_found",),
                 summary=Text("旁听会议通知列表", "Observer meetings"),
                 description=Text(
                     "通知已向党外公开的会议，最新在前；带党员的访问令牌时，另含本组织及上级"
                     "已在党内发布通知的会议（先党内、后党外）。",
                     "Meetings whose notice is public, newest first; with a member's bearer "
                     "token, also those whose notice was released within the Party of the "
                     "member's organisation or above (internal release first, G1)."))(
        list_meetings)
    routes.route("/<int:case_id>", "GET", auth=False, tag="observers",
                 response="ObserverMeeting", errors=("not_found",),
                 summary=Text("一次旁听会议", "One observer meeting"))(get_meeting)
    routes.route(
        "/<int:case_id>/registrations", "POST", auth=False, tag="observers", status=201,
        body=payload_component(KIND, engine_of(app).registry.get(KIND).version, REGISTER),
        response="ObserverRegistered",
        errors=("not_found", "forbidden", "invalid", "not_allowed"),
        summary=Text("报名旁听", "Register as an observer"),
        description=Text(
            "JSON（介绍信为 {\"name\", \"content_base64\"}）或 multipart 表单（介绍信为文件 "
            "letter）。带党员的访问令牌即以该党员身份报名；不带则须组织允许或为流动党员。"
            "返回报名号和只显示一次的查询码。同一身份证号对同一会议重复报名返回 409。",
            "JSON (the letter as {\"name\", \"content_base64\"}) or a multipart form "
            "(the letter as file `letter`). A member's bearer token registers as that "
            "member; without one the organisation must allow it, or a mobile member gives "
            "the activity card. Returns the registration number and the access code, "
            "shown once. The same ID number twice for a meeting is 409."))(
        limiter.limit("10 per minute")(api_register))
    routes.route("/<int:case_id>/registrations/<registration>", "GET", auth=False,
                 tag="observers", response="ObserverRegistration", errors=("not_found",),
                 params=(ACCESS_CODE,), summary=Text("查询报名状态", "A registration's status"),
                 description=Text("查询码错误与报名号不存在一样返回 404。",
                                  "A wrong access code is the same 404 as an unknown "
                                  "number."))(api_registration)
    routes.route("/<int:case_id>/draw", "GET", auth=False, tag="observers",
                 response="DrawBundle", errors=("not_found",),
                 summary=Text("抽签包", "The draw bundle"),
                 description=Text("抽签后可得；gongkai lottery verify 可离线重算。",
                                  "Once drawn; re-run it offline with gongkai lottery "
                                  "verify."))(api_draw)
    csrf.exempt(api)
    app.register_blueprint(api)
    register(app, routes)


def engine_of(app: Flask):
    return app.extensions["gongkai"]


def init_app(app: Flask) -> None:
    """The pages, the case page's panel, and the API where the app runs the process."""
    app.register_blueprint(bp)
    panels(app)[KIND] = registrations_panel
    if KIND in engine_of(app).registry.kinds():
        _api(app)

