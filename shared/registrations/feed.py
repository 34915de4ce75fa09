"""Calendar feeds that stay right by themselves: a registrant's personal feed and the public
programme's.

Personal: ``GET /calendar/{token}.ics`` (a ``calendar`` link, :func:`shared.web.links.feed_token`,
naming one of the registrant's registrations). It lists every session the address holds a
confirmed place in, with the UID of that place's invitation (:func:`shared.mail.ics.uid`), so
a calendar that has the invitation and the feed shows one event; a cancelled place or session
says STATUS:CANCELLED. Waitlisted places are left out until promoted. Calendars poll the
feed, so reschedules and cancellations reach them with no email.

Public: ``GET /sessions.ics``, every scheduled session, with no join link and no person.
"""

from __future__ import annotations

from datetime import datetime

from shared.mail import ics
from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.programme.models import Session, SessionAvailability, SessionStatus
from shared.programme.repository import SessionNotFoundError, get_session
from shared.registrations import notification
from shared.registrations.models import Registration, RegistrationStatus
from shared.registrations.store import reference_registrations, registrant_registrations
from shared.web import links

PUBLIC_NAME_SUFFIX = " (programme)"


class FeedNotFoundError(LookupError):
    """The link is genuine but names no registration any more (erased, or replaced)."""


def personal_calendar(token: str, *, now: datetime, settings: Settings) -> str:
    """The VCALENDAR (no METHOD) of the registrant the feed token was issued to.

    Raises :class:`shared.web.links.InvalidLinkError` (forged, expired, other purpose) or
    :class:`FeedNotFoundError` (no registration of the token's address and reference).
    """
    claims = links.verify(token, signing_keys(settings), purpose=links.CALENDAR, now=now)
    named = [
        r
        for r in reference_registrations(settings.table_name, claims.reference)
        if r.session_id == claims.session_id and claims.is_for(r.email)
    ]
    if not named:
        raise FeedNotFoundError(claims.session_id)
    events = []
    for registration in registrant_registrations(settings.table_name, named[0].email):
        if registration.status is RegistrationStatus.WAITLISTED:
            continue
        try:
            session = get_session(settings.table_name, registration.session_id).session
        except SessionNotFoundError:
            continue
        cancelled = (
            registration.status is RegistrationStatus.CANCELLED
            or session.status is SessionStatus.CANCELLED
        )
        events.append(
            ics.personal_event(
                session,
                **notification.event_fields(registration, session, settings),
                stamp=now,
                cancelled=cancelled,
                sequence=feed_sequence(registration, session),
            )
        )
    return ics.calendar(events, name=settings.series_name)


def feed_sequence(registration: Registration, session: Session) -> int:
    """The SEQUENCE of a registrant's event in their feed: the same at every fetch, one more at
    each change (RFC 5545 3.8.7.4): the registration time in :func:`shared.mail.ics.sequence_at`
    seconds, plus the session's revisions (reschedules, cancellation), plus one once the
    registration is cancelled."""
    cancelled = registration.status is RegistrationStatus.CANCELLED
    return ics.sequence_at(registration.registered_at) + session.sequence + int(cancelled)


def public_calendar(
    programme: list[SessionAvailability], *, now: datetime, settings: Settings
) -> str:
    """The VCALENDAR (no METHOD) of every session in ``programme``: open ones confirmed,
    cancelled ones STATUS:CANCELLED; each links the registration page."""
    page = settings.public_base_url.rstrip("/") + "/"
    sessions: list[Session] = sorted((a.session for a in programme), key=lambda s: s.start)
    events = [ics.public_event(s, stamp=now, page_url=page) for s in sessions]
    return ics.calendar(events, name=settings.series_name + PUBLIC_NAME_SUFFIX)
