"""What each declared function is granted, in IAM terms, from its ``Access`` alone.

Plain Python (no ``aws_cdk``): the stack turns each :class:`Grant` into a policy statement on
the resource it names, and the integration tests (``tests/aws_calls.py``) check every AWS call
a handler makes against the same grants, with :func:`needed` mapping a call to IAM actions.
Resources are named abstractly here; ``infra/constructs/service_function.py`` makes them ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra import wiring

TABLE = "table"
"""The table's ARN; ``table/index/<name>`` for an index (:func:`index`)."""
MATERIALS = "materials"
QUARANTINE = "quarantine"
CERTIFICATES = "certificates"
"""The certificates' PDFs (``certificates/*`` of the private bucket)."""
BUS = "bus"
SENDER = "sender"
LINK_SECRET = "link-secret"  # noqa: S105 - a resource label, not a secret
DEAD_LETTERS = "dead-letters"
"""The dead-letter queue of a queue the function drains (records that can never succeed)."""
QUEUE_PREFIX = "queue/"
"""``queue/<WorkQueue name>``: a work queue the function sends to."""


def index(name: str) -> str:
    return f"{TABLE}/index/{name}"


@dataclass(frozen=True)
class Grant:
    """IAM ``actions`` on one abstract ``resource``."""

    actions: tuple[str, ...]
    resource: str


def grants(fn: wiring.Function) -> list[Grant]:
    """Every grant ``fn``'s ``Access`` (and its queue triggers) imply, in a stable order."""
    access = fn.access
    found: list[Grant] = []
    table = wiring.TableAccess.of(access.table)
    if table:
        found.append(Grant(tuple(f"dynamodb:{a}" for a in table.actions), TABLE))
        if "Query" in table.actions:
            found += [Grant(("dynamodb:Query",), index(name)) for name in table.indexes]
    if access.publish_events:
        found.append(Grant(("events:PutEvents",), BUS))
    if access.send_email:
        found.append(Grant(("ses:SendEmail", "ses:SendRawEmail"), SENDER))
    if access.bucket != "none":
        read = ("s3:GetObject", "s3:GetObjectVersion")
        delete = ("s3:DeleteObject", "s3:DeleteObjectVersion")
        found.append(Grant(read + delete if access.bucket == "write" else read, MATERIALS))
        if access.bucket == "write":
            found.append(Grant(("s3:PutObject",), QUARANTINE))
    if access.certificates != "none":
        write = ("s3:PutObject", "s3:DeleteObject") if access.certificates == "write" else ()
        found.append(Grant(("s3:GetObject", *write), CERTIFICATES))
    if access.link_secret:
        found.append(
            Grant(("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"), LINK_SECRET)
        )
    found += [Grant(("sqs:SendMessage",), QUEUE_PREFIX + name) for name in access.send_to]
    if fn.of_kind(wiring.EventRule) or fn.of_kind(wiring.WorkQueue):
        found.append(Grant(("sqs:SendMessage",), DEAD_LETTERS))
    return found


# SDK operations whose IAM action has another name (service as botocore names it).
ACTIONS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("sesv2", "SendEmail"): ("ses:SendEmail",),
    ("ses", "SendRawEmail"): ("ses:SendRawEmail",),
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "CopyObject"): ("s3:PutObject",),  # and s3:GetObject on CopySource (see needed)
}


# IAM authorises a transaction item by item, with the item's own action.
TRANSACTIONS: Mapping[str, Mapping[str, str]] = {
    "TransactWriteItems": {
        "Put": "PutItem",
        "Update": "UpdateItem",
        "Delete": "DeleteItem",
        "ConditionCheck": "ConditionCheckItem",
    },
    "TransactGetItems": {"Get": "GetItem"},
}


def needed(service: str, operation: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (IAM action, abstract resource) pairs an SDK call needs; the resource is ``""``
    where only the action is checked (queues, the bus, the sender, the secret).

    ``service`` and ``operation`` as botocore names them (``dynamodb``, ``Query``).
    """
    prefix = "ses" if service == "sesv2" else service
    actions = ACTIONS.get((service, operation), (f"{prefix}:{operation}",))
    if service == "dynamodb" and operation in TRANSACTIONS:
        return [
            (f"dynamodb:{TRANSACTIONS[operation][kind]}", TABLE)
            for item in params.get("TransactItems", [])
            for kind in item
        ]
    if service == "dynamodb":
        resource = index(params["IndexName"]) if params.get("IndexName") else TABLE
        return [(a, resource) for a in actions]
    if service == "s3":
        pairs = [(a, _object(params.get("Key", ""))) for a in actions]
        if params.get("VersionId") and operation in ("GetObject", "HeadObject", "DeleteObject"):
            pairs.append((f"{pairs[0][0]}Version", pairs[0][1]))
        if operation == "CopyObject":
            source = params["CopySource"]
            key = source["Key"] if isinstance(source, Mapping) else str(source).split("/", 1)[1]
            pairs.append(("s3:GetObject", _object(key)))
        return pairs
    return [(a, "") for a in actions]


def _object(key: str) -> str:
    if key.startswith(wiring.QUARANTINE_PREFIX):
        return QUARANTINE
    if key.startswith(wiring.MATERIALS_PREFIX):
        return MATERIALS
    if key.startswith(wiring.CERTIFICATES_PREFIX):
        return CERTIFICATES
    return f"s3-other:{key}"


def missing(
    fn: wiring.Function, service: str, operation: str, params: Mapping[str, Any]
) -> list[str]:
    """The ``action on resource`` pairs the call needs that ``fn``'s grants lack (``[]``: ok)."""
    granted = {(a, g.resource) for g in grants(fn) for a in g.actions}
    granted_actions = {a for a, _ in granted}
    return [
        f"{action} on {resource or '*'}"
        for action, resource in needed(service, operation, params)
        if not ((action, resource) in granted if resource else action in granted_actions)
    ]
