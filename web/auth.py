"""Signing in and out (Flask-Login), throttled (Flask-Limiter), CSRF on the form."""

from __future__ import annotations

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
        return str(self.account.id)

    def __getattr__(self, name: str):
        return getattr(self.account, name)


@login_manager.user_loader
def load_user(user_id: str) -> SignedIn | None:
    with engine().db.read() as conn:
        account = accounts.load(conn, int(user_id))
    return SignedIn(account) if account else None


login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录 / Please sign in"


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("inbox.index")


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
