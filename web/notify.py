"""In-app messages: the bell on every officer page, the messages page with mark-read and
links to the case, each person's notification preferences, and the administrator's list
of failed messages with a retry button. Read models: ``notifications.inbox``."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from notifications import inbox, prefs
from notifications.kinds import KINDS
from web.admin import admin_required
from web.auth import current_account
from web.i18n import lang, pick
from web.views import engine
from workflow.base.errors import WorkflowError
from workflow.store.models import as_id

bp = Blueprint("notify", __name__)


def unread_messages() -> int:
    """The bell's count for the signed-in person (0 for anyone else)."""
    if not getattr(current_user, "is_authenticated", False):
        return 0
    with engine().db.read() as conn:
        return inbox.unread(conn, current_account().username)


@bp.get("/messages")
@login_required
def messages():
    with engine().db.read() as conn:
        found = inbox.messages(conn, current_account().username, lang())
    return render_template("messages.html", messages=found)


@bp.post("/messages/<message_id>/read")
@login_required
def mark_read(message_id: str):
    number = as_id(message_id)
    if number is None:
        abort(404)
    with engine().db.write() as conn:
        inbox.mark_read(conn, current_account().username, number)
    return redirect(url_for("notify.messages"))


@bp.post("/messages/read-all")
@login_required
def mark_all_read():
    with engine().db.write() as conn:
        inbox.mark_read(conn, current_account().username)
    return redirect(url_for("notify.messages"))


def _preferences_page(errors: dict | None = None, status: int = 200):
    account = current_account()
    with engine().db.read() as conn:
        found = prefs.load(conn, account.id)
    officer_kinds = [k for k in KINDS.values() if k.officers]
    return render_template("notify_preferences.html", pref=found, kinds=officer_kinds,
                           channels=prefs.CHANNELS, errors=errors or {}), status


@bp.get("/messages/preferences")
@login_required
def preferences():
    return _preferences_page()


@bp.post("/messages/preferences")
@login_required
def save_preferences():
    form = request.form
    channels = {k.name: [c for c in prefs.CHANNELS if form.get(f"{k.name}.{c}")]
                for k in KINDS.values() if k.officers}
    try:
        with engine().db.write() as conn:
            prefs.save(conn, current_account().username, channels, bool(form.get("digest")),
                       form.get("email", ""), form.get("webhook", ""),
                       form.get("webhook_secret", ""))
    except WorkflowError as exc:
        flash(pick(exc.message), "error")
        return _preferences_page(exc.fields, 422)
    flash(_("通知设置已保存"))
    return redirect(url_for("notify.preferences"))


@bp.get("/admin/notifications")
@admin_required
def failed():
    with engine().db.read() as conn:
        found = inbox.failed(conn)
    return render_template("notify_failed.html", failed=found)


@bp.post("/admin/notifications/<message_id>/retry")
@admin_required
def retry(message_id: str):
    number = as_id(message_id)
    with engine().db.write() as conn:
        if number is None or not inbox.retry(conn, number):
            abort(404)
    flash(_("已重新排队发送"))
    return redirect(url_for("notify.failed"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(unread_messages=unread_messages)
