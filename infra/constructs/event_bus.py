"""Our custom event bus, with an archive of every event our code publishes."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

ARCHIVE_RETENTION = Duration.days(30)


class EventBusWithArchive(Construct):
    """The ``app`` bus of the wiring; the archive lets us replay a bad day."""

    def __init__(self, scope: Construct, construct_id: str, *, sources: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus")
        self.archive = self.bus.archive(
            "Archive",
            description="Every event published by kbs, for replay",
            event_pattern=events.EventPattern(source=list(sources)),
            retention=ARCHIVE_RETENTION,
        )
