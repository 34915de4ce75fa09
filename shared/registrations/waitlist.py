"""Promotion from the waiting list: free places go to the first waiting registrants, in order.

The order is first come, first served: the order in which the API accepted the submissions
(request time to the millisecond, then the session's waitlist sequence taken at booking:
:func:`shared.platform.keys.waitlist_gsi2sk`). A place is never given to someone who cannot be
told: an address that hard-bounced or complained (:func:`shared.mail.suppression.unreachable`)
is passed over and stays on the list, marked (:func:`listing`); an unsubscribe stops notices
only, so an unsubscribed registrant is promoted and gets the (essential) confirmation.

On "Registration Cancelled" (and whenever a place is freed): while the session is open with a
free place and a waiting list, the first reachable entry (GSI2, in order) is promoted in one
transaction:
entry deleted, ``waitlisted - 1``, ``confirmed + 1`` (condition ``confirmed < capacity``,
session open), registration waitlisted -> confirmed, and a promotion notice written
(:mod:`shared.platform.keys`). The registrant then gets a confirmation with the join link and
``.ics`` (send-once, a send key distinct from the waitlist email's), "Registration Confirmed"
is published and the notice deleted. A notice left by a crash is completed by the next run,
unless the registrant cancelled meanwhile. Concurrent runs meet only in the transaction's
conditions, so places never exceed capacity and each entry is promoted once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from shared.mail import suppression
from shared.mail.sending import SendInProgressError
from shared.platform import keys
from shared.platform.clients import table, transact_write
from shared.platform.observability import logger
from shared.platform.settings import Settings
from shared.privacy import retention
from shared.programme.models import Session, SessionStatus
from shared.programme.repository import SessionNotFoundError, get_session
from shared.registrations.booking import BookingContentionError
from shared.registrations.models import Registration, RegistrationStatus
from shared.registrations.notification import notify
from shared.registrations.store import (
    CONDITION_FAILED,
    CONFLICT,
    WaitlistEntry,
    back_off,
    cancellation_reasons,
    get_registration,
    meta_key,
    query_items,
    registration_key,
    waitlist,
    waitlist_entry_key,
)

_CONFIRMED = RegistrationStatus.CONFIRMED
_WAITLISTED = RegistrationStatus.WAITLISTED
_INDEX_KEY = ("PK", "SK", "GSI2PK", "GSI2SK")
MAX_FAILED_ROUNDS = 32
"""Failed promotions in a row (each means another worker moved on) before giving up."""


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
        if suppression.unreachable(table_name, entry.email):
            past = position  # could never be told: stays on the list, passed over
            continue
        promoted = registration.model_copy(update={"status": _CONFIRMED})
        try:
            expiration = retention.expiration(session, retention_days)
            transact_write(
                table_name, _promotion_transaction(table_name, promoted, now, expiration)
            )
        except ClientError as exc:
            session_reason, *others = cancellation_reasons(exc)
            if session_reason["Code"] == CONDITION_FAILED:
                return  # full or closed since the read: the place went elsewhere
            failed += 1
            if failed >= MAX_FAILED_ROUNDS:
                raise BookingContentionError(session_id) from exc
            if any(r["Code"] == CONFLICT for r in [session_reason, *others]):
                back_off(failed)
            elif not any(r["Code"] == CONDITION_FAILED for r in others):
                raise
            continue  # taken or cancelled meanwhile: look again
        failed = 0
        yield promoted, session


class PromotionRefusedError(RuntimeError):
    """An organiser's promotion cannot be made (the message says why); nothing changed."""


def promote_one(
    session_id: str,
    email: str,
    *,
    now: datetime,
    settings: Settings,
    over_capacity: bool = False,
    force: bool = False,
) -> Registration:
    """An organiser gives ``email`` a place in ``session_id`` (``kbs waitlist promote``), in
    the transaction and with the confirmation (email once, "Registration Confirmed") of
    automatic promotion (module doc), whatever the person's place in line.

    Refused (:class:`PromotionRefusedError`) if the session is not open, the address is not
    waitlisted, the session is full (unless ``over_capacity``), or no email reaches the address,
    bounced or complained (unless ``force``: the place is given, the email is not sent).
    Raises :class:`SessionNotFoundError` for an unknown session.
    """
    table_name = settings.table_name
    availability = get_session(table_name, session_id)
    session = availability.session
    if not session.is_open_at(now):
        raise PromotionRefusedError(f"session {session_id} is not open ({session.status.value})")
    registration = get_registration(table_name, session_id, email)
    if registration is None or registration.status is not _WAITLISTED:
        raise PromotionRefusedError(f"{email} is not on the waiting list of {session_id}")
    if availability.places_left <= 0 and not over_capacity:
        raise PromotionRefusedError(
            f"{session_id} is full ({availability.confirmed} of {session.capacity}): "
            "--over-capacity to give a place anyway"
        )
    reason = suppression.unreachable(table_name, registration.email)
    if reason is not None and not force:
        raise PromotionRefusedError(
            f"no email reaches {email} ({reason.value}): --force to give the place anyway"
        )
    promoted = registration.model_copy(update={"status": _CONFIRMED})
    expiration = retention.expiration(session, settings.retention_days)
    actions = _promotion_transaction(
        table_name, promoted, now, expiration, over_capacity=over_capacity
    )
    try:
        transact_write(table_name, actions)
    except ClientError as exc:
        if any(r["Code"] == CONDITION_FAILED for r in cancellation_reasons(exc)):
            raise PromotionRefusedError(
                "the session or the registration changed meanwhile (full, closed, or no "
                "longer waitlisted): look again"
            ) from exc
        raise
    logger.info(
        "Waitlisted registrant promoted by an organiser",
        extra={
            "reference": promoted.reference,
            "session_id": session_id,
            "over_capacity": over_capacity,
            "unreachable": reason.value if reason else "",
        },
    )
    _notify_promoted(promoted, session, now, settings, None)
    return promoted


@dataclass(frozen=True)
class WaitingPlace:
    """One line of a session's waiting list, as organisers see it."""

    position: int
    """1 for the first in line."""
    entry: WaitlistEntry
    reach: str
    """``""`` when every email reaches the person, else why not: ``bounced`` or ``complained``
    (no email; promotion passes them over) or ``unsubscribed`` (from notices only)."""


def listing(table_name: str, session_id: str) -> list[WaitingPlace]:
    """The session's waiting list in promotion order, with who can be reached (module doc)."""
    entries = waitlist(table_name, session_id)
    known = suppression.lookup(table_name, [e.email for e in entries])
    return [
        WaitingPlace(
            n, entry, known.reasons[entry.email].value if entry.email in known.reasons else ""
        )
        for n, entry in enumerate(entries, start=1)
    ]


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
    table_name: str,
    promoted: Registration,
    now: datetime,
    expiration: int,
    *,
    over_capacity: bool = False,
) -> list[dict[str, Any]]:
    """Counters (first, for the reasons), registration, waitlist entry, promotion notice;
    ``over_capacity``: an organiser's choice, the capacity is not checked."""
    reference = {":reference": promoted.reference}
    names = {"#status": "status", "#confirmed": "confirmed", "#waitlisted": "waitlisted"}
    condition = "#status IN (:open, :live)"
    if not over_capacity:
        names["#capacity"] = "capacity"
        condition += " AND (attribute_not_exists(#confirmed) OR #confirmed < #capacity)"
    return [
        {
            "Update": {
                "TableName": table_name,
                "Key": meta_key(promoted.session_id),
                "UpdateExpression": "ADD #confirmed :one, #waitlisted :minus_one",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
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
                "Key": waitlist_entry_key(promoted),
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
    notify(
        registration,
        session,
        now=now,
        settings=settings,
        correlation_id=correlation_id,
        promoted=True,
    )
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


def _notice_key(session_id: str, email: str) -> dict[str, str]:
    return {"PK": keys.session_pk(session_id), "SK": keys.promotion_sk(email)}
