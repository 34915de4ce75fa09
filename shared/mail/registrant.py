"""Writing to one registrant: in their language (:mod:`shared.i18n`), with times in their
time zone when they gave one (else the session's), greeting them by name.

Used by every registrant email (:mod:`shared.mail.templates`, :mod:`shared.mail.summary`).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from shared.i18n.catalogs import catalog
from shared.i18n.languages import resolve
from shared.i18n.times import session_time_label, zone_from_name
from shared.mail.blocks import SERIES, Block, EmailContent, Say, SessionBlock, render_blocks
from shared.programme.models import Session
from shared.registrations.models import Registration


def session_time(session: Session, timezone: str | None = None, language: str | None = None) -> str:
    """E.g. "Tuesday 1 December 2026, 10:00\u201311:30 CET (Europe/Brussels)" (an en dash), in
    ``timezone`` when it is a known zone, else the session's (:mod:`shared.i18n.times`)."""
    zone = zone_from_name(timezone) or ZoneInfo(session.timezone)
    return session_time_label(session.start, session.end, zone, language)


def speaker(registration: Registration) -> Say:
    """``_(message, **values)``: ``message`` in the registrant's language, its ``%(series)s``,
    ``%(reference)s`` and ``values`` filled in."""
    gettext = catalog(registration.language).gettext
    words = {"series": SERIES, "reference": registration.reference}

    def say(message: str, **values: str) -> str:
        return gettext(message) % (words | values)

    return say


def title(registration: Registration, session: Session) -> str:
    """The session's title in the registrant's language (the programme's default if not given)."""
    return session.title_in(registration.language)


def session_block(registration: Registration, session: Session, note: str = "") -> SessionBlock:
    """The session's title and time as the registrant reads them, with ``note`` under them."""
    when = session_time(session, registration.timezone, registration.language)
    return SessionBlock(title(registration, session), when, note)


def render(registration: Registration, subject: str, blocks: list[Block]) -> EmailContent:
    """``blocks`` laid out for ``registration``: greeted by name, signed, in their language."""
    translations = catalog(registration.language)
    greeting = translations.gettext("Dear %(name)s,") % {"name": registration.full_name}
    language = resolve(registration.language)
    return render_blocks(subject, greeting, blocks, translations=translations, language=language)
