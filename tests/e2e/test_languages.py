"""End to end on ``kbs serve``: a registrant who chose Polish gets the confirmation in Polish,
dates in Polish words, the calendar invitation's summary and description too."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from kbs.local.outbox import POLL_SECONDS
from tests.conftest import EVENTS
from tests.e2e.support import Served, http, kbs, wait_for
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
