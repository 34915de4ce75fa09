"""MIME messages (structure, encoding, header injection) and send-once through SES (moto)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shared.mail import sending, templates
from shared.mail.templates import EmailContent
from shared.platform.clients import table
from tests.conftest import REGION, SENDER, TABLE_NAME
from tests.unit.test_templates import make_registration, make_session

DATE = datetime(2026, 11, 24, 9, 15, 2, tzinfo=UTC)
CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
    "SUMMARY:Caf\u00e9 \\, folded line that goes on and on and on and on and on and on\r\n"
    " and on\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def content(**overrides: str) -> EmailContent:
    fields = {
        "subject": "Registration confirmed: Textiles",
        "text": "Dear Marta,\n\nYour place is confirmed.\n",
        "html": "<p>Dear Marta,</p><p>Your place is confirmed.</p>",
    }
    return EmailContent(**(fields | overrides))


def build(
    name: str = "Marta Novák", calendar: str | None = CALENDAR, **overrides: str
) -> EmailMessage:
    return sending.build_message(
        sender=SENDER,
        recipient="marta.novak@example.org",
        recipient_name=name,
        content=content(**overrides),
        date=DATE,
        calendar=calendar,
        kind="confirmation",
    )


def parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_structure_mixed_alternative_and_calendar_attachment() -> None:
    raw = build().as_bytes()
    parsed = parse(raw)
    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == CALENDAR.encode()  # CRLF and folding kept
    assert parsed["Date"] == "Tue, 24 Nov 2026 09:15:02 +0000"
    assert parsed["X-KBS-Kind"] == "confirmation"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_without_a_calendar_it_is_just_the_alternative() -> None:
    parsed = parse(build(calendar=None).as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.replace("\r\n", "\n") == "Dear Marta,\n\nYour place is confirmed.\n"


def test_utf8_names_are_encoded_and_decode_back() -> None:
    raw = build(name="Marta Novák", subject="Café: Ñandú").as_bytes()
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii()
    parsed = parse(raw)
    assert parsed["To"].addresses[0].display_name == "Marta Novák"
    assert parsed["To"].addresses[0].addr_spec == "marta.novak@example.org"
    assert parsed["Subject"] == "Café: Ñandú"
    assert parsed["From"].addresses[0].addr_spec == SENDER


def test_script_in_a_name_is_escaped_in_the_html_part() -> None:
    registration = make_registration(full_name="<script>alert(1)</script>")
    body = templates.confirmation(registration, make_session(), "https://kbs.example.org/c")
    message = sending.build_message(
        sender=SENDER,
        recipient=registration.email,
        recipient_name=registration.full_name,
        content=body,
        date=DATE,
    )
    parsed = parse(message.as_bytes())
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    "name", ["Eve\r\nBcc: victim@example.net", "Eve\nBcc: victim@example.net", "Eve\rBcc: x@y"]
)
def test_cr_lf_in_a_name_or_subject_cannot_inject_headers(name: str) -> None:
    parsed = parse(build(name=name, subject=f"Hello {name}").as_bytes())
    assert parsed["Bcc"] is None
    assert len(parsed.get_all("To")) == 1
    assert [a.addr_spec for a in parsed["To"].addresses] == ["marta.novak@example.org"]
    assert "\n" not in parsed["Subject"] and "\r" not in parsed["Subject"]


def test_an_address_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError):
        sending.build_message(
            sender=SENDER,
            recipient="marta@example.org\r\nBcc: victim@example.net",
            recipient_name="Marta",
            content=content(),
            date=DATE,
        )


# --- send once (moto) ------------------------------------------------------------------------


def sent_messages() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def record(send_key: str) -> dict[str, Any] | None:
    key = {"PK": f"EMAIL#{send_key}", "SK": "EMAIL"}
    return table(TABLE_NAME).get_item(Key=key, ConsistentRead=True).get("Item")


def test_send_once_sends_once_and_remembers_the_message_id(aws: None) -> None:
    first = sending.send_once(TABLE_NAME, "k1", build())
    again = sending.send_once(TABLE_NAME, "k1", build())
    assert first.sent_now and not again.sent_now
    assert again.message_id == first.message_id
    (message,) = sent_messages()
    assert [d for d in message.destinations if "marta.novak@example.org" in d]
    assert parse(message.raw_data.encode())["Subject"] == "Registration confirmed: Textiles"
    stored = record("k1")
    assert stored is not None
    assert stored["state"] == "sent" and stored["message_id"] == first.message_id
    assert "lease_until" not in stored and "claim" not in stored


def test_a_live_claim_blocks_a_second_sender(aws: None) -> None:
    table(TABLE_NAME).put_item(
        Item={"PK": "EMAIL#k2", "SK": "EMAIL", "state": "sending", "lease_until": 2_000}
    )
    with pytest.raises(sending.SendInProgressError):
        sending.send_once(TABLE_NAME, "k2", build(), clock=lambda: 1_000.0)
    assert sent_messages() == []


def test_an_expired_claim_is_taken_over(aws: None) -> None:
    """A worker that crashed before sending: after its lease the retry sends."""
    table(TABLE_NAME).put_item(
        Item={"PK": "EMAIL#k3", "SK": "EMAIL", "state": "sending", "lease_until": 999}
    )
    result = sending.send_once(TABLE_NAME, "k3", build(), clock=lambda: 1_000.0)
    assert result.sent_now
    assert len(sent_messages()) == 1


@pytest.mark.parametrize(
    "raw_to",
    ["Marta <marta.novak@example.org>\r\nBcc: x@evil.example", "a@example.org, b@example.org"],
)
def test_a_tampered_message_is_never_sent_nor_claimed(aws: None, raw_to: str) -> None:
    message = build()
    del message["To"]
    message.set_raw("To", raw_to)
    with pytest.raises(sending.headers.UnsafeMessageError):
        sending.send_once(TABLE_NAME, "k5", message)
    assert sent_messages() == []
    assert record("k5") is None


@pytest.mark.parametrize(
    "name",
    [
        "=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil.example?=",
        "=?utf-8?q?Eve=0D=0AReply-To=3A_x=40evil.example?=",
        "=?utf-8?q?Eve=0D=0A=0D=0AClaim_your_refund?=",
        "=?utf-8?q?Eve=22_=3Cx=40evil.example=3E=2C?=",
    ],
)
def test_encoded_words_in_a_name_or_subject_stay_text(name: str) -> None:
    """Issue 12, item 1: the email package decoded these into real line breaks and headers."""
    raw = build(name=name, subject=name).as_bytes()
    parsed = parse(raw)
    assert parsed["Bcc"] is None and parsed["Reply-To"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["marta.novak@example.org"]
    # Python's parser reads the fold between two encoded words as a space (RFC 2047 6.2: none)
    assert parsed["To"].addresses[0].display_name.replace(" ", "") == name.replace(" ", "")
    assert parsed["Subject"] == name
    assert list(parsed.keys())[:6] == [
        "From",
        "To",
        "Subject",
        "Date",
        "Auto-Submitted",
        "X-KBS-Kind",
    ]


def test_ses_refusal_releases_the_claim(aws: None) -> None:
    refused = sending.build_message(
        sender="unverified@example.net",
        recipient="marta.novak@example.org",
        recipient_name="Marta",
        content=content(),
        date=DATE,
    )
    with pytest.raises(ClientError):
        sending.send_once(TABLE_NAME, "k4", refused)
    assert record("k4") is None
    assert sending.send_once(TABLE_NAME, "k4", build()).sent_now
    assert len(sent_messages()) == 1


def test_the_request_names_the_configuration_set_and_the_envelope(aws: None) -> None:
    """moto ignores configuration sets, so the request shape is checked with a Stubber."""
    from botocore.stub import ANY, Stubber

    from shared.platform.clients import client

    message = build()
    with Stubber(client("sesv2")) as ses:
        ses.add_response(
            "send_email",
            {"MessageId": "stubbed-1"},
            {
                "FromEmailAddress": SENDER,
                "Destination": {"ToAddresses": ["marta.novak@example.org"]},
                "Content": {"Raw": {"Data": ANY}},
                "ConfigurationSetName": "kbs-events",
            },
        )
        ses.add_response(
            "send_email",
            {"MessageId": "stubbed-2"},
            {
                "FromEmailAddress": SENDER,
                "Destination": {"ToAddresses": ["marta.novak@example.org"]},
                "Content": {"Raw": {"Data": message.as_bytes()}},
            },
        )
        assert sending.send_once(TABLE_NAME, "k5", message, configuration_set="kbs-events")
        assert sending.send_once(TABLE_NAME, "k6", message).message_id == "stubbed-2"
        ses.assert_no_pending_responses()
