"""One status email per submission, however many sessions it books: "not seven emails in one
second". Sent once under the submission's reference (:func:`submission_key`); each booked
registration is then announced and marked notified on its own
(:func:`shared.registrations.notification.announce`), so a replay after a crash sends nothing
again and completes the marks that are missing.

One session: the confirmation (or waitlist) email of
:func:`shared.registrations.notification.status_message`. Several: :mod:`shared.mail.summary`,
``X-KBS-Kind`` ``confirmation`` when any place is confirmed, else ``waitlist``, with one
iTIP REQUEST per confirmed session, each in its own ``text/calendar`` part
(README, "Calendar invitations": clients read one event per part).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage

from shared.mail import registrant, sending, summary, templates, to_registrant
from shared.platform.settings import Settings
from shared.programme.models import Session
from shared.registrations.models import Registration, RegistrationStatus
from shared.registrations.notification import (
    announce,
    cancel_link,
    feed_for,
    invitation,
    status_message,
    waitlist_position,
)

Booked = tuple[Registration, Session]


def submission_key(reference: str) -> str:
    """The send-once key of a submission's status email."""
    return f"registration-submission#{reference}"


def notify_submission(
    reference: str,
    booked: Sequence[Booked],
    *,
    now: datetime,
    changed_at: datetime,
    settings: Settings,
    correlation_id: str | None,
) -> sending.SendResult | None:
    """Email the registrant the status of every place ``booked`` by submission ``reference``
    (once), then announce and mark each. ``changed_at``: the submission's request time, the
    invitations' stamp. None when ``booked`` is empty."""
    if not booked:
        return None
    message = submission_message(
        reference, booked, now=now, changed_at=changed_at, settings=settings
    )
    result = sending.send_once(
        settings.table_name,
        submission_key(reference),
        message,
        configuration_set=settings.configuration_set,
    )
    for registration, session in booked:
        announce(registration, session, now=now, settings=settings, correlation_id=correlation_id)
    return result


def submission_message(
    reference: str,
    booked: Sequence[Booked],
    *,
    now: datetime,
    changed_at: datetime,
    settings: Settings,
) -> EmailMessage:
    """The status email of :func:`notify_submission` (see module doc)."""
    if len(booked) == 1:
        registration, session = booked[0]
        return status_message(
            registration,
            session,
            now=now,
            settings=settings,
            changed_at=changed_at,
            position=waitlist_position(settings.table_name, registration),
        )
    places, calendars = [], []
    for registration, session in booked:
        confirmed = registration.status is RegistrationStatus.CONFIRMED
        places.append(
            summary.place(
                title=registrant.title(registration, session),
                when=registrant.session_time(session, registration.timezone, registration.language),
                confirmed=confirmed,
                position=None
                if confirmed
                else waitlist_position(settings.table_name, registration),
                join_url=str(session.join_url),
                cancel_url=cancel_link(registration, session, settings),
                session=session,
                details=templates.calendar_description(registration, session),
            )
        )
        if confirmed:
            body = invitation(registration, session, settings, stamp=changed_at)
            calendars.append((f"invite-{session.session_id}.ics", body))
    first, first_session = next(
        (b for b in booked if b[0].status is RegistrationStatus.CONFIRMED), booked[0]
    )
    content = summary.submission_status(
        first, reference, places, feed=feed_for(first, first_session, settings)
    )
    return to_registrant.message(
        first,
        first_session,
        settings,
        content=content,
        date=now,
        calendars=calendars,
        kind="confirmation" if calendars else "waitlist",
    )
