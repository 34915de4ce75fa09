"""``kbs materials upload|list|withdraw`` on moto, through the real ``--local DATA_DIR`` target;
the upload's S3 event handed to the material processor as EventBridge would."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbs import sample_files
from kbs.cli import main
from shared.materials import library
from shared.platform.clients import client
from tests.conftest import BUCKET_NAME, EVENTS, TABLE_NAME
from tests.integration.test_uploads import created_event, deliver
from tests.support import local_stack_file

SESSION = "kbs-01-ict-hardware"
NAME = "Riskkartläggning IKT.pdf"


@pytest.fixture
def data_dir(tmp_path: Path, aws: None) -> Path:
    """A local-stack description pointing at the in-process moto account (no endpoint)."""
    local_stack_file(tmp_path)
    programme = EVENTS / "programme.sample.json"
    assert main(["sessions", "import", str(programme), "--local", str(tmp_path)]) == 0
    return tmp_path


def test_upload_list_withdraw(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = ["--local", str(data_dir)]
    good, bad = tmp_path / NAME, tmp_path / "notes.pdf"
    good.write_bytes(body := sample_files.pdf())
    bad.write_bytes(b"MZ not a pdf")

    assert main(["materials", "upload", SESSION, str(good), "--kind", "slides", *local]) == 0
    assert main(["materials", "upload", SESSION, str(bad), "--kind", "guidance", *local]) == 0
    for key, data in (
        (f"sessions/{SESSION}/slides/{NAME}", body),
        (f"sessions/{SESSION}/guidance/notes.pdf", bad.read_bytes()),
    ):
        head = client("s3").head_object(Bucket=BUCKET_NAME, Key=key)
        deliver(created_event(key, data, head["VersionId"]))
    capsys.readouterr()

    assert main(["materials", "list", SESSION, *local]) == 0
    listed = capsys.readouterr().out
    (record,) = library.session_materials(TABLE_NAME, SESSION)
    assert record.material_id in listed and "Riskkartläggning IKT" in listed and "current" in listed
    assert "Rejected uploads (1)" in listed and "notes.pdf" in listed

    assert main(["materials", "withdraw", record.material_id, *local]) == 0
    assert main(["materials", "list", SESSION, *local]) == 0
    assert "withdrawn" in capsys.readouterr().out
    assert library.get_material(TABLE_NAME, record.material_id).withdrawn_at is not None
    assert main(["materials", "withdraw", "no-such-material", *local]) == 1


def test_upload_of_a_missing_file_fails_before_touching_s3(data_dir: Path) -> None:
    assert (
        main(
            [
                "materials",
                "upload",
                SESSION,
                "/nonexistent.pdf",
                "--kind",
                "slides",
                "--local",
                str(data_dir),
            ]
        )
        == 2
    )
