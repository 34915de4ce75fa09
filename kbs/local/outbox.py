"""Every email moto's SES accepted, written once as an RFC 5322 ``.eml`` under ``DATA_DIR/outbox``.

moto runs inside the ``kbs serve`` process, so sent mail is read straight from its SES
backends (``GET /moto-api/data.json`` holds the same, but serialises every service's state on
each call, which grows with the table). Each message's attributes, by class::

    RawMessage:      id, source, destinations [...], raw_data (the MIME message)
    Message:         id, source, destinations {"ToAddresses": [...], ...}, subject, body
    TemplateMessage: id, source, destinations, template, template_data

Raw messages are written as sent (attachments included), with ``Message-ID`` and ``Date``
added when missing, as SES does. Simple ones are rebuilt as a MIME message. Templated ones
are written with their template name and data (moto does not keep them rendered).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from kbs.local.runtime import log

POLL_SECONDS = 0.5
_SAFE = re.compile(r"[^A-Za-z0-9-]")


def sent_messages() -> Iterator[tuple[str, bytes]]:
    """``(message id, RFC 5322 bytes)`` of every message moto's SES holds, in sending order."""
    from moto.ses.models import Message, RawMessage, TemplateMessage, ses_backends

    render: dict[type, Callable[[dict[str, Any]], bytes]] = {
        RawMessage: _raw,
        Message: _simple,
        TemplateMessage: _templated,
    }
    for regions in list(ses_backends.values()):
        for backend in list(regions.values()):
            for message in list(backend.sent_messages):
                kind = type(message)
                if kind in render:
                    yield message.id, render[kind](vars(message))


def _raw(message: dict[str, Any]) -> bytes:
    text = message["raw_data"].replace("\r\n", "\n")
    head = text.split("\n\n", 1)[0].lower()
    added = "" if "\nmessage-id:" in f"\n{head}" else f"Message-ID: {_message_id(message)}\n"
    added += "" if "\ndate:" in f"\n{head}" else f"Date: {format_datetime(datetime.now(UTC))}\n"
    return (added + text).replace("\n", "\r\n").encode()


def _simple(message: dict[str, Any]) -> bytes:
    email = _headers(message, message["destinations"], message["subject"])
    body = message["body"]
    email.set_content(body, subtype="html" if body.lstrip().startswith("<") else "plain")
    return email.as_bytes()


def _templated(message: dict[str, Any]) -> bytes:
    email = _headers(message, message["destinations"], f"[template {message['template']}]")
    email["X-SES-Template"] = message["template"]
    email.set_content(f"Template data (not rendered by moto):\n{message['template_data']}\n")
    return email.as_bytes()


def _headers(
    message: dict[str, Any], destinations: dict[str, list[str]], subject: str
) -> EmailMessage:
    email = EmailMessage()
    email["Message-ID"] = _message_id(message)
    email["Date"] = format_datetime(datetime.now(UTC))
    email["From"] = message["source"]
    for field, header in (("ToAddresses", "To"), ("CcAddresses", "Cc"), ("BccAddresses", "Bcc")):
        if destinations.get(field):
            email[header] = ", ".join(destinations[field])
    email["Subject"] = subject
    return email


def _message_id(message: dict[str, Any]) -> str:
    return f"<{message['id']}@local.amazonses.com>"


class Outbox:
    """Polls moto for sent mail and writes each new message once, with a sortable name.

    Names are ``{UTC time first seen}-{n}-{message id}.eml``: sorted by name is sent order,
    and a message already in the directory (by id) is never written again.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._written = {path.stem.split("-", 2)[-1] for path in directory.glob("*.eml")}
        self._count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kbs-outbox", daemon=True)

    def collect(self) -> list[Path]:
        """Write the messages not written yet; their paths."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        written = []
        for message_id, data in sent_messages():
            key = _SAFE.sub("", message_id)
            if key in self._written:
                continue
            self._count += 1
            path = self.directory / f"{stamp}-{self._count:05d}-{key}.eml"
            partial = path.with_suffix(".partial")
            partial.write_bytes(data)
            partial.replace(path)  # readers never see half a message
            self._written.add(key)
            written.append(path)
        return written

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop polling, after a last collection (mail sent just before the stop)."""
        self._stop.set()
        self._thread.join()
        self._collect_logging_errors()

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self._collect_logging_errors()

    def _collect_logging_errors(self) -> None:
        try:
            self.collect()
        except OSError as exc:  # moto busy or gone: the next poll tries again
            log.warning("outbox: cannot read moto's sent mail: %s", exc)
