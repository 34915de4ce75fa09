"""The PDFs: a certificate of attendance, and a transcript of the sessions a person attended.

Made with fpdf2 (dependencies layer) on A4, in DejaVu Sans (embedded, a subset: ``fonts/``,
Bitstream Vera licence beside it), which has the Latin letters of names across Europe (Ł, ő,
Ș, ñ, Ö...). The QR code of the verification URL is drawn as vector squares from segno's
matrix, so no image decoding is needed. fpdf2 and segno are imported on the first render only:
a handler's cold start does not pay for them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from shared.certificates import wording
from shared.certificates.store import Certificate

if TYPE_CHECKING:
    from fpdf import FPDF

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
CPD_RULE = wording.CPD_RULE
"""How CPD hours are counted (English; the PDF states it in the holder's language)."""


def certificate_pdf(cert: Certificate, *, series: str, verify_url: str) -> bytes:
    """The certificate of attendance of ``cert`` (kind certificate), in ``cert.language``: series,
    holder's name as registered, organisation, session title (as stored: in the holder's
    language when the programme gives it) and date in the locale's words, minutes, CPD hours and
    how they are counted, the number, and the verification URL with its QR code."""
    _ = wording.speaker(cert.language)
    heading = _(wording.CERTIFICATE_HEADING)
    pdf = _document(f"{heading} {cert.number}", cert.language)
    session = cert.session
    pdf.set_y(40)
    _centred(pdf, series, 14)
    pdf.ln(6)
    _centred(pdf, heading, 28, bold=True)
    pdf.ln(10)
    _centred(pdf, _("This certifies that"), 12)
    pdf.ln(2)
    _centred(pdf, cert.name, 24, bold=True)
    if cert.organisation:
        _centred(pdf, cert.organisation, 13)
    pdf.ln(6)
    _centred(pdf, _("attended the session"), 12)
    pdf.ln(2)
    _centred(pdf, session.title, 17, bold=True)
    _centred(pdf, wording.long_date(session.date, cert.language), 13)
    pdf.ln(8)
    _centred(pdf, _("Minutes attended: %(minutes)s", minutes=session.minutes), 13)
    hours = wording.hours(cert.cpd_hours, cert.language)
    _centred(pdf, _("CPD hours: %(hours)s", hours=hours), 13, bold=True)
    _centred(pdf, _(CPD_RULE), 9)
    _footer(pdf, cert.number, verify_url, _)
    return bytes(pdf.output())


def transcript_pdf(cert: Certificate, *, series: str, verify_url: str) -> bytes:
    """A transcript (kind transcript), in ``cert.language``: every session it covers with its
    date (:func:`shared.certificates.wording.medium_date`) and minutes, the totals, the number
    and the verification URL with its QR code."""
    _ = wording.speaker(cert.language)
    heading = _(wording.TRANSCRIPT_HEADING)
    pdf = _document(f"{heading} {cert.number}", cert.language)
    pdf.set_y(25)
    _centred(pdf, series, 14)
    _centred(pdf, heading, 24, bold=True)
    pdf.ln(4)
    _centred(pdf, cert.name, 18, bold=True)
    if cert.organisation:
        _centred(pdf, cert.organisation, 12)
    pdf.ln(6)
    widths = (34, 106, 25, 25)  # the date column fits the widest medium date (ca, 31 mm)
    columns = (_("Date"), _("Session"), _("Minutes"), _("CPD hours"))
    pdf.set_font(FONT, "B", 10)
    for width, text in zip(widths, columns, strict=True):
        pdf.cell(width, 8, _fit(pdf, text, width), border="B")
    pdf.ln()
    pdf.set_font(FONT, "", 10)
    from shared.certificates.store import cpd_hours

    language = cert.language
    for line in cert.sessions:
        if pdf.get_y() > 230:
            pdf.add_page()
        row = (
            wording.medium_date(line.date, language),
            line.title,
            str(line.minutes),
            wording.hours(cpd_hours(line.minutes), language),
        )
        for width, text in zip(widths, row, strict=True):
            pdf.cell(width, 7, _fit(pdf, text, width))
        pdf.ln()
    pdf.set_font(FONT, "B", 10)
    totals = (
        "",
        _("Sessions attended: %(count)s", count=len(cert.sessions)),
        str(cert.minutes),
        wording.hours(sum(cpd_hours(s.minutes) for s in cert.sessions), language),
    )
    for width, text in zip(widths, totals, strict=True):
        pdf.cell(width, 8, text, border="T")
    pdf.ln(10)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, 5, f"{_(CPD_RULE)} {_(wording.PER_SESSION_RULE)}")
    _footer(pdf, cert.number, verify_url, _)
    return bytes(pdf.output())


def long_date(iso: str, language: str | None = None) -> str:
    """``2026-03-12`` -> ``12 March 2026`` (:func:`shared.certificates.wording.long_date`)."""
    return wording.long_date(iso, language)


def _document(title: str, language: str) -> FPDF:
    from fpdf import FPDF

    from shared.i18n.languages import resolve

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_lang(resolve(language))
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


def _footer(pdf: FPDF, number: str, verify_url: str, _: Callable[..., str]) -> None:
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
    pdf.cell(120, 6, _("Certificate number: %(number)s", number=number))
    pdf.set_xy(20, top + 12)
    pdf.set_font(FONT, "", 9)
    verify = _("Verify this document at")
    pdf.multi_cell(120, 4.5, f"{verify}\n{verify_url}")
