"""What every page shares: the engine accessor, template helpers and error pages."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from flask import Flask, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from web import documents
from web.i18n import lang, local_day, local_time, pick
from workflow.base.errors import Invalid, WorkflowError
from workflow.base.text import Text
from workflow.base.timeutil import parse_iso
from workflow.core.deadlines import explain_due
from workflow.core.engine import CaseView, Engine
from workflow.people.orgs import org_by_code
from workflow.store.models import MAX_ID
from workflow.views.attachments import Download


def engine() -> Engine:
    return current_app.extensions["gongkai"]


def due_text(explain: dict | None) -> str:
    """The due date's explanation in the page's language (A5)."""
    return explain_due(explain, lang()) or ""


FONT_MISSING = Text("服务器未安装中文字体，暂时无法生成 PDF；可先下载 HTML 版本",
                    "No Chinese font is installed on the server; download the HTML version")


def document_response(case: CaseView, name: str, fmt: str, public_only: bool):
    """A case document as HTML or as a PDF download (the 告知书, A7)."""
    compiled = engine().registry.get(case.kind, case.def_version)
    document = documents.document_for(compiled, case, name)
    if document is None or (public_only and not document.public) or fmt not in ("html", "pdf"):
        abort(404)
    with engine().db.read() as conn:
        org_name = org_by_code(conn, case.org_code).name
    if fmt == "html":
        return documents.render_html(compiled, case, document, org_name)
    filename = quote(f"{case.code}-{pick(document.label)}.pdf")
    try:
        pdf = documents.render_pdf(compiled, case, document, org_name)
    except documents.FontMissing:
        return render_template("error.html", status=503, title=pick(FONT_MISSING),
                               message=pick(FONT_MISSING)), 503
    return Response(pdf,
                    mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})


#: a file shown in the browser (PDF, PNG, JPEG only) may load nothing and run nothing; the
#: PDF viewer needs ``object-src``, and a sandboxed PDF is not rendered at all
INLINE_POLICY = ("default-src 'none'; object-src 'self'; img-src 'self'; "
                 "style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; "
                 "form-action 'none'")
DOWNLOAD_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"


def disposition(kind: str, name: str) -> str:
    """RFC 6266 with an RFC 5987 ``filename*`` for any Unicode name, and a plain ASCII
    ``filename`` for old clients."""
    plain = re.sub(r'[^A-Za-z0-9._-]+', "_", name).strip("._") or "file"
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_response(download: Download, inline: bool = False) -> Response:
    """An attachment's bytes as the recorded type; shown in the browser only when asked
    and safe (PDF, PNG, JPEG), otherwise always a download."""
    item = download.attachment
    shown = inline and item.inline
    return Response(download.data, mimetype=item.media_type, headers={
        "Content-Disposition": disposition("inline" if shown else "attachment", item.name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": INLINE_POLICY if shown else DOWNLOAD_POLICY,
        "Cache-Control": "private, no-store",
    })


TOO_LARGE = Text("上传的内容过大：一次提交的文件合计不能超过 {n} MB",
                 "The upload is too large: at most {n} MB of files per submission")


def file_size(size: int) -> str:
    """Bytes for people: 980 B, 34 KB, 2.5 MB."""
    for unit, step in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= step:
            return f"{size / step:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} B"


def wants_json() -> bool:
    return request.path.startswith("/api/")


NUL = Text("不能包含空字符（NUL）", "Must not contain NUL characters")


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a number beyond any row id is a 404 instead of an
    overflow in the database, a 500 (issue 20, item 3)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def refuse_nul() -> None:
    """A NUL byte reaches no database (PostgreSQL refuses it in text): 404 in the path,
    a field error in a query string or form (issue 20, item 3)."""
    if "\x00" in request.path:
        abort(404)
    bad = {key or "query": NUL for source in (request.args, request.form)
           for key, values in source.lists() if "\x00" in key
           or any("\x00" in value for value in values)}
    if bad:
        raise Invalid(NUL, {k.replace("\x00", "") or "query": v for k, v in bad.items()})


#: every HTML page: scripts only from this site (no inline script: the lottery's re-check
#: and any chart are files of ours), never framed by another site (issue 20, item 9)
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; object-src 'none'; frame-src 'self'; base-uri 'self'; "
               "form-action 'self'; frame-ancestors 'none'")


def security_headers(response: Response) -> Response:
    """Headers on every answer; a response that set its own policy (an attachment) keeps it."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_app(app: Flask) -> None:
    app.after_request(security_headers)
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)
    app.jinja_env.globals.update(T=pick, lang=lang, due_text=due_text)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_day"] = local_day
    app.jinja_env.filters["fromiso"] = parse_iso
    app.jinja_env.filters["filesize"] = file_size
    app.jinja_env.filters["pretty_json"] = lambda v: Markup.escape(
        json.dumps(v, ensure_ascii=False, indent=2))

    @app.errorhandler(WorkflowError)
    def workflow_error(exc: WorkflowError):
        if wants_json():
            return exc.as_json(lang()), exc.status, exc.headers
        return render_template("error.html", title=pick(exc.message), status=exc.status,
                               message=pick(exc.message)), exc.status, exc.headers

    for status, text in ((400, Text("请求有误", "Bad request")),
                         (403, Text("没有权限", "Forbidden")),
                         (404, Text("找不到该页面或事项", "Not found")),
                         (429, Text("请求过于频繁，请稍后再试", "Too many requests; try later")),
                         (500, Text("服务器出错，已记录", "Server error; it has been logged"))):
        def handler(exc, status=status, text=text):
            if wants_json():
                codes = {400: "invalid", 403: "forbidden", 404: "not_found",
                         429: "rate_limited", 500: "error"}
                return {"error": codes[status], "message": pick(text), "fields": {}}, status
            return render_template("error.html", title=pick(text), status=status,
                                   message=pick(text)), status

        app.register_error_handler(status, handler)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        text = TOO_LARGE.format(n=current_app.config["GONGKAI_UPLOAD_MB"])
        if wants_json():
            return {"error": "too_large", "message": pick(text),
                    "fields": {"file": pick(text)}}, 413
        return render_template("error.html", title=pick(text), status=413,
                               message=pick(text)), 413

    @app.context_processor
    def shared():
        return {"_": _}
