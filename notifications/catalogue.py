"""Message templates through the i18n catalogue, outside any request.

The zh-CN template is the msgid; the English is in
``web/translations/en/LC_MESSAGES/messages.po`` beside every other UI string
(docs/translating.md). ``gongkai notify run`` has no Flask app, so the compiled
catalogue is loaded here with babel's :class:`~babel.support.Translations`, compiled
from the ``.po`` first the way the web app does (:func:`web.i18n.compile_catalogues`).
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.support import NullTranslations, Translations


def N_(text: str) -> str:  # noqa: N802 (pybabel's keyword for a msgid used later)
    """Mark a template for ``pybabel extract``; it is translated when a message renders."""
    return text


@functools.cache
def english() -> NullTranslations:
    """The English catalogue, compiled from its ``.po`` when that is newer."""
    from web import i18n

    folder = Path(i18n.__file__).parent / "translations"
    i18n.compile_catalogues(folder)
    return Translations.load(str(folder), ["en"], "messages")


def translate(msgid: str, lang: str) -> str:
    """``msgid`` (the Chinese) in ``lang``."""
    return english().gettext(msgid) if lang == "en" else msgid
