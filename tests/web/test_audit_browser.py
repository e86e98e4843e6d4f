"""In a real browser: an auditor finds the case someone tampered with (AU2, AU3).

The demo data (real processes, the county's auditor) gets signing keys and a round of
checkpoints; then an insider edits one event's actor in SQL. The auditor signs in,
opens the desk from the menu, runs "verify now", finds the case named with the event's
sequence number and the kind of tampering, and opens its history, where the edited
event is marked. Fixtures: ``tests/web/browser.py``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from workflow.audit import signing
from workflow.audit.chain import write_checkpoint
from workflow.store.models import cases, events

if TYPE_CHECKING:
    from tests.web.browser import Live

#: the fixtures ``browser``, ``server``, ``live`` and ``page``
pytest_plugins = ["tests.web.browser"]


def test_au2_an_auditor_finds_the_tampered_case(page: Page, live: Live, log_in, tmp_path,
                                                monkeypatch) -> None:
    monkeypatch.setenv("GONGKAI_KEY_DIR", str(tmp_path / "keys"))
    engine = live.engine
    for org in ("XW", "XW-QS", "XW-QS-XBQ"):
        signing.add_key(engine.db, org)
    write_checkpoint(engine.db)
    with engine.db.read() as conn:
        victim = conn.execute(
            sa.select(cases.c.id, cases.c.code, cases.c.title).where(cases.c.seq >= 3)
            .order_by(cases.c.id)).first()
    assert victim is not None, "the demo has a case with a few events"
    with engine.db.engine.begin() as conn:
        conn.execute(sa.update(events).where(events.c.case_id == victim.id,
                                             events.c.seq == 2).values(actor="user:nobody"))

    log_in("auditor")
    page.locator("header nav a", has_text="审计台").click()
    page.wait_for_url("**/audit/")
    expect(page.locator("nav.audit-tabs a.on")).to_have_text("事件日志")
    expect(page.locator("table.audit-log tbody tr").first).to_be_visible()

    page.locator("nav.audit-tabs a", has_text="立即校验").click()
    page.wait_for_url("**/audit/verify")
    page.locator("#verify-form button[type=submit]").click()
    expect(page.locator("#verify-verdict")).to_have_text("发现 1 处问题")
    bad = page.locator("#verify-cases tr.bad")
    expect(bad).to_have_count(1)
    expect(bad).to_have_attribute("data-case", str(victim.id))
    expect(bad).to_contain_text("第 2 号事件")
    expect(bad).to_contain_text("事件头被改动")
    expect(bad.locator("li[data-code=event_edited]")).to_have_count(1)
    expect(page.locator("#verify-cases tr.good").first).to_contain_text("完好")

    bad.get_by_role("link", name=victim.code).click()
    page.wait_for_url(re.compile(rf"/audit/cases/{victim.id}$"))
    expect(page.locator("#case-verdict")).to_have_text("发现问题")
    expect(page.locator("#case-problems li[data-code=event_edited]")).to_contain_text(
        "第 2 号事件")
    marked = page.locator("#history li.bad")
    expect(marked).to_have_count(1)
    expect(marked).to_have_attribute("data-seq", "2")
    expect(marked).to_contain_text("user:nobody")

    # The checkpoints are signed and witnessed; the public key is on the board.
    page.locator("nav.audit-tabs a", has_text="检查点").click()
    expect(page.locator("#checkpoints tbody tr").first).to_contain_text("✓")
    page.goto("/board/keys")
    expect(page.locator("section.org-keys")).to_have_count(3)
