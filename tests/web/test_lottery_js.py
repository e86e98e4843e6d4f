"""The result page's re-run (web/static/lottery.js) agrees with ``gongkai lottery verify``
(O7): the same draws, the same key strings and digests, the same verdict on published and on
tampered bundles, run in the test browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from machines import lottery
from tests.machines.test_lottery import RFC_POOL, RFC_SOURCES
from workflow.cli import main

pytest_plugins = ["tests.web.browser"]

SCRIPT = Path(__file__).resolve().parents[2] / "web" / "static" / "lottery.js"
CATEGORIES = ("机关", "企业", "农村", "社区")


@pytest.fixture(scope="module")
def js(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><meta charset='utf-8'><p id='x'></p>")
    page.add_script_tag(content=SCRIPT.read_text(encoding="utf-8"))
    yield page
    context.close()


def bundles() -> list[dict]:
    """Published draws of every shape (public values, witnesses, short categories, both
    rules for unfilled seats, decimals and text sources), and tampered copies of some."""
    rng = random.Random(3797)
    made = []
    for n in range(24):
        categories = rng.sample(CATEGORIES, rng.randint(1, 4))
        quotas = [{"category": c, "seats": rng.randint(0, 3)} for c in categories]
        pool = [{"id": f"BM-2026-{i:06d}", "category": rng.choice(categories)}
                for i in range(1, rng.randint(0, 16) + 1)]
        if n % 3 == 2:
            secrets = [f"见证 {rng.randint(1000, 9999)} Mažňák-{k}" for k in range(2)]
            source = {"kind": "witnesses", "commitments": [
                {"witness": f"W{k}", "sha256": lottery.commitment(s)}
                for k, s in enumerate(secrets)]}
            sources = secrets
        else:
            source = {"kind": "public", "name": "福彩3D", "date": "2026-11-18"}
            sources = [" ".join(str(rng.randint(0, 99)).zfill(2) for _ in range(5)),
                       "3245.670 12"][: 1 + n % 2]
        record = lottery.make_record(pool, quotas, source, lottery.UNFILLED_RULES[n % 2])
        made.append(lottery.draw(record, sources))
    tampered = []
    for bundle in made[:8]:
        wrong = copy.deepcopy(bundle)
        wrong["sources"][0] = wrong["sources"][0] + "1"
        tampered.append(wrong)
        if bundle["result"]["seats"] and bundle["result"]["waiting_list"]:
            swapped = copy.deepcopy(bundle)
            swapped["result"]["seats"][0]["id"] = swapped["result"]["waiting_list"][0]
            tampered.append(swapped)
    return made + tampered


def test_o7_the_browser_reproduces_rfc3797s_worked_example(js):
    found = js.evaluate("([p, s]) => gongkaiLottery.rfc3797(p, s, 10)",
                        [list(RFC_POOL), list(RFC_SOURCES)])
    assert found == {k: v for k, v in lottery.rfc3797(RFC_POOL, RFC_SOURCES, 10).items()
                     if k in ("key", "selected")}
    assert js.evaluate("gongkaiLottery.sha256(gongkaiLottery.utf8('abc'))") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_o7_the_in_browser_rerun_agrees_with_gongkai_lottery_verify(js, tmp_path):
    runner = CliRunner()
    checked = {True: 0, False: 0}
    for n, bundle in enumerate(bundles()):
        path = tmp_path / f"draw-{n}.json"
        path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
        cli = runner.invoke(main, ["lottery", "verify", str(path)])
        browser_problems = js.evaluate("b => gongkaiLottery.verify(b)", bundle)
        assert cli.exit_code in (0, 1), cli.output
        assert (cli.exit_code == 0) == (browser_problems == []), (n, cli.output,
                                                                   browser_problems)
        again = js.evaluate("([r, s]) => gongkaiLottery.draw(r, s)",
                            [bundle["record"], bundle["sources"]])
        if cli.exit_code == 0:
            assert again == bundle, n
        checked[cli.exit_code == 0] += 1
    assert checked[True] >= 20 and checked[False] >= 8


def test_o7_the_page_says_matches_or_differs(js):
    bundle = bundles()[0]
    for published, expected in ((bundle, "matches"),
                                (dict(bundle, key=bundle["key"] + "X"), "differs")):
        js.set_content(
            "<!doctype html><meta charset='utf-8'><span id='recheck'></span>"
            f"<script type='application/json' id='draw-bundle'>"
            f"{json.dumps(published, ensure_ascii=False)}</script>")
        js.add_script_tag(content=SCRIPT.read_text(encoding="utf-8"))
        assert js.locator("#recheck").get_attribute("data-state") == expected
