"""Request bodies read within a limit, whatever their framing (RFC 9112 section 6).

A body is framed by ``Content-Length`` or by ``Transfer-Encoding: chunked``. The limit is
checked before reading a declared length and while reading chunks, so an oversize body is
refused after at most ``limit`` bytes, never read whole into memory. Every malformed framing
is refused: a length that is not a decimal number (or several that differ), a chunk size that
is not hexadecimal, a chunk not followed by its line end, a body cut short, a transfer coding
other than ``chunked``, and both headers at once (a request smuggling vector, RFC 9112 6.3).

Errors are :class:`BodyError`: 413 for a body over the limit (as API Gateway answers a
payload over its 10 MB quota), 400 for malformed framing.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Protocol

MAX_LINE_BYTES = 4096  # a chunk-size line (with extensions) or a trailer line
MAX_TRAILER_LINES = 64
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DECIMAL = re.compile(r"[0-9]{1,19}")
_LINE_ENDS = (b"\r\n", b"\n")


class Reader(Protocol):
    """A buffered binary stream, as a request handler's ``rfile``."""

    def read(self, size: int, /) -> bytes: ...

    def readline(self, size: int, /) -> bytes: ...


class BodyError(Exception):
    """A body the server refuses: ``status`` (400 or 413) and API Gateway's ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


def too_large() -> BodyError:
    return BodyError(413, "Request Entity Too Large")


def malformed() -> BodyError:
    return BodyError(400, "Bad Request")


def declared_length(headers: Message, limit: int) -> int | None:
    """The body's framing: its ``Content-Length`` (0 if none), or None if chunked.

    Raises :class:`BodyError` 400 if the framing is malformed, 413 if the declared length
    is over ``limit`` bytes.
    """
    codings = [
        coding.strip().lower()
        for value in headers.get_all("transfer-encoding") or []
        for coding in value.split(",")
        if coding.strip()
    ]
    lengths = {
        value.strip()
        for header in headers.get_all("content-length") or []
        for value in header.split(",")
    }
    if codings:
        if codings != ["chunked"] or lengths:
            raise malformed()
        return None
    if not lengths:
        return 0
    if len(lengths) > 1 or not _DECIMAL.fullmatch(length := lengths.pop()):
        raise malformed()
    if int(length) > limit:
        raise too_large()
    return int(length)


def read_body(rfile: Reader, headers: Message, limit: int) -> bytes | None:
    """The request body (None if there is none), at most ``limit`` bytes.

    Raises :class:`BodyError` as :func:`declared_length` and :func:`read_chunked` do, and
    400 if the stream ends before the declared length.
    """
    length = declared_length(headers, limit)
    if length is None:
        return read_chunked(rfile, limit)
    if not length:
        return None
    body = rfile.read(length)
    if len(body) < length:
        raise malformed()
    return body


def read_chunked(rfile: Reader, limit: int) -> bytes:
    """A chunked body (RFC 9112 7.1), its trailers read and dropped; at most ``limit`` bytes.

    Raises :class:`BodyError` 413 as soon as the chunks so far and the next chunk's declared
    size exceed ``limit`` (before reading that chunk), 400 on malformed framing or a
    stream that ends early.
    """
    body = bytearray()
    while size := _chunk_size(_line(rfile)):
        if len(body) + size > limit:
            raise too_large()
        chunk = rfile.read(size)
        if len(chunk) < size or _line(rfile) not in _LINE_ENDS:
            raise malformed()
        body += chunk
    for _ in range(MAX_TRAILER_LINES):
        if _line(rfile) in _LINE_ENDS:
            return bytes(body)
    raise malformed()


def _chunk_size(line: bytes) -> int:
    size = line.split(b";", 1)[0].strip(b" \t\r\n")
    if not _HEX.fullmatch(size):
        raise malformed()
    return int(size, 16)


def _line(rfile: Reader) -> bytes:
    """One line with its end; 400 if it is too long or the stream ends first."""
    line = rfile.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES or not line.endswith(b"\n"):
        raise malformed()
    return line
