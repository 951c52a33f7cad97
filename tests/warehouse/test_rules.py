"""Disposition rules as a pure function: order, defaults, quotas, floors, validation."""

from __future__ import annotations

import pytest

from warehouse.errors import InvalidInput
from warehouse.models import Category, DefectiveHandling, Disposition, Grade, Reason
from warehouse.rules import Rule, UnitFacts, decide, parse_rows, validate_table

DISCOUNTS = {"opened": 1000, "used": 2500, "light_damage": 4000, "heavy_damage": 7000}


def facts(grade=Grade.NEW, **overrides) -> UnitFacts:
    values = {
        "partner_id": 1,
        "grade": grade,
        "category": Category.FASHION,
        "reason": Reason.CHANGED_MIND,
        "value_minor": 10_000,
        "currency": "EUR",
        "floor_minor": 2_000,
        "refurbished": False,
    }
    values.update(overrides)
    return UnitFacts(**values)


def route(unit_facts, rules=(), handling=DefectiveHandling.DESTROY, quota_used=None):
    return decide(
        unit_facts,
        list(rules),
        defective_handling=handling,
        resale_discount_bp=DISCOUNTS,
        quota_used=quota_used,
    )


@pytest.mark.parametrize(
    ("grade", "refurbished", "handling", "expected"),
    [
        (Grade.NEW, False, DefectiveHandling.DESTROY, Disposition.RESTOCK),
        (Grade.OPENED, False, DefectiveHandling.DESTROY, Disposition.RESALE),
        (Grade.USED, False, DefectiveHandling.DESTROY, Disposition.REFURBISH),
        (Grade.USED, True, DefectiveHandling.DESTROY, Disposition.RESALE),
        (Grade.LIGHT_DAMAGE, False, DefectiveHandling.DESTROY, Disposition.REFURBISH),
        (Grade.LIGHT_DAMAGE, True, DefectiveHandling.DESTROY, Disposition.RESALE),
        (Grade.HEAVY_DAMAGE, False, DefectiveHandling.DESTROY, Disposition.RESALE),
        (Grade.DEFECTIVE, False, DefectiveHandling.DESTROY, Disposition.DESTROY),
        (Grade.DEFECTIVE, False, DefectiveHandling.RETURN_TO_VENDOR, Disposition.RTV),
    ],
)
def test_defaults_follow_spec_section_6(grade, refurbished, handling, expected):
    assert route(facts(grade, refurbished=refurbished), handling=handling).outcome == expected


def test_first_matching_rule_wins_and_partner_rules_come_first():
    partner_rule = Rule(Disposition.DONATE, grade=Grade.OPENED, partner_id=1, id=1)
    default_rule = Rule(Disposition.RECYCLE, grade=Grade.OPENED, id=2)
    later = Rule(Disposition.DESTROY, id=3)
    assert route(facts(Grade.OPENED), [partner_rule, default_rule, later]).rule.id == 1
    # Another partner's rule never matches this unit.
    other = Rule(Disposition.DONATE, grade=Grade.OPENED, partner_id=2, id=4)
    assert route(facts(Grade.OPENED), [other, default_rule]).rule.id == 2


def test_conditions_on_category_reason_and_value():
    table = [
        Rule(Disposition.RTV, category=Category.ELECTRONICS, id=1),
        Rule(Disposition.DONATE, reason=Reason.WRONG_SIZE, id=2),
        Rule(Disposition.RECYCLE, currency="EUR", max_value_minor=999, id=3),
    ]
    assert route(facts(category=Category.ELECTRONICS), table).rule.id == 1
    assert route(facts(reason=Reason.WRONG_SIZE), table).rule.id == 2
    assert route(facts(value_minor=999), table).rule.id == 3
    # Value bounds are inclusive and in one currency only.
    assert route(facts(value_minor=1000), table).outcome == Disposition.RESTOCK
    assert route(facts(value_minor=500, currency="GBP"), table).outcome == Disposition.RESTOCK


def test_quota_spills_over_to_the_next_rule():
    table = [
        Rule(Disposition.RTV, grade=Grade.DEFECTIVE, monthly_quota=5, id=7),
        Rule(Disposition.RECYCLE, grade=Grade.DEFECTIVE, id=8),
    ]
    assert route(facts(Grade.DEFECTIVE), table, quota_used={7: 4}).rule.id == 7
    spilled = route(facts(Grade.DEFECTIVE), table, quota_used={7: 5})
    assert spilled.rule.id == 8
    assert "quota of 5 used up" in spilled.passed_over[0]


def test_resale_price_uses_the_rule_or_partner_discount():
    assert route(facts(Grade.OPENED)).price_minor == 9_000  # partner: 10 % off opened
    table = [Rule(Disposition.RESALE, grade=Grade.OPENED, discount_bp=1550, id=1)]
    chosen = route(facts(Grade.OPENED), table)
    assert (chosen.discount_bp, chosen.price_minor) == (1550, 8_450)


def test_resale_under_the_floor_goes_to_the_next_rule_then_the_fallback():
    cheap = facts(Grade.HEAVY_DAMAGE, value_minor=5_000, floor_minor=1_600)  # 70 % off: 1500
    table = [Rule(Disposition.DONATE, grade=Grade.HEAVY_DAMAGE, reason=Reason.DEFECTIVE, id=1)]
    assert route(cheap, table).outcome == Disposition.DESTROY
    assert route(cheap, handling=DefectiveHandling.RETURN_TO_VENDOR).outcome == Disposition.RTV
    assert "under the floor" in route(cheap).passed_over[0]
    next_rule = [
        Rule(Disposition.RESALE, grade=Grade.HEAVY_DAMAGE, id=1),
        Rule(Disposition.RECYCLE, grade=Grade.HEAVY_DAMAGE, id=2),
    ]
    assert route(cheap, next_rule).rule.id == 2
    # Exactly at the floor is allowed.
    assert route(facts(Grade.HEAVY_DAMAGE, value_minor=5_000, floor_minor=1_500)).price_minor == (
        1_500
    )


# --- validation ------------------------------------------------------------------------------


def refused(rules, partner_id=None) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validate_table(rules, partner_id=partner_id)
    return caught.value


def test_an_empty_table_is_refused():
    assert refused([]).field == "rules"


def test_contradictory_rules_are_refused_naming_the_field():
    assert (
        refused(
            [Rule(Disposition.RTV, currency="EUR", min_value_minor=500, max_value_minor=100)]
        ).field
        == "rules[1].max_value"
    )
    assert refused([Rule(Disposition.RTV, discount_bp=1000)]).field == "rules[1].discount"
    assert refused([Rule(Disposition.RTV, min_value_minor=100)]).field == "rules[1].currency"


def test_duplicate_and_shadowed_rules_are_refused():
    error = refused(
        [Rule(Disposition.RTV, grade=Grade.USED), Rule(Disposition.DESTROY, grade=Grade.USED)]
    )
    assert (error.field, "duplicates rule 1" in error.message) == ("rules[2].position", True)
    shadowed = refused([Rule(Disposition.RTV), Rule(Disposition.DESTROY, grade=Grade.USED)])
    assert "is shadowed by rule 1" in shadowed.message
    # A quota or a resale rule can pass units on, so a later rule is still reachable.
    validate_table(
        [Rule(Disposition.RTV, monthly_quota=3), Rule(Disposition.DESTROY)], partner_id=None
    )
    validate_table(
        [Rule(Disposition.RESALE, grade=Grade.USED), Rule(Disposition.DESTROY)], partner_id=None
    )
    # Rules of different partners never shadow each other.
    validate_table(
        [Rule(Disposition.RTV), Rule(Disposition.DESTROY, partner_id=3)], partner_id=None
    )


def test_a_partner_table_cannot_route_another_partners_units():
    assert refused([Rule(Disposition.RTV, partner_id=2)], partner_id=1).field == (
        "rules[1].partner"
    )


def test_parsing_refuses_unknown_grade_partner_and_outcome():
    known = {"ACME": 1}
    with pytest.raises(InvalidInput) as grade:
        parse_rows([{"outcome": "rtv", "grade": "broken"}], partners_by_code=known)
    assert grade.value.field == "rules[1].grade"
    with pytest.raises(InvalidInput) as partner:
        parse_rows(
            [{"outcome": "rtv"}, {"outcome": "rtv", "partner": "NOPE"}], partners_by_code=known
        )
    assert partner.value.field == "rules[2].partner"
    with pytest.raises(InvalidInput) as outcome:
        parse_rows([{"outcome": "quarantine"}], partners_by_code=known)
    assert outcome.value.field == "rules[1].outcome"
    with pytest.raises(InvalidInput) as amount:
        parse_rows(
            [{"outcome": "rtv", "currency": "EUR", "min_value": "1.234"}], partners_by_code=known
        )
    assert amount.value.field == "rules[1].min_value"


def test_parsing_reads_amounts_in_major_units_and_discount_in_percent():
    [rule] = parse_rows(
        [
            {
                "outcome": "resale",
                "grade": "used",
                "partner": "ACME",
                "currency": "sek",
                "min_value": "12,5",
                "max_value": "100",
                "discount": "12.5",
                "quota": "4",
            }
        ],
        partners_by_code={"ACME": 1},
    )
    assert (rule.partner_id, rule.currency, rule.min_value_minor, rule.max_value_minor) == (
        1,
        "SEK",
        1250,
        10000,
    )
    assert (rule.discount_bp, rule.monthly_quota, rule.grade) == (1250, 4, Grade.USED)
