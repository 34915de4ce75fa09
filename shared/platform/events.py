"""Our event envelope and the EventBridge publisher.

Every event we publish has ``detail = {"metadata": {...}, "data": {...}}``; metadata carries
the envelope version, a correlation id and an idempotency key that consumers dedupe on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.platform.clients import client

ENVELOPE_VERSION = "1"
MAX_ENTRIES_PER_CALL = 10  # PutEvents limit
MAX_ATTEMPTS = 4


class EventMetadata(BaseModel):
    version: str = ENVELOPE_VERSION
    correlation_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    idempotency_key: str
    published_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


class Envelope(BaseModel):
    """The ``detail`` of every event we publish."""

    metadata: EventMetadata
    data: dict[str, Any]


@dataclass(frozen=True)
class OutgoingEvent:
    source: str
    detail_type: str
    data: dict[str, Any]
    idempotency_key: str
    correlation_id: str | None = None
    time: datetime | None = None
    """The event's ``time`` (consumers' "now"); EventBridge's clock if not given."""

    def entry(self, bus_name: str) -> dict[str, Any]:
        metadata = EventMetadata(idempotency_key=self.idempotency_key)
        if self.correlation_id:
            metadata.correlation_id = self.correlation_id
        detail = Envelope(metadata=metadata, data=self.data).model_dump(mode="json")
        entry = {
            "Source": self.source,
            "DetailType": self.detail_type,
            "Detail": json.dumps(detail, separators=(",", ":")),
            "EventBusName": bus_name,
        }
        return entry if self.time is None else {**entry, "Time": self.time}


class PublishError(RuntimeError):
    """EventBridge did not accept every entry after retries: the caller must not report success."""


def publish(events: Iterable[OutgoingEvent], bus_name: str) -> None:
    """Put events on the bus, 10 per call, resending entries that failed.

    Raises :class:`PublishError` if any entry is still rejected after ``MAX_ATTEMPTS``.
    """
    entries = [event.entry(bus_name) for event in events]
    for start in range(0, len(entries), MAX_ENTRIES_PER_CALL):
        _put_chunk(entries[start : start + MAX_ENTRIES_PER_CALL])


def _put_chunk(entries: Sequence[dict[str, Any]]) -> None:
    pending = list(entries)
    for _ in range(MAX_ATTEMPTS):
        response = client("events").put_events(Entries=pending)
        if not response.get("FailedEntryCount"):
            return
        pending = [
            entry
            for entry, result in zip(pending, response["Entries"], strict=True)
            if result.get("ErrorCode")
        ]
    raise PublishError(f"{len(pending)} event(s) rejected by EventBridge after retries")
