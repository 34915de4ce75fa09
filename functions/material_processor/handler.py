"""Material processor: S3 "Object Created" events for ``sessions/`` in the materials bucket.

The rule (default bus) targets an SQS queue; each record's body is one EventBridge event.
Each upload is checked and recorded, or quarantined with its reason and the organisers told
(:func:`shared.materials.uploads.process_upload`): a bad upload is an outcome, not a failure. A
record
that fails (malformed, or a dependency down) is reported in ``batchItemFailures`` and retried
alone; the others complete.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AliasChoices, BaseModel, Field

from shared.materials.uploads import Upload, process_upload
from shared.platform.observability import logger, metrics, tracer
from shared.platform.records import drain, parse_record
from shared.platform.settings import get_settings


class S3Bucket(BaseModel):
    name: str


class S3Object(BaseModel):
    key: str
    size: int = 0
    etag: str = Field("", validation_alias=AliasChoices("etag", "eTag"))
    version_id: str | None = Field(None, alias="version-id")
    sequencer: str = ""


class ObjectCreatedDetail(BaseModel):
    bucket: S3Bucket
    object: S3Object


class ObjectCreatedEvent(EventBridgeModel):
    source: Literal["aws.s3"]
    detail_type: Literal["Object Created"] = Field(alias="detail-type")
    detail: ObjectCreatedDetail


def record_handler(record: SQSRecord) -> None:
    event = parse_record(ObjectCreatedEvent, record)
    s3_object = event.detail.object
    upload = Upload(
        bucket=event.detail.bucket.name,
        key=s3_object.key,
        size=s3_object.size,
        version_id=s3_object.version_id,
        etag=s3_object.etag,
        sequencer=s3_object.sequencer,
        uploaded_at=event.time,
    )
    outcome = process_upload(upload, settings=get_settings())
    metrics.add_metric(name=f"Uploads{outcome.value.title()}", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return drain(
        event,
        context,
        record_handler,
        failed_metric="UploadRecordsFailed",
        dead_letters=get_settings().dead_letter_queues,
    )
