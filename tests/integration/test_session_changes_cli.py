"""``kbs sessions start|reschedule|cancel`` on moto, through the real ``--local`` target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kbs.cli import main
from shared.platform.event_types import SESSION_CANCELLED, SESSION_STARTED, SESSION_UPDATED
from shared.programme.lifecycle import SessionChange
from shared.programme.models import SessionStatus
from shared.programme.repository import get_session, put_session
from tests.conftest import BUS_NAME, TABLE_NAME
from tests.integration.lifecycle_harness import sample_session
from tests.integration.test_api import Capture
from tests.support import local_stack_file

SESSION = "kbs-01-ict-hardware"


@pytest.fixture
def captured(aws: None) -> Capture:
    return Capture()


@pytest.fixture
def data_dir(tmp_path: Path, captured: Capture) -> Path:
    """A local-stack description pointing at the in-process moto account (no endpoint)."""
    return local_stack_file(tmp_path)


def soon(**delta: float) -> datetime:
    """A whole hour from the wall clock (the commands check times against it)."""
    return (datetime.now(UTC) + timedelta(**delta)).replace(minute=0, second=0, microsecond=0)


def kbs(data_dir: Path, *argv: str) -> int:
    return main(["sessions", *argv, "--local", str(data_dir)])


def test_given_an_open_session_when_rescheduled_then_it_moves_and_the_change_is_announced(
    data_dir: Path, captured: Capture, capsys: pytest.CaptureFixture[str]
) -> None:
    put_session(TABLE_NAME, sample_session(SESSION, start=soon(days=3)))
    new_start = soon(days=10)

    code = kbs(data_dir, "reschedule", SESSION, "--start", new_start.isoformat())
    again = kbs(data_dir, "reschedule", SESSION, "--start", new_start.isoformat())  # a re-run

    assert (code, again) == (0, 0)
    stored = get_session(TABLE_NAME, SESSION).session
    assert (stored.start, stored.sequence, stored.status) == (new_start, 1, SessionStatus.OPEN)
    out = capsys.readouterr().out
    assert f'sequence 1; "{SESSION_UPDATED}" announced on {BUS_NAME}' in out
    events = captured.events()
    assert [e["detail-type"] for e in events] == [SESSION_UPDATED, SESSION_UPDATED]
    change = SessionChange.model_validate(events[0]["detail"]["data"])
    assert (change.session_id, change.sequence, change.start) == (SESSION, 1, new_start)
    keys = {e["detail"]["metadata"]["idempotency_key"] for e in events}
    assert keys == {f"session-updated#{SESSION}#1"}  # consumers notify once


def test_given_a_cancelled_session_then_it_cannot_be_rescheduled_or_started(
    data_dir: Path, captured: Capture, capsys: pytest.CaptureFixture[str]
) -> None:
    put_session(TABLE_NAME, sample_session(SESSION, start=soon(days=3)))

    cancelled = kbs(data_dir, "cancel", SESSION, "--reason", "The speaker is unwell")
    moved = kbs(data_dir, "reschedule", SESSION, "--start", soon(days=9).isoformat())
    started = kbs(data_dir, "start", SESSION)

    assert (cancelled, moved, started) == (0, 2, 2)
    stored = get_session(TABLE_NAME, SESSION).session
    assert (stored.status, stored.sequence) == (SessionStatus.CANCELLED, 1)
    (event,) = captured.events()
    assert event["detail-type"] == SESSION_CANCELLED
    assert event["detail"]["data"]["reason"] == "The speaker is unwell"
    err = capsys.readouterr().err
    assert "cancelled: only an open session can be rescheduled" in err
    assert "cancelled: it cannot start" in err


def test_an_organiser_may_start_a_session_from_an_hour_before_only(
    data_dir: Path, captured: Capture, capsys: pytest.CaptureFixture[str]
) -> None:
    put_session(TABLE_NAME, sample_session(SESSION, start=soon(hours=3)))
    put_session(TABLE_NAME, sample_session("kbs-02-now", start=soon(minutes=30)))

    early = kbs(data_dir, "start", SESSION)
    on_time = kbs(data_dir, "start", "kbs-02-now")
    unknown = kbs(data_dir, "start", "kbs-99-unknown")
    past = kbs(data_dir, "reschedule", SESSION, "--start", soon(hours=-2).isoformat())

    assert (early, on_time, unknown, past) == (2, 0, 2, 2)
    (event,) = captured.events()
    assert (event["detail-type"], event["detail"]["data"]["session_id"]) == (
        SESSION_STARTED,
        "kbs-02-now",
    )
    err = capsys.readouterr().err
    assert "it can be started from an hour before" in err
    assert "no session kbs-99-unknown" in err
    assert "the new start must be in the future" in err
