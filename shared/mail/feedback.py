"""SES feedback (bounces, complaints, rejects) from the configuration set's event destination.

SES publishes each sending event to the default event bus as ``Email Bounced``, ``Email
Complaint Received`` or ``Email Rejected`` (source ``aws.ses``), the ``detail`` being the SES
event publishing record (``eventType``, ``mail``, ``bounce`` / ``complaint`` / ``reject``).

A permanent (hard) bounce or a complaint suppresses each of its recipients
(:func:`shared.mail.suppression.suppress`, at the feedback's time, with its feedback id), so a
replayed event changes nothing. Transient and undetermined bounces are only counted (SES
already retried them; the address may work tomorrow), as are rejects (SES found a virus in our
message: nothing is wrong with the address). No address is ever logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from pydantic import BaseModel, ConfigDict, Field

from shared.mail import suppression
from shared.platform.observability import logger
from shared.programme.models import AwareDatetime
from shared.registrations.models import normalise_email

PERMANENT = "Permanent"


class Recipient(BaseModel):
    email_address: str = Field(alias="emailAddress", max_length=512)


class Bounce(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    bounce_type: str = Field(alias="bounceType")
    bounce_sub_type: str = Field(default="", alias="bounceSubType")
    recipients: list[Recipient] = Field(default_factory=list, alias="bouncedRecipients")
    timestamp: AwareDatetime | None = None
    feedback_id: str = Field(default="", alias="feedbackId")


class Complaint(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    recipients: list[Recipient] = Field(default_factory=list, alias="complainedRecipients")
    timestamp: AwareDatetime | None = None
    feedback_id: str = Field(default="", alias="feedbackId")
    feedback_type: str = Field(default="", alias="complaintFeedbackType")


class Reject(BaseModel):
    reason: str = ""


class Mail(BaseModel):
    message_id: str = Field(default="", alias="messageId")


class SesEventRecord(BaseModel):
    """The ``detail`` of an SES sending event on EventBridge (fields we read; others ignored)."""

    event_type: str = Field(alias="eventType")
    mail: Mail = Field(default_factory=Mail)
    bounce: Bounce | None = None
    complaint: Complaint | None = None
    reject: Reject | None = None


@dataclass(frozen=True)
class FeedbackOutcome:
    suppressed: int = 0
    """Addresses suppressed now (a replay: 0)."""
    ignored: int = 0
    """Recipients of a transient or undetermined bounce, or of a reject: counted only."""


def record_feedback(record: SesEventRecord, *, at: datetime, table_name: str) -> FeedbackOutcome:
    """Suppress the hard-bounced or complaining recipients of ``record`` (see module doc).

    ``at``: the event's time, used when the record has no timestamp of its own.
    """
    facts = {"event_type": record.event_type, "ses_message_id": record.mail.message_id}
    details: Bounce | Complaint
    if record.event_type == "Bounce" and record.bounce and record.bounce.bounce_type == PERMANENT:
        reason, details = suppression.Reason.BOUNCED, record.bounce
    elif record.event_type == "Complaint" and record.complaint:
        reason, details = suppression.Reason.COMPLAINED, record.complaint
    else:
        bounce_type = record.bounce.bounce_type if record.bounce else ""
        count = len(record.bounce.recipients) if record.bounce else 0
        logger.info(
            "Feedback counted, nothing suppressed",
            extra={**facts, "bounce_type": bounce_type, "recipients": count},
        )
        return FeedbackOutcome(ignored=count or 1)
    addresses = [a for a in (_address(r.email_address) for r in details.recipients) if a]
    suppressed = sum(
        suppression.suppress(
            table_name, email, reason, details.timestamp or at, feedback_id=details.feedback_id
        )
        for email in dict.fromkeys(addresses)
    )
    logger.info(
        "Feedback recorded",
        extra={
            **facts,
            "reason": reason.value,
            "feedback_id": details.feedback_id,
            "recipients": len(details.recipients),
            "suppressed_now": suppressed,
            "unreadable": len(details.recipients) - len(addresses),
        },
    )
    return FeedbackOutcome(suppressed=suppressed)


def _address(value: str) -> str:
    """The canonical address of a recipient entry (``a@b`` or ``Name <a@b>``), or ``""``."""
    _, address = parseaddr(value)
    email = normalise_email(address)
    local, at, domain = email.partition("@")
    if not (local and at and domain) or any(c.isspace() or not c.isprintable() for c in email):
        return ""
    return email
