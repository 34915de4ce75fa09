"""Each language: a registrant with ``language`` set gets the confirmation, the reminder and the
follow-up in it (subject, body, dates in the locale's words), through the handlers on moto."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.i18n.languages import SUPPORTED
from shared.platform.settings import get_settings
from shared.programme.models import Session
from shared.registrations import notification
from tests.integration.lifecycle_harness import (
    START,
    Lifecycle,
    part,
    registration,
    sample_session,
    sent_emails,
)

# (subject of the confirmation, of the reminder, of the follow-up; the date's words)
EXPECTED = {
    "en": ("Registration confirmed", "Reminder", "Thank you", "December"),
    "es": ("Inscripción confirmada", "Recordatorio", "Gracias", "diciembre"),
    "ca": ("Inscripció confirmada", "Recordatori", "Gràcies", "desembre"),
    "fr": ("Inscription confirmée", "Rappel", "Merci", "décembre"),
    "de": ("Anmeldung bestätigt", "Erinnerung", "Vielen Dank", "Dezember"),
    "nl": ("Inschrijving bevestigd", "Herinnering", "Bedankt", "december"),
    "sv": ("Anmälan bekräftad", "Påminnelse", "Tack", "december"),
    "pl": ("Rejestracja potwierdzona", "Przypomnienie", "Dziękujemy", "grudnia"),
    "it": ("Iscrizione confermata", "Promemoria", "Grazie", "dicembre"),
}


def body(message: Any) -> str:
    return (part(message, "text/plain") or "") + (part(message, "text/html") or "")


@pytest.fixture
def life(aws: None, monkeypatch: pytest.MonkeyPatch) -> Lifecycle:
    return Lifecycle(monkeypatch)


def test_the_expectations_cover_every_language() -> None:
    assert set(EXPECTED) == set(SUPPORTED)


@pytest.mark.parametrize("language", SUPPORTED)
def test_confirmation_reminder_and_follow_up_come_in_the_registrants_language(
    life: Lifecycle, language: str
) -> None:
    session: Session = life.schedule(
        sample_session(title_i18n={"fr": "Risques de travail forcé dans le matériel TIC"})
    )
    person = registration(session.session_id, 1).model_copy(update={"language": language})
    life.register(person)
    notification.notify(
        person, session, now=START - timedelta(days=7), settings=get_settings(), correlation_id=None
    )
    life.tick(START - timedelta(hours=24))
    life.tick(START + timedelta(minutes=90))
    confirm, remind, thanks, month = EXPECTED[language]
    title = session.title_in(language)
    for kind, subject in (
        ("confirmation", confirm),
        ("reminder-24h", remind),
        ("follow-up", thanks),
    ):
        (message,) = sent_emails(kind)
        assert message["Subject"].startswith(subject), kind
        assert message["Subject"].endswith(title), kind
        assert month in body(message) and f'lang="{language}"' in body(message), kind
    invite = part(sent_emails("reminder-24h")[0], "text/calendar") or ""
    assert f"SUMMARY:{title}"[:60] in invite.replace("\r\n ", "")
