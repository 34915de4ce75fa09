"""Plain-text tables for the organiser commands: columns left-aligned, two spaces apart."""

from __future__ import annotations

from collections.abc import Sequence

Row = Sequence[str]


def column_widths(rows: Sequence[Row]) -> list[int]:
    """The width of each column: its longest cell (``rows`` non-empty, equal lengths)."""
    return [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]


def table_line(row: Row, widths: Sequence[int]) -> str:
    """One row padded to ``widths``, without trailing spaces."""
    return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()


def print_table(rows: Sequence[Row]) -> None:
    """Print ``rows`` (the first is usually the header) as aligned columns."""
    widths = column_widths(rows)
    for row in rows:
        print(table_line(row, widths))
