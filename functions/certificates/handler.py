"""Certificates: "Attendance Recorded" issues a certificate to each attendee at or over the
threshold, once, and revokes the valid certificate of one who no longer qualifies.

Each record (an EventBridge event through the rule's queue) is one import or correction
(:func:`shared.certificates.issuing.record_attendance`); a failed record is reported in
``batchItemFailures`` and retried alone, then dead-lettered. A replay issues nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from shared.certificates.issuing import record_attendance
from shared.platform.events import EventMetadata
from shared.platform.observability import logger, metrics, tracer
from shared.platform.records import drain, parse_record
from shared.platform.settings import get_settings


class Attendee(BaseModel):
    email: str
    minutes: int
    qualifies: bool


class RecordedData(BaseModel):
    session_id: str
    import_id: str
    attendees: list[Attendee] = Field(max_length=500)


class RecordedDetail(BaseModel):
    metadata: EventMetadata
    data: RecordedData


class AttendanceRecordedEvent(EventBridgeModel):
    source: Literal["kbs.attendance"]
    detail_type: Literal["Attendance Recorded"] = Field(alias="detail-type")
    detail: RecordedDetail


def record_handler(record: SQSRecord) -> None:
    event = parse_record(AttendanceRecordedEvent, record)
    data = event.detail.data
    outcome = record_attendance(
        data.session_id, [a.email for a in data.attendees], settings=get_settings(), now=event.time
    )
    metrics.add_metric(name="CertificatesIssued", unit=MetricUnit.Count, value=len(outcome.issued))
    metrics.add_metric(
        name="CertificatesRevoked", unit=MetricUnit.Count, value=len(outcome.revoked)
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return drain(
        event,
        context,
        record_handler,
        failed_metric="CertificateRecordsFailed",
        dead_letters=get_settings().dead_letter_queues,
    )
