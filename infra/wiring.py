"""The one declaration of the wiring: which function handles which trigger, and what it may touch.

Plain Python data, no ``aws_cdk`` import: the CDK stack (``infra/stack.py``) and the local
runtime (``kbs serve``) are both generated from it, so the cloud and the laptop cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.platform.event_types import (  # noqa: F401 - re-exported: the declaration names them
    ATTENDANCE_RECORDED,
    AWS_S3,
    AWS_SES,
    CERTIFICATES_PREFIX,
    EMAIL_BOUNCED,
    EMAIL_COMPLAINED,
    EMAIL_REJECTED,
    MATERIALS_PREFIX,
    OBJECT_CREATED,
    QUARANTINE_PREFIX,
    REGISTRATION_CANCELLED,
    REGISTRATION_CONFIRMED,
    REGISTRATION_SUBMITTED,
    REGISTRATION_WAITLISTED,
    SESSION_CANCELLED,
    SESSION_ENDED,
    SESSION_SCHEDULED,
    SESSION_STARTED,
    SESSION_UPDATED,
    SOURCE_ATTENDANCE,
    SOURCE_REGISTRATIONS,
    SOURCE_SESSIONS,
)

# The queue of notice batches (reminders, live notices, follow-ups, updates) to email.
EMAIL_BATCHES = "EmailBatches"
# Placeholder for the materials bucket's name in an event pattern: it is named only at
# deployment (CDK) or start (local stack), which fill it in with ``resolved_pattern``.
MATERIALS_BUCKET = "${MaterialsBucket}"


def resolved_pattern(pattern: dict[str, Any], *, bucket: Any) -> dict[str, Any]:
    """``pattern`` with every :data:`MATERIALS_BUCKET` replaced by ``bucket`` (a name, or a
    CDK token)."""

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return bucket if value == MATERIALS_BUCKET else value

    filled: dict[str, Any] = fill(pattern)
    return filled


@dataclass(frozen=True)
class TableSpec:
    """The single DynamoDB table: string keys PK/SK, two overloaded GSIs, TTL on ``expiration``."""

    partition_key: str = "PK"
    sort_key: str = "SK"
    indexes: tuple[tuple[str, str, str], ...] = (
        ("GSI1", "GSI1PK", "GSI1SK"),
        ("GSI2", "GSI2PK", "GSI2SK"),
    )
    ttl_attribute: str = "expiration"


TABLE = TableSpec()

Bus = Literal["app", "default"]
"""``app`` is our custom bus; ``default`` receives AWS service events (S3, SES)."""


@dataclass(frozen=True)
class HttpRoute:
    """An HTTP API (payload v2) route, e.g. ``HttpRoute("POST", "/registrations")``."""

    method: str
    path: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class EventRule:
    """An EventBridge rule with an event pattern.

    The rule's target is an SQS queue (with its own DLQ) drained by the function through an
    event source mapping with partial batch responses: the handler receives SQS records whose
    body is the EventBridge event. The local runtime delivers the same way (moto cannot invoke
    Lambda targets), so cloud and laptop run the same handler code path.
    """

    name: str
    pattern: dict[str, Any]
    bus: Bus = "app"


@dataclass(frozen=True)
class Schedule:
    """An EventBridge scheduled rule (``rate(...)`` or ``cron(...)``) on the default bus."""

    name: str
    expression: str


@dataclass(frozen=True)
class WorkQueue:
    """An SQS queue our own code feeds (see ``Access.send_to``), drained by the declaring function.

    As for an ``EventRule`` queue: a dead-letter queue with an alarm, batches with partial batch
    responses. ``max_concurrency`` caps the concurrent invocations the event source mapping makes
    (at least 2), so what the function calls downstream (SES) sees a bounded rate. Senders find
    the queue's URL in the variable :func:`queue_url_variable` names.
    """

    name: str
    batch_size: int = 10
    max_concurrency: int | None = None


Trigger = HttpRoute | EventRule | Schedule | WorkQueue


DEAD_LETTER_QUEUES_VARIABLE = "KBS_DEAD_LETTER_QUEUES"
"""A queue consumer's dead-letter queues, JSON ``{source queue ARN: dead-letter queue URL}``:
records that can never succeed go there at once (``shared.platform.records.drain``)."""


def queue_url_variable(queue_name: str) -> str:
    """``EmailBatches`` -> ``KBS_EMAIL_BATCHES_QUEUE_URL`` (``shared.platform.settings`` reads
    it)."""
    return "KBS_" + re.sub(r"(?<!^)(?=[A-Z])", "_", queue_name).upper() + "_QUEUE_URL"


TableAction = Literal[
    "GetItem",
    "BatchGetItem",
    "Query",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "ConditionCheckItem",
]
"""The DynamoDB data actions (IAM names) a function may be granted: never ``Scan`` (no code
scans), nor the stream actions (the table has no stream). IAM has no ``TransactWriteItems``
action: a transaction needs the action of each item in it (``PutItem``, ``UpdateItem``,
``DeleteItem``, ``ConditionCheckItem``)."""
TABLE_READ: tuple[TableAction, ...] = ("GetItem", "BatchGetItem", "Query")
TABLE_WRITE: tuple[TableAction, ...] = (
    *TABLE_READ,
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "ConditionCheckItem",
)


@dataclass(frozen=True)
class TableAccess:
    """Exactly the DynamoDB actions a function's code calls on the table, and the indexes of
    :data:`TABLE` it queries (``Query`` is granted on ``<table>/index/<name>`` for each).

    ``tests/aws_calls.py`` records every call each handler makes in the integration tests and
    fails the test that makes one not declared here.
    """

    actions: tuple[TableAction, ...]
    indexes: tuple[str, ...] = ()

    @staticmethod
    def of(table: TableAccess | Literal["none", "read", "write"]) -> TableAccess | None:
        """A declaration as a ``TableAccess``: ``"read"``/``"write"`` (coarse, for a function
        whose calls are not yet declared) grant :data:`TABLE_READ`/:data:`TABLE_WRITE` on the
        table and every index; ``"none"``: ``None``."""
        if isinstance(table, TableAccess):
            return table
        if table == "none":
            return None
        indexes = tuple(name for name, _, _ in TABLE.indexes)
        return TableAccess(TABLE_READ if table == "read" else TABLE_WRITE, indexes)


def table_access(*writes: TableAction, indexes: tuple[str, ...] = ("GSI1", "GSI2")) -> TableAccess:
    """Reads (:data:`TABLE_READ`, ``Query`` on the table and ``indexes``) and the given write
    actions: ``table_access("PutItem", "UpdateItem")``. The writes are the ones the function's
    code was seen making (``tests/aws_calls.py``); reads are granted whole, as they change
    nothing and a path the tests miss must not fail in AWS."""
    return TableAccess((*TABLE_READ, *writes), indexes)


@dataclass(frozen=True)
class Access:
    """What a function may touch; the stack turns each into a least-privilege grant."""

    table: TableAccess | Literal["none", "read", "write"] = "none"
    """Prefer a :class:`TableAccess` naming the calls; ``"read"``/``"write"`` are coarse."""
    publish_events: bool = False
    send_email: bool = False
    bucket: Literal["none", "read", "write"] = "none"
    link_secret: bool = False
    certificates: Literal["none", "read", "write"] = "none"
    """The certificates' PDFs (prefix ``certificates/`` of the private bucket): ``read``
    (presigned downloads), ``write`` (also put and delete them)."""
    send_to: tuple[str, ...] = ()
    """Names of the ``WorkQueue``s the function may send messages to."""


@dataclass(frozen=True)
class Function:
    """A Lambda function: its handler (``module:function``), triggers and access."""

    name: str
    handler: str
    description: str
    triggers: tuple[Trigger, ...]
    access: Access = field(default_factory=Access)
    timeout_seconds: int = 30
    memory_mb: int = 512

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def entrypoint(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    def of_kind(self, kind: type[Trigger]) -> list[Any]:
        return [t for t in self.triggers if isinstance(t, kind)]


def detail_types(source: str, *names: str) -> dict[str, Any]:
    """An event pattern matching our own events of the given detail types."""
    return {"source": [source], "detail-type": list(names)}


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="api",
        handler="functions.api.handler.handler",
        description="Public HTTP API: the programme and the registration form",
        triggers=(
            HttpRoute("GET", "/"),
            HttpRoute("GET", "/sessions"),
            HttpRoute("POST", "/registrations"),
        ),
        # table "write": the submission caps' counters (shared.registrations.caps).
        access=Access(table=table_access("UpdateItem"), publish_events=True),
        timeout_seconds=10,
    ),
    Function(
        name="calendar_feed",
        handler="functions.calendar_feed.handler.handler",
        description="Calendar feeds: a registrant's own (signed link) and the programme's",
        triggers=(
            HttpRoute("GET", "/calendar/{token}"),
            HttpRoute("GET", "/sessions.ics"),
        ),
        access=Access(table="read", link_secret=True),
        timeout_seconds=10,
    ),
    Function(
        name="registration_processor",
        handler="functions.registration_processor.handler.handler",
        description="Books places atomically (or waitlists) and sends the confirmation email",
        triggers=(
            EventRule(
                "RegistrationSubmitted",
                detail_types(SOURCE_REGISTRATIONS, REGISTRATION_SUBMITTED),
            ),
        ),
        access=Access(
            table=table_access("PutItem", "UpdateItem", "DeleteItem"),
            publish_events=True,
            send_email=True,
            link_secret=True,
        ),
        timeout_seconds=60,
    ),
    Function(
        name="session_clock",
        handler="functions.session_clock.handler.handler",
        description="Every 5 minutes: due reminders (T-24h, T-1h), session start and end events",
        triggers=(Schedule("SessionClock", "rate(5 minutes)"),),
        access=Access(
            table=table_access("UpdateItem", "DeleteItem"),
            publish_events=True,
            send_to=(EMAIL_BATCHES,),
        ),
        timeout_seconds=300,
    ),
    Function(
        name="session_events",
        handler="functions.session_events.handler.handler",
        description="Session started, ended, rescheduled or cancelled: its status and notices",
        triggers=(
            EventRule(
                "SessionLifecycle",
                detail_types(
                    SOURCE_SESSIONS,
                    SESSION_STARTED,
                    SESSION_ENDED,
                    SESSION_UPDATED,
                    SESSION_CANCELLED,
                ),
            ),
        ),
        access=Access(table=table_access("UpdateItem"), send_to=(EMAIL_BATCHES,)),
        timeout_seconds=300,
    ),
    Function(
        name="email_sender",
        handler="functions.email_sender.handler.handler",
        description="Sends one batch of up to 50 notices, each at most once, paced for SES",
        # One batch per invocation and two at a time: with the pace of each sender
        # (KBS_EMAIL_SEND_RATE) this bounds the account's SES sending rate.
        triggers=(WorkQueue(EMAIL_BATCHES, batch_size=1, max_concurrency=2),),
        access=Access(
            table=table_access("PutItem", "UpdateItem", "DeleteItem"),
            send_email=True,
            link_secret=True,
        ),  # materials links
        timeout_seconds=60,
    ),
    Function(
        name="self_service",
        handler="functions.self_service.handler.handler",
        description="Registrants cancel, or leave the waiting list, by the signed link",
        triggers=(
            HttpRoute("GET", "/registrations/cancel"),
            HttpRoute("POST", "/registrations/cancel"),
        ),
        # send_email: the registrant is told, with the calendar CANCEL of their invitation.
        access=Access(
            table=table_access("PutItem", "UpdateItem", "DeleteItem"),
            publish_events=True,
            send_email=True,
            link_secret=True,
        ),
        timeout_seconds=10,
    ),
    Function(
        name="waitlist_promoter",
        handler="functions.waitlist_promoter.handler.handler",
        description="Gives places freed by cancellations to the waiting list, in order",
        triggers=(
            EventRule(
                "RegistrationCancelled",
                detail_types(SOURCE_REGISTRATIONS, REGISTRATION_CANCELLED),
            ),
        ),
        access=Access(
            table=table_access("PutItem", "UpdateItem", "DeleteItem"),
            publish_events=True,
            send_email=True,
            link_secret=True,
        ),
        timeout_seconds=60,
    ),
    Function(
        name="material_processor",
        handler="functions.material_processor.handler.handler",
        description="Checks each uploaded material by content, records it or quarantines it",
        triggers=(
            EventRule(
                "MaterialUploaded",
                {
                    "source": [AWS_S3],
                    "detail-type": [OBJECT_CREATED],
                    "detail": {
                        "bucket": {"name": [MATERIALS_BUCKET]},
                        "object": {"key": [{"prefix": MATERIALS_PREFIX}]},
                    },
                },
                bus="default",
            ),
        ),
        # bucket "write": move a rejected upload to the quarantine prefix.
        access=Access(table=table_access("PutItem", "UpdateItem"), bucket="write", send_email=True),
        timeout_seconds=60,
    ),
    Function(
        name="downloads",
        handler="functions.downloads.handler.handler",
        description="Registrants' materials by signed link: the list, and short-lived downloads",
        triggers=(
            HttpRoute("GET", "/materials/{material_id}"),
            HttpRoute("GET", "/sessions/{session_id}/materials"),
        ),
        access=Access(table=table_access(), bucket="read", link_secret=True),
        timeout_seconds=10,
    ),
    Function(
        name="email_feedback",
        handler="functions.email_feedback.handler.handler",
        description="SES bounces and complaints: the addresses go on the suppression list",
        triggers=(
            EventRule(
                "EmailFeedback",
                detail_types(AWS_SES, EMAIL_BOUNCED, EMAIL_COMPLAINED, EMAIL_REJECTED),
                bus="default",  # SES publishes sending events to the default bus only
            ),
        ),
        access=Access(table=table_access("PutItem", "UpdateItem", "DeleteItem")),
        timeout_seconds=30,
    ),
    Function(
        name="unsubscribe",
        handler="functions.unsubscribe.handler.handler",
        description="Registrants stop all email by the signed link (RFC 8058 one-click too)",
        triggers=(HttpRoute("GET", "/unsubscribe"), HttpRoute("POST", "/unsubscribe")),
        access=Access(table=table_access("PutItem", "UpdateItem"), link_secret=True),
        timeout_seconds=10,
    ),
    Function(
        name="privacy",
        handler="functions.privacy.handler.handler",
        description="Registrants export or erase their personal data by the signed link",
        triggers=(
            HttpRoute("GET", "/privacy"),
            HttpRoute("POST", "/privacy/export"),
            HttpRoute("POST", "/privacy/erase"),
        ),
        # publish_events: erasing cancels places ("Registration Cancelled" promotes the waitlist);
        # send_email: the calendar CANCEL goes out before the address is deleted.
        access=Access(
            table=table_access("PutItem", "UpdateItem", "DeleteItem"),
            publish_events=True,
            send_email=True,
            link_secret=True,
            certificates="write",  # erasure deletes the certificates' PDFs
        ),
        timeout_seconds=30,
    ),
    Function(
        name="certificates",
        handler="functions.certificates.handler.handler",
        description="Attendance recorded: certificates issued once to those qualifying, or revoked",
        triggers=(
            EventRule(
                "AttendanceRecorded",
                detail_types(SOURCE_ATTENDANCE, ATTENDANCE_RECORDED),
            ),
        ),
        access=Access(table="write", send_email=True, link_secret=True, certificates="write"),
        timeout_seconds=300,
        memory_mb=1024,
    ),
    Function(
        name="certificate_pages",
        handler="functions.certificate_pages.handler.handler",
        description="Certificates verified by number; holders' downloads, My record, transcripts",
        triggers=(
            HttpRoute("GET", "/certificates/{number}"),
            HttpRoute("GET", "/certificates/{number}/download"),
            HttpRoute("GET", "/record"),
            HttpRoute("GET", "/record/transcript"),
        ),
        # write: a transcript is a new number (its item and its PDF).
        access=Access(table="write", link_secret=True, certificates="write"),
        timeout_seconds=30,
    ),
)


def work_queues(functions: tuple[Function, ...]) -> dict[str, tuple[Function, WorkQueue]]:
    """Each declared ``WorkQueue`` by name, with the one function draining it.

    Raises ``ValueError`` if a queue is declared twice or a function may send to an undeclared one.
    """
    queues: dict[str, tuple[Function, WorkQueue]] = {}
    for fn in functions:
        for queue in fn.of_kind(WorkQueue):
            if queue.name in queues:
                raise ValueError(f"work queue {queue.name} is declared twice")
            queues[queue.name] = (fn, queue)
    for fn in functions:
        for name in fn.access.send_to:
            if name not in queues:
                raise ValueError(f"{fn.name} sends to {name}, which no function declares")
    return queues


def function(name: str) -> Function:
    """The declared function called ``name``."""
    for fn in FUNCTIONS:
        if fn.name == name:
            return fn
    raise KeyError(name)
