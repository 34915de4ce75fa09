"""The suppression list: hard bounces and complaints (no email at all) and unsubscribes
(no notices).

Two classes of email (:class:`MessageClass`, decided by the email's kind in
:func:`message_class`): *essential* mail is about a place the person holds or asked for (the
confirmation, the waitlist email, a promotion, the cancellation of their own place, a session
rescheduled or cancelled, calendar updates); *notices* are the rest (reminders, "we are live",
the follow-up, materials announcements, later organiser messages). An unsubscribe stops
notices only; a hard bounce or a complaint stops all mail (:func:`blocked`), and promotion from
the waiting list passes over such an address (:func:`unreachable`).

One item per canonical address (``SUPPRESSED#{email}``, :mod:`shared.platform.keys`). Every send
asks
:func:`blocked` (from :func:`shared.mail.sending.send_once`, the one place), so confirmations,
waitlist
emails, promotions, notices and materials emails all honour it; a notice batch looks its
recipients up at once (:func:`lookup`, one BatchGetItem) instead of one GetItem each.

Reasons rank: a bounce or a complaint is kept until an organiser lifts it (``kbs suppressions
lift``); an unsubscribe is also lifted by a new registration the address submits later (an
explicit new request), and a bounce or complaint replaces it. Writes are conditional and
timestamps come from the event, so a replayed feedback event or link changes nothing.

While an address is suppressed its registrations carry ``suppressed`` (the reason) and
``suppressed_at``, so organisers see why someone gets no email.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from shared.platform import keys
from shared.platform.clients import table
from shared.platform.observability import logger
from shared.registrations.models import normalise_email

_BATCH_GET_KEYS = 100
_MAX_BATCH_GET_ATTEMPTS = 5


class Reason(StrEnum):
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"


class MessageClass(StrEnum):
    ESSENTIAL = "essential"
    NOTICE = "notice"


UNREACHABLE = frozenset({Reason.BOUNCED, Reason.COMPLAINED})
"""Reasons that stop every email, essential ones included."""
ESSENTIAL_KINDS = frozenset(
    {
        "confirmation",  # also a promotion from the waiting list, and a resent confirmation
        "waitlist",
        "place-cancelled",  # the end of one's own place (self-cancel, erasure, removal)
        "update",  # the session rescheduled: its calendar update
        "cancellation",  # the session cancelled: its calendar CANCEL
        "material-rejected",  # to the organisers
        "certificate",  # a certificate of attendance (issued, reissued or resent)
        "message-essential",  # an organiser's message about the session itself (--essential)
    }
)
"""The ``X-KBS-Kind`` of essential mail; every other kind is a notice."""


def message_class(kind: str) -> MessageClass:
    """The class of an email of ``kind`` (its ``X-KBS-Kind``); unknown kinds are notices."""
    return MessageClass.ESSENTIAL if kind in ESSENTIAL_KINDS else MessageClass.NOTICE


def stops(reason: Reason, cls: MessageClass) -> bool:
    """Whether a suppression for ``reason`` stops an email of class ``cls`` (module doc)."""
    return reason in UNREACHABLE or cls is MessageClass.NOTICE


@dataclass(frozen=True)
class Suppression:
    email: str
    reason: Reason
    suppressed_at: datetime
    feedback_id: str = ""
    """The SES feedback id of the bounce or complaint (empty for an unsubscribe)."""


@dataclass(frozen=True)
class Snapshot:
    """The suppressions of some addresses, read at once (:func:`lookup`)."""

    covered: frozenset[str] = frozenset()
    reasons: dict[str, Reason] = field(default_factory=dict)


def key(email: str) -> dict[str, str]:
    return {"PK": keys.suppression_pk(normalise_email(email)), "SK": keys.SUPPRESSION_SK}


def get(table_name: str, email: str) -> Suppression | None:
    item = table(table_name).get_item(Key=key(email), ConsistentRead=True).get("Item")
    return _from_item(item) if item else None


def lookup(table_name: str, emails: Iterable[str]) -> Snapshot:
    """The suppressions of ``emails`` (BatchGetItem, 100 keys a call)."""
    wanted = list(dict.fromkeys(normalise_email(e) for e in emails))
    reasons: dict[str, Reason] = {}
    for start in range(0, len(wanted), _BATCH_GET_KEYS):
        for item in _batch_get(table_name, [key(e) for e in wanted[start : start + 100]]):
            reasons[str(item["email"])] = Reason(item["reason"])
    return Snapshot(covered=frozenset(wanted), reasons=reasons)


def blocked(
    table_name: str,
    recipients: Iterable[str],
    known: Snapshot | None = None,
    *,
    message_class: MessageClass,
) -> str:
    """The reason an email of ``message_class`` must not go to ``recipients``, or ``""``: the
    check before every send (an unsubscribe blocks notices only, see module doc).

    ``known`` (a :func:`lookup` of the batch) answers for the addresses it covers; any other
    address is read now.
    """
    for recipient in recipients:
        email = normalise_email(recipient)
        if known is not None and email in known.covered:
            reason = known.reasons.get(email)
        else:
            found = get(table_name, email)
            reason = found.reason if found else None
        if reason and stops(reason, message_class):
            return reason.value
    return ""


def unreachable(table_name: str, email: str) -> Reason | None:
    """Why no email at all can reach ``email`` (bounced, complained), or None."""
    found = get(table_name, email)
    return found.reason if found and found.reason in UNREACHABLE else None


def suppress(
    table_name: str,
    email: str,
    reason: Reason,
    at: datetime,
    *,
    feedback_id: str = "",
) -> bool:
    """Suppress ``email`` (see module doc for what replaces what); True if this call did.

    Its registrations are marked with the suppression in force, even when this call changed
    nothing (completing a run that stopped in between).
    """
    email = normalise_email(email)
    item = {
        **key(email),
        "GSI1PK": keys.SUPPRESSIONS,
        "GSI1SK": keys.suppressions_gsi1sk(at, email),
        "type": "suppression",
        "email": email,
        "reason": reason.value,
        "suppressed_at": at.isoformat(),
        "feedback_id": feedback_id,
    }
    request: dict[str, Any] = {"Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
    if reason is not Reason.UNSUBSCRIBED:  # a bounce or complaint replaces an unsubscribe
        request["ConditionExpression"] += " OR reason = :unsubscribed"
        request["ExpressionAttributeValues"] = {":unsubscribed": Reason.UNSUBSCRIBED.value}
    try:
        table(table_name).put_item(**request)
        changed = True
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        changed = False
    current = get(table_name, email)
    if current is not None:
        _mark(table_name, email, current)
    return changed


def lift(table_name: str, email: str) -> Suppression | None:
    """Remove the suppression of ``email`` (whatever its reason): what was lifted, if any.

    Its registrations lose their mark, also when there was nothing to lift (a retry).
    """
    email = normalise_email(email)
    response = table(table_name).delete_item(Key=key(email), ReturnValues="ALL_OLD")
    _mark(table_name, email, None)
    old = response.get("Attributes")
    return _from_item(old) if old else None


def renewed(table_name: str, email: str, submitted_at: datetime) -> Suppression | None:
    """A registration submitted at ``submitted_at`` by ``email``: the suppression still in force.

    It lifts an unsubscribe made before it (an explicit new request; a replay of an older
    submission lifts nothing); a bounce or complaint stays, and the new registrations are
    marked with it.
    """
    email = normalise_email(email)
    item = table(table_name).get_item(Key=key(email), ConsistentRead=True).get("Item")
    if item is None:
        return None
    current = _from_item(item)
    if current.reason is Reason.UNSUBSCRIBED and current.suppressed_at < submitted_at:
        try:
            table(table_name).delete_item(
                Key=key(email),
                ConditionExpression="reason = :unsubscribed AND suppressed_at = :at",
                ExpressionAttributeValues={
                    ":unsubscribed": Reason.UNSUBSCRIBED.value,
                    ":at": item["suppressed_at"],
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # Replaced meanwhile (a bounce, a complaint): that one stays.
            replaced = get(table_name, email)
            if replaced is not None:
                _mark(table_name, email, replaced)
            return replaced
        _mark(table_name, email, None)
        logger.info("Unsubscribe lifted by a new registration")
        return None
    _mark(table_name, email, current)
    return current


def listing(table_name: str) -> list[Suppression]:
    """Every suppression, oldest first (Query on GSI1)."""
    condition = Key("GSI1PK").eq(keys.SUPPRESSIONS)
    return [_from_item(item) for item in _query(table_name, condition)]


def _mark(table_name: str, email: str, suppression: Suppression | None) -> None:
    """Set (or, for ``None``, remove) the mark on every registration of ``email``."""
    condition = Key("GSI1PK").eq(keys.registrant_gsi1pk(email))
    for item in _query(table_name, condition):
        if item.get("type") != "registration":
            continue
        target = {"PK": item["PK"], "SK": item["SK"]}
        try:
            if suppression is None:
                if "suppressed" not in item:
                    continue
                table(table_name).update_item(
                    Key=target,
                    UpdateExpression="REMOVE suppressed, suppressed_at",
                    ConditionExpression="attribute_exists(PK)",
                )
                continue
            at = suppression.suppressed_at.isoformat()
            if (
                item.get("suppressed") == suppression.reason.value
                and item.get("suppressed_at") == at
            ):
                continue
            table(table_name).update_item(
                Key=target,
                UpdateExpression="SET suppressed = :reason, suppressed_at = :at",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":reason": suppression.reason.value, ":at": at},
            )
        except ClientError as exc:  # deleted meanwhile (erased): nothing to mark
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


def _query(table_name: str, condition: Any) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {"IndexName": "GSI1", "KeyConditionExpression": condition}
    while True:
        page = table(table_name).query(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _batch_get(table_name: str, wanted: list[dict[str, str]]) -> list[dict[str, Any]]:
    request: dict[str, Any] = {table_name: {"Keys": wanted, "ConsistentRead": True}}
    items: list[dict[str, Any]] = []
    for attempt in range(_MAX_BATCH_GET_ATTEMPTS):
        response = table(table_name).meta.client.batch_get_item(RequestItems=request)
        items.extend(response["Responses"].get(table_name, []))
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return items
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError("DynamoDB left keys unprocessed after retries")


def _from_item(item: dict[str, Any]) -> Suppression:
    return Suppression(
        email=str(item["email"]),
        reason=Reason(item["reason"]),
        suppressed_at=datetime.fromisoformat(str(item["suppressed_at"])),
        feedback_id=str(item.get("feedback_id", "")),
    )
