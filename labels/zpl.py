"""What every ZPL II label shares: the printer's resolution and safe field data."""

from __future__ import annotations

DOTS_PER_MM = 8  # 203 dpi thermal printers


def zpl_field(text: str) -> str:
    """Field data safe inside ^FH^FD…^FS: the control characters become hex escapes."""
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")
