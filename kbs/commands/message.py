"""``kbs message SESSION --subject TEXT --body-file FILE``: an organiser's message to a
session's people, through the notice path (the email queue, sent once per message and person,
suppression and unsubscribe respected: :mod:`shared.notices.messages`).

Each recipient gets the greeting, framing and footers in their registration's language. Bodies
per language: ``--body-file fr=msg.fr.txt --body-file de=msg.de.txt`` beside the default
``--body-file msg.txt``, which every other language gets (without it, the ``en=`` body is the
default); subjects likewise (``--subject "Room change" --subject "fr=Changement de salle"``).
An unknown language code, a language given twice, or no default is refused and nothing is sent.

``--essential`` is for a message about the session itself (a changed link, a room change): it
reaches people who unsubscribed from notices too, and is logged as such. ``--dry-run`` sends
nothing: it prints the recipients' count and the text part of the first one's email.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kbs import target as targets
from shared.i18n.languages import ENGLISH, SUPPORTED

if TYPE_CHECKING:
    from shared.notices.messages import Message
    from shared.platform.settings import Settings
    from shared.programme.models import Session

AUDIENCES = ("confirmed", "waitlisted", "attended", "absent", "all")
_LANG_PREFIX = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
"""What before a ``=`` is taken for a language code (then checked: unknown ones refused)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("message", help="email a session's people (once each)")
    parser.add_argument("session_id")
    parser.add_argument(
        "--subject",
        required=True,
        action="append",
        metavar="[LANG=]TEXT",
        help="one line; repeat with LANG=TEXT for a subject in one language, as --body-file",
    )
    parser.add_argument(
        "--body-file",
        required=True,
        action="append",
        metavar="[LANG=]FILE",
        help=(
            "plain UTF-8 text, paragraphs at blank lines. Repeat with LANG=FILE for a body "
            f"in one language ({', '.join(SUPPORTED)}), e.g. --body-file msg.txt "
            "--body-file fr=msg.fr.txt: registrants of that language get it, every other "
            "registrant the FILE without LANG= (else the en= one)"
        ),
    )
    parser.add_argument("--to", choices=AUDIENCES, default="confirmed")
    parser.add_argument(
        "--essential",
        action="store_true",
        help="about the session itself: also to those unsubscribed from notices",
    )
    parser.add_argument("--dry-run", action="store_true", help="count and show, send nothing")
    targets.add_target_arguments(parser)
    parser.set_defaults(func=message_command)


def message_command(args: argparse.Namespace) -> int:
    from shared.notices import messages
    from shared.programme.repository import SessionNotFoundError, get_session

    try:
        subject, subjects = by_language(args.subject, "--subject", str)
        body, bodies = by_language(
            args.body_file, "--body-file", lambda path: messages.read_body(Path(path))
        )
    except (messages.MessageError, OSError) as exc:
        print(f"kbs: {exc}", file=sys.stderr)
        return 2
    target = targets.resolve(args)
    try:
        session = get_session(target.table, args.session_id).session
    except SessionNotFoundError:
        print(f"kbs: no session {args.session_id}", file=sys.stderr)
        return 2
    settings = target.settings()
    try:
        message = messages.compose(
            session.session_id,
            subject,
            body,
            messages.Audience(args.to),
            essential=args.essential,
            now=target.now(),
            bodies=bodies,
            subjects=subjects,
        )
    except messages.MessageError as exc:
        print(f"kbs: {exc}", file=sys.stderr)
        return 2
    kind = "essential message" if args.essential else "notice"
    if args.dry_run:
        return _dry_run(message, session, settings, kind)
    if not settings.email_batches_queue_url:
        print("kbs: the target names no email queue (KBS_EMAIL_BATCHES_QUEUE_URL)", file=sys.stderr)
        return 2
    fanned = messages.send(settings.table_name, settings.email_batches_queue_url, message, session)
    print(
        f"Message {message.message_id} ({kind}) queued for {fanned.recipients} recipient(s) "
        f"in {fanned.batches} batch(es); each is emailed once, suppressions respected."
    )
    return 0


def by_language(
    options: list[str], option: str, read: Callable[[str], str]
) -> tuple[str, dict[str, str]]:
    """The default and the by-language values of a repeated ``option`` (``--subject`` or
    ``--body-file``), each ``VALUE`` or ``LANG=VALUE`` and read by ``read`` (a file's text, or the
    text itself). A ``LANG=`` prefix is letters (and dashes) before the first ``=``; any other
    ``=`` is part of the value. Without a default, the ``en=`` value is the default.

    Raises ``MessageError`` for an unknown language code, one given twice, two defaults or
    none (and whatever ``read`` raises: :func:`shared.notices.messages.read_body`)."""
    from shared.notices import messages

    default: str | None = None
    values: dict[str, str] = {}
    for given in options:
        prefix, equals, rest = given.partition("=")
        if equals and _LANG_PREFIX.fullmatch(prefix):
            code = messages.language_code(prefix)
            if code in values:
                raise messages.MessageError(f"{option} given twice for {code}; nothing was sent")
            values[code] = read(rest)
        elif default is not None:
            raise messages.MessageError(
                f"two default {option} values: give the other languages as LANG=...; "
                "nothing was sent"
            )
        else:
            default = read(given)
    if default is None:
        default = values.get(ENGLISH)
    if default is None:
        raise messages.MessageError(
            f"no default {option} for the other languages: add one without LANG= "
            "(or en=...); nothing was sent"
        )
    return default, values


def _dry_run(message: Message, session: Session, settings: Settings, kind: str) -> int:
    from shared.notices import messages
    from shared.notices.kinds import EmailBatch
    from shared.notices.sender import render

    people = messages.recipients(settings.table_name, message)
    print(f"Dry run: {len(people)} recipient(s) for this {kind} (before suppressions).")
    if people:
        batch = EmailBatch(
            kind=message.kind,
            session_id=session.session_id,
            version=message.message_id,
            moment=message.created_at,
            recipients=[people[0].email],
        )
        email = render(batch, people[0], session, settings=settings, files=[], message=message)
        text = email.get_body(preferencelist=("plain",))
        print(f"Subject: {email['Subject']}\n")
        print(text.get_content() if text is not None else "")
    return 0
