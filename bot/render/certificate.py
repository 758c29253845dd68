"""A talent's service certificate (服务证明) as a one-page A4 PDF, with the font embedded.

The verification QR is drawn as vector squares, so it prints sharp at any size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.render.fonts import FACE_SC, font_path, printable

FONT = "NotoSansCJK"
INK = (34, 34, 34)
MUTED = (102, 102, 102)
RULE = (200, 200, 200)


@dataclass(frozen=True, slots=True)
class CertificateText:
    """Every word on the certificate, already in the talent's language."""

    title: str
    body: str
    headers: tuple[str, str, str, str]  # date, activity, station, hours
    rows: Sequence[tuple[str, str, str, str]]
    total_label: str
    total_hours: str
    issued: str
    verify: str
    link: str
    code: str


def render_certificate(text: CertificateText) -> bytes:
    """The PDF's bytes."""
    pdf = a4_pdf(text.title)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_text_color(*INK)
    width = pdf.epw
    # A frame around the page, as printed certificates have.
    pdf.set_draw_color(*RULE)
    pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
    pdf.ln(6)

    pdf.set_font(FONT, size=26)
    pdf.cell(width, 16, printable(text.title), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.l_margin + width, pdf.get_y() + 2)
    pdf.ln(8)
    pdf.set_font(FONT, size=13)
    pdf.multi_cell(width, 8, printable(text.body), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    columns = (36.0, width - 36 - 50 - 26, 50.0, 26.0)
    pdf.set_font(FONT, size=10.5)
    pdf.set_fill_color(238, 238, 238)
    for header, size in zip(text.headers, columns, strict=True):
        pdf.cell(size, 8, printable(header), border="B", fill=True)
    pdf.ln(8)
    for row in text.rows:
        for value, size, align in zip(row, columns, "LLLR", strict=True):
            pdf.cell(size, 7, _fit(pdf, printable(value), size - 2), border="B", align=align)
        pdf.ln(7)
    pdf.cell(sum(columns[:3]), 8, printable(text.total_label))
    pdf.cell(columns[3], 8, text.total_hours, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)

    pdf.set_font(FONT, size=12)
    pdf.multi_cell(
        width, 7, printable(text.issued), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(6)
    if pdf.get_y() > pdf.h - 75:
        pdf.add_page()
    top = pdf.get_y()
    draw_qr(pdf, text.link, x=pdf.l_margin, y=top, size=40)
    pdf.set_xy(pdf.l_margin + 46, top + 2)
    pdf.set_font(FONT, size=18)
    pdf.cell(width - 46, 10, text.code, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(width - 46, 6, printable(text.verify), align="L")
    return bytes(pdf.output())


def a4_pdf(title: str) -> FPDF:
    """An empty A4 document titled ``title``, with the CJK font loaded as ``FONT``."""
    pdf = FPDF(format="A4")
    pdf.set_title(printable(title))
    pdf.set_creator("talentbot")
    pdf.add_font(FONT, "", str(font_path()), collection_font_number=FACE_SC)
    return pdf


def _fit(pdf: FPDF, value: str, room: float) -> str:
    """``value`` cut with an ellipsis to fit ``room`` millimetres."""
    if pdf.get_string_width(value) <= room:
        return value
    while value and pdf.get_string_width(value + "…") > room:
        value = value[:-1]
    return value + "…"


def draw_qr(pdf: FPDF, link: str, *, x: float, y: float, size: float) -> None:
    """The QR code of ``link`` as filled squares, ``size`` millimetres wide with its border."""
    code = segno.make(link, error="m")
    modules = [list(row) for row in code.matrix]
    border = 2
    count = len(modules) + 2 * border
    cell = size / count
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(modules):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x + (c + border) * cell, y + (r + border) * cell, cell, cell, style="F")
