"""Email bodies (plain text and HTML) for registrants.

Each email is a list of blocks (paragraphs, links, the session set apart), written once here and
laid out by two templates in ``shared/mail/templates/``: ``email.txt`` for the text part and
``email.html`` for the HTML part, where Jinja2 escapes every value (names, titles, links).
Times are shown in the registrant's time zone when they gave one, else the session's, and
always name the zone (:func:`shared.i18n.times.session_time_label`). Every registrant email is
written in the registration's ``language`` (:mod:`shared.i18n`): the English messages here are
the gettext msgids, translated in ``shared/i18n/locale``; a session's title and description
follow the language when the programme gives them in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from gettext import NullTranslations
from zoneinfo import ZoneInfo

from shared.i18n.catalogs import catalog
from shared.i18n.languages import resolve
from shared.i18n.times import session_time_label, zone_from_name
from shared.mail.blocks import Block, EmailContent, Link, Material, SessionBlock
from shared.platform.rendering import render
from shared.programme.models import Session
from shared.registrations.models import Registration

__all__ = ["Block", "EmailContent", "Link", "Material", "SessionBlock"]
_HERE = "shared.mail"  # the package whose templates/ folder holds the layouts
SERIES = "Knowledge Building Series"


def session_time(session: Session, timezone: str | None = None, language: str | None = None) -> str:
    """E.g. "Tuesday 1 December 2026, 10:00\u201311:30 CET (Europe/Brussels)" (an en dash), in
    ``timezone`` when it is a known zone, else the session's (:mod:`shared.i18n.times`)."""
    zone = zone_from_name(timezone) or ZoneInfo(session.timezone)
    return session_time_label(session.start, session.end, zone, language)


def confirmation(registration: Registration, session: Session, cancel_url: str) -> EmailContent:
    """Place confirmed: the join link, the reference and the cancellation link."""
    _ = _speaker(registration)
    return _render(
        registration,
        subject=_("Registration confirmed: %(title)s", title=_title(registration, session)),
        blocks=[
            _(
                "Thank you for registering. Your place is confirmed for the following session "
                "of the %(series)s:"
            ),
            _session(registration, session),
            Link(_("Join the session:"), str(session.join_url)),
            _("This link is for registered participants only; please do not forward it."),
            _(
                "Your registration reference is %(reference)s. "
                "A calendar invitation is attached to this email."
            ),
            _(
                "We will send you a reminder before the session, and the slides and guidance "
                "notes afterwards."
            ),
            Link(
                _(
                    "If you can no longer attend, please cancel your registration so that your "
                    "place can be offered to someone on the waiting list:"
                ),
                cancel_url,
            ),
        ],
    )


def waitlist(registration: Registration, session: Session, cancel_url: str) -> EmailContent:
    """Session full: on the waiting list, no join link yet."""
    _ = _speaker(registration)
    return _render(
        registration,
        subject=_("Waiting list: %(title)s", title=_title(registration, session)),
        blocks=[
            _("Thank you for registering for the following session of the %(series)s:"),
            _session(registration, session),
            _(
                "The session is fully booked, so you have been placed on the waiting list. "
                "If a place becomes available, we will email you a confirmation with the join "
                "link and a calendar invitation."
            ),
            _("Your registration reference is %(reference)s."),
            Link(
                _("If you no longer wish to attend, you can leave the waiting list here:"),
                cancel_url,
            ),
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
    registration: Registration, session: Session, *, soon: bool, materials: Sequence[Material]
) -> EmailContent:
    """The T-24h (``soon=False``) or T-1h reminder: time, join link, materials so far."""
    _ = _speaker(registration)
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
            Link(_("Join the session:"), str(session.join_url)),
            _("This link is for registered participants only; please do not forward it."),
            *_materials(materials, _("Materials already available for this session:")),
            _("The calendar invitation is attached again, with the current details."),
        ],
    )


def live(registration: Registration, session: Session) -> EmailContent:
    """The session has started: the join link."""
    _ = _speaker(registration)
    return _render(
        registration,
        subject=_("We are live: %(title)s", title=_title(registration, session)),
        blocks=[
            _("The following session of the %(series)s has just started:"),
            _session(registration, session),
            Link(_("Join now:"), str(session.join_url)),
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
    _ = _speaker(registration)
    return _render(
        registration,
        subject=_("Thank you: %(title)s", title=_title(registration, session)),
        blocks=[
            _("Thank you for registering for the following session of the %(series)s:"),
            _session(registration, session),
            *(
                _materials(materials, _("The materials of the session:"))
                or [_("We will send you the slides and guidance notes as soon as they are ready.")]
            ),
            Link(_("Please tell us what you thought of the session:"), feedback_url),
        ],
    )


CHANGE_SEPARATOR = ", "
"""Between the changes of an update (``shared.programme.imports`` joins its change names so)."""


def rescheduled(registration: Registration, session: Session, changes: str = "") -> EmailContent:
    """The session moved (or, with ``changes``, e.g. "new join link", its details changed):
    its time and join link; the attached invitation replaces the earlier one. Each change name
    is translated (:data:`shared.programme.imports.CHANGE_NAMES`)."""
    _ = _speaker(registration)
    title = _title(registration, session)
    if changes:
        subject = _("Updated: %(title)s", title=title)
        translated = CHANGE_SEPARATOR.join(_(c) for c in changes.split(CHANGE_SEPARATOR))
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
    return _render(
        registration,
        subject=subject,
        blocks=[
            opening,
            _session(registration, session),
            Link(_("Join the session:"), str(session.join_url)),
            _(
                "Your registration stands. The attached calendar invitation replaces the earlier "
                "one; we will send reminders before the new time."
            ),
        ],
    )


def cancelled(
    registration: Registration, session: Session, *, reason: str, calendar: bool
) -> EmailContent:
    """The session is cancelled (``calendar``: an attachment removes it from the calendar)."""
    _ = _speaker(registration)
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
    _ = _speaker(registration)
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
    _ = _speaker(registration)
    return _render(
        registration,
        subject=_("Materials available: %(title)s", title=_title(registration, session)),
        blocks=[
            _("New materials are available for the following session of the %(series)s:"),
            _session(registration, session),
            *_materials(materials, _("The materials of the session:")),
            _(
                "These links are personal: please do not forward them. Colleagues can register "
                "for the next sessions of the series."
            ),
        ],
    )


def organiser_message(
    registration: Registration, session: Session, subject: str, body: str
) -> EmailContent:
    """An organiser's message about ``session`` (``kbs message``): ``body`` is plain text,
    its paragraphs (split at blank lines) escaped like every value."""
    paragraphs = [" ".join(p.split()) for p in body.replace("\r\n", "\n").split("\n\n")]
    return _render(
        registration,
        subject,
        [
            f"A message from the organisers of the {SERIES} about your session:",
            SessionBlock(session.title, session_time(session, registration.timezone)),
            *(p for p in paragraphs if p),
        ],
    )


def material_rejected(key: str, reason: str, quarantine_key: str) -> EmailContent:
    """To the organisers (in English): an upload was not accepted, why, and where it was
    moved."""
    return _layout(
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


def certificate_issued(
    name: str, title: str, when: str, *, download_url: str, verify_url: str, cpd_hours: str
) -> EmailContent:
    """A certificate of attendance: the session, its CPD hours, the holder's download link and
    the public verification URL (:mod:`shared.certificates.issuing`). In English for now."""
    return _layout(
        f"Your certificate of attendance: {title}",
        f"Dear {name},",
        translations=catalog(None),
        language="en",
        blocks=[
            f"Thank you for attending the following session of the {SERIES}:",
            SessionBlock(title, when),
            f"Your certificate of attendance states {cpd_hours} CPD hours.",
            Link("Download your certificate (PDF):", download_url),
            Link("Anyone can check that it is genuine at:", verify_url),
        ],
    )


def _materials(materials: Sequence[Material], heading: str) -> list[Block]:
    if not materials:
        return []
    return [heading, *(Link(f"{m.title}:", m.url) for m in materials)]


def _speaker(registration: Registration) -> Callable[..., str]:
    """``_(message, **values)``: ``message`` in the registrant's language, its ``%(series)s``,
    ``%(reference)s`` and ``values`` filled in."""
    gettext = catalog(registration.language).gettext
    words = {"series": SERIES, "reference": registration.reference}

    def say(message: str, **values: str) -> str:
        return gettext(message) % (words | values)

    return say


def _title(registration: Registration, session: Session) -> str:
    return session.title_in(registration.language)


def _session(registration: Registration, session: Session) -> SessionBlock:
    when = session_time(session, registration.timezone, registration.language)
    return SessionBlock(session.title_in(registration.language), when)


def _render(registration: Registration, subject: str, blocks: list[Block]) -> EmailContent:
    translations = catalog(registration.language)
    greeting = translations.gettext("Dear %(name)s,") % {"name": registration.full_name}
    language = resolve(registration.language)
    return _layout(subject, greeting, blocks, translations=translations, language=language)


def _layout(
    subject: str,
    greeting: str,
    blocks: list[Block],
    *,
    translations: NullTranslations,
    language: str,
) -> EmailContent:
    _ = translations.gettext
    signature = (
        _("Kind regards,"),
        _("The %(series)s team") % {"series": SERIES},
        "Electronics Watch",
    )
    context = {
        "subject": subject,
        "greeting": greeting,
        "blocks": blocks,
        "signature": signature,
        "language": language,
    }
    return EmailContent(
        subject=subject,
        text=render(_HERE, "email.txt", **context),
        html=render(_HERE, "email.html", **context),
        language=language,
    )
