"""Request bodies within a limit whatever their framing: lengths, chunks, malformed framing."""

from __future__ import annotations

import io
from email.message import Message
from http.client import parse_headers

import pytest

from kbs.local.http_body import MAX_LINE_BYTES, BodyError, declared_length, read_body, read_chunked

LIMIT = 100


def headers(*lines: str) -> Message:
    return parse_headers(io.BytesIO("".join(f"{line}\r\n" for line in lines).encode() + b"\r\n"))


def chunked(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def refusal(call: object, *args: object) -> int:
    with pytest.raises(BodyError) as refused:
        call(*args)  # type: ignore[operator]
    return refused.value.status


def test_chunks_extensions_and_trailers_make_the_body() -> None:
    stream = chunked(
        b"4;name=value\r\nWiki\r\n5\r\npedia\r\nE \r\n in\r\n\r\nchunks.\r\n0\r\n"
        b"Expires: never\r\n\r\nNEXT REQUEST"
    )

    assert read_chunked(stream, LIMIT) == b"Wikipedia in\r\n\r\nchunks."
    assert stream.read() == b"NEXT REQUEST"  # exactly the body was consumed


def test_bare_line_feeds_and_upper_case_hex_are_accepted() -> None:
    assert read_chunked(chunked(b"A\nabcdefghij\n0\n\n"), LIMIT) == b"abcdefghij"


def test_chunks_over_the_limit_are_refused_before_the_chunk_is_read() -> None:
    body = b"".join(b"32\r\n" + b"x" * 50 + b"\r\n" for _ in range(1000)) + b"0\r\n\r\n"
    stream = chunked(body)

    assert refusal(read_chunked, stream, LIMIT) == 413
    assert stream.tell() <= LIMIT + 3 * len(b"32\r\n") + 2 * len(b"\r\n")


def test_a_single_huge_chunk_is_refused_without_reading_it() -> None:
    stream = chunked(b"FFFFFFFFFFFF\r\n" + b"x" * 1000)

    assert refusal(read_chunked, stream, LIMIT) == 413
    assert stream.tell() == len(b"FFFFFFFFFFFF\r\n")


def test_a_body_exactly_at_the_limit_is_read() -> None:
    assert read_chunked(chunked(b"64\r\n" + b"y" * 100 + b"\r\n0\r\n\r\n"), LIMIT) == b"y" * 100


@pytest.mark.parametrize(
    "data",
    [
        b"ZZ\r\nabc\r\n0\r\n\r\n",  # not hexadecimal
        b"-1\r\nabc\r\n0\r\n\r\n",  # negative
        b"+3\r\nabc\r\n0\r\n\r\n",  # signed
        b"0x3\r\nabc\r\n0\r\n\r\n",  # a prefix
        b"\r\nabc\r\n0\r\n\r\n",  # empty size
        b"11111111111111111\r\n",  # more than 16 digits
        b"3\r\nabcdef\r\n0\r\n\r\n",  # chunk longer than its size
        b"3\r\nab",  # cut short inside a chunk
        b"3\r\nabc",  # no line end after the chunk
        b"3\r\nabc\r\n",  # no last chunk
        b"3\r\nabc\r\n0\r\n",  # no end of trailers
        b"3;" + b"e" * MAX_LINE_BYTES + b"\r\nabc\r\n0\r\n\r\n",  # an endless size line
        b"0\r\n" + b"X-Trailer: 1\r\n" * 100 + b"\r\n",  # endless trailers
        b"",
    ],
)
def test_malformed_chunked_framing_is_a_400(data: bytes) -> None:
    assert refusal(read_chunked, chunked(data), LIMIT) == 400


def test_a_content_length_body_is_read_exactly() -> None:
    stream = io.BytesIO(b"hello worldNEXT")

    assert read_body(stream, headers("Content-Length: 11"), LIMIT) == b"hello world"
    assert stream.read() == b"NEXT"


def test_no_framing_is_no_body() -> None:
    assert read_body(io.BytesIO(b"GET / HTTP/1.1"), headers(), LIMIT) is None
    assert read_body(io.BytesIO(b""), headers("Content-Length: 0"), LIMIT) is None


def test_a_chunked_request_is_read_as_chunks() -> None:
    framing = headers("Transfer-Encoding: Chunked")

    assert declared_length(framing, LIMIT) is None
    assert read_body(chunked(b"2\r\nok\r\n0\r\n\r\n"), framing, LIMIT) == b"ok"


def test_a_declared_length_over_the_limit_is_a_413_without_reading() -> None:
    stream = io.BytesIO(b"x" * 1000)

    assert refusal(read_body, stream, headers(f"Content-Length: {LIMIT + 1}"), LIMIT) == 413
    assert stream.tell() == 0


@pytest.mark.parametrize(
    "lines",
    [
        ("Content-Length: abc",),
        ("Content-Length: -1",),
        ("Content-Length: +5",),
        ("Content-Length: 1e3",),
        ("Content-Length: ",),
        ("Content-Length: 99999999999999999999999",),
        ("Content-Length: 5", "Content-Length: 6"),
        ("Content-Length: 5, 6",),
        ("Content-Length: 5", "Transfer-Encoding: chunked"),
        ("Transfer-Encoding: gzip",),
        ("Transfer-Encoding: gzip, chunked",),
        ("Transfer-Encoding: chunked, chunked",),
    ],
)
def test_malformed_framing_headers_are_a_400(lines: tuple[str, ...]) -> None:
    assert refusal(declared_length, headers(*lines), LIMIT) == 400


def test_repeated_equal_lengths_are_one_length() -> None:
    assert declared_length(headers("Content-Length: 5", "Content-Length: 5"), LIMIT) == 5


def test_a_body_shorter_than_its_length_is_a_400() -> None:
    assert refusal(read_body, io.BytesIO(b"abc"), headers("Content-Length: 10"), LIMIT) == 400
