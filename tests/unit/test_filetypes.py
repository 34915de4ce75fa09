"""Content sniffing (and how little it reads), and the key and file name checks of uploads."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbs import sample_files
from shared.materials import filetypes, uploads
from shared.materials.library import Kind, human_size, title_of
from shared.platform.event_types import MATERIAL_KINDS


class Recorded:
    """A reader over ``data`` that records each ranged read."""

    def __init__(self, data: bytes) -> None:
        self.data, self.reads = data, []

    def __call__(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return self.data[offset : offset + length]


def sniff(data: bytes) -> str | None:
    return filetypes.sniff(Recorded(data), len(data))


@pytest.mark.parametrize("extension", ["pdf", "docx", "pptx", "odt", "odp"])
def test_each_accepted_type_is_recognised_by_its_content(extension: str) -> None:
    assert sniff(getattr(sample_files, extension)()) == extension


def test_a_large_package_is_read_at_its_head_and_tail_only() -> None:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w") as package,
        zipfile.ZipFile(io.BytesIO(sample_files.pptx())) as sample,
    ):
        for entry in sample.infolist():
            package.writestr(entry, sample.read(entry))
        package.writestr("ppt/media/video.bin", os.urandom(5_000_000), zipfile.ZIP_STORED)
    data = buffer.getvalue()
    reader = Recorded(data)

    assert filetypes.sniff(reader, len(data)) == "pptx"
    assert sum(length for _, length in reader.reads) <= 3 * filetypes.BLOCK


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"MZ\x90\x00" + bytes(1000),
        b"%PDF",  # cut short
        b" %PDF-1.7",
        b"PK\x03\x04" + os.urandom(5000),
        b"PK\x05\x06" + bytes(18),  # an empty ZIP
    ],
    ids=["empty", "exe", "short", "offset", "broken zip", "empty zip"],
)
def test_anything_else_is_no_accepted_type(data: bytes) -> None:
    assert sniff(data) is None


def _package(*names: str, first: tuple[str, bytes, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        if first:
            package.writestr(first[0], first[1], first[2])
        for name in names:
            package.writestr(name, b"<x/>")
    return buffer.getvalue()


def test_a_zip_is_an_office_package_only_with_the_right_parts() -> None:
    assert sniff(_package("[Content_Types].xml", "word/document.xml")) == "docx"
    assert sniff(_package("word/document.xml")) is None  # no [Content_Types].xml
    assert sniff(_package("[Content_Types].xml", "xl/workbook.xml")) is None  # a spreadsheet
    odf = "application/vnd.oasis.opendocument.text"
    assert (
        sniff(_package("content.xml", first=("mimetype", odf.encode(), zipfile.ZIP_STORED)))
        == "odt"
    )
    compressed = ("mimetype", odf.encode(), zipfile.ZIP_DEFLATED)
    assert sniff(_package("content.xml", first=compressed)) is None
    sheet = ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
    assert sniff(_package("content.xml", first=sheet)) is None


def test_macros_are_reported() -> None:
    with pytest.raises(filetypes.MacrosError):
        sniff(_package("[Content_Types].xml", "ppt/presentation.xml", "ppt/vbaProject.bin"))


@given(st.binary(max_size=2000))
def test_no_content_crashes_the_sniffer(data: bytes) -> None:
    assert sniff(data) in (None, *filetypes.TYPES)
    assert sniff(b"PK\x03\x04" + data) in (None, *filetypes.TYPES)


# --- keys and names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Risk mapping \N{EN DASH} ICT hardware.pdf",
        "Guía de compra pública (borrador) ñ.docx",
        "Łańcuch dostaw.odt",
        "供应链风险.pptx",
        "Übersicht  mit   Leerzeichen.ODP",
        "C++ & R, 50% done; v2 [final] #3 @home!.pdf",
        "é" * 120 + ".pdf",
    ],
)
def test_file_names_as_organisers_write_them_are_accepted(name: str) -> None:
    parsed = uploads.parse_key(f"sessions/kbs-01-ict-hardware/guidance/{name}")

    assert parsed.file_name == name
    assert parsed.kind is Kind.GUIDANCE
    assert parsed.extension == name.rpartition(".")[2].lower()


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("sessions/kbs-01-ict-hardware/slides/", "bad_name"),
        ("sessions/kbs-01-ict-hardware/slides/ .pdf", "bad_name"),
        ("sessions/kbs-01-ict-hardware/slides/..", "bad_name"),
        ("sessions/kbs-01-ict-hardware/slides/a\nb.pdf", "bad_name"),
        ("sessions/kbs-01-ict-hardware/slides/a\u200bb.pdf", "bad_name"),  # zero-width space
        ("sessions/kbs-01-ict-hardware/slides/a\\b.pdf", "bad_name"),
        ("sessions/kbs-01-ict-hardware/slides/" + "é" * 128 + ".pdf", "bad_name"),
        ("sessions/kbs-01-ict-hardware/slides/notes", "bad_name"),
        ("sessions/kbs-01-ict-hardware/slides/notes.txt", "unsupported_type"),
        ("sessions/kbs-01-ict-hardware/Slides/notes.pdf", "unknown_kind"),
        ("sessions/../slides/notes.pdf", "unknown_session"),
        ("sessions//slides/notes.pdf", "unknown_session"),
        ("sessions/kbs-01-ict-hardware/notes.pdf", "misplaced"),
        ("sessions/kbs-01-ict-hardware/slides/a/../notes.pdf", "misplaced"),
        ("other/kbs-01-ict-hardware/slides/notes.pdf", "misplaced"),
    ],
)
def test_odd_keys_are_rejected_with_their_reason(key: str, reason: str) -> None:
    with pytest.raises(uploads.RejectedError) as rejected:
        uploads.parse_key(key)

    assert rejected.value.reason == reason
    assert str(rejected.value)


def test_titles_and_sizes_read_well() -> None:
    assert title_of("Risk_mapping  \N{EN DASH} ICT.pdf") == "Risk mapping \N{EN DASH} ICT"
    assert title_of("Cafe\u0301.docx") == "Caf\u00e9"  # NFD (macOS) becomes NFC
    assert [human_size(n) for n in (0, 999, 1000, 1_234_567, 5 * 10**9)] == [
        "0 bytes",
        "999 bytes",
        "1.0 kB",
        "1.2 MB",
        "5.0 GB",
    ]


def test_upload_ids_are_stable_and_differ_per_version() -> None:
    def upload(version: str | None, key: str = "sessions/a/slides/x.pdf") -> uploads.Upload:
        from datetime import UTC, datetime

        return uploads.Upload("b", key, 1, version, "e", "s", datetime(2026, 1, 1, tzinfo=UTC))

    assert upload("v1").upload_id == upload("v1").upload_id
    assert len({upload("v1").upload_id, upload("v2").upload_id, upload(None).upload_id}) == 3
    assert upload("v1").upload_id.isalnum() and len(upload("v1").upload_id) == 26


def test_the_kinds_are_the_folders_of_the_bucket_layout() -> None:
    assert tuple(Kind) == MATERIAL_KINDS
