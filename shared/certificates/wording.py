"""The words of certificates, transcripts and "My record" in the holder's language.

The English messages here and in :mod:`shared.certificates.pdf` are gettext msgids, translated
in ``shared/i18n/locale`` (:mod:`shared.i18n.catalogs`). Dates and decimals other than English
are written as the locale writes them (Babel's ``format_date`` and ``format_decimal``, imported
on first use): "1. Dezember 2026", "1,25".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from shared.i18n.catalogs import N_, catalog
from shared.i18n.languages import ENGLISH, resolve

CERTIFICATE_HEADING = N_("Certificate of attendance")
TRANSCRIPT_HEADING = N_("Transcript of attendance")
CPD_RULE = N_("CPD hours: minutes attended divided by 60, rounded down to the quarter hour.")
PER_SESSION_RULE = N_("Each session's hours are rounded on their own.")
STATUSES = {
    "confirmed": N_("place confirmed"),
    "waitlisted": N_("on the waiting list"),
}
"""A current registration's status as "My record" lists it."""


def speaker(language: str | None) -> Callable[..., str]:
    """``_(message, **values)``: ``message`` translated into ``language`` (any tag; English
    when unsupported) with its ``%(name)s`` placeholders filled from ``values``."""
    gettext = catalog(language).gettext

    def say(message: str, **values: object) -> str:
        text = gettext(message)
        return text % values if values else text

    return say


def long_date(iso: str, language: str | None = None) -> str:
    """An ISO date in words: ``2026-03-12`` -> ``12 March 2026`` (English), ``12. März 2026``
    (German), ``12 marca 2026`` (Polish). Raises ``ValueError`` for a date that is not ISO."""
    day = date.fromisoformat(iso)
    code = resolve(language)
    if code == ENGLISH:
        return f"{day.day} {day:%B %Y}"
    from babel.dates import format_date

    return str(format_date(day, format="long", locale=code))


def medium_date(iso: str, language: str | None = None) -> str:
    """An ISO date as a transcript's table writes it: ``12 Mar 2026`` (English), ``12.03.2026``
    (German), ``12 de març 2026`` (Catalan): Babel's ``medium`` format, at most 31 mm wide in
    10 pt DejaVu Sans. Raises ``ValueError`` for a date that is not ISO."""
    day = date.fromisoformat(iso)
    code = resolve(language)
    if code == ENGLISH:
        return f"{day.day} {day:%b %Y}"
    from babel.dates import format_date

    return str(format_date(day, format="medium", locale=code))


def hours(value: Decimal | int, language: str | None = None) -> str:
    """CPD hours as the locale writes a decimal: ``1.25`` (English), ``1,25`` (German)."""
    code = resolve(language)
    if code == ENGLISH:
        return str(value)
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=code))
