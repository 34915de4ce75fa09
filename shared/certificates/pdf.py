"""The PDFs: a certificate of attendance, and a transcript of the sessions a person attended.

Made with fpdf2 (dependencies layer) on A4, in DejaVu Sans (embedded, a subset: ``fonts/``,
Bitstream Vera licence beside it), which has the Latin letters of names across Europe (Ł, ő,
Ș, ñ, Ö...). The QR code of the verification URL is drawn as vector squares from segno's
matrix, so no image decoding is needed. fpdf2 and segno are imported on the first render only:
a handler's cold start does not pay for them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from shared.certificates.store import Certificate

if TYPE_CHECKING:
    from fpdf import FPDF

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
CPD_RULE = "CPD hours: minutes attended divided by 60, rounded down to the quarter hour."


def certificate_pdf(cert: Certificate, *, series: str, verify_url: str) -> bytes:
    """The certificate of attendance of ``cert`` (kind certificate): series, holder's name as
    registered, organisation, session title and date, minutes, CPD hours and how they are
    counted, the number, and the verification URL with its QR code."""
    pdf = _document(f"Certificate of attendance {cert.number}")
    session = cert.session
    pdf.set_y(40)
    _centred(pdf, series, 14)
    pdf.ln(6)
    _centred(pdf, "Certificate of attendance", 28, bold=True)
    pdf.ln(10)
    _centred(pdf, "This certifies that", 12)
    pdf.ln(2)
    _centred(pdf, cert.name, 24, bold=True)
    if cert.organisation:
        _centred(pdf, cert.organisation, 13)
    pdf.ln(6)
    _centred(pdf, "attended the session", 12)
    pdf.ln(2)
    _centred(pdf, session.title, 17, bold=True)
    _centred(pdf, long_date(session.date), 13)
    pdf.ln(8)
    _centred(pdf, f"Minutes attended: {session.minutes}", 13)
    _centred(pdf, f"CPD hours: {cert.cpd_hours}", 13, bold=True)
    _centred(pdf, CPD_RULE, 9)
    _footer(pdf, cert.number, verify_url)
    return bytes(pdf.output())


def transcript_pdf(cert: Certificate, *, series: str, verify_url: str) -> bytes:
    """A transcript (kind transcript): every session it covers with its date and minutes, the
    totals, the number and the verification URL with its QR code."""
    pdf = _document(f"Transcript {cert.number}")
    pdf.set_y(25)
    _centred(pdf, series, 14)
    _centred(pdf, "Transcript of attendance", 24, bold=True)
    pdf.ln(4)
    _centred(pdf, cert.name, 18, bold=True)
    if cert.organisation:
        _centred(pdf, cert.organisation, 12)
    pdf.ln(6)
    widths = (30, 110, 25, 25)
    pdf.set_font(FONT, "B", 10)
    for width, text in zip(widths, ("Date", "Session", "Minutes", "CPD hours"), strict=True):
        pdf.cell(width, 8, text, border="B")
    pdf.ln()
    pdf.set_font(FONT, "", 10)
    from shared.certificates.store import cpd_hours

    for line in cert.sessions:
        if pdf.get_y() > 230:
            pdf.add_page()
        row = (line.date, line.title, str(line.minutes), str(cpd_hours(line.minutes)))
        for width, text in zip(widths, row, strict=True):
            pdf.cell(width, 7, _fit(pdf, text, width))
        pdf.ln()
    pdf.set_font(FONT, "B", 10)
    totals = (
        "",
        f"{len(cert.sessions)} sessions",
        str(cert.minutes),
        str(sum(cpd_hours(s.minutes) for s in cert.sessions)),
    )
    for width, text in zip(widths, totals, strict=True):
        pdf.cell(width, 8, text, border="T")
    pdf.ln(10)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, 5, CPD_RULE + " Each session's hours are rounded on their own.")
    _footer(pdf, cert.number, verify_url)
    return bytes(pdf.output())


def long_date(iso: str) -> str:
    """``2026-03-12`` -> ``12 March 2026``."""
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def _document(title: str) -> FPDF:
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("kbs")
    pdf.set_auto_page_break(auto=False)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_draw_color(40, 60, 120)
    pdf.set_line_width(0.8)
    pdf.rect(10, 10, 190, 277)
    return pdf


def _centred(pdf: FPDF, text: str, size: float, *, bold: bool = False) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_x(20)
    pdf.multi_cell(170, size * 0.5, text, align="C")


def _fit(pdf: FPDF, text: str, width: float) -> str:
    while text and pdf.get_string_width(text) > width - 2:
        text = text[:-2] + "…"
    return text


def _footer(pdf: FPDF, number: str, verify_url: str) -> None:
    """The number and the verification URL at the foot, its QR code at the right."""
    import segno

    top, size = 240.0, 32.0
    qr = segno.make(verify_url, error="m")
    rows = list(qr.matrix)
    module = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                pdf.rect(165 - size / 2 + x * module, top + y * module, module, module, style="F")
    pdf.set_xy(20, top + 4)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(120, 6, f"Certificate number: {number}")
    pdf.set_xy(20, top + 12)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(120, 4.5, f"Verify this document at\n{verify_url}")
