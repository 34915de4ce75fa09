"""Series coverage: per session, per authority, per country, and totals (series, calendar year).

Definitions (from the stored data, :mod:`shared.reports.rows`):

- *registered*: registrations of the session, any status; *confirmed*, *waitlisted*,
  *cancelled*: by current status.
- *attended*: people with an attendance record of more than 0 minutes (an attendee whose place
  was cancelled still attended). *No-show rate*: confirmed registrants with no such record, over
  the confirmed, in percent, once the session's attendance was recorded (else empty).
- *people* of an authority or country: distinct addresses registered under it (a person who
  gave two organisations counts under both; the series' people are distinct addresses).
- *sessions attended*: (person, session) pairs attended; *categories covered*: distinct
  purchasing categories of the sessions attended.
- *CPD hours*: per attended session, the minutes / 60 rounded down to the quarter hour (the
  certificate rule: 80 minutes are 1.25 hours), summed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.registrations.models import RegistrationStatus
from shared.reports.authorities import Resolver
from shared.reports.rows import Booking, SessionData
from shared.reports.writers import Table

QUARTER_MINUTES = 15


def cpd_quarters(minutes: int) -> int:
    """CPD credit of ``minutes`` attended, in quarter hours, rounded down (80 -> 5)."""
    return max(minutes, 0) // QUARTER_MINUTES


def hours(quarters: int) -> str:
    """Quarter hours as decimal hours text (5 -> ``"1.25"``)."""
    return f"{quarters // 4}.{quarters % 4 * 25:02d}"


@dataclass
class SessionLine:
    session_id: str
    year: int
    category: str
    registered: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    attended: int = 0
    no_shows: int | None = None
    """Confirmed registrants who did not attend; None while no attendance is recorded."""

    @property
    def no_show_rate(self) -> str:
        if self.no_shows is None or not self.confirmed:
            return ""
        return f"{100 * self.no_shows / self.confirmed:.1f}%"


@dataclass
class GroupLine:
    """An authority's or a country's coverage."""

    name: str
    people: set[str] = field(default_factory=set)
    sessions_attended: int = 0
    categories: set[str] = field(default_factory=set)
    quarters: int = 0


@dataclass
class Series:
    sessions: list[SessionLine] = field(default_factory=list)
    authorities: list[GroupLine] = field(default_factory=list)
    countries: list[GroupLine] = field(default_factory=list)
    registered: set[tuple[str, str]] = field(default_factory=set)
    """(session id, address) of every registration."""
    attended: list[tuple[str, int]] = field(default_factory=list)
    """(session id, CPD quarters) of every attendance."""

    def totals(self) -> list[tuple[str, SessionLine, int, int, int]]:
        """(label, summed session counts, people, sessions attended, CPD quarters) per calendar
        year of the sessions' start (UTC), then for the whole series (label ``series``)."""
        years = sorted({s.year for s in self.sessions})
        return [self._total(str(y), y) for y in years] + [self._total("series", None)]

    def _total(self, label: str, year: int | None) -> tuple[str, SessionLine, int, int, int]:
        lines = [s for s in self.sessions if year is None or s.year == year]
        total = SessionLine(label, year or 0, "")
        for s in lines:
            total.registered += s.registered
            total.confirmed += s.confirmed
            total.waitlisted += s.waitlisted
            total.cancelled += s.cancelled
            total.attended += s.attended
            if s.no_shows is not None:
                total.no_shows = (total.no_shows or 0) + s.no_shows
        ids = {s.session_id for s in lines}
        people = {p for (sid, p) in self.registered if sid in ids}
        attended = [q for (sid, q) in self.attended if sid in ids]
        return label, total, len(people), len(attended), sum(attended)

    def tables(self) -> list[Table]:
        """The four tables (sessions, authorities, countries, totals) as text cells."""
        counts = ("registered", "confirmed", "waitlisted", "cancelled", "attended", "no-show rate")
        group = ("people", "sessions attended", "categories covered", "CPD hours")
        return [
            Table(
                "sessions",
                ("session", "year", "category", *counts),
                [_session(s) for s in self.sessions],
            ),
            Table("authorities", ("authority", *group), [_group(g) for g in self.authorities]),
            Table("countries", ("country", *group), [_group(g) for g in self.countries]),
            Table(
                "totals",
                ("period", *counts, *group[:2], "CPD hours"),
                [
                    (*_session(t)[:1], *_session(t)[3:], str(p), str(a), hours(q))
                    for (_, t, p, a, q) in self.totals()
                ],
            ),
        ]


def _session(s: SessionLine) -> tuple[str, ...]:
    return (
        s.session_id,
        str(s.year),
        s.category,
        str(s.registered),
        str(s.confirmed),
        str(s.waitlisted),
        str(s.cancelled),
        str(s.attended),
        s.no_show_rate,
    )


def _group(g: GroupLine) -> tuple[str, ...]:
    return (
        g.name,
        str(len(g.people)),
        str(g.sessions_attended),
        str(len(g.categories)),
        hours(g.quarters),
    )


def coverage(data: Sequence[SessionData], resolver: Resolver) -> Series:
    """The series' coverage from each session's people (see module doc for the definitions)."""
    authorities: dict[str, GroupLine] = {}
    countries: dict[str, GroupLine] = {}
    series = Series()
    for session in data:
        meta = session.session
        line = SessionLine(meta.session_id, meta.start.year, meta.category)
        counts: dict[RegistrationStatus, int] = defaultdict(int)
        for registration in session.registrations:
            counts[registration.status] += 1
            minutes = session.attendance.get(registration.email, 0)
            series.registered.add((meta.session_id, registration.email))
            groups = (
                _line(
                    authorities,
                    resolver.key(registration.organisation),
                    resolver.authority(registration.organisation),
                ),
                _line(countries, registration.country, registration.country),
            )
            for g in groups:
                g.people.add(registration.email)
            if minutes > 0:
                _attend(series, groups, meta.session_id, meta.category, minutes)
        line.registered = len(session.registrations)
        line.confirmed = counts[RegistrationStatus.CONFIRMED]
        line.waitlisted = counts[RegistrationStatus.WAITLISTED]
        line.cancelled = counts[RegistrationStatus.CANCELLED]
        line.attended = sum(
            1 for r in session.registrations if session.attendance.get(r.email, 0) > 0
        )
        if session.attendance:
            line.no_shows = sum(1 for r in session.registrations if _no_show(r, session))
        series.sessions.append(line)
    series.authorities = sorted(authorities.values(), key=lambda g: g.name.casefold())
    series.countries = sorted(countries.values(), key=lambda g: g.name)
    return series


def _line(lines: dict[str, GroupLine], key: str, name: str) -> GroupLine:
    return lines.setdefault(key, GroupLine(name))


def _attend(
    series: Series, groups: Sequence[GroupLine], session_id: str, category: str, minutes: int
) -> None:
    quarters = cpd_quarters(minutes)
    series.attended.append((session_id, quarters))
    for g in groups:
        g.sessions_attended += 1
        g.categories.add(category)
        g.quarters += quarters


def _no_show(registration: Booking, session: SessionData) -> bool:
    return (
        registration.status is RegistrationStatus.CONFIRMED
        and session.attendance.get(registration.email, 0) <= 0
    )
