"""Spreadsheets the service hands out (CSV and XLSX), every text cell made inert.

A title that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a live
formula to Excel (``=HYPERLINK("http://evil.example","x")``). Following OWASP's
CSV-injection rule, a CSV cell that begins so gets a leading apostrophe, and every XLSX
text cell is typed as a string (openpyxl would store ``=…`` as a formula). Every export,
now and later, goes through here (issue 20, item 2).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def inert(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([inert(h) for h in headers])
    writer.writerows([inert(cell) for cell in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
               widths: Sequence[int] = ()) -> bytes:
    """One sheet: a bold header row, wrapped text, frozen header; text typed as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = title
    for r, row in enumerate([list(headers), *rows], 1):
        for c, value in enumerate(row, 1):
            cell = sheet.cell(r, c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
            cell.font = Font(bold=r == 1)
            if r > 1:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
