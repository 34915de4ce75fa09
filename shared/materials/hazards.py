"""Content that could hurt the people who open it: checked before a file becomes a material.

- PDF (parsed with ``pypdf``, imported here only: objects often sit in compressed object
  streams, which a byte search would miss): JavaScript (``/JS``, a ``/JavaScript`` name tree
  or action, an ``/OpenAction`` running it), launch actions (``/Launch``), and embedded files
  (an ``/EmbeddedFiles`` name tree, ``/FileAttachment`` annotations, embedded file streams).
  Every object reachable from the trailer is visited once; a file the parser cannot read, or
  one too large to walk, is not accepted either (it cannot be shown to be safe).
- Office and OpenDocument packages (ZIP): past :data:`ZIP_LIMITS` in total uncompressed size,
  compression ratio or entry count, read from the central directory without extracting.

Each finding is an :class:`UnsafeContentError` with a reason code and a message for the
organisers (``shared.materials.uploads`` quarantines the upload with them).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

MAX_PDF_OBJECTS = 200_000
"""Objects visited in one PDF before it counts as too complex to check."""


class UnsafeContentError(Exception):
    """The content could hurt its readers: ``reason`` (a code) and a message for organisers."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ZipLimits:
    """What an honest slide deck or document stays within (a ZIP bomb does not)."""

    max_total_bytes: int = 1024 * 1024 * 1024
    """Sum of the entries' uncompressed sizes: 1 GiB."""
    max_ratio: float = 100.0
    """Total uncompressed size / size of the file (Office XML compresses about 5-20 times)."""
    max_entries: int = 10_000


ZIP_LIMITS = ZipLimits()


def check_package(entries: list[zipfile.ZipInfo], file_size: int, limits: ZipLimits) -> None:
    """Raise :class:`UnsafeContentError` if a ZIP package with these central-directory
    ``entries`` (and ``file_size`` bytes on disk) is past ``limits``."""
    if len(entries) > limits.max_entries:
        raise UnsafeContentError(
            "zip_entries",
            f"The file packs {len(entries)} parts; at most {limits.max_entries} are accepted.",
        )
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_total_bytes:
        raise UnsafeContentError(
            "zip_size",
            f"The file expands to {total} bytes; at most {limits.max_total_bytes} are accepted.",
        )
    if total > limits.max_ratio * max(file_size, 1):
        raise UnsafeContentError(
            "zip_ratio",
            f"The file expands {total / max(file_size, 1):.0f} times its size; at most "
            f"{limits.max_ratio:.0f} times is accepted.",
        )


_FINDINGS = {
    "pdf_javascript": "The PDF contains JavaScript.",
    "pdf_launch": "The PDF contains an action that launches a program.",
    "pdf_embedded_file": "The PDF carries embedded files.",
}


def check_pdf(data: bytes) -> None:
    """Raise :class:`UnsafeContentError` if the PDF ``data`` holds JavaScript, a launch action
    or an embedded file, or cannot be parsed (reason ``pdf_unreadable``)."""
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnsafeContentError(
                "pdf_unreadable", "The PDF is encrypted with a password, so it cannot be checked."
            )
        seen: set[tuple[int, int]] = set()
        pending: list[Any] = [reader.trailer]
        visited = 0
        while pending:
            item = pending.pop()
            if isinstance(item, IndirectObject):
                reference = (item.idnum, item.generation)
                if reference in seen:
                    continue
                seen.add(reference)
                item = item.get_object()
            visited += 1
            if visited > MAX_PDF_OBJECTS:
                raise UnsafeContentError(
                    "pdf_unreadable", "The PDF has too many objects to be checked."
                )
            if isinstance(item, DictionaryObject):
                _check_dictionary(item)
                pending.extend(item.values())
            elif isinstance(item, ArrayObject):
                pending.extend(item)
    except UnsafeContentError:
        raise
    except Exception as exc:  # any parser failure: the file cannot be shown to be safe
        raise UnsafeContentError(
            "pdf_unreadable", "The PDF could not be read, so it cannot be checked."
        ) from exc


def _check_dictionary(entry: Any) -> None:
    """One PDF dictionary: an action, a name tree, an annotation, a file specification."""
    action = entry.get("/S")
    if "/JS" in entry or action == "/JavaScript" or "/JavaScript" in entry:
        raise UnsafeContentError("pdf_javascript", _FINDINGS["pdf_javascript"])
    if action == "/Launch" or "/Launch" in entry:
        raise UnsafeContentError("pdf_launch", _FINDINGS["pdf_launch"])
    if (
        "/EmbeddedFiles" in entry
        or entry.get("/Subtype") == "/FileAttachment"
        or entry.get("/Type") == "/EmbeddedFile"
        or "/EF" in entry
    ):
        raise UnsafeContentError("pdf_embedded_file", _FINDINGS["pdf_embedded_file"])
