"""Every email and page, rendered with representative and hostile inputs, for the golden test.

``python -m tests.unit.golden_cases`` writes the current outputs to ``tests/unit/golden/``:
``emails/<case>.txt`` (``Subject: ...``, a blank line, the text part), ``emails/<case>.html``
and ``pages/<case>.html``. :mod:`tests.unit.test_golden` compares the renderers against them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from shared.mail import footers, summary, templates
from shared.mail.templates import EmailContent, Material
from shared.programme.models import Session, SessionAvailability
from shared.registrations.models import Consent, Registration, RegistrationStatus
from shared.web import pages

GOLDEN = Path(__file__).parent / "golden"
INDEX = Path(__file__).resolve().parents[2] / "functions" / "api" / "static" / "index.html"

HOSTILE = '<script>alert("x")</script>'
NAME = f"Łucja Őz-Ñúñez {HOSTILE} & 'Co'"
TITLE = f'Risks & "remedies" {HOSTILE} in ICT: Łódź'
URL = "https://kbs.example.org/registrations/cancel?token=a.b&x=1&q=%22%3E"
HOSTILE_URL = 'https://kbs.example.org/x?token=a&b="><script>alert(2)</script>'
REASON = '<img src=x onerror=alert(1)> "budget" & cuts'


def session(**overrides: object) -> Session:
    fields: dict[str, object] = {
        "session_id": "kbs-01-ict-hardware",
        "title": TITLE,
        "kind": "webinar",
        "category": '<b>ICT</b> & "hardware"',
        "start": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        "timezone": "Europe/Brussels",
        "duration_minutes": 90,
        "capacity": 300,
        "join_url": "https://meet.example.org/kbs-01?pwd=a&b=c",
        "description": f"About {HOSTILE} & more",
    }
    return Session.model_validate(fields | overrides)


def registration(**overrides: object) -> Registration:
    fields: dict[str, object] = {
        "session_id": "kbs-01-ict-hardware",
        "email": "lucja@example.org",
        "reference": "KBS-7Q2M-X4TD",
        "full_name": NAME,
        "organisation": "Ministry <i>of</i> & Co",
        "country": "PL",
        "timezone": None,
        "status": RegistrationStatus.CONFIRMED,
        "registered_at": datetime(2026, 11, 24, 9, 15, tzinfo=UTC),
        "consent": Consent(given_at=datetime(2026, 11, 24, 9, 15, tzinfo=UTC), text_version="1"),
    }
    return Registration.model_validate(fields | overrides)


PLAIN = session(title="Forced labour risks in ICT hardware supply chains", category="ICT hardware")
LATE = session(start=datetime(2026, 12, 1, 22, 30, tzinfo=UTC), kind="workshop")
REG = registration()
IN_TOKYO = registration(timezone="Asia/Tokyo", full_name="Zoë Åkesson")
MATERIALS = [
    Material(f"Slides: <b>Risk</b> & mapping {HOSTILE} (PDF, 1.2 MB)", HOSTILE_URL),
    Material("Guidance note: Łódź checklist (Word, 20.0 kB)", "https://x/materials/b?token=t&u"),
]


FEED = templates.Feed(
    https=f"https://kbs.example.org/calendar/{HOSTILE}.ics",
    webcal=f"webcal://kbs.example.org/calendar/{HOSTILE}.ics",
)


def _summary() -> EmailContent:
    places = [
        summary.place(
            title=TITLE,
            when=templates.session_time(session()),
            confirmed=True,
            position=None,
            join_url=HOSTILE_URL,
            cancel_url=URL,
            session=session(),
            details=templates.calendar_description(REG, session()),
        ),
        summary.place(
            title=PLAIN.title,
            when=templates.session_time(PLAIN, "Asia/Tokyo"),
            confirmed=False,
            position=3,
            join_url=str(PLAIN.join_url),
            cancel_url=HOSTILE_URL,
        ),
    ]
    return summary.submission_status(REG, "KBS-7Q2M-X4TD", places, feed=FEED)


def _footers(content: EmailContent) -> EmailContent:
    with_footer = footers.with_unsubscribe(content, HOSTILE_URL)
    return footers.with_privacy_link(with_footer, URL + "&p=1")


EMAILS: dict[str, Callable[[], EmailContent]] = {
    "confirmation": lambda: templates.confirmation(REG, session(), HOSTILE_URL),
    "confirmation_plain_tokyo": lambda: templates.confirmation(IN_TOKYO, PLAIN, URL),
    "confirmation_late": lambda: templates.confirmation(REG, LATE, URL),
    "waitlist": lambda: templates.waitlist(REG, session(), HOSTILE_URL),
    "reminder_24h": lambda: templates.reminder(REG, session(), soon=False, materials=[]),
    "reminder_1h_materials": lambda: templates.reminder(
        IN_TOKYO, session(), soon=True, materials=MATERIALS
    ),
    "live": lambda: templates.live(REG, session()),
    "follow_up": lambda: templates.follow_up(
        REG, session(), materials=MATERIALS, feedback_url=HOSTILE_URL
    ),
    "follow_up_no_materials": lambda: templates.follow_up(
        IN_TOKYO, PLAIN, materials=[], feedback_url="mailto:a@example.org?subject=Feedback%3A"
    ),
    "rescheduled": lambda: templates.rescheduled(REG, LATE),
    "cancelled_reason_calendar": lambda: templates.cancelled(
        REG, session(), reason=REASON, calendar=True
    ),
    "cancelled_bare": lambda: templates.cancelled(IN_TOKYO, PLAIN, reason="", calendar=False),
    "materials_available": lambda: templates.materials_available(
        REG, session(), materials=MATERIALS
    ),
    "material_rejected": lambda: templates.material_rejected(
        f"sessions/kbs-01/slides/{HOSTILE}.pdf", REASON, "quarantine/abc/<x>&y.pdf"
    ),
    "material_rejected_bare_key": lambda: templates.material_rejected(
        "loose-file.pdf", "The file is empty.", "quarantine/abc/loose-file.pdf"
    ),
    "confirmation_with_footers": lambda: _footers(templates.confirmation(REG, session(), URL)),
    "reminder_with_unsubscribe": lambda: footers.with_unsubscribe(
        templates.reminder(IN_TOKYO, PLAIN, soon=False, materials=MATERIALS), URL
    ),
    "confirmation_promoted_feed": lambda: templates.confirmation(
        REG, session(), URL, promoted=True, feed=FEED
    ),
    "waitlist_position": lambda: templates.waitlist(IN_TOKYO, PLAIN, URL, position=2),
    "reminder_cancel_feed": lambda: templates.reminder(
        REG, session(), soon=False, materials=[], cancel_url=HOSTILE_URL, feed=FEED
    ),
    "rescheduled_from": lambda: templates.rescheduled(
        IN_TOKYO, LATE, previous_start=session().start, feed=FEED
    ),
    "submission_summary": _summary,
    "branded_with_footers": lambda: templates.with_brand(
        _footers(templates.live(REG, session())),
        templates.Brand(series_name=f"KBS {HOSTILE}", logo_url='https://x.org/logo.png?a=1&b="2'),
    ),
    "live_with_privacy": lambda: footers.with_privacy_link(
        templates.live(REG, session()), HOSTILE_URL
    ),
}

AVAILABLE = [
    SessionAvailability(
        session=session(speakers=(f"Ana Ruiz, {HOSTILE}", "Jan de Vries")), confirmed=10
    ),
    SessionAvailability(session=LATE.model_copy(update={"session_id": "kbs-02"}), confirmed=300),
    SessionAvailability(session=PLAIN.model_copy(update={"session_id": "kbs-03"}), confirmed=299),
]


def _registration_page(available: list[SessionAvailability]) -> str:
    return pages.registration_page(INDEX.read_text(encoding="utf-8"), available, f"v1 {HOSTILE}")


PAGES: dict[str, Callable[[], str]] = {
    "registration": lambda: _registration_page(AVAILABLE),
    "registration_organiser": lambda: pages.registration_page(
        INDEX.read_text(encoding="utf-8"),
        AVAILABLE,
        "v1",
        organiser=pages.Organiser(
            privacy_url=HOSTILE_URL,
            contact_email=f"kbs{HOSTILE}@example.org",
            feed_https="https://kbs.example.org/sessions.ics",
            feed_webcal="webcal://kbs.example.org/sessions.ics",
        ),
    ),
    "registration_none_open": lambda: _registration_page([]),
    "registration_pl": lambda: pages.registration_page(
        INDEX.read_text(encoding="utf-8"), AVAILABLE, f"v1 {HOSTILE}", "pl"
    ),
    "confirmation": lambda: pages.confirmation_page(f"KBS-{HOSTILE}", [session(), LATE, PLAIN]),
    "confirmation_empty": lambda: pages.confirmation_page("KBS-7Q2M-X4TD", []),
    "problem": lambda: pages.problem_page(
        {
            "email": f"Enter an email address like name@example.org, not {HOSTILE}",
            'x"><script>': f"Unknown field {NAME}",
            "sessions": "Choose at least one session & try again",
        },
        fields=["email", "sessions", 'x"><script>'],
    ),
    "problem_fr": lambda: pages.problem_page(
        {"email": "Indiquez votre adresse électronique.", "body": REASON},
        fields=["email"],
        language="fr",
    ),
    "confirmation_de": lambda: pages.confirmation_page(f"KBS-{HOSTILE}", [session()], "de"),
    "problem_unknown_field": lambda: pages.problem_page({"body": REASON}, fields=["email"]),
    "unavailable": lambda: pages.unavailable_page(f"Try again {HOSTILE} & later"),
    "materials": lambda: pages.materials_page(
        TITLE, templates.session_time(session()), [(m.title, m.url) for m in MATERIALS]
    ),
    "materials_none": lambda: pages.materials_page(NAME, "Tuesday", []),
    "unsubscribe": lambda: pages.unsubscribe_page(f'tok.en"&<{HOSTILE}>'),
    "cancel": lambda: pages.cancel_page(
        session_title=TITLE,
        when=templates.session_time(LATE),
        reference=f"KBS-{HOSTILE}",
        waitlisted=False,
        token=f'a.b"&{HOSTILE}',
    ),
    "cancel_waitlisted": lambda: pages.cancel_page(
        session_title=PLAIN.title, when="Tuesday", reference="KBS-1", waitlisted=True, token="t"
    ),
    "notice_with_session": lambda: pages.notice_page(pages.CANCELLED, TITLE, f"when {HOSTILE}"),
    "privacy": lambda: pages.privacy_page(f'tok"&{HOSTILE}', 30),
    **{
        f"notice_{name.lower()}": (lambda notice=notice: pages.notice_page(notice))
        for name, notice in vars(pages).items()
        if isinstance(notice, pages.Notice)
    },
}


def write() -> None:
    """Write every case's current output (run before a change, never to hide one)."""
    for name, render in EMAILS.items():
        content = render()
        _write(GOLDEN / "emails" / f"{name}.txt", f"Subject: {content.subject}\n\n{content.text}")
        _write(GOLDEN / "emails" / f"{name}.html", content.html)
    for name, page in PAGES.items():
        _write(GOLDEN / "pages" / f"{name}.html", page())


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")


if __name__ == "__main__":
    write()
