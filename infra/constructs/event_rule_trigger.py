"""An ``EventRule`` trigger: rule -> SQS queue (with DLQ) -> function (partial batch responses)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra import wiring
from infra.constructs.alarms import DeadLetterAlarms
from infra.constructs.queues import dead_letter_queue, secure_queue
from infra.constructs.service_function import ServiceFunction

BATCH_SIZE = 10
# AWS guidance for SQS event sources: visibility timeout >= 6 x the function timeout.
VISIBILITY_TIMEOUT_FACTOR = 6


def event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """The declared pattern as an ``EventPattern`` (``detail-type`` -> ``detail_type``)."""
    return events.EventPattern(**{key.replace("-", "_"): value for key, value in pattern.items()})


class EventRuleTrigger(Construct):
    """The same path the local runtime takes: EventBridge delivers to a queue the function drains.

    One dead-letter queue per trigger takes both the events the rule failed to deliver and the
    messages the function failed five times, so ``StartMessageMoveTask`` redrives either kind
    back into the work queue.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: wiring.EventRule,
        bus: events.IEventBus | None,
        target: ServiceFunction,
        alarms: DeadLetterAlarms,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(self, "DeadLetters")
        self.queue = secure_queue(
            self,
            "Queue",
            dead_letters=self.dead_letters,
            visibility_timeout=Duration.seconds(
                VISIBILITY_TIMEOUT_FACTOR * target.spec.timeout_seconds
            ),
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"{spec.name} -> {target.spec.name}",
            event_bus=bus,
            event_pattern=event_pattern(spec.pattern),
        )
        self.rule.add_target(targets.SqsQueue(self.queue, dead_letter_queue=self.dead_letters))
        target.function.add_event_source(
            sources.SqsEventSource(
                self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True
            )
        )
        target.dead_letter_at_once(self.queue, self.dead_letters)
        alarms.watch(
            self.dead_letters,
            f"rule {spec.name}",
            trigger=spec.name,
            function=target.spec.name,
            source_queue=self.queue,
        )
