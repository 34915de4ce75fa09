"""Email bodies (plain text and HTML) for registrants.

Each email is a list of blocks (paragraphs, buttons, the session set apart: :mod:`shared.mail.
blocks`) written once here, in the registrant's language and time zone (:mod:`shared.mail.
registrant`): the English messages are gettext msgids, translated in ``shared/i18n/locale``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.i18n.catalogs import catalog
from shared.mail.blocks import (
    SERIES,
    Block,
    Brand,
    EmailContent,
    Feed,
    Link,
    Material,
    Say,
    SessionBlock,
    add_to_calendar,
    brand_of,
    cancel_link,
    feed_block,
    render_blocks,
    with_brand,
)
from shared.mail.registrant import render as _render
from shared.mail.registrant import session_block as _session
from shared.mail.registrant import session_time, speaker
from shared.mail.registrant import title as _title
from shared.programme.models import Session
from shared.registrations.models import Registration

__all__ = [
    "SERIES",
    "Brand",
    "EmailContent",
    "Feed",
    "Material",
    "brand_of",
    "session_time",
    "with_brand",
]


def confirmation(
    registration: Registration,
    session: Session,
    cancel_url: str,
    *,
    promoted: bool = False,
    feed: Feed | None = None,
) -> EmailContent:
    """Place confirmed (``promoted``: a place opened up for someone on the waiting list): the
    join link, the reference, the add-to-calendar links, the feed and the cancellation link."""
    _ = speaker(registration)
    title = _title(registration, session)
    if promoted:
        subject = _("A place opened up: %(title)s", title=title)
        opening = _(
            "Good news: a place opened up, and it is yours. Your place is now confirmed for the "
            "following session of the %(series)s:"
        )
    else:
        subject = _("Registration confirmed: %(title)s", title=title)
        opening = _(
            "Thank you for registering. Your place is confirmed for the following session "
            "of the %(series)s:"
        )
    return _render(
        registration,
        subject=subject,
        blocks=[
            opening,
            _session(registration, session),
            _join(session, _),
            _("This link is for registered participants only; please do not forward it."),
            _(
                "Your registration reference is %(reference)s. "
                "A calendar invitation is attached to this email."
            ),
            add_to_calendar(session, title, calendar_description(registration, session), _),
            *feed_block(feed, _),
            _(
                "We will send you a reminder before the session, and the slides and guidance "
                "notes afterwards."
            ),
            cancel_link(cancel_url, _),
        ],
    )


def waitlist(
    registration: Registration, session: Session, cancel_url: str, *, position: int | None = None
) -> EmailContent:
    """Session full: on the waiting list (at ``position``, 1 first, when known), no join link
    yet."""
    _ = speaker(registration)
    return _render(
        registration,
        subject=_("Waiting list: %(title)s", title=_title(registration, session)),
        blocks=[
            _("Thank you for registering for the following session of the %(series)s:"),
            _session(registration, session),
            _("The session is fully booked, so you have been placed on the waiting list."),
            *(
                [_("You are number %(position)s on the list.", position=str(position))]
                if position
                else []
            ),
            _(
                "If a place becomes available, we will email you a confirmation with the join "
                "link and a calendar invitation."
            ),
            _("Your registration reference is %(reference)s."),
            cancel_link(cancel_url, _, waiting=True),
        ],
    )


def calendar_summary(registration: Registration, session: Session) -> str:
    """The SUMMARY of the calendar event: the session's title in the registrant's language."""
    return session.title_in(registration.language)


def calendar_description(registration: Registration, session: Session) -> str:
    """The DESCRIPTION of the calendar event (plain text), in the registrant's language."""
    _ = catalog(registration.language).gettext
    parts = [
        session.description_in(registration.language),
        _("Join the session: %(url)s") % {"url": session.join_url},
        _("Registration reference: %(reference)s") % {"reference": registration.reference},
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
    _ = speaker(registration)
    title = _title(registration, session)
    if soon:
        subject = _("Starting soon: %(title)s", title=title)
        opening = _(
            "This is a reminder that the following session of the %(series)s, for which you "
            "are registered, starts soon:"
        )
    else:
        subject = _("Reminder: %(title)s", title=title)
        opening = _(
            "This is a reminder that the following session of the %(series)s, for which you "
            "are registered, is coming up:"
        )
    return _render(
        registration,
        subject=subject,
        blocks=[
            opening,
            _session(registration, session),
            _join(session, _),
            _("This link is for registered participants only; please do not forward it."),
            *_materials(materials, _("Materials already available for this session:"), _),
            _("The calendar invitation is attached again, with the current details."),
            *feed_block(feed, _),
            *([cancel_link(cancel_url, _)] if cancel_url else []),
        ],
    )


def live(registration: Registration, session: Session) -> EmailContent:
    """The session has started: the join link."""
    _ = speaker(registration)
    return _render(
        registration,
        subject=_("We are live: %(title)s", title=_title(registration, session)),
        blocks=[
            _("The following session of the %(series)s has just started:"),
            _session(registration, session),
            Link(_("Join now:"), str(session.join_url), _("Join now")),
            _("This link is for registered participants only; please do not forward it."),
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
    _ = speaker(registration)
    return _render(
        registration,
        subject=_("Thank you: %(title)s", title=_title(registration, session)),
        blocks=[
            _("Thank you for registering for the following session of the %(series)s:"),
            _session(registration, session),
            *(
                _materials(materials, _("The materials of the session:"), _)
                or [_("We will send you the slides and guidance notes as soon as they are ready.")]
            ),
            Link(
                _("Please tell us what you thought of the session:"),
                feedback_url,
                _("Give feedback"),
            ),
        ],
    )


CHANGE_SEPARATOR = ", "
"""Between the changes of an update (``shared.programme.imports`` joins its change names so)."""


def rescheduled(
    registration: Registration,
    session: Session,
    changes: str = "",
    *,
    previous_start: datetime | None = None,
    feed: Feed | None = None,
) -> EmailContent:
    """The session moved (or, with ``changes``, e.g. "new join link", its details changed):
    its time (and the old one, from ``previous_start``) and join link; the attached invitation
    replaces the earlier one. Each change name is translated
    (:data:`shared.programme.imports.CHANGE_NAMES`)."""
    _ = speaker(registration)
    title = _title(registration, session)
    if changes:
        subject = _("Updated: %(title)s", title=title)
        name = catalog(registration.language).gettext  # a name, not a format: "%" stays text
        translated = CHANGE_SEPARATOR.join(name(c) for c in changes.split(CHANGE_SEPARATOR))
        opening = _(
            "The details of the following session of the %(series)s, for which you are "
            "registered, have changed (%(changes)s). The session is now:",
            changes=translated,
        )
    else:
        subject = _("New time: %(title)s", title=title)
        opening = _(
            "The following session of the %(series)s, for which you are registered, has been "
            "rescheduled. The new time is:"
        )
    was = ""
    if previous_start is not None and previous_start != session.start:
        earlier = session.model_copy(update={"start": previous_start})
        was = _(
            "Previously: %(when)s",
            when=session_time(earlier, registration.timezone, registration.language),
        )
    return _render(
        registration,
        subject=subject,
        blocks=[
            opening,
            _session(registration, session, was),
            _join(session, _),
            _(
                "Your registration stands. The attached calendar invitation replaces the earlier "
                "one; we will send reminders before the new time."
            ),
            *feed_block(feed, _),
        ],
    )


def cancelled(
    registration: Registration, session: Session, *, reason: str, calendar: bool
) -> EmailContent:
    """The session is cancelled (``calendar``: an attachment removes it from the calendar)."""
    _ = speaker(registration)
    return _render(
        registration,
        subject=_("Cancelled: %(title)s", title=_title(registration, session)),
        blocks=[
            _("We are sorry: the following session of the %(series)s has been cancelled."),
            _session(registration, session),
            *([_("Reason: %(reason)s", reason=reason)] if reason else []),
            *(
                [_("The attached calendar update removes the session from your calendar.")]
                if calendar
                else []
            ),
            _("Your registrations for other sessions of the series are not affected."),
        ],
    )


def place_cancelled(
    registration: Registration, session: Session, *, reason: str, calendar: bool
) -> EmailContent:
    """One's own place (or waitlist entry) ended: by their link, an erasure, or the organisers
    (``reason``); ``calendar``: the attached CANCEL removes the event and its join link."""
    _ = speaker(registration)
    return _render(
        registration,
        subject=_("Registration cancelled: %(title)s", title=_title(registration, session)),
        blocks=[
            _(
                "Your registration (%(reference)s) for the following session of the "
                "%(series)s has been cancelled:"
            ),
            _session(registration, session),
            *([_("Reason: %(reason)s", reason=reason)] if reason else []),
            *(
                [_("The attached calendar update removes the session and its join link.")]
                if calendar
                else []
            ),
            _("You are welcome to register again while registration is open."),
        ],
    )


# --- materials (shared/materials/library.py, shared/materials/uploads.py) -------------------------


def materials_available(
    registration: Registration, session: Session, *, materials: Sequence[Material]
) -> EmailContent:
    """New materials after the session: every current file, each with the registrant's link."""
    _ = speaker(registration)
    return _render(
        registration,
        subject=_("Materials available: %(title)s", title=_title(registration, session)),
        blocks=[
            _("New materials are available for the following session of the %(series)s:"),
            _session(registration, session),
            *_materials(materials, _("The materials of the session:"), _),
            _(
                "These links are personal: please do not forward them. Colleagues can register "
                "for the next sessions of the series."
            ),
        ],
    )


def material_rejected(key: str, reason: str, quarantine_key: str) -> EmailContent:
    """To the organisers (in English): an upload was not accepted, why, and where it was
    moved."""
    return render_blocks(
        subject=f"Upload rejected: {key.rpartition('/')[2] or key}",
        greeting="Dear organisers,",
        blocks=[
            "An upload to the materials bucket was not accepted, so no registrant will see it:",
            SessionBlock(key, reason),
            f"It was moved to {quarantine_key}. Please correct the file "
            "or its name and upload it again to sessions/{session id}/slides/ or "
            "sessions/{session id}/guidance/ (PDF, PPTX, DOCX, ODP or ODT).",
        ],
        translations=catalog(None),
        language="en",
    )


def _materials(materials: Sequence[Material], heading: str, _: Say) -> list[Block]:
    if not materials:
        return []
    return [heading, *(Link(f"{m.title}:", m.url, _("Download")) for m in materials)]


def _join(session: Session, _: Say) -> Link:
    return Link(_("Join the session:"), str(session.join_url), _("Join the session"))
