"""The statement and invoice PDFs lay every line out on as many pages as they need."""

from __future__ import annotations

from labels.money_documents import DocumentLine, MoneyDocument, money_pdf
from tests.helpers import pdf_text


def test_a_long_statement_keeps_every_line_and_its_totals():
    lines = tuple(
        DocumentLine(
            day="2026-11-01",
            reference=f"MP-{n:07d}-LONG-ORDER-REF",
            text=(
                f"Commission 12.5 % credited back on the refund of order MP-{n:07d}; the "
                "marketplace owes you, and this sentence is long enough to wrap twice over"
            ),
            amount="EUR 1.00",
            balance=f"EUR {n}.00",
        )
        for n in range(120)
    )
    doc = MoneyDocument(
        title="Statement",
        number="2026-11",
        issuer="Returnyard Marketplace B.V.\nHavenweg 1",
        recipient="Acme\nStraat 1",
        facts=(("Period", "2026-11-01 to 2026-11-30"),),
        lines=lines,
        totals=tuple((f"EUR total {n}", "EUR 1.00") for n in range(5)),
        note="A note that is long enough to need more than one line on the last page. " * 4,
        balance_column=True,
    )
    text = pdf_text(money_pdf(doc), joiner="\n")
    flat = text.replace("\r", "").replace("\n", " ")
    for n in range(120):
        assert f"MP-{n:07d}-LONG-OR" in flat, n  # the order number, over two printed lines
        assert f"Commission 12.5 % credited back on the refund of order MP-{n:07d}" in flat
        assert f"EUR {n}.00" in flat
    for n in range(5):
        assert f"EUR total {n}" in flat
    assert "Page 1 of" in flat
