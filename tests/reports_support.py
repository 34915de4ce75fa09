"""A seeded series for the reports: sessions, registrations of every status, waitlist entries
and attendance, written with batch writes (not through the form). Used by the report tests and
``make bench``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.attendance.store import Attendance, attendance_item
from shared.platform.clients import table
from shared.programme.models import Session
from shared.programme.repository import put_session
from shared.registrations.models import Consent, Registration, RegistrationStatus
from shared.registrations.store import registration_item, waitlist_item

FORMULA = '=HYPERLINK("http://x.example","a")'
SPELLINGS = ("Stockholms stad", "STOCKHOLMS  STAD ", "Stockholm City", "Ville de Lyon", FORMULA)
COUNTRIES = ("SE", "SE", "SE", "FR", "BE")
CATEGORIES = ("ICT hardware", "Textiles", "Construction")


def session(n: int, year: int = 2026) -> Session:
    return Session(
        session_id=f"kbs-{n:02d}-series",
        title=f"Session number {n}",
        kind="webinar",
        category=CATEGORIES[n % len(CATEGORIES)],
        start=datetime(year, 1 + n % 12, 10, 9, tzinfo=UTC),
        timezone="Europe/Brussels",
        duration_minutes=90,
        capacity=100_000,
        join_url=f"https://meet.example.org/kbs-{n:02d}",
    )


@dataclass(frozen=True)
class Seeded:
    sessions: list[Session]
    registrations: list[Registration]
    attendance: dict[tuple[str, str], int]
    """(session id, email) -> minutes."""


def status_of(i: int) -> RegistrationStatus:
    """Every 7th cancelled, every 5th waitlisted, the rest confirmed."""
    if i % 7 == 6:
        return RegistrationStatus.CANCELLED
    if i % 5 == 4:
        return RegistrationStatus.WAITLISTED
    return RegistrationStatus.CONFIRMED


def seed(table_name: str, sessions: Sequence[Session], per_session: int) -> Seeded:
    """``per_session`` people in each session (person ``i`` is the same address in every
    session), organisations cycling through :data:`SPELLINGS`; confirmed people with an even
    ``i`` attended ``40 + i % 50`` minutes of sessions that ended."""
    registrations: list[Registration] = []
    attendance: dict[tuple[str, str], int] = {}
    items: list[dict[str, Any]] = []
    for s in sessions:
        put_session(table_name, s)
        for i in range(per_session):
            at = s.start - timedelta(days=30, minutes=per_session - i)
            r = Registration(
                session_id=s.session_id,
                email=f"person.{i}@authority{i % 5}.example.eu",
                reference=f"KBS-{i // 10000:04d}-{i % 10000:04d}",
                full_name=f"Person {i}",
                organisation=SPELLINGS[i % len(SPELLINGS)],
                country=COUNTRIES[i % len(COUNTRIES)],
                role="buyer",
                status=status_of(i),
                registered_at=at,
                consent=Consent(given_at=at, text_version="1"),
            )
            registrations.append(r)
            items.append(registration_item(r))
            if r.status is RegistrationStatus.WAITLISTED:
                items.append(waitlist_item(r, submitted_at=at, sequence=i))
            if r.status is RegistrationStatus.CONFIRMED and i % 2 == 0:
                minutes = 40 + i % 50
                attendance[(s.session_id, r.email)] = minutes
                record = Attendance(s.session_id, r.email, minutes, "csv", s.end, "import-1")
                items.append(attendance_item(record, s, 6))
    with table(table_name).batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)
    return Seeded(list(sessions), registrations, attendance)
