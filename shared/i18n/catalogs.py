"""The gettext catalogs of the page and the emails, one per language, loaded once per process.

Messages are English in the code (the msgids) and translated in
``shared/i18n/locale/<lang>/LC_MESSAGES/kbs.po``; the compiled ``kbs.mo`` is read with the
standard library's :mod:`gettext` (no Babel at run time). English, or a language without a
catalog, gets :class:`gettext.NullTranslations`: the msgids themselves.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from shared.i18n.languages import ENGLISH, resolve

DOMAIN = "kbs"
LOCALE_DIR = Path(__file__).parent / "locale"


class CatalogMissingError(RuntimeError):
    """A supported language's ``kbs.mo`` is missing: ``make translations`` was not run."""


@cache
def catalog(language: str | None) -> gettext.NullTranslations:
    """The translations for ``language`` (any tag, :func:`shared.i18n.languages.resolve`).

    Raises :class:`CatalogMissingError` when a supported language's compiled catalog is absent
    (a build that skipped ``make translations``): better than mail in the wrong language.
    """
    code = resolve(language)
    if code == ENGLISH:
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[code])
    except FileNotFoundError as exc:
        raise CatalogMissingError(
            f"{LOCALE_DIR}/{code}/LC_MESSAGES/{DOMAIN}.mo is missing: run `make translations`"
        ) from exc


def N_(message: str) -> str:
    """Marks ``message`` for extraction where it is defined; translated where it is shown."""
    return message
