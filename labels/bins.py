"""Location / bin labels: the bin's code as Code128, its kind and site, as PDF or ZPL.

The PDF puts one 100 x 50 mm label per page (label printers fed from the office); ZPL gives the
same content for a 203 dpi thermal printer.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from labels.code128 import draw_code128
from labels.zpl import DOTS_PER_MM, zpl_field

WIDTH_MM, HEIGHT_MM = 100, 50


@dataclass(frozen=True)
class BinLabel:
    """What is printed on a bin / pallet label; `code` is also the barcode."""

    code: str
    kind: str
    site: str
    name: str = ""
    partner: str = ""

    def lines(self) -> list[str]:
        """Text lines under the barcode, in print order."""
        lines = [self.code, f"{self.kind.upper()} · {self.site}"]
        if self.partner:
            lines.append(f"RTV pallet for {self.partner}")
        if self.name:
            lines.append(self.name)
        return lines


def bin_labels_pdf(labels: Sequence[BinLabel]) -> bytes:
    """One label per 100 x 50 mm page."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(WIDTH_MM * mm, HEIGHT_MM * mm))
    canvas.setTitle("Bin labels")
    for label in labels:
        draw_code128(canvas, label.code, 6 * mm, 24 * mm, max_width=88 * mm, height=20 * mm)
        y = 17 * mm
        for index, line in enumerate(label.lines()):
            size = 13 if index == 0 else 9
            canvas.setFont("Helvetica-Bold" if index < 2 else "Helvetica", size)
            canvas.drawString(6 * mm, y, line[:60])
            y -= size * 1.25
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def bin_labels_zpl(labels: Sequence[BinLabel]) -> str:
    """The labels as ZPL II, one ^XA…^XZ block each."""
    dots = DOTS_PER_MM
    out: list[str] = []
    for label in labels:
        out += [
            "^XA",
            "^CI28",
            f"^PW{WIDTH_MM * dots}^LL{HEIGHT_MM * dots}",
            f"^FO{6 * dots},{4 * dots}^BY3^BCN,{20 * dots},N,N,N^FH^FD{zpl_field(label.code)}^FS",
        ]
        y = 27 * dots
        for index, line in enumerate(label.lines()):
            size = 40 if index == 0 else 26
            out.append(f"^FO{6 * dots},{y}^A0N,{size},{size}^FH^FD{zpl_field(line)}^FS")
            y += size + 6
        out.append("^XZ")
    return "\n".join(out) + "\n"
