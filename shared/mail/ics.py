"""RFC 5545 calendar invitations (iTIP REQUEST / CANCEL) for one registrant and one session.

The UID depends only on the session and the registrant, so a later invitation (reschedule,
a confirmation sent again) or cancellation replaces the event in the registrant's calendar
instead of adding a second one. SEQUENCE is the time of the change the message tells of
(:func:`sequence_at` of its ``stamp``): it only rises for a UID, across a cancellation, an
erasure (nothing about the person is kept, yet a later registration is later) and expiry, so a
later REQUEST outranks an earlier CANCEL and the reverse (RFC 5546 3.2, 2.1.5).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from shared.programme.models import Session, SessionStatus
from shared.registrations.models import normalise_email
from shared.web.links import email_hash

UID_DOMAIN = "kbs"
PRODID = "-//Electronics Watch//Knowledge Building Series//EN"
MAX_LINE_OCTETS = 75

Method = Literal["REQUEST", "CANCEL"]
SEQUENCE_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
"""SEQUENCE counts seconds from here: a 32-bit INTEGER (RFC 5545 3.3.8) lasts until 2093."""


def sequence_at(moment: datetime) -> int:
    """The SEQUENCE of a message telling of a change at ``moment``: whole seconds since
    :data:`SEQUENCE_EPOCH` (two changes within one second share it; DTSTAMP then decides)."""
    return max(0, int((moment - SEQUENCE_EPOCH).total_seconds()))


def uid(session_id: str, email: str) -> str:
    """Stable UID of one registrant's event for one session (no address in clear)."""
    return f"{session_id}.{email_hash(email)}@{UID_DOMAIN}"


def invitation(
    session: Session,
    *,
    attendee_email: str,
    attendee_name: str,
    organizer_email: str,
    organizer_name: str,
    stamp: datetime,
    description: str = "",
    summary: str | None = None,
    method: Method = "REQUEST",
) -> str:
    """A VCALENDAR with one VEVENT, CRLF line endings, folded at 75 octets.

    ``stamp`` is the time of the change the message tells of (DTSTAMP, and SEQUENCE by
    :func:`sequence_at`). ``summary`` (default: the session's title) and ``description`` are
    in the registrant's language (:func:`shared.mail.templates.calendar_summary`). A REQUEST
    carries the join link (URL and LOCATION); a CANCEL does
    not.
    """
    event = personal_event(
        session,
        attendee_email=attendee_email,
        attendee_name=attendee_name,
        organizer_email=organizer_email,
        organizer_name=organizer_name,
        stamp=stamp,
        description=description,
        summary=summary,
        cancelled=method == "CANCEL",
    )
    return calendar([event], method=method)


Event = list[tuple[str, str]]
"""A VEVENT's properties, (name with parameters, value), in order."""


def personal_event(
    session: Session,
    *,
    attendee_email: str,
    attendee_name: str,
    organizer_email: str,
    organizer_name: str,
    stamp: datetime,
    description: str = "",
    summary: str | None = None,
    cancelled: bool = False,
    sequence: int | None = None,
) -> Event:
    """One registrant's event of ``session`` (UID :func:`uid`): the invitation's, and the
    personal feed's; ``summary`` defaults to the session's title. A cancelled one says
    STATUS:CANCELLED and carries no join link. SEQUENCE is ``sequence`` when given, else
    :func:`sequence_at` ``stamp``."""
    properties: Event = [
        ("UID", uid(session.session_id, attendee_email)),
        ("SEQUENCE", str(sequence_at(stamp) if sequence is None else sequence)),
        ("DTSTAMP", _utc(stamp)),
        ("DTSTART", _utc(session.start)),
        ("DTEND", _utc(session.end)),
        ("SUMMARY", escape_text(session.title if summary is None else summary)),
        ("DESCRIPTION", escape_text(description)),
        ("ORGANIZER;CN=" + _param(organizer_name), f"mailto:{organizer_email}"),
        (
            "ATTENDEE;CN=" + _param(attendee_name) + ";ROLE=REQ-PARTICIPANT;RSVP=FALSE",
            f"mailto:{normalise_email(attendee_email)}",
        ),
        ("STATUS", "CANCELLED" if cancelled else "CONFIRMED"),
        ("TRANSP", "OPAQUE"),
    ]
    if not cancelled:
        join_url = str(session.join_url)
        properties += [("URL", join_url), ("LOCATION", escape_text(join_url))]
    return properties


def public_event(session: Session, *, stamp: datetime, page_url: str) -> Event:
    """A session of the public programme (UID ``{session_id}@kbs``): no join link, no
    attendee; ``page_url`` is where to register. Cancelled sessions say STATUS:CANCELLED."""
    cancelled = session.status is SessionStatus.CANCELLED
    return [
        ("UID", f"{session.session_id}@{UID_DOMAIN}"),
        ("SEQUENCE", str(session.sequence)),
        ("DTSTAMP", _utc(stamp)),
        ("DTSTART", _utc(session.start)),
        ("DTEND", _utc(session.end)),
        ("SUMMARY", escape_text(session.title)),
        ("DESCRIPTION", escape_text(session.description)),
        ("STATUS", "CANCELLED" if cancelled else "CONFIRMED"),
        ("TRANSP", "TRANSPARENT"),
        ("URL", page_url),
    ]


def calendar(events: list[Event], *, method: Method | None = None, name: str = "") -> str:
    """A VCALENDAR of ``events``, CRLF line endings, folded at 75 octets: an iTIP message with
    ``method``, else a feed (no METHOD; ``name`` as its X-WR-CALNAME)."""
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if method:
        head.append(f"METHOD:{method}")
    if name:
        head.append(f"X-WR-CALNAME:{escape_text(name)}")
    lines = list(head)
    for event in events:
        lines += ["BEGIN:VEVENT", *(f"{n}:{v}" for n, v in event), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a character."""
    chunks: list[str] = []
    current, size, limit = "", 0, MAX_LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            chunks.append(current)
            current, size, limit = "", 0, MAX_LINE_OCTETS - 1  # continuation starts with a space
        current += char
        size += width
    chunks.append(current)
    return "\r\n ".join(chunks)


def _param(value: str) -> str:
    """A quoted parameter value: DQUOTE and control characters cannot appear in one."""
    cleaned = "".join(c for c in value if c != '"' and c.isprintable())
    return f'"{cleaned}"'


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
