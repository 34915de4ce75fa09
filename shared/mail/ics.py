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

from shared.programme.models import Session
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
    join_url = str(session.join_url)
    properties: list[tuple[str, str]] = [
        ("UID", uid(session.session_id, attendee_email)),
        ("SEQUENCE", str(sequence_at(stamp))),
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
        ("STATUS", "CONFIRMED" if method == "REQUEST" else "CANCELLED"),
        ("TRANSP", "OPAQUE"),
    ]
    if method == "REQUEST":
        properties += [("URL", join_url), ("LOCATION", escape_text(join_url))]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        *(f"{name}:{value}" for name, value in properties),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
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
