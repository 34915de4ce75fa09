"""A ``Schedule`` trigger: a scheduled rule invoking the function asynchronously."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from infra import wiring
from infra.constructs.service_function import ServiceFunction

RETRY_ATTEMPTS = 2
# A tick older than this is superseded by the next one (handlers take "now" from the event).
MAX_EVENT_AGE = Duration.hours(1)


class ScheduleTrigger(Construct):
    """Undeliverable ticks and failed invocations both go to the function's async DLQ."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: wiring.Schedule,
        target: ServiceFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        if target.dead_letters is None:
            raise ValueError(f"{target.spec.name} has no async dead-letter queue")
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"{spec.name} -> {target.spec.name}",
            schedule=events.Schedule.expression(spec.expression),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                target.function,
                dead_letter_queue=target.dead_letters,
                retry_attempts=RETRY_ATTEMPTS,
                max_event_age=MAX_EVENT_AGE,
            )
        )
