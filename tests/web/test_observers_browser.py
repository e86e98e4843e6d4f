"""党员旁听 in the browser, on the demo data (O3–O7): a member registers on the open
meeting with the branch's letter, the office verifies the registration and draws the meeting
that is ready (its pool committed, the public value announced today) and releases the result
to the public after its internal release (G1), and a visitor sees the result page re-run the
draw and say that it matches."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from workflow.store.models import cases

pytest_plugins = ["tests.web.browser"]

OPEN = "镇党委第 13 次全体会议"     # the demo's meeting open for registration
READY = "镇党委第 12 次全体会议"    # verified, committed, value announced today
ID_NUMBER = "320102196403071234"
LETTER = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
          b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def case_id(live, title: str) -> int:
    with live.engine.db.read() as conn:
        return conn.execute(sa.select(cases.c.id).where(cases.c.title == title)).scalar_one()


def action(page: Page, form: str):
    details = page.locator(f"details:has({form})")
    if details.count() and details.get_attribute("open") is None:
        details.locator("summary").click()
    return page.locator(form)


def test_o3_o7_a_member_registers_the_office_verifies_and_draws_a_visitor_sees_matches(
        page: Page, live, log_in, browser):
    # a member registers, with the branch's letter
    log_in("qs-member")
    page.goto("/observer-meetings")
    page.locator(".observer-meeting", has_text=OPEN).get_by_role("link", name="报名旁听").click()
    form = page.locator("#register-form")
    form.locator("#name").fill("刘洋")
    form.locator("#id_number").fill(ID_NUMBER)
    form.locator("#branch").fill("青山镇第二党支部")
    form.locator("#category").select_option("社区")
    form.locator("#contact").fill("13900000008")
    form.locator("#contribution").fill("在社区从事养老服务十年，熟悉民生实事项目")
    form.locator("#letter").set_input_files(
        files=[{"name": "介绍信.pdf", "mimeType": "application/pdf", "buffer": LETTER}])
    form.locator("button[type=submit]").click()
    number = page.locator("#registration-number").inner_text()
    access = page.locator("#access-code").inner_text()
    assert re.fullmatch(r"BM-\d{4}-\d{6}", number) and ID_NUMBER not in page.content()
    page.locator("header form button", has_text="退出").click()
    page.wait_for_url("**/login")

    # the office verifies it on the case page, with the ID number masked in its list
    log_in("qs-handler")
    meeting = case_id(live, OPEN)
    page.goto(f"/observer-meetings/{meeting}/registrations")
    expect(page.locator(f"tr[data-no='{number}'] .masked")).to_have_text("3201**********1234")
    page.goto(f"/cases/{meeting}")
    verify = action(page, "#action-verify")
    verify.locator("#verify-receipt").fill(number)
    verify.locator("#verify-verified").check()
    verify.locator("button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text("核验报名")

    # … and draws the meeting whose value is announced today
    ready = case_id(live, READY)
    page.goto(f"/cases/{ready}")
    draw = action(page, "#action-draw")
    draw.locator("#draw-value").fill("3 9 1")
    draw.locator("button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text("抽签并在党内公布结果")
    # G1: the result within the Party first, then to the public
    publish = action(page, "#action-publish_result")
    publish.locator("#publish_result-channels").fill("board\nwebsite")
    publish.locator("button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text("抽签结果向党外公开")

    # the member sees the verification with the access code
    visitor = browser.new_context(locale="zh-CN", base_url=live.url)
    try:
        other = visitor.new_page()
        other.goto(f"/observer-meetings/{meeting}/status")
        other.locator("#number").fill(number)
        other.locator("#access").fill(access)
        other.locator("#status-form button[type=submit]").click()
        expect(other.locator("#verification")).to_have_text("核验通过")

        # a visitor, signed in nowhere, sees the result re-run in the browser
        other.goto(f"/observer-meetings/{ready}")
        expect(other.locator("#recheck")).to_have_attribute("data-state", "matches")
        expect(other.locator("#recheck")).to_contain_text("一致")
        expect(other.locator("#seats tbody tr")).to_have_count(4)
        assert ID_NUMBER not in other.content()
    finally:
        visitor.close()
