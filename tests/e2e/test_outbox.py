"""Every email moto's SES accepted lands once in ``DATA_DIR/outbox`` as an RFC 5322 ``.eml``."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest

from kbs.cli import main
from kbs.local.outbox import Outbox
from kbs.local.server import moto_client
from shared.web.links import email_hash
from tests.e2e.conftest import StartInProcess
from tests.e2e.support import read_eml, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def info(in_process: StartInProcess) -> dict[str, Any]:
    return in_process()  # no functions: just the provisioned account and the outbox


def raw_invitation(sender: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "zoe@example.se"
    message["Subject"] = "Your invitation"
    message.set_content("See the attached invitation.")
    message.add_attachment(
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        maintype="text",
        subtype="calendar",
        filename="invite.ics",
    )
    return message.as_bytes()


def new_emls(outbox: Path, before: set[Path], count: int) -> list[Path]:
    """The ``.eml`` files not in ``before``, once there are ``count`` of them (else nothing)."""
    paths = sorted(set(outbox.glob("*.eml")) - before, key=lambda path: path.stat().st_mtime_ns)
    return paths if len(paths) == count else []


def test_sent_mail_is_written_once_each_in_sending_order(info: dict[str, Any]) -> None:
    ses = moto_client("sesv2", info["aws_endpoint_url"], info["region"])
    sender = info["sender_email"]
    outbox = Path(info["outbox"])
    before = set(outbox.glob("*.eml"))

    ses.send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": ["zoe@example.se"]},
        Content={"Raw": {"Data": raw_invitation(sender)}},
        ConfigurationSetName=info["configuration_set"],
    )
    first = wait_for(lambda: new_emls(outbox, before, 1), what="the raw message")
    ses.send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": ["ana@example.pt"], "CcAddresses": ["team@example.pt"]},
        Content={
            "Simple": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Plain words."}}}
        },
    )
    both = wait_for(lambda: new_emls(outbox, before, 2), what="the simple message")

    assert len(first) == 1
    assert len(both) == 2
    raw, simple = (read_eml(path) for path in both)  # in the order written
    assert raw["Subject"] == "Your invitation"
    assert raw["Message-ID"] and raw["Date"]  # added, as SES does
    (attachment,) = [part for part in raw.walk() if part.get_filename()]
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert b"BEGIN:VCALENDAR" in attachment.get_payload(decode=True)
    assert simple["From"] == sender
    assert simple["To"] == "ana@example.pt"
    assert simple["Cc"] == "team@example.pt"
    assert simple["Subject"] == "Hello"
    assert simple.get_content().strip() == "Plain words."
    assert b"\r\n" in both[0].read_bytes()  # RFC 5322 line endings


def test_templated_mail_is_kept_with_its_template_data(info: dict[str, Any]) -> None:
    ses = moto_client("ses", info["aws_endpoint_url"], info["region"])
    ses.create_template(
        Template={"TemplateName": "reminder", "SubjectPart": "Soon", "TextPart": "Hi {{name}}"}
    )
    ses.send_templated_email(
        Source=info["sender_email"],
        Destination={"ToAddresses": ["lea@example.de"]},
        Template="reminder",
        TemplateData='{"name": "Lea"}',
    )

    def templated() -> list[Path]:
        return [p for p in Path(info["outbox"]).glob("*.eml") if read_eml(p)["X-SES-Template"]]

    (path,) = wait_for(templated, what="the templated message")
    message = read_eml(path)
    assert message["To"] == "lea@example.de"
    assert message["X-SES-Template"] == "reminder"
    assert '{"name": "Lea"}' in message.get_content()


def test_a_second_writer_on_the_same_outbox_writes_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An Outbox reads the SES memory of the moto in its own process (kbs serve runs it in
    # moto's process): here, in-process moto.
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        ses = boto3.client(
            "sesv2",
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        ses.create_email_identity(EmailIdentity="kbs@example.org")
        ses.send_email(
            FromEmailAddress="kbs@example.org",
            Destination={"ToAddresses": ["ana@example.pt"]},
            Content={"Simple": {"Subject": {"Data": "Again"}, "Body": {"Text": {"Data": "."}}}},
        )
        first = Outbox(tmp_path / "outbox")

        written = first.collect()
        second = Outbox(tmp_path / "outbox")

        assert len(written) == 1
        assert first.collect() == []
        assert second.collect() == []


def reminder(sender: str, to: str, subject: str, date: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"Zoë Åkesson <{to}>"
    message["Subject"] = subject
    message["Date"] = date
    message["X-KBS-Kind"] = "reminder-24h"
    message.set_content("Tomorrow.")
    return message.as_bytes()


def test_files_are_named_by_time_kind_and_recipient_digest_and_listed_by_filter(
    info: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    ses = moto_client("sesv2", info["aws_endpoint_url"], info["region"])
    sender, zoe = info["sender_email"], "zoe.akesson@region.example.se"
    outbox = Path(info["outbox"])
    before = set(outbox.glob("*.eml"))
    same_second = "Tue, 01 Dec 2026 09:05:00 +0100"
    for to, subject in ((zoe, "Tomorrow: ICT"), (zoe, "Tomorrow: Solar"), ("ana@example.pt", "X")):
        ses.send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [to]},
            Content={"Raw": {"Data": reminder(sender, to, subject, same_second)}},
        )

    def reminders() -> list[Path]:
        paths = [p for p in set(outbox.glob("*.eml")) - before if "-reminder-24h-" in p.name]
        return paths if len(paths) == 3 else []

    paths = wait_for(reminders, what="three reminders")

    code = main(
        [
            "outbox",
            "list",
            "--to",
            "ZOE.Akesson@region.example.se",
            "--kind",
            "reminder-24h",
            "--local",
            str(outbox.parent),
        ]
    )
    header, *rows = capsys.readouterr().out.splitlines()
    nobody = "nobody@example.org"
    none = main(
        ["outbox", "list", "--to", nobody, "--kind", "reminder-24h", "--local", str(outbox.parent)]
    )
    matched_nothing = capsys.readouterr()
    with pytest.raises(SystemExit) as unknown:  # argparse refuses a kind kbs never sends
        main(["outbox", "list", "--kind", "reminder-42h", "--local", str(outbox.parent)])
    refused = capsys.readouterr()

    digest = email_hash(zoe)[:8]
    assert {p.name for p in paths if digest in p.name} == {
        f"20261201T080500Z-reminder-24h-{digest}.eml",
        f"20261201T080500Z-reminder-24h-{digest}-2.eml",  # unique within a second
    }
    assert not any("@" in p.name or "akesson" in p.name for p in paths)
    assert code == 0 and none == 0 and unknown.value.code == 2
    assert header.split() == ["TIME", "KIND", "TO", "SUBJECT", "FILE"]
    assert len(rows) == 2
    for row, subject in zip(rows, ("Tomorrow: ICT", "Tomorrow: Solar"), strict=True):
        assert row.startswith(f"2026-12-01T08:05:00Z  reminder-24h  {zoe}  {subject}")
        assert f"reminder-24h-{digest}" in row
    assert "No emails" in matched_nothing.out and "match" in matched_nothing.out
    assert refused.out == "" and "invalid choice: 'reminder-42h'" in refused.err
    assert "'reminder-24h'" in refused.err and "'certificate'" in refused.err  # the kinds
