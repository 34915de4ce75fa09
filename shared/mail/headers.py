"""Email headers that user text cannot shape: our own encoding, and a check of the bytes sent.

Why not the email package's header objects: assigning ``message["To"] = Address(...)`` renders
the address to text and parses it again, and that parser *decodes* RFC 2047 encoded words. A
name such as ``=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil.example?=`` thus became a raw line break and a
real ``Bcc:`` header (issue 12, item 1). So every header that carries text from outside (names,
session titles, file names) is written here as plain ASCII, stored with ``set_raw`` and never
reparsed: a quoted-string for a printable ASCII name, RFC 2047 base64 encoded words for anything
else (non-ASCII, or anything looking like an encoded word already), folded at 78 characters.

Belt and braces: :func:`verify` parses the serialised bytes as a mail server would and checks
that the recipients and the header names are exactly the ones intended; anything else raises
:class:`UnsafeMessageError` and nothing is sent.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from email import message_from_bytes, policy
from email.message import EmailMessage, Message

MAX_LINE = 78
"""Folded header lines stay within RFC 5322's recommended 78 characters."""
_ENCODED_CHUNK_BYTES = 45
"""UTF-8 bytes per encoded word: 60 base64 characters, 72 with ``=?utf-8?b?``/``?=`` (<= 75)."""
_ADDR_SPEC = re.compile(
    r"(?!.*(?:=\?|\?=))"  # nothing a parser could take for an encoded word
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
"""An ASCII dot-atom ``@`` a host name, without ``=?`` or ``?=``: nothing a parser could decode or
split (the addresses :func:`shared.registrations.intake.check_email` admits)."""
FORBIDDEN_HEADERS = frozenset({"cc", "bcc", "reply-to", "sender", "resent-to", "resent-cc"})
"""Headers kbs never sets: their presence in the bytes means something was injected."""


class UnsafeMessageError(ValueError):
    """A message whose serialised bytes do not say exactly what was built: never sent."""


def one_line(value: str) -> str:
    """One line of header text: control characters (CR, LF, ...) become spaces, runs of spaces
    one space, no leading or trailing space."""
    return " ".join("".join(c if c.isprintable() else " " for c in value).split())


def addr_spec(value: str) -> str:
    """``value`` if it is a plain ASCII address (dot-atom ``@`` host name), else ``ValueError``.

    Intake (:func:`shared.registrations.intake.check_email`) admits less than this; organiser and
    sender addresses come from configuration."""
    if not _ADDR_SPEC.fullmatch(value):
        raise ValueError("invalid email address")
    return value


def address(display_name: str, addr: str) -> str:
    """An address header value ``"Name" <addr>`` (or encoded words), pure ASCII, folded."""
    name = one_line(display_name)
    spec = f"<{addr_spec(addr)}>"
    if not name:
        return spec
    if _plain(name):
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return _fold([f'"{quoted}"', spec], first_line_used=len("From: "), split_words=True)
    return _fold([*_encoded_words(name), spec], first_line_used=len("From: "))


def text(value: str, *, name: str = "Subject") -> str:
    """An unstructured header value (``Subject``): plain ASCII as is, else encoded words."""
    line = one_line(value)
    if _plain(line):
        return _fold([line], first_line_used=len(name) + 2, split_words=True)
    return _fold(_encoded_words(line), first_line_used=len(name) + 2)


def verify(
    message: EmailMessage,
    *,
    sender: str,
    recipients: Sequence[str],
    recipient_name: str | None = None,
    subject: str | None = None,
) -> bytes:
    """``message`` serialised, once checked as a receiving server would read it.

    The top-level header names must be exactly the message's own (case-insensitive, in order),
    its MIME parts the same types with no preamble, ``From`` exactly ``sender``, ``To`` exactly
    ``recipients`` (one header), no :data:`FORBIDDEN_HEADERS`; when given, the ``To`` display
    name and the subject must read back as ``recipient_name`` and ``subject`` (after
    :func:`one_line`; the name's spaces aside: Python's parser keeps the fold between two encoded
    words of a name as a space, where RFC 2047 section 6.2 drops it). Raises
    :class:`UnsafeMessageError` naming what differs (never the addresses)."""
    data = message.as_bytes()
    parsed = message_from_bytes(data, policy=policy.default)
    names = [str(key).lower() for key in parsed]
    if names != [str(n).lower() for n in message]:
        raise UnsafeMessageError("the serialised headers are not the ones built")
    if _structure(parsed) != _structure(message):
        raise UnsafeMessageError("the serialised body is not the one built")
    forbidden = FORBIDDEN_HEADERS.intersection(names)
    if forbidden:
        raise UnsafeMessageError(f"unexpected headers {sorted(forbidden)}")
    for field, expected in (("From", [sender]), ("To", list(recipients))):
        values = parsed.get_all(field) or []
        if len(values) != 1 or values[0].defects:
            raise UnsafeMessageError(f"{field} is not one well-formed header")
        if [a.addr_spec for a in values[0].addresses] != expected:
            raise UnsafeMessageError(f"{field} does not hold exactly the intended address")
    if recipient_name is not None:
        shown = [_unspaced(a.display_name) for a in parsed["To"].addresses]
        if shown != [_unspaced(one_line(recipient_name))]:
            raise UnsafeMessageError("To does not show the intended name")
    if subject is not None and str(parsed["Subject"]) != one_line(subject):
        raise UnsafeMessageError("the subject does not read back as built")
    return data


def _structure(message: Message) -> list[tuple[str, bool]]:
    """Each MIME part's type and whether it has a preamble (kbs never writes one)."""
    return [(part.get_content_type(), bool(part.preamble)) for part in message.walk()]


def _unspaced(value: str) -> str:
    return "".join(value.split())


def _plain(value: str) -> bool:
    """Printable ASCII with nothing a parser could take for an encoded word."""
    return value.isascii() and value.isprintable() and "=?" not in value and "?=" not in value


def _encoded_words(value: str) -> list[str]:
    """``value`` as RFC 2047 ``B`` encoded words, never splitting a character."""
    words: list[bytes] = []
    chunk = b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > _ENCODED_CHUNK_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words if w]


def _fold(tokens: list[str], *, first_line_used: int, split_words: bool = False) -> str:
    """``tokens`` joined by spaces, a fold (newline + space) before one that would pass
    :data:`MAX_LINE`; ``split_words`` also lets plain text fold at its own spaces."""
    words = [w for t in tokens for w in (t.split(" ") if split_words else [t])]
    lines: list[str] = []
    current, used = "", first_line_used
    for word in words:
        if current and used + len(current) + 1 + len(word) > MAX_LINE:
            lines.append(current)
            current, used = word, 1
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return "\n ".join(lines)
