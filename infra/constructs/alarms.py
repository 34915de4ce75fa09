"""An alarm on every dead-letter queue, notifying one SNS topic."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.names import construct_id


class DeadLetterAlarms(Construct):
    """Operators subscribe to :attr:`topic`; :meth:`watch` adds a queue to it."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Notifications carry a queue name and a count, never personal data.
        self.topic = sns.Topic(self, "Topic", display_name="kbs dead letters", enforce_ssl=True)

    def watch(self, queue: sqs.IQueue, name: str) -> cloudwatch.Alarm:
        """Alarm as soon as one message is visible in ``queue`` (``name`` labels the alarm)."""
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
