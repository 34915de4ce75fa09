"""``kbs sessions import`` and ``list`` on moto, through the real ``--local DATA_DIR`` target."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from infra.wiring import SESSION_SCHEDULED, SOURCE_SESSIONS
from kbs.cli import main
from shared.programme import repository
from shared.programme.catalogue import load_programme
from tests.conftest import EVENTS, TABLE_NAME
from tests.integration.test_api import Capture
from tests.support import local_stack_file

SAMPLE = EVENTS / "programme.sample.json"
TODAY = "2026-11-24"


def kbs(*argv: str) -> int:
    """Run the ``kbs`` console script in-process."""
    return main(argv)


@pytest.fixture
def captured(aws: None) -> Capture:
    return Capture()


@pytest.fixture
def data_dir(tmp_path: Path, captured: Capture) -> Path:
    """A local-stack description pointing at the in-process moto account (no endpoint)."""
    return local_stack_file(tmp_path)


def import_programme(path: Path, data_dir: Path, today: str = TODAY) -> int:
    return kbs("sessions", "import", str(path), "--today", today, "--local", str(data_dir))


def edited_sample(tmp_path: Path, **changes: object) -> Path:
    document = json.loads(SAMPLE.read_text())
    document["sessions"][2].update(changes)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    return path


def scheduled(events: Sequence[dict]) -> list[str]:
    assert all(e["source"] == SOURCE_SESSIONS for e in events)
    assert all(e["detail-type"] == SESSION_SCHEDULED for e in events)
    return [e["detail"]["data"]["session_id"] for e in events]


def test_import_stores_and_announces_each_session_once(
    data_dir: Path,
    captured: Capture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert import_programme(SAMPLE, data_dir) == 0

    stored = repository.list_sessions(TABLE_NAME)
    assert len(stored) == 7
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert all(a.session.is_open_at(now) and a.session.start > now for a in stored)
    events = captured.events()
    assert scheduled(events) == [a.session.session_id for a in stored]
    first = events[0]["detail"]
    assert first["data"]["join_url"] == "https://meet.example.org/kbs-01"
    assert first["metadata"]["idempotency_key"].startswith("session#kbs-01-ict-hardware#0#")
    assert "7 sessions: 7 new, 0 changed, 0 unchanged, 0 refused; 7 announced" in (
        capsys.readouterr().out
    )


def test_reimport_changes_nothing_and_publishes_nothing(
    data_dir: Path,
    captured: Capture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import_programme(SAMPLE, data_dir)
    before = repository.table(TABLE_NAME).query(
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :p",
        ExpressionAttributeValues={":p": "PROGRAMME"},
    )["Items"]
    captured.events()
    capsys.readouterr()

    assert import_programme(SAMPLE, data_dir) == 0

    assert captured.events() == []
    after = repository.table(TABLE_NAME).query(
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :p",
        ExpressionAttributeValues={":p": "PROGRAMME"},
    )["Items"]
    assert after == before
    assert "0 new, 0 changed, 7 unchanged, 0 refused; 0 announced" in capsys.readouterr().out


def test_a_changed_session_is_announced_keeping_its_bookings_and_its_relative_start(
    data_dir: Path,
    captured: Capture,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A new capacity is stored and announced ("Session Scheduled", no invitation change, so
    the same sequence); a relative start is resolved only when the session is created, so a
    new ``local_time`` moves nothing (the plan says so)."""
    import_programme(SAMPLE, data_dir)
    captured.events()
    repository.table(TABLE_NAME).update_item(
        Key={"PK": "SESSION#kbs-03-textiles", "SK": "META"},
        UpdateExpression="SET confirmed = :n",
        ExpressionAttributeValues={":n": 12},
    )
    moved = edited_sample(tmp_path, local_time="11:30", capacity=60)

    assert import_programme(moved, data_dir) == 0
    assert import_programme(moved, data_dir) == 0  # and again: nothing more

    events = captured.events()
    assert scheduled(events) == ["kbs-03-textiles"]
    data = events[0]["detail"]["data"]
    assert data["sequence"] == 0 and data["capacity"] == 60
    assert events[0]["detail"]["metadata"]["idempotency_key"].startswith(
        "session#kbs-03-textiles#0#"
    )
    textiles = repository.get_session(TABLE_NAME, "kbs-03-textiles")
    assert textiles.session.sequence == 0
    assert textiles.confirmed == 12
    assert textiles.session.start.strftime("%H:%M") == "08:30"  # 09:30 in Stockholm, as created
    out = capsys.readouterr().out
    assert "changed   kbs-03-textiles  capacity" in out
    assert "start_in_days/local_time apply to new sessions only" in out


def test_list_prints_the_programme_in_each_session_time_zone(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_programme(SAMPLE, data_dir)
    repository.table(TABLE_NAME).update_item(
        Key={"PK": "SESSION#kbs-07-monitoring", "SK": "META"},
        UpdateExpression="SET confirmed = :c, waitlisted = :w",
        ExpressionAttributeValues={":c": 10, ":w": 3},
    )
    capsys.readouterr()

    assert kbs("sessions", "list", "--local", str(data_dir)) == 0

    header, *lines = capsys.readouterr().out.splitlines()
    assert re.split(r"\s{2,}", header) == [
        "ID",
        "START (SESSION TIME ZONE)",
        "KIND",
        "BOOKED",
        "WAITING",
        "STATUS",
    ]
    rows, titles = lines[0::2], lines[1::2]
    assert len(rows) == len(titles) == 7
    assert max(len(line) for line in [header, *lines]) <= 100
    assert re.split(r"\s{2,}", rows[0]) == [
        "kbs-01-ict-hardware",
        "2026-12-01 10:00 CET (Europe/Brussels)",
        "webinar",
        "0/300",
        "0",
        "open",
    ]
    assert titles[0] == "    Forced labour risks in ICT hardware supply chains"
    assert re.split(r"\s{2,}", rows[-1])[1:] == [
        "2027-04-20 15:00 IST (Europe/Dublin)",
        "workshop",
        "10/10",
        "3",
        "open",
    ]
    assert titles[-1] == "    Worker-driven monitoring and grievance mechanisms"


def test_list_wraps_long_titles_and_drops_zone_names_to_fit_100_columns() -> None:
    from kbs.commands.sessions import programme_lines
    from shared.programme.models import SessionAvailability

    sample = load_programme(str(SAMPLE), datetime(2026, 11, 30, 12, tzinfo=UTC))[0]
    long = sample.model_copy(
        update={
            "session_id": "kbs-99-a-rather-long-id",
            "timezone": "America/Argentina/Buenos_Aires",
            "title": "A very long title " * 12,
        }
    )

    lines = programme_lines([SessionAvailability(session=long)])

    assert max(len(line) for line in lines) <= 100
    assert "Buenos_Aires" not in lines[1]  # the zone name is dropped to fit
    # "-03" is no abbreviation: the UTC offset names it (shared/i18n/times.py)
    assert lines[1].startswith("kbs-99-a-rather-long-id") and " UTC-03:00 " in lines[1]
    assert len(lines) > 3  # the title wrapped, indented, every word kept
    assert all(line.startswith("    ") and line[4] != " " for line in lines[2:])
    assert " ".join(line.strip() for line in lines[2:]) == long.title.strip()


def test_list_of_an_empty_programme_says_how_to_import(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs("sessions", "list", "--local", str(data_dir)) == 0
    assert "kbs sessions import FILE" in capsys.readouterr().out


def test_an_invalid_programme_is_refused_before_anything_is_stored(
    data_dir: Path,
    captured: Capture,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = edited_sample(tmp_path, capacity=0, timezone="Europe/Nowhere")

    assert import_programme(broken, data_dir) == 2

    err = capsys.readouterr().err
    assert "session 3 (kbs-03-textiles): timezone: must be an IANA time zone" in err
    assert repository.list_sessions(TABLE_NAME) == []
    assert captured.events() == []


def test_a_missing_local_stack_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs("sessions", "list", "--local", str(tmp_path / "nowhere")) == 2
    assert "start one with `kbs serve`" in capsys.readouterr().err


def test_the_import_date_defaults_to_today(data_dir: Path) -> None:
    assert kbs("sessions", "import", str(SAMPLE), "--local", str(data_dir)) == 0

    first = repository.list_sessions(TABLE_NAME)[0].session
    assert (first.start.date() - date.today()).days in (6, 7, 8)
