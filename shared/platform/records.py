"""Queue records: drained in partial batches, parsed into models; what was wrong is logged,
never the content."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from pydantic import BaseModel, ValidationError

from shared.platform.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

M = TypeVar("M", bound=BaseModel)


class MalformedRecordError(ValueError):
    """The record is not what its queue carries (details logged, without the input)."""


def parse_record(model: type[M], record: SQSRecord) -> M:
    """The record's body as ``model``, or :class:`MalformedRecordError` (it fails alone)."""
    try:
        return model.model_validate_json(record.body)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False, include_context=False)
        logger.warning(
            "Malformed record",
            extra={
                "message_id": record.message_id,
                "errors": [{"loc": e["loc"], "type": e["type"]} for e in errors],
            },
        )
        raise MalformedRecordError(record.message_id) from None


def drain(
    event: dict[str, Any],
    context: LambdaContext,
    record_handler: Callable[[SQSRecord], None],
    *,
    failed_metric: str,
) -> dict[str, Any]:
    """Run ``record_handler`` on each SQS record; the failed ones go to ``batchItemFailures``
    (the queue retries them, then moves them to its DLQ), counted in ``failed_metric``."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed = len(response["batchItemFailures"])
    metrics.add_metric(name=failed_metric, unit=MetricUnit.Count, value=failed)
    return dict(response)
