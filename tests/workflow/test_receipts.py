"""Receipts: a number and an access code shown once for what a person sends without an
account; with both, and only with both, they see what became of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.history import at
from tests.workflow.sample import definitions
from workflow.audit.chain import case_events, replay, verify
from workflow.base.errors import NotAllowed
from workflow.core.declare import Field, Process, Schema, State, Trigger
from workflow.core.declare import Text as T
from workflow.core.registry import Registry
from workflow.people.actors import PUBLIC
from workflow.store.models import receipts
from workflow.views.receipts import lookup

#: a process of its own: registrations with a receipt, answers that name it
SIGNUP = Process(
    kind="signup", version=1, label=T("报名", "Sign-up"),
    states=(State("open", T("报名中", "Open"), role="handler"),), initial="open",
    triggers=(
        Trigger("register", ("open",), None, {"public", "member"}, T("报名", "Register"),
                Schema((Field("name", "str", T("姓名", "Name")),)), append_only=True,
                receipt="BM"),
        Trigger("answer", ("open",), None, {"handler", "reviewer"},
                T("答复报名", "Answer a registration"),
                Schema((Field("receipt", "str", T("回执编号", "Receipt")),
                        Field("text", "text", T("答复", "Answer")))), append_only=True),
    ),
    start_roles=frozenset({"handler"}),
    start_schema=Schema((Field("title", "str", T("标题", "Title")),)), code_prefix="BM",
    title_field="title")


@pytest.fixture
def registry() -> Registry:
    return Registry([*definitions(), SIGNUP])


@pytest.fixture
def case(engine, people):
    return engine.start("signup", "T", people["handler"], {"title": "党员旁听报名"}, at(0))


def test_a_receipt_is_issued_recorded_and_opens_only_with_its_code(engine, people, case):
    sent = engine.submit(case.id, "register", PUBLIC, {"name": "张三"}, now=at(1))
    assert sent.number.startswith("BM-2026-") and len(sent.access_code) == 11
    assert sent.case.version == case.version, "append-only: an officer's form stays fresh"
    payload = case_events(engine.db, case.id)[-1]["payload"]
    assert sent.number in payload and sent.access_code not in payload
    with engine.db.read() as conn:
        digest = conn.execute(sa.select(receipts.c.digest)).scalar_one()
    assert sent.access_code not in digest
    engine.fire(case.id, "answer", people["handler"],
                {"receipt": sent.number, "text": "已收到，请按时参会"}, None, at(2))
    status = lookup(engine, case.id, sent.number, sent.access_code.lower())
    assert status.sent.payload["name"] == "张三"
    assert [s.payload["text"] for s in status.since] == ["已收到，请按时参会"]
    assert status.since[0].who.zh == "工作人员"
    assert lookup(engine, case.id, sent.number, "WRONG-CODE") is None
    assert lookup(engine, case.id, "BM-2026-999999", sent.access_code) is None
    other = engine.start("signup", "T", people["handler"], {"title": "另一事项"}, at(3))
    assert lookup(engine, other.id, sent.number, sent.access_code) is None


def test_each_firing_gets_its_own_number_and_replay_agrees(engine, people, case):
    first = engine.submit(case.id, "register", PUBLIC, {"name": "甲"}, now=at(1))
    second = engine.submit(case.id, "register", PUBLIC, {"name": "乙"}, now=at(2))
    assert first.number != second.number
    assert replay(case_events(engine.db, case.id), engine.registry).seq == 3
    assert verify(engine.db, engine.registry).ok


def test_a_refused_submission_issues_no_receipt(engine, people, case):
    with pytest.raises(Exception):  # noqa: B017 - the name is required
        engine.submit(case.id, "register", PUBLIC, {}, now=at(1))
    with pytest.raises(NotAllowed):
        engine.submit(case.id, "answer", people["handler"], {"receipt": "x", "text": "y"},
                      now=at(1))
    with engine.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(receipts)).scalar() == 0
    assert engine.get(case.id, people["handler"]).seq == 1, "nothing was appended"


def test_the_receipt_key_cannot_be_forged_in_a_payload(engine, people, case):
    with pytest.raises(Exception) as refused:  # noqa: B017
        engine.submit(case.id, "register", PUBLIC, {"name": "甲", "_receipt": "BM-1"}, now=at(1))
    assert "_receipt" in refused.value.fields


def test_an_unknown_number_costs_the_hash_a_known_one_does(monkeypatch):
    """Issue 20, item 7: no timing oracle: the password hash runs for an unknown code too."""
    from workflow.people import access

    checked = []
    real = access.check_password_hash
    monkeypatch.setattr(access, "check_password_hash",
                        lambda digest, code: checked.append(digest) or real(digest, code))
    assert access.matches(None, "ABCDE-FGHJK") is False
    assert access.matches(access.hashed("ABCDE-FGHJK"), "abcde-fghjk") is True
    assert access.matches(access.hashed("ABCDE-FGHJK"), None) is False
    assert len(checked) == 3, "every answer ran the hash once"


def test_passwords_and_codes_are_hashed_at_full_cost():
    """The suite hashes cheaply (tests/conftest.py); the product, run on its own, at
    werkzeug's full scrypt cost."""
    script = ("from workflow.people import access, accounts\n"
              "print(access.hashed('ABCDE-FGHJK').split('$')[0])\n"
              "print(accounts.generate_password_hash('secret-pass-1').split('$')[0])\n"
              "print(access._DECOY.split('$')[0])")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.split() == ["scrypt:32768:8:1"] * 3
