"""The barcode reader the label tests rely on really reads Code128 back."""

import io

from reportlab.graphics.barcode import code128
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from tests.zbar import decode_pdf


def test_zbar_reads_a_code128_from_a_pdf():
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(100 * mm, 50 * mm))
    code128.Code128("LPN-TEST-0001", barHeight=15 * mm, barWidth=0.4 * mm).drawOn(
        pdf, 5 * mm, 20 * mm
    )
    pdf.showPage()
    pdf.save()
    assert decode_pdf(buffer.getvalue()) == [[("CODE128", "LPN-TEST-0001")]]
