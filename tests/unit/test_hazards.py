"""Materials that could hurt their readers (issue 12, item 9): PDFs parsed with pypdf, ZIP
packages judged by their central directory."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kbs import sample_files
from shared.materials import filetypes, hazards


def pdf_writer() -> object:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    return writer


def written(writer: object) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


def reason(data: bytes) -> str | None:
    try:
        hazards.check_pdf(data)
    except hazards.UnsafeContentError as unsafe:
        return unsafe.reason
    return None


def test_a_plain_pdf_passes() -> None:
    assert reason(sample_files.pdf()) is None
    assert reason(written(pdf_writer())) is None


def test_javascript_run_on_open_is_found() -> None:
    writer = pdf_writer()
    from pypdf.actions import JavaScript

    writer.add_open_action(JavaScript("app.alert('hello');"))  # type: ignore[attr-defined]
    assert reason(written(writer)) == "pdf_javascript"


def test_an_embedded_file_is_found() -> None:
    writer = pdf_writer()
    writer.add_attachment("payload.exe", b"MZ\x90\x00")  # type: ignore[attr-defined]
    assert reason(written(writer)) == "pdf_embedded_file"


def test_a_launch_action_on_open_is_found() -> None:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = pdf_writer()
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(  # type: ignore[attr-defined]
        {
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("calc.exe"),
        }
    )
    assert reason(written(writer)) == "pdf_launch"


def _objstm_pdf(action: bytes) -> bytes:
    """A PDF 1.5 whose catalog (with ``action`` as its OpenAction) sits in a Flate-compressed
    object stream, found through a cross-reference stream: no byte of it is readable as is."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction " + action + b" >>"
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    objects = [catalog, pages, page]
    header, body, offset = [], b"", 0
    for number, obj in enumerate(objects, 1):
        header.append(b"%d %d" % (number, offset))
        body += obj + b"\n"
        offset = len(body)
    first = b" ".join(header) + b"\n"
    packed = zlib.compress(first + body)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    stm_offset = len(out)
    out += (
        b"4 0 obj\n<< /Type /ObjStm /N 3 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(first), len(packed))
    )
    out += packed + b"\nendstream\nendobj\n"
    xref_offset = len(out)
    rows = [b"\x00\x00\x00\xff\xff", *(b"\x02\x00\x00\x04" + bytes([i]) for i in range(3))]
    rows.append(b"\x01" + stm_offset.to_bytes(3, "big") + b"\x00")
    rows.append(b"\x01" + xref_offset.to_bytes(3, "big") + b"\x00")
    table = zlib.compress(b"".join(rows))
    out += (
        b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 3 1] /Root 1 0 R /Filter /FlateDecode "
        b"/Length %d >>\nstream\n" % len(table)
    )
    out += table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def test_javascript_inside_a_compressed_object_stream_is_found() -> None:
    data = _objstm_pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    assert b"JavaScript" not in data  # a byte search would miss it
    assert reason(data) == "pdf_javascript"
    assert reason(_objstm_pdf(b"<< /S /Launch /F (calc.exe) >>")) == "pdf_launch"
    assert reason(_objstm_pdf(b"[3 0 R /Fit]")) is None  # an ordinary OpenAction


def test_an_unreadable_pdf_cannot_be_shown_safe() -> None:
    assert reason(b"%PDF-1.4\n garbage") == "pdf_unreadable"


def zip_of(entries: int, size: int, name: str = "word/media/part{}.bin") -> bytes:
    """A docx with ``entries`` extra zero-filled parts of ``size`` bytes each, deflated."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package,
        zipfile.ZipFile(io.BytesIO(sample_files.docx())) as sample,
    ):
        for entry in sample.infolist():
            package.writestr(entry, sample.read(entry))
        zeros = bytes(size)
        for n in range(entries):
            package.writestr(name.format(n), zeros)
    return buffer.getvalue()


def package_reason(data: bytes, limits: hazards.ZipLimits = hazards.ZIP_LIMITS) -> str | None:
    try:
        filetypes.sniff(lambda o, n: data[o : o + n], len(data), limits)
    except hazards.UnsafeContentError as unsafe:
        return unsafe.reason
    return None


def test_a_zip_bomb_docx_is_refused_from_its_central_directory() -> None:
    bomb = zip_of(entries=40, size=2 * 1024 * 1024)  # 80 MiB of zeros in about 80 KB
    assert len(bomb) < 200_000
    assert package_reason(bomb) == "zip_ratio"
    assert package_reason(bomb, hazards.ZipLimits(max_total_bytes=64 * 1024 * 1024)) == ("zip_size")
    assert package_reason(zip_of(entries=300, size=10), hazards.ZipLimits(max_entries=200)) == (
        "zip_entries"
    )
    assert package_reason(sample_files.docx()) is None


@settings(max_examples=30, deadline=None)
@given(entries=st.integers(0, 50), size=st.integers(0, 4000), ratio=st.integers(2, 200))
def test_a_package_is_refused_exactly_when_past_a_limit(
    entries: int, size: int, ratio: int
) -> None:
    data = zip_of(entries, size)
    limits = hazards.ZipLimits(max_total_bytes=60_000, max_ratio=ratio, max_entries=30)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        infos = package.infolist()
    total = sum(i.file_size for i in infos)
    expected = (
        "zip_entries"
        if len(infos) > limits.max_entries
        else "zip_size"
        if total > limits.max_total_bytes
        else "zip_ratio"
        if total > ratio * len(data)
        else None
    )
    assert package_reason(data, limits) == expected


@pytest.mark.parametrize("extension", ["pdf", "docx", "pptx", "odt", "odp"])
def test_the_sample_files_are_safe(extension: str) -> None:
    data = getattr(sample_files, extension)()
    assert package_reason(data) is None
    if extension == "pdf":
        assert reason(data) is None
