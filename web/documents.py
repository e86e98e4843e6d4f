"""Case documents (e.g. the 告知书, A7): HTML and PDF from a template the process names.

A process declares its documents (``workflow.core.declare.Document``); this module knows no
process by name. ``render_html`` renders ``web/templates/documents/<template>.html`` with
the case and helpers that read labels from the process's own declaration. ``render_pdf``
lays out that same HTML on A4 with fpdf2, embedding a subset of a CJK font (DESIGN.md:
generated PDFs embed their font), so the wording lives in one place: the template.

The PDF reads the template's ``<title>`` (document metadata) and the blocks of its
``<body>``; a document template keeps to this vocabulary, which its own CSS mirrors for
the browser and for print:

* ``<h1>`` title, centred and bold; ``<h2>``, ``<h3>`` headings;
* ``<p>`` a body paragraph: justified, first line indented by two characters;
  class ``flush`` (no indent, e.g. the addressee line), ``right`` or ``center``
  (aligned, no indent), ``space`` (a blank line before, e.g. the signature), ``keep``
  (consecutive ``keep`` blocks stay on one page, e.g. the closing line and signature);
* ``<b>``/``<strong>`` bold, ``<br>`` a line break (see ``lines`` below);
* anything with class ``noprint``, and ``<style>``/``<script>``, is left out.

Whitespace collapses as in HTML; a line break in the template source between two
Chinese characters is dropped (CSS Text segment-break rule), not turned into a space.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import render_template
from markupsafe import Markup, escape

from workflow.base.timeutil import LOCAL_TZ
from workflow.core.declare import Document
from workflow.core.engine import CaseView
from workflow.core.registry import Compiled
from workflow.core.schema import Field, Schema

__all__ = [
    "CJKFont", "FontMissing", "cjk_font", "cn_date", "context", "document_for", "html_blocks",
    "render_html", "render_pdf",
]

# -- which document, and its HTML ------------------------------------------------------------

_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def document_for(compiled: Compiled, case: CaseView, name: str) -> Document | None:
    """The document ``name`` the process declares, if the case is in one of its states."""
    for document in compiled.process.documents:
        if document.name == name:
            return document if case.state in document.states else None
    return None


def _schemas(compiled: Compiled) -> Iterable[Schema]:
    yield compiled.process.start_schema
    for trigger in compiled.process.triggers:
        yield trigger.schema


def _field(compiled: Compiled, name: str, value: Any = None) -> Field | None:
    """The first field called ``name`` in the process's schemas (start first, then triggers
    in declaration order); with ``value``, the first whose choices include it."""
    for schema in _schemas(compiled):
        for f in schema.fields:
            if f.name == name and (value is None or value in f.choices):
                return f
    return None


def cn_date(value: str | dt.date | dt.datetime | None) -> str:
    """``2026-09-21`` -> ``2026年9月21日`` (a time is shown as its day in Asia/Shanghai)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = (dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value
                 else dt.date.fromisoformat(value))
    if isinstance(value, dt.datetime):
        value = value.astimezone(LOCAL_TZ).date() if value.tzinfo else value.date()
    return f"{value.year}年{value.month}月{value.day}日"


def lines(text: Any) -> Markup:
    """User text with its line breaks kept: escaped, each newline a ``<br>``."""
    if text is None:
        return Markup("")
    parts = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return Markup("<br>").join(escape(part) for part in parts)


def context(compiled: Compiled, case: CaseView, document: Document,
            org_name: str) -> dict[str, Any]:
    """What a document template sees. Labels are Chinese: the notice is a formal Chinese
    document, whatever language the reader's pages are in."""

    def choice_label(field_name: str, value: Any) -> str:
        """The zh label of a choice value, e.g. ``choice_label("outcome", "partial")``."""
        if value is None:
            return ""
        found = _field(compiled, field_name, value)
        return found.choices[value].zh if found else str(value)

    def field_label(field_name: str) -> str:
        """The zh label of a payload field, e.g. ``field_label("reason")``."""
        found = _field(compiled, field_name)
        return found.label.zh if found and found.label.zh else field_name

    return {
        "case": case, "data": case.data, "org_name": org_name, "document": document,
        "process": compiled.process, "state_label": compiled.state(case.state).label.zh,
        "choice_label": choice_label, "field_label": field_label, "cn_date": cn_date,
        "lines": lines,
    }


def render_html(compiled: Compiled, case: CaseView, document: Document, org_name: str) -> str:
    """The document as a standalone printable HTML page (needs a Flask app context)."""
    if not _TEMPLATE_NAME.match(document.template):
        raise ValueError(f"bad document template name {document.template!r}")
    return render_template(f"documents/{document.template}.html",
                           **context(compiled, case, document, org_name))


# -- the PDF's font ----------------------------------------------------------------------------

#: Where Debian (fonts-noto-cjk), Fedora and Arch put the CJK fonts, best first: (regular,
#: bold). ``GONGKAI_DOCUMENT_FONT`` (a .ttf/.otf/.ttc path) goes before all of them.
FONT_CANDIDATES: tuple[tuple[str, str | None], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
     "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
     "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/google-noto-cjk/NotoSerifCJK-Regular.ttc",
     "/usr/share/fonts/google-noto-cjk/NotoSerifCJK-Bold.ttc"),
    ("/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
     "/usr/share/fonts/noto-cjk/NotoSerifCJK-Bold.ttc"),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
     "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", None),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", None),
)


class FontMissing(RuntimeError):
    """No CJK font was found: a PDF without one would show empty boxes."""


@dataclass(frozen=True)
class CJKFont:
    """A font file and, for a collection (.ttc), the face to use (the Simplified one)."""

    regular: Path
    regular_face: int
    bold: Path | None
    bold_face: int
    name: str  # the PostScript name of the regular face, e.g. NotoSerifCJKsc-Regular


def _face(path: Path) -> tuple[int, str]:
    """(index, PostScript name) of the Simplified Chinese face of a font file."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() not in (".ttc", ".otc"):
        with TTFont(path, lazy=True) as font:
            return 0, font["name"].getDebugName(6) or path.stem
    collection = TTCollection(path, lazy=True)
    try:
        names = [(font["name"].getDebugName(6) or "", font["name"].getDebugName(4) or "")
                 for font in collection.fonts]
    finally:
        collection.close()
    for index, (postscript, full) in enumerate(names):  # e.g. NotoSerifCJKsc-Regular
        if postscript.lower().split("-")[0].endswith("sc") or full.endswith(" SC"):
            return index, postscript
    return 0, names[0][0] if names else path.stem


@functools.cache
def cjk_font() -> CJKFont | None:
    """The first CJK font found (``GONGKAI_DOCUMENT_FONT`` first), or None."""
    candidates = list(FONT_CANDIDATES)
    if os.environ.get("GONGKAI_DOCUMENT_FONT"):
        candidates.insert(0, (os.environ["GONGKAI_DOCUMENT_FONT"], None))
    for regular, bold in candidates:
        if not Path(regular).is_file():
            continue
        index, name = _face(Path(regular))
        bold_path = Path(bold) if bold and Path(bold).is_file() else None
        bold_index = _face(bold_path)[0] if bold_path else 0
        return CJKFont(Path(regular), index, bold_path, bold_index, name)
    return None


# -- HTML to blocks ----------------------------------------------------------------------------

_BLOCK_TAGS = frozenset({"h1", "h2", "h3", "p"})
_BOLD_TAGS = frozenset({"b", "strong"})
_SKIP_TAGS = frozenset({"style", "script", "template"})
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                        "meta", "source", "track", "wbr"})
_SPACE = re.compile(r"[ \t\n\r\f]+")


@dataclass
class Run:
    text: str
    bold: bool = False


@dataclass
class Block:
    tag: str
    classes: frozenset[str] = frozenset()
    runs: list[Run] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _collapse(runs: list[Run]) -> list[Run]:
    """HTML whitespace rules over a block's runs; ``\\x00`` marks a ``<br>``."""
    out: list[Run] = []
    prev = ""  # the last character written
    pending = ""  # collapsed whitespace waiting for the next character
    for run in runs:
        text = []
        for part in re.split(r"(\x00|[ \t\n\r\f]+)", run.text):
            if not part:
                continue
            if part == "\x00":
                text.append("\n")
                prev, pending = "\n", ""
            elif _SPACE.fullmatch(part):
                pending += part
            else:
                if pending and prev and prev != "\n" and not (
                        "\n" in pending and _wide(prev) and _wide(part[0])):
                    text.append(" ")
                pending = ""
                text.append(part)
                prev = part[-1]
        if text and out and out[-1].bold == run.bold:
            out[-1].text += "".join(text)
        elif text:
            out.append(Run("".join(text), run.bold))
    while out and out[-1].text.endswith("\n"):  # a trailing <br> adds no line
        out[-1].text = out[-1].text[:-1]
        if not out[-1].text:
            out.pop()
    return out


class _Blocks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.blocks: list[Block] = []
        self._block: Block | None = None
        self._bold = 0
        self._skip = 0
        self._in_title = False

    def _close(self) -> None:
        if self._block is not None:
            self._block.runs = _collapse(self._block.runs)
            if self._block.runs:
                self.blocks.append(self._block)
        self._block = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        void = tag in _VOID_TAGS
        if self._skip:
            self._skip += 0 if void else 1
            return
        classes = frozenset((dict(attrs).get("class") or "").split())
        if tag in _SKIP_TAGS or "noprint" in classes:
            self._skip = 0 if void else 1
            return
        if tag == "title":
            self._in_title = True
        elif tag in _BLOCK_TAGS:
            self._close()
            self._block = Block(tag, classes)
        elif tag in _BOLD_TAGS:
            self._bold += 1
        elif tag == "br" and self._block is not None:
            self._block.runs.append(Run("\x00", self._bold > 0))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            self._skip -= 0 if tag in _VOID_TAGS else 1
            return
        if tag == "title":
            self._in_title = False
        elif tag in _BLOCK_TAGS or tag in ("div", "body", "section", "header", "footer"):
            self._close()
        elif tag in _BOLD_TAGS:
            self._bold = max(0, self._bold - 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
            return
        if self._block is None:
            if not data.strip():
                return
            self._block = Block("p", frozenset({"flush"}))  # loose text: a plain line
        self._block.runs.append(Run(data.replace("\x00", ""), self._bold > 0))

    def close(self) -> None:
        super().close()
        self._close()


def html_blocks(html: str) -> tuple[str, list[Block]]:
    """(title, blocks) of a document page, as the PDF lays them out."""
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    return _SPACE.sub(" ", parser.title).strip(), parser.blocks


# -- the PDF -----------------------------------------------------------------------------------

#: A4 with the margins of Chinese official documents (GB/T 9704: top 37 mm, left 28 mm,
#: right 26 mm, bottom 35 mm), body text 16 pt (三号), title 22 pt (二号).
MARGINS_MM = {"top": 37.0, "left": 28.0, "right": 26.0, "bottom": 35.0}
BODY_PT = 16.0
LINE_HEIGHT = 1.75
#: tag -> (size in pt, bold, alignment, first-line indent in characters, space before and
#: after in lines)
BLOCK_STYLE: Mapping[str, tuple[float, bool, str, float, float, float]] = {
    "h1": (22.0, True, "C", 0, 0.5, 0.8),
    "h2": (18.0, True, "C", 0, 0.5, 0.3),
    "h3": (BODY_PT, True, "L", 0, 0.3, 0.0),
    "p": (BODY_PT, False, "J", 2, 0.0, 0.0),
}
FAMILY = "cjk"
PT_MM = 25.4 / 72


def _pdf_class():
    from fpdf import FPDF

    class NoticePDF(FPDF):
        def footer(self) -> None:  # GB/T 9704 page number: — 1 —
            self.set_y(-MARGINS_MM["bottom"] + 7)
            self.set_font(FAMILY, "", 12)
            self.cell(0, 6, f"— {self.page_no()} —", align="C")

    return NoticePDF


def render_pdf(compiled: Compiled, case: CaseView, document: Document, org_name: str) -> bytes:
    """The document as an A4 PDF with an embedded CJK font subset (needs a Flask app context).

    Raises :class:`FontMissing` when no CJK font is installed (Debian: fonts-noto-cjk).
    """
    font = cjk_font()
    if font is None:
        raise FontMissing("no CJK font found; install fonts-noto-cjk or set "
                          "GONGKAI_DOCUMENT_FONT")
    title, blocks = html_blocks(render_html(compiled, case, document, org_name))

    pdf = _pdf_class()(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FAMILY, "", str(font.regular), collection_font_number=font.regular_face)
    bold = font.bold or font.regular
    pdf.add_font(FAMILY, "B", str(bold),
                 collection_font_number=font.bold_face if font.bold else font.regular_face)
    pdf.set_margins(MARGINS_MM["left"], MARGINS_MM["top"], MARGINS_MM["right"])
    pdf.set_auto_page_break(True, margin=MARGINS_MM["bottom"])
    pdf.set_title(title or document.label.zh)
    pdf.set_author(org_name)
    pdf.set_subject(case.code or "")
    pdf.set_creator("gongkai")
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(case.updated_at if case.updated_at.tzinfo
                          else case.updated_at.replace(tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_font(FAMILY, "", BODY_PT)
    for group in _groups(blocks):
        if len(group) > 1:  # kept together: to the next page if it does not fit here
            with pdf.offset_rendering() as trial:
                _lay_out(trial, group)
            if trial.page_break_triggered:
                pdf.add_page()
        _lay_out(pdf, group)
    return bytes(pdf.output())


def _groups(blocks: list[Block]) -> list[list[Block]]:
    """Each block alone, except that consecutive ``keep`` blocks stay together."""
    groups: list[list[Block]] = []
    for block in blocks:
        if "keep" in block.classes and groups and "keep" in groups[-1][-1].classes:
            groups[-1].append(block)
        else:
            groups.append([block])
    return groups


def _lay_out(pdf: Any, blocks: list[Block]) -> None:
    with pdf.text_columns(text_align="J", line_height=LINE_HEIGHT, wrapmode="CHAR",
                          skip_leading_spaces=True) as columns:
        for block in blocks:
            size, bold_block, align, indent, before, after = BLOCK_STYLE[block.tag]
            if block.classes & {"right", "center", "flush"}:
                indent = 0
                align = ("R" if "right" in block.classes
                         else "C" if "center" in block.classes else "L")
            if "space" in block.classes:
                before += 1.5
            line = size * PT_MM * LINE_HEIGHT
            with columns.paragraph(text_align=align, first_line_indent=indent * size * PT_MM,
                                   top_margin=before * line, bottom_margin=after * line) as par:
                for run in block.runs:
                    pdf.set_font(FAMILY, "B" if bold_block or run.bold else "", size)
                    par.write(run.text)
