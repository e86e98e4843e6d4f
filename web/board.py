"""The public board (公开栏), its feed, search and API, and the officers' ledger (G1, G7, G8,
G10, G12).

Who sees which item is decided once, in :mod:`workflow.views.publications`; every view here
asks it with the viewer's member grants — none for an anonymous visitor, the signed-in
person's ``member`` grants on the pages and the feed, the bearer token's on the API.

* ``/board`` and ``/board/<org>``: published items by category, year and quarter;
  ``/board/search``; ``/board/feed.atom``; ``/board/items/<id>`` with channels, dates,
  change history (G7), its files (``/board/items/<id>/attachments/<file>``, read by
  :mod:`workflow.views.attachments` under the same G1 rule) and the opinion form (G8:
  anonymous or as the signed-in member, throttled, with a honeypot instead of a CAPTCHA).
* ``GET /api/v1/publications``: the same list as JSON, optional bearer token.
* ``/ledger`` (+ ``.csv``, ``.xlsx``): 《党务公开事项受理情况登记表》 for officers, one row
  per publication with the opinions received and their handling (G10).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from itertools import groupby
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from web import exports
from web.api import api_rate_limit
from web.extensions import csrf, limiter
from web.i18n import pick
from web.views import attachment_response, engine
from workflow.base.errors import Forbidden, Invalid, NotAllowed, NotFound
from workflow.base.text import Text
from workflow.base.timeutil import UTC
from workflow.people import accounts
from workflow.people.actors import PUBLIC, Actor
from workflow.people.orgs import list_orgs
from workflow.views import attachments, publications
from workflow.views.publications import Publication, Query

bp = Blueprint("board", __name__)

HONEYPOT = "website"
OPINION = "opinion"
DEFAULT_OPINION_LIMIT = "5 per minute"
# Roles that make someone an officer for the ledger: everyone but members and supervisors.
OFFICER_ROLES = ("handler", "reviewer", "leading_group", "secretary", "office",
                 "upper_receiver", "auditor", "admin")
INTERNAL_ONLY = Text("党内事项只接受本组织党员的意见；请登录后在本组织的公开栏提出",
                     "Internal items take opinions from the organisation's own members only")
ATOM = "http://www.w3.org/2005/Atom"


def _labels() -> Callable[[str], Text | None]:
    # Channel labels until the routine process declares them as labels of its own.
    return publications.labeller(engine().registry)


def _members() -> tuple[str, ...]:
    """The signed-in person's member grants; none for an anonymous visitor."""
    if getattr(current_user, "is_authenticated", False):
        return publications.member_paths(current_user.account.actor.grants)
    return ()


def _int(value: str | None, low: int, high: int) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if low <= number <= high else None


def _query(org: str | None = None) -> Query:
    args = request.args
    category = args.get("category") or None
    if category not in publications.choices(engine().registry, "category"):
        category = None
    return Query(org=org or args.get("org") or None, q=(args.get("q") or "").strip() or None,
                 category=category, year=_int(args.get("year"), 1900, 9999),
                 quarter=_int(args.get("quarter"), 1, 4))


def _private(response: Response, members: Iterable[str]) -> Response:
    """A page that may hold 党内 items is never kept by a shared cache."""
    response.headers["Vary"] = "Cookie"
    if tuple(members):
        response.headers["Cache-Control"] = "private, no-store"
    return response


# -- the board -------------------------------------------------------------------------------


def _render_board(org: str | None, template: str = "board.html"):
    eng, members = engine(), _members()
    query = _query(org)
    base = publications.publications(eng, members, Query(org=query.org))
    items = [i for i in base if publications.matches(i, query)]
    with eng.db.read() as conn:
        all_orgs = list_orgs(conn)
    current = next((o for o in all_orgs if o["code"] == query.org), None)
    ancestors = [o for o in all_orgs if current and current["path"].startswith(o["path"])
                 and o["code"] != current["code"]]
    children = [o for o in all_orgs if current and o["parent"] == current["code"]] if current \
        else [o for o in all_orgs if o["parent"] is None]
    counts: dict[str, int] = {}
    for item in base:
        counts[item.category] = counts.get(item.category, 0) + 1
    groups = [((year, quarter), list(found)) for (year, quarter), found in
              groupby(items, key=lambda i: (i.year, i.quarter))]
    response = Response(render_template(
        template, items=items, groups=groups, query=query, current=current,
        ancestors=ancestors, children=children, orgs=all_orgs, counts=counts,
        categories=publications.choices(eng.registry, "category"),
        years=sorted({i.year for i in base}, reverse=True), label=_labels(),
        member=bool(members)))
    return _private(response, members)


@bp.get("/board", endpoint="index", defaults={"org": None})
@bp.get("/board/<org>", endpoint="org_board")
def board(org: str | None):
    """The whole board, or one organisation's and its subtree's."""
    return _render_board(org)


@bp.get("/board/search")
def search():
    return _render_board(None, "board_search.html")


# -- one item and its opinion form ------------------------------------------------------------


def _opinion_actor(item: Publication) -> Actor | None:
    """Who the opinion is from: the signed-in person where they hold a role the ``opinion``
    trigger takes at the item's organisation; else the public, on a public item only."""
    compiled = engine().registry.get(publications.KIND)
    if item.kind != publications.KIND or (item.state, OPINION) not in compiled.arrows:
        return None
    if getattr(current_user, "is_authenticated", False):
        actor = current_user.account.actor
        if actor.holds(compiled.roles(OPINION, item.state), item.org_path):
            return actor
    return PUBLIC if item.scope == "public" else None


def _files(item: Publication) -> list[attachments.Attachment]:
    """The item's files this viewer may download: by the board's rule for members (an
    officer who may open an internal item only to republish it gets none)."""
    try:
        return attachments.on_board(engine(), item.id, _members())
    except NotFound:
        return []


def _render_item(item: Publication, errors: dict | None = None, values: dict | None = None,
                 status: int = 200, members: tuple[str, ...] = ()):
    actor = _opinion_actor(item)
    signed_in = getattr(current_user, "is_authenticated", False)
    response = Response(render_template(
        "board_item.html", item=item, label=_labels(), errors=errors or {},
        files=_files(item),
        values=values or {}, can_opine=actor is not None,
        as_public=actor is not None and actor.kind == "public", signed_in=signed_in,
        opinion_kinds=publications.opinion_kinds(engine().registry, actor, item.org_path),
        republishing=publications.republishing(engine(), current_user.account.actor, item)
        if signed_in and item.kind == publications.KIND else publications.Republishing()),
        status)
    return _private(response, members)


def _members_and_officers() -> tuple[str, ...]:
    """Who may open an internal item's page: its members and, to republish it below (G11),
    officers of the organisations under it."""
    if not getattr(current_user, "is_authenticated", False):
        return ()
    return tuple(sorted({*_members(), *_officer_paths()}))


@bp.get("/board/items/<int:case_id>", defaults={"part": None})
@bp.get("/board/items/<int:case_id>/<part>")
def item(case_id: int, part: str | None):
    """One item; ``part`` names one publication of a process publishing on the board
    through its own triggers (V2: ``resolution_publication``, ``result_publication``)."""
    members = _members_and_officers()
    return _render_item(publications.publication(engine(), case_id, members, part),
                        members=members)


@bp.get("/board/items/<int:case_id>/attachments/<int:attachment_id>")
def attachment(case_id: int, attachment_id: int):
    """A published item's file, for whoever may see the item (G1)."""
    actor = current_user.account.actor if getattr(current_user, "is_authenticated", False) \
        else PUBLIC
    return attachment_response(attachments.fetch(engine(), attachment_id, actor,
                                                 case_id=case_id))


@bp.post("/board/items/<int:case_id>/opinion")
@limiter.limit(lambda: current_app.config.get("BOARD_OPINION_RATE_LIMIT",
                                               DEFAULT_OPINION_LIMIT))
def opinion(case_id: int):
    if request.form.get(HONEYPOT):
        abort(400)
    members = _members()
    found = publications.publication(engine(), case_id, members)
    actor = _opinion_actor(found)
    payload = {"text": request.form.get("text", ""), "name": request.form.get("name", ""),
               "kind": request.form.get("kind") or "opinion"}
    if payload["kind"] not in publications.opinion_kinds(engine().registry, actor,
                                                         found.org_path):
        payload["kind"] = "opinion"
    if actor is None:
        flash(pick(INTERNAL_ONLY), "error")
        return _render_item(found, status=403, members=members)
    try:
        engine().fire(case_id, OPINION, actor, payload)
    except Invalid as exc:
        flash(pick(exc.message), "error")
        return _render_item(found, exc.fields, payload, 422, members)
    except NotAllowed as exc:
        flash(pick(exc.message), "error")
        return _render_item(found, status=409, members=members)
    flash(_("已收到您的意见，我们将认真研究并答复"))
    return redirect(url_for("board.item", case_id=case_id))


@bp.post("/board/items/<int:case_id>/republish")
@login_required
def republish(case_id: int):
    """G11: a lower organisation republishes an upper one's item, never beyond its scope:
    the routine process's ``republish`` decides and opens the item there, to be drafted
    and reviewed like any other (G2, G3)."""
    members = _members_and_officers()
    found = publications.publication(engine(), case_id, members)
    payload = {"org": request.form.get("org", ""), "scope": request.form.get("scope", "")}
    try:
        after = engine().fire(case_id, publications.REPUBLISH, current_user.account.actor,
                              payload)
    except Forbidden:
        abort(403)
    except (Invalid, NotAllowed) as exc:  # the form's choice refused: shown with the reason
        flash(pick(exc.message), "error")
        return _render_item(found, status=422, members=members)
    made = publications.republication(engine(), case_id, after.seq, payload["org"])
    flash(_("已新建转载事项 %(code)s，请审核后发布", code=made.code))
    return redirect(url_for("inbox.case_page", case_id=made.id))


# -- the Atom feed ---------------------------------------------------------------------------


def _stamp(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom(items: list[Publication], title: str, self_url: str, board_url: str,
         label: Callable[[str], Text | None]) -> bytes:
    """An Atom 1.0 document (RFC 4287) of these items, newest first."""
    ET.register_namespace("", ATOM)

    def sub(parent, tag: str, text: str | None = None, **attrs: str):
        node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", self_url)
    sub(feed, "title", title)
    updated = max((i.updated_at for i in items), default=None)
    sub(feed, "updated", _stamp(updated) if updated else "1970-01-01T00:00:00Z")
    sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=board_url, type="text/html")
    author = sub(feed, "author")
    sub(author, "name", _("党务公开工作平台"))
    for entry_item in items:
        entry = sub(feed, "entry")
        url = url_for("board.item", case_id=entry_item.id, part=entry_item.part,
                      _external=True)
        title_text = entry_item.title
        if entry_item.withdrawn:
            title_text = f"[{_('已撤销')}] {title_text}"
        sub(entry, "id", url)
        sub(entry, "title", title_text)
        sub(entry, "updated", _stamp(entry_item.updated_at))
        sub(entry, "published", _stamp(entry_item.published_at))
        sub(entry, "link", rel="alternate", href=url, type="text/html")
        by = sub(entry, "author")
        sub(by, "name", entry_item.org_name)
        if entry_item.category:
            sub(entry, "category", term=entry_item.category,
                label=pick(label(entry_item.category)) or entry_item.category)
        summary = entry_item.content
        withdrawal = entry_item.withdrawal
        if withdrawal:
            summary = f"{_('撤销说明')}：{withdrawal.get('explanation', '')}\n\n{summary}"
        sub(entry, "summary", summary, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@bp.get("/board/feed.atom", endpoint="feed", defaults={"org": None})
@bp.get("/board/<org>/feed.atom", endpoint="org_feed")
def feed(org: str | None):
    """The board's Atom feed, whole or one organisation's."""
    eng, members = engine(), _members()
    query = _query(org)
    items = publications.publications(eng, members, query)
    name = _("党务公开栏")
    if query.org:
        with eng.db.read() as conn:
            found = [o for o in list_orgs(conn) if o["code"] == query.org]
        name = f"{found[0]['name']} · {name}" if found else name
    self_url = request.url
    board_url = url_for("board.org_board", org=query.org, _external=True) if query.org \
        else url_for("board.index", _external=True)
    body = atom(items, name, self_url, board_url, _labels())
    return _private(Response(body, mimetype="application/atom+xml"), members)


# -- the ledger (G10) ------------------------------------------------------------------------

LEDGER_HEADERS = ("序号", "事项编号", "公开单位", "公开事项", "公开内容", "类别", "公开范围",
                  "公开渠道", "党内公开日期", "党外公开日期", "状态", "收到意见（条）", "意见内容",
                  "办理情况", "变更、撤销说明")
WHO = {"public": "公众", "applicant": "申请人", "system": "系统"}


def _officer_paths() -> list[str]:
    account = current_user.account
    return sorted({path for _c, _n, path, role in account.roles if role in OFFICER_ROLES})


def _who(opinion: dict) -> str:
    kind, _sep, ident = str(opinion.get("from") or "").partition(":")
    who = WHO.get(kind, ident or kind)
    return f"{who}（{opinion['name']}）" if opinion.get("name") else who


def _state_label(registry, kind: str, name: str) -> Text:
    for compiled in reversed(registry.all()):
        if compiled.kind == kind:
            try:
                return compiled.state(name).label
            except KeyError:
                continue
    return Text(name, name)


def ledger_rows(items: list[Publication], label: Callable[[str], Text | None]
                ) -> list[list[Any]]:
    """One row per publication, in Chinese (the form is a Chinese form)."""
    registry = engine().registry

    def zh(key: str) -> str:
        found = label(key)
        return found.zh if found else key

    rows = []
    for number, found in enumerate(items, 1):
        opinions = found.opinions
        said = "\n".join(f"{o['no']}. [{o.get('on', '')}] {_who(o)}：{o.get('text', '')}"
                         for o in opinions)
        handled = "\n".join(
            (f"{o['no']}. 已答复（{o.get('answered_on', '')}）：{o['answer']}"
             + ("（答复已公开）" if o.get("publish") else ""))
            if o.get("answer") else f"{o['no']}. 未答复" for o in opinions)
        changes = "\n".join(f"{zh(c.get('kind', ''))}（{c.get('approved_on', '')}）："
                            f"{c.get('explanation', '')}" for c in found.changes)
        rows.append([
            number, found.code or "", found.org_name, found.title, found.content,
            zh(found.category), zh(found.declared_scope),
            "、".join(zh(c) for c in found.channels),
            found.internal.get("on", ""), (found.public or {}).get("on", ""),
            _state_label(registry, found.kind, found.state).zh, len(opinions), said, handled,
            changes,
        ])
    return rows


def _ledger_items() -> tuple[list[Publication], str | None, int | None]:
    paths = _officer_paths()
    if not paths:
        abort(403)
    org = request.args.get("org") or None
    year = _int(request.args.get("year"), 1900, 9999)
    return publications.ledger(engine(), paths, org, year), org, year


@bp.get("/ledger")
@login_required
def ledger():
    items, org, year = _ledger_items()
    account = current_user.account
    orgs = sorted({(c, n) for c, n, _p, role in account.roles if role in OFFICER_ROLES})
    return render_template("ledger.html", rows=ledger_rows(items, _labels()), items=items,
                           org=org, year=year, orgs=orgs)


def _download(body: bytes, mimetype: str, extension: str) -> Response:
    name = f"党务公开事项受理情况登记表.{extension}"
    disposition = (f"attachment; filename=\"ledger.{extension}\"; "
                   f"filename*=UTF-8''{quote(name)}")
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": disposition, "Cache-Control": "private, no-store"})


@bp.get("/ledger.csv")
@login_required
def ledger_csv():
    items, _org, _year = _ledger_items()
    return _download(exports.csv_bytes(LEDGER_HEADERS, ledger_rows(items, _labels())),
                     "text/csv", "csv")


@bp.get("/ledger.xlsx")
@login_required
def ledger_xlsx():
    items, _org, _year = _ledger_items()
    body = exports.xlsx_bytes("受理情况登记表", LEDGER_HEADERS, ledger_rows(items, _labels()),
                              (6, 16, 16, 24, 40, 10, 10, 16, 12, 12, 14, 8, 40, 40, 30))
    return _download(body, exports.XLSX, "xlsx")


# -- JSON: GET /api/v1/publications -----------------------------------------------------------

STR = {"type": "string"}
DAY = {"type": ["string", "null"], "format": "date"}
PUBLICATION = {
    "type": "object",
    "required": ["id", "code", "title", "org", "org_name", "scope", "published_at", "state",
                 "withdrawn"],
    "properties": {
        "id": {"type": "integer"}, "code": {"type": ["string", "null"]}, "title": STR,
        "org": {**STR, "description": Text("组织代码", "Organisation code")},
        "org_name": STR,
        "scope": {"type": "string", "enum": ["internal", "public"], "description": Text(
            "internal：党内（仅本组织及其下级组织的党员可见）；public：党外（社会），已向社会公开",
            "internal: 党内, for members of the organisation and its subtree only; public: "
            "党外, released to everyone")},
        "category": STR, "category_label": STR, "content": STR,
        "channels": {"type": "array", "items": STR,
                     "description": Text("公开渠道（G12）", "Channels (G12)")},
        "published_at": {"type": "string", "format": "date-time", "description": Text(
            "公开时间（UTC）：党外事项为党外公开时间，否则为党内公开时间",
            "Release time (UTC): the public release for public items, else the internal one")},
        "internal_published_on": DAY, "public_published_on": DAY,
        "state": STR, "withdrawn": {"type": "boolean"},
        "withdrawal_explanation": {"type": ["string", "null"]},
        "changes": {"type": "array", "description": Text("变更、撤销记录及说明（G7）",
                                                         "Changes and withdrawals (G7)"),
                    "items": {"type": "object", "properties": {
                        "kind": {"type": "string", "enum": ["change", "withdraw"]},
                        "explanation": STR, "approved_on": DAY}}},
        "url": {"type": "string", "format": "uri"},
    },
}
SCHEMAS = {"Publication": PUBLICATION,
           "PublicationList": {"type": "object", "required": ["items"], "properties": {
               "items": {"type": "array",
                         "items": {"$ref": "#/components/schemas/Publication"}}}}}


def publication_json(found: Publication, label: Callable[[str], Text | None],
                     language: str) -> dict[str, Any]:
    withdrawal = found.withdrawal
    category = label(found.category)
    return {
        "id": found.id, "code": found.code, "title": found.title, "org": found.org,
        "org_name": found.org_name, "scope": found.scope, "category": found.category,
        "category_label": category.get(language) if category else found.category,
        "content": found.content, "channels": found.channels,
        "published_at": _stamp(found.published_at),
        "internal_published_on": found.internal.get("on"),
        "public_published_on": (found.public or {}).get("on"),
        "state": found.state, "withdrawn": found.withdrawn,
        "withdrawal_explanation": withdrawal.get("explanation") if withdrawal else None,
        "changes": [{"kind": c.get("kind"), "explanation": c.get("explanation"),
                     "approved_on": c.get("approved_on")} for c in found.changes],
        "url": url_for("board.item", case_id=found.id, part=found.part, _external=True),
    }


def _api_lang() -> str:
    chosen = request.args.get("lang")
    if chosen in ("zh", "en"):
        return chosen
    best = request.accept_languages.best_match(("zh", "en"), default="zh")
    return "en" if best == "en" else "zh"


def _bearer() -> str | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def register_api(app: Flask) -> None:
    from web.openapi import Param, Routes, register

    api = Blueprint("board_api", __name__, url_prefix="/api/v1")
    routes = Routes(api, guard=lambda view: view, schemas=SCHEMAS)

    def list_publications():
        """Published items; a member's bearer token adds their organisations' 党内 items."""
        members: tuple[str, ...] = ()
        headers = {"Vary": "Authorization"}
        token = _bearer()
        if token:
            with engine().db.read() as conn:
                account = accounts.by_token(conn, token)
            if account is None:
                # Fail closed: a wrong or revoked token reads as no token (public items
                # only), and the header says why (RFC 6750); a token-free operation
                # documents no 401 (tests/web/test_openapi.py).
                headers["WWW-Authenticate"] = 'Bearer realm="gongkai", error="invalid_token"'
            else:
                members = publications.member_paths(account.actor.grants)
        args, fields = request.args, {}
        year = _int(args.get("year"), 1900, 9999)
        quarter = _int(args.get("quarter"), 1, 4)
        category = args.get("category") or None
        if args.get("year") and year is None:
            fields["year"] = Text("应为年份", "Must be a year")
        if args.get("quarter") and quarter is None:
            fields["quarter"] = Text("应为 1 到 4", "Must be 1 to 4")
        if category and category not in publications.choices(engine().registry, "category"):
            fields["category"] = Text("没有这个类别", "No such category")
        if fields:
            raise Invalid(fields=fields)
        query = Query(org=args.get("org") or None, q=(args.get("q") or "").strip() or None,
                      category=category, year=year, quarter=quarter)
        items = publications.publications(engine(), members, query)
        label, language = _labels(), _api_lang()
        body = {"items": [publication_json(i, label, language) for i in items]}
        headers["Cache-Control"] = "private, no-store" if members else "no-cache"
        return body, 200, headers

    routes.route(
        "/publications", endpoint="publications", auth=False, tag="publications",
        summary=Text("已公开的党务公开事项", "Published disclosure items"),
        description=Text(
            "不带令牌：只返回已向社会公开的党外事项。带党员（角色 member）的令牌：另含该党员所在"
            "组织及其上级组织的党内事项。已撤销的事项仍列出，`withdrawn` 为 true 并附说明。"
            "令牌无效或已吊销时按未带令牌处理（只返回党外事项，`WWW-Authenticate` 头注明"
            " `invalid_token`）。",
            "Without a token: only items released to the public. With a Party member's "
            "token (role `member`): also the internal items of the member's organisation and "
            "of its ancestors. Withdrawn items stay listed with `withdrawn` true and the "
            "explanation. A wrong or revoked token counts as none (public items only; the "
            "`WWW-Authenticate` header says `invalid_token`)."),
        params=(
            Param("org", STR, Text("组织代码（含其下级组织）",
                                   "Organisation code (with its subtree)")),
            Param("q", STR, Text("标题或内容中的关键字", "Words in the title or content")),
            Param("category", STR, Text("类别", "Category")),
            Param("year", {"type": "integer"}, Text("公开年份", "Year of release")),
            Param("quarter", {"type": "integer", "minimum": 1, "maximum": 4},
                  Text("公开季度", "Quarter of release")),
        ),
        response="PublicationList", errors=("not_found", "invalid"),
    )(limiter.limit(api_rate_limit)(list_publications))
    csrf.exempt(api)
    app.register_blueprint(api)
    register(app, routes)


def init_app(app: Flask) -> None:
    """The board's pages and its JSON route, documented in the API's OpenAPI document."""
    app.register_blueprint(bp)
    register_api(app)
