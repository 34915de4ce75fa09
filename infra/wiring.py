"""The one declaration of the wiring: which function handles which trigger, and what it may touch.

Plain Python data, no ``aws_cdk`` import: the CDK stack (``infra/stack.py``) and the local
runtime (``kbs serve``) are both generated from it, so the cloud and the laptop cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from shared.event_types import (  # noqa: F401 - re-exported: the declaration names them
    REGISTRATION_CONFIRMED,
    REGISTRATION_SUBMITTED,
    REGISTRATION_WAITLISTED,
    SESSION_CANCELLED,
    SESSION_ENDED,
    SESSION_SCHEDULED,
    SESSION_STARTED,
    SESSION_UPDATED,
    SOURCE_REGISTRATIONS,
    SOURCE_SESSIONS,
)

# Prefix under which organisers upload materials: sessions/{session_id}/{slides|guidance}/{name}.
MATERIALS_PREFIX = "sessions/"


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


Trigger = HttpRoute | EventRule | Schedule


@dataclass(frozen=True)
class Access:
    """What a function may touch; the stack turns each into a least-privilege grant."""

    table: Literal["none", "read", "write"] = "none"
    publish_events: bool = False
    send_email: bool = False
    bucket: Literal["none", "read", "write"] = "none"
    link_secret: bool = False


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
    reserved_concurrency: int | None = None

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
        access=Access(table="read", publish_events=True),
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
        access=Access(table="write", publish_events=True, send_email=True, link_secret=True),
        timeout_seconds=60,
    ),
)


def function(name: str) -> Function:
    """The declared function called ``name``."""
    for fn in FUNCTIONS:
        if fn.name == name:
            return fn
    raise KeyError(name)
