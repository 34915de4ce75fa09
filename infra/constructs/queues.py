"""The one way this stack makes an SQS queue: SSE-SQS encrypted, TLS only."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.nag import acknowledge

# Long enough to investigate and redrive a failure after a weekend or a holiday.
DEAD_LETTER_RETENTION = Duration.days(14)
# Receives before a message moves to the dead-letter queue.
MAX_RECEIVE_COUNT = 5


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """A dead-letter queue (alarm on it with :class:`DeadLetterAlarms`)."""
    queue = secure_queue(scope, construct_id, retention_period=DEAD_LETTER_RETENTION)
    acknowledge(
        queue,
        "Serverless-SQSRedrivePolicy",
        "This is a dead-letter queue, the end of the redrive chain: an alarm fires on its "
        "first message and operators redrive it after a fix.",
    )
    return queue


def secure_queue(
    scope: Construct,
    construct_id: str,
    *,
    dead_letters: sqs.IQueue | None = None,
    visibility_timeout: Duration | None = None,
    retention_period: Duration | None = None,
) -> sqs.Queue:
    """A standard queue, encrypted with SSE-SQS (EventBridge can deliver to it) and TLS only."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        retention_period=retention_period,
        dead_letter_queue=(
            sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=MAX_RECEIVE_COUNT)
            if dead_letters
            else None
        ),
    )
