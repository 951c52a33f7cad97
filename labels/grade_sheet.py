"""The printed grade sheet: one Code128 barcode per condition grade, so an operator can grade by
scanning the sheet at the bench instead of tapping the screen."""

from __future__ import annotations

from labels.sheets import SheetRow, barcode_sheet_pdf
from warehouse.grading import GRADE_HINTS, GRADE_ORDER, grade_barcode
from warehouse.vocabulary import GRADE_LABELS


def grade_sheet_pdf() -> bytes:
    """The six grades: name, meaning and the barcode to scan."""
    return barcode_sheet_pdf(
        "Grade sheet",
        "Scan the unit label (LPN), tick or scan the checklist, then scan a grade.",
        [SheetRow(grade_barcode(g), GRADE_LABELS[g], GRADE_HINTS[g]) for g in GRADE_ORDER],
    )
