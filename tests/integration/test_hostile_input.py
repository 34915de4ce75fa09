"""Issue 12, items 1, 2 and 11 on the user's path: the API function on moto fed real-shaped
events (then the registration processor, and the emails SES accepted)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID

from functions.registration_processor.handler import handler as processor
from shared.platform.clients import table
from shared.platform.settings import get_settings
from shared.registrations import caps, zones
from tests.conftest import TABLE_NAME, load_event
from tests.integration.test_api import (  # noqa: F401 - fixtures
    Capture,
    api,
    call,
    captured,
    form_post,
    json_post,
    programme,
)
from tests.support import Context, sent_emails, sqs_batch

STRANGER = "someone.else@example.net"
REFUND = "Your refund is ready: https://refund.example.net/claim"
ENCODED = "=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil.example?="


@pytest.fixture
def bus(api: Capture) -> Capture:  # noqa: F811 - fixture
    """The sample programme on moto, and the events the API publishes."""
    return api


def from_ip(event: dict[str, Any], ip: str) -> dict[str, Any]:
    event["requestContext"]["http"]["sourceIp"] = ip
    return event


def process(published: list[dict[str, Any]]) -> None:
    for event in published:
        batch = sqs_batch(event | {"account": DEFAULT_ACCOUNT_ID})
        assert processor(batch, Context())["batchItemFailures"] == []


def emails_to(address: str) -> list[Any]:
    return [m for m in sent_emails() if m["To"].addresses[0].addr_spec == address]


def use_caps(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"KBS_{name.upper()}", value)
    get_settings.cache_clear()


# --- item 1: user text never shapes an email's headers ---------------------------------------


def test_the_encoded_word_name_is_refused_at_the_form(bus: Capture) -> None:
    reply = call(form_post(full_name=ENCODED, email=STRANGER))

    assert reply.status == 400
    assert reply.json()["errors"] == {
        "full_name": "Full name must not contain encoded text such as =?utf-8?q?...?=."
    }
    assert bus.events() == []


def test_the_encoded_word_name_is_refused_in_the_page_language(bus: Capture) -> None:
    event = form_post(full_name=ENCODED, email=STRANGER)
    event["rawQueryString"], event["queryStringParameters"] = "lang=fr", {"lang": "fr"}

    reply = call(event)

    assert reply.status == 400
    assert reply.json()["errors"] == {
        "full_name": "Le champ « Nom et prénom » ne doit pas contenir de texte encodé tel que "
        "=?utf-8?q?...?=."
    }
    assert bus.events() == []
    assert sent_emails() == []


@pytest.mark.parametrize(("language", "subject"), [(None, "Rejestracja"), ("de", "Anmeldung")])
def test_a_json_client_is_emailed_in_the_page_language_unless_it_chose_one(
    bus: Capture, language: str | None, subject: str
) -> None:
    """``POST /registrations?lang=pl`` without a ``language`` field: the errors were Polish,
    so is the confirmation; an explicit ``language`` still wins."""
    event = json_post(language=language, email=STRANGER, sessions=["kbs-01-ict-hardware"])
    event["rawQueryString"], event["queryStringParameters"] = "lang=pl", {"lang": "pl"}

    assert call(event).status == 202
    process(bus.events())

    [email] = emails_to(STRANGER)
    assert email["Subject"].startswith(subject)


@pytest.mark.parametrize(
    "name",
    [
        ENCODED,
        "=?utf-8?q?Eve=0D=0AReply-To=3A_x=40evil.example?=",
        "=?utf-8?q?Eve=0D=0A=0D=0AClaim_your_refund?=",
        "=?utf-8?q?Eve=22_=3Cx=40evil.example=3E=2C?=",
    ],
)
def test_a_submission_accepted_before_the_fix_is_emailed_to_exactly_its_address(
    bus: Capture, name: str
) -> None:
    """An older "Registration Submitted" (replayed from the bus archive) still holds such a
    name: the place is booked and the email goes out, to exactly one recipient."""
    assert call(form_post()).status == 202
    [submitted] = bus.events()
    submitted["detail"]["data"]["full_name"] = name
    address = submitted["detail"]["data"]["email"]

    process([submitted])

    emails = sent_emails()
    assert len(emails) == 1  # one per submission, whatever the number of sessions
    for email in emails:
        assert [a.addr_spec for a in email["To"].addresses] == [address]
        assert email["Bcc"] is None and email["Reply-To"] is None and email["Cc"] is None
        assert list(email.keys())[:2] == ["From", "To"]
        assert email["X-KBS-Kind"] == "confirmation"


# --- item 2: echoed text is not a spam channel -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", REFUND),
        ("organisation", "Claims desk www.refund.example"),
        ("role", "see refund.example.net/claim"),
    ],
)
def test_a_link_in_an_echoed_field_is_refused_and_nobody_is_emailed(
    bus: Capture, field: str, value: str
) -> None:
    reply = call(form_post(email=STRANGER, **{field: value}))

    assert reply.status == 400
    [message] = reply.json()["errors"].values()
    assert "must not contain web or email addresses" in message
    assert bus.events() == []
    assert sent_emails() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("full_name", "J.R. Smith"), ("organisation", "Procurement.ie"), ("role", "St. Gallen")],
)
def test_real_names_with_dots_pass(bus: Capture, field: str, value: str) -> None:
    assert call(form_post(**{field: value})).status == 202
    [published] = bus.events()
    assert published["detail"]["data"][field] == value


def test_one_address_gets_at_most_five_submissions_a_day_then_429(
    bus: Capture, capsys: pytest.CaptureFixture[str]
) -> None:
    # From five different clients, each for every open session: each counts once.
    for n in range(5):
        assert call(from_ip(json_post(email=STRANGER), f"198.51.100.{n}")).status == 202
    assert len(bus.events()) == 5
    capsys.readouterr()

    refused = call(from_ip(json_post(email=STRANGER.upper()), "203.0.113.9"))

    assert refused.status == 429
    assert refused.json()["errors"] == {
        "email": "Email address has had 5 registrations today, the most we accept in a day. "
        "Nothing was recorded; please try again tomorrow (UTC)."
    }
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert bus.events() == []  # nothing published, so nothing booked and nobody emailed
    assert '"SubmissionsCappedByAddress":[1.0]' in capsys.readouterr().out
    in_polish = from_ip(json_post(email=STRANGER), "203.0.113.9")
    in_polish["rawQueryString"], in_polish["queryStringParameters"] = "lang=pl", {"lang": "pl"}
    assert call(in_polish).json()["errors"] == {
        "email": "Ten adres e-mail osiągnął dziś dzienny limit rejestracji (5). Nic nie zostało "
        "zapisane; prosimy spróbować ponownie jutro (UTC)."
    }
    # Another address from the same client is fine; the next UTC day the address is too.
    assert call(from_ip(json_post(email="other@example.org"), "203.0.113.9")).status == 202
    tomorrow = from_ip(json_post(email=STRANGER), "203.0.113.9")
    tomorrow["requestContext"]["timeEpoch"] += 24 * 3600 * 1000
    assert call(tomorrow).status == 202


def test_one_client_gets_at_most_twenty_submissions_an_hour_then_429(
    bus: Capture, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(20):
        assert call(form_post(email=f"person{n}@example.org")).status == 202
    capsys.readouterr()

    refused = call(form_post(email="person20@example.org", accept="text/html"))

    assert refused.status == 429
    assert "Too many registrations from your network: at most 20 an hour." in refused.body
    assert refused.headers["Content-Type"] == "text/html; charset=utf-8"
    assert len(bus.events()) == 20
    assert '"SubmissionsCappedByClient":[1.0]' in capsys.readouterr().out
    # The refused submission did not use up that address's allowance.
    items = table(TABLE_NAME).scan()["Items"]  # a test may scan; kbs never does
    caps_items = [i for i in items if str(i["PK"]).startswith("CAP#")]
    assert {i["PK"].split("#")[1] for i in caps_items} == {caps.ADDRESS, caps.CLIENT}
    text = repr(caps_items)
    assert "example.org" not in text and "198.51.100.23" not in text  # digests only
    assert all(int(i["expiration"]) > 0 for i in caps_items)
    client_count = [i for i in caps_items if i["PK"].startswith("CAP#client#")]
    assert [int(i["count"]) for i in client_count] == [20]


def test_caps_are_configuration_and_loopback_is_exempt_only_when_set(
    bus: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_caps(monkeypatch, cap_per_address_per_day="2", cap_per_client_per_hour="0")
    assert [call(form_post()).status for _ in range(3)] == [202, 202, 429]

    use_caps(monkeypatch, cap_exempt_loopback="true")
    local = [call(from_ip(form_post(email="local@example.org"), "127.0.0.1")) for _ in range(4)]
    assert [r.status for r in local] == [202] * 4

    use_caps(monkeypatch, cap_exempt_loopback="false")
    again = [call(from_ip(form_post(email="loop@example.org"), "127.0.0.1")) for _ in range(3)]
    assert [r.status for r in again] == [202, 202, 429]


# --- item 11: an optional, detected value never blocks a registration --------------------------


def test_an_unknown_detected_time_zone_is_treated_as_absent(bus: Capture) -> None:
    reply = call(form_post(timezone="Etc/Unknown"))

    assert reply.status == 202
    [submitted] = bus.events()
    assert submitted["detail"]["data"]["timezone"] is None
    process([submitted])
    [first] = emails_to(submitted["detail"]["data"]["email"])
    text = first.get_body(("plain",)).get_content()
    assert "(Europe/Brussels)" in text  # the session's own zone


def test_the_page_suggests_exactly_the_zones_intake_accepts(bus: Capture) -> None:
    page = call(load_event("api/get-page.json")).body

    datalist = page.split('id="timezone-options">')[1].split("</datalist>")[0]
    offered = re.findall(r'<option value="([^"]+)">', datalist)
    assert tuple(offered) == zones.accepted()
    assert "Europe/Brussels" in offered and "Etc/Unknown" not in offered
    assert 'list="timezone-options"' in page
