"""Helpers for tests that run handlers in-process on moto (shapes from ``events/``)."""

from __future__ import annotations

import hashlib
import importlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

from infra.wiring import Function
from tests.conftest import REGION, load_event


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
