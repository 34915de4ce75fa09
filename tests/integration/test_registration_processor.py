"""The registration processor on moto: the SQS sample in, bookings, emails and events out."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from functions.registration_processor.handler import handler
from shared.mail import ics
from shared.platform import keys
from shared.platform.clients import client, table
from shared.programme.models import Session, SessionStatus
from shared.programme.repository import get_session, put_session
from shared.registrations import booking, store
from shared.registrations.models import RegistrationStatus, RegistrationSubmission
from shared.web import links
from tests.conftest import BUS_NAME, LINK_SECRET, TABLE_NAME, load_event
from tests.support import Context, sent_emails, sqs_batch

BUS_SAMPLE = load_event("bus/registration-submitted.json")
SUBMISSION = RegistrationSubmission.model_validate(BUS_SAMPLE["detail"]["data"])
EVENT_TIME = datetime.fromisoformat(BUS_SAMPLE["time"])
EMAIL = SUBMISSION.email_key
FIRST, SECOND = SUBMISSION.sessions


def invoke(event: dict[str, Any]) -> list[str]:
    """Run the handler; the message ids it reports as failed."""
    response = handler(event, Context())  # type: ignore[arg-type]
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def bus_event(**data: Any) -> dict[str, Any]:
    """The sample EventBridge event (a new event id) with some submission fields changed."""
    event = copy.deepcopy(BUS_SAMPLE)
    event["id"] = str(uuid.uuid4())
    event["detail"]["data"].update(data)
    return event


def part(message: EmailMessage, content_type: str) -> str | None:
    for candidate in message.walk():
        if candidate.get_content_type() == content_type:
            payload = candidate.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return None


def _visible(html: str) -> str:
    """The text a reader sees of ``html``: no tags, no attribute values."""
    return re.sub(r"<[^>]*>", " ", html)


def items(session_id: str) -> list[dict[str, Any]]:
    return table(TABLE_NAME).query(
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": f"SESSION#{session_id}"},
    )["Items"]


@pytest.fixture
def schedule(aws: None) -> Callable[..., Session]:
    """Put a session on the programme (a week after the sample event by default)."""

    def create(session_id: str, capacity: int = 5, **fields: Any) -> Session:
        session = Session.model_validate(
            {
                "session_id": session_id,
                "title": f"Sample session {session_id}",
                "kind": "webinar",
                "category": "Sample",
                "start": EVENT_TIME + timedelta(days=7),
                "timezone": "Europe/Brussels",
                "capacity": capacity,
                "join_url": f"https://meet.example.org/{session_id}",
                **fields,
            }
        )
        put_session(TABLE_NAME, session)
        return session

    return create


@pytest.fixture
def programme(schedule: Callable[..., Session]) -> dict[str, Session]:
    """The sample's two sessions, with room."""
    return {sid: schedule(sid) for sid in SUBMISSION.sessions}


@pytest.fixture
def announcements(aws: None) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every "Registration Confirmed/Waitlisted" event put on the bus, through a rule + queue."""
    sqs, events = client("sqs"), client("events")
    queue_url = sqs.create_queue(QueueName="announcements")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    events.put_rule(
        Name="announcements",
        EventBusName=BUS_NAME,
        EventPattern=json.dumps(
            {
                "source": ["kbs.registrations"],
                "detail-type": ["Registration Confirmed", "Registration Waitlisted"],
            }
        ),
    )
    events.put_targets(
        Rule="announcements",
        EventBusName=BUS_NAME,
        Targets=[{"Id": "queue", "Arn": arn["Attributes"]["QueueArn"]}],
    )
    seen: list[dict[str, Any]] = []

    def received() -> list[dict[str, Any]]:
        while True:
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            if not batch.get("Messages"):
                return list(seen)
            seen.extend(json.loads(m["Body"]) for m in batch["Messages"])
            for m in batch["Messages"]:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    yield received


def test_the_sample_is_booked_confirmed_by_email_and_announced(
    programme: dict[str, Session], announcements: Callable[[], list[dict[str, Any]]]
) -> None:
    assert invoke(load_event("sqs/registration-submitted.json")) == []

    # Stored once per session, found by session, by registrant (any case) and by reference.
    for session_id in SUBMISSION.sessions:
        (registration,) = store.session_registrations(TABLE_NAME, session_id)
        assert registration.email == EMAIL == "marta.novak@example.org"
        assert registration.status is RegistrationStatus.CONFIRMED
        assert registration.registered_at == EVENT_TIME
        assert get_session(TABLE_NAME, session_id).confirmed == 1
    by_email = store.registrant_registrations(TABLE_NAME, "MARTA.Novak@example.ORG")
    by_reference = store.reference_registrations(TABLE_NAME, SUBMISSION.reference)
    assert (
        {r.session_id for r in by_email}
        == {r.session_id for r in by_reference}
        == {
            FIRST,
            SECOND,
        }
    )

    # ONE confirmation for the submission: text + html + one invitation per session, each in
    # its own text/calendar part (icalendar reads each: one VEVENT, the invitation's UID).
    from icalendar import Calendar

    (message,) = sent_emails()
    assert message["X-KBS-Kind"] == "confirmation"
    assert message["To"].addresses[0].addr_spec == EMAIL
    assert message["To"].addresses[0].display_name == "Marta Novák"
    assert message.get_content_type() == "multipart/mixed"
    assert message["Subject"] == "Registration confirmed: 2 sessions"
    text, html = part(message, "text/plain"), part(message, "text/html")
    assert text and html
    invites = [
        Calendar.from_ical(p.get_payload(decode=True))
        for p in message.walk()
        if p.get_content_type() == "text/calendar"
    ]
    assert len(invites) == 2
    by_uid = {}
    for invite in invites:
        assert invite["METHOD"] == "REQUEST"
        (event,) = invite.walk("VEVENT")
        by_uid[str(event["UID"])] = event
    assert "(Europe/Ljubljana)" in text  # the registrant's zone
    assert SUBMISSION.reference in text
    cancel_urls = re.findall(r"https://kbs\.example\.org/registrations/cancel\?token=\S+", text)
    assert len(cancel_urls) == 2
    assert "token=" not in _visible(html)  # the HTML shows buttons, never a token URL
    for session in programme.values():
        join = str(session.join_url)
        assert session.title in text and session.title in html
        assert join in text and f'href="{join}"' in html.replace("&amp;", "&")
        event = by_uid[ics.uid(session.session_id, EMAIL)]
        assert str(event["URL"]) == join
        assert event.decoded("DTSTART") == session.start
        assert "calendar.google.com/calendar/render?action=TEMPLATE" in text
        assert "outlook.live.com/calendar/0/deeplink/compose?" in text
    session_ids = set()
    for url in cancel_urls:
        (token,) = parse_qs(urlsplit(url).query)["token"]
        claims = links.verify(token, [LINK_SECRET.encode()], purpose="cancel", now=EVENT_TIME)
        assert claims.reference == SUBMISSION.reference and claims.is_for(EMAIL)
        session_ids.add(claims.session_id)
    assert session_ids == set(SUBMISSION.sessions)
    (feed,) = re.findall(r"webcal://kbs\.example\.org/calendar/\S+\.ics", text)
    assert feed.replace("webcal://", "https://") in text

    # Each registration is marked notified (a replay sends and publishes nothing).
    for session_id in SUBMISSION.sessions:
        (item,) = (i for i in items(session_id) if i["SK"].startswith("REG#"))
        assert "notified_at" in item

    # Announced once per registration, with no personal data on the bus.
    events = announcements()
    assert sorted(e["detail"]["data"]["session_id"] for e in events) == sorted([FIRST, SECOND])
    for event in events:
        assert event["detail-type"] == "Registration Confirmed"
        assert event["detail"]["data"]["reference"] == SUBMISSION.reference
        metadata = event["detail"]["metadata"]
        assert metadata["correlation_id"] == BUS_SAMPLE["detail"]["metadata"]["correlation_id"]
        assert "marta" not in json.dumps(event).lower()
    assert len({e["detail"]["metadata"]["idempotency_key"] for e in events}) == 2


def test_beyond_capacity_the_registrant_is_waitlisted_without_the_join_link(
    schedule: Callable[..., Session], announcements: Callable[[], list[dict[str, Any]]]
) -> None:
    full = schedule(FIRST, capacity=1)
    first = bus_event(sessions=[FIRST])
    second = bus_event(sessions=[FIRST], email="ian.walsh@example.org", reference="KBS-WAIT-0002")
    assert invoke(sqs_batch(first)) == []
    assert invoke(sqs_batch(second)) == []

    availability = get_session(TABLE_NAME, FIRST)
    assert (availability.confirmed, availability.waitlisted) == (1, 1)
    statuses = {r.email: r.status for r in store.session_registrations(TABLE_NAME, FIRST)}
    assert statuses == {
        EMAIL: RegistrationStatus.CONFIRMED,
        "ian.walsh@example.org": RegistrationStatus.WAITLISTED,
    }
    # A waitlisted registration is found both by its reference and on the waiting list.
    (by_reference,) = store.reference_registrations(TABLE_NAME, "KBS-WAIT-0002")
    assert by_reference.status is RegistrationStatus.WAITLISTED
    (entry,) = store.waitlist(TABLE_NAME, FIRST)
    assert (entry.email, entry.reference) == ("ian.walsh@example.org", "KBS-WAIT-0002")

    confirmation, waitlisted = sent_emails()
    assert part(confirmation, "text/calendar")
    assert waitlisted["To"].addresses[0].addr_spec == "ian.walsh@example.org"
    assert waitlisted["Subject"] == f"Waiting list: {full.title}"
    assert waitlisted["X-KBS-Kind"] == "waitlist"
    assert part(waitlisted, "text/calendar") is None
    body = (part(waitlisted, "text/plain") or "") + (part(waitlisted, "text/html") or "")
    assert "waiting list" in body
    assert str(full.join_url) not in body and "meet.example.org" not in body

    kinds = [(e["detail-type"], e["detail"]["data"]["reference"]) for e in announcements()]
    assert sorted(kinds) == [
        ("Registration Confirmed", SUBMISSION.reference),
        ("Registration Waitlisted", "KBS-WAIT-0002"),
    ]


def test_the_waiting_list_keeps_the_order_the_api_accepted_them(
    schedule: Callable[..., Session],
) -> None:
    schedule(FIRST, capacity=1)
    for n in range(4):
        submitted = SUBMISSION.submitted_at + timedelta(milliseconds=10 - n)  # later first
        event = bus_event(
            sessions=[FIRST],
            email=f"person{n}@example.org",
            reference=f"KBS-ORDR-000{n}",
            submitted_at=submitted.isoformat(),
        )
        assert invoke(sqs_batch(event)) == []
    order = [entry.reference for entry in store.waitlist(TABLE_NAME, FIRST)]
    assert order == ["KBS-ORDR-0003", "KBS-ORDR-0002", "KBS-ORDR-0001"]


def test_replays_store_nothing_twice_and_second_submissions_resend_once(
    programme: dict[str, Session], announcements: Callable[[], list[dict[str, Any]]]
) -> None:
    sample = load_event("sqs/registration-submitted.json")
    assert invoke(sample) == []
    before = {sid: items(sid) for sid in programme}
    sent_before, announced_before = len(sent_emails()), len(announcements())

    assert invoke(sample) == []  # the same delivery again
    assert invoke(sqs_batch(BUS_SAMPLE, BUS_SAMPLE)) == []  # twice in one batch
    again = bus_event(reference="KBS-AGN2-0001")  # a second submission, same sessions
    upper = bus_event(reference="KBS-AGN3-0001", email="MARTA.NOVAK@EXAMPLE.ORG")
    assert invoke(sqs_batch(again, upper)) == []

    assert {sid: items(sid) for sid in programme} == before
    # One confirmation for the first submission; the second submissions (same hour) book
    # nothing and resend each place's confirmation once, with the original reference; the
    # replays send nothing.
    assert sent_before == 1
    resent = sent_emails()[sent_before:]
    assert len(resent) == 2 and {m["X-KBS-Kind"] for m in resent} == {"confirmation"}
    assert all(SUBMISSION.reference in str(part(m, "text/plain")) for m in resent)
    assert len(announcements()) == announced_before == 2
    outcomes = booking.book(
        TABLE_NAME, RegistrationSubmission.model_validate(upper["detail"]["data"]), EVENT_TIME
    )
    assert {o.outcome for o in outcomes} == {booking.Outcome.DUPLICATE}


def test_a_malformed_record_fails_alone_and_its_content_is_not_logged(
    programme: dict[str, Session], caplog: pytest.LogCaptureFixture
) -> None:
    bad_data = bus_event(email="leaky.address@example.net", reference="not-a-reference")
    wrong_type = bus_event(email="other@example.net") | {"detail-type": "Session Scheduled"}
    batch = sqs_batch(BUS_SAMPLE, "{not json", bad_data, wrong_type)
    bad = [record["messageId"] for record in batch["Records"][1:]]

    assert invoke(batch) == bad
    assert len(store.session_registrations(TABLE_NAME, FIRST)) == 1
    assert len(sent_emails()) == 1
    assert [r.getMessage() for r in caplog.records].count("Malformed record") == 3
    logged = " ".join(str(vars(r)) for r in caplog.records).lower()
    for personal in ("leaky.address", "other@example.net", "marta", "novák"):
        assert personal not in logged


def test_unknown_and_closed_sessions_are_rejected_without_failing(
    schedule: Callable[..., Session],
) -> None:
    schedule("kbs-cancelled", status=SessionStatus.CANCELLED)
    schedule("kbs-past", start=EVENT_TIME - timedelta(days=1))
    event = bus_event(sessions=["kbs-unknown", "kbs-cancelled", "kbs-past"])
    assert invoke(sqs_batch(event)) == []
    submission = RegistrationSubmission.model_validate(event["detail"]["data"])
    outcomes = booking.book(TABLE_NAME, submission, EVENT_TIME)
    assert [(o.outcome, o.reason) for o in outcomes] == [
        (booking.Outcome.REJECTED, "unknown session"),
        (booking.Outcome.REJECTED, "session closed"),
        (booking.Outcome.REJECTED, "session closed"),
    ]
    assert len(items("kbs-cancelled")) == 1  # the META item only
    assert sent_emails() == []


def test_a_session_closed_between_read_and_booking_is_rejected(
    schedule: Callable[..., Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transaction's status condition, not the earlier read, has the last word."""
    schedule(FIRST)
    stale = get_session(TABLE_NAME, FIRST)
    table(TABLE_NAME).update_item(
        Key={"PK": keys.session_pk(FIRST), "SK": keys.META},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": "cancelled"},
    )
    monkeypatch.setattr(booking, "get_session", lambda *_: stale)
    (outcome,) = booking.book(
        TABLE_NAME, SUBMISSION.model_copy(update={"sessions": [FIRST]}), EVENT_TIME
    )
    assert (outcome.outcome, outcome.reason) == (booking.Outcome.REJECTED, "session closed")
    assert store.session_registrations(TABLE_NAME, FIRST) == []


def test_a_failure_after_the_email_is_completed_by_the_retry_without_a_second_email(
    programme: dict[str, Session],
    announcements: Callable[[], list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.platform.settings import get_settings

    sample = load_event("sqs/registration-submitted.json")
    monkeypatch.setenv("KBS_EVENT_BUS_NAME", "missing-bus")  # publishing fails
    get_settings.cache_clear()
    assert invoke(sample) == [sample["Records"][0]["messageId"]]
    assert len(sent_emails()) == 1  # the submission's one confirmation went out
    registrations = [i for sid in programme for i in items(sid) if i["SK"].startswith("REG#")]
    assert registrations and not any("notified_at" in i for i in registrations)

    monkeypatch.setenv("KBS_EVENT_BUS_NAME", BUS_NAME)  # the redelivery succeeds
    get_settings.cache_clear()
    assert invoke(sample) == []
    assert len(sent_emails()) == 1  # sent once per submission reference
    assert len(announcements()) == 2
    assert invoke(sample) == []
    assert len(sent_emails()) == 1 and len(announcements()) == 2


def test_a_cancelled_registrant_may_register_again_but_a_replay_does_not_rebook(
    programme: dict[str, Session],
) -> None:
    assert invoke(load_event("sqs/registration-submitted.json")) == []
    # What a cancellation does: the registration is marked cancelled, the place freed.
    table(TABLE_NAME).update_item(
        Key={"PK": keys.session_pk(FIRST), "SK": keys.registration_sk(EMAIL)},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": "cancelled"},
    )
    table(TABLE_NAME).update_item(
        Key={"PK": keys.session_pk(FIRST), "SK": keys.META},
        UpdateExpression="ADD confirmed :minus",
        ExpressionAttributeValues={":minus": -1},
    )

    assert invoke(load_event("sqs/registration-submitted.json")) == []  # late replay
    registration = store.get_registration(TABLE_NAME, FIRST, EMAIL)
    assert registration and registration.status is RegistrationStatus.CANCELLED
    assert len(sent_emails()) == 1

    assert invoke(sqs_batch(bus_event(sessions=[FIRST], reference="KBS-BACK-0001"))) == []
    registration = store.get_registration(TABLE_NAME, FIRST, EMAIL)
    assert registration and registration.status is RegistrationStatus.CONFIRMED
    assert registration.reference == "KBS-BACK-0001"
    assert get_session(TABLE_NAME, FIRST).confirmed == 1
    assert len(sent_emails()) == 2


def test_sample_files_are_consistent() -> None:
    """The SQS sample wraps the bus sample exactly, as EventBridge delivers it."""
    (record,) = load_event("sqs/registration-submitted.json")["Records"]
    assert json.loads(record["body"]) == BUS_SAMPLE
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324
    assert record["eventSource"] == "aws:sqs"
    assert BUS_SAMPLE["detail-type"] == "Registration Submitted"
    assert BUS_SAMPLE["detail"]["metadata"]["idempotency_key"] == SUBMISSION.reference
