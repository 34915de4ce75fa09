"""Who a report says attended: its rows merged per person and matched to the session's
registrations by address (case-insensitively; names are never compared: they go wrong).

Every row ends up somewhere: a matched attendee (with minutes), or an unmatched row listed for
the organiser's review (no address, or an address with no registration for the session). Rows
the platform marks as not attended are counted. Confirmed registrants with no row are no-shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.attendance.merge import attended_minutes
from shared.attendance.reports import Report, ReportError, ReportRow
from shared.programme.models import Session
from shared.registrations.models import Registration, RegistrationStatus


@dataclass(frozen=True)
class Matched:
    email: str
    minutes: int
    status: str
    """The registration's status (an attendee whose place was cancelled still attended)."""


@dataclass(frozen=True)
class Unmatched:
    """Rows of the report that matched no registration (one entry per address or per row
    without an address)."""

    lines: tuple[int, ...]
    email: str
    """Empty when the rows have no address."""
    minutes: int
    reason: str
    """``no email``, ``not registered``, or a staff role (``host``, ``panelist``...) with it."""


@dataclass(frozen=True)
class Outcome:
    source: str
    threshold: int
    """Minutes that qualify (:func:`shared.attendance.store.threshold_minutes`)."""
    matched: list[Matched]
    no_shows: list[str]
    """Addresses of confirmed registrants with no row."""
    unmatched: list[Unmatched]
    rows: int
    not_attended: int

    @property
    def under_threshold(self) -> list[Matched]:
        return [m for m in self.matched if m.minutes < self.threshold]

    def counts(self) -> dict[str, int]:
        """The figures of an import's audit and summary."""
        return {
            "rows": self.rows,
            "matched": len(self.matched),
            "under_threshold": len(self.under_threshold),
            "no_shows": len(self.no_shows),
            "unmatched_rows": sum(len(u.lines) for u in self.unmatched),
            "not_attended_rows": self.not_attended,
        }


def match(
    report: Report,
    session: Session,
    registrations: Iterable[Registration],
    threshold: int,
) -> Outcome:
    """Merge each person's rows (:func:`shared.attendance.merge.attended_minutes`) and match
    them to ``registrations`` of ``session``.

    Raises :class:`ReportError` if no row has an address, or none matches a registration (the
    file is of another session, or the wrong file): nothing would be imported.
    """
    by_email: dict[str, list[ReportRow]] = defaultdict(list)
    unmatched: list[Unmatched] = []
    for row in report.rows:
        if row.email:
            by_email[row.email].append(row)
        else:
            minutes = _minutes([row], session)
            unmatched.append(Unmatched((row.line,), "", minutes, _reason(row, "no email")))
    if not by_email:
        raise ReportError("no row of the file has an email address: nothing to match")
    registered = {r.email: r for r in registrations}
    matched: list[Matched] = []
    for email, rows in sorted(by_email.items()):
        minutes = _minutes(rows, session)
        registration = registered.get(email)
        if registration is None:
            lines = tuple(r.line for r in rows)
            unmatched.append(Unmatched(lines, email, minutes, _reason(rows[0], "not registered")))
        else:
            matched.append(Matched(email, minutes, registration.status.value))
    if not matched:
        raise ReportError(
            f"no address in the file is registered for {session.session_id}: "
            "is it the report of another session?"
        )
    present = {m.email for m in matched}
    no_shows = sorted(
        r.email
        for r in registered.values()
        if r.status == RegistrationStatus.CONFIRMED and r.email not in present
    )
    return Outcome(
        source=report.source,
        threshold=threshold,
        matched=matched,
        no_shows=no_shows,
        unmatched=sorted(unmatched, key=lambda u: u.lines[0]),
        rows=len(report.rows),
        not_attended=report.not_attended,
    )


def _minutes(rows: list[ReportRow], session: Session) -> int:
    intervals: list[tuple[datetime, datetime]] = []
    durations: list[float] = []
    for row in rows:
        if row.join is not None and row.leave is not None:
            intervals.append((row.join, row.leave))
        elif row.minutes is not None:
            durations.append(row.minutes)
    return attended_minutes(intervals, durations, session.duration_minutes)


def _reason(row: ReportRow, reason: str) -> str:
    return f"{row.role}, {reason}" if row.role else reason
