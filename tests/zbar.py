"""Read barcodes back the way a scanner would: render the PDF to pixels, decode with zbar."""

from __future__ import annotations

import io

import pypdfium2
from PIL import Image
from pyzbar import pyzbar


def pdf_pages(pdf: bytes, dpi: int = 300) -> list[Image.Image]:
    """Each page of a PDF as a greyscale image at `dpi`."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [
            page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for page in document
        ]
    finally:
        document.close()


def decode_image(image: Image.Image) -> list[tuple[str, str]]:
    """(symbology, text) of every barcode zbar finds in an image, top to bottom."""
    found = pyzbar.decode(image)
    found.sort(key=lambda symbol: (symbol.rect.top, symbol.rect.left))
    return [(symbol.type, symbol.data.decode()) for symbol in found]


def decode_pdf(pdf: bytes, dpi: int = 300) -> list[list[tuple[str, str]]]:
    """Barcodes per page of a PDF."""
    return [decode_image(page) for page in pdf_pages(pdf, dpi)]


def decode_png(png: bytes) -> list[tuple[str, str]]:
    return decode_image(Image.open(io.BytesIO(png)).convert("L"))
