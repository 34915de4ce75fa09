"""The session the sample reports in ``events/attendance/`` are of, and its registrants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.programme.models import Session
from shared.registrations.models import Consent, Registration, RegistrationStatus
from tests.conftest import EVENTS

REPORTS = EVENTS / "attendance"
ZOOM = REPORTS / "zoom-webinar-attendee-report.csv"
TEAMS_US = REPORTS / "teams-attendance-report-en-us.csv"
TEAMS_GB = REPORTS / "teams-attendance-report-en-gb.csv"
GOTO = REPORTS / "goto-webinar-attendee-report.csv"
PLAIN = REPORTS / "plain-email-minutes.csv"
SAMPLES = (ZOOM, TEAMS_US, TEAMS_GB, GOTO, PLAIN)

# 10:00-11:30 in Brussels on 1 December 2026: the day every sample report names.
SESSION = Session(
    session_id="kbs-01-ict-hardware",
    title="Forced labour risks in ICT hardware supply chains",
    kind="webinar",
    category="ICT hardware",
    start=datetime(2026, 12, 1, 9, tzinfo=UTC),
    timezone="Europe/Brussels",
    duration_minutes=90,
    capacity=300,
    join_url="https://meet.example.org/kbs-01",
)
AFTER = SESSION.end + timedelta(hours=2)

# What every sample says (the plain CSV states totals): minutes per registrant.
EXPECTED = {
    "lucja.wroblewska@example.pl": 90,  # two joins, 90 min 53 s in all: capped at 90
    "odon.szoke@example.hu": 88,
    "stefan.ionescu@example.ro": 30,  # the short stay, under the threshold of 68
    "begona.munoz@example.es": 80,  # laptop and phone overlap: counted once
}
GUEST = "guest.visitor@example.com"  # in every report, registered for nothing
NO_SHOW = "jonas.muller@example.de"  # registered, in no report
REGISTRANTS = (*EXPECTED, NO_SHOW)


def registration(
    email: str, status: RegistrationStatus = RegistrationStatus.CONFIRMED
) -> Registration:
    at = SESSION.start - timedelta(days=10)
    return Registration(
        session_id=SESSION.session_id,
        email=email,
        reference="KBS-ABCD-0001",
        full_name="Sample Person",
        organisation="Sample Authority",
        country="BE",
        status=status,
        registered_at=at,
        consent=Consent(given_at=at, text_version="1"),
    )


def read(path: Path) -> bytes:
    return path.read_bytes()
