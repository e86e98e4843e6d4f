"""The bell in a browser: an assignment lights it on every officer page, the messages page
leads to the case and marking the message read puts the count out, on a desk and a phone."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from notifications import outbox
from workflow.store.models import cases, orgs

if TYPE_CHECKING:
    from tests.web.browser import Live

#: the fixtures ``browser``, ``server``, ``live``, ``page`` and ``log_in``
pytest_plugins = ["tests.web.browser"]


def a_town_case(live: Live) -> int:
    with live.engine.db.read() as conn:
        return conn.execute(sa.select(cases.c.id).join(orgs, orgs.c.id == cases.c.org_id)
                            .where(orgs.c.code == "XW-QS").order_by(cases.c.id)).scalar()


def test_the_bell_counts_an_assignment_and_goes_out_when_it_is_read(page: Page, live: Live,
                                                                    log_in):
    while outbox.fill(live.engine):  # the demo's own history first
        pass
    log_in("qs-handler")
    bell = page.locator("header #bell")
    before = int(bell.locator(".bell-count").text_content() or 0) \
        if bell.locator(".bell-count").count() else 0
    case_id = a_town_case(live)
    live.engine.assign(case_id, live.actor("qs-reviewer"), "qs-handler")
    outbox.fill(live.engine)
    page.goto("/board")  # a page that is not the inbox carries the bell too
    expect(bell.locator(".bell-count")).to_have_text(str(before + 1))

    page.set_viewport_size({"width": 360, "height": 740})
    bell.click()
    page.wait_for_url("**/messages")
    newest = page.locator("li.message").first
    expect(newest).to_have_class(re.compile(r"\bunread\b"))
    expect(newest.locator(".subject a")).to_have_attribute("href", f"/cases/{case_id}")
    # the list and the page fit a phone
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert page.locator("ul.messages").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert page.locator("ul.messages").evaluate("e => e.getBoundingClientRect().right") <= 360
    newest.get_by_role("button", name="标为已读").click()
    page.wait_for_url("**/messages")
    expect(page.locator("li.message").first).not_to_have_class(re.compile(r"\bunread\b"))
    if before:
        expect(bell.locator(".bell-count")).to_have_text(str(before))
    else:
        expect(bell.locator(".bell-count")).to_have_count(0)
    newest.locator(".subject a").click()
    page.wait_for_url(f"**/cases/{case_id}")
