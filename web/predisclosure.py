"""预公开 on the board and over the API: drafts open for comments, the comment form, the
commenter's view of the answer (P3, P4, P6, G1, G13).

Who sees which draft and who a comment is from are decided in
:mod:`workflow.views.predisclosures`; routes here parse, make one call and shape the answer.

* ``/board/pre-disclosures[?org=CODE]``: the drafts, open ones first with the days left and
  the number of comments received; ``/board/pre-disclosures/<id>``: one draft with its
  notices, the comment form while it is open (anonymous on a 党外 draft, as the signed-in
  member or supervisor otherwise; throttled, with the board's honeypot), after the close
  the closing time, a deferral's rule and counts, and once published the summary (P6);
  ``/board/pre-disclosures/<id>/receipt``: a commenter's answer, with the receipt number
  and the access code (sent by POST, never in the address).
* On the officer's case page, the comments with filters by stance and outcome, the counts,
  and a form to answer each (a case panel, :func:`comments_panel`).

* ``GET /api/v1/pre-disclosures[?org=CODE]``: the drafts, open and closed, visible to the
  caller (a member's or supervisor's bearer token adds their subtree's 党内 drafts).
* ``POST /api/v1/pre-disclosures/{id}/comments`` → 201 ``{"receipt", "access_code"}``; a
  draft outside the caller's scope is the same 404 as one that does not exist.
* ``GET /api/v1/pre-disclosures/{id}/comments/{receipt}`` with ``X-Access-Code``: the
  comment and its disposition; a wrong code is the same 404.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from web.api import json_body, lang
from web.extensions import csrf, limiter
from web.i18n import pick
from web.inbox import panels
from web.openapi import INT, OPT_STR, STAMP, STR, Param, Routes, register
from web.views import attachment_response, engine
from workflow.base.errors import Invalid, NotAllowed, NotFound
from workflow.base.text import Text
from workflow.base.timeutil import iso_utc
from workflow.people import accounts
from workflow.people.actors import Actor
from workflow.views import predisclosures
from workflow.views.predisclosures import Draft

KIND = predisclosures.KIND
DEFAULT_COMMENT_LIMIT = "5 per minute"
COMMENT_FIELDS = ("stance", "text", "name", "contact")
NO_SUCH_COMMENT = Text("找不到该意见，或查询码不正确",
                       "No such comment, or the access code is wrong")


def comment_limit() -> str:
    """The board's opinion form's rate limit, for comments by form and by API alike."""
    return current_app.config.get("BOARD_OPINION_RATE_LIMIT", DEFAULT_COMMENT_LIMIT)


def label(key: str, language: str, def_version: int | None = None) -> str:
    found = engine().registry.get(KIND, def_version).label(key)
    return found.get(language) if found else key


# -- JSON shapes ------------------------------------------------------------------------------


def draft_json(found: Draft, language: str) -> dict[str, Any]:
    """A draft for the API: no commenter's name or contact, ever."""
    compiled = engine().registry.get(KIND, found.def_version)
    deferred = None
    if found.deferred:
        deferred = {k: found.deferred.get(k) for k in ("ground", "comments", "objections",
                                                       "percent", "on")}
        deferred |= {"rule": "P5", "ground_label": label(found.deferred["ground"], language)}
    outcome = dict(found.outcome) if found.outcome else None
    return {
        "id": found.id, "code": found.code, "title": found.title, "org": found.org,
        "org_name": found.org_name, "scope": found.scope, "state": found.state,
        "state_label": compiled.state(found.state).label.get(language),
        "round": found.round, "draft": found.text,
        "documents": [{k: d.get(k) for k in ("name", "media_type", "size")}
                      | {"url": url_for("predisclosure.document", case_id=found.id,
                                        attachment_id=d["attachment"], _external=True)}
                      for d in found.documents],
        "forms": list(found.forms), "comment_until": found.comment_until,
        "closes_at": iso_utc(found.closes_at), "open": found.is_open,
        "days_left": found.days_left, "comments": found.comments,
        "notices": [{k: n.get(k) for k in ("kind", "until", "on", "note", "round")}
                    for n in found.notices],
        "deferred": deferred, "outcome": outcome,
        "url": url_for("predisclosure.page", case_id=found.id, _external=True),
    }


def status_json(status: predisclosures.CommentStatus, language: str) -> dict[str, Any]:
    disposition = None
    if status.disposition:
        disposition = dict(status.disposition)
        disposition["outcome_label"] = label(disposition["outcome"], language)
    return {"receipt": status.receipt, "draft": {"id": status.case_id, "title": status.title},
            "stance": status.stance, "stance_label": label(status.stance, language),
            "text": status.text, "sent_at": status.sent_at, "disposition": disposition}


NULLABLE_OBJECT = {"type": ["object", "null"]}
SCHEMAS = {
    "PreDisclosure": {
        "type": "object",
        "required": ["id", "title", "org", "scope", "state", "comment_until", "closes_at",
                     "open", "comments"],
        "properties": {
            "id": INT, "code": OPT_STR, "title": STR, "org": STR, "org_name": STR,
            "scope": {"type": "string", "enum": ["internal", "public"], "description": Text(
                "internal：党内（仅本组织及下级组织的党员、监督员可见、可提意见）；public：党外",
                "internal: 党内, for the Party members and supervisors of the organisation's "
                "subtree only; public: 党外, for everyone")},
            "state": STR, "state_label": STR, "round": INT,
            "draft": {**STR, "description": Text("征求意见稿", "The draft for comments")},
            "documents": {"type": "array", "items": {"type": "object", "properties": {
                "name": STR, "media_type": STR, "size": INT,
                "url": {"type": "string", "format": "uri"}}}},
            "forms": {"type": "array", "items": STR,
                      "description": Text("预公开形式（P2）", "Forms (P2)")},
            "comment_until": {"type": "string", "format": "date", "description": Text(
                "征求意见截止日期（北京时间当日 24:00 截止）",
                "Last day for comments (closes at 24:00 Beijing time)")},
            "closes_at": STAMP, "open": {"type": "boolean"},
            "days_left": {"type": ["integer", "null"],
                          "description": Text("剩余天数（当日截止为 0）",
                                              "Days left (0: closes today)")},
            "comments": {**INT, "description": Text("已收到的意见条数",
                                                     "Comments received")},
            "notices": {"type": "array", "description": Text(
                "征求意见公告：发布、延长、重新开放（P3）",
                "Notices: opened, extended, reopened (P3)"), "items": {"type": "object"}},
            "deferred": {**NULLABLE_OBJECT, "description": Text(
                "暂缓作出决定的依据（P5）及计数", "Why the decision is deferred (P5), counts")},
            "outcome": {**NULLABLE_OBJECT, "description": Text(
                "已公开的意见处理情况和结果（P6，先党内后党外）",
                "The published handling of the comments and the result (P6, G1)")},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "PreDisclosureList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/PreDisclosure"}}}},
    "CommentIn": {
        "type": "object", "required": ["stance", "text"], "additionalProperties": False,
        "properties": {
            "stance": {"type": "string", "enum": ["support", "object", "suggest"],
                       "description": Text("赞成、反对、修改建议", "Support, object, suggest")},
            "text": {"type": "string", "maxLength": 2000},
            "name": {"type": "string", "maxLength": 50, "description": Text(
                "姓名（可不填，不公开）", "Name (optional, never published)")},
            "contact": {"type": "string", "maxLength": 100, "description": Text(
                "联系方式（可不填，不公开）", "Contact (optional, never published)")},
        },
    },
    "CommentReceipt": {
        "type": "object", "required": ["receipt", "access_code"],
        "properties": {
            "receipt": {**STR, "description": Text("回执编号，如 YJ-2026-000045",
                                                   "Receipt number, e.g. YJ-2026-000045")},
            "access_code": {**STR, "description": Text(
                "查询码：只显示这一次，凭它和回执编号查看答复",
                "Access code, shown this once: with the receipt it shows the answer")},
        },
    },
    "CommentStatus": {
        "type": "object", "required": ["receipt", "stance", "text", "disposition"],
        "properties": {
            "receipt": STR, "draft": {"type": "object"}, "stance": STR, "stance_label": STR,
            "text": STR, "sent_at": STAMP,
            "disposition": {**NULLABLE_OBJECT, "description": Text(
                "处理结果：outcome（adopted 采纳、partly 部分采纳、not_adopted 不予采纳、"
                "outside 不属于本事项）、reason、forwarded_to、reply、answered_at；未处理为 null",
                "outcome (adopted, partly, not_adopted, outside), reason, forwarded_to, "
                "reply, answered_at; null until answered")},
        },
    },
}


# -- the API ----------------------------------------------------------------------------------


def _bearer() -> str | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def caller() -> tuple[Actor | None, tuple[str, ...], dict[str, str]]:
    """The bearer token's person, their member and supervisor paths and the headers to
    answer with; a wrong or revoked token counts as none (fail closed, RFC 6750)."""
    headers = {"Vary": "Authorization", "Cache-Control": "no-cache"}
    token = _bearer()
    if not token:
        return None, (), headers
    with engine().db.read() as conn:
        account = accounts.by_token(conn, token)
    if account is None:
        headers["WWW-Authenticate"] = 'Bearer realm="gongkai", error="invalid_token"'
        return None, (), headers
    headers["Cache-Control"] = "private, no-store"
    return account.actor, predisclosures.viewer_paths(account.actor.grants), headers


def list_drafts():
    """The drafts, open and closed, the caller may see."""
    _actor, paths, headers = caller()
    found = predisclosures.drafts(engine(), paths, request.args.get("org") or None)
    language = lang()
    return {"items": [draft_json(d, language) for d in found]}, 200, headers


def post_comment(case_id: int):
    """Comment on a draft: 201 with the receipt number and the access code (shown once)."""
    actor, paths, headers = caller()
    payload = json_body(COMMENT_FIELDS)
    sent = predisclosures.comment(engine(), case_id, actor, paths, payload)
    headers["Cache-Control"] = "no-store"
    return {"receipt": sent.number, "access_code": sent.access_code}, 201, headers


def get_comment(case_id: int, receipt: str):
    """The comment and how it was handled, with the access code in ``X-Access-Code``."""
    status = predisclosures.comment_status(engine(), case_id, receipt,
                                           request.headers.get("X-Access-Code"))
    if status is None:
        raise NotFound(NO_SUCH_COMMENT)
    return status_json(status, lang()), 200, {"Cache-Control": "no-store"}


def register_api(app: Flask) -> None:
    api = Blueprint("predisclosure_api", __name__, url_prefix="/api/v1")
    routes = Routes(api, guard=lambda view: view, schemas=SCHEMAS, path_docs={
        "case_id": (Text("预公开事项编号（`id`）", "The draft's id"), {"minimum": 1}),
        "receipt": (Text("回执编号", "Receipt number"), {}),
    })
    token_note = Text("令牌可不带；党员或监督员的令牌另含其所在组织及上级组织的党内事项。"
                      "令牌无效时按未带处理。",
                      "The token is optional; a member's or supervisor's token adds the "
                      "党内 drafts of their organisation and of those above it. A wrong token "
                      "counts as none.")
    routes.route(
        "/pre-disclosures", endpoint="list", auth=False, tag="pre-disclosures",
        summary=Text("征求意见的预公开事项", "Drafts put out for comments"),
        description=Text("返回调用者可见的、已发布征求意见的事项（征求中和已截止的）。"
                         + token_note.zh,
                         "The drafts opened for comments (open and closed) the caller may "
                         "see. " + token_note.en),
        params=(Param("org", STR, Text("组织代码（含其下级组织）",
                                       "Organisation code (with its subtree)")),),
        response="PreDisclosureList", errors=("not_found",),
    )(list_drafts)
    routes.route(
        "/pre-disclosures/<int:case_id>/comments", "POST", endpoint="comment", auth=False,
        tag="pre-disclosures", body="CommentIn", status=201, response="CommentReceipt",
        summary=Text("提出意见（党外事项无需账号）", "Comment (no account for 党外 drafts)"),
        description=Text(
            "返回回执编号和只显示一次的查询码。调用者看不到的事项（党内事项、其他组织的事项）"
            "与不存在的事项一样返回 404；征求意见期截止后返回 409 并说明截止时间。" + token_note.zh,
            "Returns the receipt number and an access code shown once. A draft the caller "
            "may not see (党内, another organisation's) is the same 404 as one that does not "
            "exist; after the close, 409 says when it closed. " + token_note.en),
        errors=("not_found", "invalid", "not_allowed"),
    )(limiter.limit(comment_limit)(post_comment))
    routes.route(
        "/pre-disclosures/<int:case_id>/comments/<receipt>", endpoint="comment_status",
        auth=False, tag="pre-disclosures", response="CommentStatus", errors=("not_found",),
        params=(Param("X-Access-Code", {"type": "string"}, Text("查询码", "The access code"),
                      required=True, where="header"),),
        summary=Text("凭回执查看意见的处理结果", "See how a comment was handled"),
        description=Text("查询码错误或缺失与回执编号不存在一样返回 404。",
                         "A wrong or missing access code gets the same 404 as an unknown "
                         "receipt."),
    )(limiter.limit("60 per minute")(get_comment))
    csrf.exempt(api)
    app.register_blueprint(api)
    register(app, routes)


# -- the board's pages -------------------------------------------------------------------------

bp = Blueprint("predisclosure", __name__)
HONEYPOT = "website"
INTERNAL_ONLY = Text("党内事项只接受本组织及下级组织党员的意见",
                     "Internal drafts take comments from the organisation's members only")


def _viewer() -> tuple[Actor | None, tuple[str, ...]]:
    """The signed-in person and their member and supervisor paths; none when anonymous."""
    if getattr(current_user, "is_authenticated", False):
        actor = current_user.account.actor
        return actor, predisclosures.viewer_paths(actor.grants)
    return None, ()


def _private(response: Response, paths: tuple[str, ...]) -> Response:
    """A page that may hold a 党内 draft is never kept by a shared cache."""
    response.headers["Vary"] = "Cookie"
    if paths:
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/board/pre-disclosures", endpoint="index")
def index():
    actor, paths = _viewer()
    org = request.args.get("org") or None
    found = predisclosures.drafts(engine(), paths, org)
    return _private(Response(render_template(
        "predisclosure_list.html", drafts=found, org=org,
        label=engine().registry.get(KIND).label)), paths)


def render_page(case_id: int, errors: dict | None = None, values: dict | None = None,
                status: int = 200):
    actor, paths = _viewer()
    found = predisclosures.draft(engine(), case_id, paths)
    chosen = predisclosures.commenter(engine(), actor, found)
    compiled = engine().registry.get(KIND, found.def_version)
    response = Response(render_template(
        "predisclosure_page.html", draft=found, state=compiled.state(found.state),
        files=predisclosures.draft_files(found),
        label=compiled.label, can_comment=found.is_open and chosen is not None,
        as_public=bool(chosen) and chosen[0].kind == "public",
        as_supervisor=bool(chosen) and chosen[1] == predisclosures.SUPERVISOR_COMMENT,
        stances=comment_choices(compiled, "stance"), errors=errors or {},
        values=values or {}), status)
    return _private(response, paths)


def comment_choices(compiled, name: str) -> dict[str, Text]:
    """The choices of a field of the comment form, from the trigger's own schema."""
    trigger = compiled.first(predisclosures.COMMENT)
    return next((dict(f.choices) for f in trigger.schema.fields if f.name == name), {})


@bp.get("/board/pre-disclosures/<int:case_id>", endpoint="page")
def page(case_id: int):
    return render_page(case_id)


@bp.get("/board/pre-disclosures/<int:case_id>/documents/<int:attachment_id>",
        endpoint="document")
def document(case_id: int, attachment_id: int):
    """A document of the draft, for whoever may see the draft (G1)."""
    _actor, paths = _viewer()
    found = predisclosures.draft_document(engine(), case_id, attachment_id, paths)
    return attachment_response(found, inline=request.args.get("view") == "1")


@bp.post("/board/pre-disclosures/<int:case_id>/comments", endpoint="comment")
@limiter.limit(comment_limit)
def comment_form(case_id: int):
    """P4: the comment form; the receipt number and the access code are shown once."""
    if request.form.get(HONEYPOT):
        abort(400)
    actor, paths = _viewer()
    payload = {k: request.form.get(k, "") for k in COMMENT_FIELDS}
    try:
        sent = predisclosures.comment(engine(), case_id, actor, paths, payload)
    except Invalid as exc:
        flash(pick(exc.message), "error")
        return render_page(case_id, exc.fields, payload, 422)
    except NotAllowed as exc:
        flash(pick(exc.message), "error")
        return render_page(case_id, values=payload, status=409)
    found = predisclosures.draft(engine(), case_id, paths)
    return render_template("predisclosure_sent.html", draft=found, sent=sent), 201, {
        "Cache-Control": "no-store"}


@bp.route("/board/pre-disclosures/<int:case_id>/receipt", methods=["GET", "POST"],
          endpoint="receipt")
@limiter.limit("20 per minute", methods=["POST"])
def receipt(case_id: int):
    """P4: with the receipt number and the access code, the comment and its answer."""
    status, error = None, None
    number = request.values.get("receipt", "")
    if request.method == "POST":
        status = predisclosures.comment_status(engine(), case_id, number,
                                               request.form.get("access_code"))
        if status is None:
            error = pick(NO_SUCH_COMMENT)
    compiled = engine().registry.get(KIND)
    response = render_template("predisclosure_receipt.html", case_id=case_id, status=status,
                               error=error, number=number, label=compiled.label)
    return response, (404 if error else 200), {"Cache-Control": "no-store"}


# -- the officer's case page (P4) ----------------------------------------------------------------


def comments_panel(case) -> dict[str, Any]:
    """P4: the comments of the case page, filtered by ``?stance=`` and ``?outcome=``."""
    compiled = engine().registry.get(case.kind, case.def_version)
    stance = request.args.get("stance") or None
    outcome = request.args.get("outcome") or None
    listed = predisclosures.comment_list(case, stance, outcome)
    dispose = compiled.first("dispose")
    return {"template": "case_predisclosure.html", "comments": listed, "stance": stance,
            "outcome": outcome, "stances": comment_choices(compiled, "stance"),
            "outcomes": next(dict(f.choices) for f in dispose.schema.fields
                             if f.name == "outcome"),
            "can_dispose": any(a.name == "dispose" for a in engine().actions(
                case, current_user.account.actor)),
            "version": case.version}


def init_app(app: Flask) -> None:
    """The board's pre-disclosure pages, the officer's comments panel and the JSON routes,
    in the OpenAPI document."""
    app.register_blueprint(bp)
    panels(app)[KIND] = comments_panel
    register_api(app)
