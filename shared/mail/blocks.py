"""The building blocks of every email: its parts (paragraphs, buttons, short links, the
session set apart), the series' presentation (name, logo) and the layout that renders them
(``templates/email.txt``, ``templates/email.html``: fluid, one column, readable at 390 px,
long words wrapped; the HTML part never shows a URL, the text part always does).

Labels are English msgids; the functions that write them take the email's translator ``_``
(:func:`shared.mail.templates.speaker`): ``_(message, **values)`` gives ``message`` in the
registrant's language with ``%(series)s`` and ``values`` filled in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from gettext import NullTranslations
from typing import ClassVar

from shared.i18n.catalogs import N_
from shared.platform.rendering import render
from shared.platform.settings import Settings
from shared.programme.models import Session

_HERE = "shared.mail"  # the package whose templates/ folder holds the layouts
BRAND_SLOT = "<!--brand-->"
FOOTER_SLOT = "<!--footer-->"
SERIES = "Knowledge Building Series"

Say = Callable[..., str]
"""``_(message, **values)``: ``message`` translated, its ``%(name)s`` fields filled in."""


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str
    language: str = "en"
    """The language it is written in (its footers follow it)."""


@dataclass(frozen=True)
class Link:
    """A paragraph, then a button: ``label``, and ``text`` (a few words) on the button. The
    HTML part shows ``text`` only, never the URL; the text part gives the full URL."""

    kind: ClassVar[str] = "link"
    label: str
    url: str
    text: str


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
    """A line under the time, e.g. the place's status or the previous time."""


Block = str | Link | Links | SessionBlock


@dataclass(frozen=True)
class Material:
    """A file a notice lists (:func:`shared.materials.library.for_registrant`): its label and the
    registrant's own link."""

    title: str
    url: str


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
    return replace(content, html=content.html.replace(BRAND_SLOT, header, 1))


@dataclass(frozen=True)
class Feed:
    """A registrant's personal calendar feed (:func:`shared.web.links.feed_urls`)."""

    https: str
    webcal: str


FEED_NOTE = N_(
    "Your personal calendar feed lists all your sessions and follows every reschedule and "
    "cancellation by itself. If you subscribe to it, it replaces the invitations in our "
    "emails:"
)


def feed_block(feed: Feed | None, _: Say) -> list[Block]:
    """The feed's links (subscribe, and its https address), or nothing without a feed."""
    if feed is None:
        return []
    items = ((_("Subscribe in your calendar"), feed.webcal), (_("Feed address"), feed.https))
    return [Links(_(FEED_NOTE), items)]


def add_to_calendar(session: Session, title: str, details: str, _: Say) -> Block:
    """Google Calendar and Outlook.com links adding ``session`` as ``title`` (``details``: the
    event's description), beside the attached ``.ics``."""
    from shared.mail import calendar_links

    return Links(
        _("Add it to your calendar (or open the attached .ics file):"),
        (
            ("Google Calendar", calendar_links.google(session, details, title)),
            ("Outlook.com", calendar_links.outlook(session, details, title)),
        ),
    )


def cancel_link(cancel_url: str, _: Say, *, waiting: bool = False) -> Link:
    """The cancel (or leave-the-waiting-list) button."""
    if waiting:
        return Link(
            _("If you no longer wish to attend, you can leave the waiting list here:"),
            cancel_url,
            _("Leave the waiting list"),
        )
    return Link(
        _(
            "If you can no longer attend, please cancel your registration so that your "
            "place can be offered to someone on the waiting list:"
        ),
        cancel_url,
        _("Cancel my registration"),
    )


def render_blocks(
    subject: str,
    greeting: str,
    blocks: list[Block],
    *,
    translations: NullTranslations,
    language: str,
) -> EmailContent:
    """The text and HTML parts of ``blocks`` after ``greeting``, signed in ``language``."""
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
