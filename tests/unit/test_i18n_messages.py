"""Messages with values said in any language (:mod:`shared.i18n.messages`), on the real
compiled catalogs."""

from __future__ import annotations

import json

from shared.i18n.messages import Message
from shared.registrations.intake import LABELS
from shared.web.form_page import translated

TOO_LONG = "%(field)s must be at most %(limit)s characters."


def test_the_string_is_the_english_text_and_each_value_is_said_in_the_language() -> None:
    message = Message(TOO_LONG, field=Message(LABELS["role"]), limit=120)

    assert message == "Role must be at most 120 characters."
    assert json.dumps({"role": message}) == '{"role": "Role must be at most 120 characters."}'
    assert message.in_language("de") == "Das Feld „Funktion“ darf höchstens 120 Zeichen lang sein."
    assert translated(message, "sv") == "Fältet ”Roll” får innehålla högst 120 tecken."
    assert message.in_language("pt-BR") == message  # no catalog: English


def test_a_function_of_the_language_is_called_with_it() -> None:
    titles = {"fr": "Le travail forcé"}
    message = Message(
        "Sessions: registration for “%(title)s” is closed.",
        title=lambda language: titles.get(str(language), "Forced labour"),
    )

    assert message == "Sessions: registration for “Forced labour” is closed."
    assert (
        message.in_language("fr")
        == "Sessions : les inscriptions à « Le travail forcé » sont closes."
    )


def test_a_message_the_catalog_does_not_know_stays_english() -> None:
    assert Message("No such msgid %(x)s.", x="here").in_language("fr") == "No such msgid here."
    assert translated("Plain text from elsewhere.", "fr") == "Plain text from elsewhere."
