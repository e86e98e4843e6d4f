"""In a real browser: a member of the public comments on a draft (预公开), the officer
answers the comment, and the commenter sees the answer with the receipt (P4).

Debian's Chromium through Playwright (fixtures in ``tests/web/browser.py``: a fresh
database with the demo data per test; CSRF on, so every form goes with its token).
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

#: the fixtures ``browser``, ``server``, ``live``, ``page`` and ``log_in``
pytest_plugins = ["tests.web.browser"]

DRAFT = "村级集体经济收益分配办法"  # the demo's draft open for comments


def test_p4_the_public_comments_the_officer_answers_the_commenter_sees_it(
        page: Page, log_in):
    # a member of the public, without an account, finds the open draft and comments
    page.goto("/board/pre-disclosures")
    entry = page.locator("article.draft", has_text=DRAFT)
    expect(entry.locator(".days-left")).to_contain_text("还剩")
    entry.get_by_role("link", name=re.compile(DRAFT)).click()
    page.wait_for_url(re.compile(r"/board/pre-disclosures/\d+$"))
    case_id = page.url.rsplit("/", 1)[1]
    form = page.locator("#comment-form")
    form.locator("#stance").select_option("object")
    form.locator("#text").fill("分红比例应向困难户倾斜。")
    form.locator("#name").fill("王大爷")
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("意见已提交")
    number = page.locator("#receipt-number").inner_text()
    code = page.locator("#access-code").inner_text()
    assert re.fullmatch(r"YJ-\d{4}-\d{6}", number)

    # the officer answers it from the case page's list of comments
    page.context.clear_cookies()
    log_in("qs-handler")
    page.goto(f"/cases/{case_id}?stance=object&outcome=pending")
    row = page.locator(f"article.comment[data-receipt='{number}']")
    expect(row).to_contain_text("分红比例应向困难户倾斜。")
    row.locator("select[name=outcome]").select_option("partly")
    row.locator("textarea[name=reply]").fill("困难户另按 1.2 倍系数分配。")
    row.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("已完成")
    expect(page.locator(f"article.comment[data-receipt='{number}'] .answered")).to_contain_text(
        "部分采纳")

    # the commenter, signed out again, sees the answer with the receipt and the code
    page.context.clear_cookies()
    page.goto(f"/board/pre-disclosures/{case_id}")
    page.get_by_role("link", name="凭回执查看答复").click()
    page.locator("#receipt").fill(number)
    page.locator("#access_code").fill(code)
    page.locator("#receipt-form button[type=submit]").click()
    expect(page.locator("#status-receipt")).to_have_text(number)
    expect(page.locator("#disposition")).to_contain_text("部分采纳")
    expect(page.locator("#disposition")).to_contain_text("困难户另按 1.2 倍系数分配。")
