"""The session lifecycle on moto: reminders, start, end, reschedule and cancel, fan-out.

The clock, session events and email sender run as Lambda would run them
(:mod:`tests.integration.lifecycle_harness`); every email is counted at moto's SES.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from boto3.dynamodb.conditions import ConditionExpressionBuilder
from botocore.exceptions import ClientError

from shared.mail import ics
from shared.notices import fanout, kinds, sender
from shared.notices.kinds import NoticeKind
from shared.platform import keys
from shared.platform.clients import client, table
from shared.platform.event_types import SESSION_STARTED, SESSION_UPDATED
from shared.platform.events import publish
from shared.platform.settings import get_settings
from shared.privacy import retention
from shared.programme import lifecycle, milestones
from shared.programme.models import Session, SessionStatus
from shared.programme.repository import get_session
from shared.registrations.models import RegistrationStatus
from tests.conftest import BUS_NAME, TABLE_NAME, load_event
from tests.integration.lifecycle_harness import (
    SIGNED_UP,
    START,
    Lifecycle,
    part,
    recipients,
    registration,
    sample_session,
    sent_emails,
)

T24 = START - timedelta(hours=24)
T1 = START - timedelta(hours=1)
END = START + timedelta(minutes=90)
MINUTES = timedelta(minutes=1)
REMINDERS = ("reminder-24h", "reminder-1h")


@pytest.fixture
def life(aws: None, monkeypatch: pytest.MonkeyPatch) -> Lifecycle:
    return Lifecycle(monkeypatch)


@pytest.fixture
def session(life: Lifecycle) -> Session:
    return life.schedule(sample_session())


def emails(n: int) -> list[str]:
    """The addresses of registrants ``0 .. n-1``."""
    return [registration("kbs-any", i).email for i in range(n)]


def calendar(message: Any) -> str:
    text = part(message, "text/calendar")
    assert text is not None, "no .ics attached"
    return text


def sequence(invite: str) -> int:
    """The SEQUENCE of an ``.ics``: the time of the change it tells of (``ics.sequence_at``)."""
    (found,) = re.findall(r"^SEQUENCE:(\d+)\r$", invite, re.MULTILINE)
    return int(found)


def body(message: Any) -> str:
    return (part(message, "text/plain") or "") + (part(message, "text/html") or "")


def test_given_registrants_when_the_clock_ticks_through_the_day_then_each_gets_every_notice_once(
    life: Lifecycle, session: Session
) -> None:
    life.register(
        registration(session.session_id, 0),
        registration(session.session_id, 1, timezone=None),
    )

    life.tick(T24)
    life.tick(T1)
    life.tick(START)
    assert get_session(TABLE_NAME, session.session_id).session.status is SessionStatus.LIVE
    life.tick(END)

    assert get_session(TABLE_NAME, session.session_id).session.status is SessionStatus.ENDED
    for kind in (*REMINDERS, "live", "follow-up"):
        assert recipients(kind) == dict.fromkeys(emails(2), 1), kind
    join = str(session.join_url)
    for message in sent_emails("reminder-24h") + sent_emails("reminder-1h"):
        email = message["To"].addresses[0].addr_spec
        invite = calendar(message)
        assert "METHOD:REQUEST" in invite
        assert sequence(invite) in (ics.sequence_at(T24), ics.sequence_at(T1))
        assert f"UID:{ics.uid(session.session_id, email)}" in invite
        assert join in body(message)
        zone = "(Europe/Stockholm)" if email == emails(1)[0] else "(Europe/Brussels)"
        assert f"10:00\u201311:30 CET {zone}" in body(message)
    assert sent_emails("reminder-1h")[0]["Subject"] == f"Starting soon: {session.title}"
    (live, *_) = sent_emails("live")
    assert join in body(live) and part(live, "text/calendar") is None
    (follow_up, *_) = sent_emails("follow-up")
    assert "mailto:series@example.org?subject=Feedback" in body(follow_up)
    assert join not in body(follow_up)
    assert life.failed == {"session_events": 0, "email_sender": 0}


def test_given_ticks_late_twice_and_out_of_order_then_each_reminder_is_sent_exactly_once(
    life: Lifecycle, session: Session
) -> None:
    life.register(*(registration(session.session_id, n) for n in range(3)))
    ticks = [
        T24 + 10 * MINUTES,  # late
        T24 + 10 * MINUTES,  # the same tick twice
        T24 + 15 * MINUTES,
        T24,  # an older tick, delivered after newer ones
        T1 + 5 * MINUTES,
        T24 + 5 * MINUTES,  # out of order, after the 1-hour reminder
        T1,
        START - 5 * MINUTES,
    ]

    reports = [life.tick(at) for at in ticks]

    for kind in REMINDERS:
        assert recipients(kind) == dict.fromkeys(emails(3), 1), kind
    fired = [label for report in reports for label in report["fired"]]
    assert fired == [f"{session.session_id} reminder-24h", f"{session.session_id} reminder-1h"]
    assert recipients("live") == {}


def test_given_the_clock_missed_runs_then_a_late_reminder_is_sent_and_a_stale_one_skipped(
    life: Lifecycle, session: Session
) -> None:
    life.register(registration(session.session_id, 0))

    late = life.tick(T24 + timedelta(hours=6))  # still a day ahead: worth sending
    after_start = life.tick(START + 10 * MINUTES)  # the 1-hour reminder would be stale
    replayed = life.tick(T1)  # a tick for the missed moment arrives after all

    assert late["fired"] == [f"{session.session_id} reminder-24h"]
    assert after_start["skipped"] == [f"{session.session_id} reminder-1h"]
    assert replayed == {"fired": [], "skipped": []}
    assert recipients("reminder-24h") == dict.fromkeys(emails(1), 1)
    assert recipients("reminder-1h") == {}
    assert recipients("live") == dict.fromkeys(emails(1), 1)


@pytest.mark.parametrize("silence", [timedelta(days=8), timedelta(days=15), timedelta(days=400)])
def test_given_the_clock_missed_a_whole_session_then_it_is_ended_without_stale_emails(
    life: Lifecycle, session: Session, silence: timedelta
) -> None:
    """A clock down (or a simulated clock jumping) for longer than every window: the session
    is still ended, each milestone reported skipped, and no email goes out weeks late."""
    life.register(registration(session.session_id, 0))
    before = life.tick(T24 - 10 * MINUTES)  # the last tick before the silence

    after = life.tick(END + silence)
    replayed = life.tick(END + silence + 5 * MINUTES)

    assert before == {"fired": [], "skipped": []}
    milestones_ = ("reminder-24h", "reminder-1h", "start", "end")
    assert after == {"fired": [], "skipped": [f"{session.session_id} {m}" for m in milestones_]}
    assert replayed == {"fired": [], "skipped": []}
    assert get_session(TABLE_NAME, session.session_id).session.status is SessionStatus.ENDED
    assert all(recipients(kind) == {} for kind in ("reminder-24h", "reminder-1h", "live"))
    assert recipients("follow-up") == {}


def test_given_late_cancelled_and_waitlisted_registrants_then_none_gets_a_stale_or_unwanted_email(
    life: Lifecycle, session: Session
) -> None:
    sid = session.session_id
    on_time, late, cancelled, waitlisted, cancels_later = (registration(sid, n) for n in range(5))
    late = registration(sid, 1, registered_at=T24 + timedelta(hours=2))
    waitlisted = registration(sid, 3, status=RegistrationStatus.WAITLISTED)
    life.register(on_time, late, cancelled, waitlisted, cancels_later)
    life.set_status(sid, cancelled.email, RegistrationStatus.CANCELLED)

    life.tick(T24, deliver=False)  # fanned out, not sent yet
    life.set_status(sid, cancels_later.email, RegistrationStatus.CANCELLED)  # in between
    life.settle()
    life.tick(T1)
    life.tick(START)

    assert recipients("reminder-24h") == {on_time.email: 1}  # the late one signed up after it
    assert recipients("reminder-1h") == {on_time.email: 1, late.email: 1}
    assert recipients("live") == {on_time.email: 1, late.email: 1}
    never = {cancelled.email, waitlisted.email, cancels_later.email}
    assert never.isdisjoint(m["To"].addresses[0].addr_spec for m in sent_emails())


def test_given_a_reschedule_then_registrants_get_the_new_time_and_reminders_follow_it(
    life: Lifecycle, session: Session
) -> None:
    life.register(registration(session.session_id, 0))
    life.tick(T24)  # the first 24-hour reminder went out
    new_start = START + timedelta(days=7)

    moved = lifecycle.reschedule(
        TABLE_NAME, BUS_NAME, session.session_id, new_start, now=T24 + timedelta(hours=1)
    )
    life.settle()
    replay = lifecycle.session_event(SESSION_UPDATED, moved, time=T24 + timedelta(hours=2))
    publish([replay], BUS_NAME)
    life.settle()
    for at in (T1, START, END):  # the old times: nothing happens
        assert life.tick(at) == {"fired": [], "skipped": []}
    for at in (new_start - timedelta(hours=24), new_start - timedelta(hours=1)):
        life.tick(at)

    (email,) = emails(1)
    (update,) = sent_emails("update")
    invite = calendar(update)
    assert update["Subject"] == f"New time: {session.title}"
    assert "METHOD:REQUEST" in invite
    assert sequence(invite) == ics.sequence_at(T24 + timedelta(hours=1))  # the reschedule's
    assert f"UID:{ics.uid(session.session_id, email)}" in invite
    assert "DTSTART:20261208T090000Z" in invite
    assert "Tuesday 8 December 2026" in body(update)
    assert recipients("reminder-24h") == {email: 2}  # the old time's, then the new time's
    assert recipients("reminder-1h") == {email: 1}
    first, second = sent_emails("reminder-24h")
    assert sequence(calendar(first)) < sequence(invite) < sequence(calendar(second))
    assert "Tuesday 8 December 2026" in body(second)
    assert recipients("live") == {}
    # and the registration's personal data is kept the retention period from the new end.
    key = {"PK": keys.session_pk(session.session_id), "SK": keys.registration_sk(email)}
    kept = table(TABLE_NAME).get_item(Key=key)["Item"][retention.TTL_ATTRIBUTE]
    assert kept == retention.expiration(moved, get_settings().retention_days)


def test_given_a_cancellation_then_registrants_get_a_calendar_cancel_and_nothing_after(
    life: Lifecycle, session: Session
) -> None:
    confirmed = registration(session.session_id, 0)
    waitlisted = registration(session.session_id, 1, status=RegistrationStatus.WAITLISTED)
    life.register(confirmed, waitlisted)

    cancelled = lifecycle.cancel(
        TABLE_NAME, BUS_NAME, session.session_id, "Speaker unwell", now=T24 - MINUTES
    )
    life.settle()
    again = lifecycle.cancel(TABLE_NAME, BUS_NAME, session.session_id, "Speaker unwell", now=T24)
    life.settle()
    reports = [life.tick(at) for at in (T24, T1, START, END)]

    assert cancelled.status is SessionStatus.CANCELLED and cancelled.sequence == 1
    assert again == cancelled  # announced again, not changed again
    assert recipients("cancellation") == {confirmed.email: 1, waitlisted.email: 1}
    to_confirmed, to_waitlisted = sorted(
        sent_emails("cancellation"), key=lambda m: m["To"].addresses[0].addr_spec
    )
    invite = calendar(to_confirmed)
    assert "METHOD:CANCEL" in invite and "STATUS:CANCELLED" in invite
    assert sequence(invite) == ics.sequence_at(T24 - MINUTES)  # later than any invitation
    assert f"UID:{ics.uid(session.session_id, confirmed.email)}" in invite
    assert 'method="CANCEL"' in str(to_confirmed)
    assert "Reason: Speaker unwell" in body(to_confirmed)
    assert part(to_waitlisted, "text/calendar") is None  # they never had an invitation
    assert all(report == {"fired": [], "skipped": []} for report in reports)
    assert len(sent_emails()) == 2


@pytest.fixture
def throttled_sends() -> Iterator[set[int]]:
    """SES calls (numbered from 1) that fail with throttling, as SES does beyond the rate."""
    failing: set[int] = set()
    calls = itertools.count(1)

    def throttle(**_: Any) -> None:
        if next(calls) in failing:
            error = {
                "Code": "TooManyRequestsException",
                "Message": "Maximum sending rate exceeded.",
            }
            raise ClientError({"Error": error}, "SendEmail")

    events = client("sesv2").meta.events
    events.register("before-call.sesv2.SendEmail", throttle)
    yield failing
    events.unregister("before-call.sesv2.SendEmail", throttle)


def test_given_ses_throttles_batch_two_when_its_retry_runs_then_everyone_gets_one_reminder(
    life: Lifecycle, session: Session, throttled_sends: set[int]
) -> None:
    life.register(*(registration(session.session_id, n) for n in range(120)))
    throttled_sends.update({61, 62})  # the 11th send of the second batch of 50

    report = life.tick(T24, deliver=False)
    batches = life.queued_batches()
    life.settle()  # batch two fails, comes back, and completes

    assert report["fired"] == [f"{session.session_id} reminder-24h"]
    assert [len(b["recipients"]) for b in batches] == [50, 50, 20]  # ceil(120 / 50) batches
    assert life.failed["email_sender"] == 2  # throttled again on its first retry
    assert recipients("reminder-24h") == dict.fromkeys(emails(120), 1)

    # A fan-out enqueued again (a dispatcher that died before recording it) sends nothing.
    fanout.fan_out(
        TABLE_NAME,
        get_settings().email_batches_queue_url,
        NoticeKind.REMINDER_24H,
        session,
        moment=T24,
    )
    life.settle()
    assert len(sent_emails("reminder-24h")) == 120


def test_given_an_organiser_starts_the_session_then_the_clock_does_not_start_it_again(
    life: Lifecycle, session: Session
) -> None:
    life.register(registration(session.session_id, 0))

    lifecycle.start(TABLE_NAME, BUS_NAME, session.session_id, now=START - 10 * MINUTES)
    life.settle()
    replay = lifecycle.session_event(SESSION_STARTED, session, time=START - 9 * MINUTES)
    publish([replay], BUS_NAME)
    life.settle()
    at_start = life.tick(START)

    assert get_session(TABLE_NAME, session.session_id).session.status is SessionStatus.LIVE
    assert at_start == {"fired": [], "skipped": []}
    assert recipients("live") == dict.fromkeys(emails(1), 1)


def test_organiser_changes_refused_say_why(life: Lifecycle, session: Session) -> None:
    with pytest.raises(lifecycle.ChangeRefusedError, match="in the future"):
        lifecycle.reschedule(TABLE_NAME, BUS_NAME, session.session_id, T1, now=START)
    with pytest.raises(lifecycle.ChangeRefusedError, match="from an hour before"):
        lifecycle.start(TABLE_NAME, BUS_NAME, session.session_id, now=T24)
    lifecycle.cancel(TABLE_NAME, BUS_NAME, session.session_id, "Postponed", now=T24)
    with pytest.raises(lifecycle.ChangeRefusedError, match="cancelled: only an open session"):
        lifecycle.reschedule(TABLE_NAME, BUS_NAME, session.session_id, END, now=T24)
    with pytest.raises(lifecycle.ChangeRefusedError, match="cancelled: it cannot start"):
        lifecycle.start(TABLE_NAME, BUS_NAME, session.session_id, now=START)


def test_given_two_workers_claim_a_milestone_then_one_wins_and_a_crashed_claim_expires(
    session: Session,
) -> None:
    version = "2026-12-01T09:00:00.000000Z"
    statuses = {SessionStatus.OPEN}

    def claim(at: float) -> str | None:
        return milestones.claim(
            TABLE_NAME, session, "start", version, statuses=statuses, clock=lambda: at
        )

    first, second = claim(1000), claim(1001)
    taken_over = claim(1000 + milestones.LEASE_SECONDS + 1)  # the first worker crashed

    assert first and second is None and taken_over
    assert not milestones.complete(TABLE_NAME, session.session_id, "start", version, first)
    assert milestones.complete(TABLE_NAME, session.session_id, "start", version, taken_over)
    assert claim(10**9) is None  # done
    assert not milestones.skip(TABLE_NAME, session.session_id, "start", version)
    stale = session.model_copy(update={"sequence": 7})  # read before a change
    assert milestones.claim(TABLE_NAME, stale, "live", version, statuses=statuses) is None


def test_the_clock_reads_only_the_programme_near_now_with_a_query_and_no_scan(
    life: Lifecycle, session: Session
) -> None:
    far = life.schedule(sample_session("kbs-02-later", start=START + timedelta(days=30)))
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params))

    events = table(TABLE_NAME).meta.client.meta.events
    events.register("provide-client-params.dynamodb.*", record)
    try:
        life.tick(T24 - timedelta(hours=1))  # nothing due
    finally:
        events.unregister("provide-client-params.dynamodb.*", record)

    assert calls and {name for name, _ in calls} == {"Query"}  # never a Scan
    built = [
        (params, ConditionExpressionBuilder().build_expression(key, is_key_condition=True))
        for _, params in calls
        if (key := params["KeyConditionExpression"])
    ]
    ((programme, condition),) = [
        (params, condition)
        for params, condition in built
        if "PROGRAMME" in condition.attribute_value_placeholders.values()
    ]
    assert programme["IndexName"] == "GSI1"
    assert "BETWEEN" in condition.condition_expression
    bounds = set(condition.attribute_value_placeholders.values()) - {"PROGRAMME"}
    latest = max(str(v) for v in bounds)
    assert latest == "2026-12-01T08:00:00Z"  # a day ahead of the tick: the earliest reminder
    assert latest < keys.sortable_time(far.start)


def test_the_pace_spaces_sends_by_the_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pace = sender.Pace(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        pace.wait()
        pace.sent()
    unpaced = sender.Pace(0, clock=lambda: now[0], sleep=sleep)
    unpaced.wait()
    unpaced.sent()
    unpaced.wait()

    assert slept == [0.25, 0.25]


def test_a_malformed_batch_fails_alone_and_its_addresses_are_not_logged(
    life: Lifecycle, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    from functions.email_sender.handler import handler
    from tests.support import Context, sqs_batch

    good = kinds.EmailBatch(
        kind=NoticeKind.REMINDER_24H,
        session_id=session.session_id,
        version=kinds.version(NoticeKind.REMINDER_24H, session),
        moment=T24,
        recipients=emails(1),
    ).model_dump_json()
    life.register(registration(session.session_id, 0))
    bad = json.dumps({"kind": "spam", "recipients": ["leaky.address@example.net"]})
    event = sqs_batch(good, bad)

    response = handler(event, Context())

    assert response["batchItemFailures"] == [{"itemIdentifier": event["Records"][1]["messageId"]}]
    assert recipients("reminder-24h") == dict.fromkeys(emails(1), 1)
    logged = " ".join(str(vars(r)) for r in caplog.records).lower()
    assert "leaky.address" not in logged and "buyer.0@" not in logged


def test_the_samples_are_what_the_handlers_read() -> None:
    from functions.session_clock.handler import Tick
    from functions.session_events.handler import SessionEvent

    (record,) = load_event("sqs/email-batches.json")["Records"]
    batch = kinds.EmailBatch.model_validate_json(record["body"])
    assert batch.kind is NoticeKind.REMINDER_24H and len(batch.recipients) == 1
    for name in ("started", "ended", "updated"):
        event = SessionEvent.model_validate(load_event(f"bus/session-{name}.json"))
        assert event.detail.metadata.idempotency_key.startswith(f"session-{name}#")
    tick = Tick.model_validate(load_event("schedule/session-clock.json"))
    assert tick.time.tzinfo is not None
    assert SIGNED_UP < T24
