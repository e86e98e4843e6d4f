"""The written notice (告知书, A7): HTML and an A4 PDF with its CJK font embedded."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

import machines
from web import create_app, documents
from workflow.core.registry import Registry
from workflow.people.actors import PUBLIC, user
from workflow.people.orgs import add_org

pytestmark = pytest.mark.dates  # swept over several days by make test

APPLY = {"name": "张三", "phone": "13800000001", "address": "青山镇人民路 1 号",
         "description": "2026 年青山镇党费收缴和使用情况", "purpose": "了解情况",
         "delivery": "electronic"}

ORG_NAME = "中共青山镇委员会"

#: outcome -> (answer payload, text the notice must show for it)
ANSWERS = {
    "disclosed": ({"outcome": "disclosed", "content": "附 2026 年党费收缴和使用情况表。"},
                  ("予以公开", "附 2026 年党费收缴和使用情况表。")),
    "partial": ({"outcome": "partial", "content": "提供培养方案正文。",
                 "withheld": "后备干部个人考察材料",
                 "reason": "涉及个人隐私，依规不予公开。", "note": "如有疑问请联系镇党委办公室。"},
                ("部分公开", "提供培养方案正文。", "后备干部个人考察材料",
                 "涉及个人隐私，依规不予公开。", "如有疑问请联系镇党委办公室。",
                 "本答复已经上级党组织同意。")),
    "not_ours": ({"outcome": "not_ours", "responsible_org": "中共青山县委组织部"},
                 ("不属于本组织职责范围", "中共青山县委组织部")),
}


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(dt.UTC)


@pytest.fixture
def registry() -> Registry:
    return Registry(machines.definitions())


@pytest.fixture
def people(engine):
    with engine.db.write() as conn:
        county = add_org(conn, "C", "中共青山县委员会", None, "county_committee")["path"]
        town = add_org(conn, "T", ORG_NAME, "C", "town")["path"]
    return {"handler": user("hu", {(town, "handler")}),
            "reviewer": user("li", {(town, "reviewer")}),
            "upper": user("wang", {(county, "reviewer")})}


@pytest.fixture
def app(engine):
    return create_app({"ENGINE": engine, "SECRET_KEY": "t", "TESTING": True})


def answered(engine, people, outcome: str):
    """An application received on 2026-09-21 and answered with ``outcome``."""
    case = engine.start("application", "T", PUBLIC, APPLY, at("2026-09-21"))

    def act(trigger, who, payload=None, day="2026-09-24"):
        return engine.fire(case.id, trigger, people[who], payload or {}, case.version, at(day))

    case = act("register", "handler", day="2026-09-22")
    case = act("draft_answer", "handler", ANSWERS[outcome][0], "2026-09-23")
    case = act("approve", "reviewer")
    if case.state == "consent":  # A3: withholding needs the upper level's consent
        case = act("consent", "upper", {"note": "同意"})
    assert case.state == "answered"
    return case


def notice_of(engine, case):
    compiled = engine.registry.get(case.kind, case.def_version)
    return compiled, documents.document_for(compiled, case, "notice")


def test_a7_no_notice_before_the_answer(engine, people):
    case = engine.start("application", "T", PUBLIC, APPLY, at("2026-09-21"))
    compiled, document = notice_of(engine, case)
    assert document is None
    assert documents.document_for(compiled, answered(engine, people, "disclosed"), "nope") is None


@pytest.mark.parametrize("outcome", sorted(ANSWERS))
def test_a7_notice_html_carries_the_outcome_and_its_fields(engine, people, app, outcome):
    case = answered(engine, people, outcome)
    compiled, document = notice_of(engine, case)
    assert document is not None and document.template == "application_notice"
    with app.test_request_context():
        html = documents.render_html(compiled, case, document, ORG_NAME)
    number = case.data["notice"]["number"]
    assert number.startswith("〔2026〕依申请告字第") and number in html
    for text in ("依申请公开答复告知书", "张三：", ORG_NAME, "2026年9月21日",
                 "2026 年青山镇党费收缴和使用情况", case.code, "特此告知。", "2026年9月24日",
                 "电子邮件或在线获取", *ANSWERS[outcome][1]):
        assert text in html, text
    outcome_field = next(f for t in compiled.process.triggers for f in t.schema.fields
                         if f.name == "outcome")  # the label comes from the declaration
    assert f"答复类型：{outcome_field.choices[outcome].zh}" in html


def test_a7_user_text_is_escaped_and_keeps_its_lines(engine, people, app):
    case = answered(engine, people, "disclosed")
    case.data["answer"]["content"] = "第一项<script>x</script>\n第二项"
    compiled, document = notice_of(engine, case)
    with app.test_request_context():
        html = documents.render_html(compiled, case, document, ORG_NAME)
    assert "<script>" not in html and "第一项&lt;script&gt;x&lt;/script&gt;<br>第二项" in html
    title, blocks = documents.html_blocks(html)
    assert title == "依申请公开答复告知书"
    assert any(b.text.endswith("公开的内容和提供方式如下：第一项<script>x</script>\n第二项")
               for b in blocks)


def test_html_blocks_follow_html_whitespace_rules():
    title, blocks = documents.html_blocks(
        "<html><head><title> 告知 </title><style>p{}</style></head><body>"
        "<p class='right'>一\n二 three  four</p><p>甲<b> 乙 </b>丙<br> 丁<br></p>"
        "<p class='noprint'>不打印</p><p>  </p></body></html>")
    assert title == "告知"
    assert [(b.tag, sorted(b.classes), b.text) for b in blocks] == [
        ("p", ["right"], "一二 three four"), ("p", [], "甲 乙 丙\n丁")]
    assert [r.bold for r in blocks[1].runs] == [False, True, False]


def test_choice_labels_come_from_the_declaration(engine, people, app):
    case = answered(engine, people, "not_ours")
    compiled, document = notice_of(engine, case)
    helpers = documents.context(compiled, case, document, ORG_NAME)
    assert helpers["choice_label"]("outcome", "partial") == "部分公开"
    assert helpers["choice_label"]("delivery", "paper") == "纸质邮寄"
    assert helpers["choice_label"]("outcome", "unknown") == "unknown"
    assert helpers["field_label"]("responsible_org") == "负责该信息的组织"
    assert documents.cn_date("2026-09-04") == "2026年9月4日"
    assert documents.cn_date("2026-09-03T17:00:00Z") == "2026年9月4日"


def _font_or_skip() -> documents.CJKFont:
    font = documents.cjk_font()
    if font is None:
        pytest.skip("no CJK font file found (Debian: fonts-noto-cjk); the PDF cannot show "
                    "Chinese without one")
    return font


def _fonts(reader: PdfReader) -> list[dict]:
    found = []
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            found.append({"name": str(font["/BaseFont"]),
                          "descriptor": descendant["/FontDescriptor"].get_object()})
    return found


@pytest.mark.parametrize("outcome", ["partial", "not_ours"])
def test_a7_notice_pdf_is_a4_with_an_embedded_cjk_font(engine, people, app, outcome):
    font = _font_or_skip()
    case = answered(engine, people, outcome)
    compiled, document = notice_of(engine, case)
    with app.test_request_context():
        pdf = documents.render_pdf(compiled, case, document, ORG_NAME)
    assert pdf.startswith(b"%PDF-")
    assert b"/FontFile2" in pdf or b"/FontFile3" in pdf
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (
        210, 297)
    fonts = _fonts(reader)
    family = font.name.split("-")[0]
    assert fonts and all(re.fullmatch(rf"/[A-Z]{{6}}\+{family}.*", f["name"], re.I)
                         for f in fonts)
    assert all({"/FontFile2", "/FontFile3"} & set(f["descriptor"]) for f in fonts)
    assert reader.metadata.title == "依申请公开答复告知书"

    # fpdf2 gives a CFF font a two-byte encoding CMap, which pypdf reads as one-byte codes:
    # each character comes out after a NUL (pdftotext reads it right, see below).
    text = "".join(page.extract_text() for page in reader.pages).replace("\x00", "")
    flat = re.sub(r"\s+", "", text)
    number = re.sub(r"\s+", "", case.data["notice"]["number"])
    for expected in (number, ORG_NAME, "依申请公开答复告知书", "张三：", "特此告知。",
                     "2026年9月24日", *ANSWERS[outcome][1]):
        assert re.sub(r"\s+", "", expected) in flat, expected


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_a7_notice_pdf_text_reads_back_with_poppler(engine, people, app, tmp_path):
    _font_or_skip()
    case = answered(engine, people, "disclosed")
    compiled, document = notice_of(engine, case)
    with app.test_request_context():
        (tmp_path / "notice.pdf").write_bytes(
            documents.render_pdf(compiled, case, document, ORG_NAME))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "notice.pdf"), "-"],
                          capture_output=True, check=True, text=True).stdout
    assert case.data["notice"]["number"] in text and ORG_NAME in text
    assert "予以公开" in text
