"""Email bodies (plain text and HTML) for registrants.

Each email is a list of blocks (paragraphs, links, the session set apart), written once here and
laid out by two templates in ``shared/mail/templates/``: ``email.txt`` for the text part and
``email.html`` for the HTML part, where Jinja2 escapes every value (names, titles, links).
Times are shown in the registrant's time zone when they gave one, else the session's, and
always name the zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.mail.blocks import (
    _HERE,
    FOOTER_SLOT,
    SERIES,
    SIGNATURE,
    Block,
    Brand,
    EmailContent,
    Feed,
    Link,
    Links,
    SessionBlock,
    add_to_calendar,
    brand_of,
    cancel_link,
    feed_block,
    render_blocks,
    with_brand,
)
from shared.platform.rendering import render
from shared.programme.models import Session
from shared.registrations.models import Registration

EN_DASH = "\u2013"
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
class Material:
    """A file a notice lists (:func:`shared.materials.library.for_registrant`): its label and the
    registrant's own link."""

    title: str
    url: str


def session_time(session: Session, timezone: str | None = None) -> str:
    """E.g. "Tuesday 1 December 2026, 10:00\u201311:30 CET (Europe/Brussels)" (an en dash)."""
    zone = _zone(timezone) or ZoneInfo(session.timezone)
    start, end = session.start.astimezone(zone), session.end.astimezone(zone)
    if end.date() == start.date():
        span = f"{_date(start)}, {start:%H:%M}{EN_DASH}{end:%H:%M}"
    else:
        span = f"{_date(start)}, {start:%H:%M} {EN_DASH} {_date(end)}, {end:%H:%M}"
    return f"{span} {end.tzname()} ({zone.key})"


def confirmation(
    registration: Registration,
    session: Session,
    cancel_url: str,
    *,
    promoted: bool = False,
    feed: Feed | None = None,
) -> EmailContent:
    """Place confirmed (``promoted``: a place opened up for someone on the waiting list): the
    join link, the reference, the calendar links and the cancellation link."""
    opening = (
        "Good news: a place opened up, and it is yours. Your place is now confirmed for the "
        f"following session of the {SERIES}:"
        if promoted
        else "Thank you for registering. Your place is confirmed for the following session "
        f"of the {SERIES}:"
    )
    return render_blocks(
        subject=f"{'A place opened up' if promoted else 'Registration confirmed'}: {session.title}",
        name=registration.full_name,
        blocks=[
            opening,
            SessionBlock(session.title, session_time(session, registration.timezone)),
            Link("Join the session:", str(session.join_url), "Join the session"),
            "This link is for registered participants only; please do not forward it.",
            f"Your registration reference is {registration.reference}. "
            "A calendar invitation is attached to this email.",
            add_to_calendar(session, calendar_description(registration, session)),
            *feed_block(feed),
            "We will send you a reminder before the session, and the slides and guidance "
            "notes afterwards.",
            cancel_link(cancel_url),
        ],
    )


def waitlist(
    registration: Registration,
    session: Session,
    cancel_url: str,
    *,
    position: int | None = None,
) -> EmailContent:
    """Session full: on the waiting list (at ``position``, 1 first, when known), no join link
    yet."""
    where = f" You are number {position} on the list." if position else ""
    return render_blocks(
        subject=f"Waiting list: {session.title}",
        name=registration.full_name,
        blocks=[
            f"Thank you for registering for the following session of the {SERIES}:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            "The session is fully booked, so you have been placed on the waiting list."
            f"{where} If a place becomes available, we will email you a confirmation with the "
            "join link and a calendar invitation.",
            f"Your registration reference is {registration.reference}.",
            cancel_link(cancel_url, waiting=True),
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


# --- notices to a session's registrants (shared/notices/kinds.py) ---------------------------------


def reminder(
    registration: Registration,
    session: Session,
    *,
    soon: bool,
    materials: Sequence[Material],
    cancel_url: str = "",
    feed: Feed | None = None,
) -> EmailContent:
    """The T-24h (``soon=False``) or T-1h reminder: time, join link, materials so far, the
    cancel link (``cancel_url``) and the feed."""
    return render_blocks(
        subject=f"{'Starting soon' if soon else 'Reminder'}: {session.title}",
        name=registration.full_name,
        blocks=[
            f"This is a reminder that the following session of the {SERIES}, for which you "
            f"are registered, {'starts soon' if soon else 'is coming up'}:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            Link("Join the session:", str(session.join_url), "Join the session"),
            "This link is for registered participants only; please do not forward it.",
            *_materials(materials, "Materials already available for this session:"),
            "The calendar invitation is attached again, with the current details.",
            *feed_block(feed),
            *([cancel_link(cancel_url)] if cancel_url else []),
        ],
    )


def live(registration: Registration, session: Session) -> EmailContent:
    """The session has started: the join link."""
    return render_blocks(
        subject=f"We are live: {session.title}",
        name=registration.full_name,
        blocks=[
            f"The following session of the {SERIES} has just started:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            Link("Join now:", str(session.join_url), "Join now"),
            "This link is for registered participants only; please do not forward it.",
        ],
    )


def follow_up(
    registration: Registration,
    session: Session,
    *,
    materials: Sequence[Material],
    feedback_url: str,
) -> EmailContent:
    """After the session: the materials so far and a feedback link."""
    return render_blocks(
        subject=f"Thank you: {session.title}",
        name=registration.full_name,
        blocks=[
            f"Thank you for registering for the following session of the {SERIES}:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            *(
                _materials(materials, "The materials of the session:")
                or ["We will send you the slides and guidance notes as soon as they are ready."]
            ),
            Link("Please tell us what you thought of the session:", feedback_url, "Give feedback"),
        ],
    )


def rescheduled(
    registration: Registration,
    session: Session,
    changes: str = "",
    *,
    previous_start: datetime | None = None,
    feed: Feed | None = None,
) -> EmailContent:
    """The session moved (or, with ``changes``, e.g. "new join link", its details changed):
    its time (and the old one, from ``previous_start``) and join link; the attached
    invitation replaces the earlier one."""
    if changes:
        subject = f"Updated: {session.title}"
        opening = (
            f"The details of the following session of the {SERIES}, for which you are "
            f"registered, have changed ({changes}). The session is now:"
        )
    else:
        subject = f"New time: {session.title}"
        opening = (
            f"The following session of the {SERIES}, for which you are registered, has been "
            "rescheduled. The new time is:"
        )
    was = ""
    if previous_start is not None and previous_start != session.start:
        earlier = session.model_copy(update={"start": previous_start})
        was = f"Previously: {session_time(earlier, registration.timezone)}"
    return render_blocks(
        subject=subject,
        name=registration.full_name,
        blocks=[
            opening,
            SessionBlock(session.title, session_time(session, registration.timezone), was),
            Link("Join the session:", str(session.join_url), "Join the session"),
            "Your registration stands. The attached calendar invitation replaces the earlier "
            "one; we will send reminders before the new time.",
            *feed_block(feed),
        ],
    )


def cancelled(
    registration: Registration, session: Session, *, reason: str, calendar: bool
) -> EmailContent:
    """The session is cancelled (``calendar``: an attachment removes it from the calendar)."""
    return render_blocks(
        subject=f"Cancelled: {session.title}",
        name=registration.full_name,
        blocks=[
            f"We are sorry: the following session of the {SERIES} has been cancelled.",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            *([f"Reason: {reason}"] if reason else []),
            *(
                ["The attached calendar update removes the session from your calendar."]
                if calendar
                else []
            ),
            "Your registrations for other sessions of the series are not affected.",
        ],
    )


def place_cancelled(
    registration: Registration, session: Session, *, reason: str, calendar: bool
) -> EmailContent:
    """One's own place (or waitlist entry) ended: by their link, an erasure, or the organisers
    (``reason``); ``calendar``: the attached CANCEL removes the event and its join link."""
    return render_blocks(
        subject=f"Registration cancelled: {session.title}",
        name=registration.full_name,
        blocks=[
            f"Your registration ({registration.reference}) for the following session of the "
            f"{SERIES} has been cancelled:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            *([f"Reason: {reason}"] if reason else []),
            *(
                ["The attached calendar update removes the session and its join link."]
                if calendar
                else []
            ),
            "You are welcome to register again while registration is open.",
        ],
    )


# --- materials (shared/materials/library.py, shared/materials/uploads.py) -------------------------


def materials_available(
    registration: Registration, session: Session, *, materials: Sequence[Material]
) -> EmailContent:
    """New materials after the session: every current file, each with the registrant's link."""
    return render_blocks(
        subject=f"Materials available: {session.title}",
        name=registration.full_name,
        blocks=[
            f"New materials are available for the following session of the {SERIES}:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            *_materials(materials, "The materials of the session:"),
            "These links are personal: please do not forward them. Colleagues can register "
            "for the next sessions of the series.",
        ],
    )


def material_rejected(key: str, reason: str, quarantine_key: str) -> EmailContent:
    """To the organisers: an upload was not accepted, why, and where it was moved."""
    return render_blocks(
        subject=f"Upload rejected: {key.rpartition('/')[2] or key}",
        name="organisers",
        blocks=[
            "An upload to the materials bucket was not accepted, so no registrant will see it:",
            SessionBlock(key, reason),
            f"It was moved to {quarantine_key}. Please correct the file "
            "or its name and upload it again to sessions/{session id}/slides/ or "
            "sessions/{session id}/guidance/ (PDF, PPTX, DOCX, ODP or ODT).",
        ],
    )


UNSUBSCRIBE_LABEL = (
    f"You receive this email because you registered for the {SERIES}. "
    "To receive no more emails from us:"
)


def with_unsubscribe(content: EmailContent, url: str) -> EmailContent:
    """``content`` with the unsubscribe link as its footer
    (:func:`shared.mail.sending.build_message`)."""
    return _with_footer(content, UNSUBSCRIBE_LABEL, url, link="Unsubscribe", rule=True)


PRIVACY_LABEL = "To see the personal data we hold about you, or to have it erased:"


def with_privacy_link(content: EmailContent, url: str) -> EmailContent:
    """``content`` with the "your data" link (:mod:`shared.privacy.rights`) at the end of its
    footer."""
    return _with_footer(content, PRIVACY_LABEL, url, link="Your data", rule=False)


def _with_footer(
    content: EmailContent, label: str, url: str, *, link: str, rule: bool
) -> EmailContent:
    """``label`` and ``url`` appended to the text part, and at the end of the HTML part's
    footer (after a rule if ``rule``: the first footer line)."""
    footer = {"label": label, "url": url, "link": link, "rule": rule}
    slot = FOOTER_SLOT if FOOTER_SLOT in content.html else "</body>"  # a layout of our own
    page = content.html.replace(slot, render(_HERE, "footer.html", **footer) + slot, 1)
    text = content.text + render(_HERE, "footer.txt", **footer)
    return EmailContent(subject=content.subject, text=text, html=page)


__all__ = [
    "SIGNATURE",
    "Block",
    "Brand",
    "EmailContent",
    "Feed",
    "Link",
    "Links",
    "SessionBlock",
    "add_to_calendar",
    "brand_of",
    "cancel_link",
    "feed_block",
    "with_brand",
]


def _materials(materials: Sequence[Material], heading: str) -> list[Block]:
    if not materials:
        return []
    return [heading, *(Link(f"{m.title}:", m.url, "Download") for m in materials)]


def _date(moment: datetime) -> str:
    return f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
