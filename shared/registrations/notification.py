"""The email that tells a registrant their status (confirmed or waitlisted), sent once and
announced on the bus."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

from shared.mail import ics, sending, templates, unsubscribe
from shared.platform.event_types import (
    REGISTRATION_CONFIRMED,
    REGISTRATION_WAITLISTED,
    SOURCE_REGISTRATIONS,
)
from shared.platform.events import OutgoingEvent, publish
from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.privacy import data_link
from shared.programme.models import Session
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
    :mod:`shared.registrations.cancellation`): its send key differs from the waitlist email's.
    """
    message = render(registration, session, now=now, settings=settings)
    sending.send_once(
        settings.table_name,
        send_key(registration),
        message,
        configuration_set=settings.configuration_set,
    )
    confirmed = registration.status is RegistrationStatus.CONFIRMED
    event = OutgoingEvent(
        source=SOURCE_REGISTRATIONS,
        detail_type=REGISTRATION_CONFIRMED if confirmed else REGISTRATION_WAITLISTED,
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


def render(
    registration: Registration, session: Session, *, now: datetime, settings: Settings
) -> EmailMessage:
    """The status email for ``registration``: ``confirmation`` (with the ``.ics`` invitation) or
    ``waitlist``, each with its signed cancel, unsubscribe and "your data" links."""
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
            organizer_name=sending.SENDER_NAME,
            stamp=now,
            description=templates.calendar_description(registration, session),
        )
    else:
        kind = "waitlist"
        content = templates.waitlist(registration, session, cancel_url)
    return sending.build_message(
        sender=settings.sender_email,
        recipient=registration.email,
        recipient_name=registration.full_name,
        content=content,
        date=now,
        calendar=calendar,
        kind=kind,
        unsubscribe_url=unsubscribe.link_for(registration, session, settings=settings),
        privacy_url=data_link.link_for(registration, session, settings=settings),
    )
