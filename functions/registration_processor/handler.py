"""Registration processor: books places for "Registration Submitted" events.

The rule's target is an SQS queue: each record's body is one EventBridge event carrying our
envelope. A record that fails (malformed, or a dependency down) is reported in
``batchItemFailures`` and retried alone (then dead-lettered); the others complete.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from shared.platform.events import EventMetadata
from shared.platform.observability import logger, metrics, tracer
from shared.platform.records import drain, parse_record
from shared.platform.settings import get_settings
from shared.registrations.booking import process_submission
from shared.registrations.models import RegistrationSubmission


class SubmittedDetail(BaseModel):
    metadata: EventMetadata
    data: RegistrationSubmission


class RegistrationSubmittedEvent(EventBridgeModel):
    source: Literal["kbs.registrations"]
    detail_type: Literal["Registration Submitted"] = Field(alias="detail-type")
    detail: SubmittedDetail


def record_handler(record: SQSRecord) -> None:
    event = parse_record(RegistrationSubmittedEvent, record)
    outcomes = process_submission(
        event.detail.data,
        now=event.time,
        settings=get_settings(),
        correlation_id=event.detail.metadata.correlation_id,
    )
    for outcome in outcomes:
        metrics.add_metric(
            name=f"Registrations{outcome.outcome.value.title()}", unit=MetricUnit.Count, value=1
        )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return drain(
        event,
        context,
        record_handler,
        failed_metric="RegistrationRecordsFailed",
        dead_letters=get_settings().dead_letter_queues,
    )
