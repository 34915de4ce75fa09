"""End to end on ``kbs serve``: a browser's form post becomes a confirmation email with an invite.

form --POST /registrations--> api --"Registration Submitted"--> bus --> rule --> queue
--> delivery loop --> registration processor --> SES (moto) --> DATA_DIR/outbox/*.eml
"""

from __future__ import annotations

import time
import urllib.parse
from email.message import EmailMessage

import pytest

from infra.wiring import EventRule, function
from kbs.local.outbox import POLL_SECONDS
from tests.conftest import EVENTS
from tests.e2e.support import Served, http, kbs, read_eml, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BROWSER_FORM = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) e2e",
}


def form(**fields: str | list[str]) -> bytes:
    return urllib.parse.urlencode(fields, doseq=True).encode()


def outbox_messages(stack: Served) -> list[EmailMessage]:
    return [read_eml(path) for path in sorted((stack.data_dir / "outbox").glob("*.eml"))]


def test_a_browser_form_post_is_confirmed_by_email_with_a_calendar_invite(stack: Served) -> None:
    imported = kbs(
        "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(stack.data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    session = http("GET", f"{stack.api_url}/sessions").json()[0]
    registrations = f"{stack.api_url}/registrations"

    bad = http("POST", registrations, form(full_name="", email="nope", consent="on"), BROWSER_FORM)
    good = http(
        "POST",
        registrations,
        form(
            full_name="Zoë Åkesson",
            email="zoe.akesson@region.example.se",
            organisation="Region Östergötland (test)",
            country="SE",
            role="Category manager",
            language="en",
            timezone="Europe/Stockholm",
            sessions=[session["session_id"]],
            consent="on",
            website="",
        ),
        BROWSER_FORM,
    )

    assert bad.status == 400
    assert good.status == 202, good.body[:500]
    assert "text/html" in good.headers["Content-Type"]
    trigger = _processor_trigger(stack)
    wait_for(lambda: stack.handled("registration_processor", trigger), timeout=30)
    wait_for(lambda: outbox_messages(stack), timeout=15, what="an .eml in the outbox")
    time.sleep(3 * POLL_SECONDS)  # room for a second delivery or email, if there were one
    processed = stack.handled("registration_processor", trigger)
    messages = outbox_messages(stack)
    assert [line["outcome"] for line in processed] == ["ok"]
    assert sum(line["records"] for line in processed) == 1  # the bad post published nothing
    assert len(messages) == 1
    confirmation = messages[0]
    assert confirmation["To"].addresses[0].addr_spec == "zoe.akesson@region.example.se"
    assert session["title"] in confirmation["Subject"]
    invites = [part for part in confirmation.walk() if part.get_content_type() == "text/calendar"]
    assert len(invites) == 1
    assert str(invites[0].get_filename()).endswith(".ics")
    calendar = invites[0].get_content()
    calendar = calendar.decode() if isinstance(calendar, bytes) else calendar
    assert "BEGIN:VCALENDAR" in calendar
    assert "METHOD:REQUEST" in calendar


def _processor_trigger(stack: Served) -> str:
    (rule,) = function("registration_processor").of_kind(EventRule)
    queue = stack.info["queues"][rule.name].rsplit("/", 1)[-1]
    return f"sqs {queue}"
