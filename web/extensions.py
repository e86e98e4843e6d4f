"""Flask extensions, created unbound; ``create_app`` calls each one's ``init_app``.

The rate limiter's settings come from the environment (``limiter_settings``): its store
must be shared (``GONGKAI_RATELIMIT_STORAGE=redis://…``) wherever more than one process
serves, or each process counts on its own and the limits multiply by the workers.
"""

from __future__ import annotations

import os

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

MEMORY = "memory://"


def limiter_settings() -> dict[str, object]:
    """Flask-Limiter's configuration from ``GONGKAI_RATELIMIT_*`` and the per-route limits
    an operator may change. Limits are on unless ``GONGKAI_RATELIMIT_ENABLED=0`` (test
    set-ups only). ``RATELIMIT_ENABLED`` is always given: Flask-Limiter keeps the last
    app's setting as the next default."""
    settings: dict[str, object] = {
        "RATELIMIT_STORAGE_URI": os.environ.get("GONGKAI_RATELIMIT_STORAGE") or MEMORY,
        "RATELIMIT_ENABLED": os.environ.get("GONGKAI_RATELIMIT_ENABLED", "1") != "0",
        "LOGIN_RATE_LIMIT": os.environ.get("GONGKAI_LOGIN_RATE_LIMIT", "10 per minute"),
        # a 429 says when to come back (Retry-After), as the OpenAPI document promises
        "RATELIMIT_HEADERS_ENABLED": True,
    }
    if os.environ.get("GONGKAI_API_RATE_LIMIT"):
        settings["API_RATE_LIMIT"] = os.environ["GONGKAI_API_RATE_LIMIT"]
    return settings


def unshared_store_warning(workers: int) -> str | None:
    """What to say when ``workers`` processes would each keep their own counts."""
    settings = limiter_settings()
    if workers < 2 or not settings["RATELIMIT_ENABLED"]:
        return None
    if not str(settings["RATELIMIT_STORAGE_URI"]).startswith(MEMORY):
        return None
    return (f"警告：{workers} 个工作进程各用各的内存限流计数，限流次数会成倍放宽；"
            "请设置 GONGKAI_RATELIMIT_STORAGE=redis://… / "
            f"warning: {workers} workers with the in-memory rate-limit store each count "
            "on their own, so every limit is multiplied by the workers; set "
            "GONGKAI_RATELIMIT_STORAGE=redis://…")
