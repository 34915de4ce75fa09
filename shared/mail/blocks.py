"""The building blocks of every email: its parts (paragraphs, buttons, short links, the
session set apart), the series' presentation (name, logo) and the layout that renders them
(``templates/email.txt``, ``templates/email.html``: fluid, one column, readable at 390 px,
long words wrapped; the HTML part never shows a URL, the text part always does)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.platform.rendering import render
from shared.platform.settings import Settings
from shared.programme.models import Session

_HERE = "shared.mail"  # the package whose templates/ folder holds the layouts
BRAND_SLOT = "<!--brand-->"
FOOTER_SLOT = "<!--footer-->"
SERIES = "Knowledge Building Series"
SIGNATURE = ("Kind regards,", f"The {SERIES} team", "Electronics Watch")


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Link:
    """A paragraph, then a button: ``label``, and ``text`` (a few words) on the button. The
    HTML part shows ``text`` only, never the URL; the text part gives the full URL."""

    kind: ClassVar[str] = "link"
    label: str
    url: str
    text: str = "Open the link"


@dataclass(frozen=True)
class Links:
    """A line of short links (``items``: (text, URL) pairs) after ``label``: the HTML part shows
    each text as a link, the text part each text with its full URL."""

    kind: ClassVar[str] = "links"
    label: str
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SessionBlock:
    """The session title and time, set apart from the prose."""

    kind: ClassVar[str] = "session"
    title: str
    when: str
    note: str = ""
    """A line under the time, e.g. the place's status."""


Block = str | Link | Links | SessionBlock


@dataclass(frozen=True)
class Brand:
    """How the HTML layout presents the series: its name and an optional logo (an image URL),
    from the settings ``series_name`` and ``logo_url``."""

    series_name: str = SERIES
    logo_url: str = ""


def brand_of(settings: Settings) -> Brand:
    """The series' presentation in ``settings`` (``series_name``, ``logo_url``)."""
    return Brand(series_name=settings.series_name, logo_url=settings.logo_url)


def with_brand(content: EmailContent, brand: Brand) -> EmailContent:
    """``content`` with the series' name (and logo) atop its HTML part."""
    header = render(_HERE, "brand.html", series_name=brand.series_name, logo_url=brand.logo_url)
    return EmailContent(
        subject=content.subject, text=content.text, html=content.html.replace(BRAND_SLOT, header, 1)
    )


@dataclass(frozen=True)
class Feed:
    """A registrant's personal calendar feed (:func:`shared.web.links.feed_urls`)."""

    https: str
    webcal: str


FEED_NOTE = (
    "Your personal calendar feed lists all your sessions and follows every reschedule and "
    "cancellation by itself. If you subscribe to it, it replaces the invitations in our "
    "emails:"
)


def feed_block(feed: Feed | None) -> list[Block]:
    """The feed's links (subscribe, and its https address), or nothing without a feed."""
    if feed is None:
        return []
    return [
        Links(
            FEED_NOTE, (("Subscribe in your calendar", feed.webcal), ("Feed address", feed.https))
        )
    ]


def add_to_calendar(session: Session, details: str) -> Block:
    """Google Calendar and Outlook.com links adding ``session`` (``details``: the event's
    description), beside the attached ``.ics``."""
    from shared.mail import calendar_links

    return Links(
        "Add it to your calendar (or open the attached .ics file):",
        (
            ("Google Calendar", calendar_links.google(session, details)),
            ("Outlook.com", calendar_links.outlook(session, details)),
        ),
    )


def cancel_link(cancel_url: str, *, waiting: bool = False) -> Link:
    """The cancel (or leave-the-waiting-list) button."""
    if waiting:
        return Link(
            "If you no longer wish to attend, you can leave the waiting list here:",
            cancel_url,
            "Leave the waiting list",
        )
    return Link(
        "If you can no longer attend, please cancel your registration so that your "
        "place can be offered to someone on the waiting list:",
        cancel_url,
        "Cancel my registration",
    )


def render_blocks(subject: str, name: str, blocks: list[Block]) -> EmailContent:
    context = {"subject": subject, "name": name, "blocks": blocks, "signature": SIGNATURE}
    return EmailContent(
        subject=subject,
        text=render(_HERE, "email.txt", **context),
        html=render(_HERE, "email.html", **context),
    )
