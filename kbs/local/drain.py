"""A clean stop of ``kbs serve`` (Ctrl-C, SIGTERM) finishes the work it accepted first.

A 202 means the work is queued: events in the rule queues (and the work queues) that the
pollers have not delivered yet. moto is in memory, so a stop that just ends the pollers loses
them. :class:`Drain` stops the intake (the gateway refuses new connections, the scheduler
fires nothing more), then lets the pollers run until every queue is empty and no poller holds
a batch (twice in a row: an event handled now may put the next one), for at most the grace
period; a second signal ends it at once. Records waiting for a retry after a failure (hidden
for the visibility timeout, minutes) are not waited for. What is still queued then is counted by
``detail-type`` (a work queue's records by the queue's name), so the stop can say exactly what
was dropped. A ``kill -9`` skips all of this: the next start says the stop was unclean.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from kbs.local.delivery import Delivery, Queue

GRACE_SECONDS = 30.0
"""How long a clean stop waits for the accepted work by default (``kbs serve --grace``)."""
SETTLE_SECONDS = 0.2
"""The pause between two looks at the queues while draining."""
QUIET_LOOKS = 2
"""Looks in a row finding the queues empty and no batch in hand that end a drain."""
_DEPTHS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
_HIDE_SECONDS = 3600  # how long a message counted as dropped stays out of the next count


class Stoppable(Protocol):
    def stop(self) -> None: ...


@dataclass(frozen=True)
class Drained:
    """How a drain ended: ``finished`` records delivered meanwhile (events the accepted work led
    to included), in ``seconds``; ``dropped`` the records left undelivered, by kind."""

    finished: int
    seconds: float
    dropped: Counter[str] = field(default_factory=Counter)
    hurried: bool = False
    """Whether a second signal ended the drain (else the queues emptied or time ran out)."""

    def summary(self) -> str:
        """``3 accepted events were not processed (RegistrationSubmitted: 3)`` or
        ``finished 12 events in 1.4 s``; empty if there was nothing to do."""
        if self.dropped:
            total = sum(self.dropped.values())
            kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(self.dropped.items()))
            noun = "event was" if total == 1 else "events were"
            return f"{total} accepted {noun} not processed ({kinds})"
        if self.finished:
            noun = "event" if self.finished == 1 else "events"
            return f"finished {self.finished} {noun} in {self.seconds:.1f} s"
        return ""


class Drain:
    """The clean stop of a running stack's intake and delivery (see the module doc)."""

    def __init__(
        self,
        intake: list[Stoppable],
        delivery: Delivery,
        queues: list[Queue],
        sqs: Any,
    ) -> None:
        self._intake = intake
        self._delivery = delivery
        self._queues = list({queue.url: queue for queue in queues}.values())
        self._sqs = sqs

    def begin(self) -> int:
        """Refuse new work (each of ``intake`` stopped, in order); the records queued now,
        waiting or being delivered."""
        for part in self._intake:
            part.stop()
        return self.pending()

    def pending(self) -> int:
        """Records in the stack's queues, waiting or in flight (dead-letter queues aside)."""
        return sum(self._depth(queue, _DEPTHS) for queue in self._queues)

    def _waiting(self) -> int:
        """Records a poller may take now. Those received but in no poller's hands wait for a
        retry (after a failure, for the visibility timeout: minutes); the drain does not wait
        for them, :meth:`left` counts them."""
        return sum(self._depth(queue, _DEPTHS[:1]) for queue in self._queues)

    def finish(self, grace_seconds: float, hurry: threading.Event) -> Drained:
        """Let the pollers work until the queues stay empty, ``grace_seconds`` pass or
        ``hurry`` is set; then stop them (each finishes the batch in hand) and count what is
        left. Errors of moto (it is still up) propagate."""
        started = time.monotonic()
        deadline = started + grace_seconds
        before = self._delivery.finished
        quiet = 0  # looks in a row that found nothing to do: two end the drain
        while True:
            idle = self._delivery.idle() and not self._waiting()
            quiet = quiet + 1 if idle else 0
            remaining = deadline - time.monotonic()
            if quiet == QUIET_LOOKS or remaining <= 0:
                break
            if hurry.wait(min(SETTLE_SECONDS, remaining)):
                break
        self._delivery.stop()
        return Drained(
            finished=self._delivery.finished - before,
            seconds=time.monotonic() - started,
            dropped=self.left(),
            hurried=hurry.is_set(),
        )

    def left(self) -> Counter[str]:
        """What the queues still hold, by ``detail-type`` (a work queue's records, and those
        waiting for a retry, by the queue's name). Call it once the pollers are stopped: it
        receives the waiting records to read them."""
        left: Counter[str] = Counter()
        for queue in self._queues:
            depths = self._depths(queue, _DEPTHS)
            waiting, retrying = (depths[name] for name in _DEPTHS)
            if retrying:
                left[f"{queue.rule}, awaiting a retry"] += retrying
            read = 0
            while messages := self._sqs.receive_message(
                QueueUrl=queue.url, MaxNumberOfMessages=10, VisibilityTimeout=_HIDE_SECONDS
            ).get("Messages", []):
                left.update(_kind(message["Body"], queue) for message in messages)
                read += len(messages)
            if waiting > read:  # a record past its last receive moved to the dead-letter queue
                left[queue.rule] += waiting - read
        return left

    def _depth(self, queue: Queue, names: list[str]) -> int:
        return sum(self._depths(queue, names).values())

    def _depths(self, queue: Queue, names: list[str]) -> dict[str, int]:
        """The queue's approximate counts ``names``, in one GetQueueAttributes call."""
        attributes = self._sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=names)
        return {name: int(attributes["Attributes"].get(name, 0)) for name in names}


def _kind(body: str, queue: Queue) -> str:
    """An EventBridge event's ``detail-type``; else the queue's name in the declaration."""
    try:
        event = json.loads(body)
    except ValueError:
        return queue.rule
    kind = event.get("detail-type") if isinstance(event, dict) else None
    return str(kind) if kind else queue.rule
