"""Labels: every barcode decodes back to its exact text with zbar; PDF and ZPL show the same."""

from __future__ import annotations

import re

import pypdfium2

from labels.return_label import ReturnLabel, return_label_pdf
from labels.unit_label import UnitLabel, unit_label_pdf, unit_label_zpl
from tests.zbar import decode_pdf
from warehouse import codes

UNIT = UnitLabel(
    lpn="LP4D8ZK1M2" + codes.check_symbol("4D8ZK1M2"),
    title="Trail running shoe, size 43",
    sku="SHOE-43",
    rma="RMA-7K3QF2" + codes.check_symbol("7K3QF2"),
    partner="Fjell Outdoor",
    received_on="2026-11-26",
    flags=("serial mismatch",),
)


def _pdf_text(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_unit_label_pdf_is_100_by_50_mm_and_its_barcode_decodes():
    pdf = unit_label_pdf(UNIT)
    document = pypdfium2.PdfDocument(pdf)
    width, height = document[0].get_size()
    document.close()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (100, 50)
    assert decode_pdf(pdf) == [[("CODE128", UNIT.lpn)]]
    text = _pdf_text(pdf)
    for line in UNIT.lines():
        assert line in text


def test_unit_label_zpl_has_the_same_barcode_and_fields_as_the_pdf():
    zpl = unit_label_zpl(UNIT)
    assert zpl.startswith("^XA")
    assert zpl.rstrip().endswith("^XZ")
    assert re.search(r"\^BCN,\d+,N,N,N\^FH\^FD" + UNIT.lpn + r"\^FS", zpl)
    fields = re.findall(r"\^A0N,\d+,\d+\^FH\^FD(.*?)\^FS", zpl)
    assert fields == UNIT.lines()
    pdf_text = _pdf_text(unit_label_pdf(UNIT))
    assert all(field in pdf_text for field in fields)


def test_zpl_escapes_its_control_characters():
    label = UnitLabel(
        "LP00000000" + codes.check_symbol("00000000"),
        "50^ off ~ deal_x",
        "S",
        "R",
        "P",
        "2026-01-01",
    )
    zpl = unit_label_zpl(label)
    assert "50_5E off _7E deal_5Fx" in zpl
    assert zpl.count("^XA") == 1


def test_return_label_barcode_decodes_to_the_rma():
    label = ReturnLabel(
        rma=UNIT.rma,
        order_number="MP-100001",
        ship_to="Returnyard Retouren\nLogistikring 7\n46446 Emmerich am Rhein\nGermany",
        ship_from="Sam Customer\nHauptstr. 1\n10115 Berlin",
        lines=(("SHOE-43", "Trail running shoe", 1, "Wrong size"),),
    )
    pdf = return_label_pdf(label)
    assert decode_pdf(pdf, dpi=200) == [[("CODE128", UNIT.rma)]]
    text = _pdf_text(pdf)
    assert "Logistikring 7" in text
    assert "Trail running shoe" in text
    assert "How to pack" in text
