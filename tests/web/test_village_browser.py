"""四议两公开 in a browser: a village officer walks a major decision from the proposal to the
published result, the town reviewing it on the way (V1–V4, G1, G10), on the demo data."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect

from workflow.base.timeutil import local_date, utcnow

if TYPE_CHECKING:
    from tests.web.browser import Live

#: the fixtures ``browser``, ``server``, ``live``, ``page`` and ``log_in``
pytest_plugins = ["tests.web.browser"]

TITLE = "村级道路硬化工程"
VILLAGE = "XW-QS-XBQ"


def log_out(page: Page) -> None:
    page.locator("header form button", has_text="退出").click()
    page.wait_for_url("**/login")


def state(page: Page):
    return page.locator(".case-head .state.big")


def step(page: Page, name: str):
    return page.locator(f"#progress li[data-step={name}]")


def action(page: Page, trigger: str):
    """The action's form, its folded section opened first as a user would."""
    form = f"#action-{trigger}"
    details = page.locator(f"details:has({form})")
    if details.count() and details.get_attribute("open") is None:
        details.locator("summary").click()
    return page.locator(form)


def fill(page: Page, trigger: str, **values: str) -> None:
    form = action(page, trigger)
    for name, value in values.items():
        box = form.locator(f"#{trigger}-{name}")
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(value)
        else:
            box.fill(value)
    form.locator("button[type=submit]").click()


def done(page: Page, label: str, state_name: str) -> None:
    expect(page.locator(".flash").first).to_have_text(f"已完成：{label}")
    expect(state(page)).to_have_attribute("data-state", state_name)


def open_from_inbox(page: Page) -> None:
    page.goto("/inbox")
    page.locator("table.list tbody tr", has_text=TITLE).get_by_role(
        "link", name=re.compile(TITLE)).click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))


def test_v1_v4_a_village_officer_walks_a_major_decision_to_its_published_result(
        page: Page, live: Live, log_in):
    today = local_date(utcnow()).isoformat()

    # 提议: the secretary opens the matter as a major decision and proposes it.
    log_in("xbq-reviewer")
    page.goto("/cases/new")
    start = page.locator("#start-village_decision")
    start.locator("#village_decision-org").select_option(VILLAGE)
    start.locator("#village_decision-title").fill(TITLE)
    start.locator("#village_decision-content").fill("硬化村东道路 800 米。")
    start.locator("#village_decision-major").check()
    start.locator("#village_decision-amount").fill("50000")
    start.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(state(page)).to_have_attribute("data-state", "drafting")
    fill(page, "propose")
    done(page, "提议（村党组织）", "town_review")
    expect(step(page, "town_review")).to_have_attribute("data-status", "current")
    expect(page.locator("#action-two_committees")).to_have_count(0)
    log_out(page)

    # V3: the town reviews it before any meeting.
    log_in("qs-reviewer")
    open_from_inbox(page)
    fill(page, "town_review", decision="approve")
    done(page, "镇党委审查", "discussing")
    log_out(page)

    # 商议, 审议 (first short of its quorum, kept), 决议.
    log_in("xbq-handler")
    open_from_inbox(page)
    fill(page, "two_committees", date=today, attendees="两委委员 9 人",
         draft="硬化村东道路 800 米，公开招标。")
    done(page, "记录“两委”商议", "reviewing")
    fill(page, "party_meeting", date=today, members_with_vote="30", present="14",
         in_favour="14")
    done(page, "记录党员大会审议", "reviewing")
    expect(step(page, "party_meeting")).to_contain_text("未达到半数，会议无效（V4）")
    fill(page, "party_meeting", date=today, members_with_vote="30", present="20",
         in_favour="18")
    done(page, "记录党员大会审议", "resolving")
    expect(step(page, "party_meeting")).to_have_attribute("data-status", "done")
    expect(step(page, "party_meeting")).to_contain_text("超过全体有表决权党员的半数，通过")
    fill(page, "villagers_meeting", date=today, form="representatives",
         representatives="36", present="30", in_favour="25")
    done(page, "记录村民（代表）会议决议", "resolved")

    # 两公开: the resolution with its financial disclosure, the implementation, the result.
    fill(page, "publish_resolution", channels="board", finance="预算 50000 元，村集体经营收入")
    done(page, "决议公开", "implementing")
    fill(page, "record_implementation", stage="complete", text="道路已验收")
    done(page, "记录实施情况", "completed")
    fill(page, "publish_result", channels="board", content="道路已硬化 800 米，实际支出 48000 元。",
         finance="实际支出 48000 元")
    done(page, "实施结果公开", "published")
    for name in ("propose", "town_review", "two_committees", "party_meeting",
                 "villagers_meeting", "publish_resolution", "record_implementation",
                 "publish_result"):
        expect(step(page, name)).to_have_attribute("data-status", "done")
    log_out(page)

    # The villagers read both on the village affairs board, without an account.
    page.goto(f"/board/{VILLAGE}")
    expect(page.locator("body")).to_contain_text(f"决议公开：{TITLE}")
    page.get_by_role("link", name=f"实施结果公开：{TITLE}").click()
    expect(page.locator("h1")).to_have_text(f"实施结果公开：{TITLE}")
    expect(page.locator("#finance")).to_contain_text("实际支出 48000 元")
