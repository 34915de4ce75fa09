"""Notices to a session's registrants: reminders, "we are live", follow-up, new time, cancellation.

A notice goes to up to thousands of registrants, so it travels in batches of at most 50
recipients through the email queue: :mod:`shared.notices.fanout` enqueues them and
:mod:`shared.notices.sender` sends one batch. Each kind says which session statuses it applies
to and who receives it; the sender checks both again, so a batch that waited in the queue
while the session changed, or a registrant cancelled, sends nothing stale.

Every email is sent once per (kind, session, version, registration): :func:`send_key`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shared.platform import keys
from shared.programme.models import AwareDatetime, Session, SessionStatus
from shared.registrations.models import Registration, RegistrationStatus

MAX_RECIPIENTS = 50
"""Recipients per batch: SES's limit per message, and a batch sent well within a minute."""


class NoticeKind(StrEnum):
    """Also the ``X-KBS-Kind`` header of the email and the name of its milestone marker."""

    REMINDER_24H = "reminder-24h"
    REMINDER_1H = "reminder-1h"
    LIVE = "live"
    FOLLOW_UP = "follow-up"
    UPDATE = "update"
    CANCELLATION = "cancellation"
    MATERIALS = "materials"
    """Materials uploaded after the follow-up: one per batch of uploads
    (shared.materials.library)."""
    MESSAGE = "message"
    """An organiser's message (``kbs message``; shared.notices.messages): a notice."""
    MESSAGE_ESSENTIAL = "message-essential"
    """An organiser's message about the session itself (``--essential``): essential mail,
    sent also to those who unsubscribed from notices."""


@dataclass(frozen=True)
class NoticeSpec:
    statuses: frozenset[SessionStatus]
    """The session statuses the notice applies to (checked at fan-out and again at sending)."""
    audience: frozenset[RegistrationStatus]
    calendar: Literal["REQUEST", "CANCEL"] | None
    """The iTIP method of the ``.ics`` attached for confirmed registrants, if any."""
    per_change: bool
    """One notice per change of the session (its sequence), else one per scheduled start."""


_CONFIRMED = frozenset({RegistrationStatus.CONFIRMED})
_OPEN = frozenset({SessionStatus.OPEN})
SPECS: dict[NoticeKind, NoticeSpec] = {
    NoticeKind.REMINDER_24H: NoticeSpec(_OPEN, _CONFIRMED, "REQUEST", per_change=False),
    NoticeKind.REMINDER_1H: NoticeSpec(_OPEN, _CONFIRMED, "REQUEST", per_change=False),
    NoticeKind.LIVE: NoticeSpec(
        frozenset({SessionStatus.LIVE}), _CONFIRMED, None, per_change=False
    ),
    NoticeKind.FOLLOW_UP: NoticeSpec(
        frozenset({SessionStatus.ENDED}), _CONFIRMED, None, per_change=False
    ),
    NoticeKind.UPDATE: NoticeSpec(_OPEN, _CONFIRMED, "REQUEST", per_change=True),
    NoticeKind.CANCELLATION: NoticeSpec(
        frozenset({SessionStatus.CANCELLED}),
        frozenset({RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED}),
        "CANCEL",
        per_change=True,
    ),
    # Its version names the batch of uploads
    # (``shared.materials.announcements.Announcement.version``).
    NoticeKind.MATERIALS: NoticeSpec(
        frozenset({SessionStatus.ENDED}), _CONFIRMED, None, per_change=False
    ),
    # An organiser's message: its audience was chosen at fan-out (shared.notices.messages);
    # sending re-checks only that the person still holds a place or a waitlist entry.
    **{
        kind: NoticeSpec(
            frozenset(SessionStatus),
            frozenset({RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED}),
            None,
            per_change=False,
        )
        for kind in (NoticeKind.MESSAGE, NoticeKind.MESSAGE_ESSENTIAL)
    },
}
MESSAGES = frozenset({NoticeKind.MESSAGE, NoticeKind.MESSAGE_ESSENTIAL})
"""Organiser messages: their version is the message id, their text in the table."""


WITH_MATERIALS = frozenset(
    {NoticeKind.REMINDER_24H, NoticeKind.REMINDER_1H, NoticeKind.FOLLOW_UP, NoticeKind.MATERIALS}
)
"""Kinds listing the session's current materials, each with the registrant's own link."""


def version(kind: NoticeKind, session: Session) -> str:
    """What one notice of ``kind`` is about: the session's change, or its scheduled start."""
    if SPECS[kind].per_change:
        return f"sequence-{session.sequence}"
    return keys.sortable_time(session.start)


class EmailBatch(BaseModel):
    """The body of one email queue message: one notice to up to 50 registrants of a session."""

    kind: NoticeKind
    session_id: str
    version: str
    moment: AwareDatetime
    """Registrations made after this moment are left out: their confirmation covered it."""
    reason: Annotated[str, Field(max_length=500)] = ""
    previous_start: AwareDatetime | None = None
    """An update that moved the session: where it was (the email shows old and new time)."""
    recipients: Annotated[list[str], Field(min_length=1, max_length=MAX_RECIPIENTS)]
    """Canonical addresses (registration keys); never logged."""


def applies(kind: NoticeKind, session: Session, notice_version: str) -> bool:
    """Whether a notice of ``kind`` at ``notice_version`` is still true of ``session``."""
    if session.status not in SPECS[kind].statuses:
        return False
    # A materials notice is about a batch of uploads, not about the session's time or change.
    # An organiser's message is about itself (its version is the message id).
    if kind is NoticeKind.MATERIALS or kind in MESSAGES:
        return True
    return version(kind, session) == notice_version


def addressed(kind: NoticeKind, registration: Registration, moment: datetime) -> bool:
    """Whether ``registration`` receives a notice of ``kind`` sent for ``moment``.

    The one place deciding who gets a notice by status and time. Suppression (bounces,
    complaints, unsubscribes) is checked for every email, notices included, in
    :func:`shared.mail.sending.send_once`.
    """
    return registration.status in SPECS[kind].audience and registration.registered_at <= moment


def send_key(batch: EmailBatch, registration: Registration) -> str:
    """One email per (kind, session, version, registration); no address in it."""
    return f"{batch.kind.value}#{batch.session_id}#{batch.version}#{registration.reference}"
