"""Session events: "Session Started/Ended/Updated/Cancelled" mark the session live or ended
and fan out the notice (:func:`shared.programme.lifecycle.handle_change`).

The rule's target is an SQS queue; a record that fails is reported in ``batchItemFailures``
and retried alone (then dead-lettered); a replayed event notifies nobody twice.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from shared.platform.events import EventMetadata
from shared.platform.observability import logger, metrics, tracer
from shared.platform.records import drain, parse_record
from shared.platform.settings import get_settings
from shared.programme.lifecycle import SessionChange, handle_change
from shared.programme.models import AwareDatetime


class ChangeDetail(BaseModel):
    metadata: EventMetadata
    data: SessionChange


class SessionEvent(BaseModel):
    """The EventBridge event, as its queue delivers it (what the handler reads of it; the
    Powertools parser models would add ~50 ms to the cold start)."""

    id: str
    source: Literal["kbs.sessions"]
    detail_type: Literal[
        "Session Started", "Session Ended", "Session Updated", "Session Cancelled"
    ] = Field(alias="detail-type")
    time: AwareDatetime
    detail: ChangeDetail


def record_handler(record: SQSRecord) -> None:
    event = parse_record(SessionEvent, record)
    outcome = handle_change(
        event.detail_type, event.detail.data, now=event.time, settings=get_settings()
    )
    logger.info(
        "Session event handled",
        extra={
            "detail_type": event.detail_type,
            "session_id": event.detail.data.session_id,
            "sequence": event.detail.data.sequence,
            "outcome": outcome,
        },
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return drain(
        event,
        context,
        record_handler,
        failed_metric="SessionEventsFailed",
        dead_letters=get_settings().dead_letter_queues,
    )
