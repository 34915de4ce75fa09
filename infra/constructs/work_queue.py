"""A ``WorkQueue``: a queue our own code feeds (with DLQ and alarm), drained by one function."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra import wiring
from infra.constructs.alarms import DeadLetterAlarms
from infra.constructs.event_rule_trigger import VISIBILITY_TIMEOUT_FACTOR
from infra.constructs.queues import dead_letter_queue, secure_queue
from infra.constructs.service_function import ServiceFunction


class WorkQueueTrigger(Construct):
    """Made before the functions (senders get its URL and ``sqs:SendMessage``), then
    :meth:`drain_into` its consumer: batches, partial batch responses, maximum concurrency."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: wiring.WorkQueue,
        consumer: wiring.Function,
        alarms: DeadLetterAlarms,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.dead_letters = dead_letter_queue(self, "DeadLetters")
        self.queue = secure_queue(
            self,
            "Queue",
            dead_letters=self.dead_letters,
            visibility_timeout=Duration.seconds(
                VISIBILITY_TIMEOUT_FACTOR * consumer.timeout_seconds
            ),
        )
        alarms.watch(
            self.dead_letters,
            f"queue {spec.name}",
            trigger=spec.name,
            function=consumer.name,
            source_queue=self.queue,
        )

    def drain_into(self, consumer: ServiceFunction) -> None:
        consumer.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=self.spec.batch_size,
                report_batch_item_failures=True,
                max_concurrency=self.spec.max_concurrency,
            )
        )
        consumer.dead_letter_at_once(self.queue, self.dead_letters)
