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
    subject = argv or ("--subject", "S")  # a bad subject replaces the good one
    assert kbs(data_dir, SID, *subject, "--body-file", str(path)) == 2
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


def test_each_recipient_gets_the_body_and_surroundings_of_their_language(
    life: Lifecycle, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    french_title = "Risques de travail forcé dans le matériel TIC"
    life.schedule(sample_session(title_i18n={"fr": french_title}))
    life.register(
        registration(SID, 1).model_copy(update={"language": "fr-BE"}),
        registration(SID, 2).model_copy(update={"language": "sv"}),
    )
    files = {"default": "The room changed to Hall 2.", "fr": "La salle devient la salle 2."}
    files["de"] = "Der Raum ist jetzt Saal 2."
    for name, text in files.items():
        (tmp_path / f"{name}.txt").write_text(text, "utf-8")
    argv = ["--body-file", str(tmp_path / "default.txt")]
    argv += [f"--body-file={code}={tmp_path / f'{code}.txt'}" for code in ("fr", "de")]
    subjects = ("--subject", "Room change", "--subject", "fr=Changement de salle")
    assert kbs(data_dir, SID, *subjects, *argv) == 0
    life.send_emails()
    assert recipients("message") == {email(1): 1, email(2): 1}
    by_person = {m["To"].addresses[0].addr_spec: m for m in sent_emails("message")}

    assert by_person[email(1)]["Subject"] == "Changement de salle"
    assert by_person[email(2)]["Subject"] == "Room change"
    french = part(by_person[email(1)], "text/plain") or ""
    assert "La salle devient la salle 2." in french and "Hall 2" not in french
    assert "Bonjour Buyer Nº1," in french
    assert "Un message des organisateurs de la Knowledge Building Series" in french
    assert french_title in french and "décembre 2026" in french
    assert "Vos présences, attestations et heures CPD sur l'ensemble de la série" in french
    french_html = part(by_person[email(1)], "text/html") or ""
    assert "Vos données" in french_html and "Mon dossier" in french_html  # the footers' links

    swedish = part(by_person[email(2)], "text/plain") or ""
    assert "The room changed to Hall 2." in swedish  # no Swedish body: the default one
    assert "Saal 2" not in swedish and "salle 2" not in swedish
    assert "Hej Buyer Nº2," in swedish and "Ett meddelande från arrangörerna" in swedish
    assert "december 2026" in swedish and "Din närvaro, dina intyg och CPD-timmar" in swedish
    assert "Dina uppgifter" in (part(by_person[email(2)], "text/html") or "")
    assert "Dear " not in swedish and "A message from the organisers" not in swedish

    # The bodies are stored with the message, by language.
    (item,) = table(TABLE_NAME).scan(FilterExpression=Attr("type").eq("message"))["Items"]
    assert item["bodies"] == {"fr": files["fr"], "de": files["de"]}
    assert item["subjects"] == {"fr": "Changement de salle"}


def test_an_english_body_is_the_default_when_no_other_is_given(
    life: Lifecycle, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    life.register(registration(SID, 1).model_copy(update={"language": "pl"}))
    (tmp_path / "en.txt").write_text("In English.", "utf-8")
    (tmp_path / "fr.txt").write_text("En français.", "utf-8")
    argv = ("--body-file", f"en={tmp_path / 'en.txt'}", "--body-file", f"FR={tmp_path / 'fr.txt'}")
    assert kbs(data_dir, SID, "--subject", "S", *argv, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "In English." in out and "En français." not in out


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (("xx=fr.txt",), "unknown language code 'xx'"),
        (("fr-BE=fr.txt",), "unknown language code 'fr-BE'"),
        (("fr=fr.txt", "fr=fr.txt"), "--body-file given twice for fr"),
        (("fr.txt", "fr.txt"), "two default --body-file values"),
        (("fr=fr.txt",), "no default --body-file"),
    ],
)
def test_bad_language_bodies_are_refused_and_nothing_sent(
    life: Lifecycle,
    data_dir: Path,
    tmp_path: Path,
    options: tuple[str, ...],
    error: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "fr.txt").write_text("Bonjour.", "utf-8")
    monkeypatch.chdir(tmp_path)
    argv = [arg for option in options for arg in ("--body-file", option)]
    assert kbs(data_dir, SID, "--subject", "S", *argv) == 2
    err = capsys.readouterr().err
    assert error in err and "nothing was sent" in err
    assert life.queued_batches() == []
    assert table(TABLE_NAME).scan(FilterExpression=Attr("type").eq("message"))["Items"] == []


def test_a_subject_in_an_unknown_language_is_refused(
    life: Lifecycle, data_dir: Path, body: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("--subject", "S", "--subject", "eo=Saluton", "--body-file", str(body))
    assert kbs(data_dir, SID, *argv) == 2
    assert "unknown language code 'eo'" in capsys.readouterr().err
    assert life.queued_batches() == []
