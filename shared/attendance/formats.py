"""The rows of each report format, read against the session the report is for.

- ``zoom``: the webinar attendee report. Sections (``Host Details``, ``Panelist Details``,
  ``Attendee Details``) each with a header; one row per join with ``Join Time``, ``Leave
  Time`` and ``Time in Session (minutes)``; registrants who did not attend appear with
  ``Attended`` = ``No`` and no times.
- ``teams``: the attendance report. ``3. In-Meeting Activities`` has one row per join (``Join
  Time``, ``Leave Time``, ``Duration``); without it, ``2. Participants`` (``First Join``,
  ``Last Leave``, ``In-Meeting Duration``) gives each person's total. The address is ``Email``,
  else ``Participant ID (UPN)`` when it is one.
- ``goto``: the attendee report. ``Attendee Details`` with ``Attended``, ``Email Address``,
  ``Join Time``, ``Leave Time``, ``Time in Session``; staff in their own section.
- ``csv``: ``email,minutes``, one row per person (several rows of one person add up).
"""

from __future__ import annotations

from shared.attendance import reports
from shared.attendance.reports import Report, ReportError, ReportRow, Table
from shared.attendance.times import TimeFormatError, parse_minutes, parse_time
from shared.programme.models import Session
from shared.registrations.models import normalise_email

_STAFF_SECTIONS = {"host": "host", "panelist": "panelist", "organizer": "organizer"}


def parse_report(data: bytes, session: Session) -> Report:
    """Decode, detect and read a report of ``session``.

    Raises :class:`ReportError` (nothing is imported) for an empty, oversized or unknown file,
    an unreadable time or duration, or a time outside the session's day (the line is named).
    """
    text, delimiter = reports.decode(data)
    found = reports.tables(text, delimiter)
    source = reports.detect(found, delimiter)
    if source == "teams":  # per-join activities where the file has them, else the totals
        joins = [
            t for t in found if "first join" not in t.header and t.column(reports.JOIN) is not None
        ]
        found = joins or found
    rows: list[ReportRow] = []
    not_attended = 0
    for table in found:
        role = _role(table, source)
        for line, cells in table.rows:
            attended = table.cell(cells, reports.ATTENDED).lower()
            if attended in ("no", "false", "0"):
                not_attended += 1
                continue
            try:
                rows.append(_row(table, line, cells, session, role))
            except TimeFormatError as exc:
                raise ReportError(f"line {line}: {exc}") from exc
    if not rows:
        raise ReportError(f"the {source} report has no attendee rows")
    return Report(source=source, rows=rows, not_attended=not_attended)


def _row(table: Table, line: int, cells: list[str], session: Session, role: str) -> ReportRow:
    email = table.cell(cells, reports.EMAIL)
    if "@" not in email:
        upn = table.cell(cells, reports.UPN)
        email = upn if "@" in upn else ""
    join_text = table.cell(cells, reports.JOIN)
    leave_text = table.cell(cells, reports.LEAVE)
    minutes_text = table.cell(cells, reports.MINUTES)
    join = parse_time(join_text, session) if _given(join_text) else None
    leave = parse_time(leave_text, session) if _given(leave_text) else None
    minutes = parse_minutes(minutes_text) if _given(minutes_text) else None
    if "first join" in table.header:  # Teams participants: first join to last leave spans gaps
        join = leave = None
    if (join is None or leave is None) and minutes is None:
        raise TimeFormatError("the row has neither join and leave times nor a duration")
    row_role = table.cell(cells, reports.ROLE).lower()
    return ReportRow(
        line=line,
        email=normalise_email(email) if "@" in email else "",
        join=join if leave is not None else None,
        leave=leave if join is not None else None,
        minutes=minutes,
        role=role or ("" if row_role in ("", "attendee") else row_role),
    )


def _given(text: str) -> bool:
    return text not in ("", "--", "-", "n/a", "N/A")


def _role(table: Table, source: str) -> str:
    if source == "csv":
        return ""
    first = table.section.lower().split(" ")[0] if table.section else ""
    return _STAFF_SECTIONS.get(first, "")


def format_names() -> list[str]:
    """The formats :func:`parse_report` reads, as ``name: description`` lines."""
    return [f"{name}: {text}" for name, text in reports.FORMATS.items()]


__all__ = ["ReportError", "format_names", "parse_report"]
