"""Unsubscribe and consent on moto: a registration through the real processor, the link from
its email through the real ``unsubscribe`` handler (the HTTP samples in ``events/api/``), and
the reminders after it through the clock and email sender."""

from __future__ import annotations

import base64
import copy
import re
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from functions.registration_processor.handler import handler as processor
from functions.unsubscribe.handler import handler as unsubscribe_handler
from shared.mail import suppression
from shared.mail.suppression import Reason
from shared.platform import keys
from shared.platform.clients import table
from shared.registrations import intake
from shared.web import links
from tests.conftest import LINK_SECRET, TABLE_NAME, load_event
from tests.integration.lifecycle_harness import (
    START,
    Lifecycle,
    part,
    recipients,
    sample_session,
    sent_emails,
)
from tests.support import Context, sqs_batch

SESSION = "kbs-01-ict-hardware"
SUBMITTED = load_event("bus/registration-submitted.json")
EMAIL = SUBMITTED["detail"]["data"]["email"].lower()
SUBMITTED_AT = datetime.fromisoformat(SUBMITTED["detail"]["data"]["submitted_at"])
ASKED_AT = SUBMITTED_AT + timedelta(days=1)
T1 = START - timedelta(hours=1)
GET_SAMPLE = load_event("api/get-unsubscribe.json")
ONE_CLICK_SAMPLE = load_event("api/post-unsubscribe-one-click.json")
JSON = {"accept": "application/json"}


def submit(submitted_at: datetime = SUBMITTED_AT, reference: str = "") -> None:
    """The sample submission (for the one session) through the registration processor."""
    event = copy.deepcopy(SUBMITTED)
    event["id"] = str(uuid.uuid4())
    event["time"] = (submitted_at + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = event["detail"]["data"]
    data.update(sessions=[SESSION], submitted_at=submitted_at.isoformat())
    data["consent"]["given_at"] = submitted_at.isoformat()
    if reference:
        data["reference"] = reference
    response = processor(sqs_batch(event), Context())  # type: ignore[arg-type]
    assert response["batchItemFailures"] == []


def confirmations() -> list[EmailMessage]:
    return [m for m in sent_emails("confirmation") if m["To"].addresses[0].addr_spec == EMAIL]


def unsubscribe_url(message: EmailMessage) -> str:
    header = str(message["List-Unsubscribe"])
    match = re.fullmatch(r"<(https://[^>]+)>", header)
    assert match, header
    return match.group(1)


def token_of(url: str) -> str:
    (token,) = parse_qs(urlsplit(url).query)["token"]
    return token


def request(
    method: str,
    *,
    query_token: str | None = None,
    body: bytes | None = None,
    at: datetime = ASKED_AT,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The GET sample, or the one-click POST sample, with our token, body and time."""
    event = copy.deepcopy(GET_SAMPLE if method == "GET" else ONE_CLICK_SAMPLE)
    event["requestContext"]["timeEpoch"] = int(at.timestamp() * 1000)
    event["headers"].update(headers or {})
    query = {} if query_token is None else {"token": query_token}
    event["rawQueryString"] = urlencode(query)
    event["queryStringParameters"] = query
    if not query:
        del event["queryStringParameters"]
    if method == "POST" and body is not None:
        event["body"] = base64.b64encode(body).decode()
    return event


def call(event: dict[str, Any]) -> tuple[int, str]:
    response = unsubscribe_handler(event, Context())
    return response["statusCode"], response["body"]


@pytest.fixture
def life(aws: None, monkeypatch: pytest.MonkeyPatch) -> Lifecycle:
    life = Lifecycle(monkeypatch)
    life.schedule(sample_session(SESSION))
    return life


@pytest.fixture
def link(life: Lifecycle) -> str:
    """The unsubscribe URL of the registrant's confirmation."""
    submit()
    (confirmation,) = confirmations()
    return unsubscribe_url(confirmation)


def test_given_a_confirmation_then_it_carries_the_one_click_headers_and_the_footer_link(
    link: str,
) -> None:
    (message,) = confirmations()
    assert link.startswith("https://kbs.example.org/unsubscribe?token=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in (part(message, "text/plain") or "")
    assert f'href="{link}"' in (part(message, "text/html") or "").replace("&amp;", "&")
    claims = links.verify(
        token_of(link), [LINK_SECRET.encode()], purpose=links.UNSUBSCRIBE, now=ASKED_AT
    )
    assert claims.is_for(EMAIL) and claims.session_id == SESSION


def test_given_the_link_opened_then_a_confirmation_form_is_shown_and_nothing_changes(
    link: str,
) -> None:
    status, page = call(request("GET", query_token=token_of(link)))

    assert status == 200
    assert '<form method="post" action="unsubscribe?token=' in page
    assert suppression.get(TABLE_NAME, EMAIL) is None


def test_given_one_click_then_the_address_is_suppressed_and_the_reminder_skips_it(
    life: Lifecycle, link: str
) -> None:
    # When the mail provider posts the one-click request to the List-Unsubscribe URL
    status, body = call(
        request("POST", query_token=token_of(link), body=b"List-Unsubscribe=One-Click")
    )

    # Then the address is suppressed as unsubscribed, at the request's time
    assert status == 200 and '"status": "unsubscribed"' in body
    found = suppression.get(TABLE_NAME, EMAIL)
    assert found is not None and found.reason is Reason.UNSUBSCRIBED
    assert found.suppressed_at == ASKED_AT
    item = table(TABLE_NAME).get_item(
        Key={"PK": keys.session_pk(SESSION), "SK": keys.registration_sk(EMAIL)}
    )["Item"]
    assert item["suppressed"] == "unsubscribed"

    # ... a second click changes nothing
    again = call(request("POST", query_token=token_of(link), body=b"List-Unsubscribe=One-Click"))
    assert again[0] == 200 and "already" in again[1]
    assert suppression.get(TABLE_NAME, EMAIL) == found

    # ... and the reminder is not sent to it
    life.tick(T1)
    assert EMAIL not in recipients("reminder-1h")
    assert life.failed["email_sender"] == 0


def test_given_the_page_form_posted_then_the_address_is_unsubscribed(link: str) -> None:
    form = urlencode({"token": token_of(link)}).encode()
    status, body = call(request("POST", body=form, headers={"accept": "text/html"}))

    assert status == 200 and "You are unsubscribed" in body
    assert suppression.get(TABLE_NAME, EMAIL) is not None


def test_given_a_bad_link_then_a_4xx_and_nothing_changes(link: str) -> None:
    token = token_of(link)
    payload, _, signature = token.partition(".")
    cancel_token = token_of(
        links.registrant_url(
            links.CANCEL,
            "https://kbs.example.org",
            reference=SUBMITTED["detail"]["data"]["reference"],
            session_id=SESSION,
            email=EMAIL,
            expires_at=START + timedelta(days=30),
            key=LINK_SECRET.encode(),
        )
    )
    cases = {
        "tampered": (f"{payload[:-2]}xx.{signature}", 403),
        "cut short": (token[:-5], 403),
        "another purpose": (cancel_token, 403),
        "expired": (token, 403),
        "missing": (None, 400),
    }
    for name, (bad, expected) in cases.items():
        at = START + timedelta(days=800) if name == "expired" else ASKED_AT
        for method in ("GET", "POST"):
            body = b"List-Unsubscribe=One-Click" if method == "POST" else None
            status, text = call(request(method, query_token=bad, body=body, at=at, headers=JSON))
            assert status == expected, (name, method, status, text)
            assert "Nothing has been changed" in text
    assert suppression.get(TABLE_NAME, EMAIL) is None


def test_given_an_unsubscribe_then_a_later_registration_lifts_it_but_a_replayed_one_does_not(
    life: Lifecycle, link: str
) -> None:
    call(request("POST", query_token=token_of(link), body=b"List-Unsubscribe=One-Click"))

    # A replay of the submission made before the unsubscribe lifts nothing
    submit()
    assert suppression.get(TABLE_NAME, EMAIL) is not None

    # A new submission after it is an explicit new request: the unsubscribe is lifted
    submit(ASKED_AT + timedelta(hours=1), reference="KBS-NEW2-REQ3")
    assert suppression.get(TABLE_NAME, EMAIL) is None
    item = table(TABLE_NAME).get_item(
        Key={"PK": keys.session_pk(SESSION), "SK": keys.registration_sk(EMAIL)}
    )["Item"]
    assert "suppressed" not in item
    life.tick(T1)
    assert recipients("reminder-1h")[EMAIL] == 1


def test_given_a_bounce_then_a_new_registration_does_not_lift_it(life: Lifecycle) -> None:
    suppression.suppress(TABLE_NAME, EMAIL, Reason.BOUNCED, SUBMITTED_AT - timedelta(days=3))

    submit()

    assert suppression.get(TABLE_NAME, EMAIL).reason is Reason.BOUNCED  # type: ignore[union-attr]
    assert confirmations() == []  # skipped, not failed (the processor reported no failure)
    item = table(TABLE_NAME).get_item(
        Key={"PK": keys.session_pk(SESSION), "SK": keys.registration_sk(EMAIL)}
    )["Item"]
    assert item["status"] == "confirmed" and item["suppressed"] == "bounced"


def test_given_a_registration_then_its_consent_is_stored_with_time_and_text_version(
    link: str,
) -> None:
    item = table(TABLE_NAME).get_item(
        Key={"PK": keys.session_pk(SESSION), "SK": keys.registration_sk(EMAIL)}
    )["Item"]

    assert item["consent"] == {
        "given_at": SUBMITTED_AT.isoformat().replace("+00:00", "Z"),
        "text_version": intake.CONSENT_TEXT_VERSION,
    }


def test_given_reminders_then_each_carries_its_registrants_own_unsubscribe_link(
    life: Lifecycle, link: str
) -> None:
    life.tick(T1)

    (reminder,) = sent_emails("reminder-1h")
    url = unsubscribe_url(reminder)
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in (part(reminder, "text/plain") or "")
    claims = links.verify(token_of(url), [LINK_SECRET.encode()], purpose="unsubscribe", now=T1)
    assert claims.is_for(EMAIL)
