"""``kbs attendance import|set|threshold|list`` through the console script on moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbs.cli import main
from shared.attendance import store
from shared.platform import clients
from shared.platform.event_types import ATTENDANCE_RECORDED, SOURCE_ATTENDANCE
from shared.programme.repository import put_session
from shared.registrations.store import registration_item
from tests.attendance_support import (
    AFTER,
    GUEST,
    NO_SHOW,
    REGISTRANTS,
    SESSION,
    TEAMS_US,
    ZOOM,
    registration,
)
from tests.conftest import TABLE_NAME
from tests.support import BusTap, local_stack_file

SID = SESSION.session_id


@pytest.fixture
def tap(aws: None) -> BusTap:
    put_session(TABLE_NAME, SESSION)
    for email in REGISTRANTS:
        clients.table(TABLE_NAME).put_item(Item=registration_item(registration(email)))
    return BusTap("attendance-cli-tap", {"source": [SOURCE_ATTENDANCE]})


@pytest.fixture
def data_dir(tmp_path: Path, tap: BusTap) -> Path:
    """A local stack whose simulated clock stands two hours after the session ended."""
    return local_stack_file(tmp_path, clock=AFTER.strftime("%Y-%m-%dT%H:%M:%SZ"))


def kbs(data_dir: Path, *argv: str) -> int:
    return main(["attendance", *argv, "--local", str(data_dir)])


def test_import_prints_matched_under_no_shows_and_unmatched(
    data_dir: Path, tap: BusTap, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs(data_dir, "import", SID, str(ZOOM), "--dry-run") == 0
    dry = capsys.readouterr().out
    assert "dry run" in dry and store.session_attendance(TABLE_NAME, SID) == []
    assert tap.received() == []

    assert kbs(data_dir, "import", SID, str(TEAMS_US)) == 0

    out = capsys.readouterr().out
    assert "teams report: 9 row(s); threshold 68 minute(s)" in out
    assert "ok      90 min  lucja.wroblewska@example.pl" in out
    assert "under   30 min  stefan.ionescu@example.ro" in out
    assert "under the threshold: 1" in out
    assert f"registered no-shows: 1\n  {NO_SHOW}" in out
    assert f"{GUEST}, 60 min: not registered" in out
    assert "(no email), 83 min: no email" in out
    assert "organizer, not registered" in out
    assert "imported" in out and "4 record(s) created" in out
    assert "Łucja" not in out and "Wróblewska" not in out  # addresses, never names
    assert len(tap.received(ATTENDANCE_RECORDED)) == 1

    assert kbs(data_dir, "import", SID, str(TEAMS_US)) == 0
    assert "unchanged" in capsys.readouterr().out
    assert tap.received() == []


def test_set_threshold_and_list(
    data_dir: Path, tap: BusTap, capsys: pytest.CaptureFixture[str]
) -> None:
    kbs(data_dir, "import", SID, str(ZOOM))
    capsys.readouterr()

    assert kbs(data_dir, "threshold", "60") == 0
    assert kbs(data_dir, "threshold", SID, "30%") == 0
    assert (
        kbs(
            data_dir,
            "set",
            SID,
            "Begona.Munoz@example.es",
            "--minutes",
            "20",
            "--reason",
            "left the laptop running",
        )
        == 0
    )
    assert kbs(data_dir, "list", SID) == 0

    out = capsys.readouterr().out
    assert "series default: 60%" in out
    assert f"{SID}: 30% of 90 minutes = 27 minute(s)" in out
    assert "set begona.munoz@example.es to 20 minute(s): under the threshold" in out
    assert "threshold 27 minute(s) (30%, session)" in out
    assert "under   20 min  begona.munoz@example.es  [manual] (left the laptop running)" in out
    assert "by local: import zoom" in out
    assert "correction begona.munoz@example.es: 80 -> 20 (left the laptop running)" in out
    (event,) = tap.received(ATTENDANCE_RECORDED)[1:]
    assert event["detail"]["data"]["attendees"] == [
        {"email": "begona.munoz@example.es", "minutes": 20, "qualifies": False}
    ]


def test_refusals_are_clear_and_write_nothing(
    data_dir: Path, tmp_path: Path, tap: BusTap, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # a 50 MB file: refused by its size, never read
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("name,score\nAna,3\n")

    assert kbs(data_dir, "import", SID, str(huge)) == 1
    assert kbs(data_dir, "import", SID, str(unknown)) == 1
    assert kbs(data_dir, "import", "kbs-99-nothing", str(ZOOM)) == 1
    assert kbs(data_dir, "set", SID, GUEST, "--minutes", "50", "--reason", "x") == 1
    assert kbs(data_dir, "threshold", SID, "120") == 1

    err = capsys.readouterr().err
    assert "huge.csv: the file has 52,428,800 bytes: reports up to 10,485,760" in err
    assert "unknown report format; the formats known are:" in err and "Teams" in err
    assert "no session kbs-99-nothing" in err
    assert f"{GUEST} has no registration for {SID}" in err
    assert "from 1 to 100" in err
    assert store.session_attendance(TABLE_NAME, SID) == []
    assert store.import_audits(TABLE_NAME, SID) == []
    assert tap.received() == []


def test_an_import_before_the_session_ends_is_refused(
    tmp_path: Path, tap: BusTap, capsys: pytest.CaptureFixture[str]
) -> None:
    early = local_stack_file(tmp_path, clock=SESSION.start.strftime("%Y-%m-%dT%H:%M:%SZ"))

    assert main(["attendance", "import", SID, str(ZOOM), "--local", str(early)]) == 1

    assert "has not ended: it ends at 2026-12-01T10:30:00+00:00" in capsys.readouterr().err
