"""The partner's money documents (A4 PDF): the monthly statement and the commission invoice.

Both are drawn from plain values (`warehouse.ledger` and `warehouse.invoices` fill them), with
amounts already formatted, so these functions only lay text out on pages.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from warehouse.i18n import gettext as _

LEFT = 16 * mm
RIGHT = A4[0] - 16 * mm
BOTTOM = 18 * mm


@dataclass(frozen=True)
class DocumentLine:
    """One printed row: date, reference, words, amount and (statements) the balance after it."""

    day: str
    reference: str
    text: str
    amount: str
    balance: str = ""


@dataclass(frozen=True)
class MoneyDocument:
    """A statement or an invoice as printed."""

    title: str
    number: str  # the invoice number, or the statement's month
    issuer: str  # multi-line: name, address, VAT number
    recipient: str  # multi-line: partner name and address
    facts: tuple[tuple[str, str], ...]  # (label, value) under the header
    lines: tuple[DocumentLine, ...]
    totals: tuple[tuple[str, str], ...]  # (label, value) under the lines
    note: str = ""
    balance_column: bool = False


def _block(canvas: Canvas, text: str, x: float, y: float, size: int = 9, width: int = 60) -> float:
    canvas.setFont("Helvetica", size)
    for line in text.splitlines():
        for part in _wrapped(line, width):
            canvas.drawString(x, y, part)
            y -= size * 1.35
    return y


def _header(canvas: Canvas, doc: MoneyDocument, page: int, pages: int) -> float:
    top = A4[1] - 18 * mm
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(LEFT, top, doc.title)
    canvas.setFont("Helvetica", 9)
    canvas.drawRightString(RIGHT, top, _("Page %(page)s of %(pages)s", page=page, pages=pages))
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(LEFT, top - 8 * mm, doc.number)
    y_from = _block(canvas, doc.issuer, LEFT, top - 18 * mm)
    y_to = _block(canvas, doc.recipient, LEFT + 95 * mm, top - 18 * mm)
    y = min(y_from, y_to) - 4 * mm
    canvas.setFont("Helvetica", 9)
    for label, value in doc.facts:
        canvas.drawString(LEFT, y, f"{label}: {value}"[:110])
        y -= 12
    return y - 6


def _columns(canvas: Canvas, doc: MoneyDocument, y: float) -> float:
    canvas.setFont("Helvetica-Bold", 8)
    canvas.drawString(LEFT, y, _("Date"))
    canvas.drawString(LEFT + 20 * mm, y, _("Order"))
    canvas.drawString(LEFT + 50 * mm, y, _("What happened"))
    amount_x = RIGHT - (28 * mm if doc.balance_column else 0)
    canvas.drawRightString(amount_x, y, _("Amount"))
    if doc.balance_column:
        canvas.drawRightString(RIGHT, y, _("Balance"))
    canvas.line(LEFT, y - 3, RIGHT, y - 3)
    return y - 13


def _wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken at spaces."""
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return [line[:width] for line in lines]


def _text_width(doc: MoneyDocument) -> int:
    return 58 if doc.balance_column else 80


REFERENCE_WIDTH = 18  # characters of an order number per printed line (they run to 40)


def _reference(line: DocumentLine) -> list[str]:
    ref = line.reference
    return [ref[i : i + REFERENCE_WIDTH] for i in range(0, len(ref), REFERENCE_WIDTH)] or [""]


def _height(doc: MoneyDocument, line: DocumentLine) -> float:
    rows = max(len(_wrapped(line.text, _text_width(doc))), len(_reference(line)))
    return 10 * rows + 4


def _line(canvas: Canvas, doc: MoneyDocument, line: DocumentLine, y: float) -> float:
    canvas.setFont("Helvetica", 7.5)
    canvas.drawString(LEFT, y, line.day)
    amount_x = RIGHT - (28 * mm if doc.balance_column else 0)
    canvas.drawRightString(amount_x, y, line.amount)
    if doc.balance_column:
        canvas.drawRightString(RIGHT, y, line.balance)
    top = y
    for part in _reference(line):
        canvas.drawString(LEFT + 20 * mm, y, part)
        y -= 10
    bottom, y = y, top
    for part in _wrapped(line.text, _text_width(doc)):
        canvas.drawString(LEFT + 50 * mm, y, part)
        y -= 10
    return min(y, bottom) - 4


def _pages(doc: MoneyDocument, first_y: float) -> list[tuple[DocumentLine, ...]]:
    """The lines split into pages by the height they take (the last page keeps room for the
    totals and the note)."""
    pages, page, y = [], [], first_y
    for line in doc.lines:
        need = _height(doc, line)
        if page and y - need < BOTTOM:
            pages.append(tuple(page))
            page, y = [], first_y
        page.append(line)
        y -= need
    note_lines = sum(len(_wrapped(part, 120)) for part in doc.note.splitlines())
    room = 16 * len(doc.totals) + 11 * (note_lines + 1)
    if page and y - room < BOTTOM:
        pages.append(tuple(page))
        page = []
    pages.append(tuple(page))
    return pages


def money_pdf(doc: MoneyDocument) -> bytes:
    """The document as an A4 PDF, as many pages as its lines need."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(f"{doc.title} {doc.number}")
    # Every page starts the same way: the header's height does not depend on the page.
    probe = Canvas(io.BytesIO(), pagesize=A4)
    first_y = _columns(probe, doc, _header(probe, doc, 1, 1))
    chunks = _pages(doc, first_y)
    for page, chunk in enumerate(chunks, 1):
        y = _columns(canvas, doc, _header(canvas, doc, page, len(chunks)))
        if not doc.lines and page == 1:
            canvas.setFont("Helvetica", 9)
            canvas.drawString(LEFT, y, _("Nothing was booked in this period."))
            y -= 14
        for line in chunk:
            y = _line(canvas, doc, line, y)
        if page == len(chunks):
            canvas.line(LEFT, y + 6, RIGHT, y + 6)
            canvas.setFont("Helvetica-Bold", 9)
            for label, value in doc.totals:
                y -= 4
                canvas.drawString(LEFT + 50 * mm, y, label)
                canvas.drawRightString(RIGHT, y, value)
                y -= 10
            if doc.note:
                _block(canvas, doc.note, LEFT, y - 8, size=8, width=120)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
