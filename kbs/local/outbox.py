"""Every email moto's SES accepted, written once as an RFC 5322 ``.eml`` under ``DATA_DIR/outbox``.

The outbox runs in moto's own process (:mod:`kbs.local.moto_process`), so sent mail is read
straight from its SES backends (``GET /moto-api/data.json`` holds the same, but serialises every
service's state on each call, which grows with the table); once a message is on disk it is
dropped from moto's memory, which otherwise grew with the mailbox. Each message's attributes,
by class::

    RawMessage:      id, source, destinations [...], raw_data (the MIME message)
    Message:         id, source, destinations {"ToAddresses": [...], ...}, subject, body
    TemplateMessage: id, source, destinations, template, template_data

Raw messages are written as sent (attachments included), with ``Message-ID`` and ``Date``
added when missing, as SES does. Simple ones are rebuilt as a MIME message. Templated ones
are written with their template name and data (moto does not keep them rendered).

Erasure (``kbs registrants erase``, ``POST /privacy/erase``): :func:`forget` deletes the copies
addressed to the person and leaves a request (``.forget/{address hash}``, no address) that the
running outbox takes up on its next poll: it drops their messages from moto's memory too, and
never writes them again.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from kbs.local.runtime import log
from shared.web.links import email_hash

POLL_SECONDS = 0.5
FORGET_DIR = ".forget"
WRITTEN = ".written"
DIGEST_CHARS = 8
_SAFE = re.compile(r"[^A-Za-z0-9-]")
_KIND = re.compile(r"[^a-z0-9]+")


def eml_stem(data: bytes) -> str:
    """``{Date in UTC, YYYYMMDDTHHMMSSZ}-{kind}-{digest}`` of an RFC 5322 message: the kind is
    its ``X-KBS-Kind`` (``mail`` if none), the digest the first 8 hex digits of the
    :func:`~shared.web.links.email_hash` of its first ``To`` address (``nobody`` if none), so a
    name never shows an address. A missing or unreadable ``Date`` counts as now."""
    headers = BytesHeaderParser(policy=policy.default).parsebytes(data)
    try:
        when = parsedate_to_datetime(str(headers["Date"])).astimezone(UTC)
    except (TypeError, ValueError):
        when = datetime.now(UTC)
    kind = _KIND.sub("-", str(headers.get("X-KBS-Kind") or "").lower()).strip("-")[:40]
    addressed = _addresses(headers, ("To",))
    digest = email_hash(addressed[0])[:DIGEST_CHARS] if addressed else "nobody"
    return f"{when:%Y%m%dT%H%M%SZ}-{kind or 'mail'}-{digest}"


def _addresses(headers: Message, fields: tuple[str, ...]) -> list[str]:
    """The addresses (``addr_spec``) of the ``fields`` headers, in order."""
    found = []
    for field in fields:
        for value in headers.get_all(field, []):
            found += [address for _, address in getaddresses([str(value)]) if "@" in address]
    return found


@dataclass(frozen=True)
class Entry:
    """One ``.eml`` of the outbox, as :func:`entries` lists it."""

    time: datetime
    kind: str
    recipients: list[str]
    subject: str
    path: Path


def entries(directory: Path, *, to: str | None = None, kind: str | None = None) -> list[Entry]:
    """The ``.eml`` files of ``directory`` by time (``Date``, then order written), only those
    addressed to ``to`` (To, Cc or Bcc; compared canonically) or of ``X-KBS-Kind`` ``kind``
    when given. Reads the headers only."""
    wanted = email_hash(to) if to else None
    found = []
    for path in directory.glob("*.eml"):
        headers = BytesHeaderParser(policy=policy.default).parsebytes(path.read_bytes())
        recipients = _addresses(headers, ("To", "Cc", "Bcc"))
        entry_kind = str(headers.get("X-KBS-Kind") or "")
        if wanted and wanted not in {email_hash(address) for address in recipients}:
            continue
        if kind and entry_kind != kind:
            continue
        try:
            when = parsedate_to_datetime(str(headers["Date"])).astimezone(UTC)
        except (TypeError, ValueError):
            when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        subject = str(headers.get("Subject") or "")
        found.append(
            (when, path.stat().st_mtime_ns, Entry(when, entry_kind, recipients, subject, path))
        )
    return [entry for _, _, entry in sorted(found, key=lambda item: (item[0], item[1]))]


def sent_messages(skip: Callable[[str], bool] = lambda _: False) -> Iterator[tuple[str, bytes]]:
    """``(message id, RFC 5322 bytes)`` of every message moto's SES holds, in sending order,
    but those whose id ``skip`` accepts (not rendered: the outbox polls every
    :data:`POLL_SECONDS`, and rendering every message each time grew with the mailbox)."""
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
                if kind in render and not skip(message.id):
                    yield message.id, render[kind](vars(message))


def forget(directory: Path, email: str) -> int:
    """Delete the copies addressed to ``email`` and ask the running outbox to drop them from
    moto's memory (see module doc); the number of copies deleted."""
    digest = email_hash(email)
    requests = directory / FORGET_DIR
    requests.mkdir(parents=True, exist_ok=True)
    (requests / digest).touch()
    return _delete_copies(directory, {digest})


def _delete_copies(directory: Path, digests: set[str]) -> int:
    deleted = 0
    for path in directory.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if _hashes(_header_addresses(message)) & digests:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def _header_addresses(message: Message) -> set[str]:
    return set(_addresses(message, ("To", "Cc", "Bcc")))


def _hashes(addresses: set[str]) -> set[str]:
    return {email_hash(address) for address in addresses if "@" in address}


def _message_hashes(message: Any) -> set[str]:
    """The address hashes of a message moto holds (its destinations and its headers)."""
    destinations = message.destinations
    addresses = set(destinations) if isinstance(destinations, list) else set()
    if isinstance(destinations, dict):
        addresses = {a for field in destinations.values() for a in field}
    if hasattr(message, "raw_data"):
        addresses |= _header_addresses(message_from_string(message.raw_data))
    return _hashes(addresses)


def _drop_from_moto(drop: Callable[[Any], bool]) -> None:
    """Remove from moto's SES memory every sent message ``drop`` accepts."""
    from moto.ses.models import ses_backends

    for regions in list(ses_backends.values()):
        for backend in list(regions.values()):
            dropped = [m for m in backend.sent_messages if drop(m)]
            if not dropped:
                continue
            gone = {id(m) for m in dropped}
            backend.sent_messages[:] = [m for m in backend.sent_messages if id(m) not in gone]
            for message in dropped:  # moto also tracks every model it made (for /moto-api)
                with contextlib.suppress(AttributeError, ValueError):
                    type(message).instances_tracked.remove(message)


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
    """Polls moto for sent mail and writes each new message once, named by what it is.

    Names are ``{Date, UTC}-{X-KBS-Kind}-{recipient digest}.eml`` (:func:`eml_stem`), with
    ``-2``, ``-3``... when that name is taken: sorted by name is by time. The moto ids written
    are kept in ``.written``, so a message already in the directory is never written again.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._index = directory / WRITTEN
        self._written = set(self._index.read_text().split()) if self._index.exists() else set()
        self._forgotten: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kbs-outbox", daemon=True)

    def collect(self) -> list[Path]:
        """Write the messages not written yet; their paths."""
        self._take_up_forget_requests()
        written = []
        for message_id, data in sent_messages(self._was_written):
            key = _SAFE.sub("", message_id)
            path = self._free_path(eml_stem(data))
            partial = path.with_suffix(".partial")
            partial.write_bytes(data)
            partial.replace(path)  # readers never see half a message
            with self._index.open("a") as index:
                index.write(f"{key}\n")
            self._written.add(key)
            written.append(path)
        if written:  # on disk now: moto need not hold them (its memory grew with the mailbox)
            _drop_from_moto(lambda message: self._was_written(message.id))
        return written

    def _was_written(self, message_id: str) -> bool:
        return _SAFE.sub("", message_id) in self._written

    def _free_path(self, stem: str) -> Path:
        path, n = self.directory / f"{stem}.eml", 1
        while path.exists():
            n += 1
            path = self.directory / f"{stem}-{n}.eml"
        return path

    def _take_up_forget_requests(self) -> None:
        requests = list((self.directory / FORGET_DIR).glob("*"))
        if not requests:
            return
        digests = {path.name for path in requests}
        self._forgotten |= digests
        _drop_from_moto(lambda message: bool(_message_hashes(message) & self._forgotten))
        _delete_copies(self.directory, digests)  # any written since the request
        for path in requests:
            path.unlink(missing_ok=True)

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
