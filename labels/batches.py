"""Batch documents: the RTV packing list and the destruction certificate (A4 PDF).

The packing list carries the batch number and every unit's LPN as Code128, so the partner's
goods-in can scan each unit against the list. The certificate lists what was destroyed, with
weights where known, the date and the person responsible.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from labels.code128 import draw_code128
from warehouse.i18n import gettext as _

ROW_MM = 22  # one unit per row, room for its barcode and quiet zones
LEFT = 18 * mm


@dataclass(frozen=True)
class BatchLine:
    """One unit on a batch document."""

    lpn: str
    sku: str
    title: str
    grade: str
    weight_grams: int | None = None


@dataclass(frozen=True)
class BatchDocument:
    """A batch as printed: header facts and its units."""

    number: str
    title: str  # "RTV packing list" / "Certificate of destruction"
    site: str
    facts: tuple[tuple[str, str], ...]  # (label, value) printed under the header
    lines: tuple[BatchLine, ...]
    statement: str = ""  # the certificate's declaration, signed by the responsible person
    signer: str = ""


def _header(canvas: Canvas, doc: BatchDocument, page: int, pages: int) -> float:
    width, height = A4
    top = height - 18 * mm
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(LEFT, top, doc.title)
    canvas.setFont("Helvetica", 9)
    canvas.drawRightString(
        width - LEFT, top, _("Page %(page)s of %(pages)s", page=page, pages=pages)
    )
    draw_code128(canvas, doc.number, LEFT, top - 24 * mm, max_width=80 * mm, height=16 * mm)
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(LEFT + 95 * mm, top - 10 * mm, doc.number)
    canvas.setFont("Helvetica", 9)
    y = top - 15 * mm
    for label, value in ((("Site", doc.site), *doc.facts))[:5]:
        canvas.drawString(LEFT + 95 * mm, y, f"{label}: {value}"[:60])
        y -= 4 * mm
    return top - 34 * mm


def _grams(value: int | None) -> str:
    if value is None:
        return "unknown"
    return f"{value / 1000:.3f} kg" if value >= 1000 else f"{value} g"


def batch_pdf(doc: BatchDocument) -> bytes:
    """The document as A4 pages: header with the batch barcode, then one row per unit."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(f"{doc.title} {doc.number}")
    width, _ = A4
    first_rows = 9
    rows_per_page = 10
    remaining = max(len(doc.lines) - first_rows, 0)
    pages = 1 + -(-remaining // rows_per_page)
    page = 1
    y = _header(canvas, doc, page, pages)
    rows_left = first_rows
    for number, line in enumerate(doc.lines, start=1):
        if rows_left == 0:
            canvas.showPage()
            page += 1
            y = _header(canvas, doc, page, pages)
            rows_left = rows_per_page
        draw_code128(canvas, line.lpn, LEFT, y - 14 * mm, max_width=70 * mm, height=12 * mm)
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawString(LEFT + 80 * mm, y - 4 * mm, f"{number}. {line.lpn}")
        canvas.setFont("Helvetica", 9)
        canvas.drawString(LEFT + 80 * mm, y - 8.5 * mm, f"{line.sku} · {line.title}"[:70])
        canvas.drawString(
            LEFT + 80 * mm,
            y - 13 * mm,
            f"Grade: {line.grade.replace('_', ' ')} · Weight: {_grams(line.weight_grams)}",
        )
        canvas.setLineWidth(0.3)
        canvas.line(LEFT, y - ROW_MM * mm + 3 * mm, width - LEFT, y - ROW_MM * mm + 3 * mm)
        y -= ROW_MM * mm
        rows_left -= 1
    known = [line.weight_grams for line in doc.lines if line.weight_grams is not None]
    canvas.setFont("Helvetica-Bold", 10)
    total = f"{len(doc.lines)} units"
    if known:
        total += f", {_grams(sum(known))} known weight"
        if len(known) < len(doc.lines):
            total += f" ({len(doc.lines) - len(known)} without a weight)"
    if y < 45 * mm:
        canvas.showPage()
        y = A4[1] - 25 * mm
    canvas.drawString(LEFT, y - 6 * mm, total)
    if doc.statement:
        canvas.setFont("Helvetica", 10)
        text = canvas.beginText(LEFT, y - 14 * mm)
        for part in doc.statement.splitlines():
            text.textLine(part)
        canvas.drawText(text)
        canvas.line(LEFT, y - 38 * mm, LEFT + 70 * mm, y - 38 * mm)
        canvas.drawString(LEFT, y - 42 * mm, f"Responsible: {doc.signer}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
