"""Self-service cancellation by signed link, and promotion from the waiting list.

Cancelling (``/registrations/cancel``): the link's token (:mod:`shared.links`) names a
registration by reference and session. One transaction marks it cancelled (condition: still
confirmed or waitlisted, same reference) and gives back what it held: a place
(``confirmed - 1``) or its waitlist entry (deleted, ``waitlisted - 1``). "Registration
Cancelled" is then published once: ``cancellation_announced_at`` records it, so a request
retried after a failed publication completes it. A replayed link changes nothing.

Promotion (on "Registration Cancelled"): while the session is open with a free place and a
waiting list, the first entry (GSI2, in order) is promoted in one transaction: entry deleted,
``waitlisted - 1``, ``confirmed + 1`` (condition ``confirmed < capacity``, session open),
registration waitlisted -> confirmed, and a promotion notice written (:mod:`shared.keys`).
The registrant then gets a confirmation with the join link and ``.ics`` (send-once, a send key
distinct from the waitlist email's), "Registration Confirmed" is published and the notice
deleted. A notice left by a crash is completed by the next run, unless the registrant
cancelled meanwhile. Concurrent runs meet only in the transaction's conditions, so places
never exceed capacity and each entry is promoted once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel

from shared import keys, links, retention
from shared.booking import (
    CONDITION_FAILED,
    CONFLICT,
    MAX_ATTEMPTS,
    BookingContentionError,
    WaitlistEntry,
    cancellation_reasons,
    get_registration,
    mark_notified,
    notify,
    query_items,
    reference_registrations,
    registration_from_item,
    registration_key,
    registration_record,
)
from shared.clients import table, transact_write
from shared.event_types import REGISTRATION_CANCELLED, SOURCE_REGISTRATIONS
from shared.events import OutgoingEvent, publish
from shared.mail import SendInProgressError
from shared.models import (
    AwareDatetime,
    Registration,
    RegistrationStatus,
    Session,
    SessionId,
    SessionStatus,
)
from shared.observability import logger
from shared.repository import SessionNotFoundError, get_session
from shared.secrets import signing_keys
from shared.settings import Settings

MAX_FAILED_ROUNDS = 32
"""Failed promotions in a row (each means another worker moved on) before giving up."""
ANNOUNCED = "cancellation_announced_at"
_CANCELLED = RegistrationStatus.CANCELLED
_CONFIRMED = RegistrationStatus.CONFIRMED
_WAITLISTED = RegistrationStatus.WAITLISTED
_INDEX_KEY = ("PK", "SK", "GSI2PK", "GSI2SK")


class RegistrationNotFoundError(LookupError):
    """No current registration matches the link (never made, or replaced by a newer one)."""


class SessionOverError(RuntimeError):
    """The session has taken place: there is nothing left to cancel."""


class CancelOutcome(StrEnum):
    CANCELLED = "cancelled"
    ALREADY_CANCELLED = "already_cancelled"


class CancelledData(BaseModel):
    """The ``data`` of a "Registration Cancelled" event (no personal data)."""

    reference: str
    session_id: SessionId
    previous_status: RegistrationStatus
    cancelled_at: AwareDatetime

    @property
    def idempotency_key(self) -> str:
        return f"registration-cancelled#{self.session_id}#{self.reference}"


@dataclass(frozen=True)
class LinkedRegistration:
    """The registration a cancellation link names, as stored now, and its session."""

    registration: Registration
    session: Session
    cancellation: CancelledData | None = None
    """How it was cancelled, once it is."""
    announced: bool = False


@dataclass(frozen=True)
class Cancellation:
    outcome: CancelOutcome
    registration: Registration
    session: Session
    previous_status: RegistrationStatus | None


# --- cancelling -----------------------------------------------------------------------------


def open_link(token: str, *, now: datetime, settings: Settings) -> LinkedRegistration:
    """The registration a cancellation link names; changes nothing.

    Raises :class:`shared.links.InvalidLinkError` (tampered, expired, other purpose),
    :class:`RegistrationNotFoundError`, or :class:`SessionOverError` (nothing left to cancel).
    """
    linked = _linked(settings.table_name, _claims(token, now, settings))
    _check_not_over(linked, now)
    return linked


def cancel(
    token: str, *, now: datetime, settings: Settings, correlation_id: str | None = None
) -> Cancellation:
    """Cancel the registration the link names (see module doc); a replay changes nothing.

    Raises as :func:`open_link`.
    """
    claims = _claims(token, now, settings)
    linked = _linked(settings.table_name, claims)
    _check_not_over(linked, now)
    registration, session = linked.registration, linked.session
    cancelled = None
    if registration.status is not _CANCELLED:
        cancelled = _cancel(settings.table_name, registration, now)
    if cancelled is None:  # cancelled before (perhaps just now, by a concurrent request)
        linked = _linked(settings.table_name, claims)
        if linked.cancellation and not linked.announced:
            _announce(settings, linked.registration, linked.cancellation, now, correlation_id)
        return Cancellation(CancelOutcome.ALREADY_CANCELLED, linked.registration, session, None)
    logger.info(
        "Registration cancelled",
        extra={
            "reference": cancelled.reference,
            "session_id": cancelled.session_id,
            "previous_status": cancelled.previous_status.value,
        },
    )
    registration = registration.model_copy(update={"status": _CANCELLED})
    _announce(settings, registration, cancelled, now, correlation_id)
    return Cancellation(CancelOutcome.CANCELLED, registration, session, cancelled.previous_status)


def cancel_registration(
    registration: Registration,
    *,
    now: datetime,
    settings: Settings,
    correlation_id: str | None = None,
) -> CancelledData | None:
    """Cancel a registration found otherwise than by its link (an erasure: :mod:`shared.privacy`)
    exactly as its link would: place or waitlist entry given back, "Registration Cancelled"
    published (so the waiting list is promoted). None if it was cancelled already."""
    cancelled = _cancel(settings.table_name, registration, now)
    if cancelled is not None:
        registration = registration.model_copy(update={"status": _CANCELLED})
        _announce(settings, registration, cancelled, now, correlation_id)
    return cancelled


def _claims(token: str, now: datetime, settings: Settings) -> links.LinkClaims:
    return links.verify(token, signing_keys(settings), purpose=links.CANCEL, now=now)


def _check_not_over(linked: LinkedRegistration, now: datetime) -> None:
    session = linked.session
    over = session.status is SessionStatus.ENDED or now >= session.end
    if over and linked.registration.status is not _CANCELLED:
        raise SessionOverError(session.session_id)


def _linked(table_name: str, claims: links.LinkClaims) -> LinkedRegistration:
    named = [
        r
        for r in reference_registrations(table_name, claims.reference)
        if r.session_id == claims.session_id and claims.is_for(r.email)
    ]
    # The index is eventually consistent: the item itself has the last word.
    item = registration_record(table_name, claims.session_id, named[0].email) if named else None
    if item is None or item["reference"] != claims.reference:
        raise RegistrationNotFoundError(claims.reference)
    try:
        session = get_session(table_name, claims.session_id).session
    except SessionNotFoundError as exc:
        raise RegistrationNotFoundError(claims.reference) from exc
    registration = registration_from_item(item)
    if registration.status is not _CANCELLED or "cancelled_from" not in item:
        return LinkedRegistration(registration, session)
    cancellation = CancelledData(
        reference=registration.reference,
        session_id=registration.session_id,
        previous_status=item["cancelled_from"],
        cancelled_at=item["cancelled_at"],
    )
    return LinkedRegistration(registration, session, cancellation, ANNOUNCED in item)


def _cancel(table_name: str, registration: Registration, now: datetime) -> CancelledData | None:
    """Cancel in one transaction; None if it was cancelled (or replaced) meanwhile."""
    current = registration
    for attempt in range(MAX_ATTEMPTS):
        cancelled = CancelledData(
            reference=current.reference,
            session_id=current.session_id,
            previous_status=current.status,
            cancelled_at=now,
        )
        try:
            _transact(table_name, _cancel_transaction(table_name, current, cancelled))
        except ClientError as exc:
            registration_reason, *others = cancellation_reasons(exc)
            if registration_reason["Code"] == CONDITION_FAILED:
                fresh = get_registration(table_name, current.session_id, current.email)
                if fresh is None or fresh.reference != current.reference:
                    return None
                if fresh.status is _CANCELLED:
                    return None
                current = fresh  # promoted meanwhile: give back the place instead
            elif any(r["Code"] == CONFLICT for r in [registration_reason, *others]):
                _back_off(attempt)
            else:
                raise
            continue
        return cancelled
    raise BookingContentionError(registration.session_id)


def _cancel_transaction(
    table_name: str, registration: Registration, cancelled: CancelledData
) -> list[dict[str, Any]]:
    """Registration cancelled (first, for the reasons), counter down, waitlist entry deleted."""
    waitlisted = registration.status is _WAITLISTED
    counter = "waitlisted" if waitlisted else "confirmed"
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table_name,
                "Key": registration_key(registration.session_id, registration.email),
                "UpdateExpression": "SET #status = :cancelled, cancelled_at = :at, "
                "cancelled_from = :was",
                "ConditionExpression": "#status = :was AND #reference = :reference",
                "ExpressionAttributeNames": {"#status": "status", "#reference": "reference"},
                "ExpressionAttributeValues": {
                    ":cancelled": _CANCELLED.value,
                    ":was": registration.status.value,
                    ":at": cancelled.cancelled_at.isoformat(),
                    ":reference": registration.reference,
                },
            }
        },
        {
            "Update": {
                "TableName": table_name,
                "Key": _meta_key(registration.session_id),
                "UpdateExpression": "ADD #counter :minus_one",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeNames": {"#counter": counter},
                "ExpressionAttributeValues": {":minus_one": -1},
            }
        },
    ]
    if waitlisted:
        actions.append({"Delete": {"TableName": table_name, "Key": _entry_key(registration)}})
    return actions


def _announce(
    settings: Settings,
    registration: Registration,
    cancelled: CancelledData,
    now: datetime,
    correlation_id: str | None,
) -> None:
    event = OutgoingEvent(
        source=SOURCE_REGISTRATIONS,
        detail_type=REGISTRATION_CANCELLED,
        data=cancelled.model_dump(mode="json"),
        idempotency_key=cancelled.idempotency_key,
        correlation_id=correlation_id,
    )
    publish([event], settings.event_bus_name)
    mark_notified(settings.table_name, registration, now, attribute=ANNOUNCED)


# --- promotion ------------------------------------------------------------------------------


def promote_waitlisted(
    session_id: str, *, now: datetime, settings: Settings, correlation_id: str | None = None
) -> list[Registration]:
    """Fill the session's free places from its waiting list, in order (see module doc).

    Idempotent: a replay finds no free place or no waiting list, and only completes what a
    crashed run left. Returns the registrations promoted by this run.
    """
    promoted = []
    promotions = _promote(settings.table_name, session_id, now, settings.retention_days)
    for registration, session in promotions:
        logger.info(
            "Waitlisted registrant promoted",
            extra={"reference": registration.reference, "session_id": session_id},
        )
        # A concurrent run completing this notice holds the send: it (or its retry) finishes.
        with suppress(SendInProgressError):
            _notify_promoted(registration, session, now, settings, correlation_id)
        promoted.append(registration)
    _complete_notices(session_id, now, settings, correlation_id)
    return promoted


def _promote(
    table_name: str, session_id: str, now: datetime, retention_days: int
) -> Iterator[tuple[Registration, Session]]:
    """Promote the first waiting registrant while a place is free; yield each promoted."""
    past: dict[str, Any] | None = None  # index position past entries found stale
    failed = 0
    while True:
        try:
            availability = get_session(table_name, session_id)
        except SessionNotFoundError:
            return
        session = availability.session
        if availability.places_left <= 0 or not session.is_open_at(now):
            return
        first = _first_waiting(table_name, session_id, past)
        if first is None:
            return
        entry, position = first
        registration = get_registration(table_name, session_id, entry.email)
        if (
            registration is None
            or registration.status is not _WAITLISTED
            or registration.reference != entry.reference
        ):
            past = position  # left the list meanwhile (the index lags the table)
            continue
        promoted = registration.model_copy(update={"status": _CONFIRMED})
        try:
            expiration = retention.expiration(session, retention_days)
            _transact(table_name, _promotion_transaction(table_name, promoted, now, expiration))
        except ClientError as exc:
            session_reason, *others = cancellation_reasons(exc)
            if session_reason["Code"] == CONDITION_FAILED:
                return  # full or closed since the read: the place went elsewhere
            failed += 1
            if failed >= MAX_FAILED_ROUNDS:
                raise BookingContentionError(session_id) from exc
            if any(r["Code"] == CONFLICT for r in [session_reason, *others]):
                _back_off(failed)
            elif not any(r["Code"] == CONDITION_FAILED for r in others):
                raise
            continue  # taken or cancelled meanwhile: look again
        failed = 0
        yield promoted, session


def _first_waiting(
    table_name: str, session_id: str, past: dict[str, Any] | None
) -> tuple[WaitlistEntry, dict[str, Any]] | None:
    """The first waitlist entry (after ``past``) and its index position."""
    query: dict[str, Any] = {
        "IndexName": "GSI2",
        "KeyConditionExpression": Key("GSI2PK").eq(keys.waitlist_gsi2pk(session_id)),
        "Limit": 1,
    }
    if past:
        query["ExclusiveStartKey"] = past
    items = table(table_name).query(**query)["Items"]
    if not items:
        return None
    item = items[0]
    return WaitlistEntry.model_validate(item), {k: item[k] for k in _INDEX_KEY}


def _promotion_transaction(
    table_name: str, promoted: Registration, now: datetime, expiration: int
) -> list[dict[str, Any]]:
    """Counters (first, for the reasons), registration, waitlist entry, promotion notice."""
    reference = {":reference": promoted.reference}
    return [
        {
            "Update": {
                "TableName": table_name,
                "Key": _meta_key(promoted.session_id),
                "UpdateExpression": "ADD #confirmed :one, #waitlisted :minus_one",
                "ConditionExpression": "#status IN (:open, :live) AND "
                "(attribute_not_exists(#confirmed) OR #confirmed < #capacity)",
                "ExpressionAttributeNames": {
                    "#status": "status",
                    "#confirmed": "confirmed",
                    "#waitlisted": "waitlisted",
                    "#capacity": "capacity",
                },
                "ExpressionAttributeValues": {
                    ":one": 1,
                    ":minus_one": -1,
                    ":open": SessionStatus.OPEN.value,
                    ":live": SessionStatus.LIVE.value,
                },
            }
        },
        {
            "Update": {
                "TableName": table_name,
                "Key": registration_key(promoted.session_id, promoted.email),
                "UpdateExpression": "SET #status = :confirmed, promoted_at = :now",
                "ConditionExpression": "#status = :waitlisted AND #reference = :reference",
                "ExpressionAttributeNames": {"#status": "status", "#reference": "reference"},
                "ExpressionAttributeValues": {
                    ":confirmed": _CONFIRMED.value,
                    ":waitlisted": _WAITLISTED.value,
                    ":now": now.isoformat(),
                    **reference,
                },
            }
        },
        {
            "Delete": {
                "TableName": table_name,
                "Key": _entry_key(promoted),
                "ConditionExpression": "#reference = :reference",
                "ExpressionAttributeNames": {"#reference": "reference"},
                "ExpressionAttributeValues": reference,
            }
        },
        {
            "Put": {
                "TableName": table_name,
                "Item": {
                    **_notice_key(promoted.session_id, promoted.email),
                    "type": "promotion",
                    "session_id": promoted.session_id,
                    "email": promoted.email,
                    "reference": promoted.reference,
                    "promoted_at": now.isoformat(),
                    retention.TTL_ATTRIBUTE: expiration,
                },
            }
        },
    ]


def _notify_promoted(
    registration: Registration,
    session: Session,
    now: datetime,
    settings: Settings,
    correlation_id: str | None,
) -> None:
    """The confirmation email (once) and "Registration Confirmed"; then drop the notice."""
    notify(registration, session, now=now, settings=settings, correlation_id=correlation_id)
    _drop_notice(
        settings.table_name, registration.session_id, registration.email, registration.reference
    )


def _complete_notices(
    session_id: str, now: datetime, settings: Settings, correlation_id: str | None
) -> None:
    """Notify promotions a crashed run left, unless the registrant cancelled since."""
    table_name = settings.table_name
    condition = Key("PK").eq(keys.session_pk(session_id)) & Key("SK").begins_with(
        keys.PROMOTION_SK_PREFIX
    )
    for notice in query_items(table_name, KeyConditionExpression=condition, ConsistentRead=True):
        email, reference = notice["email"], notice["reference"]
        registration = get_registration(table_name, session_id, email)
        log = {"reference": reference, "session_id": session_id}
        if (
            registration is None
            or registration.status is not _CONFIRMED
            or registration.reference != reference
        ):
            logger.info("Promotion notice dropped: cancelled since", extra=log)
            _drop_notice(table_name, session_id, email, reference)
            continue
        logger.info("Completing a promotion notice", extra=log)
        session = get_session(table_name, session_id).session
        _notify_promoted(registration, session, now, settings, correlation_id)


def _drop_notice(table_name: str, session_id: str, email: str, reference: str) -> None:
    try:
        table(table_name).delete_item(
            Key=_notice_key(session_id, email),
            ConditionExpression="#reference = :reference",
            ExpressionAttributeNames={"#reference": "reference"},
            ExpressionAttributeValues={":reference": reference},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


# --- helpers --------------------------------------------------------------------------------


def _transact(table_name: str, actions: list[dict[str, Any]]) -> None:
    transact_write(table_name, actions)


def _back_off(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.02 * 2 ** min(attempt, 6)))


def _meta_key(session_id: str) -> dict[str, str]:
    return {"PK": keys.session_pk(session_id), "SK": keys.META}


def _entry_key(registration: Registration) -> dict[str, str]:
    return {
        "PK": keys.session_pk(registration.session_id),
        "SK": keys.waitlist_sk(registration.email),
    }


def _notice_key(session_id: str, email: str) -> dict[str, str]:
    return {"PK": keys.session_pk(session_id), "SK": keys.promotion_sk(email)}
