"""The registration page in the visitor's language: ``functions/api/static/index.html`` rendered
as a Jinja2 template with the gettext catalog of the page language.

The page language is the visitor's explicit choice (``?lang=xx``), else the browser's
``Accept-Language``, else English (:func:`page_language`). Every visible word comes from the
catalog (:mod:`shared.i18n.catalogs`): headings, labels, hints, the consent text, the calendar
feed, the footer, the session kinds, durations and places; country names are Babel's
(``Locale.territories``) sorted by their name in that language; session titles and
descriptions are the programme's own in that language (``title_in``/``description_in``); dates
are the locale's (:func:`shared.i18n.times.session_time_label`). The texts the page's script
writes come in a JSON data block (``<script type="application/json" id="page-text">``),
escaped so that no ``</script>`` or markup can end it (:func:`script_json`).

The consent text is one text in nine languages under one version
(:data:`shared.registrations.intake.CONSENT_TEXT_VERSION`): its English wording is the msgid,
so any change to it leaves every translation missing until it is translated again (the catalog
test fails), and the version is bumped with the English text.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from shared.i18n.catalogs import N_, catalog
from shared.i18n.languages import ENGLISH, SUPPORTED, from_accept_language, resolve
from shared.i18n.messages import Message
from shared.i18n.times import session_time_label
from shared.platform.rendering import environment
from shared.programme.models import SessionAvailability

if TYPE_CHECKING:
    import jinja2

_HERE = "shared.web"
FULLY_BOOKED = N_("Fully booked: join the waiting list")
KINDS = {"webinar": N_("Webinar"), "workshop": N_("Workshop")}
NATIVE_NAMES = {
    "en": "English",
    "ca": "Català",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "it": "Italiano",
    "nl": "Nederlands",
    "pl": "Polski",
    "pt": "Português",
    "sv": "Svenska",
}
"""The "Preferred language" options (each in its own language, by code): the page's nine and
Portuguese, which the emails fall back to English for."""
SCRIPT_TEXTS = {
    "yourTime": N_("(your time, %(zone)s: %(start)s \u2013 %(end)s)"),
    "full": FULLY_BOOKED,
    "failed": N_("Something went wrong: nothing was recorded. Please try again."),
    "offline": N_(
        "We could not reach the server: nothing was recorded. Check your connection and try again."
    ),
}
"""The messages the page's script writes, by key, before translation."""
UNAVAILABLE = N_(
    "The service is temporarily unavailable and nothing was recorded. Please try again in a minute."
)
"""The answer to a form post when a dependency failed (503)."""


@dataclass(frozen=True)
class Organiser:
    """What the page says of the organisers: their privacy notice (a URL, may be empty), a
    contact address, and the programme's calendar feed (``https://`` and ``webcal://``)."""

    privacy_url: str = ""
    contact_email: str = "series@example.org"
    feed_https: str = "sessions.ics"
    feed_webcal: str = "sessions.ics"


def page_language(query: str | None, accept_language: str | None) -> str:
    """The page language: ``query`` (the ``lang`` parameter) when it is a supported language
    (exactly, e.g. ``"fr"``), else the best match of ``accept_language``
    (:func:`shared.i18n.languages.from_accept_language`), else English."""
    if query and query.strip().lower() in SUPPORTED:
        return query.strip().lower()
    return from_accept_language(accept_language)


def places_text(places_left: int, language: str | None = ENGLISH) -> str:
    """``"3 places left"`` / ``"1 place left"`` (the catalog's plural forms: Polish has three),
    or "Fully booked: join the waiting list" when ``places_left`` is 0 or less."""
    translations = catalog(language)
    if places_left <= 0:
        return translations.gettext(FULLY_BOOKED)
    return _places_left(translations.ngettext, places_left) % {"num": places_left}


def _places_left(ngettext: Callable[[str, str, int], str], number: int) -> str:
    return ngettext("%(num)s place left", "%(num)s places left", number)


def duration_text(minutes: int, language: str | None = ENGLISH) -> str:
    """``"90 minutes"`` in ``language`` (plural forms from the catalog)."""
    return catalog(language).ngettext("%(num)s minute", "%(num)s minutes", minutes) % {
        "num": minutes
    }


@cache
def countries(language: str) -> tuple[tuple[str, str], ...]:
    """``(ISO 3166-1 code, name in language)`` for every code intake accepts, sorted by the name
    as the language's readers look for it (accents and case ignored: a simple collation, not
    the full CLDR one). Names are Babel's (``Locale(language).territories``)."""
    from babel import Locale

    from shared.registrations.intake import COUNTRY_CODES

    names = Locale.parse(language).territories
    named = [(code, str(names.get(code, code))) for code in COUNTRY_CODES]
    return tuple(sorted(named, key=lambda item: (_collation_key(item[1]), item[0])))


def _kind(kind: str, gettext: Callable[[str], str]) -> str:
    """A session kind's label ("Webinar"); an unknown kind as its own name, capitalised."""
    return gettext(KINDS[kind]) if kind in KINDS else kind.capitalize()


def _collation_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@cache
def plural_templates(language: str) -> dict[str, str]:
    """The "places left" text for each CLDR plural category of ``language`` (``one``, ``few``,
    ``many``, ``other``...), ``%(num)s`` left in: what the page's script picks with
    ``Intl.PluralRules``. Each category's text is the catalog's for a number of that category."""
    from babel import Locale

    rule = Locale.parse(language).plural_form
    ngettext = catalog(language).ngettext
    templates: dict[str, str] = {}
    for number in [*range(1, 200), 1_000_000]:
        templates.setdefault(rule(number), _places_left(ngettext, number))
    return templates


def script_json(value: Any) -> str:
    """``value`` as JSON safe inside a ``<script>`` data block: ``<``, ``>``, ``&`` and the
    line separators U+2028/U+2029 as ``\\u`` escapes, so the text can neither close the block
    (``</script>``) nor open a comment."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def script_texts(language: str) -> dict[str, Any]:
    """The page script's messages in ``language`` (:data:`SCRIPT_TEXTS`), with the plural
    forms of "places left" (:func:`plural_templates`)."""
    gettext = catalog(language).gettext
    texts: dict[str, Any] = {key: gettext(message) for key, message in SCRIPT_TEXTS.items()}
    texts["places"] = plural_templates(language)
    return texts


def registration_page(
    template: str,
    sessions: Sequence[SessionAvailability],
    consent_version: str,
    language: str = ENGLISH,
    organiser: Organiser | None = None,
) -> str:
    """The page (``template``: the text of ``index.html``) in ``language`` (a supported code,
    :func:`page_language`) with the open sessions (descriptions, speakers, places left or
    "Fully booked"), the consent version, the organiser's part (the programme's feed, the
    privacy notice, the contact address) and a link to each other language (``hreflang``).
    ``language`` is also chosen in the "Preferred language" select, the language of the
    registrant's emails (English, its first option, needs no choice); an unsupported one is
    English. Raises ``jinja2.TemplateSyntaxError`` for a broken template."""
    from markupsafe import Markup

    language = resolve(language)
    translations = catalog(language)
    return _compiled(template).render(
        lang=language,
        _=speaker(language),
        sessions=sessions,
        when=lambda session: session_time_label(session.start, None, session.timezone, language),
        kind=lambda session: _kind(session.kind.value, translations.gettext),
        duration=lambda session: duration_text(session.duration_minutes, language),
        places=lambda places_left: places_text(places_left, language),
        consent_version=consent_version,
        organiser=organiser or Organiser(),
        countries=countries(language),
        languages=[(code, NATIVE_NAMES[code]) for code in SUPPORTED],
        preferred=NATIVE_NAMES.items(),
        selected=language,
        reference_slot=Markup('<strong id="reference"></strong>'),
        page_text=Markup(script_json(script_texts(language))),  # noqa: S704 (escaped above)
    )


def speaker(language: str | None) -> Callable[..., Any]:
    """``_(message, **values)`` for an HTML template: the translation of ``message`` into
    ``language`` escaped, then its ``%(name)s`` placeholders filled with ``values`` (escaped
    unless they are markup). Returns markup."""
    from markupsafe import Markup, escape

    gettext = catalog(language).gettext

    def say(message: str, **values: Any) -> Markup:
        text = escape(gettext(message))
        return text % values if values else text

    return say


@lru_cache(maxsize=4)
def _compiled(template: str) -> jinja2.Template:
    """``template`` compiled once per process (the page's text is the same on every request)."""
    return environment(_HERE).from_string(template)


def field_messages(errors: Mapping[str, str], language: str | None) -> dict[str, str]:
    """``errors`` (``{field: English message}``) with each message in ``language``
    (:func:`translated`); messages the catalog does not know stay English."""
    return {field: translated(message, language) for field, message in errors.items()}


def translated(message: str, language: str | None) -> str:
    """``message`` in ``language``: a :class:`~shared.i18n.messages.Message` said in it (its
    values too: field labels, session titles), a plain English msgid looked up in the catalog;
    text the catalog does not know is returned unchanged."""
    if isinstance(message, Message):
        return message.in_language(language)
    return catalog(language).gettext(message) if message else message
