"""Email: RFC 5322 MIME messages, and send-once delivery through SES v2 (raw content).

Send-once: before sending, :func:`send_once` claims ``EMAIL#{send_key}`` with a conditional
Put that carries a lease; after SES accepts the message the record becomes ``sent`` with the
SES MessageId. A replayed event finds the record and sends nothing.

Crash window, honestly: if the process dies *before* SES accepts the message, the claim
stays ``sending`` until its lease expires, then a retry (SQS redelivery) claims it again and
sends; within the lease a retry raises :class:`SendInProgressError` and is retried later. If it
dies *after* SES accepted the message but before the record is marked ``sent``, the retry
after the lease sends a second copy: at most one duplicate, in a window of one DynamoDB write.
SES refusing the message (a ``ClientError``) releases the claim at once.

Suppression: :func:`send_once` is also the one place that honours the suppression list
(:mod:`shared.mail.suppression`), by the message's class (essential or notice, from its
``X-KBS-Kind``): a message to an address it stops is skipped and reported
(``SendResult.suppressed``), neither an error nor retried, and claims nothing, so it would go
out if the suppression were lifted before a retry.

Unsubscribe: a message to a registrant carries its unsubscribe link in the body and in the
``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers (RFC 8058 one-click).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal

from botocore.exceptions import ClientError

from shared.mail import headers, suppression
from shared.mail.footers import with_privacy_link, with_record_link, with_unsubscribe
from shared.mail.templates import SERIES, Brand, EmailContent, with_brand
from shared.platform import keys
from shared.platform.clients import client, table
from shared.platform.observability import logger

SENDER_NAME = SERIES
CALENDAR_FILENAME = "invite.ics"
LEASE_SECONDS = 300
"""Longer than the function timeout, so a live sender is never overtaken."""

# CRLF line endings; bodies that are not 7-bit get quoted-printable or base64 (SES-safe).
# Headers stored raw (``set_raw``: ``List-Unsubscribe``) are written as given, never refolded
# into RFC 2047 encoded words, which mail providers would not read as a URL.
_POLICY = policy.SMTP.clone(cte_type="7bit", refold_source="none")


class SendInProgressError(RuntimeError):
    """Another worker holds an unexpired claim on this send key: retry later."""


@dataclass(frozen=True)
class SendResult:
    message_id: str
    sent_now: bool
    """False when the record shows the message was already sent (or it was suppressed)."""
    suppressed: str = ""
    """The suppression reason when the message was skipped (``message_id`` is then empty)."""


def build_message(
    *,
    sender: str,
    recipient: str,
    recipient_name: str,
    content: EmailContent,
    date: datetime,
    calendar: str | None = None,
    calendar_method: Literal["REQUEST", "CANCEL"] = "REQUEST",
    kind: str = "",
    unsubscribe_url: str | None = None,
    privacy_url: str | None = None,
    record_url: str | None = None,
    calendars: Sequence[tuple[str, str]] = (),
    brand: Brand | None = None,
) -> EmailMessage:
    """multipart/mixed > (multipart/alternative > text, html) + text/calendar ``invite.ics``.

    ``calendars``: more invitations, (file name, VCALENDAR) each, attached one per part after
    ``calendar`` (one event each: see the README on calendar clients). ``brand``: the series'
    name and logo atop the HTML part (default: the series' name).

    Headers carrying outside text (the display name, the subject) are encoded here
    (:mod:`shared.mail.headers`), never parsed back, so user input cannot add headers or
    recipients; the message is then serialised and checked (:func:`shared.mail.headers.verify`).
    ``kind`` (e.g. ``confirmation``) goes in an ``X-KBS-Kind`` header for sorting the mail log.
    ``unsubscribe_url`` (every email to a registrant) is added to the body's footer and to the
    RFC 8058 one-click headers; ``record_url`` ("My record") and ``privacy_url`` ("your
    data") follow it in the footer.

    Raises ``ValueError`` for an address that is not a plain ASCII address, and
    :class:`shared.mail.headers.UnsafeMessageError` if the bytes do not say what was built.
    """
    message = EmailMessage(policy=_POLICY)
    message.set_raw("From", headers.address(SENDER_NAME, sender))
    message.set_raw("To", headers.address(recipient_name, recipient))
    message.set_raw("Subject", headers.text(content.subject))
    message["Date"] = format_datetime(date)
    message["Auto-Submitted"] = "auto-generated"
    if kind:
        message.set_raw("X-KBS-Kind", headers.text(kind, name="X-KBS-Kind"))
    if unsubscribe_url:
        content = with_unsubscribe(content, unsubscribe_url)
        if not unsubscribe_url.isascii() or not unsubscribe_url.isprintable():
            raise ValueError("invalid unsubscribe URL")
        message.set_raw("List-Unsubscribe", f"<{unsubscribe_url}>")
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if record_url:  # the registrant's "My record" link (shared.certificates.record)
        content = with_record_link(content, record_url)
    if privacy_url:  # the registrant's "your data" link (shared.privacy.rights), last in the footer
        content = with_privacy_link(content, privacy_url)
    content = with_brand(content, brand or Brand())
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    if calendar is not None:
        message.add_attachment(
            calendar,
            subtype="calendar",
            cte="base64",
            filename=CALENDAR_FILENAME,
            params={"method": calendar_method},
        )
    for filename, body in calendars:
        message.add_attachment(
            body,
            subtype="calendar",
            cte="base64",
            filename=filename,
            params={"method": calendar_method},
        )
    headers.verify(
        message,
        sender=sender,
        recipients=[recipient],
        recipient_name=recipient_name,
        subject=content.subject,
    )
    return message


def send_once(
    table_name: str,
    send_key: str,
    message: EmailMessage,
    *,
    configuration_set: str = "",
    lease_seconds: int = LEASE_SECONDS,
    clock: Callable[[], float] = time.time,
    suppressions: suppression.Snapshot | None = None,
) -> SendResult:
    """Send ``message`` through SES unless ``send_key`` was already sent or its recipient is
    suppressed (see module doc).

    The lease runs on the wall clock (``clock``): it guards against crashed workers, not
    business time. ``suppressions``: the recipients of a batch looked up at once; any address
    it does not cover is looked up here. Raises :class:`shared.mail.headers.UnsafeMessageError`
    (nothing claimed, nothing sent) if the bytes do not hold exactly the message's recipients.
    """
    request = _ses_request(message, configuration_set)  # checked before anything is claimed
    recipients = request["Destination"]["ToAddresses"]
    cls = suppression.message_class(str(message.get("X-KBS-Kind", "")))
    reason = suppression.blocked(table_name, recipients, suppressions, message_class=cls)
    if reason:
        logger.info("Email suppressed", extra={"send_key": send_key, "reason": reason})
        return SendResult(message_id="", sent_now=False, suppressed=reason)
    records = table(table_name)
    key = {"PK": keys.email_pk(send_key), "SK": keys.EMAIL_SK}
    claim = uuid.uuid4().hex
    now = int(clock())
    try:
        records.put_item(
            Item={
                **key,
                "type": "email",
                "state": "sending",
                "claim": claim,
                "lease_until": now + lease_seconds,
            },
            ConditionExpression="attribute_not_exists(PK) OR (#state = :sending AND #lease < :now)",
            ExpressionAttributeNames={"#state": "state", "#lease": "lease_until"},
            ExpressionAttributeValues={":sending": "sending", ":now": now},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        current = records.get_item(Key=key, ConsistentRead=True).get("Item", {})
        if current.get("state") == "sent":
            logger.info("Email already sent", extra={"send_key": send_key})
            return SendResult(message_id=str(current["message_id"]), sent_now=False)
        raise SendInProgressError(send_key) from exc

    try:
        response = client("sesv2").send_email(**request)
    except ClientError as exc:
        # SES refused the message, so nothing went out: release the claim for the retry.
        # Logged with SES's error code and the send key, never the address.
        logger.warning(
            "SES refused the email",
            extra={"send_key": send_key, "error_code": exc.response["Error"].get("Code", "?")},
        )
        records.delete_item(
            Key=key,
            ConditionExpression="claim = :claim",
            ExpressionAttributeValues={":claim": claim},
        )
        raise
    message_id = response["MessageId"]
    records.update_item(
        Key=key,
        UpdateExpression="SET #state = :sent, message_id = :id, sent_at = :at REMOVE claim, #lease",
        ExpressionAttributeNames={"#state": "state", "#lease": "lease_until"},
        ExpressionAttributeValues={":sent": "sent", ":id": message_id, ":at": int(clock())},
    )
    logger.info("Email sent", extra={"send_key": send_key, "ses_message_id": message_id})
    return SendResult(message_id=message_id, sent_now=True)


def _ses_request(message: EmailMessage, configuration_set: str) -> dict[str, Any]:
    """The SES request for exactly these bytes, checked again (:func:`headers.verify`) just
    before they go: a message changed after :func:`build_message` is not sent blind."""
    sender = message["From"].addresses[0].addr_spec
    recipients = [a.addr_spec for a in message["To"].addresses]
    if len(recipients) != 1:
        raise headers.UnsafeMessageError("a kbs email has exactly one recipient")
    data = headers.verify(message, sender=sender, recipients=recipients)
    request: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": recipients},
        "Content": {"Raw": {"Data": data}},
    }
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    return request
