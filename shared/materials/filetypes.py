"""What a file is, by its content: PDF, or the ZIP packages of PPTX, DOCX, ODP and ODT.

Only the bytes needed are read, through ``read(offset, length)``: the first bytes for a PDF
(``%PDF-``), and for a ZIP its central directory at the end (the list of parts) plus, for
OpenDocument, the first entry ``mimetype``, stored uncompressed. Nothing is decompressed but
that one short entry, so a ZIP bomb costs nothing to check: one past the limits of
:mod:`shared.materials.hazards` (size, ratio, entries) is refused from its central directory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from shared.materials.hazards import ZIP_LIMITS, ZipLimits, check_package

Reader = Callable[[int, int], bytes]
"""``read(offset, length)``: up to ``length`` bytes of the file from ``offset``."""

BLOCK = 64 * 1024
"""Bytes fetched per read: the head of a file, or its tail with the ZIP central directory."""
_MAX_MIMETYPE = 100
_ODF_MIMETYPES = {
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.oasis.opendocument.text": "odt",
}


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str
    label: str


TYPES = {
    t.extension: t
    for t in (
        FileType("pdf", "application/pdf", "PDF"),
        FileType(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "PowerPoint",
        ),
        FileType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "Word",
        ),
        FileType("odp", "application/vnd.oasis.opendocument.presentation", "OpenDocument"),
        FileType("odt", "application/vnd.oasis.opendocument.text", "OpenDocument"),
    )
}
"""The accepted types, by file name extension (lower case, no dot)."""


class MacrosError(Exception):
    """An Office package carrying a VBA project (macros)."""


def sniff(read: Reader, size: int, limits: ZipLimits = ZIP_LIMITS) -> str | None:
    """The extension (``pdf``, ``pptx``, ``docx``, ``odp``, ``odt``) the content is, or None.

    Raises :class:`MacrosError` for a PPTX or DOCX with a VBA project inside, and
    :class:`shared.materials.hazards.UnsafeContentError` for a ZIP past ``limits``.
    """
    source = _RangeFile(read, size)
    head = source.pread(0, 8)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if not head.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(source) as package:
            check_package(package.infolist(), size, limits)
            return _package_type(package)
    except (zipfile.BadZipFile, EOFError, ValueError, KeyError, NotImplementedError):
        return None


def _package_type(package: zipfile.ZipFile) -> str | None:
    entries = package.infolist()
    names = {entry.filename for entry in entries}
    if entries and entries[0].filename == "mimetype":
        first = entries[0]
        if first.compress_type != zipfile.ZIP_STORED or first.file_size > _MAX_MIMETYPE:
            return None
        mimetype = package.read(first).decode("ascii", "replace").strip()
        return _ODF_MIMETYPES.get(mimetype)
    if "[Content_Types].xml" not in names:
        return None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise MacrosError("the package contains macros")
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "word/document.xml" in names:
        return "docx"
    return None


class _RangeFile(io.RawIOBase):
    """A seekable, read-only file over ``read``, fetched in blocks and kept in memory."""

    def __init__(self, read: Reader, size: int) -> None:
        self._read, self._size, self._position = read, size, 0
        self._blocks: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._position + size)
        data = self.pread(self._position, end - self._position)
        self._position += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def pread(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end of the file)."""
        end = min(self._size, offset + max(0, length))
        parts = []
        for block in range(offset // BLOCK, (end - 1) // BLOCK + 1 if end > offset else 0):
            if block not in self._blocks:
                self._blocks[block] = self._read(block * BLOCK, BLOCK)
            parts.append(self._blocks[block])
        data = b"".join(parts)
        start = offset - (offset // BLOCK) * BLOCK
        return data[start : start + end - offset]
