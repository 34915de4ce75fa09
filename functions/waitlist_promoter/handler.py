"""Waitlist promoter: a place given back ("Registration Cancelled") goes to the waiting list.

Each record (an EventBridge event through the rule's queue) runs one promotion pass for its
session (:func:`shared.registrations.waitlist.promote_waitlisted`); a failed record is reported in
``batchItemFailures`` and retried alone, then dead-lettered.
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
from shared.registrations.cancellation import CancelledData
from shared.registrations.waitlist import promote_waitlisted


class CancelledDetail(BaseModel):
    metadata: EventMetadata
    data: CancelledData


class RegistrationCancelledEvent(EventBridgeModel):
    source: Literal["kbs.registrations"]
    detail_type: Literal["Registration Cancelled"] = Field(alias="detail-type")
    detail: CancelledDetail


def record_handler(record: SQSRecord) -> None:
    event = parse_record(RegistrationCancelledEvent, record)
    promoted = promote_waitlisted(
        event.detail.data.session_id,
        now=event.time,
        settings=get_settings(),
        correlation_id=event.detail.metadata.correlation_id,
    )
    metrics.add_metric(name="RegistrationsPromoted", unit=MetricUnit.Count, value=len(promoted))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return drain(
        event,
        context,
        record_handler,
        failed_metric="PromotionRecordsFailed",
        dead_letters=get_settings().dead_letter_queues,
    )
