"""The annual report (G14) as an A4 PDF: its tables and texts, with a subset of a CJK font
embedded as the 告知书 does (``web.documents.cjk_font``, DESIGN.md: generated PDFs embed
their font)."""

from __future__ import annotations

from collections.abc import Sequence

from web.documents import FAMILY, FontMissing, cjk_font
from workflow.views.statistics import Annual


def render(report: Annual, tables: Sequence) -> bytes:
    """Tables first (the national format's order), then problems and improvements."""
    from fpdf import FPDF

    font = cjk_font()
    if font is None:
        raise FontMissing("no CJK font found; install fonts-noto-cjk or set "
                          "GONGKAI_DOCUMENT_FONT")
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FAMILY, "", str(font.regular), collection_font_number=font.regular_face)
    bold = font.bold or font.regular
    pdf.add_font(FAMILY, "B", str(bold),
                 collection_font_number=font.bold_face if font.bold else font.regular_face)
    title = f"{report.org_name} {report.year} 年度党务公开工作报告"
    pdf.set_title(title)
    pdf.set_author(report.org_name)
    pdf.set_creator("gongkai")
    pdf.set_lang("zh-CN")
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(0, 10, title, align="C", new_x="LMARGIN", new_y="NEXT")
    for table in tables:
        pdf.ln(4)
        pdf.set_font(FAMILY, "B", 12)
        pdf.multi_cell(0, 7, table.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 9)
        widths = (70, *([90 / (len(table.headers) - 1)] * (len(table.headers) - 1)))
        with pdf.table(col_widths=widths, text_align=("LEFT", *("RIGHT",) * (len(widths) - 1)),
                       line_height=5) as grid:
            grid.row([str(h) for h in table.headers])
            for row in table.rows:
                grid.row([str(cell) for cell in row])
    for heading, text in (("存在的主要问题", report.problems), ("改进情况", report.improvements)):
        pdf.ln(4)
        pdf.set_font(FAMILY, "B", 12)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 11)
        pdf.multi_cell(0, 6, text or "—", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
