"""The web service: app factory, nothing bound at import time (STYLE.md)."""

from __future__ import annotations

import gc
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from web.extensions import babel, csrf, limiter, limiter_settings, login_manager
from workflow.core.attachments import MB, SETTINGS
from workflow.core.engine import Engine

HERE = Path(__file__).parent


def _secret_key(instance: Path) -> str:
    """From GONGKAI_SECRET_KEY, else a random key kept under instance/ across restarts."""
    if os.environ.get("GONGKAI_SECRET_KEY"):
        return os.environ["GONGKAI_SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def upload_limits(config: dict[str, Any]) -> dict[str, Any]:
    """The largest file a request may carry (``GONGKAI_UPLOAD_MB``, default the engine's
    10 MB; raise it with an organisation's ``attachments.max_mb``) and the request body
    limit a little above it, so a file just over a field's limit still gets the door's
    reason (422) and a far larger body is refused before it is read (413)."""
    upload_mb = int(config.pop("GONGKAI_UPLOAD_MB", None)
                    or os.environ.get("GONGKAI_UPLOAD_MB") or SETTINGS["max_mb"])
    return {"GONGKAI_UPLOAD_MB": upload_mb,
            "MAX_CONTENT_LENGTH": config.pop("MAX_CONTENT_LENGTH", None)
            or upload_mb * MB + MB}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"))
    engine: Engine | None = config.pop("ENGINE", None)
    if engine is None:
        from workflow.service import build

        engine = build(config.pop("DATABASE_URL", None))
    app.config.update(
        SECRET_KEY=config.pop("SECRET_KEY", None) or _secret_key(Path(app.instance_path)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("GONGKAI_SECURE_COOKIES", "0") == "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
        **limiter_settings(),
        WTF_CSRF_TIME_LIMIT=None,
        JSON_AS_ASCII=False,
        **upload_limits(config),
    )
    app.config.update(config)
    app.json.ensure_ascii = False
    app.extensions["gongkai"] = engine

    from web.i18n import compile_catalogues, select_locale

    compile_catalogues(HERE / "translations")
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   timezone_selector=lambda: "Asia/Shanghai")
    limiter.init_app(app)

    from web import admin, api, auth, board, inbox, public, views

    views.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    app.register_blueprint(public.bp)
    public.register_api(app, engine.registry)
    board.init_app(app)

    from web import observers

    observers.init_app(app)

    from web import predisclosure

    predisclosure.init_app(app)

    from web import audit

    audit.init_app(app)

    from web import notify

    notify.init_app(app)

    from web import stats

    stats.init_app(app)

    from web import rules

    rules.init_app(app)
    return app


def settled(app: Flask) -> Flask:
    """``app`` as a server keeps it: everything built at start-up moved out of the cyclic
    garbage collector's sight (``gc.freeze``, after one last collection), so that a full
    collection no longer walks the modules, declarations and caches on every few
    thousand requests. Without it, one in about thirty inbox requests at a million cases
    paused 80–100 ms for it (bench/bench_inbox.py). Only for a process that serves: a
    test making app after app keeps them out of ``create_app``."""
    gc.collect()
    gc.freeze()
    return app
