"""Attendance reports as organisers download them: decoding, tables, and which format a file is.

A report is bytes (at most :data:`MAX_REPORT_BYTES`): UTF-16 with a BOM (Teams), UTF-8 with or
without a BOM, or Windows-1252 (a CSV saved again by Excel). Its text holds one or more tables
(a header row naming an email column, then data rows up to a blank line or a section title),
after summary sections we do not need. :func:`detect` names the format from the headers;
:mod:`shared.attendance.formats` reads each one's rows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

MAX_REPORT_BYTES = 10 * 1024 * 1024
"""The largest report accepted (10 MB: a 1,000-row Zoom report is about 200 KB)."""

FORMATS = {
    "zoom": "Zoom webinar attendee report (CSV: Attendee Details with Join Time, Leave Time, "
    "Time in Session (minutes))",
    "teams": "Microsoft Teams attendance report (UTF-16, tab-separated: 1. Summary, "
    "2. Participants, 3. In-Meeting Activities)",
    "goto": "GoTo Webinar attendee report (CSV: Attendee Details with Interest Rating, Email "
    "Address, Join Time, Leave Time, Time in Session)",
    "csv": "plain CSV with the header email,minutes",
}

EMAIL = ("email", "email address", "e-mail", "user email", "attendee email")
UPN = ("participant id (upn)", "upn")
JOIN = ("join time", "first join", "first join time", "joined at")
LEAVE = ("leave time", "last leave", "last leave time", "left at")
MINUTES = (
    "time in session (minutes)",
    "time in session",
    "duration",
    "in-meeting duration",
    "minutes",
    "attendance duration",
)
ATTENDED = ("attended",)
ROLE = ("role",)


class ReportError(ValueError):
    """The file is refused as a whole: nothing of it is imported. The message says why."""


@dataclass(frozen=True)
class ReportRow:
    """One row of a report: one join of one person (or their total, for a plain CSV)."""

    line: int
    """1-based line of the file, for the organiser's review."""
    email: str
    """Canonical (lower-case) address; empty if the row has none."""
    join: datetime | None = None
    leave: datetime | None = None
    minutes: float | None = None
    """Time in session as the platform states it, used where the row has no join and leave."""
    role: str = ""
    """``host``, ``panelist``, ``organizer``, ``presenter``: staff rows, empty for attendees."""


@dataclass(frozen=True)
class Report:
    source: str
    """A key of :data:`FORMATS`."""
    rows: list[ReportRow]
    not_attended: int = 0
    """Rows of registrants the platform marks as not attended (Zoom and GoTo list them)."""


@dataclass
class Table:
    """A header and its data rows, under the section title that precedes it (if any)."""

    section: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)

    def column(self, names: tuple[str, ...]) -> int | None:
        """Index of the first column whose header is one of ``names`` (case-insensitive)."""
        for name in names:
            if name in self.header:
                return self.header.index(name)
        return None

    def cell(self, cells: list[str], names: tuple[str, ...]) -> str:
        index = self.column(names)
        return cells[index].strip() if index is not None and index < len(cells) else ""


def decode(data: bytes) -> tuple[str, str]:
    """The text of a report and its delimiter (tab for UTF-16 and tab-separated files).

    Raises :class:`ReportError` for an empty file, one over :data:`MAX_REPORT_BYTES`, or one
    that is not text in any encoding the platforms write.
    """
    try:
        return _decode(data)
    except UnicodeDecodeError as exc:
        raise ReportError("the file is not a text report (CSV or tab-separated)") from exc


def _decode(data: bytes) -> tuple[str, str]:
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(
            f"the file has {len(data):,} bytes: reports up to {MAX_REPORT_BYTES:,} are accepted"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    elif data[:2000].count(b"\x00") > len(data[:2000]) // 4:  # UTF-16 without a BOM
        text = data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise ReportError("the file is empty")
    first = next((line for line in text.splitlines() if line.strip()), "")
    return text, "\t" if "\t" in text[:5000] and first.count("\t") >= first.count(",") else ","


def tables(text: str, delimiter: str) -> list[Table]:
    """The tables of a report: each header row that names an email column, and the data rows
    after it up to a blank row or a section title (a row with a single cell). Raises
    :class:`ReportError` for text the CSV reader cannot split (a binary file)."""
    try:
        return _tables(text, delimiter)
    except csv.Error as exc:
        raise ReportError(f"the file is not a readable report: {exc}") from exc


def _tables(text: str, delimiter: str) -> list[Table]:
    found: list[Table] = []
    section, current = "", None
    for number, cells in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        filled = [c.strip() for c in cells if c.strip()]
        normal = [c.strip().lower() for c in cells]
        if not filled:
            current = None
        elif any(n in EMAIL for n in normal) and any(n in MINUTES + JOIN for n in normal):
            current = Table(section=section, header=normal)
            found.append(current)
        elif _title(cells, filled):
            section, current = filled[0].rstrip(":"), None
        elif current is not None:
            current.rows.append((number, cells))
    return found


def _title(cells: list[str], filled: list[str]) -> bool:
    """A section title: one cell of text, first on its line (``Attendee Details,``)."""
    first = cells[0].strip()
    return (
        len(filled) == 1
        and len(cells) <= 2
        and bool(first)
        and "@" not in first
        and not (first.replace(".", "").replace(",", "").isdigit())
    )


def detect(found: list[Table], delimiter: str) -> str:
    """The format of a report from its tables' headers; :class:`ReportError` naming the
    formats we know if it is none of them."""
    for table in found:
        header = set(table.header)
        if delimiter == "\t" and header & set(JOIN) and header & set(MINUTES):
            return "teams"
        if "user name (original name)" in header or "time in session (minutes)" in header:
            return "zoom"
        if "interest rating" in header or ("email address" in header and header & set(JOIN)):
            return "goto"
        if {h for h in table.header if h} == {"email", "minutes"}:
            return "csv"
    known = "\n".join(f"  - {description}" for description in FORMATS.values())
    raise ReportError(f"unknown report format; the formats known are:\n{known}")
