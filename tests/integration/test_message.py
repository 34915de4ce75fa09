"""``kbs message``: an organiser's message through the notice path on moto (the email queue
drained by the real email sender): once per person, suppressions respected, replays inert."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from boto3.dynamodb.conditions import Attr

from kbs.cli import main
from shared.attendance.store import Attendance, attendance_item
from shared.mail import suppression
from shared.notices.fanout import enqueue
from shared.notices.kinds import EmailBatch
from shared.platform.clients import table
from shared.registrations.models import RegistrationStatus
from tests.conftest import TABLE_NAME
from tests.integration.lifecycle_harness import (
    Lifecycle,
    part,
    recipients,
    registration,
    sample_session,
    sent_emails,
)
from tests.support import local_stack_file

SID = "kbs-01-ict-hardware"
NOW = "2026-11-30T12:00:00Z"
CONFIRMED = (1, 2, 5, 6)
UNSUBSCRIBED, BOUNCED = 5, 6


def email(n: int) -> str:
    return f"buyer.{n}@authority.example.eu"


@pytest.fixture
def life(aws: None, monkeypatch: pytest.MonkeyPatch) -> Lifecycle:
    life = Lifecycle(monkeypatch)
    session = life.schedule(sample_session())
    life.register(
        *(registration(SID, n) for n in CONFIRMED),
        registration(SID, 3, status=RegistrationStatus.WAITLISTED),
        registration(SID, 4, status=RegistrationStatus.CANCELLED),
    )
    at = datetime(2026, 11, 29, tzinfo=session.start.tzinfo)
    suppression.suppress(TABLE_NAME, email(UNSUBSCRIBED), suppression.Reason.UNSUBSCRIBED, at)
    suppression.suppress(TABLE_NAME, email(BOUNCED), suppression.Reason.BOUNCED, at)
    return life


@pytest.fixture
def data_dir(tmp_path: Path, life: Lifecycle) -> Path:
    stack = tmp_path / "stack"
    stack.mkdir()
    return local_stack_file(stack, clock=NOW)


@pytest.fixture
def body(tmp_path: Path) -> Path:
    path = tmp_path / "body.txt"
    path.write_text("The room changed: <b>Hall 2</b>.\n\nSee you there & thanks.", "utf-8")
    return path


def kbs(data_dir: Path, *argv: str) -> int:
    return main(["message", *argv, "--local", str(data_dir)])


def test_a_message_reaches_each_confirmed_registrant_once(
    life: Lifecycle, data_dir: Path, body: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = (SID, "--subject", "Room change", "--body-file", str(body))
    assert kbs(data_dir, *argv) == 0
    assert "queued for 4 recipient(s) in 1 batch(es)" in capsys.readouterr().out
    batches = life.queued_batches()
    life.send_emails()
    # The unsubscribed (a notice) and the bounced are skipped; waitlisted and cancelled not asked.
    assert recipients("message") == {email(1): 1, email(2): 1}
    (first, _) = sent_emails("message")
    text = part(first, "text/plain") or ""
    html = part(first, "text/html") or ""
    assert first["Subject"] == "Room change" and "The room changed: <b>Hall 2</b>." in text
    assert "&lt;b&gt;Hall 2&lt;/b&gt;" in html and "<b>Hall 2" not in html  # autoescaped
    assert "unsubscribe" in text.lower() and first["List-Unsubscribe"]  # the usual footer

    # A replay of its batch, and the same command again: nothing sent twice.
    enqueue(life.email_queue, [EmailBatch.model_validate(b) for b in batches])
    assert kbs(data_dir, *argv) == 0
    life.send_emails()
    assert recipients("message") == {email(1): 1, email(2): 1}
    assert life.failed["email_sender"] == 0

    # The body is in the table, by message id; the queue carries only the id.
    (batch,) = batches
    assert "Hall 2" not in str(batch)
    item = table(TABLE_NAME).get_item(Key={"PK": f"MESSAGE#{batch['version']}", "SK": "MESSAGE"})
    assert "Hall 2" in item["Item"]["body"]


def test_essential_reaches_the_unsubscribed_not_the_bounced(
    life: Lifecycle, data_dir: Path, body: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = (SID, "--subject", "New join link", "--body-file", str(body), "--essential")
    assert kbs(data_dir, *argv) == 0
    assert "essential message" in capsys.readouterr().out
    life.send_emails()
    assert recipients("message-essential") == {email(1): 1, email(2): 1, email(UNSUBSCRIBED): 1}


def test_audiences(
    life: Lifecycle, data_dir: Path, body: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = sample_session()
    record = Attendance(SID, email(1), 70, "csv", session.end, "i-1")
    table(TABLE_NAME).put_item(Item=attendance_item(record, session, 6))
    expected = {"waitlisted": 1, "attended": 1, "absent": 3, "all": 5, "confirmed": 4}
    for audience, count in expected.items():
        assert kbs(data_dir, SID, "--subject", "S", "--body-file", str(body), "--to", audience,
                   "--dry-run") == 0  # fmt: skip
        out = capsys.readouterr().out
        assert f"Dry run: {count} recipient(s)" in out, audience
    assert "Subject: S" in out and "The room changed: <b>Hall 2</b>." in out
    assert life.queued_batches() == [] and sent_emails() == []


@pytest.mark.parametrize(
    ("content", "argv", "error"),
    [
        (b"", (), "the body file is empty"),
        (b"  \n\n ", (), "the body file is empty"),
        (b"caf\xe9", (), "not UTF-8"),
        (b"x" * 20_001, (), "at most 20000"),
        (b"ok", ("--subject", "two\nlines"), "one line"),
    ],
)
def test_bad_input_is_refused_and_nothing_sent(
    life: Lifecycle,
    data_dir: Path,
    tmp_path: Path,
    content: bytes,
    argv: tuple[str, ...],
    error: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    assert kbs(data_dir, SID, "--subject", "S", "--body-file", str(path), *argv) == 2
    assert error in capsys.readouterr().err
    assert life.queued_batches() == []
    # Nothing stored either (a test may Scan; the product never does).
    assert table(TABLE_NAME).scan(FilterExpression=Attr("type").eq("message"))["Items"] == []


def test_unknown_session_and_audience(
    life: Lifecycle, data_dir: Path, body: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs(data_dir, "kbs-99-nothing", "--subject", "S", "--body-file", str(body)) == 2
    assert "no session kbs-99-nothing" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        kbs(data_dir, SID, "--subject", "S", "--body-file", str(body), "--to", "everyone")
    assert exited.value.code == 2
    assert "invalid choice: 'everyone'" in capsys.readouterr().err
    assert life.queued_batches() == []
