"""Erasure tombstones: a submission replayed after an erasure must not bring the data back.

EventBridge's archive replays events for 30 days and queues redeliver for days, so an erased
registrant's old "Registration Submitted" could arrive again. An erasure therefore leaves
``PK=ERASED#{digest} SK=ERASURE`` with the time it happened, keyed by a SHA-256 digest of the
canonical address (the address itself is not stored), and expiring after :data:`REPLAY_WINDOW`.
The registration processor drops a submission made at or before that time; a new submission,
made after the erasure, is the person's own new request and is booked as usual.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from shared.platform import keys
from shared.platform.clients import table
from shared.registrations.models import normalise_email

REPLAY_WINDOW = timedelta(days=45)
"""Longer than the bus archive's 30 days and a queue's 14 days of retention."""


def digest(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def record(table_name: str, email: str, *, at: datetime) -> None:
    """Remember that ``email`` was erased at ``at`` (a later erasure moves the time on)."""
    table(table_name).put_item(
        Item={
            "PK": keys.erasure_pk(digest(email)),
            "SK": keys.ERASURE_SK,
            "type": "erasure",
            "erased_at": at.astimezone(UTC).isoformat(),
            "expiration": int((at + REPLAY_WINDOW).timestamp()),
        }
    )


def erased_since(table_name: str, email: str, submitted_at: datetime) -> bool:
    """Whether ``email`` was erased at or after ``submitted_at`` (the submission is stale)."""
    item = (
        table(table_name)
        .get_item(
            Key={"PK": keys.erasure_pk(digest(email)), "SK": keys.ERASURE_SK}, ConsistentRead=True
        )
        .get("Item")
    )
    if item is None:
        return False
    return submitted_at <= datetime.fromisoformat(str(item["erased_at"]))
