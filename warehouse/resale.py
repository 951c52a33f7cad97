"""Discounted resale: the price, the eBay condition and an honest description of a unit.

Price = original * (1 - discount for the grade), rounded half away from zero to the minor unit,
never below the SKU's min-price floor (`price_or_none` says None; the rules then pass the unit on
to the partner's fallback route). Descriptions come from the grade, the grading checklist and
the operator's notes, in the listing's language (en, nl, de, fr).
"""

from __future__ import annotations

from collections.abc import Mapping

from warehouse import i18n
from warehouse.i18n import N_
from warehouse.models import Grade
from warehouse.money import MoneyError, basis_points_of

# eBay condition IDs (SPEC section 6) by the unit's final grade; a unit that refurbishment brought
# back to opened or new is sold as 2500 Seller refurbished.
CONDITION_IDS = {
    Grade.NEW: 1000,
    Grade.OPENED: 1500,
    Grade.USED: 3000,
    Grade.LIGHT_DAMAGE: 3000,
    Grade.HEAVY_DAMAGE: 7000,
    Grade.DEFECTIVE: 7000,
}
SELLER_REFURBISHED = 2500


REFURBISHED_TO = (Grade.NEW, Grade.OPENED)


def condition_id(grade: Grade, *, refurbished: bool = False) -> int:
    """The eBay ConditionID of a unit's final grade: 2500 only when refurbishment brought it to
    opened or new; a refurbished unit re-graded used or damaged keeps that grade's condition."""
    if refurbished and grade in REFURBISHED_TO:
        return SELLER_REFURBISHED
    return CONDITION_IDS[grade]


def resale_price(original_minor: int, discount_bp: int) -> int:
    """Original * (1 - discount), the price itself rounded half away from zero to a minor unit.

    (Rounding the price, not the discount: 10 % off 559.55 is 503.595, sold at 503.60.)
    """
    if not 0 <= discount_bp <= 10_000:
        raise MoneyError(
            i18n.gettext(
                "a discount must be between 0 and 100 %%, got %(percent)s",
                percent=i18n.percent(discount_bp),
            )
        )
    return basis_points_of(original_minor, 10_000 - discount_bp)


def price_or_none(original_minor: int, discount_bp: int, floor_minor: int) -> int | None:
    """The resale price, or None when it would fall under the floor."""
    price = resale_price(original_minor, discount_bp)
    return None if price < floor_minor else price


# What a listing says of each grade, in the listing's language (`i18n`, context "listing").
_GRADE_TEXT = {
    Grade.NEW: N_("New, sealed in its original packaging"),
    Grade.OPENED: N_("Opened box, unused"),
    Grade.USED: N_("Used, no damage"),
    Grade.LIGHT_DAMAGE: N_("Used with light marks or scratches"),
    Grade.HEAVY_DAMAGE: N_("Clearly damaged but works; sold for parts or repair"),
    Grade.DEFECTIVE: N_("Does not work; for parts only"),
}

# What a ticked (True) or unticked (False) checklist item says; unknown items are left out.
_CHECKLIST_TEXT = {
    "accessories_complete": (N_("complete"), N_("accessories missing")),
    "powers_on": (N_("powers on"), N_("does not power on")),
    "tested": (N_("tested"), None),
    "factory_reset": (N_("factory reset"), None),
    "cleaned": (N_("cleaned"), None),
    "sterilised": (N_("sterilised"), None),
    "repackaged": (N_("repackaged"), N_("without original packaging")),
}


def _join(words: list[str]) -> str:
    if len(words) < 2:
        return "".join(words)
    return i18n.gettext("%(first)s and %(last)s", first=", ".join(words[:-1]), last=words[-1])


def condition_description(
    grade: Grade,
    checklist: Mapping[str, bool] | None,
    notes: str = "",
    *,
    language: str = "en",
    refurbished: bool = False,
) -> str:
    """'Opened box, unused: complete, tested and factory reset.' in the listing's language."""
    with i18n.reading(language):
        head = i18n.gettext(_GRADE_TEXT[grade])
        if refurbished and CONDITION_IDS[grade] < 7000:
            head = i18n.gettext("Seller refurbished. %(condition)s", condition=head)
        said = []
        for key, (yes, no) in _CHECKLIST_TEXT.items():
            if key not in (checklist or {}):
                continue
            text = yes if checklist[key] else no
            if text:
                said.append(i18n.gettext(text))
        text = (
            i18n.gettext("%(condition)s: %(checks)s.", condition=head, checks=_join(said))
            if said
            else head + "."
        )
        notes = " ".join((notes or "").split())
        if notes:
            text += " " + i18n.gettext("Notes: %(notes)s", notes=notes)
        return text
