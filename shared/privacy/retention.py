"""Retention: personal data of a session is kept ``retention_days`` after the session ends.

Registration, waitlist and promotion items carry the table's TTL attribute ``expiration``
(Unix seconds, :data:`infra.wiring.TABLE`), so DynamoDB deletes them by itself once a series is
past. The days are a setting (``KBS_RETENTION_DAYS``, default 365). A rescheduled session's
items follow its new end (:func:`follow_session`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from shared.platform import keys
from shared.platform.clients import table
from shared.programme.models import Session

TTL_ATTRIBUTE = "expiration"
PERSONAL_SK_PREFIXES = (
    keys.REGISTRATION_SK_PREFIX,
    keys.WAITLIST_SK_PREFIX,
    keys.PROMOTION_SK_PREFIX,
)


def expiration(session: Session, retention_days: int) -> int:
    """The TTL (Unix seconds) of personal data held for ``session``."""
    return expiration_at(session.end, retention_days)


def expiration_at(session_end: datetime, retention_days: int) -> int:
    return int((session_end + timedelta(days=retention_days)).timestamp())


def follow_session(table_name: str, session: Session, retention_days: int) -> int:
    """Set the TTL of every personal item of ``session`` to :func:`expiration` of its current
    end (after a reschedule); idempotent. One Query of the session's partition; the number of
    items changed."""
    target = expiration(session, retention_days)
    records = table(table_name)
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.session_pk(session.session_id)),
        "ProjectionExpression": "PK, SK, #ttl",
        "ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE},
    }
    changed = 0
    while True:
        page = records.query(**query)
        for item in page["Items"]:
            if (
                not str(item["SK"]).startswith(PERSONAL_SK_PREFIXES)
                or item.get(TTL_ATTRIBUTE) == target
            ):
                continue
            try:
                records.update_item(
                    Key={"PK": item["PK"], "SK": item["SK"]},
                    UpdateExpression="SET #ttl = :ttl",
                    ConditionExpression="attribute_exists(PK)",  # not one deleted meanwhile
                    ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                    ExpressionAttributeValues={":ttl": target},
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                continue
            changed += 1
        if "LastEvaluatedKey" not in page:
            return changed
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
