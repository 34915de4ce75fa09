"""Calendar feeds on moto: the personal feed a confirmation links, parsed with icalendar, follows
a reschedule and a cancellation with the invitations' UIDs; the programme's feed lists every
session with no join link; a forged link finds nothing."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from typing import Any

from icalendar import Calendar

from functions.calendar_feed.handler import handler as feed_handler
from shared.mail import ics
from shared.programme import lifecycle
from shared.programme.models import Session
from tests.conftest import BUS_NAME, TABLE_NAME, load_event
from tests.integration import test_registration_processor as processor
from tests.integration.test_registration_processor import (
    EMAIL,
    EVENT_TIME,
    FIRST,
    SECOND,
    invoke,
    part,
)
from tests.support import Context, sent_emails

schedule, programme = processor.schedule, processor.programme  # the processor's fixtures
PROGRAMME_FEED = load_event("api/get-programme-feed.json")


def get(path: str, at_ms: int) -> dict[str, Any]:
    """A subscribe-style GET (what a calendar app polling the feed sends), at ``at_ms``."""
    event = copy.deepcopy(PROGRAMME_FEED)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    route = "GET /calendar/{token}" if path.startswith("/calendar/") else "GET /sessions.ics"
    event["routeKey"] = event["requestContext"]["routeKey"] = route
    if route.startswith("GET /calendar/"):
        event["pathParameters"] = {"token": path.removeprefix("/calendar/")}
    event["requestContext"]["timeEpoch"] = at_ms
    return feed_handler(event, Context())  # type: ignore[arg-type]


def events_of(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 200, response
    assert response["headers"]["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response["body"])
    assert "METHOD" not in calendar  # a feed, not an iTIP message
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_the_personal_feed_follows_reschedules_and_cancellations(
    programme: dict[str, Session],
) -> None:
    assert invoke(load_event("sqs/registration-submitted.json")) == []
    (message,) = sent_emails()
    text = part(message, "text/plain")
    assert text is not None
    (webcal,) = re.findall(r"webcal://kbs\.example\.org(/calendar/\S+\.ics)", text)
    invite_uids = {
        str(event["UID"])
        for p in message.walk()
        if p.get_content_type() == "text/calendar"
        for event in Calendar.from_ical(p.get_payload(decode=True)).walk("VEVENT")
    }
    now_ms = int(EVENT_TIME.timestamp() * 1000) + 60_000

    events = events_of(get(webcal, now_ms))
    assert set(events) == invite_uids == {ics.uid(sid, EMAIL) for sid in (FIRST, SECOND)}
    sequences = {uid: int(e["SEQUENCE"]) for uid, e in events.items()}
    later = events_of(get(webcal, now_ms + 3_600_000))  # fetched again an hour later
    assert {uid: int(e["SEQUENCE"]) for uid, e in later.items()} == sequences  # nothing changed
    first = events[ics.uid(FIRST, EMAIL)]
    assert first.decoded("DTSTART") == programme[FIRST].start
    assert str(first["STATUS"]) == "CONFIRMED"
    assert str(first["URL"]) == str(programme[FIRST].join_url)

    moved = programme[FIRST].start + timedelta(days=2, hours=3)
    lifecycle.reschedule(TABLE_NAME, BUS_NAME, FIRST, moved, now=EVENT_TIME)
    lifecycle.cancel(TABLE_NAME, BUS_NAME, SECOND, "speaker ill", now=EVENT_TIME)

    events = events_of(get(webcal, now_ms + 60_000))
    first, second = events[ics.uid(FIRST, EMAIL)], events[ics.uid(SECOND, EMAIL)]
    assert first.decoded("DTSTART") == moved
    assert first.decoded("DTEND") == moved + timedelta(minutes=programme[FIRST].duration_minutes)
    assert str(second["STATUS"]) == "CANCELLED" and "URL" not in second
    for uid, event in events.items():  # each change raised its event's SEQUENCE
        assert int(event["SEQUENCE"]) > sequences[uid]
    assert len(sent_emails()) == 1  # the feed needed no email


def test_a_forged_or_tampered_feed_link_finds_nothing(programme: dict[str, Session]) -> None:
    assert invoke(load_event("sqs/registration-submitted.json")) == []
    (message,) = sent_emails()
    (path,) = re.findall(
        r"webcal://kbs\.example\.org(/calendar/\S+)\.ics", str(part(message, "text/plain"))
    )
    now_ms = int(EVENT_TIME.timestamp() * 1000)
    assert get(path[:-2] + "xx.ics", now_ms)["statusCode"] == 404
    assert get("/calendar/not-a-token.ics", now_ms)["statusCode"] == 404
    later = int((EVENT_TIME + timedelta(days=2000)).timestamp() * 1000)
    assert get(path + ".ics", later)["statusCode"] == 404  # expired


def test_the_programme_feed_lists_every_session_without_join_links(
    programme: dict[str, Session],
) -> None:
    lifecycle.cancel(TABLE_NAME, BUS_NAME, SECOND, "", now=EVENT_TIME)
    response = get("/sessions.ics", int(EVENT_TIME.timestamp() * 1000))
    events = events_of(response)
    assert set(events) == {f"{FIRST}@kbs", f"{SECOND}@kbs"}
    assert str(events[f"{FIRST}@kbs"]["STATUS"]) == "CONFIRMED"
    assert str(events[f"{SECOND}@kbs"]["STATUS"]) == "CANCELLED"
    for session in programme.values():
        assert str(session.join_url) not in response["body"]
