"""End to end on ``kbs serve``: the cancellation link from a confirmation ``.eml`` frees the place.

email link --GET/POST /registrations/cancel--> self_service --"Registration Cancelled"--> bus
--> rule --> queue --> waitlist_promoter --> SES (moto) --> the promoted registrant's .eml
"""

from __future__ import annotations

import re
import time
import urllib.parse
from email.message import EmailMessage

import pytest

from infra.wiring import EventRule, function
from kbs.local.outbox import POLL_SECONDS
from tests.conftest import EVENTS
from tests.e2e.support import Served, http, kbs, read_eml, register, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BROWSER = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) e2e",
}
FORM = {**BROWSER, "Content-Type": "application/x-www-form-urlencoded"}


def outbox(stack: Served) -> list[EmailMessage]:
    return [read_eml(path) for path in sorted((stack.data_dir / "outbox").glob("*.eml"))]


def recipient(message: EmailMessage) -> str:
    return str(message["To"].addresses[0].addr_spec)


def text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_the_link_in_a_confirmation_frees_the_place_for_the_first_waitlisted(
    stack: Served,
) -> None:
    imported = kbs(
        "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(stack.data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    session = next(
        s for s in http("GET", f"{stack.api_url}/sessions").json() if s["capacity"] == 10
    )
    # Given a full session: one registrant more than its places.
    for n in range(11):
        register(
            stack.api_url, f"buyer.{n}@example.org", [session["session_id"]], name=f"Buyer {n}"
        )
    booked = wait_for(lambda: len(outbox(stack)) == 11 and outbox(stack), timeout=60)
    kinds = {recipient(m): m["X-KBS-Kind"] for m in booked}
    (waiting,) = [address for address, kind in kinds.items() if kind == "waitlist"]
    cancelling = next(m for m in booked if m["X-KBS-Kind"] == "confirmation")
    (link,) = re.findall(
        r"http://127\.0\.0\.1:\d+/registrations/cancel\?token=\S+", text(cancelling)
    )
    (token,) = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"]

    # When the registrant opens the link and confirms on the page.
    page = http("GET", link, headers=BROWSER)
    assert page.status == 200, page.body[:300]
    assert session["title"] in page.body.decode()
    assert '<form method="post" action="cancel">' in page.body.decode()
    time.sleep(3 * POLL_SECONDS)
    assert len(outbox(stack)) == 11  # opening the link changed nothing
    action = urllib.parse.urljoin(link, "cancel")
    done = http("POST", action, urllib.parse.urlencode({"token": token}).encode(), FORM)
    assert done.status == 200, done.body[:300]
    assert "Registration cancelled" in done.body.decode()

    # Then the registrant is told, with the calendar CANCEL of their invitation, and the first
    # on the waiting list gets a confirmation with the invitation.
    after = wait_for(
        lambda: len(outbox(stack)) == 13 and outbox(stack)[11:], timeout=30, what="two emails"
    )
    (told,) = [m for m in after if m["X-KBS-Kind"] == "place-cancelled"]
    assert recipient(told) == recipient(cancelling)
    cancel = [p for p in told.walk() if p.get_content_type() == "text/calendar"]
    assert len(cancel) == 1 and "METHOD:CANCEL" in cancel[0].get_content()
    (confirmation,) = [m for m in after if m is not told]
    assert recipient(confirmation) == waiting
    assert confirmation["X-KBS-Kind"] == "confirmation"
    assert session["title"] in confirmation["Subject"]
    invites = [p for p in confirmation.walk() if p.get_content_type() == "text/calendar"]
    assert len(invites) == 1 and str(invites[0].get_filename()).endswith(".ics")
    assert "https://meet.example.org/" in text(confirmation)
    (rule,) = function("waitlist_promoter").of_kind(EventRule)
    queue = stack.info["queues"][rule.name].rsplit("/", 1)[-1]
    handled = stack.handled("waitlist_promoter", f"sqs {queue}")
    assert [line["outcome"] for line in handled] == ["ok"]

    # A replayed link says so and sends nothing more.
    again = http("POST", action, urllib.parse.urlencode({"token": token}).encode(), FORM)
    assert again.status == 200 and "Already cancelled" in again.body.decode()
    time.sleep(3 * POLL_SECONDS)
    assert len(outbox(stack)) == 13
