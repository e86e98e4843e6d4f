"""Every page kind on a phone (360×740) and a desk (1280×800), in Chromium (issue 22).

On each page kind — login, board, board item, application form with errors, tracking page,
inbox, case page, ledger, audit desk, admin — no page scrolls sideways
(``document.documentElement.scrollWidth <= innerWidth``) and axe-core (shipped inside
axe-playwright-python, nothing fetched) finds no violation of impact serious or critical.
On the phone the menu folds behind a button that opens and closes with the keyboard, the
inbox shows cards, and an applicant applies and tracks the application.

With ``GONGKAI_UPDATE_SCREENSHOTS=1`` (``make screenshots``) each page is also saved to
docs/screenshots/<kind>-<size>.png for the README.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from workflow import demo

if TYPE_CHECKING:
    from tests.web.browser import Live

#: the fixtures ``browser``, ``server`` and ``live``
pytest_plugins = ["tests.web.browser"]
pytestmark = pytest.mark.slow

SIZES = {"phone": {"width": 360, "height": 740}, "desk": {"width": 1280, "height": 800}}
BLOCKING = ("serious", "critical")
SCREENSHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots"
               if os.environ.get("GONGKAI_UPDATE_SCREENSHOTS") else None)
#: screenshots are cut at these heights, so that the pictures stay small
SCREENSHOT_MAX_HEIGHT = {"phone": 1600, "desk": 1100}
AXE = Axe()


def context(browser: Browser, live: Live, size: str) -> BrowserContext:
    made = browser.new_context(viewport=SIZES[size], locale="zh-CN",
                               timezone_id="Asia/Shanghai", base_url=live.url,
                               is_mobile=size == "phone", has_touch=size == "phone")
    made.set_default_timeout(30_000)
    return made


def signed_in(browser: Browser, live: Live, size: str, username: str) -> Page:
    page = context(browser, live, size).new_page()
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(demo.PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/inbox")
    return page


def check(page: Page, kind: str, size: str, axe: bool = True) -> None:
    """The page fits the screen's width, has one h1 and (``axe``) axe-core finds nothing
    serious on it."""
    page.wait_for_load_state("load")
    wide, screen = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert wide <= screen, f"{kind} scrolls sideways on the {size}: {wide} > {screen} px"
    assert page.locator("h1").count() == 1, f"{kind} has one h1"
    if axe:
        found = AXE.run(page).response["violations"]
        bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:4]}"
               for v in found if v["impact"] in BLOCKING]
        assert not bad, f"axe-core on {kind} ({size}, {page.url}):\n" + "\n".join(bad)
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("document.fonts.ready.then(() => true)")
        height = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(SCREENSHOTS / f"{kind}-{size}.png"), full_page=True,
                        animations="disabled", clip={
                            "x": 0, "y": 0, "width": SIZES[size]["width"],
                            "height": min(height, SCREENSHOT_MAX_HEIGHT[size])})


def apply_and_track(page: Page, size: str) -> None:
    """An applicant sends the form empty (errors), then filled in, then tracks it."""
    page.goto("/apply/application")
    page.locator("#apply-form button[type=submit]").click()
    summary = page.locator("#apply-form .error-summary[role=alert]")
    expect(summary).to_be_visible()
    expect(page.locator("#org")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#phone")).to_have_attribute("type", "tel")
    expect(page.locator("#email")).to_have_attribute("type", "email")
    check(page, "apply-errors", size)
    summary.locator("a[href='#org']").click()  # each summary line leads to its field
    expect(page.locator("#org")).to_be_focused()

    form = page.locator("#apply-form")
    form.locator("#org").select_option("XW-QS")
    form.locator("#name").fill("钱七")
    form.locator("#phone").fill("13900000007")
    form.locator("#description").fill("青山镇 2025 年村党组织换届选举结果")
    form.locator("#purpose").fill("了解本村情况")
    form.locator("#delivery").select_option("electronic")
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("申请已提交")
    code = page.locator("#tracking-code").inner_text().strip()
    access = page.locator("#access-code").inner_text().strip()
    check(page, "submitted", size, axe=False)

    page.get_by_role("link", name="查询办理进度").click()
    page.wait_for_url("**/track")
    check(page, "track-form", size, axe=False)
    page.locator("#code").fill(code)
    page.locator("#access").fill(access)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**/track/{code}")
    expect(page.locator("#state")).to_have_text("已收到，待登记")
    check(page, "track", size)


def test_every_page_kind_fits_a_phone_and_a_desk_and_passes_axe(browser: Browser,
                                                                  live: Live):
    """One demo database for both sizes and the menu (a fresh one costs seconds)."""
    for size in SIZES:
        walk(browser, live, size)
    menu_by_keyboard(signed_in(browser, live, "phone", "qs-handler"))


def walk(browser: Browser, live: Live, size: str) -> None:
    """Every page kind at this size, as the public, an officer, an auditor, an admin."""
    public = context(browser, live, size).new_page()
    public.goto("/login")
    check(public, "login", size)
    public.goto("/board")
    check(public, "board", size)
    public.locator("article.pub h3 a").first.click()
    public.wait_for_url(re.compile(r"/board/items/\d+$"))
    check(public, "board-item", size)
    apply_and_track(public, size)

    officer = signed_in(browser, live, size, "qs-handler")
    check(officer, "inbox", size)
    rows = officer.locator("#cases tbody tr")
    expect(rows.first).to_be_visible()
    if size == "phone":  # cards: the header row is hidden, each row is a box of its own
        assert officer.locator("#cases thead").bounding_box()["height"] <= 1
        assert rows.first.evaluate("r => getComputedStyle(r).display") == "grid"
        expect(officer.locator("#filters > summary")).to_be_visible()
    else:
        expect(officer.locator("#filters > summary")).to_be_hidden()
    expect(officer.locator("#cases .due.overdue").first).to_be_visible()
    expect(officer.locator("#total")).to_contain_text("共")
    rows.filter(has_text="党费收缴").get_by_role("link").first.click()
    officer.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(officer.locator(".diagram svg")).to_be_visible()
    check(officer, "case", size)
    officer.goto("/ledger")
    check(officer, "ledger", size)

    auditor = signed_in(browser, live, size, "auditor")
    auditor.goto("/audit/")
    check(auditor, "audit", size)
    auditor.goto("/audit/checkpoints")
    check(auditor, "audit-checkpoints", size, axe=False)

    admin = signed_in(browser, live, size, "admin")
    admin.goto("/admin/")
    check(admin, "admin", size)


def menu_by_keyboard(page: Page) -> None:
    """On a phone the menu folds behind a button that the keyboard opens and closes."""
    menu, button = page.locator("#menu"), page.locator("#menu-button")
    expect(menu).to_be_hidden()
    header = page.locator("header.top").bounding_box()
    assert header["height"] <= 64, f"the folded header is {header['height']} px tall"

    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    expect(page.locator("a.skip")).to_be_in_viewport()
    page.keyboard.press("Enter")  # the skip link leads past the header to the content
    expect(page.locator("main#content")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # the bell stays outside the folded menu, last
    expect(page.locator("header #bell")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # the folded menu hides its links: the button is next
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    expect(page.locator("#menu nav a").first).to_be_focused()
    for name in ("待办", "新建事项", "登记表", "中文", "English"):
        expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(menu.get_by_role("button", name="退出")).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()

    page.keyboard.press("Space")  # a button opens with Space as well
    expect(menu).to_be_visible()
    menu.get_by_role("link", name="新建事项", exact=True).click()
    page.wait_for_url("**/cases/new")
    expect(page.locator("#menu nav a[aria-current=page]")).to_have_text("新建事项")
    expect(menu).to_be_hidden()
