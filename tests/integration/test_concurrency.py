"""Concurrent bookings against moto in server mode: never overbooked, every email sent once.

Each thread is one processor invocation with its own requests in flight, as concurrent
Lambdas would be. moto's TransactWriteItems snapshots and restores whole tables, so under
concurrent *requests* it loses writes that real DynamoDB would keep; the server here handles
one request at a time (each DynamoDB call atomic, as in AWS) while the callers interleave
freely between calls, which is where the races live.
"""

from __future__ import annotations

import threading
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email import message_from_string, policy
from functools import partial
from typing import Any, TypeVar

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from kbs.local.provisioning import create_table
from shared.mail import sending
from shared.platform import clients
from shared.platform.settings import Settings, get_settings
from shared.programme.models import Session
from shared.programme.repository import get_session, put_session
from shared.registrations import booking, store
from shared.registrations.models import RegistrationStatus, RegistrationSubmission
from tests.conftest import BUS_NAME, REGION, SENDER, TABLE_NAME, load_event

SAMPLE = load_event("bus/registration-submitted.json")
SUBMISSION = RegistrationSubmission.model_validate(SAMPLE["detail"]["data"])
NOW = SUBMISSION.submitted_at
SESSION_ID = "kbs-07-monitoring"
CAPACITY = 10
REGISTRANTS = 50

T = TypeVar("T")


class SerialMotoServer:
    """moto's server on a free loopback port, handling one request at a time."""

    def __init__(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def one_at_a_time(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            with lock:
                return list(app(environ, start_response))

        self._server = make_server(
            "127.0.0.1", 0, one_at_a_time, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> SerialMotoServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._thread.join()


@pytest.fixture
def server(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A fresh moto server with the table, the bus and a verified sender; our settings."""
    with SerialMotoServer() as moto:
        reset = urllib.request.Request(f"{moto.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset).close()  # the backends live in this process
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
        clients.reset()
        create_table(TABLE_NAME)
        clients.client("events").create_event_bus(Name=BUS_NAME)
        clients.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        put_session(
            TABLE_NAME,
            Session(
                session_id=SESSION_ID,
                title="Worker-driven monitoring and grievance mechanisms",
                kind="workshop",
                category="Cross-category",
                start=NOW + timedelta(days=7),
                timezone="Europe/Dublin",
                capacity=CAPACITY,
                join_url="https://meet.example.org/kbs-07",
            ),
        )
        get_settings.cache_clear()
        yield get_settings()
        urllib.request.urlopen(reset).close()
    clients.reset()


def submission(n: int) -> RegistrationSubmission:
    return SUBMISSION.model_copy(
        update={
            "email": f"Buyer.{n:02d}@Example.org",
            "reference": f"KBS-CONC-{n:04d}",
            "sessions": [SESSION_ID],
        }
    )


def all_at_once(calls: Sequence[Callable[[], T]]) -> list[T | BaseException]:
    """Run every call in its own thread, released together; results or exceptions."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | BaseException:
        barrier.wait()
        try:
            return call()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def sent() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def test_fifty_registrants_for_ten_places(server: Settings) -> None:
    results = all_at_once(
        [
            partial(booking.process_submission, submission(n), now=NOW, settings=server)
            for n in range(REGISTRANTS)
        ]
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    outcomes = Counter(o.outcome for r in results if isinstance(r, list) for o in r)
    assert outcomes == {booking.Outcome.CONFIRMED: CAPACITY, booking.Outcome.WAITLISTED: 40}

    # Counters and items agree.
    availability = get_session(TABLE_NAME, SESSION_ID)
    assert (availability.confirmed, availability.waitlisted) == (CAPACITY, 40)
    registrations = store.session_registrations(TABLE_NAME, SESSION_ID)
    statuses = Counter(r.status for r in registrations)
    assert statuses == {RegistrationStatus.CONFIRMED: 10, RegistrationStatus.WAITLISTED: 40}
    waiting = store.waitlist(TABLE_NAME, SESSION_ID)
    assert {w.email for w in waiting} == {
        r.email for r in registrations if r.status is RegistrationStatus.WAITLISTED
    }

    # One email each: ten invitations with the join link, forty waitlist notices.
    messages = [message_from_string(m.raw_data, policy=policy.default) for m in sent()]
    recipients = Counter(m["To"].addresses[0].addr_spec for m in messages)
    assert len(messages) == REGISTRANTS and set(recipients.values()) == {1}
    invitations = [
        m for m in messages if any(p.get_content_type() == "text/calendar" for p in m.walk())
    ]
    assert len(invitations) == CAPACITY
    confirmed = {r.email for r in registrations if r.status is RegistrationStatus.CONFIRMED}
    assert {m["To"].addresses[0].addr_spec for m in invitations} == confirmed


def test_the_same_submission_delivered_concurrently_is_booked_and_sent_once(
    server: Settings,
) -> None:
    """Duplicate deliveries race: one books, the others see it; one email in the end."""
    one = submission(1)
    results = all_at_once([partial(booking.process_submission, one, now=NOW, settings=server)] * 8)
    # A delivery that finds another one mid-send fails and is redelivered later by SQS.
    for result in results:
        if isinstance(result, BaseException):
            assert isinstance(result, sending.SendInProgressError)
    for _ in results:
        booking.process_submission(one, now=NOW, settings=server)

    assert len(store.session_registrations(TABLE_NAME, SESSION_ID)) == 1
    assert get_session(TABLE_NAME, SESSION_ID).confirmed == 1
    assert len(sent()) == 1


def test_concurrent_cancellations_fill_freed_places_from_the_waiting_list_in_order(
    server: Settings,
) -> None:
    """Confirmed registrants cancel, and waitlisted ones leave, all at once; each request is
    followed by its promotion run, as the "Registration Cancelled" event would trigger it."""
    from shared.platform import keys
    from shared.registrations import cancellation, waitlist
    from shared.web import links

    waiting, cancelling, later = 15, 8, NOW + timedelta(days=1)
    for n in range(CAPACITY + waiting):  # booked one after the other: a known waitlist order
        booking.process_submission(submission(n), now=NOW + timedelta(seconds=n), settings=server)
    emails = [submission(n).email_key for n in range(CAPACITY + waiting)]
    places, queue = emails[:CAPACITY], emails[CAPACITY:]
    assert [entry.email for entry in store.waitlist(TABLE_NAME, SESSION_ID)] == queue
    sent_before = len(sent())
    leaving = [queue[1], queue[4], queue[12]]  # two would be promoted, one would not

    def token(email: str) -> str:
        registration = store.get_registration(TABLE_NAME, SESSION_ID, email)
        assert registration is not None
        claims = links.LinkClaims(
            links.CANCEL,
            registration.reference,
            SESSION_ID,
            links.email_hash(email),
            later + timedelta(days=30),
        )
        return links.sign(claims, server.link_secret.encode())

    def cancel_then_promote(email: str) -> list[Any]:
        cancellation.cancel(token(email), now=later, settings=server)
        return waitlist.promote_waitlisted(SESSION_ID, now=later, settings=server)

    def promote_again() -> list[Any]:
        return waitlist.promote_waitlisted(SESSION_ID, now=later, settings=server)

    most, watching = 0, threading.Event()

    def watch() -> None:
        nonlocal most
        while not watching.is_set():
            most = max(most, get_session(TABLE_NAME, SESSION_ID).confirmed)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = all_at_once(
            [partial(cancel_then_promote, e) for e in places[:cancelling] + leaving]
            + [promote_again] * 4  # events delivered twice, as SQS may
        )
    finally:
        watching.set()
        watcher.join()
    # A run that met another one mid-send fails; SQS delivers its event again later.
    for result in results:
        if isinstance(result, BaseException):
            assert isinstance(result, sending.SendInProgressError), repr(result)
            waitlist.promote_waitlisted(SESSION_ID, now=later, settings=server)

    # Never more than the capacity, and every freed place filled from the list, in order.
    stayed = [e for e in queue if e not in leaving]
    promoted, still_waiting = stayed[:cancelling], stayed[cancelling:]
    assert most <= CAPACITY
    registrations = {r.email: r.status for r in store.session_registrations(TABLE_NAME, SESSION_ID)}
    assert {e for e, s in registrations.items() if s is RegistrationStatus.CONFIRMED} == {
        *places[cancelling:],
        *promoted,
    }
    assert {e for e, s in registrations.items() if s is RegistrationStatus.CANCELLED} == {
        *places[:cancelling],
        *leaving,
    }
    assert [entry.email for entry in store.waitlist(TABLE_NAME, SESSION_ID)] == still_waiting

    # Counters and items agree; no promotion left half done.
    availability = get_session(TABLE_NAME, SESSION_ID)
    statuses = Counter(registrations.values())
    assert availability.confirmed == statuses[RegistrationStatus.CONFIRMED] == CAPACITY
    assert availability.waitlisted == statuses[RegistrationStatus.WAITLISTED] == len(still_waiting)
    notices = clients.table(TABLE_NAME).query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :notice)",
        ExpressionAttributeValues={
            ":pk": keys.session_pk(SESSION_ID),
            ":notice": keys.PROMOTION_SK_PREFIX,
        },
    )["Items"]
    assert notices == []

    # One confirmation per promoted registrant (a leaver promoted just before leaving may have
    # had one too), with the join link; nothing to anyone else.
    # Everyone who cancelled or left was told so, once.
    everything = [
        message_from_string(m.raw_data, policy=policy.default) for m in sent()[sent_before:]
    ]
    told = Counter(
        m["To"].addresses[0].addr_spec for m in everything if m["X-KBS-Kind"] == "place-cancelled"
    )
    assert told == dict.fromkeys([*places[:cancelling], *leaving], 1)
    messages = [m for m in everything if m["X-KBS-Kind"] != "place-cancelled"]
    recipients = Counter(m["To"].addresses[0].addr_spec for m in messages)
    assert set(recipients.values()) == {1}
    assert set(promoted) <= set(recipients) <= {*promoted, *leaving}
    for message in messages:
        assert message["X-KBS-Kind"] == "confirmation"
        assert "https://meet.example.org/kbs-07" in message.get_body(("plain",)).get_content()
