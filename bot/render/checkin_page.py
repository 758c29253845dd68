"""The check-in page a coordinator prints for a venue's door: one A4 PDF, the font embedded.

Read from a metre away by people over 60: the title in large type on as many lines as it needs,
when and where, a QR code as large as the rest of the page allows, and how to scan it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpdf.enums import XPos, YPos

from bot.render.certificate import FONT, INK, MUTED, RULE, a4_pdf, draw_qr
from bot.render.fonts import printable

# The QR code is never smaller than this (a phone reads it from about a metre) nor larger.
QR_SMALLEST, QR_LARGEST = 90.0, 150.0
# A title longer than this many lines at the large size is set smaller, so the code keeps room.
TITLE_LINES = 3


@dataclass(frozen=True, slots=True)
class CheckinPageText:
    """Every word on the page, already in the coordinator's language."""

    title: str
    when: str
    place: str
    scan: str
    link: str


def render_checkin_page(text: CheckinPageText) -> bytes:
    """The PDF's bytes."""
    pdf = a4_pdf(text.title)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_text_color(*INK)
    width = pdf.epw
    pdf.set_y(20)

    title = printable(text.title)
    for size in (30, 26, 22, 18):
        pdf.set_font(FONT, size=size)
        lines = pdf.multi_cell(width, size * 0.5, title, align="C", dry_run=True, output="LINES")
        if len(lines) <= TITLE_LINES:
            break
    pdf.multi_cell(width, size * 0.5, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(FONT, size=18)
    for line in (text.when, text.place):
        if line:
            pdf.multi_cell(
                width, 9, printable(line), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
    pdf.ln(4)
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(6)

    # What is left once the instruction and the link are placed at the foot of the page.
    footer = 34.0
    room = pdf.h - pdf.b_margin - footer - pdf.get_y()
    size = max(QR_SMALLEST, min(QR_LARGEST, room, width))
    draw_qr(pdf, text.link, x=(pdf.w - size) / 2, y=pdf.get_y(), size=size)
    pdf.set_y(pdf.get_y() + size + 4)

    scan = printable(text.scan)
    for size in (16, 14, 12, 11, 10):
        pdf.set_font(FONT, size=size)
        if pdf.get_string_width(scan) <= width:
            break  # one line, as large as fits
    pdf.multi_cell(width, 8, scan, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(width, 5, text.link, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
