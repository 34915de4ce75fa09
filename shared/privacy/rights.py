"""Data subject rights: everything held about one address (export), and its erasure.

What the table holds about a person, all keyed by their canonical address
(:mod:`shared.platform.keys`):
their registrations ``SESSION#{id} / REG#{email}`` (found by Query on GSI1
``REGISTRANT#{email}``), and per session of those registrations a waitlist entry
``WAIT#{email}`` and a promotion notice ``PROMOTED#{email}`` (GetItem: they are only ever
written with the registration), plus a suppression ``SUPPRESSED#{email}`` (GetItem). Never a
Scan. Send-once records ``EMAIL#{key}`` hold no personal data (a send key names a reference).

Erasure, per registration: a confirmed place or waitlist entry in a session not yet over is
first cancelled through :func:`shared.registrations.cancellation.cancel_registration`, exactly as
the
registrant's own link would (counters right, "Registration Cancelled" published, so the waiting
list is promoted); then the waitlist entry, the promotion notice and the registration are
deleted, the last together with ``erased + 1`` on the session's META item in one transaction.
Only anonymous counts remain: the session's ``confirmed`` / ``waitlisted`` counters and
``erased``. An erasure interrupted half-way is completed by running it again (the registration
goes last, so it is found again); a second erasure finds nothing.

Retention (:mod:`shared.privacy.retention`) removes the same items by TTL once a series is past.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from shared.platform import keys
from shared.platform.clients import table, transact_write
from shared.platform.observability import logger
from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.privacy import erasures, retention
from shared.programme.models import SessionStatus
from shared.programme.repository import SessionNotFoundError, get_session
from shared.registrations import cancellation
from shared.registrations.models import RegistrationStatus, normalise_email
from shared.registrations.store import (
    query_items,
    reference_registrations,
    registration_from_item,
    registration_key,
    registration_record,
)
from shared.web import links

ERASURE_LISTENERS: list[Callable[[str], object]] = []
"""Called with each erased address: ``kbs serve`` drops its outbox copies here; none in AWS."""
ERASED = "erased"
"""The anonymous count of erased registrations, on each session's META item."""
_INDEX_ATTRIBUTES = frozenset({"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"})
_HELD = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


class NothingHeldError(LookupError):
    """The link names no registration we still hold (erased, or never made)."""


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed (counts only: the report is safe to log)."""

    registrations: int = 0
    cancelled: int = 0
    """Places or waitlist entries given back (sessions not yet over)."""
    waitlist_entries: int = 0
    promotion_notices: int = 0
    suppression: bool = False

    @property
    def found(self) -> bool:
        held = (self.registrations, self.waitlist_entries, self.promotion_notices)
        return any(held) or self.suppression


# --- the link ---------------------------------------------------------------------------------


def address_of(token: str, *, now: datetime, settings: Settings) -> str:
    """The address a "your data" link was issued to, found by the registration it names.

    Raises :class:`shared.web.links.InvalidLinkError` or :class:`NothingHeldError`.
    """
    claims = links.verify(token, signing_keys(settings), purpose=links.PRIVACY, now=now)
    for registration in reference_registrations(settings.table_name, claims.reference):
        if registration.session_id == claims.session_id and claims.is_for(registration.email):
            return normalise_email(registration.email)
    raise NothingHeldError(claims.reference)


# --- export -----------------------------------------------------------------------------------


def export(table_name: str, email: str, *, now: datetime) -> dict[str, Any]:
    """Everything held about ``email``, as JSON-ready data (see module doc)."""
    email_key = normalise_email(email)
    registrations: list[dict[str, Any]] = []
    waitlist_entries: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    for item in _registrations(table_name, email_key):
        session_id = str(item["session_id"])
        registrations.append({"session": _session_summary(table_name, session_id), **_plain(item)})
        for sk, found in ((keys.waitlist_sk, waitlist_entries), (keys.promotion_sk, notices)):
            held = _get(table_name, keys.session_pk(session_id), sk(email_key))
            if held:
                found.append(_plain(held))
    suppression = _get(table_name, keys.suppression_pk(email_key), keys.SUPPRESSION_SK)
    return {
        "email": email_key,
        "exported_at": now.astimezone(UTC).isoformat(),
        "registrations": registrations,
        "waitlist_entries": waitlist_entries,
        "promotion_notices": notices,
        "suppression": _plain(suppression) if suppression else None,
    }


# --- erasure ----------------------------------------------------------------------------------


def erase(
    email: str, *, now: datetime, settings: Settings, correlation_id: str | None = None
) -> Erasure:
    """Remove every personal record of ``email`` (see module doc); idempotent."""
    table_name, email_key = settings.table_name, normalise_email(email)
    counts = {"registrations": 0, "cancelled": 0, "waitlist_entries": 0, "promotion_notices": 0}
    for item in _registrations(table_name, email_key):
        registration = registration_from_item(item)
        session_id = registration.session_id
        session_exists = True
        try:
            session = get_session(table_name, session_id).session
        except SessionNotFoundError:
            session_exists = False
        else:
            over = session.status is SessionStatus.ENDED or now >= session.end
            if registration.status in _HELD and not over:
                cancelled = cancellation.cancel_registration(
                    registration, now=now, settings=settings, correlation_id=correlation_id
                )
                counts["cancelled"] += cancelled is not None
        pk = keys.session_pk(session_id)
        counts["waitlist_entries"] += _delete(table_name, pk, keys.waitlist_sk(email_key))
        counts["promotion_notices"] += _delete(table_name, pk, keys.promotion_sk(email_key))
        counts["registrations"] += _delete_registration(
            table_name, session_id, email_key, count=session_exists
        )
    # The suppression list is personal data too (it holds the address). Erasing it is what the
    # person asked for, and it is safe: no registration is left that could email them, and a
    # new registration would be their own new request (as a new registration lifts an
    # unsubscribe anyway); a later bounce or complaint suppresses the address again.
    suppression = _delete(table_name, keys.suppression_pk(email_key), keys.SUPPRESSION_SK)
    # Attendance and certificates (kept for years as proof of CPD) go too; each certificate's
    # number stays as a tombstone, so verification says it was withdrawn at the holder's request.
    from shared.certificates import record

    record.erase(email_key, settings=settings, now=now)
    erasures.record(table_name, email_key, at=now)  # so a replayed submission stays erased
    erasure = Erasure(**counts, suppression=suppression)
    for listener in ERASURE_LISTENERS:
        listener(email_key)
    logger.info("Personal data erased", extra={"found": erasure.found, **counts})
    return erasure


def _delete_registration(table_name: str, session_id: str, email_key: str, *, count: bool) -> bool:
    """Delete the registration, and count it on the session (one transaction)."""
    delete: dict[str, Any] = {
        "TableName": table_name,
        "Key": registration_key(session_id, email_key),
        "ConditionExpression": "attribute_exists(PK)",
    }
    actions: list[dict[str, Any]] = [{"Delete": delete}]
    if count:
        actions.append(
            {
                "Update": {
                    "TableName": table_name,
                    "Key": {"PK": keys.session_pk(session_id), "SK": keys.META},
                    "UpdateExpression": "ADD #erased :one",
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeNames": {"#erased": ERASED},
                    "ExpressionAttributeValues": {":one": 1},
                }
            }
        )
    try:
        transact_write(table_name, actions)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        return False  # erased meanwhile (or the session with it): nothing left to count
    return True


# --- helpers ----------------------------------------------------------------------------------


def _registrations(table_name: str, email_key: str) -> list[dict[str, Any]]:
    """The registration items of the address, each as stored now (the index lags)."""
    condition = Key("GSI1PK").eq(keys.registrant_gsi1pk(email_key)) & Key("GSI1SK").begins_with(
        keys.registrant_gsi1sk("")
    )  # GSI1 also holds the address's attendance and certificates
    found = query_items(table_name, IndexName="GSI1", KeyConditionExpression=condition)
    session_ids = dict.fromkeys(str(item["session_id"]) for item in found)
    items = [registration_record(table_name, s, email_key) for s in session_ids]
    return [item for item in items if item]


def _session_summary(table_name: str, session_id: str) -> dict[str, Any]:
    try:
        session = get_session(table_name, session_id).session
    except SessionNotFoundError:
        return {"session_id": session_id}
    return {
        "session_id": session_id,
        "title": session.title,
        "start": session.start.isoformat(),
        "end": session.end.isoformat(),
        "status": session.status.value,
    }


def _get(table_name: str, pk: str, sk: str) -> dict[str, Any] | None:
    item = table(table_name).get_item(Key={"PK": pk, "SK": sk}, ConsistentRead=True).get("Item")
    return dict(item) if item else None


def _delete(table_name: str, pk: str, sk: str) -> bool:
    response = table(table_name).delete_item(Key={"PK": pk, "SK": sk}, ReturnValues="ALL_OLD")
    return bool(response.get("Attributes"))


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """An item as JSON-ready data, without the table's index keys; its TTL also as a time."""
    data = {k: _json_value(v) for k, v in item.items() if k not in _INDEX_ATTRIBUTES}
    if isinstance(data.get(retention.TTL_ATTRIBUTE), int):
        expires = datetime.fromtimestamp(data[retention.TTL_ATTRIBUTE], UTC)
        data["deleted_by_retention_at"] = expires.isoformat()
    return data


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_json_value(v) for v in value]
    return value
