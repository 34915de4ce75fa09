"""Which language a registrant is written to in: theirs if we have it, else English.

The supported languages are the ones with a catalog in ``shared/i18n/locale/``. A registration's
``language`` (a BCP 47 tag such as ``fr-BE``, :mod:`shared.registrations.intake`) is reduced to
its primary subtag; on the registration page the browser's ``Accept-Language`` is matched with
Babel's ``negotiate_locale`` (imported only then).
"""

from __future__ import annotations

from shared.platform.quality import quality_values

ENGLISH = "en"
SUPPORTED = ("en", "es", "ca", "fr", "de", "nl", "sv", "pl", "it")
"""The languages of the page and the emails, English (the source language) first."""


def resolve(language: str | None) -> str:
    """The supported language for a registration's ``language`` tag: ``"fr-BE"`` -> ``"fr"``,
    ``"pt"`` or ``None`` -> ``"en"``."""
    primary = (language or "").replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in SUPPORTED else ENGLISH


def from_accept_language(header: str | None) -> str:
    """The best supported language for an ``Accept-Language`` header (RFC 9110 12.5.4: ranges
    in order of their ``q``, ``*`` and ``q=0`` ignored), else English."""
    if not header:
        return ENGLISH
    ranked = [
        (-quality, position, tag)
        for position, (tag, quality) in enumerate(quality_values(header))
        if tag and tag != "*" and quality > 0 and len(tag) <= 35
    ]
    preferred = [tag for _, _, tag in sorted(ranked)]
    if not preferred:
        return ENGLISH
    from babel import negotiate_locale

    # Babel matches "fr-BE" to "fr" only through its aliases; the primary subtags as a fallback.
    choice = negotiate_locale(preferred, SUPPORTED, sep="-") or negotiate_locale(
        [tag.split("-", 1)[0] for tag in preferred], SUPPORTED, sep="-"
    )
    return choice or ENGLISH
