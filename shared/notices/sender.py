"""Sending one batch of a notice (:class:`~shared.notices.kinds.EmailBatch`): the email sender's
logic.

The batch's notice must still apply to the session, and each recipient's current registration
must still be addressed by it (:mod:`shared.notices.kinds`); each email then goes out once through
:func:`shared.mail.sending.send_once`, so a retried batch or a notice fanned out twice sends nothing
twice. SES throttling fails the batch at once (its queue retries it later and what was sent is
skipped); any other refusal fails it after the rest of the batch was sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from botocore.exceptions import ClientError

from shared.mail import sending, suppression, templates, to_registrant
from shared.materials import library
from shared.notices import message_email, messages
from shared.notices.kinds import (
    MESSAGES,
    SPECS,
    WITH_MATERIALS,
    EmailBatch,
    NoticeKind,
    addressed,
    applies,
    send_key,
)
from shared.platform import keys
from shared.platform.clients import table
from shared.platform.observability import logger
from shared.platform.settings import Settings
from shared.programme.models import Session
from shared.programme.repository import SessionNotFoundError, get_session
from shared.registrations import notification
from shared.registrations.models import Registration, RegistrationStatus
from shared.registrations.store import registration_from_item

# Rate or quota exceeded: stop now and let the queue retry the batch later.
THROTTLED = frozenset(
    {"TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException"}
)
_MAX_BATCH_GET_ATTEMPTS = 5


class Pace:
    """At most ``rate`` sends a second (``0``: unpaced): :meth:`wait` before a send sleeps
    until ``1 / rate`` seconds after the last one :meth:`sent`."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1 / rate if rate > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._next: float | None = None

    def wait(self) -> None:
        if self._next is not None and (delay := self._next - self._clock()) > 0:
            self._sleep(delay)

    def sent(self) -> None:
        self._next = self._clock() + self._interval


class NoticeRefusedError(RuntimeError):
    """SES refused some emails of the batch (not throttling): the batch is retried."""


def send_batch(batch: EmailBatch, *, settings: Settings, pace: Pace) -> int:
    """Send the batch's notices that still apply (see module doc); the number sent now."""
    try:
        session = get_session(settings.table_name, batch.session_id).session
    except SessionNotFoundError:
        logger.warning("Notice for an unknown session", extra=_facts(batch))
        return 0
    if not applies(batch.kind, session, batch.version):
        logger.info("Notice no longer applies", extra=_facts(batch))
        return 0
    message = None
    if batch.kind in MESSAGES:  # an organiser's message: its text is in the table, by id
        message = messages.get_message(settings.table_name, batch.version)
        if message is None:
            logger.warning("Organiser message not found", extra=_facts(batch))
            return 0
    uploaded = (
        library.current_materials(settings.table_name, session.session_id)
        if batch.kind in WITH_MATERIALS
        else []
    )
    sent = refused = suppressed = 0
    recipients = [
        registration
        for registration in registrations(settings.table_name, session.session_id, batch.recipients)
        if addressed(batch.kind, registration, batch.moment)
    ]
    # One BatchGetItem for the batch's suppressions; ``send_once`` checks each send against it.
    known = suppression.lookup(settings.table_name, [r.email for r in recipients])
    for registration in recipients:
        key = send_key(batch, registration)
        files = library.for_registrant(uploaded, registration, settings=settings, now=batch.moment)
        email = render(
            batch, registration, session, settings=settings, files=files, message=message
        )
        pace.wait()
        try:
            result = sending.send_once(
                settings.table_name,
                key,
                email,
                configuration_set=settings.configuration_set,
                suppressions=known,
            )
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in THROTTLED:
                raise
            logger.warning("Notice refused", extra={"send_key": key, "code": code})
            refused += 1
            continue
        suppressed += bool(result.suppressed)
        if result.sent_now:
            pace.sent()
            sent += 1
    logger.info(
        "Notice batch sent",
        extra={**_facts(batch), "sent": sent, "refused": refused, "suppressed": suppressed},
    )
    if refused:
        raise NoticeRefusedError(f"{refused} notice(s) refused by SES")
    return sent


def render(
    batch: EmailBatch,
    registration: Registration,
    session: Session,
    *,
    settings: Settings,
    files: Sequence[templates.Material],
    message: messages.Message | None = None,
) -> EmailMessage:
    """The email of ``batch``'s notice for one registrant, with its ``.ics`` if the kind has one
    (``message``: the organiser's message of a message batch, required for one: ``ValueError``)."""
    if (batch.kind in MESSAGES) != (message is not None):
        raise ValueError("an organiser's message batch renders its message, and only it")
    spec = SPECS[batch.kind]
    method = spec.calendar if registration.status is RegistrationStatus.CONFIRMED else None
    calendar = None
    if method:
        calendar = notification.invitation(
            registration, session, settings, stamp=batch.moment, method=method
        )
    return to_registrant.message(
        registration,
        session,
        settings,
        content=(
            message_email.organiser_message(registration, session, message)
            if message is not None
            else _content(batch, registration, session, settings, files, calendar=bool(calendar))
        ),
        date=batch.moment,
        calendar=calendar,
        calendar_method=method or "REQUEST",
        kind=batch.kind.value,
    )


def _content(
    batch: EmailBatch,
    registration: Registration,
    session: Session,
    settings: Settings,
    files: Sequence[templates.Material],
    *,
    calendar: bool,
) -> templates.EmailContent:
    kind = batch.kind
    if kind in (NoticeKind.REMINDER_24H, NoticeKind.REMINDER_1H):
        soon = kind is NoticeKind.REMINDER_1H
        return templates.reminder(
            registration,
            session,
            soon=soon,
            materials=files,
            cancel_url=notification.cancel_link(registration, session, settings),
            feed=notification.feed_for(registration, session, settings),
        )
    if kind is NoticeKind.LIVE:
        return templates.live(registration, session)
    if kind is NoticeKind.FOLLOW_UP:
        return templates.follow_up(
            registration, session, materials=files, feedback_url=feedback_url(session, settings)
        )
    if kind is NoticeKind.UPDATE:
        return templates.rescheduled(
            registration,
            session,
            batch.reason,
            previous_start=batch.previous_start,
            feed=notification.feed_for(registration, session, settings),
        )
    if kind is NoticeKind.MATERIALS:
        return templates.materials_available(registration, session, materials=files)
    return templates.cancelled(registration, session, reason=batch.reason, calendar=calendar)


def feedback_url(session: Session, settings: Settings) -> str:
    """The organisers' feedback form with the session's id, or else a reply to the series
    address with the session named in the subject."""
    if settings.feedback_url:
        joiner = "&" if urlsplit(settings.feedback_url).query else "?"
        return f"{settings.feedback_url}{joiner}{urlencode({'session': session.session_id})}"
    return f"mailto:{settings.sender_email}?subject={quote(f'Feedback: {session.title}')}"


def registrations(table_name: str, session_id: str, emails: Sequence[str]) -> list[Registration]:
    """The current registrations of ``emails`` in the session (BatchGetItem, at most 100)."""
    request: dict[str, Any] = {
        table_name: {
            "Keys": [
                {"PK": keys.session_pk(session_id), "SK": keys.registration_sk(email)}
                for email in dict.fromkeys(emails)
            ],
            "ConsistentRead": True,
        }
    }
    items: list[dict[str, Any]] = []
    for attempt in range(_MAX_BATCH_GET_ATTEMPTS):
        response = table(table_name).meta.client.batch_get_item(RequestItems=request)
        items.extend(response["Responses"].get(table_name, []))
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return [registration_from_item(item) for item in items]
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError("DynamoDB left keys unprocessed after retries")


def _facts(batch: EmailBatch) -> dict[str, Any]:
    """What may be logged of a batch: never its recipients."""
    return {
        "kind": batch.kind.value,
        "session_id": batch.session_id,
        "version": batch.version,
        "recipients": len(batch.recipients),
    }
