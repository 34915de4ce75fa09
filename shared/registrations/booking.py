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

from dataclasses import dataclass, replace
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
from shared.registrations.notification import resend
from shared.registrations.store import (
    CONDITION_FAILED,
    CONFLICT,
    back_off,
    cancellation_reasons,
    deserialize,
    registration_from_item,
    registration_item,
    registration_record,
    waitlist_item,
)
from shared.registrations.submission_email import notify_submission

MAX_ATTEMPTS = 8
MAX_ROUNDS = 256
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

    @property
    def held(self) -> bool:
        """A repeat submission for a place (or waitlist entry) the address already holds."""
        return self.outcome is Outcome.DUPLICATE and self.registration is not None


class BookingContentionError(RuntimeError):
    """The transaction kept conflicting with concurrent ones: retry the message later."""


def process_submission(
    submission: RegistrationSubmission,
    *,
    now: datetime,
    settings: Settings,
    correlation_id: str | None = None,
) -> list[BookingOutcome]:
    """Book every session of a submission, email the registrant once (every place in one
    email: :mod:`shared.registrations.submission_email`) and announce each booking.

    A repeat submission (a new reference) for a place the address holds books nothing and
    sends that place's status email again, same reference, at most once an hour
    (:func:`shared.registrations.notification.resend`).

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
    booked: list[tuple[Registration, Session]] = []
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
        if outcome.held:  # lost the email? its details again (same reference), hourly at most
            assert outcome.registration is not None and outcome.session is not None
            resend(
                outcome.registration,
                outcome.session,
                now=now,
                asked_at=submission.submitted_at,
                settings=settings,
            )
        elif outcome.needs_notification:
            assert outcome.registration is not None and outcome.session is not None
            booked.append((outcome.registration, outcome.session))
    # One email for every place of the submission, sent once under its reference.
    notify_submission(
        submission.reference,
        booked,
        now=now,
        changed_at=submission.submitted_at,
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

    status, queued, conflicts = RegistrationStatus.CONFIRMED, 0, 0
    # A round lost to another booking (the place or the waitlist number taken) means progress
    # elsewhere: those are bounded by MAX_ROUNDS; transaction conflicts by MAX_ATTEMPTS.
    for _ in range(MAX_ROUNDS):
        registration = _registration(submission, session_id, status, now)
        try:
            expiration = retention.expiration(session, retention_days)
            order = Queued(submission.submitted_at, queued)
            actions = _booking_transaction(table_name, registration, expiration, order)
            transact_write(table_name, actions)
        except ClientError as exc:
            session_reason, registration_reason, *_ = cancellation_reasons(exc)
            if registration_reason["Code"] == CONDITION_FAILED:
                existing = _existing(table_name, submission, session)
                if existing:
                    return existing
            elif session_reason["Code"] == CONDITION_FAILED:
                raw = session_reason.get("Item")
                meta = deserialize({"M": raw}) if raw else {}
                if meta.get("status") not in _OPEN:
                    return _rejected(submission, session_id, "session closed")
                queued = int(meta.get(keys.WAITLIST_SEQUENCE, 0))
                full = int(meta.get("confirmed", 0)) >= int(meta.get("capacity", 0))
                # Full: join the waiting list (with the sequence just read); a place came free
                # while joining it: take the place; still full: the sequence moved on, retry.
                status = RegistrationStatus.WAITLISTED if full else RegistrationStatus.CONFIRMED
            elif any(r["Code"] == CONFLICT for r in (session_reason, registration_reason)):
                conflicts += 1
                if conflicts >= MAX_ATTEMPTS:
                    break
                back_off(conflicts)
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


@dataclass(frozen=True)
class Queued:
    """Where a waitlisted registration joins the list: the request time and the session's
    waitlist sequence as last read (the booking takes the next one, if it is still that)."""

    submitted_at: datetime
    last_sequence: int

    @property
    def sequence(self) -> int:
        return self.last_sequence + 1


def _booking_transaction(
    table_name: str,
    registration: Registration,
    expiration: int | None = None,
    queued: Queued | None = None,
) -> list[dict[str, Any]]:
    """Counter update on the session META + the registration (+ its waitlist entry).

    Joining the waiting list also takes the session's next waitlist sequence: ``ADD`` on the
    META item, on condition that it is still ``queued.last_sequence`` (so two concurrent
    bookings never share a number; the loser retries with the value it is told).
    """
    confirm = registration.status is RegistrationStatus.CONFIRMED
    names = {"#status": "status", "#confirmed": "confirmed", "#capacity": "capacity"}
    values: dict[str, Any] = {":one": 1, ":open": _OPEN[0], ":live": _OPEN[1]}
    if confirm:
        capacity = "(attribute_not_exists(#confirmed) OR #confirmed < #capacity)"
        update = "ADD #confirmed :one"
    else:
        queued = queued or Queued(registration.registered_at, 0)
        names |= {"#waitlisted": "waitlisted", "#sequence": keys.WAITLIST_SEQUENCE}
        capacity = "#confirmed >= #capacity AND " + (
            "#sequence = :last" if queued.last_sequence else "attribute_not_exists(#sequence)"
        )
        if queued.last_sequence:
            values[":last"] = queued.last_sequence
        update = "ADD #waitlisted :one, #sequence :one"
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table_name,
                "Key": {"PK": keys.session_pk(registration.session_id), "SK": keys.META},
                "UpdateExpression": update,
                "ConditionExpression": f"#status IN (:open, :live) AND {capacity}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
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
    if queued is not None and not confirm:
        waiting = waitlist_item(
            registration, expiration, submitted_at=queued.submitted_at, sequence=queued.sequence
        )
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
        held = _duplicate(submission, session.session_id, "already registered")
        return replace(held, registration=registration, session=session)
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
