"""``kbs waitlist promote``: an organiser gives a place through the promotion path (moto):
capacity respected unless --over-capacity, an unreachable address refused unless --force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kbs.cli import main
from shared.mail import suppression
from shared.platform.event_types import REGISTRATION_CONFIRMED, SOURCE_REGISTRATIONS
from shared.platform.settings import get_settings
from shared.programme.repository import get_session, put_session
from shared.registrations import booking
from shared.registrations.models import RegistrationStatus, RegistrationSubmission
from shared.registrations.store import get_registration, waitlist
from tests.conftest import TABLE_NAME, load_event
from tests.integration.lifecycle_harness import recipients, sample_session
from tests.support import BusTap, local_stack_file

SID = "kbs-01-ict-hardware"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
FIRST, SECOND, THIRD = "first@example.org", "second@example.org", "third@example.org"


@pytest.fixture
def tap(aws: None) -> BusTap:
    """One place, taken by FIRST; SECOND and THIRD wait, in that order (booked for real)."""
    put_session(TABLE_NAME, sample_session(capacity=1))
    sample = RegistrationSubmission.model_validate(
        load_event("bus/registration-submitted.json")["detail"]["data"]
    )
    for n, email in enumerate((FIRST, SECOND, THIRD)):
        one = sample.model_copy(
            update={"email": email, "reference": f"KBS-TEST-000{n}", "sessions": [SID]}
        )
        booking.process_submission(
            one, now=NOW - timedelta(hours=1, seconds=-n), settings=get_settings()
        )
    return BusTap("promote-tap", {"source": [SOURCE_REGISTRATIONS]})


@pytest.fixture
def data_dir(tmp_path: Path, tap: BusTap) -> Path:
    return local_stack_file(tmp_path, clock=NOW.strftime("%Y-%m-%dT%H:%M:%SZ"))


def kbs(data_dir: Path, *argv: str) -> int:
    return main(["waitlist", "promote", SID, *argv, "--local", str(data_dir)])


def counters() -> tuple[int, int]:
    availability = get_session(TABLE_NAME, SID)
    return availability.confirmed, availability.waitlisted


def test_capacity_is_respected_unless_over_capacity(
    data_dir: Path, tap: BusTap, capsys: pytest.CaptureFixture[str]
) -> None:
    assert counters() == (1, 2)
    confirmations_before = recipients("confirmation")
    assert kbs(data_dir, THIRD) == 2
    assert "is full (1 of 1): --over-capacity" in capsys.readouterr().err
    assert counters() == (1, 2) and tap.received(REGISTRATION_CONFIRMED) == []

    # Out of turn (THIRD is second in line), over capacity: the usual confirmation path.
    assert kbs(data_dir, THIRD, "--over-capacity") == 0
    assert "now has a place" in capsys.readouterr().out
    assert counters() == (2, 1)
    registration = get_registration(TABLE_NAME, SID, THIRD)
    assert registration is not None and registration.status is RegistrationStatus.CONFIRMED
    assert [e.email for e in waitlist(TABLE_NAME, SID)] == [SECOND]
    assert recipients("confirmation")[THIRD] == confirmations_before[THIRD] + 1
    (event,) = tap.received(REGISTRATION_CONFIRMED)
    assert event["detail"]["data"]["reference"] == registration.reference

    # Not (or no longer) waiting: refused, nothing changed.
    assert kbs(data_dir, THIRD, "--over-capacity") == 2
    assert "is not on the waiting list" in capsys.readouterr().err
    assert counters() == (2, 1)


def test_an_unreachable_address_is_refused_unless_forced(
    data_dir: Path, tap: BusTap, capsys: pytest.CaptureFixture[str]
) -> None:
    suppression.suppress(TABLE_NAME, SECOND, suppression.Reason.BOUNCED, NOW)
    sent_before = recipients("confirmation")[SECOND]
    assert kbs(data_dir, SECOND, "--over-capacity") == 2
    assert "no email reaches second@example.org (bounced): --force" in capsys.readouterr().err
    assert counters() == (1, 2)

    assert kbs(data_dir, SECOND, "--over-capacity", "--force") == 0
    assert counters() == (2, 1)
    assert recipients("confirmation")[SECOND] == sent_before  # suppressed: no email
    assert len(tap.received(REGISTRATION_CONFIRMED)) == 1


def test_unknown_session(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["waitlist", "promote", "kbs-99-x", FIRST, "--local", str(data_dir)]) == 2
    assert "no session kbs-99-x" in capsys.readouterr().err
