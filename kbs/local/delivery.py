"""Rule -> SQS queue -> handler, the way a Lambda event source mapping does it.

Each rule has its queue, as in the CDK stack (so does each work queue our code feeds), and each
queue a polling thread: ReceiveMessage
(a batch of up to 10, short long-polls), one SQS event per batch to the handler, then
DeleteMessage for every record that did not fail. Records named in ``batchItemFailures`` (or
the whole batch, if the handler raised or answered nonsense) stay in the queue, come back
after the visibility timeout, and go to the dead-letter queue after ``maxReceiveCount``
receives (moto applies the redrive policy).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from infra.wiring import EventRule, Function, WorkQueue
from kbs.local.clock import Clock
from kbs.local.event_time import retimed
from kbs.local.runtime import ACCOUNT_ID, Invoker, log, log_event

WAIT_SECONDS = 1  # short long-polls: a prompt stop, little idle traffic


@dataclass(frozen=True)
class DeliveryPolicy:
    """Queue and event source mapping settings; the defaults are the CDK stack's
    (``infra/constructs/event_rule_trigger.py`` and ``queues.py``)."""

    batch_size: int = 10
    visibility_timeout_factor: int = 6  # x the function timeout
    max_receive_count: int = 5
    dead_letter_retention_days: int = 14


@dataclass(frozen=True)
class Queue:
    """The queue a rule targets (or a work queue), drained into ``function``, and its
    dead-letter queue."""

    function: Function
    rule: str
    """The name of the rule (or work queue) in the declaration."""
    name: str
    url: str
    arn: str
    dead_letter_url: str
    trigger: EventRule | WorkQueue | None = None


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of a Lambda SQS event, from a ReceiveMessage message."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {key[0].lower() + key[1:]: value for key, value in attribute.items()}
            for name, attribute in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(message, queue_arn, region) for message in messages]}


def queue_arn(name: str, region: str) -> str:
    return f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}"


def received(body: str) -> dict[str, Any]:
    """A ReceiveMessage-shaped message carrying ``body`` (for ``kbs invoke``)."""
    now = str(int(time.time() * 1000))
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": uuid.uuid4().hex,
        "Body": body,
        "MD5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now,
            "SenderId": ACCOUNT_ID,
            "ApproximateFirstReceiveTimestamp": now,
        },
    }


def failed_ids(result: Any, ids: set[str]) -> set[str]:
    """The message ids a partial batch response reports as failed.

    As Lambda reads it: no ``batchItemFailures`` means success; a malformed entry or an
    unknown id fails the whole batch.
    """
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return set()
    if not isinstance(failures, list):
        return ids
    reported = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]
    if not all(isinstance(item, str) and item in ids for item in reported):
        return ids
    return {str(item) for item in reported}


class Poller:
    """Receives batches from one queue and delivers them to its function."""

    def __init__(
        self,
        queue: Queue,
        invoker: Invoker,
        region: str,
        sqs: Any,
        batch_size: int,
        clock: Clock | None = None,
    ) -> None:
        self.queue = queue
        self._clock = clock
        self._batch_size = batch_size
        self._invoker = invoker
        self._region = region
        self._sqs = sqs
        self.delivering = False
        """Whether a received batch is in this poller's hands (being delivered)."""
        self.finished = 0
        """How many records were delivered and deleted from the queue."""

    def poll(self) -> int:
        """Receive one batch and deliver it; the number of records delivered."""
        messages = self._sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=WAIT_SECONDS,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if messages:
            self.delivering = True
            try:
                self._deliver([self._retimed(message) for message in messages])
            finally:
                self.delivering = False
        return len(messages)

    def _retimed(self, message: dict[str, Any]) -> dict[str, Any]:
        """A rule's event an AWS service emitted carries the simulated time, if any
        (:func:`kbs.local.event_time.retimed`)."""
        if self._clock is None or not isinstance(self.queue.trigger, EventRule):
            return message
        body = retimed(message["Body"], self._clock)
        if body == message["Body"]:
            return message
        digest = hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
        return {**message, "Body": body, "MD5OfBody": digest}

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        fn = self.queue.function
        invocation = self._invoker.invoke(fn, sqs_event(messages, self.queue.arn, self._region))
        ids = {message["MessageId"] for message in messages}
        failed = ids if not invocation.ok else failed_ids(invocation.result, ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
            self.finished += len(done)
        outcome = "error" if not invocation.ok else "partial" if failed else "ok"
        log_event(
            fn.name,
            f"sqs {self.queue.name}",
            outcome,
            invocation.duration_ms,
            records=len(messages),
            failed=len(failed),
        )


class Delivery:
    """A polling thread per queue, started and stopped together."""

    def __init__(self, pollers: list[Poller]) -> None:
        self.pollers = pollers
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._run, args=(poller,), name=f"kbs-{poller.queue.name}", daemon=True
            )
            for poller in pollers
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def idle(self) -> bool:
        """Whether no poller holds a batch (its records may still wait in the queues)."""
        return not any(poller.delivering for poller in self.pollers)

    @property
    def finished(self) -> int:
        """How many records the pollers delivered and deleted so far."""
        return sum(poller.finished for poller in self.pollers)

    def stop(self) -> None:
        """Stop every poller (each finishes the batch in hand)."""
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self, poller: Poller) -> None:
        while not self._stop.is_set():
            try:
                poller.poll()
            except Exception as exc:  # moto hiccup: keep polling, like the real poller
                log.warning("delivery from %s failed: %r", poller.queue.name, exc)
                self._stop.wait(WAIT_SECONDS)
