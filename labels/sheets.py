"""Printed barcode sheets for the bench: grades and station commands, one Code128 row each, so
an operator scans the sheet instead of tapping the screen."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from labels.code128 import draw_code128
from warehouse.i18n import gettext as _

ROWS_PER_PAGE = 7


@dataclass(frozen=True)
class SheetRow:
    """One barcode on a sheet: what it scans as, its name, and a hint."""

    code: str
    name: str
    hint: str = ""


def barcode_sheet_pdf(title: str, subtitle: str, rows: Sequence[SheetRow]) -> bytes:
    """A4 pages of `rows`, seven to a page: name, hint, the barcode and its text."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"Returnyard {title.lower()}")
    width, height = A4
    pages = [rows[i : i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
    row_height = (height - 45 * mm) / ROWS_PER_PAGE
    for number, page in enumerate(pages, start=1):
        pdf.setFont("Helvetica-Bold", 20)
        pdf.drawString(20 * mm, height - 22 * mm, title)
        pdf.setFont("Helvetica", 10)
        pdf.drawString(20 * mm, height - 29 * mm, subtitle)
        if len(pages) > 1:
            pdf.drawRightString(
                width - 20 * mm,
                height - 22 * mm,
                _("Page %(page)s of %(pages)s", page=number, pages=len(pages)),
            )
        for index, row in enumerate(page):
            top = height - 38 * mm - index * row_height
            # Name and hint fit the space left of the barcode in any language: smaller, not cut.
            _fitted(pdf, row.name, "Helvetica-Bold", 15, 20 * mm, top - 10 * mm)
            _fitted(pdf, row.hint, "Helvetica", 9, 20 * mm, top - 16 * mm)
            # The module shrinks to fit long codes (CHECK-ACCESSORIES_COMPLETE), never below
            # what a scanner reads off paper.
            draw_code128(pdf, row.code, 92 * mm, top - 22 * mm, max_width=105 * mm, height=16 * mm)
            pdf.setFont("Courier", 9)
            pdf.drawString(100 * mm, top - 26 * mm, row.code)
            pdf.setLineWidth(0.3)
            y = top - row_height + 4 * mm
            pdf.line(15 * mm, y, width - 15 * mm, y)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


TEXT_WIDTH = 70 * mm  # from the left margin to the barcode


def _fitted(pdf: canvas.Canvas, text: str, font: str, size: float, x: float, y: float) -> None:
    """`text` at `size`, or as much smaller as it needs to fit TEXT_WIDTH (cut only below 6 pt)."""
    text = str(text)
    while size > 6 and pdf.stringWidth(text, font, size) > TEXT_WIDTH:
        size -= 0.5
    while text and pdf.stringWidth(text, font, size) > TEXT_WIDTH:
        text = text[:-1]
    pdf.setFont(font, size)
    pdf.drawString(x, y, text)
