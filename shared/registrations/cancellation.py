"""Self-service cancellation by signed link.

Cancelling (``/registrations/cancel``): the link's token (:mod:`shared.web.links`) names a
registration by reference and session. One transaction marks it cancelled (condition: still
confirmed or waitlisted, same reference) and gives back what it held: a place
(``confirmed - 1``) or its waitlist entry (deleted, ``waitlisted - 1``). The registrant is then
told (once; a confirmed place's email carries the iTIP CANCEL that takes the event and its join
link out of their calendar: :func:`shared.registrations.notification.tell_cancelled`) and
"Registration Cancelled" is published once: ``cancellation_announced_at`` records both, so a
request retried after a failure completes them. A replayed link changes nothing.

Every path that ends a place goes through here: the link, an erasure
(:mod:`shared.privacy.rights`, before it deletes the address) and an organiser's removal
(:func:`remove`); a cancelled session tells its registrants through its notice.

Promotion from the waiting list follows in :mod:`shared.registrations.waitlist`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from shared.platform.clients import transact_write
from shared.platform.event_types import REGISTRATION_CANCELLED, SOURCE_REGISTRATIONS
from shared.platform.events import OutgoingEvent, publish
from shared.platform.observability import logger
from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.programme.models import AwareDatetime, Session, SessionId, SessionStatus
from shared.programme.repository import SessionNotFoundError, get_session
from shared.registrations import notification
from shared.registrations.booking import MAX_ATTEMPTS, BookingContentionError
from shared.registrations.models import Registration, RegistrationStatus
from shared.registrations.store import (
    CONDITION_FAILED,
    CONFLICT,
    back_off,
    cancellation_reasons,
    get_registration,
    mark_notified,
    meta_key,
    reference_registrations,
    registration_from_item,
    registration_key,
    registration_record,
    waitlist_entry_key,
)
from shared.web import links

ANNOUNCED = "cancellation_announced_at"
_CANCELLED = RegistrationStatus.CANCELLED
_WAITLISTED = RegistrationStatus.WAITLISTED


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

    Raises :class:`shared.web.links.InvalidLinkError` (tampered, expired, other purpose),
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
            _announce(settings, linked, linked.cancellation, now, correlation_id)
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
    _announce(settings, LinkedRegistration(registration, session), cancelled, now, correlation_id)
    return Cancellation(CancelOutcome.CANCELLED, registration, session, cancelled.previous_status)


def cancel_registration(
    registration: Registration,
    *,
    now: datetime,
    settings: Settings,
    correlation_id: str | None = None,
    reason: str = "",
) -> CancelledData | None:
    """Cancel a registration found otherwise than by its link (an erasure:
    :mod:`shared.privacy.rights`; an organiser's :func:`remove`) exactly as its link would:
    place or waitlist entry given back, the registrant told (with ``reason``), "Registration
    Cancelled" published (so the waiting list is promoted). None if it was cancelled already.
    Raises :class:`RegistrationNotFoundError` if its session is gone."""
    cancelled = _cancel(settings.table_name, registration, now)
    if cancelled is not None:
        try:
            session = get_session(settings.table_name, registration.session_id).session
        except SessionNotFoundError as exc:
            raise RegistrationNotFoundError(registration.reference) from exc
        registration = registration.model_copy(update={"status": _CANCELLED})
        linked = LinkedRegistration(registration, session)
        _announce(settings, linked, cancelled, now, correlation_id, reason=reason)
    return cancelled


def remove(
    session_id: str, email: str, *, reason: str, now: datetime, settings: Settings
) -> CancelledData:
    """An organiser ends ``email``'s place or waitlist entry in ``session_id``, saying why
    (``reason``, told to the person with the calendar CANCEL); the waiting list is promoted.

    Raises :class:`RegistrationNotFoundError` when the address holds nothing there now, and
    :class:`SessionOverError` once the session has taken place.
    """
    registration = get_registration(settings.table_name, session_id, email)
    if registration is None or registration.status is _CANCELLED:
        raise RegistrationNotFoundError(session_id)
    session = get_session(settings.table_name, session_id).session
    _check_not_over(LinkedRegistration(registration, session), now)
    cancelled = cancel_registration(registration, now=now, settings=settings, reason=reason)
    if cancelled is None:  # cancelled meanwhile, by the person or another organiser
        raise RegistrationNotFoundError(session_id)
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
            transact_write(table_name, _cancel_transaction(table_name, current, cancelled))
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
                back_off(attempt)
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
                "Key": meta_key(registration.session_id),
                "UpdateExpression": "ADD #counter :minus_one",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeNames": {"#counter": counter},
                "ExpressionAttributeValues": {":minus_one": -1},
            }
        },
    ]
    if waitlisted:
        actions.append(
            {"Delete": {"TableName": table_name, "Key": waitlist_entry_key(registration)}}
        )
    return actions


def _announce(
    settings: Settings,
    linked: LinkedRegistration,
    cancelled: CancelledData,
    now: datetime,
    correlation_id: str | None,
    *,
    reason: str = "",
) -> None:
    """Tell the registrant (once), publish "Registration Cancelled", mark both done."""
    registration = linked.registration
    notification.tell_cancelled(
        registration,
        linked.session,
        previous_status=cancelled.previous_status,
        cancelled_at=cancelled.cancelled_at,
        reason=reason,
        settings=settings,
    )
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


# --- helpers --------------------------------------------------------------------------------
