"""What materials look like to people: the emails and the registrant's materials page."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.mail import templates
from shared.programme.models import Session
from shared.registrations.models import Consent, Registration, RegistrationStatus
from shared.web import pages

SESSION = Session.model_validate(
    {
        "session_id": "kbs-01-ict-hardware",
        "title": "Forced labour risks in ICT hardware supply chains",
        "kind": "webinar",
        "category": "ICT hardware",
        "start": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        "timezone": "Europe/Brussels",
        "capacity": 300,
        "join_url": "https://meet.example.org/kbs-01",
    }
)
REGISTRATION = Registration(
    session_id=SESSION.session_id,
    email="zoe@example.se",
    reference="KBS-7Q2M-X4TD",
    full_name="Zoë Åkesson",
    organisation="Region",
    country="SE",
    status=RegistrationStatus.CONFIRMED,
    registered_at=datetime(2026, 11, 1, tzinfo=UTC),
    consent=Consent(given_at=datetime(2026, 11, 1, tzinfo=UTC), text_version="2026-11"),
)
FILES = [
    templates.Material(
        "Slides: <b>Risk</b> & mapping (PDF, 1.2 MB)", "https://x/materials/a?token=t&u"
    ),
    templates.Material("Guidance note: Checklist (Word, 20.0 kB)", "https://x/materials/b?token=t"),
]


def test_the_materials_email_lists_each_file_with_its_link_escaped_in_html() -> None:
    content = templates.materials_available(REGISTRATION, SESSION, materials=FILES)

    assert content.subject == f"Materials available: {SESSION.title}"
    for material in FILES:
        assert f"{material.title}:\n{material.url}" in content.text
    assert "&lt;b&gt;Risk&lt;/b&gt; &amp; mapping" in content.html
    assert 'href="https://x/materials/a?token=t&amp;u"' in content.html
    assert "<b>" not in content.html


def test_the_rejection_tells_the_organisers_what_why_and_where() -> None:
    key = "sessions/kbs-01-ict-hardware/slides/<script>.pdf"
    content = templates.material_rejected(key, "The file is empty.", "quarantine/abc/x.pdf")

    assert content.subject == "Upload rejected: <script>.pdf"
    assert key in content.text and "The file is empty." in content.text
    assert "quarantine/abc/x.pdf" in content.text
    assert "<script>" not in content.html


def test_the_materials_page_links_each_file_or_says_none_yet() -> None:
    page = pages.materials_page(SESSION.title, "Tuesday", [(m.title, m.url) for m in FILES])
    empty = pages.materials_page(SESSION.title, "Tuesday", [])

    assert page.count("<li><a href=") == 2
    assert "&lt;b&gt;Risk" in page and "token=t&amp;u" in page
    assert "No materials yet" in empty and "<li>" not in empty
