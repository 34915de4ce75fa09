"""Booking places: confirmed while places last, then the waiting list; never overbooked.

Each place is taken in one DynamoDB transaction: a conditional update of the session's META
counters (open, and ``confirmed < capacity``) with a conditional Put of the registration. A
full session fails the capacity condition and the registrant joins the waiting list in a
second transaction (``confirmed >= capacity``, so a place freed meanwhile is taken instead).
Failures are told apart by the transaction's ``CancellationReasons``, never by message text.

:func:`process_submission` is the registration processor's one entry point; registration items
live in :mod:`shared.registrations.store`, the status email in
:mod:`shared.registrations.notification`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from shared.mail import suppression
from shared.platform import keys
from shared.platform.clients import transact_write
from shared.platform.observability import logger
from shared.platform.settings import Settings
from shared.privacy import erasures, retention
from shared.programme.models import Session, SessionStatus
from shared.programme.repository import SessionNotFoundError, get_session
from shared.registrations.models import (
    Registration,
    RegistrationStatus,
    RegistrationSubmission,
)
from shared.registrations.notification import notify
from shared.registrations.store import (
    CONDITION_FAILED,
    CONFLICT,
    cancellation_reasons,
    deserialize,
    registration_from_item,
    registration_item,
    registration_record,
    waitlist_item,
)

MAX_ATTEMPTS = 8
DEFAULT_RETENTION_DAYS = 365
_OPEN = (SessionStatus.OPEN.value, SessionStatus.LIVE.value)


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
    email is sent once, see :func:`shared.mail.sending.send_once`). A submission made before its
    address was erased is dropped (:mod:`shared.privacy.erasures`).
    """
    if erasures.erased_since(settings.table_name, submission.email, submission.submitted_at):
        logger.info(
            "Submission older than an erasure dropped", extra={"reference": submission.reference}
        )
        return []
    outcomes = book(settings.table_name, submission, now, retention_days=settings.retention_days)
    # A new request lifts the address's unsubscribe (never a bounce or complaint): before the
    # confirmation, which the check in ``sending.send_once`` would otherwise skip.
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
    (:mod:`shared.privacy.retention`).
    """
    return [
        _book_session(table_name, submission, session_id, now, retention_days)
        for session_id in dict.fromkeys(submission.sessions)
    ]


# --- registration data access -------------------------------------------------------------


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
                if not meta or deserialize({"M": meta}).get("status") not in _OPEN:
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


def _rejected(submission: RegistrationSubmission, session_id: str, reason: str) -> BookingOutcome:
    return BookingOutcome(session_id, submission.reference, Outcome.REJECTED, reason=reason)


def _duplicate(submission: RegistrationSubmission, session_id: str, reason: str) -> BookingOutcome:
    return BookingOutcome(session_id, submission.reference, Outcome.DUPLICATE, reason=reason)


# --- notification -------------------------------------------------------------------------


# --- helpers ------------------------------------------------------------------------------
