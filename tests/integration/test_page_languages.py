"""The registration page in the visitor's language, through the API function on moto: the
``?lang=`` choice, else ``Accept-Language``, else English (issue 14, item 1)."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

import pytest

from shared.i18n.languages import SUPPORTED
from shared.programme import repository
from shared.programme.models import SessionAvailability
from shared.registrations import intake
from shared.web import form_page
from tests.conftest import TABLE_NAME, load_event
from tests.integration.test_api import (
    NOW,
    PROGRAMME,
    Capture,
    api,
    call,
    captured,
    form_post,
    programme,
)

__all__ = ["api", "captured", "programme"]  # fixtures

# (calendar-feed heading, button, "300 places left", Germany's name)
EXPECTED = {
    "en": ("The programme in your calendar", "Register", "300 places left", "Germany"),
    "es": ("El programa en su calendario", "Inscribirse", "Quedan 300 plazas", "Alemania"),
    "ca": ("El programa al vostre calendari", "Inscriure's", "Queden 300 places", "Alemanya"),
    "fr": ("Le programme dans votre agenda", "S'inscrire", "300 places restantes", "Allemagne"),
    "de": ("Das Programm in Ihrem Kalender", "Anmelden", "Noch 300 Plätze frei", "Deutschland"),
    "nl": ("Het programma in uw agenda", "Inschrijven", "Nog 300 plaatsen vrij", "Duitsland"),
    "sv": ("Programmet i din kalender", "Anmäl dig", "300 platser kvar", "Tyskland"),
    "pl": ("Program w Państwa kalendarzu", "Zarejestruj się", "Zostało 300 miejsc", "Niemcy"),
    "it": ("Il programma nel suo calendario", "Iscriversi", "Restano 300 posti", "Germania"),
}


def page_event(accept_language: str | None = None, lang: str | None = None) -> dict[str, Any]:
    event = load_event("api/get-page.json")
    if accept_language is None:
        event["headers"].pop("accept-language", None)
    else:
        event["headers"]["accept-language"] = accept_language
    if lang is not None:
        event["rawQueryString"] = f"lang={lang}"
        event["queryStringParameters"] = {"lang": lang}
    return event


def _text(page: str, pattern: str) -> str:
    match = re.search(pattern, page, re.DOTALL)
    assert match, pattern
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def test_the_expectations_cover_every_language() -> None:
    assert set(EXPECTED) == set(SUPPORTED)


@pytest.mark.parametrize("language", SUPPORTED)
def test_the_page_speaks_the_browsers_language(api: Capture, language: str) -> None:
    reply = call(page_event(f"{language}-XX,{language};q=0.9,en;q=0.5"))

    assert reply.status == 200
    assert reply.headers["Vary"] == "Accept-Language"
    page = reply.body
    assert f'<html lang="{language}">' in page
    heading, button, places, germany = EXPECTED[language]
    assert _text(page, r'<h2 id="calendar-feed-heading">(.*?)</h2>') == heading
    assert _text(page, r'<button type="submit">(.*?)</button>') == button
    assert _text(page, r'<span data-places="kbs-01-ict-hardware"[^>]*>(.*?)</span>') == places
    assert _text(page, r'<option value="DE">(.*?)</option>') == germany
    assert f'action="registrations?lang={language}"' in page
    current = re.findall(
        r'<a href="\?lang=(\w+)" hreflang="\1" lang="\1" aria-current="page">', page
    )
    assert current == [language]
    selected = re.findall(r'<option value="(\w+)" lang="\1" selected>', page)
    assert selected == ([] if language == "en" else [language])


def test_lang_in_the_query_overrides_the_browser(api: Capture) -> None:
    page = call(page_event("de-DE,de;q=0.9", lang="fr")).body

    assert '<html lang="fr">' in page
    assert _text(page, r'<button type="submit">(.*?)</button>') == "S'inscrire"
    assert '<option value="fr" lang="fr" selected>' in page


@pytest.mark.parametrize(
    ("header", "lang", "language"),
    [(None, None, "en"), ("ja", None, "en"), ("de", "xx", "de"), (None, "PL", "pl")],
)
def test_no_usable_choice_falls_back_in_order(
    api: Capture, header: str | None, lang: str | None, language: str
) -> None:
    assert f'<html lang="{language}">' in call(page_event(header, lang)).body


def test_country_names_are_sorted_in_the_page_language_with_unchanged_codes(api: Capture) -> None:
    page = call(page_event("sv")).body
    options = re.findall(r'<option value="([A-Z]{2})">([^<]*)</option>', page)
    assert sorted(code for code, _ in options) == sorted(intake.COUNTRY_CODES)
    names = [html.unescape(name) for _, name in options]
    assert names.index("Belgien") < names.index("Frankrike") < names.index("Tyskland")
    french = [name for _, name in form_page.countries("fr")]
    assert french.index("Danemark") < french.index("Égypte") < french.index("Espagne")


def test_the_script_texts_are_json_that_cannot_end_the_script_block(api: Capture) -> None:
    for language in SUPPORTED:
        page = call(page_event(language)).body
        (block,) = re.findall(
            r'<script type="application/json" id="page-text">(.*?)</script>', page, re.DOTALL
        )
        texts = json.loads(block)
        assert "</" not in block and "<" not in block
        assert texts["full"] == form_page.places_text(0, language)
        assert set(texts["places"]) >= {"one", "other"} or language == "pl"
    polish = json.loads(form_page.script_json(form_page.script_texts("pl")))
    assert polish["places"] == {
        "one": "Zostało %(num)s miejsce",
        "few": "Zostały %(num)s miejsca",
        "many": "Zostało %(num)s miejsc",
    }


def test_a_hostile_string_stays_inside_the_json_block() -> None:
    text = form_page.script_json({"x": "</script><script>alert(1)</script>&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"x": "</script><script>alert(1)</script>&\u2028"}


def test_polish_places_take_three_forms() -> None:
    said = {n: form_page.places_text(n, "pl") for n in (1, 2, 4, 5, 12, 22, 25)}
    assert said == {
        1: "Zostało 1 miejsce",
        2: "Zostały 2 miejsca",
        4: "Zostały 4 miejsca",
        5: "Zostało 5 miejsc",
        12: "Zostało 12 miejsc",
        22: "Zostały 22 miejsca",
        25: "Zostało 25 miejsc",
    }
    assert form_page.places_text(0, "pl") == "Brak miejsc: zapis na listę oczekujących"


def test_field_errors_follow_the_page_language(api: Capture) -> None:
    event = form_post(email=None, consent=None)
    event["rawQueryString"], event["queryStringParameters"] = "lang=fr", {"lang": "fr"}

    reply = call(event)

    assert reply.status == 400
    errors = reply.json()["errors"]
    assert errors["email"] == "Indiquez votre adresse électronique."
    assert errors["consent"].startswith("Cochez la case de consentement")
    assert api.events() == []


def test_a_browser_without_javascript_gets_the_problem_page_in_its_language(
    api: Capture,
) -> None:
    event = form_post(accept="text/html", email="lukasz.at.example.pl")
    event["headers"]["accept-language"] = "pl-PL,pl;q=0.9"

    reply = call(event)

    assert reply.status == 400
    page = html.unescape(reply.body)
    assert '<html lang="pl">' in page
    assert "<h1>Wystąpił problem</h1>" in page
    assert "Adres e-mail musi mieć postać nazwa@przyklad.org." in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "lukasz.at.example.pl", "Email address must look like name@example.org."),
        ("email", "a..b@example.org", "Email address has a part before the @ that is not valid."),
        ("email", "a@example", "Email address has a domain (after the @) that is not valid."),
        ("country", "UK", "Country code for the United Kingdom is GB."),
    ],
)
def test_the_translated_invalid_messages_are_the_ones_intake_gives(
    api: Capture, field: str, value: str, message: str
) -> None:
    reply = call(form_post(**{field: value}))
    assert reply.json()["errors"][field] == message


def in_language(event: dict[str, Any], lang: str) -> dict[str, Any]:
    event["rawQueryString"], event["queryStringParameters"] = f"lang={lang}", {"lang": lang}
    return event


FIELD = "Le champ « %s » "
FRENCH_RULES = [
    (
        "full_name",
        "Eve\tAdams",
        FIELD % "Nom et prénom" + "ne doit contenir ni sauts de ligne, ni "
        "tabulations, ni autres caractères de contrôle.",
    ),
    (
        "full_name",
        "=?utf-8?q?Eve?=",
        FIELD % "Nom et prénom" + "ne doit pas contenir de texte encodé tel que =?utf-8?q?...?=.",
    ),
    ("full_name", "Eve <b>Adams</b>", FIELD % "Nom et prénom" + "ne doit contenir ni < ni >."),
    (
        "full_name",
        "Eve www.refund.example",
        FIELD % "Nom et prénom" + "ne doit contenir ni "
        "adresse web ni adresse électronique (elles seraient transmises).",
    ),
    ("full_name", "E" * 121, FIELD % "Nom et prénom" + "doit comporter au plus 120 caractères."),
    ("organisation", "Claims <desk>", FIELD % "Organisation" + "ne doit contenir ni < ni >."),
    (
        "role",
        "see refund.example.net/claim",
        FIELD % "Fonction" + "ne doit contenir ni adresse "
        "web ni adresse électronique (elles seraient transmises).",
    ),
    ("organisation", "O" * 201, FIELD % "Organisation" + "doit comporter au plus 200 caractères."),
]


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
@pytest.mark.parametrize(("field", "value", "message"), FRENCH_RULES)
def test_each_markup_and_length_rule_is_said_in_the_page_language(
    api: Capture, accept: str, field: str, value: str, message: str
) -> None:
    reply = call(in_language(form_post(accept=accept, **{field: value}), "fr"))

    assert reply.status == 400
    if accept == "text/html":
        page = html.unescape(reply.body)
        assert '<html lang="fr">' in page and message in page
        assert "must" not in page
    else:
        assert reply.json()["errors"] == {field: message}
    assert api.events() == []


def test_the_same_rule_stays_english_without_a_page_language(api: Capture) -> None:
    event = form_post(full_name="Eve <b>Adams</b>")
    event["headers"].pop("accept-language", None)

    reply = call(event)

    assert reply.json()["errors"] == {"full_name": "Full name must not contain < or >."}


@pytest.mark.parametrize(
    ("title_i18n", "title"),
    [({"de": "Zwangsarbeit in der IKT-Hardware"}, "Zwangsarbeit in der IKT-Hardware"), (None, "")],
)
def test_a_closed_session_is_named_in_the_page_language(
    api: Capture, title_i18n: dict[str, str] | None, title: str
) -> None:
    closed = PROGRAMME[0].model_copy(
        update={
            "session_id": "kbs-00-closed",
            "start": NOW - timedelta(days=14),
            "title_i18n": title_i18n,
        }
    )
    repository.put_session(TABLE_NAME, closed)

    reply = call(in_language(form_post(sessions="kbs-00-closed"), "de"))

    assert reply.status == 400
    shown = title or closed.title  # no German title: the programme's own
    assert reply.json()["errors"] == {
        "sessions": f"Veranstaltungen: Die Anmeldung für „{shown}“ ist geschlossen."
    }
    assert api.events() == []


def test_the_other_session_and_body_messages_follow_the_page_language(api: Capture) -> None:
    unknown = call(in_language(form_post(sessions="kbs-99-nowhere"), "it"))
    assert unknown.json()["errors"] == {
        "sessions": "Sessioni: «kbs-99-nowhere» non è in programma."
    }
    not_json = call(in_language(form_post("[1, 2]", content_type="application/json"), "nl"))
    assert not_json.json()["errors"] == {
        "body": "De hoofdtekst van het verzoek moet een JSON-object zijn."
    }
    twice = call(
        in_language(form_post('{"role":"a","role":"b"}', content_type="application/json"), "sv")
    )
    assert twice.json()["errors"] == {"role": "Fältet ”Roll” förekommer två gånger."}


def test_sessions_show_the_programmes_title_and_description_in_the_page_language() -> None:
    from tests.unit.golden_cases import INDEX, PLAIN

    session = PLAIN.model_copy(
        update={
            "title_i18n": {"fr": "Travail forcé dans le matériel TIC"},
            "description_i18n": {"fr": "Une description en français"},
        }
    )
    available = [SessionAvailability(session=session, confirmed=297)]
    template = INDEX.read_text(encoding="utf-8")
    french = html.unescape(form_page.registration_page(template, available, "v1", "fr"))
    assert ">Travail forcé dans le matériel TIC</label>" in french
    assert '<p class="description">Une description en français</p>' in french
    assert "Webinaire · ICT hardware · mardi 1 décembre 2026, 10:00" in french
    assert "· 90 minutes · " in french and ">3 places restantes<" in french
    german = html.unescape(form_page.registration_page(template, available, "v1", "de"))
    assert f">{PLAIN.title}</label>" in german  # no German title: the default
    assert "· 90 Minuten · " in german and ">Noch 3 Plätze frei<" in german


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_an_unavailable_service_answers_in_the_page_language(api: Capture, accept: str) -> None:
    from botocore.stub import Stubber

    from shared.platform import clients

    event = form_post(accept=accept)
    event["rawQueryString"], event["queryStringParameters"] = "lang=it", {"lang": "it"}
    with Stubber(clients.client("events")) as stub:
        stub.add_client_error("put_events", "ThrottlingException", http_status_code=400)
        reply = call(event)

    assert reply.status == 503
    said = "Il servizio è temporaneamente non disponibile e non è stato registrato nulla."
    if accept == "text/html":
        page = html.unescape(reply.body)
        assert "<h1>Riprovi</h1>" in page and said in page and '<html lang="it">' in page
    else:
        assert reply.json()["message"].startswith(said)
    assert api.events() == []
