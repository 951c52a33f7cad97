"""Code128 as inline SVG for screens, drawn by python-barcode: an operator can scan the LPN on a
unit card or a grade off the screen as off paper."""

from __future__ import annotations

import re

import barcode
from barcode.writer import SVGWriter
from markupsafe import Markup

PX_PER_MM = 96 / 25.4  # CSS pixels per millimetre
_SIZE = re.compile(r'<svg [^>]*width="([\d.]+)mm" height="([\d.]+)mm"[^>]*>')


def code128_svg(value: str, *, module_mm: float = 0.5, height_mm: float = 14.0) -> Markup:
    """`value` as an inline `<svg>` Code128 symbol that scales with CSS (quiet zones kept).

    A 0.5 mm module is ~1.9 CSS px: wide enough for a scanner held at a tablet screen. Colours
    are presentation attributes, not inline styles, so a strict Content-Security-Policy allows
    it; the text is escaped by the writer (and LPNs, RMAs and grade codes are plain ASCII).
    """
    symbol = barcode.get("code128", value, writer=SVGWriter())
    raw = symbol.render(
        {
            "module_width": module_mm,
            "module_height": height_mm,
            "quiet_zone": 10 * module_mm,
            "write_text": False,
            "compress": False,
        }
    ).decode()
    svg = raw[raw.index("<svg ") :]
    size = _SIZE.match(svg)
    if size is None:  # pragma: no cover - python-barcode changed its output
        raise ValueError("unexpected SVG from python-barcode")
    width, height = (float(size.group(i)) * PX_PER_MM for i in (1, 2))
    svg = svg.replace(
        size.group(0),
        f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img" '
        f'viewBox="0 0 {width:.2f} {height:.2f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-label="Barcode {Markup.escape(value)}">',
        1,
    )
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S).replace(' id="barcode_group"', "")
    svg = svg.replace('style="fill:white"', 'fill="white"').replace(
        'style="fill:black;"', 'fill="black"'
    )
    if "style=" in svg:  # pragma: no cover - python-barcode changed its output
        raise ValueError("inline styles left in the barcode SVG")
    return Markup(svg)  # noqa: S704 - built from python-barcode's output, no user markup in it
