"""Fan-out: one notice to every registrant it addresses, as batches on the email queue.

Recipients are read with a Query on the session's partition (paginated, never a Scan), split
into batches of at most :data:`~shared.notices.kinds.MAX_RECIPIENTS` and sent to the queue with
SendMessageBatch (10 messages a call, failed entries resent). The work is cut so that no
function runs long: a 10,000-registrant session is 200 messages enqueued in seconds, and the
email sender takes them one batch at a time at the SES rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.notices.kinds import MAX_RECIPIENTS, EmailBatch, NoticeKind, addressed, version
from shared.platform.clients import client
from shared.programme.models import Session
from shared.registrations.store import session_registrations

MAX_ENTRIES_PER_CALL = 10  # SendMessageBatch limit
MAX_ATTEMPTS = 4


class EnqueueError(RuntimeError):
    """SQS did not accept every message after retries: the fan-out must be retried."""


@dataclass(frozen=True)
class FanOut:
    recipients: int
    batches: int


def fan_out(
    table_name: str,
    queue_url: str,
    kind: NoticeKind,
    session: Session,
    *,
    moment: datetime,
    reason: str = "",
    notice_version: str | None = None,
    previous_start: datetime | None = None,
) -> FanOut:
    """Enqueue notice ``kind`` of ``session`` for every registrant it addresses at ``moment``
    (``notice_version``: what it is about, if not the session's time or change)."""
    recipients = [
        registration.email
        for registration in session_registrations(table_name, session.session_id)
        if addressed(kind, registration, moment)
    ]
    batches = [
        EmailBatch(
            kind=kind,
            session_id=session.session_id,
            version=notice_version or version(kind, session),
            moment=moment,
            reason=reason,
            previous_start=previous_start,
            recipients=recipients[start : start + MAX_RECIPIENTS],
        )
        for start in range(0, len(recipients), MAX_RECIPIENTS)
    ]
    enqueue(queue_url, batches)
    return FanOut(recipients=len(recipients), batches=len(batches))


def enqueue(queue_url: str, batches: Sequence[EmailBatch]) -> None:
    """Send each batch as one message, 10 per call, resending entries that failed."""
    bodies = [batch.model_dump_json() for batch in batches]
    for start in range(0, len(bodies), MAX_ENTRIES_PER_CALL):
        pending = {
            str(i): body for i, body in enumerate(bodies[start : start + MAX_ENTRIES_PER_CALL])
        }
        for _ in range(MAX_ATTEMPTS):
            response = client("sqs").send_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": key, "MessageBody": body} for key, body in pending.items()],
            )
            failed = {entry["Id"] for entry in response.get("Failed", [])}
            pending = {key: body for key, body in pending.items() if key in failed}
            if not pending:
                break
        else:
            raise EnqueueError(f"{len(pending)} batch(es) rejected by SQS after retries")
