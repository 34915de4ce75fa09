"""Email sender: drains the email queue, one batch of up to 50 notices per record
(:func:`shared.notices.sender.send_batch`), paced for SES.

A record whose sending failed (SES throttling, a refusal) is reported in ``batchItemFailures``:
the queue retries it, and what was sent before is skipped (send-once).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.notices.kinds import EmailBatch
from shared.notices.sender import Pace, send_batch
from shared.platform.observability import logger, metrics, tracer
from shared.platform.records import drain, parse_record
from shared.platform.settings import get_settings


def record_handler(record: SQSRecord) -> None:
    batch = parse_record(EmailBatch, record)
    settings = get_settings()
    sent = send_batch(batch, settings=settings, pace=Pace(settings.email_send_rate))
    metrics.add_metric(name="NoticesSent", unit=MetricUnit.Count, value=sent)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return drain(
        event,
        context,
        record_handler,
        failed_metric="NoticeBatchesFailed",
        dead_letters=get_settings().dead_letter_queues,
    )
