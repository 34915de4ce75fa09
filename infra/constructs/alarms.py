"""An alarm on every dead-letter queue, notifying one SNS topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.names import construct_id


@dataclass(frozen=True)
class Watched:
    """A dead-letter queue, and where its messages go back to (``kbs dlq redrive``)."""

    name: str
    queue: sqs.IQueue
    trigger: str
    function: str
    source_queue: sqs.IQueue | None = None
    source_function: lambda_.IFunction | None = None

    def description(self) -> dict[str, Any]:
        """What ``kbs dlq`` reads from the stack output (``kbs/dead_letters.py``)."""
        return {
            "trigger": self.trigger,
            "function": self.function,
            "url": self.queue.queue_url,
            "source_queue_url": self.source_queue.queue_url if self.source_queue else "",
            "function_name": self.source_function.function_name if self.source_function else "",
        }


class DeadLetterAlarms(Construct):
    """Operators subscribe to :attr:`topic`; :meth:`watch` adds a queue to it, and to
    :attr:`watched` (the stack lists them in its outputs for ``kbs dlq``)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Notifications carry a queue name and a count, never personal data.
        self.topic = sns.Topic(self, "Topic", display_name="kbs dead letters", enforce_ssl=True)
        self.watched: list[Watched] = []

    def watch(
        self,
        queue: sqs.IQueue,
        name: str,
        *,
        trigger: str = "",
        function: str = "",
        source_queue: sqs.IQueue | None = None,
        source_function: lambda_.IFunction | None = None,
    ) -> cloudwatch.Alarm:
        """Alarm as soon as one message is visible in ``queue`` (``name`` labels the alarm);
        its messages came from ``trigger`` of ``function`` and go back to ``source_queue`` (or
        are invoked again on ``source_function``)."""
        self.watched.append(
            Watched(name, queue, trigger or name, function, source_queue, source_function)
        )
        alarm = cloudwatch.Alarm(
            self,
            construct_id(name),
            alarm_description="A message reached a dead-letter queue: inspect it, then redrive.",
            metric=queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        return alarm
