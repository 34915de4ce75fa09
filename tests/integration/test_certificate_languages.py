"""Certificates, their verification page, "My record" and transcripts in the registrant's
language, on moto: the certificates function issues each PDF and email from an attendance
import; the pages come from the certificate_pages function over an HTTP API event."""

from __future__ import annotations

import copy
import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from infra import wiring
from shared.attendance.imports import import_report
from shared.certificates import record, record_link, store
from shared.i18n.languages import SUPPORTED
from shared.platform import clients
from shared.platform.event_types import ATTENDANCE_RECORDED, SOURCE_ATTENDANCE
from shared.platform.settings import get_settings
from shared.programme.repository import put_session
from shared.registrations.models import Registration
from shared.registrations.store import registration_item
from tests.attendance_support import AFTER, REGISTRANTS, SESSION, ZOOM
from tests.attendance_support import registration as sample_registration
from tests.conftest import BUCKET_NAME, TABLE_NAME, load_event
from tests.support import BusTap, Context, handler_of, sent_emails, sqs_batch

HOLDER = "odon.szoke@example.hu"  # 88 minutes in the Zoom report: 1.25 CPD hours
FRENCH_TITLE = "Risques de travail forcé dans le matériel TIC"

# heading, the session's date (1 December 2026) in words, email subject, CPD hours of 88 minutes
EXPECTED = {
    "en": ("Certificate of attendance", "1 December 2026", "Your certificate of attendance",
           "CPD hours: 1.25"),
    "es": ("Certificado de asistencia", "1 de diciembre de 2026", "Su certificado de asistencia",
           "Horas CPD: 1,25"),
    "ca": ("Certificat d'assistència", "1 de desembre del 2026",
           "El vostre certificat d'assistència", "Hores CPD: 1,25"),
    "fr": ("Attestation de présence", "1 décembre 2026", "Votre attestation de présence",
           "Heures CPD : 1,25"),
    "de": ("Teilnahmebescheinigung", "1. Dezember 2026", "Ihre Teilnahmebescheinigung",
           "CPD-Stunden: 1,25"),
    "nl": ("Certificaat van deelname", "1 december 2026", "Uw certificaat van deelname",
           "CPD-uren: 1,25"),
    "sv": ("Närvarointyg", "1 december 2026", "Ditt närvarointyg", "CPD-timmar: 1,25"),
    "pl": ("Zaświadczenie o uczestnictwie", "1 grudnia 2026",
           "Twoje zaświadczenie o uczestnictwie", "Godziny CPD: 1,25"),
    "it": ("Attestato di partecipazione", "1 dicembre 2026", "Il suo attestato di partecipazione",
           "Ore CPD: 1,25"),
}  # fmt: skip


def person(email: str, language: str) -> Registration:
    return sample_registration(email).model_copy(update={"language": language})


def issue_all(language: str) -> store.Certificate:
    """Every sample registrant registered in ``language``; the report imported and its events
    delivered to the certificates function; the holder's certificate."""
    put_session(TABLE_NAME, SESSION.model_copy(update={"title_i18n": {"fr": FRENCH_TITLE}}))
    for email in REGISTRANTS:
        clients.table(TABLE_NAME).put_item(Item=registration_item(person(email, language)))
    tap = BusTap(f"certificates-{language}", {"source": [SOURCE_ATTENDANCE]})
    import_report(get_settings(), SESSION.session_id, ZOOM.read_bytes(), actor="t", now=AFTER)
    handler = handler_of(wiring.function("certificates"))
    assert handler(sqs_batch(*tap.received(ATTENDANCE_RECORDED)), Context()) == {
        "batchItemFailures": []
    }
    (cert,) = [
        c for c in store.session_certificates(TABLE_NAME, SESSION.session_id) if c.email == HOLDER
    ]
    return cert


def pdf_text(number: str) -> str:
    from pypdf import PdfReader

    body = clients.client("s3").get_object(Bucket=BUCKET_NAME, Key=store.pdf_key(number))["Body"]
    pages = PdfReader(io.BytesIO(body.read())).pages
    return " ".join(" ".join(p.extract_text() for p in pages).split())  # lines wrap


def call(path: str, query: str, accept_language: str) -> dict[str, Any]:
    """``GET path?query`` through the certificate_pages function, as a browser would ask."""
    event: dict[str, Any] = copy.deepcopy(load_event("api/get-material.json"))
    event |= {"rawPath": path, "rawQueryString": query, "routeKey": "$default"}
    event.pop("pathParameters", None)
    event["queryStringParameters"] = {k: v[0] for k, v in parse_qs(query).items()} or None
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["timeEpoch"] = int(AFTER.timestamp() * 1000)
    event["headers"] |= {"accept": "text/html", "accept-language": accept_language}
    result: dict[str, Any] = handler_of(wiring.function("certificate_pages"))(event, Context())
    return result


def get(path: str, *, query: str = "", accept_language: str = "") -> tuple[int, str]:
    """The status and page of ``GET path?query``."""
    result = call(path, query, accept_language)
    return result["statusCode"], result.get("body", "")


def test_the_expectations_cover_every_language() -> None:
    assert set(EXPECTED) == set(SUPPORTED)


@pytest.mark.parametrize("language", SUPPORTED)
def test_the_certificate_its_email_and_its_page_are_in_the_holders_language(
    aws: None, language: str
) -> None:
    heading, day, subject, hours = EXPECTED[language]
    cert = issue_all(language)
    assert cert.language == language

    text = pdf_text(cert.number)
    assert heading in text and day in text and hours in text
    assert "88" in text and cert.number in text
    title = FRENCH_TITLE if language == "fr" else SESSION.title
    assert title in text
    if language != "en":
        assert "Certificate of attendance" not in text and "December" not in text

    (email,) = [
        m
        for m in sent_emails()
        if m["X-KBS-Kind"] == "certificate" and m["To"].addresses[0].addr_spec == HOLDER
    ]
    assert email["Subject"] == f"{subject}{' :' if language == 'fr' else ':'} {title}"

    # The public page follows the visitor's browser, whoever holds the certificate.
    status, page = get(f"/certificates/{cert.number}", accept_language=f"{language};q=0.9")
    assert status == 200 and f'<html lang="{language}">' in page
    assert heading in page.replace("&#x27;", "'") and day in page


def test_the_verification_page_follows_accept_language_not_the_holder(aws: None) -> None:
    cert = issue_all("pl")
    status, page = get(f"/certificates/{cert.number}", accept_language="de-AT,de;q=0.9,en;q=0.5")
    assert status == 200 and "Teilnahmebescheinigung" in page and "Gültig." in page
    assert "1. Dezember 2026" in page
    status, page = get(f"/certificates/{cert.number}", accept_language="pt-BR")
    assert "Certificate of attendance" in page and "1 December 2026" in page


def record_query(email: str) -> str:
    registration = person(email, "en")  # the link names the registration, not its language
    url = record_link.link_for(registration, SESSION, settings=get_settings())
    return urlsplit(url).query


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "de",
            ("Meine Teilnahmen", "1. Dezember 2026", "CPD-Stunden", "Bescheinigung",
             "Insgesamt: 88 Teilnahmeminuten, 1,25 CPD-Stunden"),
        ),
        (
            "pl",
            ("Moja historia", "1 grudnia 2026", "Godziny CPD", "Zaświadczenie",
             "Łącznie: 88 min obecności, 1,25 godz. CPD"),
        ),
    ],
)  # fmt: skip
def test_my_record_and_its_transcript_are_in_the_registrants_language(
    aws: None, language: str, words: tuple[str, ...]
) -> None:
    cert = issue_all(language)
    # The browser asks for English: the registration's language wins.
    status, page = get("/record", query=record_query(HOLDER), accept_language="en")
    assert status == 200 and f'<html lang="{language}">' in page
    for word in words:
        assert word in page, word
    assert "My record" not in page and "December" not in page
    assert cert.number in page

    held = record.build(TABLE_NAME, HOLDER, now=AFTER)
    transcript = record.transcript(held, settings=get_settings(), now=AFTER)
    assert transcript.language == language
    text = pdf_text(transcript.number)
    heading, day = {
        "de": ("Teilnahmeübersicht", "01.12.2026"),
        "pl": ("Wykaz uczestnictwa", "1 gru 2026"),
    }[language]
    assert heading in text and day in text and "1,25" in text and "Transcript" not in text


def test_without_a_registration_my_record_follows_the_browser(aws: None) -> None:
    issue_all("de")
    short_stay = "stefan.ionescu@example.ro"  # 30 minutes: attended, no certificate
    query = record_query(short_stay)
    registration = person(short_stay, "de")
    clients.table(TABLE_NAME).delete_item(
        Key={k: registration_item(registration)[k] for k in ("PK", "SK")}
    )  # expired: only the attendance is kept
    status, page = get("/record", query=query, accept_language="sv-SE,sv;q=0.9")
    assert status == 200 and '<html lang="sv">' in page
    assert "Min översikt" in page and "1 december 2026" in page and "0,5" in page
    assert "Meine Teilnahmen" not in page

    event_status, headers = transcript_of(query, accept_language="sv")
    assert event_status == 302
    cert = store.get_certificate(TABLE_NAME, headers["X-KBS-Transcript"])
    assert cert is not None and cert.language == "sv"
    assert "Sammanställning av närvaro" in pdf_text(cert.number)


def transcript_of(query: str, *, accept_language: str) -> tuple[int, dict[str, str]]:
    result = call("/record/transcript", query, accept_language)
    return result["statusCode"], result.get("headers", {})


def test_a_genuine_record_link_for_nobody_held_says_so_and_a_forged_one_is_refused(
    aws: None,
) -> None:
    """After an erasure (or a local stack's restart) the record link still verifies: its page
    says no record is held, not that the link is wrong; a changed link is still refused."""
    held_nothing, page = get("/record", query=record_query("nobody.held@example.eu"))
    forged, _ = get("/record", query=record_query(HOLDER)[:-3] + "AAA")
    transcript, _ = get("/record/transcript", query=record_query("nobody.held@example.eu"))

    assert (held_nothing, transcript, forged) == (404, 404, 403)
    assert "No record held for this link" in page
