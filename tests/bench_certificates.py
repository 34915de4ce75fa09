"""``make bench``, attendance and certificates: a 1,000-row Zoom attendee report for a session
of 300 registrants, parsed, matched, and 300 certificates rendered, timed stage by stage.

The stages run in-process on the code the Lambda and the organiser command run (no AWS calls:
the report is parsed and matched against registrations in memory, the PDFs rendered with the
layer's fpdf2 and segno), so the figures are the work itself, not moto's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

REGISTRANTS = 300
ROWS = 1_000


def _registrations(session_id: str) -> list[object]:
    from shared.registrations.models import Consent, Registration, RegistrationStatus

    at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    return [
        Registration(
            session_id=session_id,
            email=f"buyer.{n}@authority-{n % 40}.example.eu",
            reference=f"KBS-{n:04d}-BNCH",
            full_name=f"Łucja Őrs-Șerban {n}",
            organisation=f"Authority {n % 40}",
            country="PL",
            status=RegistrationStatus.CONFIRMED,
            registered_at=at,
            consent=Consent(given_at=at, text_version="2026-11"),
        )
        for n in range(REGISTRANTS)
    ]


def attendance_and_certificates(report: Callable[[str], None] = print) -> bool:
    """Print parse, match and PDF figures; True if every registrant was matched and every
    qualifying attendee got a PDF."""
    from kbs.demo_attendance import zoom_report
    from shared.attendance.formats import parse_report
    from shared.attendance.matching import match
    from shared.certificates import pdf
    from shared.certificates.store import CERTIFICATE, VALID, Certificate, SessionLine
    from shared.programme.models import Session

    session = Session(
        session_id="kbs-01-bench",
        title="Forced labour risks in ICT hardware supply chains",
        kind="webinar",
        category="ICT hardware",
        start=datetime(2026, 12, 1, 9, tzinfo=UTC),
        timezone="Europe/Brussels",
        duration_minutes=90,
        capacity=REGISTRANTS,
        join_url="https://meet.example.org/kbs-01",
    )
    registrations = _registrations(session.session_id)
    people = [r.email for r in registrations]  # type: ignore[attr-defined]
    # Each person joins three times (reconnects) and a hundred guests once: 1,000 rows.
    data = zoom_report(session.model_dump(mode="json"), people * 3)
    rows = [line for line in data.splitlines() if line.startswith("Yes,")]
    data += "".join(
        f"Yes,Guest {n},Guest,{n},guest.{n}@example.net,,approved,"
        f'"12/01/2026 10:05:00 AM","12/01/2026 10:35:00 AM",30,Yes,\n'
        for n in range(ROWS - len(rows))
    )

    started = time.perf_counter()
    parsed = parse_report(data.encode("utf-8"), session)
    parsed_at = time.perf_counter()
    outcome = match(parsed, session, registrations, threshold=68)  # type: ignore[arg-type]
    matched_at = time.perf_counter()
    qualifying = [m for m in outcome.matched if m.minutes >= 68]
    issued = datetime(2026, 12, 1, 12, tzinfo=UTC)
    pdfs = 0
    for n, person in enumerate(qualifying):
        cert = Certificate(
            number=f"BNCH-{n:04d}-ABCD-EFGH",
            kind=CERTIFICATE,
            status=VALID,
            email=person.email,
            name=f"Łucja Őrs-Șerban {n}",
            organisation="Authority",
            issued_at=issued,
            sessions=(
                SessionLine(session.session_id, session.title, "2026-12-01", person.minutes),
            ),
            expiration=int((issued + timedelta(days=2190)).timestamp()),
        )
        pdfs += bool(pdf.certificate_pdf(cert, series="Knowledge Building Series", verify_url="x"))
    done = time.perf_counter()

    report(f"attendance: a {len(parsed.rows):,}-row Zoom report, {REGISTRANTS} registrants")
    report(f"  parse                                     {parsed_at - started:7.2f} s")
    report(f"  match ({len(outcome.matched)} matched, {len(outcome.unmatched)} unmatched)")
    report(f"                                            {matched_at - parsed_at:7.2f} s")
    report(f"  {pdfs} certificate PDFs                     {done - matched_at:7.2f} s")
    report(f"  PDFs per second                           {pdfs / (done - matched_at):7.1f}")
    return len(outcome.matched) == REGISTRANTS and pdfs == len(qualifying) == REGISTRANTS
