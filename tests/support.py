"""Helpers for tests that run handlers in-process on moto (shapes from ``events/``)."""

from __future__ import annotations

import hashlib
import importlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from infra.wiring import Function
from tests.conftest import LINK_SECRET, REGION, load_event


@dataclass(frozen=True)
class Context:
    """The parts of the Lambda context our handlers and Powertools read."""

    function_name: str = "test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:test"
    aws_request_id: str = "5f0e9d7c-0000-4000-8000-000000000001"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def handler_of(fn: Function) -> Callable[[dict[str, Any], Any], Any]:
    """The declared handler of ``fn``, imported the way Lambda does."""
    return getattr(importlib.import_module(fn.module), fn.entrypoint)  # type: ignore[no-any-return]


def sqs_batch(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS event (the shape of ``events/sqs/``), one record per body, fresh message ids."""
    (template,) = load_event("sqs/registration-submitted.json")["Records"]
    records = []
    for body in bodies:
        text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        records.append(
            template
            | {
                "messageId": str(uuid.uuid4()),
                "body": text,
                "md5OfBody": hashlib.md5(text.encode()).hexdigest(),  # noqa: S324
            }
        )
    return {"Records": records}


def sent_emails() -> list[EmailMessage]:
    """Every message moto's SES accepted in this test, parsed."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    messages = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    parsed = [message_from_string(m.raw_data, policy=policy.default) for m in messages]
    return [m for m in parsed if isinstance(m, EmailMessage)]


def attended_session(now: datetime) -> None:
    """What the "Attendance Recorded" sample presumes: its session has ended, the sample
    registrant held a place, and the import recorded the sample's minutes for its attendees."""
    from shared.attendance.store import Attendance, attendance_item
    from shared.platform.clients import table
    from shared.platform.settings import get_settings
    from shared.programme.models import SessionStatus
    from shared.programme.repository import get_session, put_session
    from shared.registrations import booking
    from shared.registrations.models import RegistrationSubmission

    settings = get_settings()
    data = load_event("bus/attendance-recorded.json")["detail"]["data"]
    session = get_session(settings.table_name, data["session_id"]).session
    sample = load_event("bus/registration-submitted.json")["detail"]["data"]
    submission = RegistrationSubmission.model_validate(sample)
    one = submission.model_copy(update={"sessions": [session.session_id]})
    booking.process_submission(one, now=now - timedelta(days=10), settings=settings)
    ended = session.model_copy(
        update={"start": now - timedelta(hours=3), "status": SessionStatus.ENDED}
    )
    put_session(settings.table_name, ended)
    for person in data["attendees"]:
        record = Attendance(
            session.session_id, person["email"], person["minutes"], "zoom", now, data["import_id"]
        )
        item = attendance_item(record, ended, settings.record_retention_years)
        table(settings.table_name).put_item(Item=item)


def freed_place_with_a_waitlist(now: datetime) -> None:
    """What the "Registration Cancelled" sample presumes: its session (one place) was full with
    one registrant waiting, and the sample registration was just cancelled by its link."""
    from shared.platform.settings import get_settings
    from shared.programme.repository import get_session, put_session
    from shared.registrations import booking, cancellation
    from shared.registrations.models import RegistrationSubmission
    from shared.web import links

    event = load_event("bus/registration-cancelled.json")["detail"]["data"]
    session = get_session(get_settings().table_name, event["session_id"]).session
    put_session(get_settings().table_name, session.model_copy(update={"capacity": 1}))
    sample = load_event("bus/registration-submitted.json")["detail"]["data"]
    submission = RegistrationSubmission.model_validate(sample)
    booked_at = now - timedelta(hours=1)
    for n, email in enumerate((submission.email, "waiting.buyer@example.org")):
        reference = submission.reference if n == 0 else "KBS-WAIT-0001"
        one = submission.model_copy(
            update={"email": email, "reference": reference, "sessions": [session.session_id]}
        )
        booking.process_submission(
            one, now=booked_at + timedelta(seconds=n), settings=get_settings()
        )
    token = links.sign(
        links.LinkClaims(
            links.CANCEL,
            submission.reference,
            session.session_id,
            links.email_hash(submission.email),
            session.end,
        ),
        LINK_SECRET.encode(),
    )
    cancellation.cancel(token, now=now, settings=get_settings())


class BusTap:
    """Our events put on the bus, read back through a rule and a queue as the stack delivers
    them (the whole event, as the local stack's input transformer gives it)."""

    def __init__(self, name: str, pattern: dict[str, Any]) -> None:
        from kbs.local.server import WHOLE_EVENT
        from shared.platform import clients
        from tests.conftest import BUS_NAME

        sqs, events = clients.client("sqs"), clients.client("events")
        self.url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        events.put_rule(Name=name, EventBusName=BUS_NAME, EventPattern=json.dumps(pattern))
        target = {
            "Id": "queue",
            "Arn": arn["Attributes"]["QueueArn"],
            "InputTransformer": WHOLE_EVENT,
        }
        events.put_targets(Rule=name, EventBusName=BUS_NAME, Targets=[target])

    def received(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """Events delivered since the last call (of one detail type, if given)."""
        from shared.platform import clients

        sqs, received = clients.client("sqs"), []
        while messages := sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages"
        ):
            for message in messages:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return [e for e in received if detail_type in (None, e["detail-type"])]


def local_stack_file(directory: Path, **extra: Any) -> Path:
    """Write the ``local.json`` of a local stack that is the in-process moto account (no
    endpoint), so ``kbs ... --local DIRECTORY`` commands run against it; ``directory``."""
    from tests.conftest import BUCKET_NAME, BUS_NAME, TABLE_NAME

    info = {
        "api_url": "http://127.0.0.1:8000",
        "aws_endpoint_url": None,
        "region": REGION,
        "bucket": BUCKET_NAME,
        "table": TABLE_NAME,
        "event_bus": BUS_NAME,
        **extra,
    }
    (directory / "local.json").write_text(json.dumps(info))
    return directory
