"""The admission ticket's PDF (N13), laid out like a CET ticket: title, a Code 128 of the ticket
number, the candidate's details beside a photo box, exam site, room, seat and times, and the
candidate's notes. The Chinese font is embedded (ticket_font), so any viewer prints it as shown.
Imported by `ticket.render` on the first ticket only."""

from __future__ import annotations

import io
import threading

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from enrolment.service.ticket import NOTES, Ticket, numbered
from enrolment.service.ticket_font import truetype_subset

FONT = "NotoSansCJKsc"
BAR_WIDTH = 0.38 * mm  # Code 128's narrowest bar: wide enough for any office printer and scanner
BAR_HEIGHT = 14 * mm
# reportlab keeps fonts in one process-wide registry, and registerFont keeps the first font of a
# name (and of a face) forever. Each ticket has its own subset: it replaces the one entry and draws
# before the next ticket may, so the registry never grows and no ticket draws with another's glyphs.
_drawing = threading.Lock()


def render(ticket: Ticket) -> bytes:
    """The ticket as a one-page A4 PDF. CPU-bound (font subsetting): call it in a worker thread."""
    words = [
        ticket.title,
        ticket.exam_name,
        *(f"{k}：{v}" for k, v in ticket.rows()),
        "考生须知",
        *numbered(NOTES),
        "照片",
        "（请粘贴近期免冠照片）",
        f"打印时间：{ticket.printed_at}",
        "…",
    ]
    font = truetype_subset("".join(words))
    with _drawing:
        pdfmetrics._fonts[FONT] = TTFont(FONT, io.BytesIO(font))
        return _draw(ticket)


def _draw(ticket: Ticket) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, initialFontName=FONT, initialFontSize=12)
    pdf.setTitle(f"{ticket.title} {ticket.ticket_number}")
    pdf.setAuthor("教育部教育考试院")
    width, height = A4
    left, right = 20 * mm, width - 20 * mm

    pdf.setFont(FONT, 20)
    pdf.drawCentredString(width / 2, height - 25 * mm, ticket.title)
    pdf.setFont(FONT, 11)
    pdf.drawCentredString(width / 2, height - 33 * mm, ticket.exam_name)

    # The ticket number as Code 128 (what the exam room's scanner reads), its digits beneath.
    barcode = Code128(ticket.ticket_number, barWidth=BAR_WIDTH, barHeight=BAR_HEIGHT, humanReadable=False, quiet=True)
    barcode.drawOn(pdf, left, height - 55 * mm)
    pdf.setFont(FONT, 10)
    pdf.drawString(left + barcode.lquiet, height - 60 * mm, ticket.ticket_number)

    # The details, a ruled table; the photo box to its right over the first rows.
    top, row_height, label_width = height - 68 * mm, 11 * mm, 28 * mm
    photo_width, photo_height = 35 * mm, 45 * mm
    rows = ticket.rows()
    bottom = top - row_height * len(rows)
    pdf.setLineWidth(0.8)
    pdf.rect(left, bottom, right - left, top - bottom)
    photo_left = right - photo_width - 4 * mm
    for i, (label, value) in enumerate(rows):
        y = top - row_height * (i + 1)
        if i:
            pdf.line(left, y + row_height, photo_left - 4 * mm if (i * row_height) < photo_height + 4 * mm else right, y + row_height)
        pdf.setFont(FONT, 11)
        pdf.drawString(left + 3 * mm, y + 3.8 * mm, label)
        pdf.setFont(FONT, 12)
        pdf.drawString(left + label_width + 3 * mm, y + 3.8 * mm, _fit(value, photo_left - left - label_width - 10 * mm, 12))
    pdf.line(left + label_width, top, left + label_width, bottom)
    pdf.setDash(3, 2)
    pdf.rect(photo_left, top - 4 * mm - photo_height, photo_width, photo_height)
    pdf.setDash()
    pdf.setFont(FONT, 12)
    pdf.drawCentredString(photo_left + photo_width / 2, top - 4 * mm - photo_height / 2, "照片")
    pdf.setFont(FONT, 7)
    pdf.drawCentredString(photo_left + photo_width / 2, top - 4 * mm - photo_height / 2 - 5 * mm, "（请粘贴近期免冠照片）")

    y = bottom - 12 * mm
    pdf.setFont(FONT, 13)
    pdf.drawString(left, y, "考生须知")
    pdf.setFont(FONT, 10)
    for note in numbered(NOTES):
        for k, line in enumerate(_wrap(note, right - left - 6 * mm, 10)):
            y -= 6 * mm
            pdf.drawString(left + (3 * mm if k == 0 else 7 * mm), y, line)
    pdf.setFont(FONT, 9)
    pdf.drawString(left, 18 * mm, f"打印时间：{ticket.printed_at}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


NO_LINE_START = "。，、；：？！）》”’"


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines, line = [], ""
    for ch in text:
        # Chinese punctuation never starts a line: it stays on the line it closes.
        if line and ch not in NO_LINE_START and pdfmetrics.stringWidth(line + ch, FONT, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def _fit(text: str, width: float, size: float) -> str:
    # One line per row: a very long campus name is cut, never drawn over the photo box.
    while text and pdfmetrics.stringWidth(text, FONT, size) > width:
        text = text[:-2] + "…"
    return text
