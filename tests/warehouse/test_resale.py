"""Resale price and floor arithmetic per currency, eBay condition IDs and descriptions."""

from __future__ import annotations

import pytest

from tests import factories
from warehouse import i18n, resale, routing
from warehouse.db import db
from warehouse.models import DefectiveHandling, Disposition, Grade, LocationKind
from warehouse.money import MoneyError


@pytest.mark.parametrize(
    ("original", "discount_bp", "expected"),
    [
        (4_999, 1_000, 4_499),  # EUR 49.99 -10 % = 44.991 → 44.99
        (4_995, 1_000, 4_496),  # EUR 49.95 -10 % = 44.955 → 44.96 (half away from zero)
        (4_299, 2_500, 3_224),  # GBP 42.99 -25 % = 32.2425 → 32.24
        (37_500, 3_000, 26_250),  # DKK 375.00 -30 % = 262.50
        (37_545, 7_000, 11_264),  # DKK 375.45 -70 % = 112.635 → 112.64
        (55_955, 1_000, 50_360),  # SEK 559.55 -10 % = 503.595 → 503.60
        (1, 5_000, 1),  # 0.01 -50 % = 0.005 → 0.01
        (10_000, 0, 10_000),
        (10_000, 10_000, 0),
    ],
)
def test_price_is_rounded_half_away_from_zero_to_the_minor_unit(original, discount_bp, expected):
    assert resale.resale_price(original, discount_bp) == expected


def test_a_discount_outside_0_to_100_percent_is_refused():
    with pytest.raises(MoneyError):
        resale.resale_price(1_000, 10_001)


def test_the_floor_is_inclusive():
    assert resale.price_or_none(10_000, 3_000, 7_000) == 7_000
    assert resale.price_or_none(10_000, 3_000, 7_001) is None


@pytest.mark.parametrize(
    ("currency", "price", "floor", "listed"),
    [
        ("EUR", 4_995, 4_496, 4_496),
        ("GBP", 4_299, 3_900, None),  # 10 % off is 38.69 < 39.00
        ("DKK", 37_545, 33_791, 33_791),  # 337.905 → 337.91
        ("SEK", 55_955, 50_361, None),  # 503.60 < 503.61
    ],
)
def test_resale_in_each_currency_respects_the_floor(app, currency, price, floor, listed):
    partner = factories.partner(defective_handling=DefectiveHandling.RETURN_TO_VENDOR)
    unit = factories.graded(
        Grade.OPENED, partner=partner, currency=currency, price=price, floor=floor
    )
    for kind in (LocationKind.RESALE, LocationKind.RTV):
        factories.location(kind)
    planned = routing.plan(db.session, unit.lpn, routing.Actor(label="t"))
    if listed is None:
        assert planned.route.outcome == Disposition.RTV  # the partner's fallback route
        assert "under the floor" in planned.route.passed_over[-1]
    else:
        done = routing.put_away(db.session, unit.lpn, planned.target.code, routing.Actor(label="t"))
        assert (done.listing.price_minor, done.listing.currency) == (listed, currency)


@pytest.mark.parametrize(
    ("grade", "refurbished", "expected"),
    [
        (Grade.NEW, False, 1000),
        (Grade.OPENED, False, 1500),
        (Grade.USED, False, 3000),
        (Grade.LIGHT_DAMAGE, False, 3000),
        (Grade.HEAVY_DAMAGE, False, 7000),
        (Grade.DEFECTIVE, False, 7000),
        # Refurbished: 2500 only when refurbishment brought it to opened / new (issue 10).
        (Grade.OPENED, True, 2500),
        (Grade.NEW, True, 2500),
        (Grade.USED, True, 3000),
        (Grade.LIGHT_DAMAGE, True, 3000),
        (Grade.HEAVY_DAMAGE, True, 7000),
    ],
)
def test_ebay_condition_ids(grade, refurbished, expected):
    assert resale.condition_id(grade, refurbished=refurbished) == expected


def test_descriptions_in_every_listing_language():
    checklist = {
        "accessories_complete": True,
        "tested": True,
        "factory_reset": True,
        "cleaned": False,
    }
    texts = {
        lang: resale.condition_description(
            Grade.OPENED, checklist, "  small dent\n on lid ", language=lang
        )
        for lang in i18n.LANGUAGES
    }
    assert texts["en"] == (
        "Opened box, unused: complete, tested and factory reset. Notes: small dent on lid"
    )
    assert texts["nl"].startswith("Geopende doos, ongebruikt: compleet, getest en teruggezet")
    assert texts["de"].startswith("Geöffnete Verpackung, unbenutzt: vollständig, getestet und")
    assert texts["fr"].endswith("small dent on lid")
    assert "Remarques" in texts["fr"]
    missing = resale.condition_description(
        Grade.USED, {"accessories_complete": False}, language="en", refurbished=True
    )
    assert missing == "Seller refurbished. Used, no damage: accessories missing."
    assert resale.condition_description(Grade.NEW, {}, language="xx") == (
        "New, sealed in its original packaging."
    )
