"""Injected faults end, after the retries AWS makes, with every registration stored once and
every email sent once, and never a 500 from the API (:mod:`tests.integration.fault_harness`).
"""

from __future__ import annotations

from collections import Counter

import pytest

from shared.mail import sending
from shared.platform.clients import client, table
from shared.platform.events import MAX_ATTEMPTS
from tests.conftest import TABLE_NAME
from tests.integration.fault_harness import (
    POLICY,
    VISIBILITY_SECONDS,
    PartialPutEvents,
    Pipeline,
    ProcessDied,
    client_error,
    fail_calls,
)
from tests.support import sent_emails

REGISTRANTS = [f"buyer.{n}@authority.example.eu" for n in range(12)]  # two batches


@pytest.fixture
def pipeline(aws: None) -> Pipeline:
    return Pipeline()


def register_everyone(pipeline: Pipeline, sessions: list[str]) -> None:
    """Each registrant posts the form until it is accepted (a 503 asks them to retry)."""
    for email in REGISTRANTS:
        for _ in range(3):
            reply = pipeline.post(email, sessions)
            assert reply.status in (202, 503), reply
            if reply.status == 202:
                break
        else:
            pytest.fail(f"{email} was never accepted")


def assert_each_registered_and_confirmed_once(pipeline: Pipeline, sessions: list[str]) -> None:
    expected = Counter((sid, email) for sid in sessions for email in REGISTRANTS)
    assert pipeline.registrations() == expected
    counters = pipeline.confirmed_counters()
    assert {sid: counters[sid] for sid in sessions} == dict.fromkeys(sessions, len(REGISTRANTS))
    emails = pipeline.emails()
    assert set(emails.values()) == {1}, "an email went out twice"
    # one confirmation per submission, with one invitation per session
    confirmations = Counter(to for to, kind, _ in emails if kind == "confirmation")
    assert confirmations == dict.fromkeys(REGISTRANTS, 1)
    invitations = Counter(
        m["To"].addresses[0].addr_spec
        for m in sent_emails()
        for part in m.walk()
        if part.get_content_type() == "text/calendar"
    )
    assert invitations == dict.fromkeys(REGISTRANTS, len(sessions))
    assert pipeline.dead_letters() == 0


def test_given_dynamodb_throttles_booking_transactions_when_redelivered_then_each_books_once(
    pipeline: Pipeline,
) -> None:
    sessions = pipeline.session_ids[:2]
    dynamodb = table(TABLE_NAME).meta.client
    throttled = {
        1: client_error("ThrottlingException", "TransactWriteItems"),
        2: client_error(
            "TransactionCanceledException",
            "TransactWriteItems",
            CancellationReasons=[{"Code": "ThrottlingError"}, {"Code": "None"}],
        ),
        5: client_error("ProvisionedThroughputExceededException", "TransactWriteItems"),
        13: client_error("ThrottlingException", "TransactWriteItems"),  # a second session's
    }
    calls = fail_calls(dynamodb, "TransactWriteItems", throttled)
    register_everyone(pipeline, sessions)

    pipeline.deliver()

    assert pipeline.failed_records == len(throttled)
    assert calls["calls"] == len(REGISTRANTS) * len(sessions) + len(throttled)
    assert_each_registered_and_confirmed_once(pipeline, sessions)


def test_given_ses_throttles_confirmations_when_redelivered_then_each_is_sent_once(
    pipeline: Pipeline,
) -> None:
    sessions = pipeline.session_ids[:2]
    too_many = client_error("TooManyRequestsException", "SendEmail")
    fail_calls(client("sesv2"), "SendEmail", {2: too_many, 3: too_many, 11: too_many})
    register_everyone(pipeline, sessions)

    pipeline.deliver()

    assert pipeline.failed_records == 3
    assert_each_registered_and_confirmed_once(pipeline, sessions)


def test_given_the_process_dies_after_a_booking_before_its_email_then_the_retry_sends_it_once(
    pipeline: Pipeline,
) -> None:
    """The whole batch comes back after the visibility timeout; the booked records replay as
    duplicates, and the one whose email never went out sends it once its claim has lapsed."""
    assert sending.LEASE_SECONDS < VISIBILITY_SECONDS, "a lapsed claim must be free at redelivery"
    sessions = pipeline.session_ids[:1]
    fail_calls(client("sesv2"), "SendEmail", {4: ProcessDied("killed"), 11: ProcessDied("oom")})
    register_everyone(pipeline, sessions)

    pipeline.deliver()

    assert pipeline.crashes == 2
    assert_each_registered_and_confirmed_once(pipeline, sessions)


def test_given_a_crash_the_claim_blocks_retries_until_its_lease_runs_out(
    pipeline: Pipeline,
) -> None:
    """Redelivered before the lease ends (no time passing), the record fails again and again
    and reaches the dead-letter queue rather than risk a second email."""
    sessions = pipeline.session_ids[:1]
    fail_calls(client("sesv2"), "SendEmail", {1: ProcessDied("killed")})
    register_everyone(pipeline, sessions)
    pipeline._time_passes = lambda: None  # type: ignore[method-assign] # redelivered at once

    pipeline.deliver()

    assert pipeline.dead_letters() == 1
    assert pipeline.failed_records == POLICY.max_receive_count - 1
    assert sum(pipeline.emails().values()) == len(REGISTRANTS) - 1
    assert sum(pipeline.registrations().values()) == len(REGISTRANTS)


def test_given_put_events_rejects_the_submission_then_the_api_retries_or_answers_503(
    pipeline: Pipeline,
) -> None:
    """Rejected once or twice, the API resends within the request (202); rejected on every
    attempt, it answers 503 and nothing is recorded until the registrant tries again."""
    sessions = pipeline.session_ids[:2]
    rejections: Counter[str] = Counter()
    budget = {REGISTRANTS[0]: 2, REGISTRANTS[1]: 99, REGISTRANTS[5]: MAX_ATTEMPTS}

    def rejects(entry: dict[str, object]) -> bool:
        detail = str(entry["Detail"])
        for email, times in budget.items():
            if email in detail and rejections[email] < times:
                rejections[email] += 1
                return True
        return False

    injected = PartialPutEvents(rejects)
    statuses: Counter[int] = Counter()
    for email in REGISTRANTS:
        statuses[pipeline.post(email, sessions).status] += 1
    budget[REGISTRANTS[1]] = 0  # EventBridge recovers
    for email in (REGISTRANTS[1], REGISTRANTS[5]):
        statuses[pipeline.post(email, sessions).status] += 1

    pipeline.deliver()

    assert statuses == {202: len(REGISTRANTS), 503: 2}
    assert injected.rejected == 2 + MAX_ATTEMPTS + MAX_ATTEMPTS
    assert_each_registered_and_confirmed_once(pipeline, sessions)


def test_given_put_events_rejects_some_confirmations_then_each_is_announced_and_emailed_once(
    pipeline: Pipeline,
) -> None:
    sessions = pipeline.session_ids[:2]
    register_everyone(pipeline, sessions)
    announced: Counter[str] = Counter()
    rejections: Counter[str] = Counter()

    def rejects(entry: dict[str, object]) -> bool:
        if entry["DetailType"] != "Registration Confirmed":
            return False
        detail = str(entry["Detail"])
        # The first confirmations of the batch fail on every attempt of the first delivery.
        chosen = detail in rejections or len(rejections) < 3
        if chosen and rejections[detail] < MAX_ATTEMPTS:
            rejections[detail] += 1
            return True
        announced[detail] += 1
        return False

    PartialPutEvents(rejects)
    pipeline.deliver()

    assert pipeline.failed_records == 3
    assert len(announced) == len(REGISTRANTS) * len(sessions)
    assert set(announced.values()) == {1}, "an event was announced twice"
    assert_each_registered_and_confirmed_once(pipeline, sessions)
