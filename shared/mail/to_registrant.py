"""An email to a registrant: from the series' sender, to them by name, in the series' brand,
with the footer links every registrant email carries (unsubscribe, "My record", "your data").

The one place those parts are put together for :func:`shared.mail.sending.build_message`, so
that every registrant email (confirmations, notices, certificates) has all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import Literal, TypedDict

from shared.certificates import record_link
from shared.mail import sending, templates, unsubscribe
from shared.mail.blocks import EmailContent
from shared.platform.settings import Settings
from shared.privacy import data_link
from shared.programme.models import Session
from shared.registrations.models import Registration


class FooterLinks(TypedDict, total=False):
    """``build_message``'s footer-link arguments (none: an email to no registration)."""

    unsubscribe_url: str
    record_url: str
    privacy_url: str


def footer_links(registration: Registration, session: Session, settings: Settings) -> FooterLinks:
    """``build_message``'s ``unsubscribe_url``, ``record_url`` and ``privacy_url`` for an email
    to ``registration`` about ``session`` (each a signed link: see the modules they come from)."""
    return {
        "unsubscribe_url": unsubscribe.link_for(registration, session, settings=settings),
        "record_url": record_link.link_for(registration, session, settings=settings),
        "privacy_url": data_link.link_for(registration, session, settings=settings),
    }


def message(
    registration: Registration,
    session: Session,
    settings: Settings,
    *,
    content: EmailContent,
    date: datetime,
    kind: str,
    calendar: str | None = None,
    calendar_method: Literal["REQUEST", "CANCEL"] = "REQUEST",
    calendars: Sequence[tuple[str, str]] = (),
) -> EmailMessage:
    """The email to ``registration`` about ``session``: ``content`` dated ``date``, its
    ``X-KBS-Kind`` ``kind``, with an iTIP ``calendar`` (``calendar_method``) or more
    ``calendars`` as :func:`shared.mail.sending.build_message` attaches them.

    Raises ``ValueError`` as ``build_message`` does (an address it cannot send to safely).
    """
    return sending.build_message(
        sender=settings.sender_email,
        recipient=registration.email,
        recipient_name=registration.full_name,
        content=content,
        date=date,
        calendar=calendar,
        calendar_method=calendar_method,
        calendars=calendars,
        kind=kind,
        brand=templates.brand_of(settings),
        **footer_links(registration, session, settings),
    )
