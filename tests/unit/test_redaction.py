"""The Powertools Logger masks email addresses in every part of a log line."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from shared.platform.observability import REDACTED_EMAIL, logger, redact

ADDRESS = "Zoë.Åkesson+kbs@upphandling.example.se"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    handler = logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_an_address_in_the_message_extra_keys_or_an_exception_is_masked(
    output: io.StringIO,
) -> None:
    # Given log calls that carelessly include an address everywhere
    logger.info(f"Booked {ADDRESS}", extra={"who": ADDRESS, "all": [ADDRESS, {"to": ADDRESS}]})
    try:
        raise ValueError(f"no registration for\n{ADDRESS}")
    except ValueError:
        logger.exception("Failed")

    # Then every line is still JSON, and the address (nor its local part) is nowhere in it
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    assert len(lines) == 2
    text = output.getvalue()
    assert "upphandling" not in text and "kesson" not in text
    assert lines[0]["message"] == f"Booked {REDACTED_EMAIL}"
    assert lines[0]["all"] == [REDACTED_EMAIL, {"to": REDACTED_EMAIL}]
    assert lines[1]["stack_trace"]["value"].endswith(REDACTED_EMAIL)


def test_text_without_an_address_is_left_alone() -> None:
    assert redact("KBS-7Q2M-X4TD kbs-01-ict-hardware @ 10:00, 3 sent") == (
        "KBS-7Q2M-X4TD kbs-01-ict-hardware @ 10:00, 3 sent"
    )
