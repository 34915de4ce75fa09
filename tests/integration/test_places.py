"""A person's place on the user's path (issue 12, items 3, 4, 5, 7), on moto.

Registrations go through the real API handler (the HTTP sample, with its request time), the
"Registration Submitted" event it publishes is read back off the bus and given to the real
registration processor as an SQS record; cancellations use the link from the email through the
self-service handler, unsubscribes the one-click POST through the unsubscribe handler, and
the "Registration Cancelled" events go to the real promoter. Calendars are parsed with the
``icalendar`` library.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.api.handler import handler as api
from functions.registration_processor.handler import handler as processor
from functions.self_service.handler import handler as self_service
from functions.unsubscribe.handler import handler as unsubscribe_handler
from functions.waitlist_promoter.handler import handler as promoter
from kbs.cli import main
from shared.mail import ics, suppression
from shared.platform.settings import get_settings
from shared.programme.models import Session
from shared.programme.repository import put_session
from shared.registrations import booking, store
from shared.registrations.models import RegistrationStatus, RegistrationSubmission
from shared.web import pages
from tests.conftest import TABLE_NAME, load_event
from tests.support import BusTap, Context, local_stack_file, sent_emails, sqs_batch

JSON_POST = load_event("api/post-registration-json.json")
CANCEL_POST = load_event("api/post-cancel-form.json")
ONE_CLICK = load_event("api/post-unsubscribe-one-click.json")
# Requests a little in the past: the organiser commands (erase, remove) act at the wall clock.
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
SESSION_ID = "kbs-01-ict-hardware"
HOLDER = "holder@example.org"


class Bus(BusTap):
    def __init__(self) -> None:
        super().__init__("registration-events", {"source": ["kbs.registrations"]})


@dataclass(frozen=True)
class World:
    bus: Bus
    session: Session


@pytest.fixture
def world(aws: None) -> Iterator[World]:
    """A one-place session, open, a week after the first request."""
    session = Session(
        session_id=SESSION_ID,
        title="Forced labour risks in ICT hardware supply chains",
        kind="webinar",
        category="ICT hardware",
        start=T0 + timedelta(days=7),
        timezone="Europe/Brussels",
        capacity=1,
        join_url="https://meet.example.org/kbs-01",
    )
    put_session(TABLE_NAME, session)
    yield World(Bus(), session)


def post(email: str, at: datetime) -> str:
    """POST /registrations (the JSON sample) for the session at ``at``; the 202's reference."""
    event = copy.deepcopy(JSON_POST)
    body = {**json.loads(event["body"]), "email": email, "sessions": [SESSION_ID]}
    event["body"] = json.dumps(body)
    event["requestContext"]["timeEpoch"] = round(at.timestamp() * 1000)
    response = api(event, Context())
    assert response["statusCode"] == 202, response["body"]
    return str(json.loads(response["body"])["reference"])


def submitted(world: World) -> list[dict[str, Any]]:
    """The "Registration Submitted" events put on the bus since the last call."""
    return world.bus.received("Registration Submitted")


def process(*events: dict[str, Any]) -> None:
    """Deliver events to the registration processor, one SQS batch each, in this order."""
    for event in events:
        response = processor(sqs_batch(event), Context())
        assert response["batchItemFailures"] == []


def register(world: World, email: str, at: datetime) -> str:
    """Post and process at once; the reference the API answered."""
    reference = post(email, at)
    (event,) = submitted(world)
    process(event)
    return reference


def emails_to(address: str, kind: str | None = None) -> list[EmailMessage]:
    return [
        m
        for m in sent_emails()
        if m["To"].addresses[0].addr_spec == address and kind in (None, m["X-KBS-Kind"])
    ]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_token(message: EmailMessage, path: str = "registrations/cancel") -> str:
    (url,) = re.findall(rf"https://kbs\.example\.org/{path}\?token=\S+", text_of(message))
    (token,) = parse_qs(urlsplit(url).query)["token"]
    return token


def cancel_by_link(world: World, message: EmailMessage, at: datetime) -> None:
    """POST the cancel form with the email's token, then deliver the event to the promoter."""
    event = copy.deepcopy(CANCEL_POST)
    event["requestContext"]["timeEpoch"] = int(at.timestamp() * 1000)
    event["body"] = base64.b64encode(urlencode({"token": link_token(message)}).encode()).decode()
    assert self_service(event, Context())["statusCode"] == 200
    promote(world)


def promote(world: World) -> None:
    for cancelled in world.bus.received("Registration Cancelled"):
        assert promoter(sqs_batch(cancelled), Context())["batchItemFailures"] == []


def one_click_unsubscribe(message: EmailMessage, at: datetime) -> None:
    (url,) = re.fullmatch(r"<(https://[^>]+)>", str(message["List-Unsubscribe"])).groups()  # type: ignore[union-attr]
    event = copy.deepcopy(ONE_CLICK)
    event["requestContext"]["timeEpoch"] = int(at.timestamp() * 1000)
    query = parse_qs(urlsplit(url).query)
    event["rawQueryString"] = urlencode({"token": query["token"][0]})
    event["queryStringParameters"] = {"token": query["token"][0]}
    assert unsubscribe_handler(event, Context())["statusCode"] == 200


def calendar(message: EmailMessage) -> icalendar.Calendar | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return icalendar.Calendar.from_ical(payload)
    return None


def vevent(message: EmailMessage) -> tuple[str, str, str, int]:
    """METHOD, STATUS, UID and SEQUENCE of the email's invitation (parsed by icalendar)."""
    parsed = calendar(message)
    assert parsed is not None, "no .ics"
    (event,) = parsed.walk("VEVENT")
    return (
        str(parsed["METHOD"]),
        str(event["STATUS"]),
        str(event["UID"]),
        int(event["SEQUENCE"]),
    )


def status_of(email: str) -> RegistrationStatus | None:
    registration = store.get_registration(TABLE_NAME, SESSION_ID, email)
    return registration.status if registration else None


def waitlist_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()  # the handlers' own output so far
    assert main(["waitlist", "list", SESSION_ID, "--local", str(local_stack_file(tmp_path))]) == 0
    return capsys.readouterr().out.splitlines()[1:]


# --- 3. first come, first served on the waiting list ----------------------------------------


def test_the_waiting_list_follows_the_request_time_not_the_address_or_the_delivery(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A submits, B 0.3 s later in the same second with an address that sorts first; the
    queue even delivers B first. The holder cancels: A gets the place."""
    register(world, HOLDER, T0)
    a, b = "zoe.a@example.org", "aaron.b@example.org"
    second = T0 + timedelta(minutes=5)
    post(a, second + timedelta(milliseconds=100))
    post(b, second + timedelta(milliseconds=400))
    event_a, event_b = submitted(world)
    # EventBridge's time has whole seconds, so requests within one second tie; moto stamps the
    # real clock, which a loaded machine may move past a second boundary between the two posts.
    event_b["time"] = event_a["time"]
    process(event_b, event_a)
    assert [e.email for e in store.waitlist(TABLE_NAME, SESSION_ID)] == [a, b]
    lines = waitlist_lines(tmp_path, capsys)
    assert lines[0].split()[:4] == ["1", f"{second:%Y-%m-%d}", f"{second:%H:%M:%S}.100", a]
    assert lines[1].split()[3] == b and lines[1].endswith("yes")

    (confirmation,) = emails_to(HOLDER, "confirmation")
    world.bus.received()
    cancel_by_link(world, confirmation, T0 + timedelta(hours=1))

    assert status_of(a) is RegistrationStatus.CONFIRMED
    assert status_of(b) is RegistrationStatus.WAITLISTED
    assert [m["X-KBS-Kind"] for m in emails_to(a)] == ["waitlist", "confirmation"]


def test_within_one_millisecond_the_order_is_the_order_of_booking(world: World) -> None:
    register(world, HOLDER, T0)
    same = T0 + timedelta(minutes=1, milliseconds=7)
    for email in ("c@example.org", "b@example.org", "a@example.org"):
        post(email, same)
    events = submitted(world)
    process(*reversed(events))  # delivered a, b, c: each takes the next sequence
    entries = store.waitlist(TABLE_NAME, SESSION_ID)
    assert [(e.email, e.sequence) for e in entries] == [
        ("a@example.org", 1),
        ("b@example.org", 2),
        ("c@example.org", 3),
    ]
    assert {e.joined_at for e in entries} == {same}


_PROPERTY_SESSIONS = itertools.count()


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    milliseconds=st.lists(st.integers(min_value=0, max_value=2), min_size=2, max_size=4),
    shuffle=st.randoms(use_true_random=False),
)
def test_any_arrival_the_list_is_request_time_then_booking_order(
    world: World, milliseconds: list[int], shuffle: Any
) -> None:
    """Submissions within one second (many within one millisecond), delivered in any order:
    the list is by request time, and within a millisecond by the order they were booked."""
    session_id = f"kbs-p{next(_PROPERTY_SESSIONS):04d}"
    put_session(TABLE_NAME, world.session.model_copy(update={"session_id": session_id}))
    sample = RegistrationSubmission.model_validate(
        load_event("bus/registration-submitted.json")["detail"]["data"]
    )
    holder = sample.model_copy(update={"sessions": [session_id], "submitted_at": T0})
    booking.process_submission(holder, now=T0, settings=get_settings())
    submissions = [
        sample.model_copy(
            update={
                "email": f"p{n}@example.org",
                "reference": f"KBS-PROP-{n:04d}",
                "sessions": [session_id],
                "submitted_at": T0 + timedelta(seconds=1, milliseconds=ms),
            }
        )
        for n, ms in enumerate(milliseconds)
    ]
    delivered = shuffle.sample(submissions, len(submissions))
    for one in delivered:
        booking.process_submission(one, now=T0 + timedelta(seconds=2), settings=get_settings())
    expected = sorted(delivered, key=lambda s: s.submitted_at)  # stable: booking order in ties
    assert [e.email for e in store.waitlist(TABLE_NAME, session_id)] == [
        s.email_key for s in expected
    ]


# --- 4. a place never goes to someone who cannot be told ------------------------------------


def test_an_unsubscribed_first_in_line_is_promoted_and_told_the_next_keeps_waiting(
    world: World,
) -> None:
    register(world, HOLDER, T0)
    first, second = "first@example.org", "second@example.org"
    register(world, first, T0 + timedelta(minutes=1))
    register(world, second, T0 + timedelta(minutes=2))
    (waitlisted,) = emails_to(first, "waitlist")
    one_click_unsubscribe(waitlisted, T0 + timedelta(minutes=3))
    assert suppression.get(TABLE_NAME, first).reason is suppression.Reason.UNSUBSCRIBED  # type: ignore[union-attr]

    world.bus.received()
    cancel_by_link(world, emails_to(HOLDER, "confirmation")[0], T0 + timedelta(hours=1))

    assert status_of(first) is RegistrationStatus.CONFIRMED
    assert status_of(second) is RegistrationStatus.WAITLISTED
    (promoted,) = emails_to(first, "confirmation")  # essential: the unsubscribe does not stop it
    assert "https://meet.example.org/kbs-01" in text_of(promoted)
    assert vevent(promoted)[0] == "REQUEST"


def test_a_bounced_first_in_line_is_passed_over_and_stays_on_the_list_marked(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register(world, HOLDER, T0)
    bounced, reachable = "gone@example.org", "here@example.org"
    register(world, bounced, T0 + timedelta(minutes=1))
    register(world, reachable, T0 + timedelta(minutes=2))
    suppression.suppress(TABLE_NAME, bounced, suppression.Reason.BOUNCED, T0 + timedelta(minutes=3))
    assert waitlist_lines(tmp_path, capsys)[0].endswith("no: bounced, passed over")

    world.bus.received()
    cancel_by_link(world, emails_to(HOLDER, "confirmation")[0], T0 + timedelta(hours=1))

    assert status_of(reachable) is RegistrationStatus.CONFIRMED
    assert status_of(bounced) is RegistrationStatus.WAITLISTED
    assert len(emails_to(reachable, "confirmation")) == 1
    assert emails_to(bounced, "confirmation") == []
    (line,) = waitlist_lines(tmp_path, capsys)
    assert line.split()[0] == "1" and bounced in line and line.endswith("no: bounced, passed over")


# --- 5. calendars follow every change of a place --------------------------------------------


def test_register_cancel_register_again_the_calendar_follows(world: World) -> None:
    person = "marta.novak@example.org"
    register(world, person, T0)
    (confirmation,) = emails_to(person, "confirmation")
    cancel_by_link(world, confirmation, T0 + timedelta(minutes=10))
    (cancelled,) = emails_to(person, "place-cancelled")
    register(world, person, T0 + timedelta(minutes=20))
    again = emails_to(person, "confirmation")[-1]

    request, cancel, request_again = (vevent(m) for m in (confirmation, cancelled, again))
    assert (request[:2], cancel[:2], request_again[:2]) == (
        ("REQUEST", "CONFIRMED"),
        ("CANCEL", "CANCELLED"),
        ("REQUEST", "CONFIRMED"),
    )
    assert request[2] == cancel[2] == request_again[2] == ics.uid(SESSION_ID, person)
    assert request[3] < cancel[3] < request_again[3]
    assert "meet.example.org" not in str(calendar(cancelled).to_ical())  # type: ignore[union-attr]


def test_register_erase_register_the_cancel_goes_first_and_sequence_still_rises(
    world: World, tmp_path: Path
) -> None:
    person = "marta.novak@example.org"
    register(world, person, T0)
    local = str(local_stack_file(tmp_path))
    assert main(["registrants", "erase", person, "--local", local]) == 0
    assert len(emails_to(person, "place-cancelled")) == 1  # sent before the address went
    assert store.get_registration(TABLE_NAME, SESSION_ID, person) is None
    register(world, person, datetime.now(UTC) + timedelta(seconds=2))

    sequence = [vevent(m) for m in emails_to(person) if calendar(m) is not None]
    assert [v[0] for v in sequence] == ["REQUEST", "CANCEL", "REQUEST"]
    assert len({v[2] for v in sequence}) == 1
    assert sequence[0][3] < sequence[1][3] < sequence[2][3]


def test_an_organiser_removes_a_place_with_a_reason_and_the_waiting_list_moves_up(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register(world, HOLDER, T0)
    register(world, "next@example.org", T0 + timedelta(minutes=1))
    world.bus.received()
    local = str(local_stack_file(tmp_path))
    capsys.readouterr()
    remove = ["registrants", "remove", SESSION_ID, HOLDER, "--reason", "Duplicate of a colleague"]
    assert main([*remove, "--local", local]) == 0
    assert f"removed {HOLDER} from {SESSION_ID}" in capsys.readouterr().out
    promote(world)

    (told,) = emails_to(HOLDER, "place-cancelled")
    assert "Motif : Duplicate of a colleague" in text_of(told)  # the sample registrant is French
    method, status, uid, _ = vevent(told)
    assert (method, status, uid) == ("CANCEL", "CANCELLED", ics.uid(SESSION_ID, HOLDER))
    assert status_of("next@example.org") is RegistrationStatus.CONFIRMED
    # Nothing left to remove: refused, nothing changes.
    assert main([*remove, "--local", local]) == 1
    assert len(emails_to(HOLDER)) == 2


# --- 7. registering again resends ----------------------------------------------------------


def test_registering_again_resends_the_confirmation_at_most_hourly_and_books_nothing(
    world: World,
) -> None:
    person = "lost.the.link@example.org"
    first = register(world, person, T0)
    (confirmation,) = emails_to(person)
    again = register(world, person, T0 + timedelta(minutes=10))
    assert again != first
    assert store.reference_registrations(TABLE_NAME, again) == []  # never stored
    assert world.bus.received("Registration Confirmed") == []  # nothing new announced

    resent = emails_to(person)[-1]
    assert len(emails_to(person)) == 2 and resent["X-KBS-Kind"] == "confirmation"
    assert first in text_of(resent) and again not in text_of(resent)
    assert vevent(resent)[2] == vevent(confirmation)[2]
    assert link_token(resent) == link_token(confirmation)

    register(world, person, T0 + timedelta(minutes=40))  # same hour: nothing more
    assert len(emails_to(person)) == 2
    register(world, person, T0 + timedelta(hours=1, minutes=5))
    assert len(emails_to(person)) == 3
    registration = store.get_registration(TABLE_NAME, SESSION_ID, person)
    assert registration is not None and registration.reference == first


def test_the_confirmation_page_says_registered_people_get_their_details_again() -> None:
    page = pages.confirmation_page("KBS-ABCD-EFGH", [])
    assert "already registered, we email you your details again" in page


def test_each_waitlist_email_gives_the_place_in_line_by_request_time_when_it_is_sent(
    world: World,
) -> None:
    """The session (one place) is full; three more ask, a minute apart, and the queue delivers
    the third before the second: each email gives the place in line by request time at the
    moment it is sent (the second, delivered last, is still number 2)."""
    register(world, HOLDER, T0)
    waiting = [f"waiting.{n}@example.org" for n in (1, 2, 3)]
    for n, email in enumerate(waiting):
        post(email, T0 + timedelta(minutes=5 + n))
    first, second, third = submitted(world)

    process(first, third, second)

    told = {}
    for email in waiting:
        (message,) = emails_to(email, "waitlist")
        # the JSON sample registers in French
        told[email] = re.findall(r"Vous êtes numéro (\d+) sur la liste\.", text_of(message))
    assert told == {waiting[0]: ["1"], waiting[1]: ["2"], waiting[2]: ["2"]}


@pytest.mark.parametrize(
    "command",
    [
        ["waitlist", "list", "kbs-99-nosuch"],
        ["certificates", "list", "kbs-99-nosuch"],
        ["materials", "list", "kbs-99-nosuch"],
    ],
)
def test_a_listing_of_an_unknown_session_is_refused_not_empty(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code = main([*command, "--local", str(local_stack_file(tmp_path))])

    printed = capsys.readouterr()
    assert code == 2
    assert "no session kbs-99-nosuch" in printed.err and printed.out == ""
    assert main(["waitlist", "list", SESSION_ID, "--local", str(tmp_path)]) == 0  # a real one
