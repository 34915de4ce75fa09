"""RFC 5545 invitations: parsed back by an independent reader (unfold, split, unescape)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.mail import ics
from shared.programme.models import Session

STAMP = datetime(2026, 11, 24, 9, 15, 2, tzinfo=UTC)


def make_session(**overrides: object) -> Session:
    fields: dict[str, object] = {
        "session_id": "kbs-01-ict-hardware",
        "title": "Forced labour risks in ICT hardware supply chains",
        "kind": "webinar",
        "category": "ICT hardware",
        "start": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        "timezone": "Europe/Brussels",
        "duration_minutes": 90,
        "capacity": 300,
        "join_url": "https://meet.example.org/kbs-01?pwd=abc",
        "sequence": 2,
    }
    return Session.model_validate(fields | overrides)


def invite(session: Session | None = None, **overrides: object) -> str:
    arguments: dict[str, object] = {
        "attendee_email": "Marta.Novak@Example.org",
        "attendee_name": "Marta Novák",
        "organizer_email": "series@example.org",
        "organizer_name": "Knowledge Building Series",
        "stamp": STAMP,
        "description": "Slides follow.\nJoin: https://meet.example.org/kbs-01",
    }
    return ics.invitation(session or make_session(), **(arguments | overrides))  # type: ignore[arg-type]


def unfold(text: str) -> list[str]:
    assert text.endswith("\r\n")
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")[:-1]


def parse_line(line: str) -> tuple[str, dict[str, str], str]:
    """``NAME;P=V;P="V":value`` -> (name, params, raw value); colons in quotes are not the end."""
    quoted, head_end = False, None
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            head_end = index
            break
    assert head_end is not None, line
    name, *params = re.findall(r'(?:[^;"]|"[^"]*")+', line[:head_end])
    parsed = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key] = value.strip('"')
    return name, parsed, line[head_end + 1 :]


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def event_properties(text: str) -> dict[str, tuple[dict[str, str], str]]:
    lines = unfold(text)
    start, end = lines.index("BEGIN:VEVENT"), lines.index("END:VEVENT")
    return {
        name: (params, value) for name, params, value in map(parse_line, lines[start + 1 : end])
    }


def test_parses_back_to_the_session() -> None:
    text = invite()
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and "METHOD:REQUEST" in lines
    props = event_properties(text)
    assert props["DTSTART"][1] == "20261201T090000Z"
    assert props["DTEND"][1] == "20261201T103000Z"
    assert props["DTSTAMP"][1] == "20261124T091502Z"
    assert props["SEQUENCE"][1] == str(ics.sequence_at(STAMP))  # seconds since 2025-01-01
    assert ics.sequence_at(STAMP) == 59_822_102
    assert props["STATUS"][1] == "CONFIRMED"
    assert unescape(props["SUMMARY"][1]) == "Forced labour risks in ICT hardware supply chains"
    assert unescape(props["DESCRIPTION"][1]) == (
        "Slides follow.\nJoin: https://meet.example.org/kbs-01"
    )
    assert props["URL"][1] == "https://meet.example.org/kbs-01?pwd=abc"
    assert unescape(props["LOCATION"][1]) == "https://meet.example.org/kbs-01?pwd=abc"
    assert props["ORGANIZER"] == ({"CN": "Knowledge Building Series"}, "mailto:series@example.org")
    params, value = props["ATTENDEE"]
    assert value == "mailto:marta.novak@example.org"
    assert params["CN"] == "Marta Novák"


def test_crlf_line_endings_and_lines_of_at_most_75_octets() -> None:
    long_title = "Ñandú é ü " * 12 + "end"  # multi-byte characters across fold points
    text = invite(make_session(title=long_title[:200]))
    assert "\n" not in text.replace("\r\n", "")
    assert "\r" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)  # something was folded
    assert unescape(event_properties(text)["SUMMARY"][1]) == long_title[:200]


@given(st.text(min_size=0, max_size=400).filter(lambda s: "\r" not in s and "\n" not in s))
def test_folding_is_lossless_and_never_splits_a_character(line: str) -> None:
    folded = ics.fold(line)
    pieces = folded.split("\r\n")
    assert all(len(piece.encode()) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert folded.replace("\r\n ", "") == line


def test_text_values_are_escaped() -> None:
    title = 'Clauses; "audits", and \\ remedies\r\nPart 2'
    text = invite(make_session(title=title), description="a,b;c\\d\ne")
    props = event_properties(text)
    assert props["SUMMARY"][1] == 'Clauses\\; "audits"\\, and \\\\ remedies\\nPart 2'
    assert unescape(props["SUMMARY"][1]) == 'Clauses; "audits", and \\ remedies\nPart 2'
    assert unescape(props["DESCRIPTION"][1]) == "a,b;c\\d\ne"


def test_parameter_values_cannot_break_out() -> None:
    text = invite(attendee_name='Eve"; ROLE=CHAIR:\r\nX-EVIL:1')
    props = event_properties(text)
    assert "X-EVIL" not in props
    params, value = props["ATTENDEE"]
    assert params["ROLE"] == "REQ-PARTICIPANT"
    assert value == "mailto:marta.novak@example.org"


def test_uid_is_stable_per_registrant_and_session_and_hides_the_address() -> None:
    uid = ics.uid("kbs-01-ict-hardware", "Marta.Novak@Example.org")
    assert uid == ics.uid("kbs-01-ict-hardware", " marta.novak@example.org ")
    assert uid != ics.uid("kbs-02-solar-pv", "marta.novak@example.org")
    assert uid != ics.uid("kbs-01-ict-hardware", "someone.else@example.org")
    assert uid.endswith("@kbs") and "marta" not in uid
    rescheduled = make_session(start=datetime(2026, 12, 8, 9, 0, tzinfo=UTC), sequence=3)
    later = STAMP + timedelta(seconds=1)
    first = event_properties(invite())
    second = event_properties(invite(rescheduled, stamp=later))
    assert first["UID"][1] == second["UID"][1] == uid
    assert int(first["SEQUENCE"][1]) < int(second["SEQUENCE"][1])  # the later change wins


def test_cancel_has_method_cancel_and_no_join_link() -> None:
    text = invite(make_session(sequence=4), method="CANCEL", description="")
    assert "METHOD:CANCEL" in unfold(text)
    props = event_properties(text)
    assert props["STATUS"][1] == "CANCELLED"
    assert props["SEQUENCE"][1] == str(ics.sequence_at(STAMP))
    assert "URL" not in props and "LOCATION" not in props
    assert "meet.example.org" not in text.replace("\r\n ", "")
