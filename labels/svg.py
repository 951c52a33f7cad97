"""Code128 as inline SVG for screens: an operator can scan the LPN on a unit card or a grade off
the screen as off paper. python-barcode encodes the symbol (its modules, check symbol
included); the bars are drawn here as one path, which is what the scan answers need: a unit
card is on the hot path, and building the SVG through an XML document took longer than the
rest of the card."""

from __future__ import annotations

import barcode
from markupsafe import Markup

PX_PER_MM = 96 / 25.4  # CSS pixels per millimetre
QUIET_MODULES = 10  # clear space each side, in modules


def code128_modules(value: str) -> str:
    """The symbol's modules, left to right: "1" a bar module, "0" a space."""
    return barcode.get("code128", value).build()[0]


def code128_svg(value: str, *, module_mm: float = 0.5, height_mm: float = 14.0) -> Markup:
    """`value` as an inline `<svg>` Code128 symbol that scales with CSS (quiet zones kept).

    A 0.5 mm module is ~1.9 CSS px: wide enough for a scanner held at a tablet screen. Colours
    are presentation attributes, not inline styles, so a strict Content-Security-Policy allows
    it. The drawing is in module units (the view box), so every bar edge falls on a module.
    """
    modules = code128_modules(value)
    total = len(modules) + 2 * QUIET_MODULES
    height = height_mm / module_mm  # in modules
    bars, start = [], None
    for index, module in enumerate(modules + "0"):
        if module == "1" and start is None:
            start = index
        elif module == "0" and start is not None:
            bars.append(f"M{start + QUIET_MODULES} 0h{index - start}v{height:g}h-{index - start}z")
            start = None
    width_px, height_px = total * module_mm * PX_PER_MM, height_mm * PX_PER_MM
    return Markup(  # noqa: S704 - numbers and the escaped value only
        f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img" '
        f'viewBox="0 0 {total} {height:g}" width="{width_px:.0f}" height="{height_px:.0f}" '
        f'shape-rendering="crispEdges" aria-label="Barcode {Markup.escape(value)}">'
        f'<rect width="{total}" height="{height:g}" fill="white"/>'
        f'<path fill="black" d="{"".join(bars)}"/></svg>'
    )
