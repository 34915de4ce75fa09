"""Queue records: drained in partial batches, parsed into models; what was wrong is logged,
never the content.

A record that can never succeed (its body is not what the queue carries) is not retried: it is
sent to its queue's dead-letter queue at once, with the reason and the source queue as message
attributes, and acknowledged. Any other failure keeps the retry path (``batchItemFailures``:
the queue delivers it again, and moves it to the same dead-letter queue after five receives).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from pydantic import BaseModel, ValidationError

from shared.platform import clients
from shared.platform.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

M = TypeVar("M", bound=BaseModel)

REASON_ATTRIBUTE = "kbs-dead-letter-reason"
"""Message attribute of a record dead-lettered at once: why it can never succeed."""
SOURCE_ATTRIBUTE = "kbs-source-queue"
"""Message attribute of a record dead-lettered at once: the ARN of the queue it came from."""
DEAD_LETTERED_METRIC = "RecordsDeadLettered"
MAX_REASON_LENGTH = 256


class MalformedRecordError(ValueError):
    """The record is not what its queue carries (details logged, without the input).

    ``reason`` names the failing fields and error types, never their values.
    """

    def __init__(self, message_id: str, reason: str = "malformed record") -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.reason = reason[:MAX_REASON_LENGTH]


def parse_record(model: type[M], record: SQSRecord) -> M:
    """The record's body as ``model``, or :class:`MalformedRecordError` (it fails alone)."""
    try:
        return model.model_validate_json(record.body)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False, include_context=False)
        found = [{"loc": e["loc"], "type": e["type"]} for e in errors]
        logger.warning("Malformed record", extra={"message_id": record.message_id, "errors": found})
        reason = "malformed record: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['type']}" for e in found
        )
        raise MalformedRecordError(record.message_id, reason) from None


def dead_letter_urls(configured: str) -> dict[str, str]:
    """The ``KBS_DEAD_LETTER_QUEUES`` setting, a JSON object ``{source queue ARN: dead-letter
    queue URL}``, as a dict (empty if unset). ``ValueError`` if it is not such an object."""
    if not configured:
        return {}
    parsed = json.loads(configured)
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise ValueError("KBS_DEAD_LETTER_QUEUES must map queue ARNs to queue URLs")
    return parsed


def dead_letter(record: SQSRecord, reason: str, dead_letters: dict[str, str]) -> bool:
    """Send ``record`` (body unchanged) to its source queue's dead-letter queue with
    ``reason`` and the source queue's ARN as message attributes; ``False`` if no dead-letter
    queue is configured for that source (the caller keeps the retry path). SQS errors raise."""
    url = dead_letters.get(record.event_source_arn)
    if not url:
        return False
    clients.client("sqs").send_message(
        QueueUrl=url,
        MessageBody=record.body,
        MessageAttributes={
            REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason},
            SOURCE_ATTRIBUTE: {"DataType": "String", "StringValue": record.event_source_arn},
        },
    )
    logger.warning(
        "Record dead-lettered at once",
        extra={"message_id": record.message_id, "reason": reason},
    )
    metrics.add_metric(name=DEAD_LETTERED_METRIC, unit=MetricUnit.Count, value=1)
    return True


def drain(
    event: dict[str, Any],
    context: LambdaContext,
    record_handler: Callable[[SQSRecord], None],
    *,
    failed_metric: str,
    dead_letters: str = "",
) -> dict[str, Any]:
    """Run ``record_handler`` on each SQS record; the failed ones go to ``batchItemFailures``
    (the queue retries them, then moves them to its DLQ), counted in ``failed_metric``.

    A record failing with :class:`MalformedRecordError` is sent straight to its dead-letter
    queue (``dead_letters``: the ``KBS_DEAD_LETTER_QUEUES`` setting, see
    :func:`dead_letter_urls`) and counts as done; without a configured one it is retried.
    """
    urls = dead_letter_urls(dead_letters)

    def handle(record: SQSRecord) -> None:
        try:
            record_handler(record)
        except MalformedRecordError as exc:
            if not dead_letter(record, exc.reason, urls):
                raise

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=handle, processor=processor, context=context
    )
    failed = len(response["batchItemFailures"])
    metrics.add_metric(name=failed_metric, unit=MetricUnit.Count, value=failed)
    return dict(response)
