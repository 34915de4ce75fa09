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
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.platform.rendering import render
from shared.programme.models import Session
from shared.registrations.models import Registration

_HERE = "shared.mail"  # the package whose templates/ folder holds the layouts
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

    kind: ClassVar[str] = "link"
    label: str
    url: str


@dataclass(frozen=True)
class SessionBlock:
    """The session title and time, set apart from the prose."""

    kind: ClassVar[str] = "session"
    title: str
    when: str


Block = str | Link | SessionBlock


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


# --- notices to a session's registrants (shared/notices/kinds.py) ---------------------------------


def reminder(
    registration: Registration, session: Session, *, soon: bool, materials: Sequence[Material]
) -> EmailContent:
    """The T-24h (``soon=False``) or T-1h reminder: time, join link, materials so far."""
    return _render(
        subject=f"{'Starting soon' if soon else 'Reminder'}: {session.title}",
        name=registration.full_name,
        blocks=[
            f"This is a reminder that the following session of the {SERIES}, for which you "
            f"are registered, {'starts soon' if soon else 'is coming up'}:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            Link("Join the session:", str(session.join_url)),
            "This link is for registered participants only; please do not forward it.",
            *_materials(materials, "Materials already available for this session:"),
            "The calendar invitation is attached again, with the current details.",
        ],
    )


def live(registration: Registration, session: Session) -> EmailContent:
    """The session has started: the join link."""
    return _render(
        subject=f"We are live: {session.title}",
        name=registration.full_name,
        blocks=[
            f"The following session of the {SERIES} has just started:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            Link("Join now:", str(session.join_url)),
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
    return _render(
        subject=f"Thank you: {session.title}",
        name=registration.full_name,
        blocks=[
            f"Thank you for registering for the following session of the {SERIES}:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            *(
                _materials(materials, "The materials of the session:")
                or ["We will send you the slides and guidance notes as soon as they are ready."]
            ),
            Link("Please tell us what you thought of the session:", feedback_url),
        ],
    )


def rescheduled(registration: Registration, session: Session, changes: str = "") -> EmailContent:
    """The session moved (or, with ``changes``, e.g. "new join link", its details changed):
    its time and join link; the attached invitation replaces the earlier one."""
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
    return _render(
        subject=subject,
        name=registration.full_name,
        blocks=[
            opening,
            SessionBlock(session.title, session_time(session, registration.timezone)),
            Link("Join the session:", str(session.join_url)),
            "Your registration stands. The attached calendar invitation replaces the earlier "
            "one; we will send reminders before the new time.",
        ],
    )


def cancelled(
    registration: Registration, session: Session, *, reason: str, calendar: bool
) -> EmailContent:
    """The session is cancelled (``calendar``: an attachment removes it from the calendar)."""
    return _render(
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
    return _render(
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
    return _render(
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


def organiser_message(
    registration: Registration, session: Session, subject: str, body: str
) -> EmailContent:
    """An organiser's message about ``session`` (``kbs message``): ``body`` is plain text,
    its paragraphs (split at blank lines) escaped like every value."""
    paragraphs = [" ".join(p.split()) for p in body.replace("\r\n", "\n").split("\n\n")]
    return _render(
        subject=subject,
        name=registration.full_name,
        blocks=[
            f"A message from the organisers of the {SERIES} about your session:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            *(p for p in paragraphs if p),
        ],
    )


def material_rejected(key: str, reason: str, quarantine_key: str) -> EmailContent:
    """To the organisers: an upload was not accepted, why, and where it was moved."""
    return _render(
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


RECORD_LABEL = "Your attendance, certificates and CPD hours across the series:"


def with_record_link(content: EmailContent, url: str) -> EmailContent:
    """``content`` with the "My record" link (:mod:`shared.certificates.record`) in its footer."""
    return _with_footer(content, RECORD_LABEL, url, link="My record", rule=False)


def certificate_issued(
    name: str, title: str, when: str, *, download_url: str, verify_url: str, cpd_hours: str
) -> EmailContent:
    """A certificate of attendance: the session, its CPD hours, the holder's download link and
    the public verification URL (:mod:`shared.certificates.issuing`)."""
    return _render(
        subject=f"Your certificate of attendance: {title}",
        name=name,
        blocks=[
            f"Thank you for attending the following session of the {SERIES}:",
            SessionBlock(title, when),
            f"Your certificate of attendance states {cpd_hours} CPD hours.",
            Link("Download your certificate (PDF):", download_url),
            Link("Anyone can check that it is genuine at:", verify_url),
        ],
    )


def _with_footer(
    content: EmailContent, label: str, url: str, *, link: str, rule: bool
) -> EmailContent:
    """``label`` and ``url`` appended to the text part, and before ``</body>`` of the HTML part
    (after a rule if ``rule``: the first footer line)."""
    footer = {"label": label, "url": url, "link": link, "rule": rule}
    page = content.html.replace("</body>", render(_HERE, "footer.html", **footer) + "</body>", 1)
    text = content.text + render(_HERE, "footer.txt", **footer)
    return EmailContent(subject=content.subject, text=text, html=page)


def _materials(materials: Sequence[Material], heading: str) -> list[Block]:
    if not materials:
        return []
    return [heading, *(Link(f"{m.title}:", m.url) for m in materials)]


def _render(subject: str, name: str, blocks: list[Block]) -> EmailContent:
    context = {"subject": subject, "name": name, "blocks": blocks, "signature": SIGNATURE}
    return EmailContent(
        subject=subject,
        text=render(_HERE, "email.txt", **context),
        html=render(_HERE, "email.html", **context),
    )


def _date(moment: datetime) -> str:
    return f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
