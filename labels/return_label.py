"""The customer's return label (A4 PDF): RMA barcode, where to send the parcel, what is in it.

The same layout serves as the forwarding label the warehouse prints for a parcel that belongs
to a partner who takes returns directly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from labels.code128 import draw_code128
from warehouse.i18n import N_
from warehouse.i18n import gettext as _

# Written in the reader's language when drawn (the caller sets it: `i18n.reading`).
PACKING_INSTRUCTIONS = (
    N_("Put the items in their original packaging if you still have it, with all accessories."),
    N_("Pack everything in a sturdy box; fill empty space so nothing moves."),
    N_("Print this label and tape it flat on the largest side of the box."),
    N_("Cover or remove old shipping labels and barcodes."),
    N_("One label per parcel: every RMA number has its own label."),
    N_("Hand the parcel to the carrier and keep the receipt until your refund arrives."),
)


@dataclass(frozen=True)
class ReturnLabel:
    """Everything printed on a return (or forwarding) label; `rma` is also the barcode.

    `title` and `instructions` are msgids, translated when the label is drawn; `note` and the
    lines' reasons are already in the reader's language."""

    rma: str
    order_number: str
    ship_to: str  # multi-line address
    ship_from: str  # multi-line address
    lines: tuple[tuple[str, str, int, str], ...]  # (sku, title, quantity, reason)
    title: str = N_("Return label")
    note: str = ""
    instructions: tuple[str, ...] = PACKING_INSTRUCTIONS


def _address(canvas: Canvas, heading: str, text: str, x: float, y: float, size: int) -> None:
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(x, y, heading.upper())
    canvas.setFont("Helvetica", size)
    for line in text.splitlines():
        y -= size * 1.3
        canvas.drawString(x, y, line)


def return_label_pdf(label: ReturnLabel) -> bytes:
    """The label as a one-page A4 PDF, in the reader's language (`warehouse.i18n.reading`)."""
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(f"{_(label.title)} {label.rma}")
    left = 18 * mm
    top = height - 20 * mm

    canvas.setFont("Helvetica-Bold", 20)
    canvas.drawString(left, top, _(label.title))
    canvas.setFont("Helvetica", 11)
    canvas.drawString(left, top - 16, _("Order %(number)s", number=label.order_number))

    draw_code128(canvas, label.rma, left, top - 62 * mm, max_width=120 * mm, height=30 * mm)
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(left, top - 70 * mm, label.rma)

    _address(canvas, _("Send to"), label.ship_to, left, top - 84 * mm, 14)
    _address(canvas, _("From"), label.ship_from, left + 100 * mm, top - 84 * mm, 10)

    y = top - 135 * mm
    if label.note:
        canvas.setFont("Helvetica-Bold", 11)
        canvas.drawString(left, y, label.note)
        y -= 8 * mm
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(left, y, _("In this parcel"))
    canvas.setFont("Helvetica", 10)
    for sku, title, quantity, reason in label.lines:
        y -= 14
        canvas.drawString(left, y, f"{quantity} x  {title[:60]}  ({sku})")
        canvas.drawRightString(width - left, y, str(reason))
    y -= 12 * mm
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(left, y, _("How to pack"))
    canvas.setFont("Helvetica", 10)
    for number, instruction in enumerate(label.instructions, start=1):
        y -= 14
        canvas.drawString(left, y, f"{number}. {_(instruction)}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
