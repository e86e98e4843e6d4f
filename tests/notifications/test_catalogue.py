"""Message templates through the i18n catalogue: the zh-CN template is the msgid, the
English comes from web/translations/en (compiled .mo), rendered without a Flask app as
``gongkai notify run`` does. tests/web/test_i18n.py checks every template has an English
translation with the same named placeholders."""

from __future__ import annotations

import flask

from notifications.catalogue import english, translate
from notifications.kinds import KINDS, render


def test_every_template_is_translated_outside_a_request():
    assert not flask.has_app_context()
    assert english().files, "loaded from the compiled catalogue"
    for kind in KINDS.values():
        for msgid in (kind.subject, kind.body):
            assert translate(msgid, "zh") == msgid
            assert translate(msgid, "en") != msgid, msgid


def test_named_placeholders_are_filled_in_each_language_and_a_missing_one_is_blank():
    params = {"title": "党费收缴情况", "code": "XW-2026-0001", "link": "http://h/track/X",
              "process": {"zh": "依申请公开", "en": "Disclosure on request"}}
    assert render("answered", params, "zh")[0] == "您的申请已答复（XW-2026-0001）"
    assert render("answered", params, "en")[0] == "Your request XW-2026-0001 has been answered"
    _subject, body = render("queue", params | {"title": "100% 完成"}, "en")
    assert body == "“100% 完成” (Disclosure on request) is now “” and waits for you."
