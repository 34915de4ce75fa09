"""Email bodies (plain text and HTML) for registrants.

Every value that comes from a person (names, titles, links) is HTML-escaped in the HTML part.
Times are shown in the registrant's time zone when they gave one, else the session's, and
always name the zone.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.models import Registration, Session

SERIES = "Knowledge Building Series"
EN_DASH = "\u2013"
SIGNATURE = ("Kind regards,", f"The {SERIES} team", "Electronics Watch")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Link:
    """A paragraph ending in a link: ``label`` then the URL."""

    label: str
    url: str


@dataclass(frozen=True)
class SessionBlock:
    """The session title and time, set apart from the prose."""

    title: str
    when: str


Block = str | Link | SessionBlock


def session_time(session: Session, timezone: str | None = None) -> str:
    """E.g. "Tuesday 1 December 2026, 10:00\u201311:30 CET (Europe/Brussels)" (an en dash)."""
    zone = _zone(timezone) or ZoneInfo(session.timezone)
    start, end = session.start.astimezone(zone), session.end.astimezone(zone)
    if end.date() == start.date():
        span = f"{_date(start)}, {start:%H:%M}{EN_DASH}{end:%H:%M}"
    else:
        span = f"{_date(start)}, {start:%H:%M} {EN_DASH} {_date(end)}, {end:%H:%M}"
    return f"{span} {end.tzname()} ({zone.key})"


def confirmation(registration: Registration, session: Session, cancel_url: str) -> EmailContent:
    """Place confirmed: the join link, the reference and the cancellation link."""
    return _render(
        subject=f"Registration confirmed: {session.title}",
        name=registration.full_name,
        blocks=[
            "Thank you for registering. Your place is confirmed for the following session "
            f"of the {SERIES}:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            Link("Join the session:", str(session.join_url)),
            "This link is for registered participants only; please do not forward it.",
            f"Your registration reference is {registration.reference}. "
            "A calendar invitation is attached to this email.",
            "We will send you a reminder before the session, and the slides and guidance "
            "notes afterwards.",
            Link(
                "If you can no longer attend, please cancel your registration so that your "
                "place can be offered to someone on the waiting list:",
                cancel_url,
            ),
        ],
    )


def waitlist(registration: Registration, session: Session, cancel_url: str) -> EmailContent:
    """Session full: on the waiting list, no join link yet."""
    return _render(
        subject=f"Waiting list: {session.title}",
        name=registration.full_name,
        blocks=[
            f"Thank you for registering for the following session of the {SERIES}:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            "The session is fully booked, so you have been placed on the waiting list. "
            "If a place becomes available, we will email you a confirmation with the join "
            "link and a calendar invitation.",
            f"Your registration reference is {registration.reference}.",
            Link(
                "If you no longer wish to attend, you can leave the waiting list here:",
                cancel_url,
            ),
        ],
    )


def calendar_description(registration: Registration, session: Session) -> str:
    """The DESCRIPTION of the calendar event (plain text)."""
    parts = [
        session.description,
        f"Join the session: {session.join_url}",
        f"Registration reference: {registration.reference}",
    ]
    return "\n\n".join(part for part in parts if part)


def _render(subject: str, name: str, blocks: list[Block]) -> EmailContent:
    text_parts = [f"Dear {name},"]
    html_parts = [f"<p>Dear {html.escape(name)},</p>"]
    for block in blocks:
        if isinstance(block, SessionBlock):
            text_parts.append(f"    {block.title}\n    {block.when}")
            html_parts.append(
                f'<p style="margin-left:1.5em"><strong>{html.escape(block.title)}</strong>'
                f"<br>{html.escape(block.when)}</p>"
            )
        elif isinstance(block, Link):
            href = html.escape(block.url, quote=True)
            text_parts.append(f"{block.label}\n{block.url}")
            html_parts.append(f'<p>{html.escape(block.label)}<br><a href="{href}">{href}</a></p>')
        else:
            text_parts.append(block)
            html_parts.append(f"<p>{html.escape(block)}</p>")
    text_parts.append("\n".join(SIGNATURE))
    html_parts.append("<p>" + "<br>".join(html.escape(line) for line in SIGNATURE) + "</p>")
    body = "\n".join(html_parts)
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>\n"
        f'<body style="font-family:Arial,Helvetica,sans-serif;line-height:1.5">\n{body}\n'
        "</body>\n</html>\n"
    )
    return EmailContent(subject=subject, text="\n\n".join(text_parts) + "\n", html=page)


def _date(moment: datetime) -> str:
    return f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
