"""Loading a programme file: relative sample dates, absolute starts, errors naming the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.programme.catalogue import (
    ProgrammeError,
    load_programme,
    open_sessions,
    parse_programme,
    public_session,
)
from shared.programme.models import SessionAvailability, SessionStatus
from tests.conftest import EVENTS

SAMPLE = EVENTS / "programme.sample.json"
NOW = datetime(2026, 11, 24, 10, 15, tzinfo=UTC)


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())


def entry(**changes: Any) -> dict[str, Any]:
    """The first sample session with some fields changed (``None`` removes a field)."""
    result = {**sample()["sessions"][0], **changes}
    return {k: v for k, v in result.items() if v is not None}


def problems_of(document: Any) -> list[str]:
    with pytest.raises(ProgrammeError) as caught:
        parse_programme(document, NOW)
    return caught.value.problems


@settings(max_examples=60, deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2099, 12, 31),
        timezones=st.just(UTC),
    )
)
def test_the_sample_yields_seven_open_future_sessions_on_any_date(now: datetime) -> None:
    sessions = load_programme(SAMPLE, now)

    assert len(sessions) == 7
    assert all(s.start > now and s.is_open_at(now) for s in sessions)
    assert [s.start for s in sessions] == sorted(s.start for s in sessions)
    assert len({s.session_id for s in sessions}) == 7


def test_relative_starts_keep_the_local_time_in_the_session_time_zone() -> None:
    by_id = {s.session_id: s for s in load_programme(SAMPLE, NOW)}

    first = by_id["kbs-01-ict-hardware"]
    local = first.start.astimezone(ZoneInfo("Europe/Brussels"))
    assert local.date() == NOW.date() + timedelta(days=7)
    assert local.time() == time(10, 0)
    assert first.start.tzinfo == UTC
    # 91 days on, Warsaw is on winter time (UTC+1); 147 days on, Dublin is on summer time.
    assert by_id["kbs-05-construction"].start == datetime(2027, 2, 23, 12, 0, tzinfo=UTC)
    assert by_id["kbs-07-monitoring"].start == datetime(2027, 4, 20, 14, 0, tzinfo=UTC)


def test_an_absolute_start_with_an_offset_is_used_as_is() -> None:
    document = {
        "sessions": [entry(start_in_days=None, local_time=None, start="2027-03-04T10:00:00+01:00")]
    }

    [session] = parse_programme(document, NOW)

    assert session.start == datetime(2027, 3, 4, 9, 0, tzinfo=UTC)
    assert str(session.join_url) == "https://meet.example.org/kbs-01"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone: must be an IANA time zone"),
        ({"capacity": 0}, "capacity: Input should be greater than 0"),
        ({"kind": "lecture"}, "kind: Input should be 'webinar' or 'workshop'"),
        ({"title": None}, "title: Field required"),
        ({"join_url": "not a url"}, "join_url:"),
        ({"session_id": "Bad Id"}, "session_id: String should match pattern"),
        ({"capcity": 40}, "capcity: unknown field"),
        ({"start_in_days": -1}, "start_in_days: must be a whole number from 0"),
        ({"start_in_days": "7"}, "start_in_days: must be a whole number"),
        ({"local_time": "25:00"}, "local_time: must be a wall-clock time"),
        ({"local_time": "10:00+02:00"}, "local_time: must be a wall-clock time"),
        ({"local_time": None}, "local_time: required (or give an absolute start)"),
        ({"start": "2027-03-04T10:00:00+01:00"}, "give either start or start_in_days"),
        (
            {"start_in_days": None, "local_time": None, "start": "2027-03-04T10:00:00"},
            "start: Value error, must include a UTC offset",
        ),
    ],
)
def test_a_bad_entry_is_reported_with_the_session_and_the_field(
    changes: dict[str, Any], expected: str
) -> None:
    [problem] = problems_of({"sessions": [entry(**changes)]})

    session_id = changes.get("session_id", "kbs-01-ict-hardware")
    assert problem.startswith(f"session 1 ({session_id}): ")
    assert expected in problem


def test_every_problem_is_reported_at_once_and_duplicates_are_caught() -> None:
    document = sample()
    document["sessions"][2]["capacity"] = -5
    document["sessions"][4]["session_id"] = document["sessions"][0]["session_id"]
    document["sessions"].append("not an object")

    problems = problems_of(document)

    assert problems == [
        "session 3 (kbs-03-textiles): capacity: Input should be greater than 0",
        "session 5 (kbs-01-ict-hardware): session_id: duplicate of an earlier session",
        "session 8: must be a JSON object",
    ]


@pytest.mark.parametrize("document", [[], {}, {"sessions": []}, {"sessions": {}}, "x"])
def test_a_document_without_sessions_is_refused(document: Any) -> None:
    assert problems_of(document) == [
        'the file must be a JSON object with a non-empty "sessions" list'
    ]


def test_unreadable_files_are_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    with pytest.raises(ProgrammeError, match="not valid UTF-8 JSON"):
        load_programme(broken, NOW)
    with pytest.raises(ProgrammeError, match="cannot read the file"):
        load_programme(tmp_path / "missing.json", NOW)


def test_open_sessions_and_the_public_view_never_show_the_join_link() -> None:
    sessions = load_programme(SAMPLE, NOW)
    cancelled = sessions[1].model_copy(update={"status": SessionStatus.CANCELLED})
    programme = [SessionAvailability(session=s, confirmed=3) for s in [*sessions[2:], cancelled]]
    programme.append(SessionAvailability(session=sessions[0], confirmed=400))

    visible = open_sessions(programme, NOW)
    views = [public_session(a) for a in visible]

    assert [v["session_id"] for v in views] == [sessions[0].session_id] + [
        s.session_id for s in sessions[2:]
    ]
    assert views[0]["places_left"] == 0
    assert views[1]["places_left"] == sessions[2].capacity - 3
    assert views[0]["start"].endswith("Z")
    assert all("join_url" not in v and "meet.example.org" not in json.dumps(v) for v in views)
    assert not open_sessions(programme, NOW + timedelta(days=400))
