"""A programme import never silently undoes organisers' actions (issue 12, item 6).

``kbs sessions import|reopen|cancel|reschedule`` through the real ``--local`` target on moto;
session events are delivered to the real session-events and email-sender handlers, so the
notices registrants get are the real emails, their invitations parsed.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbs.cli import main
from shared.mail import ics
from shared.platform.event_types import SESSION_UPDATED
from shared.programme import repository
from shared.programme.models import SessionStatus
from shared.registrations import store
from shared.registrations.models import RegistrationStatus
from tests.conftest import EVENTS, TABLE_NAME
from tests.integration.lifecycle_harness import Lifecycle, part, registration, sent_emails
from tests.integration.test_api import Capture
from tests.support import local_stack_file

SAMPLE = EVENTS / "programme.sample.json"
SESSION = "kbs-01-ict-hardware"


@pytest.fixture
def captured(aws: None) -> Capture:
    return Capture()


@pytest.fixture
def data_dir(tmp_path: Path, captured: Capture) -> Path:
    return local_stack_file(tmp_path)


@pytest.fixture
def life(aws: None, monkeypatch: pytest.MonkeyPatch) -> Lifecycle:
    return Lifecycle(monkeypatch)


def soon(**delta: float) -> datetime:
    """A whole hour from the wall clock (the commands check times against it)."""
    return (datetime.now(UTC) + timedelta(**delta)).replace(minute=0, second=0, microsecond=0)


def kbs(data_dir: Path, *argv: str) -> int:
    return main(["sessions", *argv, "--local", str(data_dir)])


def programme(tmp_path: Path, name: str = "programme.json", **changes: Any) -> Path:
    """The sample programme with absolute starts (a real programme), ``changes`` applied to
    its first session."""
    document = json.loads(SAMPLE.read_text())
    base = soon(days=1)
    for entry in document["sessions"]:
        days = entry.pop("start_in_days")
        entry.pop("local_time")
        entry["start"] = (base + timedelta(days=days)).isoformat()
    document["sessions"][0].update(changes)
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def confirmed_registrant() -> None:
    item = store.registration_item(registration(SESSION, 1))
    repository.table(TABLE_NAME).put_item(Item=item)


def status_of_registrant() -> str:
    item = repository.table(TABLE_NAME).get_item(
        Key={"PK": f"SESSION#{SESSION}", "SK": "REG#buyer.1@authority.example.eu"}
    )["Item"]
    return str(item["status"])


def plan_line(out: str, session_id: str = SESSION) -> str:
    """The last line of the plans in ``out`` about ``session_id``."""
    lines = [line for line in out.splitlines() if re.search(rf"\s{session_id}(\s|$)", line)]
    return lines[-1]


def test_reimporting_after_a_cancellation_leaves_the_session_cancelled_and_says_so(
    data_dir: Path, captured: Capture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = programme(tmp_path)
    assert kbs(data_dir, "import", str(file)) == 0
    confirmed_registrant()
    assert kbs(data_dir, "cancel", SESSION, "--reason", "The speaker is unwell") == 0
    before = repository.session_meta_item(TABLE_NAME, SESSION)
    captured.events()
    capsys.readouterr()

    assert kbs(data_dir, "import", str(file)) == 0

    out = capsys.readouterr().out
    line = plan_line(out)
    assert line.startswith("unchanged") and "kept since the last import: status cancelled" in line
    assert "0 new, 0 changed, 7 unchanged, 0 refused" in out
    assert repository.session_meta_item(TABLE_NAME, SESSION) == before
    assert repository.get_session(TABLE_NAME, SESSION).session.status is SessionStatus.CANCELLED
    assert captured.events() == []  # nobody told of anything, since nothing changed


def test_reimporting_keeps_a_reschedule_by_command_and_an_ended_session(
    data_dir: Path, captured: Capture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = programme(tmp_path)
    assert kbs(data_dir, "import", str(file)) == 0
    moved = soon(days=30)
    assert kbs(data_dir, "reschedule", SESSION, "--start", moved.isoformat()) == 0
    ended = repository.get_session(TABLE_NAME, "kbs-02-solar-pv").session
    repository.change_status(TABLE_NAME, ended, SessionStatus.ENDED, expected=[SessionStatus.OPEN])
    captured.events()
    capsys.readouterr()

    assert kbs(data_dir, "import", str(file)) == 0

    out = capsys.readouterr().out
    assert "kept since the last import: start" in plan_line(out)
    assert "status ended" in plan_line(out, "kbs-02-solar-pv")
    kept = repository.get_session(TABLE_NAME, SESSION).session
    assert (kept.start, kept.sequence) == (moved, 1)
    assert repository.get_session(TABLE_NAME, "kbs-02-solar-pv").session.status == "ended"
    assert captured.events() == []


def test_a_join_link_changed_in_the_file_sends_an_updated_invitation(
    data_dir: Path, life: Lifecycle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs(data_dir, "import", str(programme(tmp_path))) == 0
    confirmed_registrant()
    new_link = "https://meet.example.org/kbs-01-new-room"
    edited = programme(tmp_path, "edited.json", join_url=new_link)
    capsys.readouterr()

    assert kbs(data_dir, "import", str(edited), "--dry-run") == 0
    dry = capsys.readouterr().out
    assert repository.get_session(TABLE_NAME, SESSION).session.sequence == 0  # dry run
    assert kbs(data_dir, "import", str(edited)) == 0
    real = capsys.readouterr().out
    life.settle()

    line = plan_line(real)
    assert line == plan_line(dry)  # the dry run printed the same plan
    assert line.startswith("changed") and "join_url" in line and "updated invitation" in line
    stored = repository.get_session(TABLE_NAME, SESSION).session
    assert (str(stored.join_url), stored.sequence) == (new_link, 1)
    (update,) = sent_emails("update")
    assert update["To"].addresses[0].addr_spec == "buyer.1@authority.example.eu"
    assert update["Subject"].strip().startswith("Updated:")
    calendar = part(update, "text/calendar")
    assert calendar and "METHOD:REQUEST" in calendar
    (sequence,) = re.findall(r"^SEQUENCE:(\d+)\r?$", calendar, re.M)
    invited = ics.sequence_at(registration(SESSION, 1).registered_at)  # the first invitation's
    assert int(sequence) > invited  # calendars apply the update over the invitation
    assert new_link in calendar.replace("\r\n ", "")
    assert "has changed" not in calendar and "(new join link)" in " ".join(
        str(update.get_body(("plain",)).get_content()).split()
    )
    unfolded = calendar.replace("\r\n ", "")
    assert f"UID:{ics.uid(SESSION, 'buyer.1@authority.example.eu')}" in unfolded  # same UID

    assert kbs(data_dir, "import", str(edited)) == 0  # again: nothing more
    life.settle()
    assert len(sent_emails("update")) == 1


def test_a_start_changed_in_the_file_is_a_reschedule(
    data_dir: Path, captured: Capture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs(data_dir, "import", str(programme(tmp_path))) == 0
    captured.events()
    later = soon(days=40)

    assert kbs(data_dir, "import", str(programme(tmp_path, start=later.isoformat()))) == 0

    stored = repository.get_session(TABLE_NAME, SESSION).session
    assert (stored.start, stored.sequence, stored.status) == (later, 1, SessionStatus.OPEN)
    (event,) = captured.events()
    assert event["detail-type"] == SESSION_UPDATED
    assert event["detail"]["metadata"]["idempotency_key"] == f"session-updated#{SESSION}#1"
    assert "start" in plan_line(capsys.readouterr().out)


def test_a_change_to_a_cancelled_session_is_refused_until_it_is_reopened(
    data_dir: Path, captured: Capture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs(data_dir, "import", str(programme(tmp_path))) == 0
    confirmed_registrant()
    assert kbs(data_dir, "cancel", SESSION, "--reason", "Room unavailable") == 0
    edited = programme(tmp_path, "edited.json", title="A new title for the first session")
    before = repository.session_meta_item(TABLE_NAME, SESSION)
    captured.events()
    capsys.readouterr()

    assert kbs(data_dir, "import", str(edited)) == 0
    line = plan_line(capsys.readouterr().out)
    assert line.startswith("refused") and "kbs sessions reopen" in line
    assert repository.session_meta_item(TABLE_NAME, SESSION) == before
    assert captured.events() == []

    assert kbs(data_dir, "reopen", SESSION) == 0
    reopened = repository.get_session(TABLE_NAME, SESSION).session
    assert (reopened.status, reopened.sequence) == (SessionStatus.OPEN, 2)
    (event,) = captured.events()
    assert event["detail-type"] == SESSION_UPDATED
    assert status_of_registrant() == RegistrationStatus.CONFIRMED
    assert kbs(data_dir, "import", str(edited)) == 0
    assert repository.get_session(TABLE_NAME, SESSION).session.title.startswith("A new title")


def test_reimporting_the_relative_sample_never_reschedules(
    data_dir: Path, captured: Capture, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs(data_dir, "import", str(SAMPLE), "--today", "2026-11-24") == 0
    first = repository.get_session(TABLE_NAME, SESSION).session
    captured.events()

    assert kbs(data_dir, "import", str(SAMPLE), "--today", "2026-12-24") == 0

    assert repository.get_session(TABLE_NAME, SESSION).session == first
    assert captured.events() == []
    assert "7 unchanged" in capsys.readouterr().out


ORGANISER_ACTIONS = st.sampled_from(["none", "cancel", "reschedule", "end"])
FILE_EDITS = st.fixed_dictionaries(
    {},
    optional={
        "title": st.sampled_from(["Renamed session title", "Another title entirely"]),
        "capacity": st.integers(1, 500),
        "join_url": st.sampled_from(["https://meet.example.org/x", "https://meet.example.org/y"]),
        "start_days": st.integers(2, 60),
        "description": st.text(alphabet="abc ", max_size=20),
    },
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(action=ORGANISER_ACTIONS, edits=FILE_EDITS)
def test_an_import_never_changes_a_status_and_keeps_what_the_file_did_not_change(
    data_dir: Path, tmp_path: Path, action: str, edits: dict[str, Any]
) -> None:
    repository.table(TABLE_NAME).delete_item(Key={"PK": f"SESSION#{SESSION}", "SK": "META"})
    assert kbs(data_dir, "import", str(programme(tmp_path))) == 0
    if action == "cancel":
        assert kbs(data_dir, "cancel", SESSION, "--reason", "r") == 0
    elif action == "reschedule":
        assert kbs(data_dir, "reschedule", SESSION, "--start", soon(days=70).isoformat()) == 0
    elif action == "end":
        current = repository.get_session(TABLE_NAME, SESSION).session
        repository.change_status(
            TABLE_NAME, current, SessionStatus.ENDED, expected=[current.status]
        )
    before = repository.get_session(TABLE_NAME, SESSION).session
    changes = {k: v for k, v in edits.items() if k != "start_days"}
    if "start_days" in edits:
        changes["start"] = soon(days=edits["start_days"]).isoformat()
    edited = programme(tmp_path, "edited.json", **changes)

    assert kbs(data_dir, "import", str(edited)) == 0
    after = repository.get_session(TABLE_NAME, SESSION).session
    assert after.status is before.status  # never changed by an import
    if before.status is not SessionStatus.OPEN:
        assert after == before  # refused or unchanged: nothing of it stored
    else:
        for field in ("title", "capacity", "description", "start", "join_url"):
            if field not in changes:
                assert getattr(after, field) == getattr(before, field), field
    again = repository.session_meta_item(TABLE_NAME, SESSION)
    assert kbs(data_dir, "import", str(edited)) == 0  # the same file again changes nothing
    assert repository.session_meta_item(TABLE_NAME, SESSION) == again
