"""The gettext catalogs: every language complete, nothing fuzzy, none behind the code."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from infra import translations
from shared.i18n.languages import SUPPORTED

PLACEHOLDER = re.compile(r"%\(\w+\)s")


def test_the_template_is_what_the_code_and_templates_give_now() -> None:
    assert translations.TEMPLATE.read_bytes() == translations.extracted_template(), (
        "run `make translations EXTRACT=1` and translate the new messages"
    )


@pytest.mark.parametrize("language", SUPPORTED[1:])
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    with translations.TEMPLATE.open("rb") as source:
        wanted = {m.id for m in read_po(source) if m.id}
    path = translations.LOCALE / language / "LC_MESSAGES" / "kbs.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    messages = {m.id: m for m in catalog if m.id}
    assert set(messages) == wanted, f"{path} is out of date with kbs.pot"
    for msgid, message in messages.items():
        assert message.string and not message.fuzzy, (language, msgid)
        if isinstance(msgid, tuple):  # plural forms: as many as the language has, each filled
            forms = message.string
            assert len(forms) == catalog.num_plurals and all(forms), (language, msgid)
            for form in forms:
                assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(msgid[1]))
        else:
            assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(msgid))
    assert path.with_suffix(".mo").exists()
