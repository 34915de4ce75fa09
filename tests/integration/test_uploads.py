"""The material processor on moto: real uploads to a versioned bucket, the S3 "Object Created"
sample reshaped for each, delivered as SQS records to the declared handler."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

import pytest
from botocore.exceptions import ClientError

from infra.wiring import function
from kbs import sample_files
from shared.materials import library, uploads
from shared.platform import keys
from shared.platform.clients import client, table
from shared.platform.settings import get_settings
from shared.programme.catalogue import load_programme
from shared.programme.repository import put_session
from tests.conftest import BUCKET_NAME, EVENTS, SENDER, TABLE_NAME, load_event
from tests.support import Context, handler_of, sent_emails, sqs_batch

SAMPLE = load_event("bus/material-uploaded.json")
SESSION = "kbs-01-ict-hardware"
ORGANISERS = "organisers@example.org"
UPLOADED_AT = datetime(2026, 11, 24, 16, 40, tzinfo=UTC)

Deliver = Callable[..., dict[str, Any]]


@pytest.fixture
def programme(aws: None) -> None:
    for session in load_programme(EVENTS / "programme.sample.json", UPLOADED_AT):
        put_session(TABLE_NAME, session)


def put(key: str, body: bytes) -> dict[str, Any]:
    """Upload ``body`` with a plain S3 client; the "Object Created" event S3 sends for it
    (the key URL-encoded, as S3 writes it in events)."""
    response = client("s3").put_object(Bucket=BUCKET_NAME, Key=key, Body=body)
    return created_event(key, body, response["VersionId"])


def created_event(
    key: str, body: bytes, version_id: str, at: datetime = UPLOADED_AT, encode: bool = True
) -> dict[str, Any]:
    event = copy.deepcopy(SAMPLE)
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["detail"]["object"] = {
        "key": quote_plus(key, safe="/") if encode else key,
        "size": len(body),
        "etag": hashlib.md5(body).hexdigest(),  # noqa: S324
        "version-id": version_id,
        "sequencer": "00674354BC3F1A2B7E",
    }
    return event


def deliver(*events: dict[str, Any] | str) -> dict[str, Any]:
    result: dict[str, Any] = handler_of(function("material_processor"))(
        sqs_batch(*events), Context()
    )
    return result


def uploads_items() -> list[dict[str, Any]]:
    items = table(TABLE_NAME).scan()["Items"]
    return [i for i in items if i["PK"].startswith("UPLOAD#")]


def exists(key: str, version_id: str) -> bool:
    try:
        client("s3").head_object(Bucket=BUCKET_NAME, Key=key, VersionId=version_id)
    except ClientError:
        return False
    return True


def versions(prefix: str) -> list[dict[str, Any]]:
    listed = client("s3").list_object_versions(Bucket=BUCKET_NAME, Prefix=prefix)
    return list(listed.get("Versions", []))


# --- accepted -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body", "content_type"),
    [
        ("Risk mapping \N{EN DASH} ICT hardware.pdf", sample_files.pdf(), "application/pdf"),
        (
            "Guía de compra pública \N{EN DASH} textiles (borrador) ñ.docx",
            sample_files.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "幻灯片 \N{EN DASH} 供应链.pptx",
            sample_files.pptx(),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            "Überblick_Lieferketten.odt",
            sample_files.odt(),
            "application/vnd.oasis.opendocument.text",
        ),
        (
            "C++ & R: data, 50% done.odp",
            sample_files.odp(),
            "application/vnd.oasis.opendocument.presentation",
        ),
    ],
)
def test_a_valid_upload_is_recorded_with_its_version(
    programme: None, name: str, body: bytes, content_type: str
) -> None:
    key = f"sessions/{SESSION}/slides/{name}"
    event = put(key, body)

    assert deliver(event) == {"batchItemFailures": []}

    (record,) = library.session_materials(TABLE_NAME, SESSION)
    assert record.key == key
    assert record.file_name == name
    assert record.title == library.title_of(name)
    assert record.kind is library.Kind.SLIDES
    assert record.size == len(body)
    assert record.content_type == content_type
    assert record.version_id == event["detail"]["object"]["version-id"]
    assert record.uploaded_at == UPLOADED_AT
    assert len(record.material_id) == 26
    assert versions(key), "an accepted upload stays where it was put"
    assert sent_emails() == []


def test_a_key_sent_as_is_is_found_too(programme: None) -> None:
    """moto (and any sender not URL-encoding) gives the key as is; a literal + must survive."""
    key = f"sessions/{SESSION}/guidance/Notes+annex.pdf"
    body = sample_files.pdf()
    version = client("s3").put_object(Bucket=BUCKET_NAME, Key=key, Body=body)["VersionId"]

    deliver(created_event(key, body, version, encode=False))

    (record,) = library.session_materials(TABLE_NAME, SESSION)
    assert record.key == key
    assert record.title == "Notes+annex"


def test_a_reupload_is_a_new_version_and_the_old_record_is_kept(programme: None) -> None:
    key = f"sessions/{SESSION}/slides/Slides.pdf"
    first = put(key, sample_files.pdf("first"))
    second = created_event(
        key,
        body := sample_files.pdf("second"),
        client("s3").put_object(Bucket=BUCKET_NAME, Key=key, Body=body)["VersionId"],
        at=UPLOADED_AT + timedelta(hours=1),
    )

    deliver(first)
    deliver(second)

    records = library.session_materials(TABLE_NAME, SESSION)
    assert [r.version_id for r in records] == [
        first["detail"]["object"]["version-id"],
        second["detail"]["object"]["version-id"],
    ]
    assert len({r.material_id for r in records}) == 2
    (latest,) = library.current(records)
    assert latest.version_id == second["detail"]["object"]["version-id"]


# --- rejected -----------------------------------------------------------------------------


def _with_macros() -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "a") as package,
        zipfile.ZipFile(io.BytesIO(sample_files.docx())) as original,
    ):
        for entry in original.infolist():
            package.writestr(entry, original.read(entry))
        package.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macros")
    return buffer.getvalue()


BAD_UPLOADS = {
    "unknown session": ("sessions/kbs-99-unknown/slides/Slides.pdf", "unknown_session"),
    "session id not an id": ("sessions/KBS 01/slides/Slides.pdf", "unknown_session"),
    "wrong kind": (f"sessions/{SESSION}/handouts/Slides.pdf", "unknown_kind"),
    "sub-folder": (f"sessions/{SESSION}/slides/draft/Slides.pdf", "misplaced"),
    "path traversal": (f"sessions/{SESSION}/slides/../../../etc/passwd.pdf", "misplaced"),
    "dot-dot name": (f"sessions/{SESSION}/slides/...pdf", "bad_name"),
    "no name": (f"sessions/{SESSION}/slides/.pdf", "bad_name"),
    "control character": (f"sessions/{SESSION}/slides/Slides\x07.pdf", "bad_name"),
    "bidi override": (f"sessions/{SESSION}/slides/Slides\u202efdp.exe.pdf", "bad_name"),
    "too long a name": (f"sessions/{SESSION}/slides/{'é' * 130}.pdf", "bad_name"),
    "unsupported type": (f"sessions/{SESSION}/slides/Slides.exe", "unsupported_type"),
    "macro-enabled type": (f"sessions/{SESSION}/slides/Slides.pptm", "unsupported_type"),
}


@pytest.mark.parametrize(("key", "reason"), BAD_UPLOADS.values(), ids=BAD_UPLOADS.keys())
def test_a_misplaced_or_misnamed_upload_is_quarantined(
    programme: None, key: str, reason: str
) -> None:
    assert_quarantined(put(key, sample_files.pdf()), reason)


def _pdf_with(change: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    if change == "javascript":
        from pypdf.actions import JavaScript

        writer.add_open_action(JavaScript("app.launchURL('https://evil.example/', true);"))
    else:
        writer.add_attachment("invoice.exe", b"MZ\x90\x00")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    """A .docx of a few hundred KB expanding past a thousand times its size (zero-filled parts,
    deflated: the shape of the 5.2 MB file that expanded to 5 GiB)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package,
        zipfile.ZipFile(io.BytesIO(sample_files.docx())) as sample,
    ):
        for entry in sample.infolist():
            package.writestr(entry, sample.read(entry))
        zeros = bytes(4 * 1024 * 1024)
        for n in range(64):
            package.writestr(f"word/media/image{n}.bin", zeros)
    return buffer.getvalue()


BAD_CONTENT = {
    "exe renamed pdf": ("Slides.pdf", b"MZ\x90\x00" + bytes(4096), "wrong_content"),
    "docx named pdf": ("Slides.pdf", sample_files.docx(), "wrong_content"),
    "pdf named docx": ("Notes.docx", sample_files.pdf(), "wrong_content"),
    "zip named pptx": ("Slides.pptx", sample_files.odt(), "wrong_content"),
    "docx with macros": ("Notes.docx", _with_macros(), "macros"),
    "empty": ("Slides.pdf", b"", "empty"),
    # Content that could hurt its readers (issue 12, item 9).
    "pdf with javascript run on open": ("Slides.pdf", _pdf_with("javascript"), "pdf_javascript"),
    "pdf with an embedded file": ("Slides.pdf", _pdf_with("attachment"), "pdf_embedded_file"),
    "docx zip bomb": ("Notes.docx", _zip_bomb(), "zip_ratio"),
}


@pytest.mark.parametrize(("name", "body", "reason"), BAD_CONTENT.values(), ids=BAD_CONTENT.keys())
def test_an_upload_whose_content_is_not_its_type_is_quarantined(
    programme: None, name: str, body: bytes, reason: str
) -> None:
    assert_quarantined(put(f"sessions/{SESSION}/slides/{name}", body), reason)


def test_an_upload_over_the_size_limit_is_quarantined(
    programme: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KBS_MATERIAL_MAX_BYTES", "1000")
    get_settings.cache_clear()

    assert_quarantined(
        put(f"sessions/{SESSION}/slides/Big.pdf", sample_files.pdf("x" * 1000)), "too_large"
    )


def assert_quarantined(event: dict[str, Any], reason: str) -> None:
    key = uploads.unquote_plus(event["detail"]["object"]["key"])

    assert deliver(event) == {"batchItemFailures": []}

    (item,) = uploads_items()
    assert item["type"] == "quarantined"
    assert item["reason"] == reason
    assert item["key"] == key
    assert item["moved"] is True
    version = event["detail"]["object"]["version-id"]
    assert not exists(key, version), "the upload left sessions/ (its version deleted)"
    assert versions(item["quarantine_key"])
    assert item["quarantine_key"].startswith(f"quarantine/{item['upload_id']}/")
    (email,) = sent_emails()
    assert email["To"].addresses[0].addr_spec == ORGANISERS
    assert email["From"].addresses[0].addr_spec == SENDER
    assert email["X-KBS-Kind"] == "material-rejected"
    assert item["message"] in " ".join(email.get_body(("plain",)).get_content().split())
    assert library.session_materials(TABLE_NAME, SESSION) == []


def test_a_bad_upload_over_a_good_one_leaves_the_good_one_current(programme: None) -> None:
    key = f"sessions/{SESSION}/slides/Slides.pdf"
    good = put(key, sample_files.pdf())
    bad = put(key, b"MZ\x90\x00 not a pdf")

    deliver(good, bad)

    (current,) = versions(key)
    assert current["VersionId"] == good["detail"]["object"]["version-id"]
    assert [r.version_id for r in library.current_materials(TABLE_NAME, SESSION)] == [
        current["VersionId"]
    ]


# --- robustness and replay ----------------------------------------------------------------


def test_one_bad_record_blocks_no_other(programme: None) -> None:
    good = put(f"sessions/{SESSION}/slides/Slides.pdf", sample_files.pdf())
    bad = put(f"sessions/{SESSION}/slides/Virus.pdf", b"MZ")
    batch = sqs_batch(good, "not json", bad)

    result = handler_of(function("material_processor"))(batch, Context())

    assert result["batchItemFailures"] == [{"itemIdentifier": batch["Records"][1]["messageId"]}]
    assert {i["type"] for i in uploads_items()} == {"material", "quarantined"}


def test_an_upload_gone_before_it_was_checked_is_ignored(programme: None) -> None:
    event = put(f"sessions/{SESSION}/slides/Slides.pdf", sample_files.pdf())
    obj = event["detail"]["object"]
    key = f"sessions/{SESSION}/slides/Slides.pdf"
    client("s3").delete_object(Bucket=BUCKET_NAME, Key=key, VersionId=obj["version-id"])

    assert deliver(event) == {"batchItemFailures": []}
    assert uploads_items() == []


def test_an_event_of_another_bucket_is_ignored(programme: None) -> None:
    event = put(f"sessions/{SESSION}/slides/Slides.pdf", sample_files.pdf())
    event["detail"]["bucket"]["name"] = "someone-elses-bucket"

    assert deliver(event) == {"batchItemFailures": []}
    assert uploads_items() == []


@pytest.mark.parametrize("good", [True, False], ids=["material", "quarantined"])
def test_a_replayed_event_changes_nothing(programme: None, good: bool) -> None:
    body = sample_files.pdf() if good else b"MZ"
    event = put(f"sessions/{SESSION}/slides/Slides.pdf", body)
    deliver(event)
    first = (uploads_items(), len(sent_emails()), versions(""))

    deliver(event, event)  # twice more, even in one batch
    deliver(json.loads(json.dumps(event)))

    assert (uploads_items(), len(sent_emails()), versions("")) == first
    assert len(uploads_items()) == 1


def test_a_quarantine_interrupted_half_way_is_completed_by_the_replay(
    programme: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = put(f"sessions/{SESSION}/slides/Slides.pdf", b"MZ")

    def down(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SES down")

    with monkeypatch.context() as patched:
        patched.setattr(uploads.sending, "send_once", down)
        failed = deliver(event)
    deliver(event)

    assert len(failed["batchItemFailures"]) == 1
    (item,) = uploads_items()
    assert item["moved"] is True
    assert len(sent_emails()) == 1


def test_keys_document_the_upload_items() -> None:
    assert keys.upload_pk("abc") == "UPLOAD#abc"
    assert "UPLOAD#{id}" in keys.__doc__ and "MATERIALS_DUE" in keys.__doc__  # type: ignore[operator]


def test_an_upload_for_a_cancelled_session_is_quarantined_with_that_reason(
    programme: None,
) -> None:
    from shared.programme.models import SessionStatus
    from shared.programme.repository import get_session

    put_session(
        TABLE_NAME,
        get_session(TABLE_NAME, SESSION).session.model_copy(
            update={"status": SessionStatus.CANCELLED}
        ),
    )
    assert_quarantined(
        put(f"sessions/{SESSION}/slides/Slides.pdf", sample_files.pdf()), "cancelled_session"
    )


def test_one_visible_name_in_nfc_and_nfd_is_one_material_with_versions(programme: None) -> None:
    nfc = f"sessions/{SESSION}/guidance/Caf\u00e9 r\u00e9sum\u00e9.pdf"
    nfd = f"sessions/{SESSION}/guidance/Cafe\u0301 re\u0301sume\u0301.pdf"
    first = put(nfc, sample_files.pdf("first"))
    second = created_event(
        nfd,
        sample_files.pdf("second"),
        client("s3").put_object(Bucket=BUCKET_NAME, Key=nfd, Body=sample_files.pdf("second"))[
            "VersionId"
        ],
        at=UPLOADED_AT + timedelta(minutes=5),
    )

    assert deliver(first, second) == {"batchItemFailures": []}

    records = library.session_materials(TABLE_NAME, SESSION)
    assert {r.file_name for r in records} == {"Caf\u00e9 r\u00e9sum\u00e9.pdf"}
    (current,) = library.current_materials(TABLE_NAME, SESSION)
    assert current.version_id == second["detail"]["object"]["version-id"]
