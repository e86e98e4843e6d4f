"""The auditor's desk (AU1-AU4, G15): read-only pages and JSON over the event log.

Auditors (the ``auditor`` role; the discipline committee's people hold it) see, within
the subtrees where they hold the role: the event log with filters; a case's history
with each event's data change as a diff and the case as it stood at any time (rebuilt
by replay); an organisation's whole board as it stood at a time; "verify now" with the
result per case; the checkpoints with their signatures and witness copies; and bundle
downloads, full or redacted. Anything outside their scope is 404; nothing here writes.

The public keys page (``/board/keys``, and ``GET /api/v1/audit/keys``) needs no
account: anyone handed a checkpoint can check its signature against it (AU3).

Routes only translate (STYLE.md): the read models are ``workflow.views.audit``, the
bundle is ``workflow.audit.bundle``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    g,
    render_template,
    request,
    send_file,
)
from flask_login import login_required

from web.api import BAD_CURSOR, MAX_LIMIT, page_limit
from web.auth import current_account
from web.extensions import csrf
from web.i18n import pick
from web.openapi import AUDIT_SCHEMAS, STR, Param, Routes, register
from web.views import engine
from workflow.audit import chain as audit
from workflow.audit.bundle import export
from workflow.base.errors import Forbidden, Invalid, NotFound
from workflow.base.text import Text
from workflow.base.timeutil import end_of_local_day, iso_utc, local_date, parse_iso, utcnow
from workflow.store.models import as_id
from workflow.views import audit as views
from workflow.views.audit import PAGE, EventFilters, LoggedEvent, Scope

bp = Blueprint("audit", __name__, url_prefix="/audit")
keys_bp = Blueprint("audit_keys", __name__)

BAD_TIME = Text("时间格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM",
                "Time must be YYYY-MM-DD or YYYY-MM-DDTHH:MM")


# -- parsing ----------------------------------------------------------------------------------


def scope_of(account) -> Scope:
    """The account's audit scope; 403 for an account that is no auditor."""
    return views.scope_of(engine().db, account.orgs_with("auditor") if account else [])


def _time(text: str | None, end_of_day: bool = False) -> str | None:
    """A form's date or date-time (Asia/Shanghai unless it says otherwise) as the
    canonical UTC text events carry; a date alone means its start (or its end)."""
    if not text:
        return None
    text = text.strip()
    try:
        if end_of_day and len(text) == 10:
            return iso_utc(end_of_local_day(dt.date.fromisoformat(text)) -
                           dt.timedelta(microseconds=1))
        return iso_utc(parse_iso(text))
    except ValueError:
        raise Invalid(fields={"time": BAD_TIME}) from None


def event_filters(args: Mapping[str, str]) -> EventFilters:
    """The event log's filters from a query string; 422 with every bad field."""
    fields: dict[str, Text] = {}
    after = args.get("after") or None
    if after is not None and as_id(after) is None:
        fields["after"] = BAD_CURSOR
    limit = page_limit(args, PAGE, fields)
    since = until = None
    try:
        since = _time(args.get("since"))
    except Invalid:
        fields["since"] = BAD_TIME
    try:
        until = _time(args.get("until"), end_of_day=True)
    except Invalid:
        fields["until"] = BAD_TIME
    if fields:
        raise Invalid(fields=fields)
    picked = {k: (args.get(k) or "").strip() or None
              for k in ("org", "kind", "case", "actor", "trigger")}
    return EventFilters(**picked, since=since, until=until,
                        after=int(after) if after else None, limit=limit)


def _after() -> int | None:
    return as_id(request.args.get("after"))


# -- JSON shapes ------------------------------------------------------------------------------


def event_json(ev: LoggedEvent, language: str) -> dict[str, Any]:
    return {
        "id": ev.id, "case_id": ev.case_id, "case_code": ev.case_code,
        "seq": ev.seq, "at": ev.at, "org": ev.org, "kind": ev.kind,
        "def_version": ev.def_version, "trigger": ev.trigger,
        "label": ev.labels.action.get(language), "actor": ev.actor,
        "from_state": ev.from_state, "to_state": ev.to_state, "payload": ev.data,
        "payload_digest": ev.payload_digest, "prev_hash": ev.prev_hash, "hash": ev.hash,
    }


def problem_json(p: audit.Problem, language: str) -> dict[str, Any]:
    return {"case_id": p.case_id, "seq": p.seq, "code": p.code, "org": p.org,
            "message": p.message.get(language)}


def rebuilt_json(rebuilt: audit.Rebuilt | None) -> dict[str, Any] | None:
    if rebuilt is None:
        return None
    return {"state": rebuilt.state, "version": rebuilt.version, "seq": rebuilt.seq,
            "head_hash": rebuilt.head_hash, "title": rebuilt.title, "data": rebuilt.data}


def published_json(found: views.PublishedKeys) -> dict[str, Any]:
    cp = found.latest_checkpoint
    return {"org": found.org, "name": found.name, "keys": [k.as_json() for k in found.keys],
            "latest_checkpoint": asdict(cp) if cp else None}


# -- pages ------------------------------------------------------------------------------------


def _desk() -> Scope:
    return scope_of(current_account())


def _org_choices(scope: Scope) -> list[tuple[str, str, int]]:
    """(code, name, depth) for the organisation selects, in tree order."""
    return [(code, name, scope.depth(code)) for code, (name, _path) in
            sorted(scope.orgs.items(), key=lambda item: item[1][1])]


@bp.get("/")
@login_required
def events_page():
    scope = _desk()
    try:
        filters = event_filters(request.args)
        page = views.event_log(engine(), scope, filters)
        error = None
    except Invalid as exc:
        filters, page = EventFilters(), views.EventPage([], None)
        error = exc.fields
    return render_template("audit_events.html", scope=scope, filters=filters,
                           items=page.items, next=page.next, orgs=_org_choices(scope),
                           errors=error or {}, args=request.args,
                           processes=engine().registry.latest(),
                           tab="events"), (422 if error else 200)


@bp.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int):
    scope = _desk()
    try:
        as_of = _time(request.args.get("as_of"))
    except Invalid:
        as_of = None
    found = views.case_audit(engine(), scope, case_id, as_of)
    return render_template(
        "audit_case.html", scope=scope, case=found, tab="events",
        bad_seqs={p.seq for p in found.problems if p.seq is not None},
        as_of_text=request.args.get("as_of", ""))


@bp.get("/board")
@login_required
def board_page():
    scope = _desk()
    org = request.args.get("org") or (scope.roots[0] if scope.roots else None)
    at_text = request.args.get("at") or ""
    page, error, at = views.BoardPage([], None), None, None
    if at_text:
        try:
            at = _time(at_text, end_of_day=True)
        except Invalid:
            error = pick(BAD_TIME)
    if at:
        page = views.board_as_of(engine(), scope.subtree(org), at, _after())
    return render_template("audit_board.html", scope=scope, orgs=_org_choices(scope),
                           org=org, at_text=at_text, at=at, items=page.items,
                           next=page.next, error=error, tab="board")


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify_page():
    scope = _desk()
    org = request.values.get("org") or ""
    result = None
    if request.method == "POST":
        result = views.verify_scope(engine(), scope.subtree(org or None))
    return render_template("audit_verify.html", scope=scope, orgs=_org_choices(scope),
                           org=org, result=result, tab="verify", max_listed=views.MAX_LISTED)


@bp.get("/checkpoints")
@login_required
def checkpoints_page():
    scope = _desk()
    org = request.args.get("org") or ""
    page = views.checkpoint_page(engine(), scope.subtree(org or None), _after())
    return render_template("audit_checkpoints.html", scope=scope, orgs=_org_choices(scope),
                           org=org, items=page.items, next=page.next, keys=page.keys,
                           tab="checkpoints")


@bp.get("/export")
@login_required
def export_page():
    scope = _desk()
    return render_template("audit_export.html", scope=scope, orgs=_org_choices(scope),
                           tab="export")


@bp.get("/export/bundle")
@login_required
def export_bundle():
    """A bundle of the auditor's scope (or a subtree of it): full or redacted (AU4)."""
    scope = _desk()
    org = request.args.get("org") or scope.roots[0]
    if not scope.holds(org):
        raise NotFound(views.UNKNOWN_ORG)
    org_arg = None if scope.depth(org) == 0 else org  # the whole tree: old global checkpoints too
    since = request.args.get("since") or None
    try:
        since_at = parse_iso(since) if since else None
    except ValueError:
        raise Invalid(fields={"since": BAD_TIME}) from None
    redacted = request.args.get("redacted") == "1"
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "bundle.jsonl.gz"
        export(engine().db, path, redacted=redacted, org=org_arg, since=since_at)
        stream = path.open("rb")  # still readable once the directory is gone (POSIX)
    form = "redacted" if redacted else "full"
    name = f"gongkai-audit-{org}-{form}-{local_date(utcnow()).isoformat()}.jsonl.gz"
    return send_file(stream, mimetype="application/gzip", as_attachment=True,
                     download_name=name)


@keys_bp.get("/board/keys")
def keys_page():
    return render_template("audit_keys.html", orgs=views.published_keys(engine().db))


# -- the JSON API ------------------------------------------------------------------------------


def _api_scope() -> Scope:
    return scope_of(g.account)


def register_api(app: Flask) -> None:
    """``/api/v1/audit/…``, documented in the API's OpenAPI document."""
    from web import api as api_module

    api = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")
    routes = Routes(api, api_module.token_required, {
        "case_id": (Text("事项编号（`id`）", "Case id"), {"minimum": 1})}, AUDIT_SCHEMAS)

    @api.errorhandler(Forbidden)
    @api.errorhandler(NotFound)
    @api.errorhandler(Invalid)
    def _error(exc):
        return exc.as_json(api_module.lang()), exc.status

    @routes.route("/events", summary=Text("审计：事件日志", "Audit: the event log"), tag="audit",
                  description=Text("审计范围内的事件，新的在前；按键值翻页：把 `next` 作为下一次的 "
                                   "`after`。需要审计员角色。",
                                   "Events within the auditor's scope, newest first; keyset "
                                   "paging: pass `next` as `after`. Needs the auditor role."),
                  params=EVENT_PARAMS, response="AuditEventPage",
                  errors=("forbidden", "not_found", "invalid"))
    def audit_events():
        scope = _api_scope()
        page = views.event_log(engine(), scope, event_filters(request.args))
        language = api_module.lang()
        return {"items": [event_json(ev, language) for ev in page.items],
                "next": str(page.next) if page.next else None}

    @routes.route("/cases/<int:case_id>", tag="audit",
                  summary=Text("审计：事项历史与时点状态", "Audit: a case's history, as of a time"),
                  description=Text(
                      "每个事件及其造成的数据变化；`as_of` 给出时按事件重放出当时的事项；"
                      "`problems` 为该事项的校验结果。",
                      "Every event with the data change it made; with `as_of`, the case "
                      "rebuilt by replay as it stood then; `problems`: this case's findings."),
                  params=(Param("as_of", {"type": "string"}, Text(
                      "ISO 时间（无时区按北京时间）", "ISO time (Asia/Shanghai if no zone)")),),
                  response="AuditCase", errors=("forbidden", "not_found", "invalid"))
    def audit_case(case_id: int):
        scope = _api_scope()
        try:
            as_of = _time(request.args.get("as_of"))
        except Invalid:
            raise Invalid(fields={"as_of": BAD_TIME}) from None
        found = views.case_audit(engine(), scope, case_id, as_of)
        language = api_module.lang()
        return {
            "case_id": case_id, "org": found.org,
            "stored": asdict(found.stored) if found.stored else None,
            "as_of": as_of, "rebuilt": rebuilt_json(found.rebuilt),
            "rebuilt_error": found.rebuilt_error.get(language) if found.rebuilt_error
            else None,
            "events": [event_json(h.event, language) | {
                "state_after": h.state,
                "changes": None if h.changes is None else [asdict(c) for c in h.changes]}
                for h in found.history],
            "problems": [problem_json(p, language) for p in found.problems],
        }

    @routes.route("/verify", "POST", tag="audit",
                  summary=Text("审计：立即校验", "Audit: verify now"),
                  description=Text("校验审计范围（或其中一个组织及其下级）的哈希链、检查点、签名、"
                                   "上级副本和重放结果，逐案给出结果。",
                                   "Checks chains, checkpoints, signatures, witness copies and "
                                   "replay over the auditor's scope (or one organisation's "
                                   "subtree in it), with the result per case."),
                  body="AuditVerifyRequest", response="AuditReport",
                  errors=("forbidden", "not_found", "invalid"))
    def audit_verify():
        scope = _api_scope()
        body = api_module.json_body(("org",))
        org = body.get("org")
        if org is not None and not isinstance(org, str):
            raise Invalid(fields={"org": api_module.NOT_TEXT})
        codes = scope.subtree(org or None)
        result = views.verify_scope(engine(), codes)
        language = api_module.lang()
        report = result.report
        return {
            "ok": report.ok, "scope": codes, "cases": report.cases, "events": report.events,
            "checkpoints": report.checkpoints, "signed": report.signed,
            "ledger_events": report.ledger_events,
            "problems": [problem_json(p, language) for p in report.problems],
            "results": [{"case_id": i, "ok": i not in result.by_case}
                        for i in result.all_ids],
        }

    @routes.route("/keys", tag="audit", auth=False,
                  summary=Text("各组织公布的签名公钥", "Organisations' published signing keys"),
                  description=Text("无需令牌：任何人可用它核对手中检查点的签名（AU3）。",
                                   "No token needed: anyone can check the signature of a "
                                   "checkpoint they were given (AU3)."),
                  response="PublishedKeys")
    def audit_keys():
        return {"items": [published_json(o) for o in views.published_keys(engine().db)]}

    api_module.API_LIMIT(api)
    csrf.exempt(api)
    app.register_blueprint(api)
    register(app, routes)


EVENT_PARAMS = (
    Param("org", STR, Text("组织代码（含其下级）", "Organisation code (with its subtree)")),
    Param("kind", STR, Text("流程", "Process kind")),
    Param("case", STR, Text("事项编号（id）或查询编号", "Case id or reference code")),
    Param("actor", STR, Text("操作人：用户名或 user:… / applicant:… / public:… / system",
                             "Actor: a username, or user:… / applicant:… / system")),
    Param("trigger", STR, Text("操作名", "Trigger name")),
    Param("since", STR, Text("起始日期或时间（北京时间）", "From date or time (Asia/Shanghai)")),
    Param("until", STR, Text("截止日期或时间（含当日）", "Until date or time (inclusive)")),
    Param("after", STR, Text("上一页返回的 `next`", "The previous page's `next`")),
    Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": PAGE},
          Text("每页条数", "Page size")),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(keys_bp)
    register_api(app)
