"""Organisers' messages to a session's people (``kbs message``), through the notice path.

A message (subject, plain-text body, optionally a subject and a body per language, audience,
essential or not) is stored in the table under
its id, a SHA-256 digest of all of them and the session (``PK=MESSAGE#{id}``,
:mod:`shared.platform.keys`), so the same message sent twice is one message. Its recipients are
chosen here (:func:`recipients`) and enqueued in batches of 50 on the email queue
(:mod:`shared.notices.fanout`), each batch carrying only the id: the email sender reads the
body from the table. Each email goes out once per (message, registration)
(:func:`shared.notices.kinds.send_key`), so a replayed batch or a repeated command sends nothing
twice. Suppression applies as for any email: a message is a notice (unsubscribes stop it) unless
``essential`` (about the session itself: a changed link, a room change), which only bounces and
complaints stop (:mod:`shared.mail.suppression`).

Each recipient is written to in their registration's language (:mod:`shared.notices.message_email`):
the greeting, the framing and the footers are translated, and the subject and the body are the
ones given for their language, else the defaults.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field

from shared.attendance.store import session_attendance
from shared.i18n.languages import SUPPORTED, resolve
from shared.notices.fanout import FanOut, enqueue
from shared.notices.kinds import MAX_RECIPIENTS, EmailBatch, NoticeKind
from shared.platform import keys
from shared.platform.clients import table
from shared.platform.observability import logger
from shared.programme.models import AwareDatetime, Session
from shared.registrations.models import Registration, RegistrationStatus
from shared.registrations.store import session_registrations

MAX_BODY_BYTES = 20_000
MAX_SUBJECT = 200


class MessageError(ValueError):
    """The message cannot be sent as given (empty or oversized body, not UTF-8, bad subject)."""


class Audience(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    ATTENDED = "attended"
    """Holding a place, with an attendance record of more than 0 minutes."""
    ABSENT = "absent"
    """Confirmed, with no such record (no-shows, once attendance is recorded)."""
    ALL = "all"
    """Confirmed and waitlisted (never those who cancelled)."""


class Message(BaseModel):
    message_id: str
    session_id: str
    subject: Annotated[str, Field(min_length=1, max_length=MAX_SUBJECT)]
    """The default subject: for every recipient whose language has none in ``subjects``."""
    subjects: dict[str, str] = Field(default_factory=dict)
    """Subjects by language code, as ``bodies``."""
    body: str
    """The default body: for every recipient whose language has none in ``bodies``."""
    bodies: dict[str, str] = Field(default_factory=dict)
    """Bodies by language code (:data:`shared.i18n.languages.SUPPORTED`), e.g. ``{"fr": ...}``."""
    audience: Audience
    essential: bool = False
    created_at: AwareDatetime

    def subject_for(self, language: str | None) -> str:
        """The subject for a registrant's ``language`` tag, else the default subject."""
        return self.subjects.get(resolve(language)) or self.subject

    def body_for(self, language: str | None) -> str:
        """The body for a registrant's ``language`` tag (``fr-BE`` -> the ``fr`` body), else
        the default body."""
        return self.bodies.get(resolve(language)) or self.body

    @property
    def kind(self) -> NoticeKind:
        return NoticeKind.MESSAGE_ESSENTIAL if self.essential else NoticeKind.MESSAGE


def read_body(path: Path) -> str:
    """The body file's text: UTF-8, not blank, at most :data:`MAX_BODY_BYTES` bytes.

    Raises :class:`MessageError` otherwise (and ``OSError`` if it cannot be read)."""
    data = path.read_bytes()
    if len(data) > MAX_BODY_BYTES:
        raise MessageError(f"the body file is {len(data)} bytes; at most {MAX_BODY_BYTES}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MessageError(f"the body file is not UTF-8 text ({exc.reason})") from exc
    if not text.strip():
        raise MessageError("the body file is empty")
    return text


def language_code(text: str) -> str:
    """A per-language body's language code, lower-cased: one of
    :data:`shared.i18n.languages.SUPPORTED`. Raises :class:`MessageError` for any other (a
    regional tag such as ``fr-BE`` too: a body is for every registrant of its language)."""
    code = text.strip().lower()
    if code not in SUPPORTED:
        raise MessageError(
            f"unknown language code {text!r}: use one of {', '.join(SUPPORTED)}; nothing was sent"
        )
    return code


def compose(
    session_id: str,
    subject: str,
    body: str,
    audience: Audience,
    *,
    essential: bool,
    now: datetime,
    bodies: Mapping[str, str] | None = None,
    subjects: Mapping[str, str] | None = None,
) -> Message:
    """The message, its id a digest of what it says and to whom. ``subject`` and ``body`` are
    the defaults; ``subjects`` and ``bodies`` by language code (:func:`language_code`) go to the
    registrants of that language. Raises :class:`MessageError` for a subject that is blank,
    longer than :data:`MAX_SUBJECT` or holds control characters, or an unknown language code."""
    subject = _subject(subject)
    by_language = {language_code(code): text for code, text in (bodies or {}).items()}
    titled = {language_code(code): _subject(text) for code, text in (subjects or {}).items()}
    said: list[Any] = [session_id, subject, body, audience.value, essential]
    if by_language or titled:  # a message without them keeps the id it always had
        said += [sorted(by_language.items()), sorted(titled.items())]
    digest = hashlib.sha256(json.dumps(said).encode()).hexdigest()[:32]
    return Message(
        message_id=digest,
        session_id=session_id,
        subject=subject,
        subjects=titled,
        body=body,
        bodies=by_language,
        audience=audience,
        essential=essential,
        created_at=now,
    )


def _subject(text: str) -> str:
    subject = text.strip()
    if not subject or len(subject) > MAX_SUBJECT or not subject.isprintable():
        raise MessageError(f"the subject must be one line of 1 to {MAX_SUBJECT} characters")
    return subject


def recipients(table_name: str, message: Message) -> list[Registration]:
    """The session's registrations the message addresses (Query on the session's partition),
    by address."""
    people = session_registrations(table_name, message.session_id)
    attended: set[str] = set()
    if message.audience in (Audience.ATTENDED, Audience.ABSENT):
        attended = {
            a.email for a in session_attendance(table_name, message.session_id) if a.minutes > 0
        }
    confirmed = RegistrationStatus.CONFIRMED
    chosen = {
        Audience.CONFIRMED: lambda r: r.status is confirmed,
        Audience.WAITLISTED: lambda r: r.status is RegistrationStatus.WAITLISTED,
        Audience.ATTENDED: lambda r: r.status is confirmed and r.email in attended,
        Audience.ABSENT: lambda r: r.status is confirmed and r.email not in attended,
        Audience.ALL: lambda r: r.status is not RegistrationStatus.CANCELLED,
    }[message.audience]
    return sorted((r for r in people if chosen(r)), key=lambda r: r.email)


def send(table_name: str, queue_url: str, message: Message, session: Session) -> FanOut:
    """Store the message (the same id: the same item) and enqueue its batches; the counts."""
    table(table_name).put_item(Item=_item(message))
    addressed = [r.email for r in recipients(table_name, message)]
    batches = [
        EmailBatch(
            kind=message.kind,
            session_id=session.session_id,
            version=message.message_id,
            moment=message.created_at,
            recipients=addressed[start : start + MAX_RECIPIENTS],
        )
        for start in range(0, len(addressed), MAX_RECIPIENTS)
    ]
    enqueue(queue_url, batches)
    logger.info(
        "Organiser message enqueued",
        extra={
            "message_id": message.message_id,
            "session_id": session.session_id,
            "audience": message.audience.value,
            "essential": message.essential,
            "recipients": len(addressed),
        },
    )
    return FanOut(recipients=len(addressed), batches=len(batches))


def get_message(table_name: str, message_id: str) -> Message | None:
    """The stored message (GetItem), or None."""
    item = (
        table(table_name)
        .get_item(Key={"PK": keys.message_pk(message_id), "SK": keys.MESSAGE_SK})
        .get("Item")
    )
    return Message.model_validate(item) if item else None


def _item(message: Message) -> dict[str, Any]:
    return {
        "PK": keys.message_pk(message.message_id),
        "SK": keys.MESSAGE_SK,
        "type": "message",
        **message.model_dump(mode="json"),
    }
