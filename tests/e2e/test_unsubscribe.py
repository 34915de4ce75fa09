"""End to end on ``kbs serve``: the one-click unsubscribe of a confirmation ``.eml`` stops later
notices to that address, and essential mail still reaches it.

confirmation .eml --List-Unsubscribe URL, POST "List-Unsubscribe=One-Click" (RFC 8058)-->
unsubscribe fn --> suppression; ``kbs sessions cancel`` --> notice to the others only
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest

from kbs.local.outbox import POLL_SECONDS
from tests.conftest import EVENTS
from tests.e2e.support import Served, http, kbs, read_eml, register, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

LEAVING, STAYING = "leaving.buyer@example.org", "staying.buyer@example.org"


def outbox(stack: Served) -> list[EmailMessage]:
    return [read_eml(path) for path in sorted((stack.data_dir / "outbox").glob("*.eml"))]


def recipient(message: EmailMessage) -> str:
    return str(message["To"].addresses[0].addr_spec)


def test_one_click_from_the_eml_header_stops_notices_but_not_essential_mail(stack: Served) -> None:
    local = ("--local", str(stack.data_dir))
    imported = kbs("sessions", "import", str(EVENTS / "programme.sample.json"), *local)
    assert imported.returncode == 0, imported.stderr
    session = http("GET", f"{stack.api_url}/sessions").json()[0]
    for email in (LEAVING, STAYING):
        register(stack.api_url, email, [session["session_id"]])
    confirmations = wait_for(lambda: len(outbox(stack)) == 2 and outbox(stack), timeout=60)

    # Given the List-Unsubscribe URL of the leaving registrant's confirmation
    (message,) = [m for m in confirmations if recipient(m) == LEAVING]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    match = re.fullmatch(
        r"<(http://127\.0\.0\.1:\d+/unsubscribe\?token=\S+)>", str(message["List-Unsubscribe"])
    )
    assert match, message["List-Unsubscribe"]
    url = match.group(1)

    # When the mail provider posts the one-click request to it
    done = http(
        "POST",
        url,
        b"List-Unsubscribe=One-Click",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status == 200, done.body[:300]
    assert done.json()["status"] == "unsubscribed"

    # Then a later notice (the 24-hour reminder) reaches only the one who stayed ...
    start = datetime.fromisoformat(session["start"])
    ticked = kbs("tick", "--at", (start - timedelta(hours=24)).isoformat(), *local)
    assert ticked.returncode == 0, ticked.stderr
    wait_for(lambda: outbox(stack)[2:], timeout=60, what="the reminder")
    time.sleep(4 * POLL_SECONDS)  # anything else would have been written by now
    notices = [m for m in outbox(stack) if m["X-KBS-Kind"] != "confirmation"]
    assert [(recipient(m), m["X-KBS-Kind"]) for m in notices] == [(STAYING, "reminder-24h")]
    # ... while essential mail about the place they hold (the session cancelled) reaches both.
    cancelled = kbs("sessions", "cancel", session["session_id"], "--reason", "Test", *local)
    assert cancelled.returncode == 0, cancelled.stderr
    wait_for(lambda: len(outbox(stack)) == 5, timeout=60, what="the cancellation notices")
    time.sleep(4 * POLL_SECONDS)
    # (outbox files sort by their Date, the simulated clock's: same second as the reminder)
    later = [m for m in outbox(stack) if m["X-KBS-Kind"] not in ("confirmation", "reminder-24h")]
    essential = sorted((recipient(m), m["X-KBS-Kind"]) for m in later)
    assert essential == [(LEAVING, "cancellation"), (STAYING, "cancellation")]
    listed = kbs("suppressions", "list", *local)
    assert listed.returncode == 0 and LEAVING in listed.stdout and "unsubscribed" in listed.stdout
