"""Signing in and out (Flask-Login), throttled (Flask-Limiter), CSRF on the form."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from web.extensions import limiter, login_manager
from web.views import engine
from workflow.people import accounts

bp = Blueprint("auth", __name__)


class SignedIn(UserMixin):
    """Flask-Login's view of an :class:`workflow.people.accounts.Account`."""

    def __init__(self, account: accounts.Account) -> None:
        self.account = account

    def get_id(self) -> str:
        """The id with the session generation it was opened in (issue 20, item 4)."""
        return f"{self.account.id}.{self.account.session_gen}"

    def __getattr__(self, name: str):
        return getattr(self.account, name)


@login_manager.user_loader
def load_user(user_id: str) -> SignedIn | None:
    """The account, if the session is of its current generation: a cookie saved before a
    logout, a new password, a revocation or disabling opens nothing."""
    number, _, generation = user_id.partition(".")
    if not number.isdigit() or not generation.isdigit():
        return None
    with engine().db.read() as conn:
        account = accounts.load(conn, int(number))
    if account is None or account.session_gen != int(generation):
        return None
    return SignedIn(account)


login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录 / Please sign in"


_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))


def local_path(target: str | None) -> str | None:
    """``target`` as a browser would read it, if it is a path on this site; else None.

    The browser's URL parser (WHATWG) strips leading and trailing C0 controls and spaces,
    drops every tab and newline, and reads a backslash as a slash; ``/\t/evil.example`` is
    ``//evil.example`` to it, another host. So normalise first, then parse: no scheme, no
    host, a path from the root (issue 20, item 1)."""
    if not isinstance(target, str):
        return None
    cleaned = target.strip(_C0_OR_SPACE)
    cleaned = "".join(ch for ch in cleaned if ch not in "\t\n\r").replace("\\", "/")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in cleaned):
        return None
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") \
            or parts.path.startswith("//"):
        return None
    return cleaned


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        with engine().db.read() as conn:
            account = accounts.authenticate(conn, username, password)
        if account is None:
            error = _("用户名或密码不正确")
        else:
            session.clear()
            login_user(SignedIn(account))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    with engine().db.write() as conn:
        accounts.end_sessions(conn, current_account().id)
    logout_user()
    flash(_("您已退出登录"))
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))


def current_account() -> accounts.Account:
    return current_user.account
