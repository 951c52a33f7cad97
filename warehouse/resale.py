"""Discounted resale: the price, the eBay condition and an honest description of a unit.

Price = original * (1 - discount for the grade), rounded half away from zero to the minor unit,
never below the SKU's min-price floor (`price_or_none` says None; the rules then pass the unit on
to the partner's fallback route). Descriptions come from the grade, the grading checklist and
the operator's notes, in the listing's language (en, nl, de, fr).
"""

from __future__ import annotations

from collections.abc import Mapping

from warehouse.models import Grade
from warehouse.money import MoneyError, basis_points_of
from warehouse.reference import LANGUAGES

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
        raise MoneyError(f"a discount must be between 0 and 100 %, got {discount_bp / 100} %")
    return basis_points_of(original_minor, 10_000 - discount_bp)


def price_or_none(original_minor: int, discount_bp: int, floor_minor: int) -> int | None:
    """The resale price, or None when it would fall under the floor."""
    price = resale_price(original_minor, discount_bp)
    return None if price < floor_minor else price


_GRADE_TEXT = {
    "en": {
        Grade.NEW: "New, sealed in its original packaging",
        Grade.OPENED: "Opened box, unused",
        Grade.USED: "Used, no damage",
        Grade.LIGHT_DAMAGE: "Used with light marks or scratches",
        Grade.HEAVY_DAMAGE: "Clearly damaged but works; sold for parts or repair",
        Grade.DEFECTIVE: "Does not work; for parts only",
    },
    "nl": {
        Grade.NEW: "Nieuw, verzegeld in de originele verpakking",
        Grade.OPENED: "Geopende doos, ongebruikt",
        Grade.USED: "Gebruikt, zonder schade",
        Grade.LIGHT_DAMAGE: "Gebruikt met lichte sporen of krassen",
        Grade.HEAVY_DAMAGE: "Duidelijk beschadigd maar werkt; voor onderdelen of reparatie",
        Grade.DEFECTIVE: "Werkt niet; alleen voor onderdelen",
    },
    "de": {
        Grade.NEW: "Neu, versiegelt in der Originalverpackung",
        Grade.OPENED: "Geöffnete Verpackung, unbenutzt",
        Grade.USED: "Gebraucht, ohne Schäden",
        Grade.LIGHT_DAMAGE: "Gebraucht mit leichten Spuren oder Kratzern",
        Grade.HEAVY_DAMAGE: "Deutlich beschädigt, aber funktionsfähig; als Ersatzteil oder zur "
        "Reparatur",
        Grade.DEFECTIVE: "Funktioniert nicht; nur als Ersatzteil",
    },
    "fr": {
        Grade.NEW: "Neuf, scellé dans son emballage d'origine",
        Grade.OPENED: "Boîte ouverte, jamais utilisé",
        Grade.USED: "Occasion, sans dommage",
        Grade.LIGHT_DAMAGE: "Occasion avec de légères marques ou rayures",
        Grade.HEAVY_DAMAGE: "Nettement abîmé mais fonctionne ; pour pièces ou réparation",
        Grade.DEFECTIVE: "Ne fonctionne pas ; pour pièces uniquement",
    },
}

# What a ticked (True) or unticked (False) checklist item says; unknown items are left out.
_CHECKLIST_TEXT = {
    "en": {
        "accessories_complete": ("complete", "accessories missing"),
        "powers_on": ("powers on", "does not power on"),
        "tested": ("tested", None),
        "factory_reset": ("factory reset", None),
        "cleaned": ("cleaned", None),
        "sterilised": ("sterilised", None),
        "repackaged": ("repackaged", "without original packaging"),
    },
    "nl": {
        "accessories_complete": ("compleet", "accessoires ontbreken"),
        "powers_on": ("gaat aan", "gaat niet aan"),
        "tested": ("getest", None),
        "factory_reset": ("teruggezet naar fabrieksinstellingen", None),
        "cleaned": ("gereinigd", None),
        "sterilised": ("gesteriliseerd", None),
        "repackaged": ("opnieuw verpakt", "zonder originele verpakking"),
    },
    "de": {
        "accessories_complete": ("vollständig", "Zubehör fehlt"),
        "powers_on": ("schaltet ein", "schaltet nicht ein"),
        "tested": ("getestet", None),
        "factory_reset": ("auf Werkseinstellungen zurückgesetzt", None),
        "cleaned": ("gereinigt", None),
        "sterilised": ("sterilisiert", None),
        "repackaged": ("neu verpackt", "ohne Originalverpackung"),
    },
    "fr": {
        "accessories_complete": ("complet", "accessoires manquants"),
        "powers_on": ("s'allume", "ne s'allume pas"),
        "tested": ("testé", None),
        "factory_reset": ("réinitialisé aux paramètres d'usine", None),
        "cleaned": ("nettoyé", None),
        "sterilised": ("stérilisé", None),
        "repackaged": ("reconditionné dans un emballage", "sans emballage d'origine"),
    },
}
_REFURBISHED = {
    "en": "Seller refurbished",
    "nl": "Gereviseerd door de verkoper",
    "de": "Vom Verkäufer überholt",
    "fr": "Reconditionné par le vendeur",
}
_NOTES = {"en": "Notes", "nl": "Opmerkingen", "de": "Hinweise", "fr": "Remarques"}
_AND = {"en": "and", "nl": "en", "de": "und", "fr": "et"}


def _join(words: list[str], language: str) -> str:
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {_AND[language]} " + words[-1]


def condition_description(
    grade: Grade,
    checklist: Mapping[str, bool] | None,
    notes: str = "",
    *,
    language: str = "en",
    refurbished: bool = False,
) -> str:
    """'Opened box, unused: complete, tested and factory reset.' in the listing's language."""
    language = language if language in LANGUAGES else "en"
    head = _GRADE_TEXT[language][grade]
    if refurbished and CONDITION_IDS[grade] < 7000:
        head = f"{_REFURBISHED[language]}. {head}"
    said = []
    for key, (yes, no) in _CHECKLIST_TEXT[language].items():
        if key not in (checklist or {}):
            continue
        text = yes if checklist[key] else no
        if text:
            said.append(text)
    text = head + (": " + _join(said, language) if said else "") + "."
    notes = " ".join((notes or "").split())
    if notes:
        text += f" {_NOTES[language]}: {notes}"
    return text
