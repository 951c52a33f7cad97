"""The printed grade sheet: one Code128 barcode per condition grade, so an operator can grade by
scanning the sheet at the bench instead of tapping the screen."""

from __future__ import annotations

import io

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from warehouse.grading import GRADE_HINTS, GRADE_LABELS, GRADE_ORDER, grade_barcode


def grade_sheet_pdf() -> bytes:
    """An A4 page with the six grades: key, name, meaning and the barcode to scan."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle("Returnyard grade sheet")
    width, height = A4
    pdf.setFont("Helvetica-Bold", 20)
    pdf.drawString(20 * mm, height - 22 * mm, "Grade sheet")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(
        20 * mm,
        height - 29 * mm,
        "Scan the unit label (LPN), tick the checklist, then scan a grade.",
    )
    row_height = (height - 45 * mm) / len(GRADE_ORDER)
    for index, grade in enumerate(GRADE_ORDER):
        top = height - 38 * mm - index * row_height
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(20 * mm, top - 10 * mm, f"{index + 1}  {GRADE_LABELS[grade]}")
        pdf.setFont("Helvetica", 10)
        pdf.drawString(20 * mm, top - 16 * mm, GRADE_HINTS[grade])
        text = grade_barcode(grade)
        barcode = code128.Code128(text, barHeight=18 * mm, barWidth=0.38 * mm, quiet=True)
        barcode.drawOn(pdf, 95 * mm, top - 24 * mm)
        pdf.setFont("Courier", 9)
        pdf.drawString(95 * mm + 10 * mm, top - 28 * mm, text)
        pdf.setLineWidth(0.3)
        pdf.line(15 * mm, top - row_height + 4 * mm, width - 15 * mm, top - row_height + 4 * mm)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
