"""Small, valid sample materials made in code (for the demo and the tests): a one-page PDF,
and minimal DOCX, PPTX, ODT and ODP packages that office suites open."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape


def pdf(text: str = "Sample slides") -> bytes:
    """A one-page PDF showing ``text`` (ASCII), with a correct cross-reference table."""
    safe = text.encode("ascii", "replace").decode().replace("\\", "\\\\")
    safe = safe.replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 24 Tf 72 720 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


_OOXML_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{target}"/></Relationships>'
)
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{part}" ContentType="{content_type}"/></Types>'
)


def docx(text: str = "Sample guidance note") -> bytes:
    """A one-paragraph Word document."""
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{escape(text)}</w:t></w:r></w:p></w:body></w:document>"
    )
    content_type = (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    return _zip(
        [
            (
                "[Content_Types].xml",
                _CONTENT_TYPES.format(part="word/document.xml", content_type=content_type),
            ),
            ("_rels/.rels", _OOXML_RELS.format(target="word/document.xml")),
            ("word/document.xml", document),
        ]
    )


def pptx(text: str = "Sample slides") -> bytes:
    """A package with the parts that make it a PowerPoint presentation (no slide content)."""
    presentation = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
        f"<!-- {escape(text)} --></p:presentation>"
    )
    content_type = (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    )
    return _zip(
        [
            (
                "[Content_Types].xml",
                _CONTENT_TYPES.format(part="ppt/presentation.xml", content_type=content_type),
            ),
            ("_rels/.rels", _OOXML_RELS.format(target="ppt/presentation.xml")),
            ("ppt/presentation.xml", presentation),
        ]
    )


def odt(text: str = "Sample guidance note") -> bytes:
    """A one-paragraph OpenDocument text."""
    return _opendocument("text", f"<office:text><text:p>{escape(text)}</text:p></office:text>")


def odp(text: str = "Sample slides") -> bytes:
    """An OpenDocument presentation with one empty page named ``text``."""
    page = f'<office:presentation><draw:page draw:name="{escape(text)}"/></office:presentation>'
    return _opendocument("presentation", page)


def _opendocument(kind: str, body: str) -> bytes:
    mimetype = f"application/vnd.oasis.opendocument.{kind}"
    namespaces = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"'
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<office:document-content {namespaces} office:version="1.3">'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    return _zip(
        [("mimetype", mimetype), ("content.xml", content), ("META-INF/manifest.xml", manifest)],
        stored_first=True,
    )


def _zip(parts: list[tuple[str, str]], *, stored_first: bool = False) -> bytes:
    """The package of ``parts``, in order; the same bytes every time (fixed timestamps)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for index, (name, data) in enumerate(parts):
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            stored = stored_first and index == 0
            entry.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            package.writestr(entry, data)
    return buffer.getvalue()


_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
