"""G14 in a browser: a town's responsible person compares its villages on the demo data,
re-sorts them, downloads a table, and reads the page on a phone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect

from tests.machines.demo_counts import counts_match_rows_and_events
from workflow.base.timeutil import local_date, utcnow

if TYPE_CHECKING:
    from tests.web.browser import Live

#: the fixtures ``browser``, ``server``, ``live``, ``page`` and ``log_in``
pytest_plugins = ["tests.web.browser"]

VILLAGES = {"小板桥村党总支", "东湖村党支部"}


def test_g14_town_secretary_compares_its_villages(page: Page, live: Live, log_in):
    counts_match_rows_and_events(live.engine)
    log_in("qs-reviewer")
    page.locator("header nav a", has_text="统计").click()
    page.wait_for_url("**/stats/**")
    year = local_date(utcnow()).year
    page.locator("#stats-form select[name=org]").select_option("XW-QS")
    page.locator("#stats-form input[name=from]").fill(f"{year - 1}-01-01")
    page.locator("#stats-form button[type=submit]").click()
    children = page.locator("#table-children tbody tr")
    expect(children).to_have_count(2)
    assert {children.nth(i).locator("td").first.inner_text() for i in range(2)} == VILLAGES
    rates = [children.nth(i).locator("td").last.inner_text() for i in range(2)]
    numbers = [float(r.rstrip("%")) if r != "—" else 101.0 for r in rates]
    assert numbers == sorted(numbers), "the worst on-time rate first"
    page.locator("p.sort a", has_text="组织").click()
    expect(page.locator("p.sort a.on")).to_have_text("组织")
    expect(page.locator("figure.chart svg").first).to_be_visible()
    with page.expect_download() as download:
        page.locator("#table-children ~ p.exports a, section:has(#table-children) "
                     "p.exports a", has_text="CSV").first.click()
    assert download.value.suggested_filename.endswith(".csv")
    page.set_viewport_size({"width": 360, "height": 780})
    overflow = page.evaluate("(() => { const m = document.querySelector('main'); "
                             "return m.scrollWidth - m.clientWidth; })()")
    assert overflow <= 0, "the wide tables scroll inside their own box, not the page"
