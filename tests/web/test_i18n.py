"""Language: every UI string has an English translation, and pages switch language.

The Chinese text in the source is the msgid; ``web/translations/en/LC_MESSAGES/messages.po``
holds the English. The completeness test extracts the msgids the way ``pybabel extract``
does (same ``babel.cfg``, same keywords), so a new ``_()`` string without a translation
fails here. How to update the catalogue: docs/translating.md.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from tests.web.conftest import login
from workflow.people.actors import user

try:
    from babel.messages.frontend import parse_mapping_cfg
except ImportError:  # Babel < 2.14
    from babel.messages.frontend import parse_mapping as parse_mapping_cfg

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
CATALOGUE = ROOT / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# pybabel's default keywords (_, gettext, ngettext, N_, ...) plus Flask-Babel's lazy ones:
# the same as `pybabel extract -k lazy_gettext -k lazy_ngettext:1,2` in docs/translating.md.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z]")
HOW_TO = ("Add or fix them in web/translations/en/LC_MESSAGES/messages.po "
          "(pybabel extract + pybabel update, then translate): see docs/translating.md.")


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


def dynamic_msgids() -> dict[str, str]:
    """Msgids looked up as ``_(variable)``: pybabel cannot see them, the catalogue must."""
    from web import inbox

    return {label: "web/inbox.py VIEW_LABELS" for label in inbox.VIEW_LABELS.values()
            if isinstance(label, str)}


def source_msgids() -> dict[str, list[str]]:
    """Every msgid in the source, with where it is used (file:line)."""
    with BABEL_CFG.open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    for msgid, where in dynamic_msgids().items():
        found.setdefault(msgid, []).append(where)
    return found


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text))


def load_catalogue():
    with CATALOGUE.open("rb") as po:
        return read_po(po, locale="en")


def test_the_english_catalogue_has_a_proper_header():
    catalogue = load_catalogue()
    assert str(catalogue.locale) == "en"
    assert catalogue.plural_forms == "nplurals=2; plural=(n != 1);"
    assert catalogue.charset.lower() == "utf-8"


def test_every_msgid_has_an_english_translation():
    msgids = source_msgids()
    assert len(msgids) > 50, "extraction found almost nothing: check babel.cfg"
    catalogue = load_catalogue()
    problems = []
    for msgid, where in sorted(msgids.items()):
        entry = catalogue.get(msgid)
        strings = () if entry is None else (
            entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or not all(s and s.strip() for s in strings):
            problems.append(f"  missing:  {msgid!r}  ({where[0]})")
        elif entry.fuzzy:
            problems.append(f"  fuzzy:    {msgid!r} -> {strings[0]!r}  ({where[0]})")
        elif any(placeholders(s) != placeholders(msgid) for s in strings):
            problems.append(f"  placeholders differ: {msgid!r} -> {strings[0]!r}  "
                            f"({where[0]})")
    assert not problems, (f"{len(problems)} msgid(s) lack a good English translation:\n"
                          + "\n".join(problems) + "\n" + HOW_TO)


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def test_pages_are_chinese_by_default(client):
    text = page(client.get("/login"))
    assert "登录" in text and "用户名" in text and '<html lang="zh-CN">' in text
    assert "Sign in" not in text


@pytest.mark.parametrize("how", [
    {"query_string": {"lang": "en"}},
    {"headers": {"Accept-Language": "en"}},
    {"headers": {"Accept-Language": "en-GB,en;q=0.9"}},
])
def test_a_request_can_ask_for_english(client, how):
    text = page(client.get("/login", **how))
    assert "Sign in" in text and "Username" in text and "Staff sign-in" in text
    assert '<html lang="en">' in text and "登录" not in text


def test_accept_language_prefers_chinese_when_listed_first(client):
    text = page(client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}))
    assert "登录" in text and "Sign in" not in text


def test_the_language_switch_sticks_for_the_session(client):
    response = client.get("/lang/en?next=/track")
    assert response.status_code == 302
    assert "Sign in" in page(client.get("/login"))
    track = page(client.get("/track"))
    assert "Tracking code" in track and "Access code" in track and "查询码" not in track
    assert "Sign in" in page(client.get("/login", headers={"Accept-Language": "zh"})), \
        "the chosen language beats the browser's"
    client.get("/lang/zh")
    assert "登录" in page(client.get("/login"))


def test_the_inbox_in_english_shows_english_labels_and_engine_states(
        client, users, engine, tree):
    handler = user("handler", {(tree["T"], "handler")})
    draft = engine.start("sample", "T", handler, {"title": "事项甲"})
    login(client, users["handler"])

    chinese = page(client.get("/inbox"))
    assert "我的待办" in chinese and "起草" in chinese and "样例审批" in chinese

    client.get("/lang/en")
    text = page(client.get("/inbox"))
    for label in ("Inbox", "My queue", "My organisation's cases", "Due soon", "Overdue",
                  "Reference", "Title", "Process", "State", "Sign out"):
        assert label in text, label
    assert "Draft" in text and "Sample approval" in text, "engine labels in English"
    assert "我的待办" not in text and "起草" not in text and "样例审批" not in text

    response = client.post(f"/cases/{draft.id}/actions/submit",
                           data={"amount": "5", "expected_version": "1"})
    assert response.status_code == 302
    case = page(client.get(f"/cases/{draft.id}"))
    assert "Done: Submit" in case, "a Python _() string with a placeholder"
    assert "Review" in case and "working days" in case and "History" in case
