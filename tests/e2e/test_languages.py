"""End to end on ``kbs serve``: a registrant who chose Polish gets the confirmation in Polish,
dates in Polish words, the calendar invitation's summary and description too; in every
language, the confirmation, the reminder and the follow-up are in the registrant's."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from kbs.local.outbox import POLL_SECONDS
from tests.conftest import EVENTS
from tests.e2e.support import Served, http, kbs, register, wait_for
from tests.e2e.test_registration import BROWSER_FORM, form, outbox_messages

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_a_polish_registrant_is_confirmed_in_polish(stack: Served) -> None:
    imported = kbs(
        "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(stack.data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    session = http("GET", f"{stack.api_url}/sessions").json()[0]
    posted = http(
        "POST",
        f"{stack.api_url}/registrations",
        form(
            full_name="Łucja Nowak",
            email="lucja.nowak@urzad.example.pl",
            organisation="Urząd Miasta (test)",
            country="PL",
            role="Zamówienia publiczne",
            language="pl",
            timezone="Europe/Warsaw",
            sessions=[session["session_id"]],
            consent="on",
            website="",
        ),
        BROWSER_FORM,
    )
    assert posted.status == 202, posted.body[:500]
    wait_for(lambda: outbox_messages(stack), timeout=30, what="an .eml in the outbox")
    time.sleep(2 * POLL_SECONDS)
    (message,) = outbox_messages(stack)

    assert message["Subject"] == f"Rejestracja potwierdzona: {session['title']}"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    start = datetime.fromisoformat(session["start"].replace("Z", "+00:00"))
    day = format_date(start.astimezone(ZoneInfo("Europe/Warsaw")), "d MMMM y", locale="pl")
    assert text.startswith("Dzień dobry Łucja Nowak,")
    assert day in text and "(Europe/Warsaw)" in text, text
    assert "Numer rejestracji: " in text and "Z wyrazami szacunku" in text
    (invite,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    calendar = invite.get_content()
    calendar = (calendar.decode() if isinstance(calendar, bytes) else calendar).replace("\r\n ", "")
    assert "Link do sesji: " in calendar and "Numer rejestracji: " in calendar


# Subject prefixes and greeting of the confirmation, 24-hour reminder and follow-up, and the
# start of the session's line in the body, as each catalog words them (kbs.po).
WORDING = {
    "en": ("Registration confirmed: ", "Reminder: ", "Thank you: ", "Dear "),
    "es": ("Inscripción confirmada: ", "Recordatorio: ", "Gracias: ", "Estimado/a "),
    "ca": ("Inscripció confirmada: ", "Recordatori: ", "Gràcies: ", "Benvolgut/da "),
    "fr": ("Inscription confirmée : ", "Rappel : ", "Merci : ", "Bonjour "),
    "de": ("Anmeldung bestätigt: ", "Erinnerung: ", "Vielen Dank: ", "Guten Tag "),
    "nl": ("Inschrijving bevestigd: ", "Herinnering: ", "Bedankt: ", "Beste "),
    "sv": ("Anmälan bekräftad: ", "Påminnelse: ", "Tack: ", "Hej "),
    "pl": ("Rejestracja potwierdzona: ", "Przypomnienie: ", "Dziękujemy: ", "Dzień dobry "),
    "it": ("Iscrizione confermata: ", "Promemoria: ", "Grazie: ", "Gentile "),
}
KINDS = ("confirmation", "reminder-24h", "follow-up")


def test_each_language_gets_its_confirmation_reminder_and_follow_up_in_it(stack: Served) -> None:
    imported = kbs(
        "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(stack.data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    session = http("GET", f"{stack.api_url}/sessions").json()[0]
    for language in WORDING:
        address = f"buyer.{language}@authority.example.eu"
        name = f"Buyer {language.upper()}"
        register(stack.api_url, address, [session["session_id"]], name=name, language=language)
    start = datetime.fromisoformat(session["start"].replace("Z", "+00:00"))
    end = start + timedelta(minutes=session["duration_minutes"])

    def of_kind(kind: str) -> list[EmailMessage]:
        return [m for m in outbox_messages(stack) if m["X-KBS-Kind"] == kind]

    wait_for(lambda: len(of_kind("confirmation")) == len(WORDING), timeout=60, what="confirmations")
    for at, kind in ((start - timedelta(hours=24), "reminder-24h"), (end, "follow-up")):
        ticked = kbs("tick", "--at", at.isoformat(), "--local", str(stack.data_dir))
        assert ticked.returncode == 0, ticked.stdout + ticked.stderr
        wait_for(lambda k=kind: len(of_kind(k)) == len(WORDING), timeout=60, what=kind)

    zone = ZoneInfo(session["timezone"])
    for language, (confirmed, reminder, thanks, dear) in WORDING.items():
        month = format_date(start.astimezone(zone), "MMMM", locale=language)  # in a date's case
        for kind, prefix in zip(KINDS, (confirmed, reminder, thanks), strict=True):
            (message,) = [
                m
                for m in of_kind(kind)
                if m["To"].addresses[0].addr_spec == f"buyer.{language}@authority.example.eu"
            ]
            assert str(message["Subject"]) == prefix + session["title"], (language, kind)
            text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            assert text.startswith(f"{dear}Buyer {language.upper()}"), (language, kind, text)
            assert month in text, (language, kind, month, text)
            html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
            assert f'<html lang="{language}">' in html, (language, kind)
        if language != "en":  # nothing left in English
            assert "Thank you for registering" not in text and "Kind regards" not in text
