"""Language: Chinese first, English second; dates in China's format and time zone."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from flask import request, session
from flask_login import current_user

from workflow.base.text import Text
from workflow.base.timeutil import LOCAL_TZ

LANGUAGES = ("zh", "en")


def select_locale() -> str:
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.lang in LANGUAGES:
        return current_user.lang
    return request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"


def lang() -> str:
    return "en" if select_locale() == "en" else "zh"


def pick(text: Text | None) -> str:
    """The user's language out of a bilingual engine text."""
    return "" if text is None else text.get(lang())


def local_time(moment: dt.datetime | None, with_time: bool = True) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(LOCAL_TZ)
    if lang() == "en":
        return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
    return local.strftime("%Y年%m月%d日 %H:%M" if with_time else "%Y年%m月%d日")


def local_day(day: dt.date | None) -> str:
    if day is None:
        return ""
    return day.isoformat() if lang() == "en" else day.strftime("%Y年%m月%d日")


def compile_catalogues(directory: Path) -> None:
    """Compile each ``messages.po`` whose ``.mo`` is missing or older: the .po is the source."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        # written aside and renamed: a worker or the dispatcher compiling at the same
        # moment never reads a half-written catalogue
        partial = mo.with_name(f"{mo.name}.{os.getpid()}.part")
        with partial.open("wb") as target:
            write_mo(target, catalog)
        os.replace(partial, mo)
