"""Data subject rights on moto: the "your data" link, export, erasure, retention, and no address
or name in the logs or in the events that do not need them.

Registrants are booked by the real booking code; they act from the link in their emails, through
the privacy function's handler with the HTTP samples' shape; "Registration Cancelled" events are
captured on the bus and delivered to the promoter.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from functions.privacy.handler import handler as privacy_handler
from functions.waitlist_promoter.handler import handler as promoter
from shared.platform import clients, keys
from shared.platform.observability import logger
from shared.platform.settings import get_settings
from shared.privacy import retention, rights
from shared.programme.models import Session
from shared.programme.repository import get_session, put_session
from shared.registrations import booking, store
from shared.registrations.models import RegistrationStatus, RegistrationSubmission
from shared.web import links
from tests.conftest import LINK_SECRET, TABLE_NAME, load_event
from tests.support import BusTap, Context, sent_emails, sqs_batch

SUBMISSION = RegistrationSubmission.model_validate(
    load_event("bus/registration-submitted.json")["detail"]["data"]
)
GET_SAMPLE = load_event("api/get-cancel-link.json")
POST_SAMPLE = load_event("api/post-cancel-form.json")
BOOKED_AT = SUBMISSION.submitted_at
ASKED_AT = BOOKED_AT + timedelta(days=3)
COMING, PAST = "kbs-01-ict-hardware", "kbs-00-intro"
JSON = {"accept": "application/json"}
# The coming session has two places: two confirmed, two waiting, in this order.
PEOPLE = {
    "erin.erasmus@authority.example.eu": "Erin Erasmus",
    "second.person@example.org": "Seconda Persona",
    "third.person@example.org": "Terzo Persona",
    "fourth.person@example.org": "Quarta Persona",
}
ERIN, SECOND, THIRD, FOURTH = PEOPLE
ERIN_NAME = PEOPLE[ERIN]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: str


def call(method: str, path: str, token: str | None, headers: dict[str, str] | None = None) -> Reply:
    """The privacy function, given the cancel samples' shapes re-pointed at ``path``."""
    event = copy.deepcopy(GET_SAMPLE if method == "GET" else POST_SAMPLE)
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["timeEpoch"] = int(ASKED_AT.timestamp() * 1000)
    event["headers"].update(headers or {})
    query = {} if token is None or method == "POST" else {"token": token}
    event["rawQueryString"] = urlencode(query)
    event.pop("queryStringParameters", None)
    if query:
        event["queryStringParameters"] = query
    if method == "POST":
        body = urlencode({} if token is None else {"token": token}).encode()
        event["body"] = base64.b64encode(body).decode()
    response = privacy_handler(event, Context())
    return Reply(response["statusCode"], response["headers"], response["body"])


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def privacy_token(message: EmailMessage) -> str:
    (url,) = re.findall(r"https://kbs\.example\.org/privacy\?token=\S+", text_of(message))
    (token,) = parse_qs(urlsplit(url).query)["token"]
    return token


def emails_to(address: str) -> list[EmailMessage]:
    return [m for m in sent_emails() if m["To"].addresses[0].addr_spec == address]


def table_items() -> list[dict[str, Any]]:
    """Every item (a test-only Scan: the code under test never scans)."""
    scan = clients.table(TABLE_NAME).scan
    page = scan(ConsistentRead=True)
    items = page["Items"]
    while "LastEvaluatedKey" in page:
        page = scan(ConsistentRead=True, ExclusiveStartKey=page["LastEvaluatedKey"])
        items += page["Items"]
    return items


class Bus(BusTap):
    """Our registration events, through a rule and a queue (as the stack delivers them)."""

    def __init__(self) -> None:
        super().__init__("privacy-events", {"source": ["kbs.registrations"]})


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the Powertools Logger writes (JSON lines to stdout in Lambda), at DEBUG."""
    handler = logger.registered_handler
    buffer = io.StringIO()
    previous_stream, previous_level = handler.setStream(buffer), logger.log_level
    logger.setLevel("DEBUG")
    yield buffer
    handler.setStream(previous_stream)
    logger.setLevel(previous_level)


def session(session_id: str, start: datetime, capacity: int) -> Session:
    return Session(
        session_id=session_id,
        title=f"Session {session_id}",
        kind="webinar",
        category="ICT hardware",
        start=start,
        timezone="Europe/Brussels",
        capacity=capacity,
        join_url=f"https://meet.example.org/{session_id}",
    )


def book(email: str, session_id: str, n: int) -> None:
    submission = SUBMISSION.model_copy(
        update={
            "email": email,
            "full_name": PEOPLE[email],
            "reference": f"KBS-PRIV-{n:04d}",
            "sessions": [session_id],
        }
    )
    booking.process_submission(
        submission, now=BOOKED_AT + timedelta(seconds=n), settings=get_settings()
    )


@pytest.fixture
def booked(aws: None) -> Bus:
    """A coming session (2 places: Erin and Second confirmed, Third and Fourth waiting), and a
    past one (1 place: Second confirmed, Erin waiting, ended before the request), with a
    promotion notice a crash left for Erin and a suppression of her address."""
    put_session(TABLE_NAME, session(COMING, BOOKED_AT + timedelta(days=7), capacity=2))
    put_session(TABLE_NAME, session(PAST, BOOKED_AT + timedelta(days=1), capacity=1))
    bus = Bus()
    for n, email in enumerate((ERIN, SECOND, THIRD, FOURTH), start=1):
        book(email, COMING, n)
    book(SECOND, PAST, 5)
    book(ERIN, PAST, 6)
    table = clients.table(TABLE_NAME)
    table.put_item(
        Item={
            "PK": keys.session_pk(PAST),
            "SK": keys.promotion_sk(ERIN),
            "type": "promotion",
            "session_id": PAST,
            "email": ERIN,
            "reference": "KBS-PRIV-0006",
        }
    )
    table.put_item(
        Item={
            "PK": keys.suppression_pk(ERIN),
            "SK": keys.SUPPRESSION_SK,
            "email": ERIN,
            "reason": "complained",
            "suppressed_at": BOOKED_AT.isoformat(),
        }
    )
    bus.received()  # forget the booking announcements
    return bus


def test_export_lists_everything_then_erase_leaves_no_trace_and_promotes_the_first_waitlisted(
    booked: Bus, logs: io.StringIO
) -> None:
    # Given Erin's "your data" link, from the foot of her confirmation email.
    token = privacy_token(emails_to(ERIN)[0])
    page = call("GET", "/privacy", token)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'action="privacy/export"' in page.body and 'action="privacy/erase"' in page.body
    before = table_items()
    assert call("GET", "/privacy", token, JSON).status == 200
    assert table_items() == before  # looking changes nothing

    # When she exports, the attachment lists everything held about her.
    exported = call("POST", "/privacy/export", token)
    assert exported.status == 200
    assert exported.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(exported.body)
    assert data["email"] == ERIN
    statuses = {r["session"]["session_id"]: r["status"] for r in data["registrations"]}
    assert statuses == {COMING: "confirmed", PAST: "waitlisted"}
    assert all(r["full_name"] == ERIN_NAME for r in data["registrations"])
    assert all(r["consent"]["text_version"] for r in data["registrations"])
    assert [w["session_id"] for w in data["waitlist_entries"]] == [PAST]
    assert [p["session_id"] for p in data["promotion_notices"]] == [PAST]
    assert data["suppression"]["reason"] == "complained"
    assert table_items() == before

    # When she erases: her place is given back first, then everything of hers is removed.
    erased = call("POST", "/privacy/erase", token)
    assert erased.status == 200 and "Your data has been erased" in erased.body
    meta = get_session(TABLE_NAME, COMING)
    assert (meta.confirmed, meta.waitlisted) == (1, 2)
    (cancelled,) = booked.received("Registration Cancelled")
    assert cancelled["detail"]["data"]["session_id"] == COMING
    assert promoter(sqs_batch(cancelled), Context())["batchItemFailures"] == []
    meta = get_session(TABLE_NAME, COMING)
    assert (meta.confirmed, meta.waitlisted) == (2, 1)
    third = store.get_registration(TABLE_NAME, COMING, THIRD)
    assert third is not None and third.status is RegistrationStatus.CONFIRMED
    assert [e.email for e in store.waitlist(TABLE_NAME, COMING)] == [FOURTH]
    # Only anonymous counts remain of her.
    for session_id in (COMING, PAST):
        item = clients.table(TABLE_NAME).get_item(
            Key={"PK": keys.session_pk(session_id), "SK": keys.META}
        )["Item"]
        assert item[rights.ERASED] == 1

    # Then no item, log line or event holds her address or her name.
    everything = json.dumps(table_items(), default=str) + logs.getvalue()
    everything += json.dumps(booked.received(), default=str) + json.dumps(cancelled)
    assert ERIN not in everything.lower() and ERIN_NAME not in everything
    assert rights.erase(ERIN, now=ASKED_AT, settings=get_settings()) == rights.Erasure()
    # and her link now says nothing is held, changing nothing.
    after = table_items()
    for method, path in (("GET", "/privacy"), ("POST", "/privacy/export")):
        assert call(method, path, token, JSON).status == 404
    assert call("POST", "/privacy/erase", token, JSON).status == 404
    assert table_items() == after


def test_a_submission_replayed_after_an_erasure_stays_erased_but_a_new_one_books(
    booked: Bus,
) -> None:
    # Given Erin erased her data three days after she registered.
    rights.erase(ERIN, now=ASKED_AT, settings=get_settings())
    emails_before = len(sent_emails())

    # When her original submission is delivered again (an archive replay, a late redelivery),
    book(ERIN, COMING, 1)

    # then nothing of hers comes back and no email goes out,
    assert store.get_registration(TABLE_NAME, COMING, ERIN) is None
    assert ERIN not in json.dumps(table_items(), default=str).lower()
    assert len(sent_emails()) == emails_before
    # but a submission she makes after the erasure is her new request, and is booked.
    again = SUBMISSION.model_copy(
        update={
            "email": ERIN,
            "full_name": ERIN_NAME,
            "reference": "KBS-PRIV-0099",
            "sessions": [COMING],
            "submitted_at": ASKED_AT + timedelta(minutes=5),
        }
    )
    booking.process_submission(again, now=again.submitted_at, settings=get_settings())
    registration = store.get_registration(TABLE_NAME, COMING, ERIN)
    assert registration is not None and registration.reference == "KBS-PRIV-0099"


def test_bad_links_are_refused_and_change_nothing(booked: Bus) -> None:
    token = privacy_token(emails_to(ERIN)[0])
    claims = links.verify(token, [LINK_SECRET.encode()], purpose=links.PRIVACY, now=ASKED_AT)
    forged_key = b"another-key-0123456789abcdef"
    cancel_purpose = links.LinkClaims(
        links.CANCEL, claims.reference, claims.session_id, claims.email_hash, claims.expires_at
    )
    expired = links.LinkClaims(
        links.PRIVACY, claims.reference, claims.session_id, claims.email_hash, ASKED_AT
    )
    other = links.LinkClaims(
        links.PRIVACY,
        claims.reference,
        claims.session_id,
        links.email_hash(SECOND),
        claims.expires_at,
    )
    before = table_items()
    refused = {
        None: 400,
        token[:-3]: 403,
        links.sign(claims, forged_key): 403,
        links.sign(cancel_purpose, LINK_SECRET.encode()): 403,
        links.sign(expired, LINK_SECRET.encode()): 403,
        links.sign(other, LINK_SECRET.encode()): 404,  # Erin's registration, another address
    }
    for bad, status in refused.items():
        for method, path in (
            ("GET", "/privacy"),
            ("POST", "/privacy/export"),
            ("POST", "/privacy/erase"),
        ):
            assert call(method, path, bad, JSON).status == status, (bad, path)
    assert table_items() == before
    assert booked.received() == []


def test_registration_waitlist_and_promotion_items_expire_the_retention_period_after_the_session(
    booked: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the default retention (365 days after the end of the session).
    ends = BOOKED_AT + timedelta(days=7, minutes=90)
    expected = int((ends + timedelta(days=365)).timestamp())
    table = clients.table(TABLE_NAME)

    def expiration(sk: str) -> Any:
        key = {"PK": keys.session_pk(COMING), "SK": sk}
        return table.get_item(Key=key)["Item"].get(retention.TTL_ATTRIBUTE)

    # Then registrations and waitlist entries carry it as the TTL.
    assert expiration(keys.registration_sk(ERIN)) == expected
    assert expiration(keys.registration_sk(THIRD)) == expected
    assert expiration(keys.waitlist_sk(THIRD)) == expected

    # When the retention is 30 days and a promotion writes a notice (its email crashing first),
    monkeypatch.setenv("KBS_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    monkeypatch.setattr("shared.registrations.waitlist._notify_promoted", _crash)
    clients.table(TABLE_NAME).update_item(
        Key={"PK": keys.session_pk(COMING), "SK": keys.META},
        UpdateExpression="SET #capacity = :three",
        ExpressionAttributeNames={"#capacity": "capacity"},
        ExpressionAttributeValues={":three": 3},
    )
    from shared.registrations import waitlist

    with pytest.raises(RuntimeError):
        waitlist.promote_waitlisted(COMING, now=ASKED_AT, settings=get_settings())
    # then the notice expires 30 days after the session.
    assert expiration(keys.promotion_sk(THIRD)) == int((ends + timedelta(days=30)).timestamp())


def _crash(*_: Any, **__: Any) -> None:
    raise RuntimeError("crashed before emailing")


def test_the_events_we_publish_carry_no_address_or_name(booked: Bus) -> None:
    # Given bookings (confirmed, waitlisted) and an erasure (cancelled, then a promotion).
    rights.erase(ERIN, now=ASKED_AT, settings=get_settings())
    (cancelled,) = booked.received("Registration Cancelled")
    promoter(sqs_batch(cancelled), Context())
    events = [cancelled, *booked.received()]
    assert {e["detail-type"] for e in events} == {
        "Registration Cancelled",
        "Registration Confirmed",
    }
    # Then none of them names a person.
    text = json.dumps(events)
    assert "@" not in text and not any(name in text for name in PEOPLE.values())
