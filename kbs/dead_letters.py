"""Dead-letter queues: where each one comes from, what is in it, and moving it back.

Every async path of the stack ends in a dead-letter queue (``infra/constructs/alarms.py``
alarms on each): the queue of each ``EventRule`` (which also takes the events the rule could
not deliver) and each ``WorkQueue`` dead-letter into their own; a scheduled function's async
invocations into the function's. Redrive moves messages back to where they failed:

- a queue's dead letters go back to that queue (SendMessage, then DeleteMessage: a crash in
  between redrives a message twice, never loses it, and every consumer is idempotent);
- a function's async dead letters (the original event, as the body) are invoked again
  asynchronously (``InvocationType=Event``), then deleted.

Message bodies hold personal data: nothing here prints or logs them. :func:`peek` reports
ids and event types (``detail-type`` of an EventBridge event, ``kind`` of an email batch).

Where the queues are: the local stack lists them in ``local.json``; a deployed stack in its
``DeadLetters*`` outputs (JSON: see ``infra/stack.py``). ``StartMessageMoveTask`` would do the
queue case in AWS, but moto does not implement it; the loop here works on both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra import wiring
from shared.platform.records import REASON_ATTRIBUTE, SOURCE_ATTRIBUTE

OUTPUT_PREFIX = "DeadLetters"
MAX_MESSAGES = 10  # ReceiveMessage / SendMessageBatch / DeleteMessageBatch limit
DEAD_LETTER_ATTRIBUTES = frozenset({REASON_ATTRIBUTE, SOURCE_ATTRIBUTE})
"""Attributes a consumer adds when it dead-letters a record at once (never sent back)."""
RECEIVE_VISIBILITY_SECONDS = 60
"""How long a received dead letter stays hidden while it is moved (or shown)."""


@dataclass(frozen=True)
class DeadLetterQueue:
    """One dead-letter queue and where its messages came from."""

    trigger: str
    """The declared trigger: an ``EventRule`` or ``WorkQueue`` name, or a ``Schedule``'s."""
    function: str
    """The declared function that failed them."""
    url: str
    source_queue_url: str | None = None
    """The queue to redrive into; ``None`` for a function's async dead letters."""
    function_name: str | None = None
    """The deployed function to invoke again (async dead letters only)."""

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def matches(self, selector: str) -> bool:
        """Whether ``selector`` names this queue: its trigger, its function or its name/URL."""
        wanted = selector.casefold()
        return wanted in {
            self.trigger.casefold(),
            self.function.casefold(),
            self.name.casefold(),
            self.url.casefold(),
        }


@dataclass(frozen=True)
class Depth:
    queue: DeadLetterQueue
    visible: int
    in_flight: int


@dataclass(frozen=True)
class Letter:
    """What may be shown of a dead letter: never its body."""

    message_id: str
    event_type: str
    sent_at: datetime | None
    receive_count: int
    reason: str = ""
    """Why a consumer dead-lettered it at once (no field values); empty after five failures."""


@dataclass(frozen=True)
class Redriven:
    queue: DeadLetterQueue
    moved: int
    failed: int


# --- discovery ------------------------------------------------------------------------------


def local_queues(
    info: dict[str, Any], functions: Iterable[wiring.Function] = wiring.FUNCTIONS
) -> list[DeadLetterQueue]:
    """The dead-letter queues of a local stack, from its ``local.json`` (``info``).

    The local stack runs scheduled rules itself and has no async dead-letter queues.
    """
    consumers = {
        trigger.name: fn.name
        for fn in functions
        for trigger in fn.triggers
        if isinstance(trigger, wiring.EventRule | wiring.WorkQueue)
    }
    sources: dict[str, str] = info.get("queues", {})
    return [
        DeadLetterQueue(
            trigger=trigger,
            function=consumers.get(trigger, "?"),
            url=url,
            source_queue_url=sources.get(trigger),
        )
        for trigger, url in sorted(info.get("dead_letter_queues", {}).items())
    ]


def stack_queues(outputs: dict[str, str]) -> list[DeadLetterQueue]:
    """The dead-letter queues a deployed stack lists in its ``DeadLetters*`` outputs."""
    queues = []
    for key, value in sorted(outputs.items()):
        if not key.startswith(OUTPUT_PREFIX):
            continue
        described = json.loads(value)
        queues.append(
            DeadLetterQueue(
                trigger=described["trigger"],
                function=described["function"],
                url=described["url"],
                source_queue_url=described.get("source_queue_url") or None,
                function_name=described.get("function_name") or None,
            )
        )
    return queues


def select(queues: list[DeadLetterQueue], selector: str) -> DeadLetterQueue:
    """The one queue ``selector`` names; ``LookupError`` (saying which exist) otherwise."""
    chosen = [q for q in queues if q.matches(selector)]
    if len(chosen) != 1:
        known = ", ".join(q.trigger for q in queues) or "none"
        raise LookupError(f"no single dead-letter queue {selector!r} (known: {known})")
    return chosen[0]


# --- inspection -----------------------------------------------------------------------------


def depth(sqs: Any, queue: DeadLetterQueue) -> Depth:
    """Approximate message counts (what SQS reports, a few seconds behind)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return Depth(
        queue,
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
    )


def peek(sqs: Any, queue: DeadLetterQueue, limit: int = 100) -> list[Letter]:
    """Up to ``limit`` dead letters (ids and event types), left in the queue.

    Messages are received, then made visible again at once; a dead-letter queue has no
    redrive policy, so receiving them moves nothing.
    """
    letters: dict[str, Letter] = {}
    handles: list[str] = []
    try:
        while len(letters) < limit:
            messages = _receive(sqs, queue.url, min(MAX_MESSAGES, limit - len(letters)))
            fresh = [m for m in messages if m["MessageId"] not in letters]
            if not fresh:
                break
            for message in fresh:
                letters[message["MessageId"]] = _letter(message)
                handles.append(message["ReceiptHandle"])
    finally:
        for start in range(0, len(handles), MAX_MESSAGES):
            sqs.change_message_visibility_batch(
                QueueUrl=queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(handles[start : start + MAX_MESSAGES])
                ],
            )
    return sorted(
        letters.values(), key=lambda letter: letter.sent_at or datetime.max.replace(tzinfo=UTC)
    )


def _letter(message: dict[str, Any]) -> Letter:
    attributes = message.get("Attributes", {})
    sent = attributes.get("SentTimestamp")
    return Letter(
        message_id=message["MessageId"],
        event_type=event_type(message["Body"]),
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
        reason=message.get("MessageAttributes", {})
        .get(REASON_ATTRIBUTE, {})
        .get("StringValue", ""),
    )


def event_type(body: str) -> str:
    """The kind of a message, never its content: an event's ``detail-type`` (or a scheduled
    event's), an email batch's ``kind``; ``-`` for anything else."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return "-"
    if not isinstance(parsed, dict):
        return "-"
    for field in ("detail-type", "kind"):
        value = parsed.get(field)
        if isinstance(value, str) and len(value) <= 100:
            return value
    return "-"


# --- redrive --------------------------------------------------------------------------------


def redrive(sqs: Any, queue: DeadLetterQueue, *, lambda_client: Any = None) -> Redriven:
    """Move the dead letters back where they failed (see module doc); at most as many as the
    queue held when it started, so messages failing again meanwhile are not cycled forever."""
    if queue.source_queue_url is None and (queue.function_name is None or lambda_client is None):
        raise ValueError(f"{queue.trigger}: nowhere to redrive to")
    budget = depth(sqs, queue).visible
    moved = failed = 0
    while moved + failed < budget:
        messages = _receive(sqs, queue.url, min(MAX_MESSAGES, budget - moved - failed))
        if not messages:
            break
        if queue.source_queue_url is not None:
            sent = _send_back(sqs, queue.source_queue_url, messages)
        else:
            sent = _invoke_again(lambda_client, str(queue.function_name), messages)
        done = [m for m in messages if m["MessageId"] in sent]
        if done:
            _delete(sqs, queue.url, done)
        moved += len(done)
        failed += len(messages) - len(done)
        if len(done) < len(messages):
            break  # the source refuses: leave the rest for the next run
    return Redriven(queue, moved=moved, failed=failed)


def _send_back(sqs: Any, source_url: str, messages: list[dict[str, Any]]) -> set[str]:
    """SendMessageBatch to the source queue; the ids of the messages it accepted."""
    by_entry = {str(i): m for i, m in enumerate(messages)}
    entries = []
    for entry, m in by_entry.items():
        # The dead-letter reason stays behind: a redriven record is judged afresh.
        kept = {
            name: value
            for name, value in m.get("MessageAttributes", {}).items()
            if name not in DEAD_LETTER_ATTRIBUTES
        }
        entries.append(
            {"Id": entry, "MessageBody": m["Body"], **({"MessageAttributes": kept} if kept else {})}
        )
    response = sqs.send_message_batch(QueueUrl=source_url, Entries=entries)
    return {by_entry[ok["Id"]]["MessageId"] for ok in response.get("Successful", [])}


def _invoke_again(
    lambda_client: Any, function_name: str, messages: list[dict[str, Any]]
) -> set[str]:
    """Invoke the function asynchronously with each message's body (its original event)."""
    sent = set()
    for message in messages:
        response = lambda_client.invoke(
            FunctionName=function_name, InvocationType="Event", Payload=message["Body"].encode()
        )
        if response.get("StatusCode") == 202:
            sent.add(message["MessageId"])
    return sent


def _receive(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=count,
        VisibilityTimeout=RECEIVE_VISIBILITY_SECONDS,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    return messages


def _delete(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    response = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ],
    )
    if response.get("Failed"):
        # Already sent back: a later redrive would send these again (consumers are idempotent).
        raise RuntimeError(f"{len(response['Failed'])} redriven message(s) not deleted from {url}")
