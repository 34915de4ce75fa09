"""The email that tells a registrant their status (confirmed or waitlisted), sent once and
announced on the bus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Literal

from shared.mail import ics, sending, templates, to_registrant
from shared.platform.event_types import (
    REGISTRATION_CONFIRMED,
    REGISTRATION_WAITLISTED,
    SOURCE_REGISTRATIONS,
)
from shared.platform.events import OutgoingEvent, publish
from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.programme.models import Session
from shared.registrations import store
from shared.registrations.models import (
    Registration,
    RegistrationStatus,
)
from shared.registrations.store import mark_notified
from shared.web import links

LINK_VALIDITY_AFTER_END = timedelta(days=30)


def send_key(registration: Registration) -> str:
    """The send-once key of the email announcing a registration's current status."""
    status, session_id = registration.status.value, registration.session_id
    return f"registration-{status}#{session_id}#{registration.reference}"


def resend_key(registration: Registration, asked_at: datetime) -> str:
    """The send-once key of a status email sent again on a repeat submission at ``asked_at``:
    one per registration (so per address and session) and clock hour (UTC)."""
    return f"{send_key(registration)}#again-{asked_at.astimezone(UTC):%Y%m%dT%H}"


def notify(
    registration: Registration,
    session: Session,
    *,
    now: datetime,
    settings: Settings,
    correlation_id: str | None,
    changed_at: datetime | None = None,
    promoted: bool = False,
) -> None:
    """Email the registrant their current status (once), announce it, then mark it notified.

    ``promoted``: the place came from the waiting list (the email says a place opened up).

    ``changed_at``: when the place was asked for (the submission's request time; default
    ``now``), the time its calendar invitation tells of (:func:`shared.mail.ics.sequence_at`).
    Also sends the confirmation of a registrant promoted from the waiting list (see
    :mod:`shared.registrations.cancellation`): its send key differs from the waitlist email's.
    """
    message = status_message(
        registration, session, now=now, settings=settings, changed_at=changed_at, promoted=promoted
    )
    sending.send_once(
        settings.table_name,
        send_key(registration),
        message,
        configuration_set=settings.configuration_set,
    )
    announce(registration, session, now=now, settings=settings, correlation_id=correlation_id)


def announce(
    registration: Registration,
    session: Session,
    *,
    now: datetime,
    settings: Settings,
    correlation_id: str | None,
) -> None:
    """Publish "Registration Confirmed" (or "Waitlisted"), keyed by :func:`send_key`, then
    mark the registration notified (``notified_at``): after its email went out."""
    event = OutgoingEvent(
        source=SOURCE_REGISTRATIONS,
        detail_type=(
            REGISTRATION_CONFIRMED
            if registration.status is RegistrationStatus.CONFIRMED
            else REGISTRATION_WAITLISTED
        ),
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


def resend(
    registration: Registration,
    session: Session,
    *,
    now: datetime,
    asked_at: datetime,
    settings: Settings,
) -> sending.SendResult:
    """Send a held registration's status email again (a repeat submission at ``asked_at``):
    its own reference and links, the same invitation UID; at most once an hour
    (:func:`resend_key`). Nothing is stored or announced."""
    return sending.send_once(
        settings.table_name,
        resend_key(registration, asked_at),
        status_message(
            registration,
            session,
            now=now,
            settings=settings,
            changed_at=asked_at,
            position=waitlist_position(settings.table_name, registration),
        ),
        configuration_set=settings.configuration_set,
    )


def status_message(
    registration: Registration,
    session: Session,
    *,
    now: datetime,
    settings: Settings,
    changed_at: datetime | None = None,
    promoted: bool = False,
    position: int | None = None,
) -> EmailMessage:
    """The email telling ``registration`` its status: a confirmation (join link, ``.ics``
    stamped ``changed_at``, default ``now``; ``promoted``: a place opened up) or the waitlist
    email with the place in line (``position``, from :func:`waitlist_position`); both with the
    registrant's cancel, feed, unsubscribe and privacy links."""
    cancel_url = cancel_link(registration, session, settings)
    calendar = None
    if registration.status is RegistrationStatus.CONFIRMED:
        kind = "confirmation"
        content = templates.confirmation(
            registration,
            session,
            cancel_url,
            promoted=promoted,
            feed=feed_for(registration, session, settings),
        )
        calendar = invitation(registration, session, settings, stamp=changed_at or now)
    else:
        kind = "waitlist"
        content = templates.waitlist(registration, session, cancel_url, position=position)
    return to_registrant.message(
        registration, session, settings, content=content, date=now, calendar=calendar, kind=kind
    )


def cancel_link(registration: Registration, session: Session, settings: Settings) -> str:
    """The registrant's signed cancel link for ``session``, valid until 30 days after its end."""
    return links.registration_url(
        links.CANCEL, registration, settings, expires_at=session.end + LINK_VALIDITY_AFTER_END
    )


def feed_for(registration: Registration, session: Session, settings: Settings) -> templates.Feed:
    """The registrant's personal calendar feed (:mod:`shared.registrations.feed`), signed for
    as long as the registration's data is kept (``retention_days`` after the session ends)."""
    token = links.feed_token(
        reference=registration.reference,
        session_id=session.session_id,
        email=registration.email,
        expires_at=session.end + timedelta(days=settings.retention_days),
        key=signing_keys(settings)[0],
    )
    https, webcal = links.feed_urls(settings.public_base_url, token)
    return templates.Feed(https=https, webcal=webcal)


def invitation(
    registration: Registration,
    session: Session,
    settings: Settings,
    *,
    stamp: datetime,
    method: Literal["REQUEST", "CANCEL"] = "REQUEST",
    described: bool = True,
) -> str:
    """The registrant's iTIP ``method`` message for ``session``, stamped ``stamp``, in their
    language (:func:`shared.mail.ics.invitation`); ``described``: with the DESCRIPTION (the
    join link and the reference)."""
    fields = event_fields(registration, session, settings)
    if not described:
        fields["description"] = ""
    return ics.invitation(session, **fields, stamp=stamp, method=method)


def event_fields(
    registration: Registration, session: Session, settings: Settings
) -> dict[str, str]:
    """The registrant's side of their event of ``session``, as :func:`shared.mail.ics.invitation`
    and :func:`shared.mail.ics.personal_event` take it: attendee and organizer (the series'
    sender and name), and SUMMARY and DESCRIPTION in the registrant's language. One source for
    the invitations and the personal feed, so both describe the same event (same UID) alike."""
    return {
        "attendee_email": registration.email,
        "attendee_name": registration.full_name,
        "organizer_email": settings.sender_email,
        "organizer_name": settings.series_name,
        "description": templates.calendar_description(registration, session),
        "summary": templates.calendar_summary(registration, session),
    }


def waitlist_position(table_name: str, registration: Registration) -> int | None:
    """Where ``registration`` stands on its session's waiting list (1 first, promotion order:
    :func:`shared.registrations.store.waitlist_position`), or None if it is not on it."""
    if registration.status is not RegistrationStatus.WAITLISTED:
        return None
    return store.waitlist_position(table_name, registration)


def tell_cancelled(
    registration: Registration,
    session: Session,
    *,
    previous_status: RegistrationStatus,
    cancelled_at: datetime,
    reason: str,
    settings: Settings,
) -> sending.SendResult:
    """Tell a registrant their place (or waitlist entry) has ended, once per registration.

    A confirmed place's email carries an iTIP CANCEL for the invitation's UID, SEQUENCE from
    ``cancelled_at`` (so above the invitation's), which removes the event and its join link
    from their calendar. Essential mail: an unsubscribe does not stop it.
    """
    message = place_cancelled_message(
        registration,
        session,
        previous_status=previous_status,
        cancelled_at=cancelled_at,
        reason=reason,
        settings=settings,
    )
    return sending.send_once(
        settings.table_name,
        f"place-cancelled#{session.session_id}#{registration.reference}",
        message,
        configuration_set=settings.configuration_set,
    )


def place_cancelled_message(
    registration: Registration,
    session: Session,
    *,
    previous_status: RegistrationStatus,
    cancelled_at: datetime,
    reason: str,
    settings: Settings,
) -> EmailMessage:
    """The ``place-cancelled`` email of :func:`tell_cancelled`: with an iTIP CANCEL when the
    place was confirmed (the invitation's UID, SEQUENCE from ``cancelled_at``)."""
    calendar = None
    if previous_status is RegistrationStatus.CONFIRMED:
        calendar = invitation(
            registration, session, settings, stamp=cancelled_at, method="CANCEL", described=False
        )
    content = templates.place_cancelled(
        registration, session, reason=reason, calendar=calendar is not None
    )
    return to_registrant.message(
        registration,
        session,
        settings,
        content=content,
        date=cancelled_at,
        calendar=calendar,
        calendar_method="CANCEL",
        kind="place-cancelled",
    )
