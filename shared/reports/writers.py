"""Report tables as CSV or XLSX, inert in a spreadsheet.

CSV: a cell a spreadsheet would run as a formula (first character ``=``, ``+``, ``-``, ``@``,
tab or carriage return) is prefixed with a single quote (OWASP, "CSV Injection"). XLSX: every
cell is written as text (openpyxl ``data_type`` ``s``), never as a formula, and passed through
the same rule (so a copy pasted from it stays inert too); one sheet per table, a bold header
row and column widths. openpyxl is imported only here, when asked for.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_COLUMN_WIDTH = 60


@dataclass(frozen=True)
class Table:
    """A report table: ``title`` (the sheet's name), a header and rows of text cells."""

    title: str
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


def inert(cell: str) -> str:
    """``cell`` as a spreadsheet shows it without running it: a leading ``'`` if it starts
    like a formula (OWASP's CSV injection rule)."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def to_csv(tables: Sequence[Table]) -> str:
    """The tables as CSV (RFC 4180 quoting, ``\\r\\n`` lines), each with its header, a blank
    line between tables; every cell passed through :func:`inert`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for n, tab in enumerate(tables):
        if n:
            writer.writerow([])
        for row in (tab.header, *tab.rows):
            writer.writerow([inert(cell) for cell in row])
    return out.getvalue()


def write_xlsx(tables: Sequence[Table], path: Path) -> None:
    """Write the tables to ``path`` as an XLSX workbook, one sheet per table (see module doc)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for tab in tables:
        sheet = book.create_sheet(title=tab.title[:31])
        for r, row in enumerate((tab.header, *tab.rows), start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c)
                # Value and type set by hand: openpyxl's setter would read "=..." as a formula.
                cell._value = ILLEGAL_CHARACTERS_RE.sub("", inert(value))
                cell.data_type = "s"
                if r == 1:
                    cell.font = bold
        for c in range(1, len(tab.header) + 1):
            width = max(len(inert(row[c - 1])) for row in (tab.header, *tab.rows))
            sheet.column_dimensions[get_column_letter(c)].width = min(width + 2, MAX_COLUMN_WIDTH)
        sheet.freeze_panes = "A2"
    book.save(path)
