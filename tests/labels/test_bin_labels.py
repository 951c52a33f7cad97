"""Bin / location labels as PDF (decoded with zbar) and ZPL."""

from __future__ import annotations

from labels.bins import BinLabel, bin_labels_pdf, bin_labels_zpl
from tests.zbar import decode_pdf

LABELS = [
    BinLabel("BIN-RS-01", "restock", "WAL", "Aisle 3"),
    BinLabel("PAL-RTV-ACME-1", "rtv", "WAL", partner="Acme^Home~"),
]


def test_bin_label_pdf_decodes_to_each_code():
    pages = decode_pdf(bin_labels_pdf(LABELS))
    assert pages == [[("CODE128", "BIN-RS-01")], [("CODE128", "PAL-RTV-ACME-1")]]


def test_bin_label_zpl_has_one_block_per_label_with_escaped_text():
    zpl = bin_labels_zpl(LABELS)
    assert zpl.count("^XA") == zpl.count("^XZ") == 2
    assert "^BCN,160,N,N,N^FH^FDBIN-RS-01^FS" in zpl
    assert "RTV pallet for Acme_5EHome_7E" in zpl
