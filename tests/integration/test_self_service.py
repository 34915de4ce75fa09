"""Self-service cancellation and waitlist promotion on moto: the HTTP samples in, real handlers.

A full session (two places, two waiting) is booked by the real booking code; registrants use
the cancellation links from their emails; the "Registration Cancelled" events the link
publishes are captured on the bus and delivered to the promoter as SQS records.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.self_service.handler import handler as self_service
from functions.waitlist_promoter.handler import handler as promoter
from infra.wiring import HttpRoute, function
from shared.platform import clients, keys
from shared.platform.settings import get_settings
from shared.programme.models import Session
from shared.programme.repository import get_session, put_session
from shared.registrations import booking, cancellation, store, waitlist
from shared.registrations.models import RegistrationStatus, RegistrationSubmission
from shared.web import links
from tests.conftest import BUS_NAME, LINK_SECRET, TABLE_NAME, load_event
from tests.support import BusTap, Context, sent_emails, sqs_batch

SUBMITTED = load_event("bus/registration-submitted.json")
SUBMISSION = RegistrationSubmission.model_validate(SUBMITTED["detail"]["data"])
GET_SAMPLE = load_event("api/get-cancel-link.json")
POST_SAMPLE = load_event("api/post-cancel-form.json")
CANCELLED_SAMPLE = load_event("bus/registration-cancelled.json")
SQS_SAMPLE = load_event("sqs/registration-cancelled.json")
SESSION_ID = CANCELLED_SAMPLE["detail"]["data"]["session_id"]
BOOKED_AT = SUBMISSION.submitted_at
ASKED_AT = BOOKED_AT + timedelta(days=1)
JSON = {"accept": "application/json"}
# Two places: two confirmed, two waiting, in this order.
FIRST, SECOND, THIRD, FOURTH = (f"person.{n}@example.org" for n in range(1, 5))


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        assert self.headers["Content-Type"] == "application/json"
        return json.loads(self.body)


def request(
    method: str,
    token: str | None,
    *,
    at: datetime = ASKED_AT,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The GET sample (token in the query) or the POST sample (token in the form body)."""
    event = copy.deepcopy(GET_SAMPLE if method == "GET" else POST_SAMPLE)
    event["requestContext"]["timeEpoch"] = int(at.timestamp() * 1000)
    event["headers"].update(headers or {})
    if method == "GET":
        query = {} if token is None else {"token": token}
        event["rawQueryString"] = urlencode(query)
        event["queryStringParameters"] = query
        if not query:
            del event["queryStringParameters"]
    else:
        body = urlencode({} if token is None else {"token": token}).encode()
        event["body"] = base64.b64encode(body).decode()
    return event


def call(event: dict[str, Any]) -> Reply:
    response = self_service(event, Context())
    return Reply(response["statusCode"], response["headers"], response["body"])


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def calendar_of(message: EmailMessage) -> str | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return None


def link_token(message: EmailMessage) -> str:
    """The token of the cancellation link in an email."""
    (url,) = re.findall(
        r"https://kbs\.example\.org/registrations/cancel\?token=\S+", text_of(message)
    )
    (token,) = parse_qs(urlsplit(url).query)["token"]
    return token


def emails_to(address: str) -> list[EmailMessage]:
    return [m for m in sent_emails() if m["To"].addresses[0].addr_spec == address]


def snapshot() -> list[dict[str, Any]]:
    """Every item of the table but the send-once records: what a request must not change."""
    items = clients.table(TABLE_NAME).scan(ConsistentRead=True)["Items"]
    return sorted(
        (i for i in items if not str(i["PK"]).startswith("EMAIL#")),
        key=lambda i: (i["PK"], i["SK"]),
    )


class Bus(BusTap):
    """Our registration events put on the bus (see :class:`BusTap`)."""

    def __init__(self) -> None:
        super().__init__("registration-events", {"source": ["kbs.registrations"]})


def promote(*events: dict[str, Any]) -> list[str]:
    """Deliver events to the promoter as one SQS batch; the message ids it failed."""
    response = promoter(sqs_batch(*events), Context())
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def _crash(*_: Any, **__: Any) -> None:
    raise RuntimeError("the function died before emailing")


def status_of(email: str) -> RegistrationStatus:
    registration = store.get_registration(TABLE_NAME, SESSION_ID, email)
    assert registration is not None
    return registration.status


def counters() -> tuple[int, int]:
    availability = get_session(TABLE_NAME, SESSION_ID)
    return availability.confirmed, availability.waitlisted


def waiting() -> list[str]:
    return [entry.email for entry in store.waitlist(TABLE_NAME, SESSION_ID)]


@pytest.fixture
def session(aws: None) -> Session:
    """The sample session, two places, a week after the sample registration."""
    session = Session(
        session_id=SESSION_ID,
        title="Forced labour risks in ICT hardware supply chains",
        kind="webinar",
        category="ICT hardware",
        start=BOOKED_AT + timedelta(days=7),
        timezone="Europe/Brussels",
        capacity=2,
        join_url="https://meet.example.org/kbs-01",
    )
    put_session(TABLE_NAME, session)
    return session


@pytest.fixture
def full(session: Session) -> Iterator[Bus]:
    """Two confirmed registrants and two on the waiting list, each emailed once."""
    bus = Bus()
    for n, email in enumerate((FIRST, SECOND, THIRD, FOURTH), start=1):
        submission = SUBMISSION.model_copy(
            update={"email": email, "reference": f"KBS-SELF-000{n}", "sessions": [SESSION_ID]}
        )
        booking.process_submission(
            submission, now=BOOKED_AT + timedelta(seconds=n), settings=get_settings()
        )
    assert counters() == (2, 2) and waiting() == [THIRD, FOURTH]
    assert len(sent_emails()) == 4
    bus.received()  # forget the booking announcements
    yield bus


def test_a_confirmed_registrant_cancels_by_link_and_the_first_waitlisted_is_promoted(
    full: Bus, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    (confirmation,) = emails_to(FIRST)
    token = link_token(confirmation)
    before = snapshot()

    # Given the link, the page describes the registration and posts the token; nothing changes.
    page = call(request("GET", token))
    as_json = call(request("GET", token, headers=JSON))
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert session.title in page.body and "KBS-SELF-0001" in page.body
    assert "(Europe/Ljubljana)" in page.body  # the registrant's time zone
    assert '<form method="post" action="cancel">' in page.body
    assert f'<input type="hidden" name="token" value="{token}">' in page.body
    assert as_json.status == 200
    assert as_json.json()["status"] == "confirmed"
    assert as_json.json()["session"]["session_id"] == SESSION_ID
    assert snapshot() == before and full.received() == []

    # When the form is posted, the registration is cancelled and its place given back.
    done = call(request("POST", token))
    assert done.status == 200
    assert "<h1>Registration cancelled</h1>" in done.body and session.title in done.body
    assert status_of(FIRST) is RegistrationStatus.CANCELLED
    assert counters() == (1, 2)
    (announced,) = full.received("Registration Cancelled")
    assert cancellation.CancelledData.model_validate(announced["detail"]["data"]) == (
        cancellation.CancelledData(
            reference="KBS-SELF-0001",
            session_id=SESSION_ID,
            previous_status=RegistrationStatus.CONFIRMED,
            cancelled_at=ASKED_AT,
        )
    )
    assert "person" not in json.dumps(announced)  # no personal data on the bus

    # Then the promoter gives the place to the first on the waiting list, who is emailed.
    assert promote(announced) == []
    assert status_of(THIRD) is RegistrationStatus.CONFIRMED
    assert status_of(FOURTH) is RegistrationStatus.WAITLISTED
    assert counters() == (2, 1) and waiting() == [FOURTH]
    waitlisted, promoted = emails_to(THIRD)
    assert waitlisted["X-KBS-Kind"] == "waitlist"
    assert promoted["X-KBS-Kind"] == "confirmation"
    # (.strip(): the email package folds a long Subject right after the colon.)
    assert promoted["Subject"].strip() == f"A place opened up: {session.title}"
    assert "a place opened up" in text_of(promoted)
    assert str(session.join_url) in text_of(promoted)
    calendar = calendar_of(promoted)
    assert calendar and "METHOD:REQUEST" in calendar and str(session.join_url) in calendar
    claims = links.verify(
        link_token(promoted), [LINK_SECRET.encode()], purpose=links.CANCEL, now=ASKED_AT
    )
    assert (claims.reference, claims.session_id) == ("KBS-SELF-0003", SESSION_ID)
    (confirmed,) = full.received("Registration Confirmed")
    assert confirmed["detail"]["data"]["reference"] == "KBS-SELF-0003"
    (told,) = emails_to(FIRST)[1:]  # the cancelled registrant: its calendar CANCEL
    assert told["X-KBS-Kind"] == "place-cancelled" and "METHOD:CANCEL" in str(calendar_of(told))
    assert len(sent_emails()) == 6  # nothing to anyone else
    assert not [i for i in snapshot() if str(i["SK"]).startswith(keys.PROMOTION_SK_PREFIX)]
    logged = " ".join(str(vars(r)) for r in caplog.records)
    assert "Registration cancelled" in logged and "Waitlisted registrant promoted" in logged
    assert "person." not in logged and token not in logged  # no address, no link in the logs


def test_replaying_the_post_or_the_event_changes_and_sends_nothing(full: Bus) -> None:
    token = link_token(emails_to(FIRST)[0])
    assert call(request("POST", token)).status == 200
    (announced,) = full.received("Registration Cancelled")
    assert promote(announced) == []
    full.received()
    before, emails = snapshot(), len(sent_emails())

    again = call(request("POST", token, at=ASKED_AT + timedelta(hours=1)))
    again_json = call(request("POST", token, headers=JSON))
    page = call(request("GET", token))
    assert promote(announced, announced) == []
    assert promote({**announced, "id": str(uuid.uuid4())}) == []

    assert again.status == 200 and "<h1>Already cancelled</h1>" in again.body
    assert "Nothing has been changed." in again.body
    assert again_json.json()["status"] == "already_cancelled"
    assert page.status == 200 and "<h1>Already cancelled</h1>" in page.body
    assert "<form" not in page.body
    assert snapshot() == before
    assert len(sent_emails()) == emails
    assert full.received() == []


def forged(token: str, **changes: Any) -> str:
    """``token`` with its payload changed and its signature kept."""
    segment, _, signature = token.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    changed = json.dumps({**payload, **changes}, separators=(",", ":")).encode()
    return f"{base64.urlsafe_b64encode(changed).rstrip(b'=').decode()}.{signature}"


def signed(key: str = LINK_SECRET, **changes: Any) -> str:
    """A genuine token for the first registration, with some claims changed."""
    claims = links.LinkClaims(
        purpose=links.CANCEL,
        reference="KBS-SELF-0001",
        session_id=SESSION_ID,
        email_hash=links.email_hash(FIRST),
        expires_at=ASKED_AT + timedelta(days=60),
    )
    return links.sign(dataclasses.replace(claims, **changes), key.encode())


def standard_alphabet(token: str) -> str:
    """``token`` with ``+``/``/`` for ``-``/``_`` (made to hold one if it had neither)."""
    if "-" not in token and "_" not in token:  # re-sign until the payload spells one
        token = next(t for n in range(64) if "-" in (t := signed(reference=f"KBS-SELF-000{n}")))
    return token.replace("-", "+").replace("_", "/")


def spare_bits_changed(token: str) -> str:
    """``token`` with the 2 unused low bits of its signature's last character set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(token.rpartition(".")[2]) % 4 == 3  # 32 bytes: 43 characters, 2 spare bits
    return token[:-1] + alphabet[alphabet.index(token[-1]) ^ 3]


BAD_LINKS: dict[str, Callable[[str], tuple[str, int, str]]] = {
    "another reference": lambda t: (forged(t, r="KBS-SELF-0002"), 403, "invalid_link"),
    "a longer expiry": lambda t: (forged(t, x=4102444800), 403, "invalid_link"),
    "a changed signature": lambda t: (
        t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),
        403,
        "invalid_link",
    ),
    "cut short": lambda t: (t[: len(t) // 2], 403, "invalid_link"),
    "no signature": lambda t: (t.partition(".")[0], 403, "invalid_link"),
    "another key": lambda t: (signed(key="another-secret-0123456789abcdef"), 403, "invalid_link"),
    "another purpose": lambda t: (signed(purpose="unsubscribe"), 403, "invalid_link"),
    "expired": lambda t: (signed(expires_at=ASKED_AT - timedelta(seconds=1)), 403, "expired_link"),
    "not base64": lambda t: ("%%%.***", 403, "invalid_link"),
    # One spelling (issue 12, item 8): the same bytes to a lenient decoder, still refused.
    "padded": lambda t: (t + "=", 403, "invalid_link"),
    "standard alphabet": lambda t: (standard_alphabet(t), 403, "invalid_link"),
    "spare bits changed": lambda t: (spare_bits_changed(t), 403, "invalid_link"),
    "too long": lambda t: ("A" * 5000 + "." + "B" * 43, 403, "invalid_link"),
    "empty": lambda t: ("", 400, "missing_token"),
    "for nobody": lambda t: (signed(reference="KBS-NONE-0001"), 404, "not_found"),
}


@pytest.mark.parametrize("kind", list(BAD_LINKS))
def test_a_bad_link_is_refused_says_so_and_changes_nothing(full: Bus, kind: str) -> None:
    token, status, code = BAD_LINKS[kind](link_token(emails_to(FIRST)[0]))
    before, emails = snapshot(), len(sent_emails())

    replies = [
        call(request("GET", token)),
        call(request("POST", token)),
        call(request("GET", token, headers=JSON)),
        call(request("POST", token, headers=JSON)),
    ]

    assert [r.status for r in replies] == [status] * 4
    for page in replies[:2]:
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Nothing has been changed." in page.body and "<form" not in page.body
    for answer in replies[2:]:
        assert answer.json()["status"] == code
        assert "Nothing has been changed." in answer.json()["message"]
    if code == "expired_link":
        assert "<h1>This link has expired</h1>" in replies[0].body
    assert snapshot() == before
    assert len(sent_emails()) == emails
    assert full.received() == []


def test_requests_a_form_would_never_send_are_4xx_and_change_nothing(full: Bus) -> None:
    token = link_token(emails_to(FIRST)[0])
    before = snapshot()

    def post(body: str, content_type: str, *, encoded: bool = False) -> Reply:
        event = request("POST", None, headers={"content-type": content_type, **JSON})
        event["body"], event["isBase64Encoded"] = body, encoded
        return call(event)

    no_token = [call(request("GET", None)), call(request("POST", None))]
    plain = post(f"token={token}", "text/plain")
    not_base64 = post("***", "application/x-www-form-urlencoded", encoded=True)
    not_utf8 = post(base64.b64encode(b"token=\xff").decode(), "application/json", encoded=True)
    number = post('{"token": 12}', "application/json")
    array = post("[1, 2]", "application/json")
    twice = post(f"token={token}&token={token}", "application/x-www-form-urlencoded")

    assert [r.status for r in no_token] == [400, 400]
    assert (plain.status, not_base64.status, not_utf8.status) == (415, 400, 400)
    assert (number.status, array.status, twice.status) == (400, 400, 400)
    for reply in (plain, not_base64, number, array, twice):
        assert reply.json()["message"]
    assert snapshot() == before and full.received() == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=st.text(max_size=300))
def test_any_token_in_the_query_is_answered_without_error_or_change(full: Bus, token: str) -> None:
    before = snapshot()
    reply = call(request("GET", token, headers=JSON))
    assert reply.status in (400, 403, 404)
    assert snapshot() == before


def test_a_json_client_cancels_with_the_token_in_a_json_body(full: Bus) -> None:
    token = link_token(emails_to(SECOND)[0])
    event = request("POST", None, headers={"content-type": "application/json", **JSON})
    event["body"], event["isBase64Encoded"] = json.dumps({"token": token}), False

    reply = call(event)

    assert reply.status == 200
    assert reply.json()["status"] == "cancelled"
    assert reply.json()["reference"] == "KBS-SELF-0002"
    assert status_of(SECOND) is RegistrationStatus.CANCELLED


def test_a_waitlisted_registrant_leaves_the_list_and_is_never_promoted(full: Bus) -> None:
    page = call(request("GET", link_token(emails_to(THIRD)[0])))
    left = call(request("POST", link_token(emails_to(THIRD)[0])))
    assert "<h1>Leave the waiting list?</h1>" in page.body
    assert left.status == 200 and "<h1>You have left the waiting list</h1>" in left.body
    assert status_of(THIRD) is RegistrationStatus.CANCELLED
    assert counters() == (2, 1) and waiting() == [FOURTH]
    (left_event,) = full.received("Registration Cancelled")
    assert left_event["detail"]["data"]["previous_status"] == "waitlisted"
    assert promote(left_event) == []  # no place was freed
    assert counters() == (2, 1)

    # A place frees up: it goes to the next in line, not to the one who left.
    assert call(request("POST", link_token(emails_to(FIRST)[0]))).status == 200
    assert promote(*full.received("Registration Cancelled")) == []

    assert status_of(FOURTH) is RegistrationStatus.CONFIRMED
    assert status_of(THIRD) is RegistrationStatus.CANCELLED
    assert counters() == (2, 0) and waiting() == []
    # The waitlist notice from before, and word that they left (no calendar: they had none).
    assert [m["X-KBS-Kind"] for m in emails_to(THIRD)] == ["waitlist", "place-cancelled"]
    assert calendar_of(emails_to(THIRD)[1]) is None
    assert [m["X-KBS-Kind"] for m in emails_to(FOURTH)] == ["waitlist", "confirmation"]


def test_a_registrant_who_cancels_before_their_promotion_email_gets_none(
    full: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The promoter crashes after promoting; the registrant cancels (waitlist link) meanwhile."""
    assert call(request("POST", link_token(emails_to(FIRST)[0]))).status == 200
    (first_cancel,) = full.received("Registration Cancelled")

    with monkeypatch.context() as patched:
        patched.setattr(waitlist, "notify", _crash)
        assert len(promote(first_cancel)) == 1
    assert status_of(THIRD) is RegistrationStatus.CONFIRMED  # promoted, not yet told
    assert len(emails_to(THIRD)) == 1

    second = call(request("POST", link_token(emails_to(THIRD)[0])))  # the waitlist email's link
    assert second.status == 200 and "<h1>Registration cancelled</h1>" in second.body
    (second_cancel,) = full.received("Registration Cancelled")
    assert second_cancel["detail"]["data"]["previous_status"] == "confirmed"

    assert promote(first_cancel, second_cancel) == []  # the redelivery and the new event

    # No promotion email after cancelling: only word of the cancellation they asked for.
    assert [m["X-KBS-Kind"] for m in emails_to(THIRD)] == ["waitlist", "place-cancelled"]
    assert status_of(FOURTH) is RegistrationStatus.CONFIRMED
    assert [m["X-KBS-Kind"] for m in emails_to(FOURTH)] == ["waitlist", "confirmation"]
    assert counters() == (2, 0)
    assert not [i for i in snapshot() if str(i["SK"]).startswith(keys.PROMOTION_SK_PREFIX)]


def test_a_promotion_email_lost_in_a_crash_is_sent_by_the_redelivery_once(
    full: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert call(request("POST", link_token(emails_to(FIRST)[0]))).status == 200
    (announced,) = full.received("Registration Cancelled")
    with monkeypatch.context() as patched:
        patched.setattr(waitlist, "notify", _crash)
        assert len(promote(announced)) == 1  # the record fails: SQS delivers it again

    assert promote(announced) == []
    assert promote(announced) == []

    assert [m["X-KBS-Kind"] for m in emails_to(THIRD)] == ["waitlist", "confirmation"]
    assert len(full.received("Registration Confirmed")) == 1
    assert counters() == (2, 1)


def test_a_registrant_promoted_while_leaving_the_list_gives_back_the_place(
    full: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link was read while they waited; by the transaction they had a place: it is freed."""
    waiting_item = store.registration_record(TABLE_NAME, SESSION_ID, THIRD)
    assert call(request("POST", link_token(emails_to(FIRST)[0]))).status == 200
    assert promote(*full.received("Registration Cancelled")) == []
    assert status_of(THIRD) is RegistrationStatus.CONFIRMED
    reads = iter([waiting_item])  # the first read is from before the promotion
    real = cancellation.registration_record
    monkeypatch.setattr(
        cancellation, "registration_record", lambda *a: next(reads, None) or real(*a)
    )

    left = call(request("POST", link_token(emails_to(THIRD)[0])))

    assert left.status == 200 and "<h1>Registration cancelled</h1>" in left.body
    assert status_of(THIRD) is RegistrationStatus.CANCELLED
    assert counters() == (1, 1) and waiting() == [FOURTH]
    (freed,) = full.received("Registration Cancelled")
    assert freed["detail"]["data"]["previous_status"] == "confirmed"
    assert promote(freed) == []
    assert counters() == (2, 0) and status_of(FOURTH) is RegistrationStatus.CONFIRMED


def test_a_place_seen_free_in_a_stale_read_promotes_nobody(
    full: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transaction's capacity condition, not the earlier read, has the last word."""
    stale = get_session(TABLE_NAME, SESSION_ID).model_copy(update={"confirmed": 1})
    monkeypatch.setattr(waitlist, "get_session", lambda *_: stale)
    before, emails = snapshot(), len(sent_emails())

    promoted = waitlist.promote_waitlisted(SESSION_ID, now=ASKED_AT, settings=get_settings())

    assert promoted == []
    assert snapshot() == before and len(sent_emails()) == emails


def test_a_failed_announcement_is_completed_when_the_link_is_used_again(
    full: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = link_token(emails_to(FIRST)[0])
    monkeypatch.setenv("KBS_EVENT_BUS_NAME", "missing-bus")
    get_settings.cache_clear()
    failed = call(request("POST", token))
    assert failed.status == 503 and failed.headers["Retry-After"]
    assert "Please try again" in failed.body
    assert status_of(FIRST) is RegistrationStatus.CANCELLED  # done, but not yet announced

    monkeypatch.setenv("KBS_EVENT_BUS_NAME", BUS_NAME)
    get_settings.cache_clear()
    retried = call(request("POST", token))
    replayed = call(request("POST", token))

    assert retried.status == replayed.status == 200
    (announced,) = full.received("Registration Cancelled")
    assert announced["detail"]["data"]["reference"] == "KBS-SELF-0001"
    assert counters() == (1, 2)


def test_after_the_session_the_link_changes_nothing(full: Bus, session: Session) -> None:
    token = link_token(emails_to(FIRST)[0])
    before = snapshot()

    replies = [call(request(m, token, at=session.end)) for m in ("GET", "POST")]

    assert [r.status for r in replies] == [409, 409]
    assert "<h1>This session has taken place</h1>" in replies[1].body
    assert snapshot() == before and full.received() == []


def test_the_sample_link_opens_the_sample_registration(session: Session) -> None:
    """The samples in ``events/`` fit together: the GET sample's token is the sample's link."""
    booking.process_submission(SUBMISSION, now=BOOKED_AT, settings=get_settings())

    page = call(GET_SAMPLE)
    done = call(POST_SAMPLE)

    assert page.status == 200 and SUBMISSION.reference in page.body
    assert done.status == 200
    assert status_of(SUBMISSION.email) is RegistrationStatus.CANCELLED
    assert promote(CANCELLED_SAMPLE) == []


def test_sample_files_and_routes_are_consistent() -> None:
    (record,) = SQS_SAMPLE["Records"]
    assert json.loads(record["body"]) == CANCELLED_SAMPLE
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324
    data = cancellation.CancelledData.model_validate(CANCELLED_SAMPLE["detail"]["data"])
    assert CANCELLED_SAMPLE["detail"]["metadata"]["idempotency_key"] == data.idempotency_key
    routes = function("self_service").of_kind(HttpRoute)
    assert {(r.method, r.path) for r in routes} == {
        ("GET", links.CANCEL_PATH),
        ("POST", links.CANCEL_PATH),
    }
    assert GET_SAMPLE["routeKey"] == f"GET {links.CANCEL_PATH}"
    assert POST_SAMPLE["routeKey"] == f"POST {links.CANCEL_PATH}"
