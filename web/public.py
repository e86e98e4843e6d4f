"""The public side: apply without an account, track with the tracking and access codes.

Generic over the processes a member of the public may start (``public`` in their start
roles); the JSON paths use each process's ``public_name`` (``/api/v1/applications``).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from web.extensions import csrf, limiter
from web.i18n import pick
from web.inbox import form_payload, form_version
from web.views import attachment_response, document_response, due_text, engine
from workflow.base.errors import Invalid, NotAllowed, NotFound, StaleVersion
from workflow.base.text import Text
from workflow.core.engine import CaseView
from workflow.core.registry import Compiled
from workflow.people.access import new_access_code, normalise
from workflow.people.actors import PUBLIC, applicant
from workflow.people.orgs import list_orgs
from workflow.views import attachments, tracking

bp = Blueprint("public", __name__)

HONEYPOT = "website"
NOT_FOUND = Text("找不到该申请，或查询码不正确", "No such request, or the access code is wrong")


def public_processes() -> list[Compiled]:
    return [c for c in engine().registry.latest() if "public" in c.process.start_roles]


def _process(kind: str) -> Compiled:
    found = next((c for c in public_processes() if c.kind == kind), None)
    if found is None:
        abort(404)
    return found


def submit(compiled: Compiled, org: str, payload: dict) -> tuple[CaseView, str]:
    """Start a case for the public and keep its access code with it, all or nothing."""
    access = new_access_code()
    case = engine().start(compiled.kind, org, PUBLIC, payload,
                          within=tracking.keeper(access), org_field="org")
    return case, access


@bp.get("/public")
def index():
    return render_template("public_index.html", processes=public_processes())


@bp.route("/apply/<kind>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def apply(kind: str):
    compiled = _process(kind)
    with engine().db.read() as conn:
        orgs = list_orgs(conn)
    errors, values = {}, {}
    if request.method == "POST":
        values = form_payload(compiled.process.start_schema)
        if request.form.get(HONEYPOT):
            abort(400)
        try:
            case, access = submit(compiled, request.form.get("org", ""), values)
        except Invalid as exc:
            errors = exc.fields
            flash(pick(exc.message), "error")
        else:
            response = render_template("public_submitted.html", case=case, access=access,
                                       compiled=compiled)
            return response, 201, {"Cache-Control": "no-store"}
    return render_template("public_apply.html", compiled=compiled, orgs=orgs, errors=errors,
                           values=values, chosen_org=request.form.get("org", ""),
                           allowed=attachments.allowed(engine(),
                                                       compiled.process.start_schema.fields)), (
        422 if errors else 200)


def _tracked(code: str) -> CaseView:
    """The case if this browser proved the access code for it earlier in the session."""
    code = normalise(code)
    if code not in session.get("tracked", []):
        abort(404)
    return engine().get_by_code(code, applicant(code))


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def track():
    error = None
    if request.method == "POST":
        code = request.form.get("code", "")
        case = tracking.open_case(engine(), code, request.form.get("access", ""))
        if case is None:
            error = pick(NOT_FOUND)
        else:
            session["tracked"] = sorted({*session.get("tracked", []), case.code})
            return redirect(url_for("public.tracked", code=case.code))
    return render_template("public_track.html", error=error), (404 if error else 200)


def render_tracked(case: CaseView, errors: dict | None = None, failed: str | None = None,
                   values: dict | None = None, status: int = 200):
    eng = engine()
    compiled = eng.registry.get(case.kind, case.def_version)
    actions = eng.actions(case, applicant(case.code))
    documents = [d for d in compiled.process.documents
                 if d.public and case.state in d.states]
    events = tracking.public_timeline(eng, case)
    return render_template(
        "public_case.html", case=case, compiled=compiled, state=compiled.state(case.state),
        actions=actions, timeline=events,
        attachments=attachments.on_case(eng, case, applicant(case.code)),
        who={ev["seq"]: ev["who"] for ev in events},
        allowed={t.name: attachments.allowed(eng, t.schema.fields, case.org_path)
                 for t in actions if t.schema.file_fields},
        details=tracking.public_data(eng, case), label=tracking.labeller(eng, case),
        documents=documents, errors=errors or {}, failed=failed, values=values or {},
    ), status


@bp.get("/track/<code>")
def tracked(code: str):
    return render_tracked(_tracked(code))


@bp.post("/track/<code>/actions/<trigger>")
@limiter.limit("20 per minute")
def tracked_action(code: str, trigger: str):
    case = _tracked(code)
    arrow = engine().registry.get(case.kind, case.def_version).first(trigger)
    if arrow is None:
        abort(404)
    payload = form_payload(arrow.schema)
    try:
        engine().fire(case.id, trigger, applicant(case.code), payload, form_version())
    except Invalid as exc:
        flash(pick(exc.message), "error")
        return render_tracked(case, exc.fields, trigger, payload, 422)
    except (NotAllowed, StaleVersion) as exc:
        flash(pick(exc.message), "error")
        return render_tracked(engine().get(case.id, applicant(case.code)), status=409)
    flash(_("已提交：%(action)s", action=pick(arrow.label)))
    return redirect(url_for("public.tracked", code=case.code))


@bp.get("/track/<code>/attachments/<int:attachment_id>")
def attachment(code: str, attachment_id: int):
    """A file of the tracked case that the applicant's own view shows."""
    case = _tracked(code)
    return attachment_response(attachments.fetch(engine(), attachment_id,
                                                 applicant(case.code), case_id=case.id))


@bp.get("/track/<code>/documents/<name>.<fmt>")
def document(code: str, name: str, fmt: str):
    return document_response(_tracked(code), name, fmt, public_only=True)


# -- JSON ---------------------------------------------------------------------------------


def case_json(case: CaseView) -> dict:
    eng = engine()
    compiled = eng.registry.get(case.kind, case.def_version)
    return {
        "tracking_code": case.code,
        "kind": case.kind,
        "org": case.org_code,
        "title": case.title,
        "state": case.state,
        "state_label": pick(compiled.state(case.state).label),
        "final": compiled.state(case.state).final,
        "received_on": case.data.get("received_on") or case.created_at.date().isoformat(),
        "due": case.due_date.isoformat() if case.due_date else None,
        "due_provisional": case.due_provisional,
        "due_explain": due_text(case.due_explain) or None,
        "timeline": [{"seq": ev["seq"], "at": ev["at"], "action": ev["trigger"],
                      "label": pick(ev["label"]), "by": pick(ev["who"]),
                      "state": ev["to"] and pick(ev["to"])}
                     for ev in tracking.public_timeline(eng, case)],
        "details": {pick(key): value for key, value in tracking.public_data(eng, case)},
        "actions": [{"trigger": t.name, "label": pick(t.label),
                     "schema": t.schema.json_schema()}
                    for t in eng.actions(case, applicant(case.code))],
        "version": case.version,
        "documents": [d.name for d in compiled.process.documents
                      if d.public and case.state in d.states],
    }


PUBLIC_SCHEMAS = {
    "PublicSubmitted": {
        "type": "object", "required": ["tracking_code", "access_code", "state", "due"],
        "properties": {
            "tracking_code": {"type": "string", "examples": ["YS-2026-000123"]},
            "access_code": {"type": "string", "description": "只显示这一次 / shown once"},
        },
        "allOf": [{"$ref": "#/components/schemas/PublicCase"}],
    },
    "PublicCase": {
        "type": "object",
        "required": ["tracking_code", "state", "state_label", "received_on", "due",
                     "due_provisional", "timeline"],
        "properties": {
            "tracking_code": {"type": "string"}, "kind": {"type": "string"},
            "org": {"type": "string"}, "title": {"type": "string"},
            "state": {"type": "string"}, "state_label": {"type": "string"},
            "final": {"type": "boolean"},
            "received_on": {"type": "string", "format": "date"},
            "due": {"type": ["string", "null"], "format": "date"},
            "due_provisional": {"type": "boolean"},
            "due_explain": {"type": ["string", "null"]},
            "timeline": {"type": "array", "items": {"type": "object"}},
            "details": {"type": "object"},
            "actions": {"type": "array", "items": {"type": "object"}},
            "version": {"type": "integer"},
            "documents": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def register_api(app, registry) -> None:
    """``POST /api/v1/<public_name>`` and ``GET /api/v1/<public_name>/<code>`` for every
    process the public may start (``/api/v1/applications`` for 依申请公开), documented
    in the same OpenAPI document as the officers' API."""
    from web.openapi import Param, Routes, payload_component, register

    api = Blueprint("public_api", __name__, url_prefix="/api/v1")
    routes = Routes(api, guard=lambda view: view, schemas=PUBLIC_SCHEMAS)
    for compiled in registry.latest():
        name = compiled.process.public_name
        if not name or "public" not in compiled.process.start_roles:
            continue
        label = compiled.process.label
        routes.route(
            f"/{name}", "POST", endpoint=f"submit_{name}", auth=False, status=201,
            tag="public", body=payload_component(compiled.kind, compiled.version, "start"),
            response="PublicSubmitted", errors=("invalid",),
            summary=Text(f"提交{label.zh}申请（无需账号）", f"Apply: {label.en} (no account)"),
            description=Text("另需 `org`（受理组织代码）。返回查询编号和只显示一次的查询码。",
                             "Also send `org` (the organisation's code). Returns the "
                             "tracking code and an access code shown once."),
        )(limiter.limit("10 per minute")(_submitter(compiled.kind)))
        routes.route(
            f"/{name}/<code>", "GET", endpoint=f"track_{name}", auth=False, tag="public",
            response="PublicCase", errors=("not_found",),
            params=(Param("X-Access-Code", {"type": "string"},
                          Text("查询码", "The access code"), required=True, where="header"),),
            summary=Text(f"查询{label.zh}办理进度", f"Track: {label.en}"),
            description=Text("查询码错误或缺失与编号不存在一样返回 404。",
                             "A wrong or missing access code gets the same 404 as an "
                             "unknown tracking code."),
        )(limiter.limit("60 per minute")(_tracker(compiled.kind)))
    csrf.exempt(api)
    app.register_blueprint(api)
    register(app, routes)


def _submitter(kind: str):
    def api_submit():
        """Apply without an account: 201 with the tracking code and the access code."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Invalid(Text("请求体应为 JSON 对象", "The body must be a JSON object"))
        payload = {k: v for k, v in body.items() if k != "org"}
        case, access = submit(_process(kind), str(body.get("org") or ""), payload)
        return {"tracking_code": case.code, "access_code": access} | case_json(case), 201

    return api_submit


def _tracker(kind: str):
    def api_track(code: str):
        """Track with header X-Access-Code; a wrong code is the same 404 as an unknown one."""
        case = tracking.open_case(engine(), code, request.headers.get("X-Access-Code"))
        if case is None or case.kind != kind:
            raise NotFound(NOT_FOUND)
        return case_json(case)

    return api_track
