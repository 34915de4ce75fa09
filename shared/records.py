"""Queue records parsed into models; what was wrong is logged, never the content."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from shared.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

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
