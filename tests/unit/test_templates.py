"""Email bodies: times in the registrant's zone (named), escaping, what each email contains."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.mail import templates
from shared.programme.models import Session
from shared.registrations.models import Consent, Registration, RegistrationStatus

CANCEL_URL = "https://kbs.example.org/registrations/cancel?token=abc.def"


def make_session(**overrides: object) -> Session:
    fields: dict[str, object] = {
        "session_id": "kbs-01-ict-hardware",
        "title": "Forced labour risks in ICT hardware supply chains",
        "kind": "webinar",
        "category": "ICT hardware",
        "start": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),  # 10:00 in Brussels
        "timezone": "Europe/Brussels",
        "duration_minutes": 90,
        "capacity": 300,
        "join_url": "https://meet.example.org/kbs-01",
    }
    return Session.model_validate(fields | overrides)


def make_registration(**overrides: object) -> Registration:
    fields: dict[str, object] = {
        "session_id": "kbs-01-ict-hardware",
        "email": "marta.novak@example.org",
        "reference": "KBS-7Q2M-X4TD",
        "full_name": "Marta Novák",
        "organisation": "Ministry of Public Administration",
        "country": "SI",
        "timezone": None,
        "status": RegistrationStatus.CONFIRMED,
        "registered_at": datetime(2026, 11, 24, 9, 15, tzinfo=UTC),
        "consent": Consent(given_at=datetime(2026, 11, 24, 9, 15, tzinfo=UTC), text_version="1"),
    }
    return Registration.model_validate(fields | overrides)


def test_time_in_the_session_zone_by_default() -> None:
    assert templates.session_time(make_session()) == (
        "Tuesday 1 December 2026, 10:00\u201311:30 CET (Europe/Brussels)"
    )


def test_time_in_the_registrant_zone_with_the_zone_named() -> None:
    session = make_session()
    assert templates.session_time(session, "Europe/London") == (
        "Tuesday 1 December 2026, 09:00\u201310:30 GMT (Europe/London)"
    )
    assert templates.session_time(session, "America/New_York") == (
        "Tuesday 1 December 2026, 04:00\u201305:30 EST (America/New_York)"
    )


def test_summer_time_and_an_unknown_zone_falls_back_to_the_session_zone() -> None:
    summer = make_session(start=datetime(2027, 6, 15, 8, 0, tzinfo=UTC))
    assert templates.session_time(summer, "Not/AZone") == (
        "Tuesday 15 June 2027, 10:00\u201311:30 CEST (Europe/Brussels)"
    )


def test_a_session_crossing_midnight_names_both_days() -> None:
    late = make_session(start=datetime(2026, 12, 1, 22, 30, tzinfo=UTC))
    assert templates.session_time(late, "Asia/Tokyo") == (
        "Wednesday 2 December 2026, 07:30\u201309:00 JST (Asia/Tokyo)"
    )
    assert templates.session_time(late) == (
        "Tuesday 1 December 2026, 23:30 \u2013 Wednesday 2 December 2026, 01:00 CET "
        "(Europe/Brussels)"
    )


def test_confirmation_has_time_in_registrant_zone_join_link_reference_and_cancel_link() -> None:
    registration = make_registration(timezone="Europe/Lisbon")
    content = templates.confirmation(registration, make_session(), CANCEL_URL)
    assert content.subject == (
        "Registration confirmed: Forced labour risks in ICT hardware supply chains"
    )
    for part in (content.text, content.html):
        assert "Tuesday 1 December 2026, 09:00\u201310:30 WET (Europe/Lisbon)" in part
        assert "https://meet.example.org/kbs-01" in part
        assert "KBS-7Q2M-X4TD" in part
    assert CANCEL_URL in content.text
    assert 'href="https://kbs.example.org/registrations/cancel?token=abc.def"' in content.html
    assert content.text.startswith("Dear Marta Novák,")
    assert "<" not in content.text


def test_waitlist_email_has_no_join_link() -> None:
    content = templates.waitlist(
        make_registration(status=RegistrationStatus.WAITLISTED), make_session(), CANCEL_URL
    )
    assert content.subject.startswith("Waiting list: ")
    assert "waiting list" in content.text
    assert CANCEL_URL in content.text
    assert "meet.example.org" not in content.text + content.html
    assert "KBS-7Q2M-X4TD" in content.html


def test_user_input_is_escaped_in_html() -> None:
    registration = make_registration(full_name='<script>alert("x")</script> & Co')
    session = make_session(title='Gloves <b>"PPE"</b>')
    content = templates.confirmation(registration, session, CANCEL_URL + '"><script>')
    assert "<script>" not in content.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in content.html
    assert "Gloves &lt;b&gt;&quot;PPE&quot;&lt;/b&gt;" in content.html
    assert '<script>alert("x")</script> & Co' in content.text  # plain text stays plain


def test_the_feedback_link_is_the_organisers_form_with_the_session_or_a_reply() -> None:
    from shared.notices.sender import feedback_url
    from shared.platform.settings import Settings

    session = make_session()
    reply = feedback_url(session, Settings(table_name="t", sender_email="series@example.org"))
    form = Settings(table_name="t", feedback_url="https://forms.example.org/kbs")
    with_query = Settings(table_name="t", feedback_url="https://forms.example.org/f?lang=en")

    assert reply.startswith("mailto:series@example.org?subject=Feedback%3A%20")
    assert feedback_url(session, form) == (
        f"https://forms.example.org/kbs?session={session.session_id}"
    )
    assert feedback_url(session, with_query).endswith(f"?lang=en&session={session.session_id}")
