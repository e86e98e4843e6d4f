"""In a real browser: an officer attaches a file to a routine item on its case page, and
once the item is public anyone downloads it from the board, on a phone (issue 14).

The live app runs the real processes and the demo data: the routine item's submit takes
its published documents (``documents``). Fixtures from ``tests/web/browser.py``; CSRF
stays on.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.workflow.test_attachments import pdf, png

#: the fixtures ``browser``, ``server``, ``live``, ``page`` and ``log_in``
pytest_plugins = ["tests.web.browser"]

CHECKED = {"secrecy": True, "necessity": True, "accuracy": True}
PHONE = {"width": 390, "height": 844}


def test_an_officer_attaches_a_file_and_the_public_downloads_it_from_the_board(
        page: Page, live, log_in, browser: Browser, tmp_path: Path):
    handler = live.actor("xbq-handler")
    item = live.engine.start("routine", "XW-QS-XBQ", handler, {
        "title": "村务公开：道路硬化工程验收", "content": "验收报告见附件。",
        "category": "decisions", "scope": "public", "channels": ["board"],
        "time_class": "immediate", "entry": "ML-DEMO"})
    report, photo = tmp_path / "验收报告.pdf", tmp_path / "现场照片.png"
    report.write_bytes(pdf())
    photo.write_bytes(png())

    log_in("xbq-handler")
    page.goto(f"/cases/{item.id}")
    details = page.locator("details:has(#action-submit)")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    form = page.locator("#action-submit")
    expect(form).to_have_attribute("enctype", "multipart/form-data")
    chooser = form.locator("input[type=file][name=documents]")
    expect(chooser).to_have_attribute("accept", re.compile(r"\.pdf"))
    chooser.set_input_files([str(report), str(photo)])
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/cases/{item.id}$"))
    files = page.locator("#attachments ul.files li")
    expect(files).to_have_count(2)
    expect(files.filter(has_text="验收报告.pdf").locator("a.preview")).to_be_visible()
    expect(files.filter(has_text="现场照片.png").locator("img.thumb")).to_be_visible()
    with page.expect_download() as officer_copy:
        files.filter(has_text="验收报告.pdf").locator("a.file-name").click()
    assert Path(officer_copy.value.path()).read_bytes() == report.read_bytes()

    live.fire(item.code, "approve", "xbq-reviewer", CHECKED)
    live.fire(item.code, "publish_internal", "xbq-handler", {"channels": ["meeting"]})
    live.fire(item.code, "publish_public", "xbq-handler", {"channels": ["board"]})

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live.url,
                                accept_downloads=True, is_mobile=True)
    try:
        visitor = phone.new_page()
        visitor.goto(f"/board/items/{item.id}")
        listed = visitor.locator("#attachments ul.files li")
        expect(listed).to_have_count(2)
        assert visitor.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"), "fits a phone"
        with visitor.expect_download() as public_copy:
            listed.filter(has_text="验收报告.pdf").locator("a.file-name").click()
        assert public_copy.value.suggested_filename == "验收报告.pdf"
        assert Path(public_copy.value.path()).read_bytes() == report.read_bytes()
    finally:
        phone.close()
