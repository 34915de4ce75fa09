"""Bounces and complaints on moto: the SES samples in ``events/`` go through the declared rule
(on the default bus, to its queue) into ``email_feedback``; the reminders that follow go
through the real clock and email sender (:mod:`tests.integration.lifecycle_harness`)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from infra import wiring
from kbs.cli import main
from kbs.local.delivery import sqs_event
from kbs.local.server import WHOLE_EVENT
from shared.mail import suppression
from shared.mail.suppression import Reason
from shared.platform import keys
from shared.platform.clients import client, table
from shared.registrations.models import normalise_email
from tests.conftest import REGION, TABLE_NAME, load_event
from tests.integration.lifecycle_harness import (
    START,
    Context,
    Lifecycle,
    recipients,
    registration,
    sample_session,
)
from tests.support import local_stack_file

BOUNCE = "bus/ses-bounce-permanent.json"
COMPLAINT = "bus/ses-complaint.json"
TRANSIENT = "ses/bounce-transient.json"
REJECT = "ses/reject.json"
T1 = START - timedelta(hours=1)
SESSION = "kbs-01-ict-hardware"


def address(sample: str) -> str:
    """The recipient an SES sample is about."""
    (to,) = load_event(sample)["detail"]["mail"]["destination"]
    return normalise_email(to)


class Feedback:
    """The declared ``EmailFeedback`` rule on the default bus, its queue drained into the
    function as an event source mapping would."""

    def __init__(self) -> None:
        fn = wiring.function("email_feedback")
        (self.rule,) = fn.of_kind(wiring.EventRule)
        assert self.rule.bus == "default"
        sqs = client("sqs")
        self.queue = sqs.create_queue(QueueName="email-feedback")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])
        client("events").put_rule(Name=self.rule.name, EventPattern=json.dumps(self.rule.pattern))
        client("events").put_targets(
            Rule=self.rule.name,
            Targets=[
                {
                    "Id": "queue",
                    "Arn": arn["Attributes"]["QueueArn"],
                    "InputTransformer": WHOLE_EVENT,
                }
            ],
        )

    def publish(self, sample: str) -> None:
        """The sample put on the default bus, as SES's event destination does."""
        event = load_event(sample)
        response = client("events").put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event["resources"],
                    "Time": event["time"],
                }
            ]
        )
        assert response["FailedEntryCount"] == 0

    def deliver(self) -> int:
        """Invoke the function with what the queue holds; the number of records."""
        from functions.email_feedback.handler import handler

        sqs, delivered = client("sqs"), 0
        while messages := sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            event = sqs_event(messages, f"arn:aws:sqs:{REGION}:1:q", REGION)
            response: dict[str, Any] = handler(event, Context("email_feedback"))  # type: ignore[arg-type]
            assert response["batchItemFailures"] == []
            for message in messages:
                sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
            delivered += len(messages)
        return delivered


@pytest.fixture
def life(aws: None, monkeypatch: pytest.MonkeyPatch) -> Lifecycle:
    life = Lifecycle(monkeypatch)
    life.schedule(sample_session(SESSION))
    # buyer.1 bounces, buyer.2 complains, buyer.3 bounces softly, buyer.4's email is rejected.
    life.register(*(registration(SESSION, n) for n in range(6)))
    return life


@pytest.fixture
def feedback(life: Lifecycle) -> Feedback:
    return Feedback()


def registration_item(email: str) -> dict[str, Any]:
    item = table(TABLE_NAME).get_item(
        Key={"PK": keys.session_pk(SESSION), "SK": keys.registration_sk(email)}
    )["Item"]
    return dict(item)


def test_given_a_hard_bounce_and_a_complaint_then_both_are_suppressed_and_the_reminder_skips_them(
    life: Lifecycle, feedback: Feedback
) -> None:
    bounced, complained = address(BOUNCE), address(COMPLAINT)

    # When SES reports a hard bounce and a complaint
    feedback.publish(BOUNCE)
    feedback.publish(COMPLAINT)
    assert feedback.deliver() == 2

    # Then both addresses are on the list, with the reason, the time and SES's feedback id
    found = {s.email: s for s in suppression.listing(TABLE_NAME)}
    assert set(found) == {bounced, complained}
    bounce = load_event(BOUNCE)["detail"]["bounce"]
    assert found[bounced].reason is Reason.BOUNCED
    assert found[bounced].feedback_id == bounce["feedbackId"]
    assert found[bounced].suppressed_at.isoformat().startswith("2026-11-30T09:01:03.412")
    assert found[complained].reason is Reason.COMPLAINED
    # ... and their registrations are marked
    assert registration_item(bounced)["suppressed"] == "bounced"
    assert registration_item(complained)["suppressed"] == "complained"
    assert "suppressed" not in registration_item(registration(SESSION, 0).email)

    # When the 1-hour reminder goes out
    life.tick(T1)

    # Then everyone else gets it, and neither of them (skipped, not failed)
    got = recipients("reminder-1h")
    assert bounced not in got and complained not in got
    assert set(got) == {registration(SESSION, n).email for n in (0, 3, 4, 5)}
    assert life.failed["email_sender"] == 0


def test_given_feedback_replayed_then_nothing_changes(life: Lifecycle, feedback: Feedback) -> None:
    feedback.publish(BOUNCE)
    feedback.deliver()
    before = sorted(table(TABLE_NAME).scan()["Items"], key=lambda i: (i["PK"], i["SK"]))

    feedback.publish(BOUNCE)
    assert feedback.deliver() == 1

    assert sorted(table(TABLE_NAME).scan()["Items"], key=lambda i: (i["PK"], i["SK"])) == before


def test_given_a_transient_bounce_or_a_reject_then_nothing_is_suppressed(
    life: Lifecycle, feedback: Feedback, caplog: pytest.LogCaptureFixture
) -> None:
    feedback.publish(TRANSIENT)
    feedback.publish(REJECT)
    assert feedback.deliver() == 2

    assert suppression.listing(TABLE_NAME) == []
    life.tick(T1)
    got = recipients("reminder-1h")
    assert address(TRANSIENT) in got and address(REJECT) in got
    # Counted in the logs, without the address
    counted = [
        r for r in caplog.records if r.getMessage() == "Feedback counted, nothing suppressed"
    ]
    assert sorted((r.__dict__["event_type"], r.__dict__["recipients"]) for r in counted) == [
        ("Bounce", 1),
        ("Reject", 0),
    ]
    logged = " ".join(str(r.__dict__) for r in caplog.records)
    assert address(TRANSIENT) not in logged and address(REJECT) not in logged


def test_given_an_unsubscribe_then_a_bounce_replaces_it(
    life: Lifecycle, feedback: Feedback
) -> None:
    email = address(BOUNCE)
    earlier = START - timedelta(days=2)
    assert suppression.suppress(TABLE_NAME, email, Reason.UNSUBSCRIBED, earlier)

    feedback.publish(BOUNCE)
    feedback.deliver()

    (found,) = suppression.listing(TABLE_NAME)
    assert found.reason is Reason.BOUNCED
    # ... and a later unsubscribe does not weaken it
    assert not suppression.suppress(TABLE_NAME, email, Reason.UNSUBSCRIBED, START)
    assert suppression.get(TABLE_NAME, email).reason is Reason.BOUNCED  # type: ignore[union-attr]


@pytest.fixture
def data_dir(tmp_path: Path, life: Lifecycle) -> Path:
    """A local-stack description pointing at the in-process moto account (no endpoint)."""
    return local_stack_file(tmp_path)


def test_given_suppressions_when_an_organiser_lists_and_lifts_one_then_email_goes_to_it_again(
    life: Lifecycle, feedback: Feedback, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = ["--local", str(data_dir)]
    bounced, complained = address(BOUNCE), address(COMPLAINT)
    feedback.publish(BOUNCE)
    feedback.publish(COMPLAINT)
    feedback.deliver()
    capsys.readouterr()

    # The list shows both, oldest first, with the reason and SES's feedback id
    assert main(["suppressions", "list", *local]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[:2] == ["EMAIL", "REASON"]
    assert listed[1].split()[:2] == [bounced, "bounced"]
    assert listed[2].split()[:2] == [complained, "complained"]
    assert load_event(BOUNCE)["detail"]["bounce"]["feedbackId"] in listed[1]

    # When the organiser lifts the bounce (in any letter case)
    assert main(["suppressions", "lift", bounced.upper(), *local]) == 0
    assert "lifted" in capsys.readouterr().out
    assert main(["suppressions", "lift", bounced, *local]) == 1  # nothing left to lift

    # Then the registration loses its mark and the next reminder reaches the address again
    assert "suppressed" not in registration_item(bounced)
    life.tick(T1)
    got = recipients("reminder-1h")
    assert bounced in got and complained not in got
