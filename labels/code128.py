"""Code128 drawn onto a reportlab canvas, sized to fit, with its quiet zones kept clear."""

from __future__ import annotations

from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfgen.canvas import Canvas


def draw_code128(
    canvas: Canvas, value: str, x: float, y: float, *, max_width: float, height: float
) -> float:
    """Draw `value` as Code128 with its left edge at `x`, no wider than `max_width` points.

    The bar module is chosen so the whole symbol (quiet zones included) fits; a module below
    0.7 pt would not scan on a 203 dpi printer, so a value too long for the space is refused.
    Returns the width used.
    """
    probe = Code128(value, barWidth=1, barHeight=height)
    module = min(max_width / probe.width, 2.5)
    if module < 0.7:
        raise ValueError(f"{value!r} is too long for a {max_width:.0f} pt wide barcode")
    symbol = Code128(value, barWidth=module, barHeight=height, humanReadable=False)
    symbol.drawOn(canvas, x, y)
    return symbol.width
