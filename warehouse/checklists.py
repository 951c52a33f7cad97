"""The grading checklist per product category, and what must be done before a unit is sold again.

SPEC section 6: electronics are tested and factory-reset before any resale; items are cleaned
(sterilised where the category requires) and repackaged. The category's own items
(`CHECKLIST_EXTRA`) are the ones routing enforces: a unit without them goes to refurbish first.
"""

from __future__ import annotations

from collections.abc import Mapping

from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Category, Grade

CHECKLIST_LABELS = {
    "accessories_complete": _l("Accessories complete"),
    "cleaned": _l("Cleaned"),
    "repackaged": _l("Repackaged"),
    "powers_on": _l("Powers on"),
    "tested": _l("Tested"),
    "factory_reset": _l("Factory reset done"),
    "sterilised": _l("Sterilised"),
}
CHECKLIST_ALL = ("accessories_complete", "cleaned", "repackaged")
CHECKLIST_EXTRA = {
    Category.ELECTRONICS: ("powers_on", "tested", "factory_reset"),
    Category.HYGIENE: ("sterilised",),
}


def checklist_for(category: Category | None) -> tuple[str, ...]:
    """The checklist items of a product category (the common ones first)."""
    return CHECKLIST_ALL + CHECKLIST_EXTRA.get(category, ()) if category else CHECKLIST_ALL


def missing_before_sale(
    category: Category | None, grade: Grade | None, checklist: Mapping[str, bool]
) -> tuple[str, ...]:
    """The category's checks not done on a unit (a sealed, `new` unit needs none)."""
    if grade == Grade.NEW or category is None:
        return ()
    return tuple(item for item in CHECKLIST_EXTRA.get(category, ()) if not checklist.get(item))
