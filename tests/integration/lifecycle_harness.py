"""The session lifecycle on in-process moto, driven the way AWS drives it.

The clock is invoked with the real Scheduled Event payload; session events go through a rule
with the declared pattern to a queue that is drained into ``session_events``; the email queue
is drained into ``email_sender`` one record per invocation (its declared batch size), records
reported failed coming back, as an event source mapping does. Shared by tests and the bench.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

from infra import wiring
from kbs.local.delivery import sqs_event
from kbs.local.server import WHOLE_EVENT
from shared.platform.clients import client, table
from shared.programme.models import Session
from shared.programme.repository import put_session
from shared.registrations import store
from shared.registrations.models import Consent, Registration, RegistrationStatus
from tests.conftest import BUS_NAME, REGION, TABLE_NAME, load_event

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
"""The sample session's start (10:00 in Brussels)."""
SIGNED_UP = START - timedelta(days=7)


@dataclass
class Context:
    """The attributes of a Lambda context that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:kbs"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def sample_session(session_id: str = "kbs-01-ict-hardware", **fields: Any) -> Session:
    return Session.model_validate(
        {
            "session_id": session_id,
            "title": "Forced labour risks in ICT hardware supply chains",
            "kind": "webinar",
            "category": "ICT hardware",
            "start": START,
            "timezone": "Europe/Brussels",
            "capacity": 20_000,
            "join_url": f"https://meet.example.org/{session_id}",
            **fields,
        }
    )


def registration(
    session_id: str,
    n: int,
    *,
    status: RegistrationStatus = RegistrationStatus.CONFIRMED,
    registered_at: datetime = SIGNED_UP,
    timezone: str | None = "Europe/Stockholm",
) -> Registration:
    return Registration(
        session_id=session_id,
        email=f"buyer.{n}@authority.example.eu",
        reference=f"KBS-{n:04d}-TEST",
        full_name=f"Buyer Nº{n}",
        organisation="Region (test)",
        country="SE",
        status=status,
        registered_at=registered_at,
        timezone=timezone,
        consent=Consent(given_at=registered_at, text_version="2026-11"),
    )


class Lifecycle:
    """The session functions on moto (needs the ``aws`` fixture's account)."""

    def __init__(self, monkeypatch: Any) -> None:
        from shared.platform.settings import get_settings

        sqs = client("sqs")
        # Visibility 0: a record reported failed is received again at once (a retry).
        self.email_queue = sqs.create_queue(
            QueueName="email-batches", Attributes={"VisibilityTimeout": "0"}
        )["QueueUrl"]
        monkeypatch.setenv(wiring.queue_url_variable(wiring.EMAIL_BATCHES), self.email_queue)
        get_settings.cache_clear()
        (rule,) = wiring.function("session_events").of_kind(wiring.EventRule)
        self.events_queue = sqs.create_queue(QueueName="session-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.events_queue, AttributeNames=["QueueArn"])
        client("events").put_rule(
            Name=rule.name, EventBusName=BUS_NAME, EventPattern=json.dumps(rule.pattern)
        )
        client("events").put_targets(
            Rule=rule.name,
            EventBusName=BUS_NAME,
            Targets=[
                {
                    "Id": "queue",
                    "Arn": arn["Attributes"]["QueueArn"],
                    "InputTransformer": WHOLE_EVENT,  # the event as EventBridge delivers it
                }
            ],
        )
        self.failed: Counter[str] = Counter()
        """Records each function reported failed."""

    # --- the programme ------------------------------------------------------------------

    @staticmethod
    def schedule(session: Session) -> Session:
        put_session(TABLE_NAME, session)
        return session

    @staticmethod
    def register(*registrations: Registration) -> None:
        """Store registrations directly (booking is tested elsewhere)."""
        with table(TABLE_NAME).batch_writer() as writer:
            for item in registrations:
                writer.put_item(Item=store.registration_item(item))

    @staticmethod
    def set_status(session_id: str, email: str, status: RegistrationStatus) -> None:
        table(TABLE_NAME).update_item(
            Key={"PK": f"SESSION#{session_id}", "SK": f"REG#{email}"},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": status.value},
        )

    # --- triggers -----------------------------------------------------------------------

    def tick(self, at: datetime, *, deliver: bool = True) -> dict[str, Any]:
        """The clock at ``at``; then (``deliver``) everything it caused, until quiet."""
        from functions.session_clock.handler import handler

        event = copy.deepcopy(load_event("schedule/session-clock.json"))
        event |= {"id": str(uuid.uuid4()), "time": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        result: dict[str, Any] = handler(event, Context("session_clock"))  # type: ignore[arg-type]
        if deliver:
            self.settle()
        return result

    def settle(self) -> None:
        """Deliver session events and send email batches until both queues are empty."""
        while self.deliver_session_events() + self.send_emails():
            pass

    def deliver_session_events(self) -> int:
        from functions.session_events.handler import handler

        return self._drain(self.events_queue, handler, "session_events", batch_size=10)

    def send_emails(self, max_records: int | None = None) -> int:
        from functions.email_sender.handler import handler

        (queue,) = wiring.function("email_sender").of_kind(wiring.WorkQueue)
        return self._drain(self.email_queue, handler, "email_sender", queue.batch_size, max_records)

    def _drain(
        self,
        url: str,
        handler: Any,
        name: str,
        batch_size: int,
        max_records: int | None = None,
    ) -> int:
        """Receive and invoke until the queue is empty; the number of records delivered."""
        sqs, delivered = client("sqs"), 0
        while max_records is None or delivered < max_records:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=batch_size, MessageSystemAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return delivered
            delivered += len(messages)
            response = handler(
                sqs_event(messages, f"arn:aws:sqs:{REGION}:1:q", REGION), Context(name)
            )
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            self.failed[name] += len(failed)
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done)
                    ],
                )
        return delivered

    def queued_batches(self) -> list[dict[str, Any]]:
        """The email batches waiting (received, then made visible again)."""
        sqs, bodies = client("sqs"), []
        attributes = sqs.get_queue_attributes(
            QueueUrl=self.email_queue, AttributeNames=["ApproximateNumberOfMessages"]
        )
        count = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
        while len(bodies) < count:
            messages = sqs.receive_message(QueueUrl=self.email_queue, MaxNumberOfMessages=10)
            bodies += [json.loads(m["Body"]) for m in messages.get("Messages", [])]
        return bodies


def sent_emails(kind: str | None = None) -> list[EmailMessage]:
    """Every email moto's SES accepted (of ``kind``, by its ``X-KBS-Kind``), in sending order."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    parsed = [
        message_from_string(m.raw_data, policy=policy.default)
        for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    ]
    messages = [m for m in parsed if isinstance(m, EmailMessage)]
    return [m for m in messages if kind is None or m["X-KBS-Kind"] == kind]


def recipients(kind: str) -> Counter[str]:
    """How many emails of ``kind`` each address received."""
    return Counter(m["To"].addresses[0].addr_spec for m in sent_emails(kind))


def part(message: EmailMessage, content_type: str) -> str | None:
    for candidate in message.walk():
        if candidate.get_content_type() == content_type:
            payload = candidate.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return None
