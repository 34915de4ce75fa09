"""Reading the sample reports of every format, and refusing files that are not one."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.attendance.formats import parse_report
from shared.attendance.matching import match
from shared.attendance.reports import MAX_REPORT_BYTES, ReportError
from shared.attendance.times import TimeFormatError, parse_minutes, parse_time
from tests.attendance_support import (
    EXPECTED,
    GOTO,
    GUEST,
    NO_SHOW,
    PLAIN,
    REGISTRANTS,
    SAMPLES,
    SESSION,
    TEAMS_GB,
    TEAMS_US,
    ZOOM,
    registration,
)


@pytest.mark.parametrize(
    ("path", "source"),
    [(ZOOM, "zoom"), (TEAMS_US, "teams"), (TEAMS_GB, "teams"), (GOTO, "goto"), (PLAIN, "csv")],
    ids=lambda p: p.name if isinstance(p, Path) else p,
)
def test_each_sample_is_detected_and_gives_the_same_minutes(path: Path, source: str) -> None:
    """Every sample but GoTo's (which requires an address to join) has a row without one."""
    report = parse_report(path.read_bytes(), SESSION)
    outcome = match(report, SESSION, [registration(e) for e in REGISTRANTS], threshold=68)

    assert report.source == source
    assert {m.email: m.minutes for m in outcome.matched} == EXPECTED
    assert [m.email for m in outcome.under_threshold] == ["stefan.ionescu@example.ro"]
    assert outcome.no_shows == [NO_SHOW]
    unmatched = {u.email: u.reason for u in outcome.unmatched}
    assert unmatched[GUEST] == "not registered"
    if source != "goto":  # the row without an address is listed, not dropped
        assert unmatched[""].endswith("no email")


def test_zoom_lists_staff_and_counts_registrants_who_did_not_attend() -> None:
    report = parse_report(ZOOM.read_bytes(), SESSION)
    outcome = match(report, SESSION, [registration(e) for e in REGISTRANTS], threshold=68)

    reasons = {u.email: u.reason for u in outcome.unmatched}
    assert reasons["organisers@example.org"] == "host, not registered"
    assert reasons["ana.speaker@example.net"] == "panelist, not registered"
    assert report.not_attended == 1
    lucja = [r for r in report.rows if r.email == "lucja.wroblewska@example.pl"]
    assert len(lucja) == 2  # one row per join
    assert lucja[0].join == datetime(2026, 12, 1, 8, 58, 2, tzinfo=UTC)  # 09:58:02 in Brussels


def test_teams_is_read_from_its_per_join_activities() -> None:
    us = parse_report(TEAMS_US.read_bytes(), SESSION)
    gb = parse_report(TEAMS_GB.read_bytes(), SESSION)

    assert [(r.email, r.join, r.leave) for r in us.rows] == [
        (r.email, r.join, r.leave) for r in gb.rows
    ]
    assert sum(1 for r in us.rows if r.email == "lucja.wroblewska@example.pl") == 2
    assert TEAMS_US.read_bytes().startswith(codecs.BOM_UTF16_LE)


def test_teams_without_activities_uses_each_participants_duration() -> None:
    text = TEAMS_US.read_bytes().decode("utf-16").split("3. In-Meeting Activities")[0]
    report = parse_report(text.encode("utf-16"), SESSION)
    outcome = match(report, SESSION, [registration(e) for e in REGISTRANTS], threshold=68)

    minutes = {m.email: m.minutes for m in outcome.matched}
    assert minutes["odon.szoke@example.hu"] == 88
    assert minutes["begona.munoz@example.es"] == 90  # Teams' 1h 50m, capped at the session


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/1/26, 9:58:02 AM", datetime(2026, 12, 1, 8, 58, 2, tzinfo=UTC)),  # M/D (en-US)
        ("01/12/2026 09:58:02", datetime(2026, 12, 1, 8, 58, 2, tzinfo=UTC)),  # D/M (en-GB)
        ("1.12.2026 09:58:02", datetime(2026, 12, 1, 8, 58, 2, tzinfo=UTC)),  # de-DE
        ("Dec 01, 2026 09:58 AM CET", datetime(2026, 12, 1, 8, 58, tzinfo=UTC)),
        ("1 Dec 2026 11:00", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ("2026-12-01T09:58:02Z", datetime(2026, 12, 1, 9, 58, 2, tzinfo=UTC)),
        ("Dec 1, 2026 9:58 AM GMT+02:00", datetime(2026, 12, 1, 7, 58, tzinfo=UTC)),
        ("12/01/2026 12:05:00 PM", datetime(2026, 12, 1, 11, 5, tzinfo=UTC)),
    ],
)
def test_times_are_read_in_the_sessions_zone_on_its_day(text: str, expected: datetime) -> None:
    assert parse_time(text, SESSION) == expected


@pytest.mark.parametrize("text", ["12/2/26, 9:58:02 AM", "2026-11-30 10:00", "yesterday"])
def test_a_time_off_the_sessions_day_or_unreadable_is_refused(text: str) -> None:
    with pytest.raises(TimeFormatError):
        parse_time(text, SESSION)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("1h 5m 3s", 65.05), ("30m", 30), ("1 hour 28 minutes", 88), ("65", 65), ("01:05:00", 65)],
)
def test_durations(text: str, minutes: float) -> None:
    assert parse_minutes(text) == pytest.approx(minutes)


def test_a_report_of_another_day_is_refused_naming_the_line() -> None:
    text = ZOOM.read_text(encoding="utf-8").replace("12/01/2026 10:05", "12/03/2026 10:05")
    with pytest.raises(ReportError, match=r"line 16: .* not on the session's day"):
        parse_report(text.encode(), SESSION)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\n \n", "empty"),
        (b"name,score\nAna,3\n", "unknown report format; the formats known are"),
        (b"email,minutes\n", "no attendee rows"),
        (b"email,minutes\nana@example.org,soon\n", "line 2: unreadable duration"),
        (b"x" * (MAX_REPORT_BYTES + 1), "reports up to 10,485,760"),
    ],
    ids=["empty", "blank", "unknown", "no-rows", "bad-minutes", "too-big"],
)
def test_files_that_are_no_report_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse_report(data, SESSION)


def test_a_file_without_any_address_or_any_registrant_is_refused() -> None:
    nobody = parse_report(b"email,minutes\n,45\n", SESSION)
    with pytest.raises(ReportError, match="no row of the file has an email"):
        match(nobody, SESSION, [registration(e) for e in REGISTRANTS], threshold=68)
    strangers = parse_report(PLAIN.read_bytes(), SESSION)
    with pytest.raises(ReportError, match="is it the report of another session"):
        match(strangers, SESSION, [registration("someone.else@example.org")], threshold=68)


def test_every_sample_is_found() -> None:
    assert all(p.exists() for p in SAMPLES)


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 20,  # every byte value: bare CRs inside fields
        b"\x7fELF\x02\x01\x01\x00" + bytes(range(32)) * 90,  # a program: NULs, odd UTF-16
        b"\xfe\xff\xd8\x00",  # a UTF-16 BOM, then half a surrogate pair
    ],
    ids=["all-bytes", "program", "broken-utf16"],
)
def test_a_binary_file_is_refused_as_not_a_report(data: bytes) -> None:
    """Refused with the import's own error (a message, nothing written), never a traceback."""
    with pytest.raises(ReportError):
        parse_report(data, SESSION)
