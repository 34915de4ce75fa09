"""Add-to-calendar links and feed addresses: the parameters each service reads, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from icalendar import Calendar

from shared.mail import calendar_links, ics
from shared.programme.models import Session, SessionStatus
from shared.web import links

SESSION = Session.model_validate(
    {
        "session_id": "kbs-01",
        "title": "Risks & remedies: Łódź",
        "kind": "webinar",
        "category": "ICT",
        "start": "2026-03-29T00:30:00+00:00",
        "timezone": "Europe/London",
        "duration_minutes": 90,
        "capacity": 10,
        "join_url": "https://meet.example.org/x?pwd=a&b=c",
    }
)


def test_google_calendar_gets_a_template_with_utc_dates() -> None:
    url = calendar_links.google(SESSION, "About it\nJoin: x")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == calendar_links.GOOGLE
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == [SESSION.title]
    assert query["dates"] == ["20260329T003000Z/20260329T020000Z"]
    assert query["details"] == ["About it\nJoin: x"]


def test_outlook_gets_a_compose_deep_link_with_iso_times() -> None:
    query = parse_qs(urlsplit(calendar_links.outlook(SESSION, "d" * 5000)).query)
    assert query["subject"] == [SESSION.title]
    assert query["startdt"] == ["2026-03-29T00:30:00Z"]
    assert query["enddt"] == ["2026-03-29T02:00:00Z"]
    assert len(query["body"][0]) == calendar_links.MAX_DETAILS


def test_feed_urls_are_https_and_webcal_of_one_address() -> None:
    https, webcal = links.feed_urls("https://kbs.example.org/", "tok.en")
    assert https == "https://kbs.example.org/calendar/tok.en.ics"
    assert webcal == "webcal://kbs.example.org/calendar/tok.en.ics"


def test_a_feed_token_is_for_the_feed_only() -> None:
    key, now = b"k" * 32, datetime(2026, 1, 1, tzinfo=UTC)
    token = links.feed_token(
        reference="KBS-1",
        session_id="kbs-01",
        email="A@x.org",
        expires_at=now.replace(year=2027),
        key=key,
    )
    claims = links.verify(token, [key], purpose=links.CALENDAR, now=now)
    assert claims.is_for("a@x.org") and claims.session_id == "kbs-01"
    try:
        links.verify(token, [key], purpose=links.CANCEL, now=now)
    except links.InvalidLinkError as exc:
        assert exc.reason == "purpose"
    else:
        raise AssertionError("a feed token opened a cancel link")


def test_a_feed_calendar_has_no_method_and_keeps_the_invitation_uid() -> None:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    event = ics.personal_event(
        SESSION,
        attendee_email="A@x.org",
        attendee_name="A",
        organizer_email="s@x.org",
        organizer_name="S",
        stamp=stamp,
        cancelled=True,
    )
    cancelled = SESSION.model_copy(update={"status": SessionStatus.CANCELLED})
    body = ics.calendar([event, ics.public_event(cancelled, stamp=stamp, page_url="https://k/")])
    calendar = Calendar.from_ical(body)
    assert "METHOD" not in calendar
    personal, public = calendar.walk("VEVENT")
    assert str(personal["UID"]) == ics.uid("kbs-01", "a@x.org")
    assert str(personal["STATUS"]) == str(public["STATUS"]) == "CANCELLED"
    assert "URL" not in personal and str(public["URL"]) == "https://k/"
