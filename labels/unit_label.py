"""The unit label (licence plate): one description, rendered as a 100 x 50 mm PDF or as ZPL.

Both renderings walk the same `UnitLabel.lines()`, so what the office printer shows and what
the thermal printer shows cannot drift apart.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from labels.code128 import draw_code128
from labels.zpl import DOTS_PER_MM, zpl_field

WIDTH_MM, HEIGHT_MM = 100, 50


@dataclass(frozen=True)
class UnitLabel:
    """Everything printed on one unit's label; `lpn` is also the barcode."""

    lpn: str
    title: str
    sku: str
    rma: str
    partner: str
    received_on: str
    flags: tuple[str, ...] = ()

    @property
    def barcode(self) -> str:
        return self.lpn

    def lines(self) -> list[str]:
        """The text lines under the barcode, in print order."""
        lines = [
            self.lpn,
            self.title[:44],
            f"SKU {self.sku} · {self.partner}"[:52],
            f"{self.rma} · received {self.received_on}",
        ]
        if self.flags:
            lines.append("! " + ", ".join(self.flags).upper())
        return lines


def unit_label_pdf(label: UnitLabel) -> bytes:
    """The label as a one-page 100 x 50 mm PDF."""
    return unit_labels_pdf([label], title=f"Unit label {label.lpn}")


def unit_labels_pdf(labels: list[UnitLabel], *, title: str = "Unit labels") -> bytes:
    """Labels as a 100 x 50 mm PDF, one label a page (a parcel's labels in one print)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(WIDTH_MM * mm, HEIGHT_MM * mm))
    canvas.setTitle(title)
    for label in labels:
        _draw(canvas, label)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw(canvas: Canvas, label: UnitLabel) -> None:
    draw_code128(canvas, label.barcode, 4 * mm, 30 * mm, max_width=92 * mm, height=16 * mm)
    y = 25 * mm
    for index, line in enumerate(label.lines()):
        canvas.setFont("Helvetica-Bold" if index == 0 else "Helvetica", 11 if index == 0 else 8.5)
        canvas.drawString(5 * mm, y, line)
        y -= 4.6 * mm


def unit_label_zpl(label: UnitLabel) -> str:
    """The label as ZPL II for a 203 dpi thermal printer (100 x 50 mm, UTF-8)."""
    dots = DOTS_PER_MM
    out = [
        "^XA",
        "^CI28",
        f"^PW{WIDTH_MM * dots}",
        f"^LL{HEIGHT_MM * dots}",
        f"^FO{4 * dots},{4 * dots}^BY2^BCN,{16 * dots},N,N,N^FH^FD{zpl_field(label.barcode)}^FS",
    ]
    y = 22 * dots
    for index, line in enumerate(label.lines()):
        size = 30 if index == 0 else 24
        out.append(f"^FO{5 * dots},{y}^A0N,{size},{size}^FH^FD{zpl_field(line)}^FS")
        y += size + 8
    out.append("^XZ")
    return "\n".join(out) + "\n"
