"""In a real browser: officers work a 依申请公开 case, an applicant applies and tracks it.

Debian's Chromium through Playwright's sync API (fixtures in ``tests/web/browser.py``:
one browser and one live server per module; a fresh database, demo data and app per
test, so the PostgreSQL round covers these tests too). CSRF stays on: every form is
submitted as a person would submit it, with its token.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from workflow.store.models import cases

if TYPE_CHECKING:
    from tests.web.browser import Live

#: the fixtures ``browser``, ``server``, ``live`` and ``page``
pytest_plugins = ["tests.web.browser"]

NEED_FIELD = "该答复类型必须填写此项"


def log_out(page: Page) -> None:
    page.locator("header form button", has_text="退出").click()
    page.wait_for_url("**/login")
    expect(page.locator(".flash")).to_contain_text("您已退出登录")


def timeline(page: Page):
    return page.locator("#timeline li")


def case_state(page: Page):
    """The current state badge of an officer's case page (data-state is the state's name)."""
    return page.locator(".case-head .state.big")


def open_from_inbox(page: Page, title_part: str) -> None:
    """From 我的待办, open the case whose title contains ``title_part``."""
    page.goto("/inbox")
    expect(page.locator("nav.tabs a.on")).to_have_text("我的待办")
    row = page.locator("table.list tbody tr", has_text=title_part)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=re.compile(re.escape(title_part))).click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(page.locator(".case-head h1")).to_contain_text(title_part)


def action(page: Page, form: str):
    """The action's form, its folded section opened first as a user would."""
    details = page.locator(f"details:has({form})")
    if details.count() and details.get_attribute("open") is None:
        details.locator("summary").click()
    return page.locator(form)


def submit(page: Page, form: str) -> None:
    action(page, form).locator("button[type=submit]").click()


def test_officers_register_draft_approve_and_the_parent_consents(page: Page, live: Live,
                                                                 log_in):
    title = "党费收缴和使用情况"  # the demo's application that waits for registration

    page.goto("/login")
    expect(page.locator("h1")).to_have_text("登录")
    log_in("qs-handler")

    expect(page.locator("h1")).to_have_text("待办事项")
    expect(page.locator("table.list tbody tr").first).to_be_visible()
    row = page.locator("table.list tbody tr", has_text=title)
    expect(row.locator(".state")).to_have_text("已收到，待登记")
    expect(page.locator("table.list tbody")).to_contain_text("小板桥村发展党员")  # in progress

    open_from_inbox(page, title)
    expect(case_state(page)).to_have_attribute("data-state", "received")
    expect(page.locator(".diagram svg")).to_be_visible()
    expect(timeline(page)).to_have_count(1)

    # 登记受理: the case moves on and the timeline grows by one entry.
    submit(page, "#action-register")
    expect(page.locator(".flash")).to_have_text("已完成：登记受理")
    expect(case_state(page)).to_have_attribute("data-state", "processing")
    expect(case_state(page)).to_have_text("办理中")
    expect(timeline(page)).to_have_count(2)
    expect(timeline(page).first).to_contain_text("登记受理")

    # A partial answer without what is withheld and why: inline Chinese errors, nothing saved.
    form = action(page, "#action-draft_answer")
    form.locator("#draft_answer-outcome").select_option("partial")
    form.locator("#draft_answer-content").fill("提供党费收缴情况汇总表。")
    submit(page, "#action-draft_answer")
    expect(page.locator(".flash.error")).to_have_text("提交的内容有误，请检查")
    for name in ("withheld", "reason"):
        field = form.locator(".field", has=page.locator(f"#draft_answer-{name}"))
        expect(field).to_have_class(re.compile(r"\bhas-error\b"))
        expect(field.locator(".error")).to_have_text(NEED_FIELD)
    expect(form.locator(".field.has-error")).to_have_count(2)
    expect(form.locator("#draft_answer-content")).to_have_value("提供党费收缴情况汇总表。")
    expect(case_state(page)).to_have_attribute("data-state", "processing")
    expect(timeline(page)).to_have_count(2)

    form.locator("#draft_answer-withheld").fill("个人缴纳党费明细")
    form.locator("#draft_answer-reason").fill("涉及个人信息（G2），依规不予公开。")
    submit(page, "#action-draft_answer")
    expect(page.locator(".flash")).to_have_text("已完成：起草答复")
    expect(case_state(page)).to_have_attribute("data-state", "review")
    expect(timeline(page)).to_have_count(3)
    log_out(page)

    # The town's responsible person approves; withholding then needs the county's consent.
    log_in("qs-reviewer")
    open_from_inbox(page, title)
    expect(page.locator("#action-draft_answer")).to_have_count(0)
    submit(page, "#action-approve")
    expect(page.locator(".flash")).to_have_text("已完成：审核通过")
    expect(case_state(page)).to_have_attribute("data-state", "consent")
    expect(case_state(page)).to_have_text("待上级党组织同意")
    expect(timeline(page)).to_have_count(4)
    log_out(page)

    log_in("xw-reviewer")
    open_from_inbox(page, title)
    action(page, "#action-consent").locator("#consent-note").fill("同意部分公开。")
    submit(page, "#action-consent")
    expect(page.locator(".flash")).to_have_text("已完成：同意不予公开（部分公开）")
    expect(case_state(page)).to_have_attribute("data-state", "answered")
    expect(case_state(page)).to_have_text("已答复，待报备")
    expect(timeline(page)).to_have_count(5)
    expect(timeline(page).first).to_contain_text("县委办负责人")


def test_applicant_applies_tracks_clarifies_and_gets_the_notice(page: Page, live: Live):
    page.goto("/public")
    expect(page.locator("h1")).to_have_text("党务公开服务")
    card = page.locator("section.card", has=page.locator("h2", has_text="依申请公开"))
    card.get_by_role("link", name="我要申请").click()
    page.wait_for_url("**/apply/application")

    form = page.locator("#apply-form")
    form.locator("#org").select_option("XW-QS")
    expect(form.locator("#org option:checked")).to_contain_text("青山镇党委")
    form.locator("#name").fill("钱七")
    form.locator("#phone").fill("13900000007")
    form.locator("#description").fill("青山镇 2025 年村党组织换届选举结果")
    form.locator("#purpose").fill("了解本村情况")
    form.locator("#delivery").select_option("electronic")
    form.locator("#member").check()
    submit(page, "#apply-form")

    expect(page.locator("h1")).to_have_text("申请已提交")
    code = page.locator("#tracking-code").inner_text().strip()
    access = page.locator("#access-code").inner_text().strip()
    assert re.fullmatch(r"YS-\d{4}-\d{6}", code), code
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", access), access

    page.get_by_role("link", name="查询办理进度").click()
    page.wait_for_url("**/track")
    page.locator("#code").fill(code)
    page.locator("#access").fill(access)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**/track/{code}")
    expect(page.locator("#state")).to_have_text("已收到，待登记")
    expect(page.locator("#due")).to_be_visible()
    expect(timeline(page)).to_have_count(1)
    expect(timeline(page).first).to_contain_text("提交申请")

    # The town registers it and asks for a 补正 (off-page, as its officers would).
    missing = "请说明需要哪些村、哪一届换届选举的结果。"
    live.fire(code, "register", "qs-handler")
    live.fire(code, "request_clarification", "qs-handler", {"missing": missing})
    page.reload()
    expect(page.locator("#state")).to_have_text("待申请人补正")
    expect(page.locator("main")).to_contain_text(missing)
    expect(page.locator("#action-clarify")).to_be_visible()

    page.locator("#clarify-supplement").fill("小板桥村和东湖村 2025 年换届选举结果。")
    submit(page, "#action-clarify")
    expect(page.locator(".flash")).to_have_text("已提交：提交补正")
    expect(page.locator("#state")).to_have_text("办理中")
    expect(page.locator("#action-clarify")).to_have_count(0)

    # Answered in full: the written notice (告知书) is offered for download.
    live.fire(code, "draft_answer", "qs-handler",
              {"outcome": "disclosed", "content": "附两村换届选举结果公告。"})
    live.fire(code, "approve", "qs-reviewer")
    page.reload()
    expect(page.locator("#state")).to_have_text("已答复，待报备")
    link = page.locator("#pdf-notice")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"/track/{code}/documents/notice.pdf")
    # First as a plain request (same cookies), so that a broken renderer fails fast with
    # its status instead of a download that never starts.
    response = page.request.get(f"/track/{code}/documents/notice.pdf")
    assert response.status == 200, (response.status, response.text()[:500])
    assert response.headers["content-type"] == "application/pdf"
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.failure() is None
    name = download.suggested_filename
    assert name.startswith(code) and name.endswith(".pdf"), name
    assert Path(download.path()).read_bytes().startswith(b"%PDF")


def test_a_wrong_access_code_shows_the_error_and_no_case_data(page: Page, live: Live):
    with live.engine.db.read() as conn:
        code, title = conn.execute(sa.select(cases.c.code, cases.c.title).where(
            cases.c.kind == "application").order_by(cases.c.id)).first()

    page.goto("/track")
    page.locator("#code").fill(code)
    page.locator("#access").fill("AAAAA-AAAAA")
    page.locator("main form button[type=submit]").click()
    error = page.locator("main .error[role=alert]")
    expect(error).to_have_text("找不到该申请，或查询码不正确")
    expect(page.locator("#code")).to_have_value(code)
    expect(page.locator("#access")).to_have_value("")
    for absent in ("#state", "#timeline", "#due", ".case-head"):
        expect(page.locator(absent)).to_have_count(0)
    assert title not in page.content()

    # Nor does the case page open without having proven the access code.
    response = page.goto(f"/track/{code}")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_contain_text("找不到该页面或事项")
    expect(page.locator("#state")).to_have_count(0)
    assert title not in page.content()


def test_g1_an_officer_publishes_an_item_and_the_public_sees_it_on_the_board(
        page: Page, live: Live, log_in):
    title = "发展党员公示：王某某"  # the demo's routine item waiting for review

    page.goto("/board")
    expect(page.locator("main")).not_to_contain_text(title)

    log_in("qs-reviewer")
    open_from_inbox(page, title)
    form = action(page, "#action-approve")
    for check in ("secrecy", "necessity", "accuracy"):
        form.locator(f"#approve-{check}").check()
    submit(page, "#action-approve")
    expect(case_state(page)).to_have_attribute("data-state", "approved")
    log_out(page)

    log_in("qs-handler")
    open_from_inbox(page, title)
    action(page, "#action-publish_internal").locator(
        "#publish_internal-channels").fill("meeting")
    submit(page, "#action-publish_internal")
    expect(case_state(page)).to_have_attribute("data-state", "published_internal")
    page.goto("/board")
    expect(page.locator("main")).not_to_contain_text(title)
    page.go_back()
    action(page, "#action-publish_public").locator(
        "#publish_public-channels").fill("board\nwebsite")
    submit(page, "#action-publish_public")
    expect(case_state(page)).to_have_attribute("data-state", "feedback")
    log_out(page)

    page.goto("/board")
    expect(page.locator("main")).to_contain_text(title)
    page.get_by_role("link", name=re.compile(re.escape(title))).first.click()
    expect(page.locator("main")).to_contain_text("公开栏")
