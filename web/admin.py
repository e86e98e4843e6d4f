"""Administrators manage the organisation tree, people, roles and API tokens."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.engine import Connection

from web.auth import current_account
from web.i18n import pick
from web.views import engine
from workflow.base.errors import WorkflowError
from workflow.people import accounts
from workflow.people.orgs import ORG_TYPES, add_org, list_orgs

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_account().has("admin"):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _page(errors: dict | None = None, status: int = 200, token: str | None = None):
    with engine().db.read() as conn:
        orgs, users = list_orgs(conn), accounts.list_users(conn)
    return render_template("admin.html", orgs=orgs, users=users, org_types=ORG_TYPES,
                           roles=accounts.ROLE_LABELS, errors=errors or {},
                           form=request.form, token=token), status


@bp.get("/")
@admin_required
def index():
    return _page()


def _save(form_name: str, field: str, write: Callable[[Connection], object], done: str):
    """Run one write; a refusal shows the page again with ``form_name``'s field errors
    (``field`` carries a message that names no field), 422."""
    try:
        with engine().db.write() as conn:
            write(conn)
    except WorkflowError as exc:
        flash(pick(exc.message), "error")
        return _page({form_name: exc.fields or {field: exc.message}}, 422)
    flash(done)
    return redirect(url_for("admin.index"))


@bp.post("/orgs")
@admin_required
def new_org():
    form = request.form
    return _save("org", "code", lambda conn: add_org(
        conn, form.get("code", "").strip(), form.get("name", "").strip(),
        form.get("parent") or None, form.get("type", "branch")), _("已新增组织"))


@bp.post("/users")
@admin_required
def new_user():
    form = request.form
    return _save("user", "org", lambda conn: accounts.add_user(
        conn, form.get("username", "").strip(), form.get("org", ""), form.getlist("role"),
        form.get("password") or None, form.get("display_name", "").strip()), _("已保存用户"))


@bp.post("/users/<username>/token")
@admin_required
def issue_token(username: str):
    with engine().db.write() as conn:
        token = accounts.new_token(conn, username)
    flash(_("新令牌只显示这一次，请妥善保存"))
    return _page(token=token)


@bp.post("/users/<username>/revoke")
@admin_required
def revoke(username: str):
    with engine().db.write() as conn:
        count = accounts.revoke_tokens(conn, username)
    flash(_("已吊销 %(n)s 个令牌", n=count))
    return redirect(url_for("admin.index"))
