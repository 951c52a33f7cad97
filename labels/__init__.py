"""Barcodes and printable documents: PDF (reportlab) for office printers, ZPL for thermal ones."""
