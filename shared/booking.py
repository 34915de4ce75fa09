"""Booking places: confirmed while places last, then the waiting list; never overbooked.

Each place is taken in one DynamoDB transaction: a conditional update of the session's META
counters (open, and ``confirmed < capacity``) with a conditional Put of the registration. A
full session fails the capacity condition and the registrant joins the waiting list in a
second transaction (``confirmed >= capacity``, so a place freed meanwhile is taken instead).
Failures are told apart by the transaction's ``CancellationReasons``, never by message text.

Also the data access for registrations (items and keys: :mod:`shared.keys`) and
:func:`process_submission`, the registration processor's one entry point.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from shared import (
    erasures,
    ics,
    keys,
    links,
    mail,
    privacy_link,
    retention,
    suppression,
    templates,
    unsubscribe,
)
from shared.clients import table, transact_write
from shared.event_types import REGISTRATION_CONFIRMED, REGISTRATION_WAITLISTED, SOURCE_REGISTRATIONS
from shared.events import OutgoingEvent, publish
from shared.models import (
    Registration,
    RegistrationStatus,
    RegistrationSubmission,
    Session,
    SessionStatus,
    normalise_email,
)
from shared.observability import logger
from shared.repository import SessionNotFoundError, get_session
from shared.secrets import signing_keys
from shared.settings import Settings

MAX_ATTEMPTS = 8
DEFAULT_RETENTION_DAYS = 365
LINK_VALIDITY_AFTER_END = timedelta(days=30)
_OPEN = (SessionStatus.OPEN.value, SessionStatus.LIVE.value)
CONDITION_FAILED = "ConditionalCheckFailed"
CONFLICT = "TransactionConflict"
_REGISTRATION_FIELDS = tuple(Registration.model_fields)
_deserialize = TypeDeserializer().deserialize


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class BookingOutcome:
    """What became of one session of a submission."""

    session_id: str
    reference: str
    outcome: Outcome
    registration: Registration | None = None
    session: Session | None = None
    reason: str = ""
    notified: bool = False
    """A replay of a registration whose email and event already went out."""

    @property
    def needs_notification(self) -> bool:
        return self.outcome in (Outcome.CONFIRMED, Outcome.WAITLISTED) and not self.notified


class WaitlistEntry(BaseModel):
    session_id: str
    email: str
    reference: str
    joined_at: datetime


class BookingContentionError(RuntimeError):
    """The transaction kept conflicting with concurrent ones: retry the message later."""


def process_submission(
    submission: RegistrationSubmission,
    *,
    now: datetime,
    settings: Settings,
    correlation_id: str | None = None,
) -> list[BookingOutcome]:
    """Book every session of a submission, email the registrant and announce each booking.

    Idempotent: a replayed submission finds its registrations and, once they were fully
    processed, sends and publishes nothing; after a crash it completes what is missing (the
    email is sent once, see :func:`shared.mail.send_once`). A submission made before its
    address was erased is dropped (:mod:`shared.erasures`).
    """
    if erasures.erased_since(settings.table_name, submission.email, submission.submitted_at):
        logger.info(
            "Submission older than an erasure dropped", extra={"reference": submission.reference}
        )
        return []
    outcomes = book(settings.table_name, submission, now, retention_days=settings.retention_days)
    # A new request lifts the address's unsubscribe (never a bounce or complaint): before the
    # confirmation, which the check in ``mail.send_once`` would otherwise skip.
    suppression.renewed(settings.table_name, submission.email, submission.submitted_at)
    for outcome in outcomes:
        logger.info(
            "Booking outcome",
            extra={
                "reference": outcome.reference,
                "session_id": outcome.session_id,
                "outcome": outcome.outcome.value,
                "reason": outcome.reason,
                "already_notified": outcome.notified,
            },
        )
        if outcome.needs_notification:
            assert outcome.registration is not None and outcome.session is not None
            notify(
                outcome.registration,
                outcome.session,
                now=now,
                settings=settings,
                correlation_id=correlation_id,
            )
    return outcomes


def book(
    table_name: str,
    submission: RegistrationSubmission,
    now: datetime,
    *,
    retention_days: int = DEFAULT_RETENTION_DAYS,
) -> list[BookingOutcome]:
    """Book each session of the submission (see module doc); ``now`` is the event time.

    Items carry the TTL ``expiration``: ``retention_days`` after the session ends
    (:mod:`shared.retention`).
    """
    return [
        _book_session(table_name, submission, session_id, now, retention_days)
        for session_id in dict.fromkeys(submission.sessions)
    ]


def send_key(registration: Registration) -> str:
    """The send-once key of the email announcing a registration's current status."""
    status, session_id = registration.status.value, registration.session_id
    return f"registration-{status}#{session_id}#{registration.reference}"


# --- registration data access -------------------------------------------------------------


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


def waitlist_item(registration: Registration, expiration: int | None = None) -> dict[str, Any]:
    email = normalise_email(registration.email)
    ttl = {} if expiration is None else {retention.TTL_ATTRIBUTE: expiration}
    return {
        **ttl,
        "PK": keys.session_pk(registration.session_id),
        "SK": keys.waitlist_sk(email),
        "GSI2PK": keys.waitlist_gsi2pk(registration.session_id),
        "GSI2SK": keys.waitlist_gsi2sk(registration.registered_at, email),
        "type": "waitlist",
        "session_id": registration.session_id,
        "email": email,
        "reference": registration.reference,
        "joined_at": registration.registered_at.isoformat(),
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
    condition = Key("GSI1PK").eq(keys.registrant_gsi1pk(normalise_email(email)))
    items = query_items(table_name, IndexName="GSI1", KeyConditionExpression=condition)
    return [registration_from_item(i) for i in items]


def reference_registrations(table_name: str, reference: str) -> list[Registration]:
    condition = Key("GSI2PK").eq(keys.reference_gsi2pk(reference))
    items = query_items(table_name, IndexName="GSI2", KeyConditionExpression=condition)
    return [registration_from_item(i) for i in items]


def waitlist(table_name: str, session_id: str) -> list[WaitlistEntry]:
    """The waiting list of a session, first come first."""
    condition = Key("GSI2PK").eq(keys.waitlist_gsi2pk(session_id))
    items = query_items(table_name, IndexName="GSI2", KeyConditionExpression=condition)
    return [WaitlistEntry.model_validate(i) for i in items]


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


# --- booking ------------------------------------------------------------------------------


def _book_session(
    table_name: str,
    submission: RegistrationSubmission,
    session_id: str,
    now: datetime,
    retention_days: int,
) -> BookingOutcome:
    try:
        session = get_session(table_name, session_id).session
    except SessionNotFoundError:
        return _rejected(submission, session_id, "unknown session")
    existing = _existing(table_name, submission, session)
    if existing:
        return existing
    if not session.is_open_at(now):
        return _rejected(submission, session_id, "session closed")

    status = RegistrationStatus.CONFIRMED
    for attempt in range(MAX_ATTEMPTS):
        registration = _registration(submission, session_id, status, now)
        try:
            expiration = retention.expiration(session, retention_days)
            transact_write(table_name, _booking_transaction(table_name, registration, expiration))
        except ClientError as exc:
            session_reason, registration_reason, *_ = cancellation_reasons(exc)
            if registration_reason["Code"] == CONDITION_FAILED:
                existing = _existing(table_name, submission, session)
                if existing:
                    return existing
            elif session_reason["Code"] == CONDITION_FAILED:
                meta = session_reason.get("Item")
                if not meta or _deserialize({"M": meta}).get("status") not in _OPEN:
                    return _rejected(submission, session_id, "session closed")
                # Full (or, while joining the waiting list, a place came free): switch.
                status = (
                    RegistrationStatus.WAITLISTED
                    if status is RegistrationStatus.CONFIRMED
                    else RegistrationStatus.CONFIRMED
                )
            elif any(r["Code"] == CONFLICT for r in (session_reason, registration_reason)):
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
            else:
                raise
            continue
        return BookingOutcome(
            session_id=session_id,
            reference=submission.reference,
            outcome=Outcome(status.value),
            registration=registration,
            session=session,
        )
    raise BookingContentionError(session_id)


def _booking_transaction(
    table_name: str, registration: Registration, expiration: int | None = None
) -> list[dict[str, Any]]:
    """Counter update on the session META + the registration (+ its waitlist entry)."""
    confirm = registration.status is RegistrationStatus.CONFIRMED
    capacity = (
        "(attribute_not_exists(#confirmed) OR #confirmed < #capacity)"
        if confirm
        else "#confirmed >= #capacity"
    )
    counter = "confirmed" if confirm else "waitlisted"
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table_name,
                "Key": {"PK": keys.session_pk(registration.session_id), "SK": keys.META},
                "UpdateExpression": f"ADD #{counter} :one",
                "ConditionExpression": f"#status IN (:open, :live) AND {capacity}",
                "ExpressionAttributeNames": {
                    "#status": "status",
                    "#confirmed": "confirmed",
                    "#capacity": "capacity",
                    f"#{counter}": counter,
                },
                "ExpressionAttributeValues": {":one": 1, ":open": _OPEN[0], ":live": _OPEN[1]},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {
            "Put": {
                "TableName": table_name,
                "Item": registration_item(registration, expiration),
                # New, or replacing a cancelled registration of an earlier submission.
                "ConditionExpression": "attribute_not_exists(PK) OR "
                "(#status = :cancelled AND #reference <> :reference)",
                "ExpressionAttributeNames": {"#status": "status", "#reference": "reference"},
                "ExpressionAttributeValues": {
                    ":cancelled": RegistrationStatus.CANCELLED.value,
                    ":reference": registration.reference,
                },
            }
        },
    ]
    if not confirm:
        waiting = waitlist_item(registration, expiration)
        actions.append({"Put": {"TableName": table_name, "Item": waiting}})
    return actions


def _existing(
    table_name: str, submission: RegistrationSubmission, session: Session
) -> BookingOutcome | None:
    """The outcome decided by a registration already stored, or None if booking may go on."""
    item = registration_record(table_name, session.session_id, submission.email_key)
    if item is None:
        return None
    registration = registration_from_item(item)
    replay = registration.reference == submission.reference
    if registration.status is RegistrationStatus.CANCELLED:
        if not replay:
            return None
        return _duplicate(submission, session.session_id, "registration cancelled since")
    if not replay:
        return _duplicate(submission, session.session_id, "already registered")
    return BookingOutcome(
        session_id=session.session_id,
        reference=submission.reference,
        outcome=Outcome(registration.status.value),
        registration=registration,
        session=session,
        notified="notified_at" in item,
    )


def _registration(
    submission: RegistrationSubmission,
    session_id: str,
    status: RegistrationStatus,
    now: datetime,
) -> Registration:
    return Registration(
        session_id=session_id,
        email=submission.email_key,
        reference=submission.reference,
        full_name=submission.full_name,
        organisation=submission.organisation,
        country=submission.country,
        role=submission.role,
        language=submission.language,
        timezone=submission.timezone,
        status=status,
        registered_at=now,
        consent=submission.consent,
    )


def cancellation_reasons(exc: ClientError) -> list[dict[str, Any]]:
    if exc.response["Error"]["Code"] != "TransactionCanceledException":
        raise exc
    return list(exc.response.get("CancellationReasons", []))  # type: ignore[arg-type]


def _rejected(submission: RegistrationSubmission, session_id: str, reason: str) -> BookingOutcome:
    return BookingOutcome(session_id, submission.reference, Outcome.REJECTED, reason=reason)


def _duplicate(submission: RegistrationSubmission, session_id: str, reason: str) -> BookingOutcome:
    return BookingOutcome(session_id, submission.reference, Outcome.DUPLICATE, reason=reason)


# --- notification -------------------------------------------------------------------------


def notify(
    registration: Registration,
    session: Session,
    *,
    now: datetime,
    settings: Settings,
    correlation_id: str | None,
) -> None:
    """Email the registrant their current status (once), announce it, then mark it notified.

    Also sends the confirmation of a registrant promoted from the waiting list (see
    :mod:`shared.cancellation`): its send key differs from the waitlist email's.
    """
    cancel_url = links.registrant_url(
        links.CANCEL,
        settings.public_base_url,
        reference=registration.reference,
        session_id=session.session_id,
        email=registration.email,
        expires_at=session.end + LINK_VALIDITY_AFTER_END,
        key=signing_keys(settings)[0],
    )
    calendar = None
    if registration.status is RegistrationStatus.CONFIRMED:
        kind = "confirmation"
        content = templates.confirmation(registration, session, cancel_url)
        calendar = ics.invitation(
            session,
            attendee_email=registration.email,
            attendee_name=registration.full_name,
            organizer_email=settings.sender_email,
            organizer_name=mail.SENDER_NAME,
            stamp=now,
            description=templates.calendar_description(registration, session),
        )
        detail_type = REGISTRATION_CONFIRMED
    else:
        kind = "waitlist"
        content = templates.waitlist(registration, session, cancel_url)
        detail_type = REGISTRATION_WAITLISTED
    message = mail.build_message(
        sender=settings.sender_email,
        recipient=registration.email,
        recipient_name=registration.full_name,
        content=content,
        date=now,
        calendar=calendar,
        kind=kind,
        unsubscribe_url=unsubscribe.link_for(registration, session, settings=settings),
        privacy_url=privacy_link.link_for(registration, session, settings=settings),
    )
    mail.send_once(
        settings.table_name,
        send_key(registration),
        message,
        configuration_set=settings.configuration_set,
    )
    event = OutgoingEvent(
        source=SOURCE_REGISTRATIONS,
        detail_type=detail_type,
        data={
            "reference": registration.reference,
            "session_id": session.session_id,
            "status": registration.status.value,
            "registered_at": registration.registered_at.isoformat(),
        },
        idempotency_key=send_key(registration),
        correlation_id=correlation_id,
    )
    publish([event], settings.event_bus_name)
    mark_notified(settings.table_name, registration, now)


# --- helpers ------------------------------------------------------------------------------


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
