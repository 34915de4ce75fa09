"""Attendance records, import audits and thresholds in the table (keys and access patterns in
:mod:`shared.platform.keys`; Query or GetItem, never Scan).

This module's :class:`Attendance`, :func:`session_attendance`, :func:`person_attendance` and
:func:`threshold_minutes` are the contract the certificates package reads (issue 13).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from shared.platform import keys
from shared.platform.clients import table
from shared.privacy import retention
from shared.programme.models import Session
from shared.registrations.models import normalise_email
from shared.registrations.store import query_items

DEFAULT_THRESHOLD_PERCENT = 75
"""Share of the scheduled minutes that qualifies, unless the series or the session sets one."""
SOURCES = ("zoom", "teams", "goto", "csv", "manual")


@dataclass(frozen=True)
class Attendance:
    """The minutes one person attended one session."""

    session_id: str
    email: str
    """Canonical (lower-case) address."""
    minutes: int
    source: str
    """One of :data:`SOURCES`."""
    recorded_at: datetime
    """UTC."""
    import_id: str | None
    reason: str = ""
    """Why it was corrected by hand (``source`` manual); empty for an import."""


def attendance_item(record: Attendance, session: Session, retention_years: int) -> dict[str, Any]:
    email = normalise_email(record.email)
    return {
        "PK": keys.session_pk(record.session_id),
        "SK": keys.attendance_sk(email),
        "GSI1PK": keys.registrant_gsi1pk(email),
        "GSI1SK": keys.attendance_gsi1sk(record.session_id),
        "type": "attendance",
        "session_id": record.session_id,
        "email": email,
        "minutes": record.minutes,
        "source": record.source,
        "recorded_at": record.recorded_at.isoformat(),
        "import_id": record.import_id,
        "reason": record.reason,
        retention.TTL_ATTRIBUTE: record_expiration(session, retention_years),
    }


def record_expiration(session: Session, retention_years: int) -> int:
    """TTL (Unix seconds) of attendance and its audit: ``retention_years`` after the session's
    end (a year taken as 365.25 days)."""
    return int((session.end + timedelta(days=365.25 * retention_years)).timestamp())


def attendance_from_item(item: dict[str, Any]) -> Attendance:
    return Attendance(
        session_id=str(item["session_id"]),
        email=str(item["email"]),
        minutes=int(item["minutes"]),
        source=str(item["source"]),
        recorded_at=datetime.fromisoformat(str(item["recorded_at"])),
        import_id=str(item["import_id"]) if item.get("import_id") else None,
        reason=str(item.get("reason", "")),
    )


def session_attendance(table_name: str, session_id: str) -> list[Attendance]:
    """Every attendance record of a session, by address (Query on the session's partition)."""
    condition = Key("PK").eq(keys.session_pk(session_id)) & Key("SK").begins_with(
        keys.ATTENDANCE_SK_PREFIX
    )
    items = query_items(table_name, KeyConditionExpression=condition, ConsistentRead=True)
    return [attendance_from_item(i) for i in items]


def person_attendance(table_name: str, email: str) -> list[Attendance]:
    """Every attendance record of an address across the series (Query on GSI1, eventually
    consistent), in session id order."""
    condition = Key("GSI1PK").eq(keys.registrant_gsi1pk(normalise_email(email))) & Key(
        "GSI1SK"
    ).begins_with(keys.ATTENDANCE_SK_PREFIX)
    items = query_items(table_name, IndexName="GSI1", KeyConditionExpression=condition)
    return [attendance_from_item(i) for i in items]


def get_attendance(table_name: str, session_id: str, email: str) -> Attendance | None:
    item = (
        table(table_name)
        .get_item(
            Key={
                "PK": keys.session_pk(session_id),
                "SK": keys.attendance_sk(normalise_email(email)),
            },
            ConsistentRead=True,
        )
        .get("Item")
    )
    return attendance_from_item(item) if item else None


# --- thresholds ----------------------------------------------------------------------------


def threshold_percent(table_name: str, session_id: str | None) -> tuple[int, str]:
    """The percent that applies to a session (or the series' default, ``session_id`` None) and
    where it comes from: ``session``, ``series`` or ``default``."""
    records = table(table_name)
    if session_id is not None:
        item = records.get_item(Key=_threshold_key(session_id), ConsistentRead=True).get("Item")
        if item:
            return int(str(item["percent"])), "session"
    item = records.get_item(Key=_threshold_key(None), ConsistentRead=True).get("Item")
    if item:
        return int(str(item["percent"])), "series"
    return DEFAULT_THRESHOLD_PERCENT, "default"


def threshold_minutes(table_name: str, session: Session) -> int:
    """Minutes a person must attend ``session`` to qualify for a certificate: the percent of
    :func:`threshold_percent` of the scheduled minutes, rounded up (75% of 90 is 68)."""
    percent, _ = threshold_percent(table_name, session.session_id)
    return math.ceil(session.duration_minutes * percent / 100)


def set_threshold(table_name: str, percent: int, session_id: str | None, now: datetime) -> None:
    """Set the series' default (``session_id`` None) or one session's threshold, in percent of
    the scheduled minutes (1-100; ``ValueError`` otherwise)."""
    if not 1 <= percent <= 100:
        raise ValueError("the threshold is a percent of the scheduled minutes, from 1 to 100")
    table(table_name).put_item(
        Item={
            **_threshold_key(session_id),
            "type": "attendance_threshold",
            "percent": percent,
            "set_at": now.isoformat(),
        }
    )


def _threshold_key(session_id: str | None) -> dict[str, str]:
    pk = keys.SERIES if session_id is None else keys.session_pk(session_id)
    return {"PK": pk, "SK": keys.ATTENDANCE_THRESHOLD_SK}


# --- import audits -------------------------------------------------------------------------


def latest_import(table_name: str, session_id: str) -> dict[str, Any] | None:
    """The newest import audit of a session (file imports only, not corrections), or None."""
    condition = Key("PK").eq(keys.session_pk(session_id)) & Key("SK").begins_with(
        keys.ATTENDANCE_IMPORT_SK_PREFIX
    )
    for item in query_items(
        table_name, KeyConditionExpression=condition, ScanIndexForward=False, ConsistentRead=True
    ):
        if item.get("kind") == "import":
            return dict(item)
    return None


def import_audits(table_name: str, session_id: str) -> list[dict[str, Any]]:
    """Every import and correction audit of a session, oldest first."""
    condition = Key("PK").eq(keys.session_pk(session_id)) & Key("SK").begins_with(
        keys.ATTENDANCE_IMPORT_SK_PREFIX
    )
    items = query_items(table_name, KeyConditionExpression=condition, ConsistentRead=True)
    return [dict(i) for i in items]


def put_audit(table_name: str, item: dict[str, Any]) -> None:
    table(table_name).put_item(Item=item)


def mark_published(table_name: str, audit: dict[str, Any], now: datetime) -> None:
    """The audit's event was published: its pending attendee list (addresses) goes."""
    table(table_name).update_item(
        Key={"PK": audit["PK"], "SK": audit["SK"]},
        UpdateExpression="SET published_at = :now REMOVE pending_attendees",
        ExpressionAttributeValues={":now": now.isoformat()},
    )


def write_records(
    table_name: str, puts: list[dict[str, Any]], deletes: list[tuple[str, str]]
) -> None:
    """Put attendance items and delete ``(session id, email)`` records (BatchWriteItem in 25s,
    each write idempotent)."""
    with table(table_name).batch_writer() as batch:
        for item in puts:
            batch.put_item(Item=item)
        for session_id, email in deletes:
            batch.delete_item(
                Key={"PK": keys.session_pk(session_id), "SK": keys.attendance_sk(email)}
            )
