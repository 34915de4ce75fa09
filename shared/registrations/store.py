"""Registrations in the table: items, keys and the queries of :mod:`shared.platform.keys` (Query or
GetItem, never Scan)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from shared.platform import keys
from shared.platform.clients import table
from shared.privacy import retention
from shared.registrations.models import (
    Registration,
    normalise_email,
)

CONDITION_FAILED = "ConditionalCheckFailed"
CONFLICT = "TransactionConflict"
_REGISTRATION_FIELDS = tuple(Registration.model_fields)
deserialize = TypeDeserializer().deserialize


class WaitlistEntry(BaseModel):
    session_id: str
    email: str
    reference: str
    joined_at: datetime
    """When the API accepted the submission (its ``submitted_at``, to the millisecond)."""
    sequence: int = 0
    """The session's waitlist number, taken atomically at booking: breaks ties in time."""


def registration_item(registration: Registration, expiration: int | None = None) -> dict[str, Any]:
    email = normalise_email(registration.email)
    ttl = {} if expiration is None else {retention.TTL_ATTRIBUTE: expiration}
    return {
        **ttl,
        "PK": keys.session_pk(registration.session_id),
        "SK": keys.registration_sk(email),
        "GSI1PK": keys.registrant_gsi1pk(email),
        "GSI1SK": keys.registrant_gsi1sk(registration.session_id),
        "GSI2PK": keys.reference_gsi2pk(registration.reference),
        "GSI2SK": keys.reference_gsi2sk(registration.session_id),
        "type": "registration",
        **registration.model_dump(mode="json"),
        "email": email,
    }


def waitlist_item(
    registration: Registration,
    expiration: int | None = None,
    *,
    submitted_at: datetime,
    sequence: int,
) -> dict[str, Any]:
    """The waitlist entry of ``registration``, in the order of :func:`keys.waitlist_gsi2sk`."""
    email = normalise_email(registration.email)
    ttl = {} if expiration is None else {retention.TTL_ATTRIBUTE: expiration}
    return {
        **ttl,
        "PK": keys.session_pk(registration.session_id),
        "SK": keys.waitlist_sk(email),
        "GSI2PK": keys.waitlist_gsi2pk(registration.session_id),
        "GSI2SK": keys.waitlist_gsi2sk(submitted_at, sequence),
        "type": "waitlist",
        "session_id": registration.session_id,
        "email": email,
        "reference": registration.reference,
        "joined_at": submitted_at.isoformat(),
        "sequence": sequence,
    }


def registration_from_item(item: dict[str, Any]) -> Registration:
    return Registration.model_validate({k: item[k] for k in _REGISTRATION_FIELDS if k in item})


def get_registration(table_name: str, session_id: str, email: str) -> Registration | None:
    item = registration_record(table_name, session_id, normalise_email(email))
    return registration_from_item(item) if item else None


def session_registrations(table_name: str, session_id: str) -> list[Registration]:
    """Every registration of a session (any status)."""
    condition = Key("PK").eq(keys.session_pk(session_id)) & Key("SK").begins_with(
        keys.REGISTRATION_SK_PREFIX
    )
    items = query_items(table_name, KeyConditionExpression=condition)
    return [registration_from_item(i) for i in items]


def registrant_registrations(table_name: str, email: str) -> list[Registration]:
    """The address's registrations (GSI1 also holds its attendance and certificates: only
    ``GSI1SK`` ``SESSION#...`` items are registrations)."""
    condition = Key("GSI1PK").eq(keys.registrant_gsi1pk(normalise_email(email))) & Key(
        "GSI1SK"
    ).begins_with(keys.registrant_gsi1sk(""))
    items = query_items(table_name, IndexName="GSI1", KeyConditionExpression=condition)
    return [registration_from_item(i) for i in items]


def reference_registrations(table_name: str, reference: str) -> list[Registration]:
    condition = Key("GSI2PK").eq(keys.reference_gsi2pk(reference))
    items = query_items(table_name, IndexName="GSI2", KeyConditionExpression=condition)
    return [registration_from_item(i) for i in items]


def waitlist(table_name: str, session_id: str) -> list[WaitlistEntry]:
    """The waiting list of a session, first come first (request time, then sequence)."""
    condition = Key("GSI2PK").eq(keys.waitlist_gsi2pk(session_id))
    items = query_items(table_name, IndexName="GSI2", KeyConditionExpression=condition)
    return [WaitlistEntry.model_validate(i) for i in items]


def waitlist_position(table_name: str, registration: Registration) -> int | None:
    """Where ``registration``'s entry stands on its session's waiting list (1 first, the order
    of :func:`waitlist`), or None without an entry: one consistent GetItem of the entry and a
    ``Select=COUNT`` Query of the entries before it (GSI2, ``GSI2SK`` below its own), so the
    cost grows with the entries ahead, never the whole list read and parsed. An entry whose
    index copy lags (GSI2 is eventually consistent) still counts itself."""
    entry = (
        table(table_name)
        .get_item(Key=waitlist_entry_key(registration), ConsistentRead=True)
        .get("Item")
    )
    if entry is None:
        return None
    condition = Key("GSI2PK").eq(keys.waitlist_gsi2pk(registration.session_id)) & Key("GSI2SK").lt(
        entry["GSI2SK"]
    )
    query: dict[str, Any] = {
        "IndexName": "GSI2",
        "KeyConditionExpression": condition,
        "Select": "COUNT",
    }
    ahead = 0
    while True:
        page = table(table_name).query(**query)
        ahead += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return ahead + 1
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def mark_notified(
    table_name: str, registration: Registration, now: datetime, attribute: str = "notified_at"
) -> None:
    """Record (in ``attribute``) that the registrant was emailed and the change announced."""
    try:
        table(table_name).update_item(
            Key=registration_key(registration.session_id, registration.email),
            UpdateExpression="SET #at = :now",
            ConditionExpression="#reference = :reference",
            ExpressionAttributeNames={"#at": attribute, "#reference": "reference"},
            ExpressionAttributeValues={
                ":now": now.isoformat(),
                ":reference": registration.reference,
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def cancellation_reasons(exc: ClientError) -> list[dict[str, Any]]:
    if exc.response["Error"]["Code"] != "TransactionCanceledException":
        raise exc
    return list(exc.response.get("CancellationReasons", []))  # type: ignore[arg-type]


def registration_key(session_id: str, email: str) -> dict[str, str]:
    return {"PK": keys.session_pk(session_id), "SK": keys.registration_sk(normalise_email(email))}


def registration_record(table_name: str, session_id: str, email_key: str) -> dict[str, Any] | None:
    response = table(table_name).get_item(
        Key=registration_key(session_id, email_key), ConsistentRead=True
    )
    return response.get("Item")


def query_items(table_name: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = table(table_name).query(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def back_off(attempt: int) -> None:
    """Sleep before retry ``attempt`` of a contended transaction: full jitter, capped (seconds)."""
    time.sleep(random.uniform(0, 0.02 * 2 ** min(attempt, 6)))


def meta_key(session_id: str) -> dict[str, str]:
    return {"PK": keys.session_pk(session_id), "SK": keys.META}


def waitlist_entry_key(registration: Registration) -> dict[str, str]:
    return {
        "PK": keys.session_pk(registration.session_id),
        "SK": keys.waitlist_sk(registration.email),
    }
