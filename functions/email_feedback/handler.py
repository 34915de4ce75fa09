"""Email feedback: SES bounces, complaints and rejects (configuration-set events, default bus).

Each record (an EventBridge event through the rule's queue) is one SES sending event; hard
bounces and complaints suppress their recipients (:func:`shared.mail.feedback.record_feedback`),
the rest is counted. A failed record is reported in ``batchItemFailures`` and retried alone,
then dead-lettered.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from shared.mail.feedback import SesEventRecord, record_feedback
from shared.platform.observability import logger, metrics, tracer
from shared.platform.records import drain, parse_record
from shared.platform.settings import get_settings


class SesFeedbackEvent(EventBridgeModel):
    source: Literal["aws.ses"]
    detail_type: Literal["Email Bounced", "Email Complaint Received", "Email Rejected"] = Field(
        alias="detail-type"
    )
    detail: SesEventRecord


def record_handler(record: SQSRecord) -> None:
    event = parse_record(SesFeedbackEvent, record)
    outcome = record_feedback(event.detail, at=event.time, table_name=get_settings().table_name)
    metrics.add_metric(name="AddressesSuppressed", unit=MetricUnit.Count, value=outcome.suppressed)
    metrics.add_metric(name="FeedbackCountedOnly", unit=MetricUnit.Count, value=outcome.ignored)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return drain(
        event,
        context,
        record_handler,
        failed_metric="FeedbackRecordsFailed",
        dead_letters=get_settings().dead_letter_queues,
    )
