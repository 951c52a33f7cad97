"""The ESPR destruction ban, Regulation (EU) 2024/1781: Art. 25 (no destroying unsold apparel,
clothing accessories and footwear; returns are unsold goods, Art. 2(47)), its dates and sizes
(Art. 25(1), (3), (4)), its derogations (Art. 25(5)) and the yearly disclosure (Art. 24)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import espr, routing, rules
from warehouse.db import db
from warehouse.errors import Conflict, InvalidInput
from warehouse.models import (
    Category,
    DefectiveHandling,
    DestructionException,
    Disposition,
    DispositionRule,
    Event,
    Grade,
    LocationKind,
    UnitPhoto,
)


@pytest.fixture(autouse=True)
def _large_enterprise():
    espr.configure("large")
    yield
    espr.configure("large")


@pytest.mark.parametrize(
    ("size", "day", "category", "banned"),
    [
        ("large", dt.date(2026, 7, 18), Category.FASHION, False),  # Art. 25(1): from 19 July 2026
        ("large", dt.date(2026, 7, 19), Category.FASHION, True),
        ("large", dt.date(2026, 12, 1), Category.ELECTRONICS, False),  # Annex VII: apparel only
        ("medium", dt.date(2030, 7, 18), Category.FASHION, False),  # Art. 25(3): from 2030
        ("medium", dt.date(2030, 7, 19), Category.FASHION, True),
        ("small", dt.date(2040, 1, 1), Category.FASHION, False),  # Art. 25(4): exempt
    ],
)
def test_the_ban_by_size_date_and_category(size, day, category, banned):
    """Art. 25(1), 25(3), 25(4) and Annex VII."""
    espr.configure(size)
    assert espr.ban_in_force(category, day) is banned


def test_an_unknown_size_is_refused():
    """The enterprise size is a setting with three values (Art. 25(1), (3), (4))."""
    with pytest.raises(ValueError, match="large, medium, small"):
        espr.configure("huge")


def _jacket(app):
    partner = factories.partner(defective_handling=DefectiveHandling.DESTROY)
    unit = factories.graded(Grade.DEFECTIVE, partner=partner, category=Category.FASHION)
    unit.product.weight_grams = 900
    unit.product.title = "Rain jacket"
    target = factories.location(LocationKind.DESTROY)
    db.session.commit()
    return unit, target


def test_destroying_a_returned_jacket_is_refused_with_the_reason(app):
    """Art. 25(1): returned apparel may not be destroyed."""
    unit, target = _jacket(app)
    before = row_counts(Event)
    with pytest.raises(Conflict, match=r"Art\. 25") as caught:
        routing.plan(db.session, unit.lpn, factories.operator_actor())
    assert "is fashion" in caught.value.message
    with pytest.raises(Conflict, match="banned"):
        routing.put_away(db.session, unit.lpn, target.code, factories.operator_actor())
    db.session.rollback()
    assert row_counts(Event) == before


def test_with_a_derogation_and_a_photo_it_passes_and_the_disclosure_counts_it(app):
    """Art. 25(5) derogations, recorded with evidence; Art. 24 disclosure."""
    unit, target = _jacket(app)
    photo = UnitPhoto(
        unit_id=unit.id,
        partner_id=unit.partner_id,
        stored_name="x.jpg",
        width=1,
        height=1,
        size_bytes=1,
    )
    db.session.add(photo)
    db.session.flush()
    espr.record_exception(
        db.session, factories.OPERATOR, unit, derogation="safety", note="", photo_id=photo.id
    )
    done = routing.put_away(db.session, unit.lpn, target.code, factories.operator_actor())
    assert done.disposition == Disposition.DESTROY
    db.session.commit()
    [line] = espr.disclosure(db.session, unit.routed_at.year)
    assert (line.category, line.reason, line.route, line.units, line.weight_grams) == (
        "fashion",
        "safety",
        "destroyed",
        1,
        900,
    )


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"derogation": "boring", "note": "long enough note"}, InvalidInput, "not a derogation"),
        ({"derogation": "damaged", "note": "short"}, InvalidInput, "give the evidence"),
        ({"derogation": "damaged", "note": "x", "photo_id": 99999}, Exception, "no photo"),
    ],
)
def test_a_derogation_needs_a_reason_and_evidence(app, fields, error, message):
    """Art. 25(5): only the listed cases, each shown."""
    unit, _ = _jacket(app)
    before = row_counts(DestructionException, Event)
    with pytest.raises(error, match=message):
        espr.record_exception(db.session, factories.OPERATOR, unit, **fields)
    db.session.rollback()
    assert row_counts(DestructionException, Event) == before


def test_a_rule_destroying_apparel_is_refused_at_save(app):
    """Art. 25(1): a rule may not send apparel to destruction; donate and recycle stay."""
    with pytest.raises(InvalidInput, match="may not destroy fashion") as caught:
        rules.validate_table(
            [rules.Rule(Disposition.DESTROY, category=Category.FASHION)], partner_id=None
        )
    assert caught.value.field == "rules[1].outcome"
    rules.validate_table(
        [rules.Rule(Disposition.RECYCLE, category=Category.FASHION)], partner_id=None
    )
    rules.validate_table([rules.Rule(Disposition.DESTROY, category=Category.HOME)], partner_id=None)


def test_the_disclosure_reports_recycled_and_donated_units_by_grade(app):
    """Art. 24(1): number and weight, by category, reason and route."""
    for outcome in (Disposition.RECYCLE, Disposition.DONATE):
        unit = factories.graded(Grade.HEAVY_DAMAGE, category=Category.HOME)
        unit.product.weight_grams = 2000
        db.session.add(DispositionRule(partner_id=unit.partner_id, position=1, outcome=outcome))
        target = factories.location(LocationKind(outcome.value))
        routing.put_away(db.session, unit.lpn, target.code, factories.operator_actor())
    db.session.commit()
    lines = espr.disclosure(db.session, unit.routed_at.year)
    assert [(x.route, x.reason, x.units, x.weight_grams) for x in lines] == [
        ("donated", "heavy_damage", 1, 2000),
        ("recycled", "heavy_damage", 1, 2000),
    ]
    with pytest.raises(InvalidInput):
        espr.disclosure(db.session, 1800)
