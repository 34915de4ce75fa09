"""The one suppression check in ``sending.send_once``, the batch snapshot it accepts, and the
unsubscribe headers ``sending.build_message`` writes (moto for DynamoDB and SES)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.mail import feedback, sending, suppression
from shared.mail.suppression import Reason
from shared.mail.templates import EmailContent
from shared.platform import keys
from shared.platform.clients import table
from tests.conftest import SENDER, TABLE_NAME
from tests.support import sent_emails

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
URL = "https://kbs.example.org/unsubscribe?token=" + "e" * 150 + "." + "s" * 43


def message(recipient: str = "marta.novak@example.org", url: str | None = URL) -> EmailMessage:
    return sending.build_message(
        sender=SENDER,
        recipient=recipient,
        recipient_name="Marta Novák",
        content=EmailContent("Reminder", "Dear Marta,\n", "<html><body><p>Hi</p></body></html>"),
        date=AT,
        kind="reminder-1h",
        unsubscribe_url=url,
    )


def test_given_an_unsubscribe_url_then_headers_are_one_click_and_never_encoded_words() -> None:
    raw = message().as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].decode()

    assert f"\r\nList-Unsubscribe: <{URL}>\r\n" in head  # one line, as written: no =?utf-8?
    assert "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in head
    parsed = message_from_bytes(raw, policy=policy.default)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None and URL in text.get_content()
    assert html is not None and f'href="{URL}"' in html.get_content()


def test_given_no_url_then_no_unsubscribe_headers() -> None:
    assert message(url=None)["List-Unsubscribe"] is None


def test_given_a_suppressed_address_then_send_once_skips_it_and_claims_nothing(aws: None) -> None:
    suppression.suppress(TABLE_NAME, "Marta.Novak@Example.org", Reason.COMPLAINED, AT)

    result = sending.send_once(TABLE_NAME, "k1", message())

    assert result == sending.SendResult(message_id="", sent_now=False, suppressed="complained")
    assert sent_emails() == []
    key = {"PK": keys.email_pk("k1"), "SK": keys.EMAIL_SK}
    assert "Item" not in table(TABLE_NAME).get_item(Key=key)

    # Lifted: the same send goes out
    assert suppression.lift(TABLE_NAME, "marta.novak@example.org") is not None
    assert sending.send_once(TABLE_NAME, "k1", message()).sent_now
    assert len(sent_emails()) == 1


def test_given_a_batch_snapshot_then_it_answers_for_the_addresses_it_covers(aws: None) -> None:
    suppression.suppress(TABLE_NAME, "gone@example.org", Reason.BOUNCED, AT)
    known = suppression.lookup(TABLE_NAME, ["Gone@example.org", "here@example.org"])
    assert known.reasons == {"gone@example.org": Reason.BOUNCED}

    # Suppressed after the snapshot was read: the snapshot answers for what it covers ...
    suppression.suppress(TABLE_NAME, "here@example.org", Reason.UNSUBSCRIBED, AT)
    notice = suppression.MessageClass.NOTICE
    assert suppression.blocked(TABLE_NAME, ["here@example.org"], known, message_class=notice) == ""
    assert (
        suppression.blocked(TABLE_NAME, ["gone@example.org"], known, message_class=notice)
        == "bounced"
    )
    # ... and anything it does not cover is read now
    suppression.suppress(TABLE_NAME, "other@example.org", Reason.UNSUBSCRIBED, AT)
    assert (
        suppression.blocked(TABLE_NAME, ["other@example.org"], known, message_class=notice)
        == "unsubscribed"
    )
    assert suppression.lookup(TABLE_NAME, []).covered == frozenset()


def test_given_an_unsubscribe_then_a_new_request_after_it_lifts_it_and_an_older_one_does_not(
    aws: None,
) -> None:
    suppression.suppress(TABLE_NAME, "a@example.org", Reason.UNSUBSCRIBED, AT)

    assert suppression.renewed(TABLE_NAME, "a@example.org", AT.replace(hour=8)) is not None
    assert suppression.renewed(TABLE_NAME, "A@example.org", AT.replace(hour=10)) is None
    assert suppression.get(TABLE_NAME, "a@example.org") is None


def test_feedback_addresses_are_canonical_and_junk_is_skipped() -> None:
    address = feedback._address

    assert address("Marta Novák <Marta.Novak@Example.ORG>") == "marta.novak@example.org"
    assert address(" buyer@example.org ") == "buyer@example.org"
    assert address("not an address") == ""
    assert address("") == ""


ALL_KINDS = [
    *suppression.ESSENTIAL_KINDS,
    "reminder-24h",
    "reminder-1h",
    "live",
    "follow-up",
    "materials",
    "organiser-message",
    "",
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    reason=st.sampled_from([None, *Reason]),
    kind=st.sampled_from(ALL_KINDS),
    n=st.integers(min_value=0, max_value=10**6),
)
def test_an_unsubscribe_stops_notices_only_a_bounce_or_complaint_stops_everything(
    aws: None, reason: Reason | None, kind: str, n: int
) -> None:
    """Through ``send_once`` (the one place): each kind of email against each suppression."""
    recipient = f"person.{n}.{kind or 'none'}@example.org"
    suppression.lift(TABLE_NAME, recipient)
    if reason is not None:
        suppression.suppress(TABLE_NAME, recipient, reason, AT)
    built = sending.build_message(
        sender=SENDER,
        recipient=recipient,
        recipient_name="Marta Novák",
        content=EmailContent("Subject", "Dear Marta,\n", "<p>Hi</p>"),
        date=AT,
        kind=kind,
    )
    result = sending.send_once(TABLE_NAME, f"k#{uuid.uuid4()}", built)
    essential = kind in suppression.ESSENTIAL_KINDS
    stopped = reason in (Reason.BOUNCED, Reason.COMPLAINED) or (
        reason is Reason.UNSUBSCRIBED and not essential
    )
    assert result.sent_now is not stopped
    assert result.suppressed == (reason.value if stopped and reason else "")
    cls = suppression.message_class(kind)
    assert cls is (
        suppression.MessageClass.ESSENTIAL if essential else suppression.MessageClass.NOTICE
    )
