"""Officers' pages: the inbox, the case page with its actions, starting a case.

Routes only translate: parse the request, call one engine function, map its typed
errors (STYLE.md). No process is named here; everything comes from the definitions.
"""

from __future__ import annotations

from flask import (
    Blueprint,
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
from flask_login import login_required
from markupsafe import Markup

from web.auth import current_account
from web.diagram import diagram_svg
from web.i18n import lang, pick
from web.views import attachment_response, document_response, engine
from workflow.base.errors import Invalid, NotAllowed, NotFound, StaleVersion
from workflow.core.schema import Schema, Upload
from workflow.people import accounts
from workflow.views import attachments, progress, tracking
from workflow.views import inbox as queries

bp = Blueprint("inbox", __name__)

def N_(text: str) -> str:
    """Marks a string for the catalogue; it is translated where it is shown."""
    return text


VIEW_LABELS = {"mine": N_("我的待办"), "org": N_("本单位事项"), "due": N_("即将到期"),
               "overdue": N_("已逾期")}


def form_payload(schema: Schema) -> dict:
    """A submitted HTML form as a payload: only the schema's fields, as strings; the files
    of a file field as ``Upload``s (the door checks and stores them with the action)."""
    payload = {}
    for f in schema.fields:
        if f.type == "bool":
            payload[f.name] = f.name in request.form
        elif f.type == "file":
            sent = [Upload(part.filename or "", part.read())
                    for part in request.files.getlist(f.name) if part.filename]
            if sent:
                payload[f.name] = sent
        elif f.name in request.form:
            payload[f.name] = request.form[f.name]
    return payload


def form_version() -> int | str | None:
    """The form's ``expected_version``: its digits as an int; anything else is passed on
    as sent, for the door to refuse with a reason."""
    sent = request.form.get("expected_version")
    digits = sent is not None and len(sent) <= 19 and sent.isascii() and sent.isdigit()
    return int(sent) if digits else sent


@bp.get("/")
@login_required
def home():
    return redirect(url_for("inbox.index"))


@bp.get("/inbox")
@login_required
def index():
    account = current_account()
    args = request.args
    view = args.get("view", "mine")
    if view not in queries.VIEWS:
        view = "mine"
    filters = queries.Filters(
        view=view, kind=args.get("kind") or None, state=args.get("state") or None,
        org=args.get("org") or None, q=args.get("q") or None,
        sort=args.get("sort") if args.get("sort") in queries.SORTS else "new",
        after=args.get("after") or None, before=args.get("before") or None,
    )
    by_due = filters.sort == "due" or view in ("due", "overdue")
    bad = {name: queries.BAD_CURSOR for name in ("after", "before")
           if args.get(name) and not queries.cursor_ok(args[name], by_due)}
    if bad:
        raise Invalid(queries.BAD_CURSOR, bad)
    page = queries.list_cases(engine(), account.actor.grants, filters)
    return render_template("inbox.html", page=page, filters=filters,
                           views=queries.VIEWS, view_labels=VIEW_LABELS,
                           processes=engine().registry.latest(),
                           orgs=queries.orgs_in_scope(
                               engine(), [path for path, _role in account.actor.grants]))


def _case_or_404(case_id: int):
    return engine().get(case_id, current_account().actor)


#: app.extensions key: process kind -> function(case) -> a panel's context for the case
#: page, with its ``template`` (a process's own view of its case, e.g. 预公开's comments)
PANELS = "gongkai.case_panels"


def panels(app) -> dict:
    """The case-page panels registered on ``app``, by process kind."""
    return app.extensions.setdefault(PANELS, {})


def render_case(case_id: int, errors: dict | None = None, trigger: str | None = None,
                values: dict | None = None, status: int = 200):
    case = _case_or_404(case_id)
    eng = engine()
    compiled = eng.registry.get(case.kind, case.def_version)
    actions = eng.actions(case, current_account().actor)
    svg = diagram_svg(compiled, case.state, lang())
    label = tracking.labeller(eng, case)
    data = {k: v for k, v in case.data.items() if not k.startswith("_")}
    named = {k: v for k, v in data.items() if label(k)}
    other = {k: v for k, v in data.items() if not label(k)}
    events = queries.timeline(eng, case.id)
    return render_template(
        "case.html", case=case, compiled=compiled, state=compiled.state(case.state),
        actions=actions, timeline=events, data=named, other=other,
        label=label, attachments=attachments.on_case(eng, case, current_account().actor),
        who={ev["seq"]: ev["who"] for ev in events},
        allowed={t.name: attachments.allowed(eng, t.schema.fields, case.org_path)
                 for t in actions if t.schema.file_fields},
        diagram=Markup(svg) if svg else None, errors=errors or {}, failed=trigger,
        documents=[d for d in compiled.process.documents if case.state in d.states],
        colleagues=_colleagues(case.org_path),
        progress=progress.steps(compiled.process, case.state, case.data,
                                compiled.state(case.state).final),
        values=values or {}, me=current_account().username,
        panel=panels(current_app).get(case.kind, lambda _case: None)(case),
    ), status


def _colleagues(org_path: str) -> list[tuple[str, str]]:
    with engine().db.read() as conn:
        return accounts.people_at(conn, org_path)


@bp.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int):
    return render_case(case_id)


@bp.get("/cases/<int:case_id>/diagram.svg")
@login_required
def diagram(case_id: int):
    """The case's process diagram on its own, full size: a phone's case page scales it
    down to the screen, too small to read."""
    case = _case_or_404(case_id)
    svg = diagram_svg(engine().registry.get(case.kind, case.def_version), case.state, lang())
    if svg is None:
        abort(404)
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, mimetype="image/svg+xml")


@bp.post("/cases/<int:case_id>/actions/<trigger>")
@login_required
def act(case_id: int, trigger: str):
    eng = engine()
    case = _case_or_404(case_id)
    arrow = eng.registry.get(case.kind, case.def_version).first(trigger)
    if arrow is None:
        abort(404)
    payload = form_payload(arrow.schema)
    try:
        eng.fire(case_id, trigger, current_account().actor, payload, form_version())
    except Invalid as exc:
        flash(pick(exc.message), "error")
        return render_case(case_id, exc.fields, trigger, payload, 422)
    except (StaleVersion, NotAllowed) as exc:
        flash(pick(exc.message), "error")
        return render_case(case_id, status=409)
    flash(_("已完成：%(action)s", action=pick(arrow.label)))
    return redirect(url_for("inbox.case_page", case_id=case_id))


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>", endpoint="attachment",
        defaults={"inline": False})
@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>/preview", endpoint="preview",
        defaults={"inline": True})
@login_required
def attachment(case_id: int, attachment_id: int, inline: bool):
    """A file of the case: a download, or shown in the browser when safe (PDF, images)."""
    found = attachments.fetch(engine(), attachment_id, current_account().actor, case_id=case_id)
    return attachment_response(found, inline)


@bp.get("/cases/<int:case_id>/documents/<name>.<fmt>")
@login_required
def document(case_id: int, name: str, fmt: str):
    return document_response(_case_or_404(case_id), name, fmt, public_only=False)


@bp.post("/cases/<int:case_id>/claim")
@login_required
def claim(case_id: int):
    account = current_account()
    target = request.form.get("assignee", account.username).strip() or None
    if request.form.get("release"):
        target = None
    try:
        queries.assign(engine(), case_id, account.actor, target)
    except Invalid as exc:
        flash(pick(exc.fields["assignee"]), "error")
        return render_case(case_id, status=422)
    flash(_("已认领") if target == account.username else
          (_("已释放") if target is None else _("已分派给 %(who)s", who=target)))
    return redirect(url_for("inbox.case_page", case_id=case_id))


@bp.post("/cases/template/<kind>")
@login_required
def from_template(kind: str):
    """Open draft cases from the template for the target organisation's type (R2)."""
    if kind not in engine().registry:
        abort(404)
    try:
        made = queries.from_template(engine(), kind, request.form.get("org", ""),
                                     request.form.get("for_org", ""), current_account().actor)
    except (Invalid, NotFound) as exc:
        flash(pick(exc.message), "error")
        return redirect(url_for("inbox.new_case"))
    flash(_("已按模板新建 %(n)s 个条目，请逐条调整后提交", n=len(made)))
    initial = engine().registry.get(kind).process.initial
    return redirect(url_for("inbox.index", view="org", kind=kind, state=initial))


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new_case():
    eng = engine()
    account = current_account()
    startable = [(c, [(code, name) for code, name, path, _r in account.roles
                      if account.actor.holds(c.process.start_roles, path)])
                 for c in eng.registry.latest()]
    startable = [(c, sorted(set(o))) for c, o in startable if o]
    errors, values, chosen = {}, {}, request.values.get("kind")
    if request.method == "POST":
        compiled = eng.registry.get(chosen) if chosen in eng.registry else None
        if compiled is None:
            abort(404)
        values = form_payload(compiled.process.start_schema)
        try:
            case = eng.start(chosen, request.form.get("org", ""), account.actor, values)
        except Invalid as exc:
            errors = exc.fields
            flash(pick(exc.message), "error")
        except NotFound as exc:
            errors = {"org": exc.message}
        else:
            flash(_("已立案：%(code)s", code=case.code))
            return redirect(url_for("inbox.case_page", case_id=case.id))
    allowed = {c.kind: attachments.allowed(eng, c.process.start_schema.fields)
               for c, _orgs in startable}
    return render_template("new_case.html", startable=startable, chosen=chosen,
                           errors=errors, values=values, allowed=allowed), (
        422 if errors else 200)
