"""Put-away along each route, refused targets, routing twice, stock, listings and closing."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import routing
from warehouse.db import db
from warehouse.errors import Conflict, InvalidInput, UnknownBarcode
from warehouse.events import history
from warehouse.i18n import reading
from warehouse.models import (
    Batch,
    BatchKind,
    Category,
    DefectiveHandling,
    Disposition,
    DispositionRule,
    Event,
    Grade,
    Listing,
    LocationKind,
    Placement,
    RefundState,
    RejectedReturns,
    ReturnStatus,
    StockEntry,
    UnitException,
    UnitStatus,
)

TOUCHED = (Placement, StockEntry, Listing, Batch, Event)


def test_restock_raises_stock_with_a_ledger_entry(app):
    bins = factories.bins_for_every_kind()
    unit = factories.graded(Grade.NEW)
    actor = factories.operator_actor()
    planned = routing.plan(db.session, unit.lpn, actor)
    assert (planned.route.outcome, planned.target) == (Disposition.RESTOCK, bins["restock"])
    done = routing.put_away(db.session, unit.lpn.lower(), bins["restock"].code, actor)
    db.session.commit()
    assert done.disposition == Disposition.RESTOCK
    assert unit.product.stock == 1
    entry = db.session.query(StockEntry).one()
    assert (entry.unit_id, entry.quantity, entry.stock_after) == (unit.id, 1, 1)
    assert unit.status == UnitStatus.ROUTED
    assert unit.routed_at is not None
    kinds = [event.kind for event in history(db.session, unit)]
    assert kinds == ["unit.routed"]


def test_resale_lists_the_unit_at_the_discounted_price(app):
    bins = factories.bins_for_every_kind()
    unit = factories.graded(Grade.OPENED, currency="SEK", price=55_955)
    unit.checklist = {"accessories_complete": True, "tested": True, "factory_reset": True}
    done = routing.put_away(db.session, unit.lpn, bins["resale"].code, factories.operator_actor())
    listing = done.listing
    # 10 % off 559.55 = 503.595 → 503.60 (half away from zero).
    assert (listing.price_minor, listing.currency, listing.condition_id) == (50_360, "SEK", 1500)
    assert listing.condition_description == (
        "Opened box, unused: complete, tested and factory reset."
    )


def test_refurbish_sends_the_unit_back_to_grading_then_resale_as_refurbished(app):
    bins = factories.bins_for_every_kind()
    unit = factories.graded(Grade.USED)
    actor = factories.operator_actor()
    done = routing.put_away(db.session, unit.lpn, bins["refurbish"].code, actor)
    assert done.disposition == Disposition.REFURBISH
    assert unit.status == UnitStatus.RECEIVED
    # Grading grades it again: refurbishment brought it to opened, so it is resold as seller
    # refurbished (a re-grade of used or damaged keeps that grade's condition: issue 10).
    unit.status, unit.grade = UnitStatus.GRADED, Grade.OPENED
    again = routing.put_away(db.session, unit.lpn, bins["resale"].code, actor)
    assert again.listing.condition_id == 2500
    assert again.listing.condition_description.startswith("Seller refurbished.")
    placements = db.session.query(Placement).order_by(Placement.id).all()
    assert [p.left_at is None for p in placements] == [False, True]
    assert [e.kind for e in history(db.session, unit)] == ["unit.sent_to_refurbish", "unit.routed"]


@pytest.mark.parametrize(
    ("grade", "handling", "kind", "batch_kind"),
    [
        (Grade.DEFECTIVE, DefectiveHandling.RETURN_TO_VENDOR, LocationKind.RTV, BatchKind.RTV),
        (Grade.DEFECTIVE, DefectiveHandling.DESTROY, LocationKind.DESTROY, BatchKind.DESTRUCTION),
    ],
)
def test_rtv_and_destroy_join_the_open_batch(app, grade, handling, kind, batch_kind):
    partner = factories.partner(defective_handling=handling)
    bins = factories.bins_for_every_kind()
    # Home goods: apparel may no longer be destroyed (tests/warehouse/test_espr.py).
    first, second = (
        factories.graded(grade, partner=partner, category=Category.HOME),
        factories.graded(grade, partner=partner, category=Category.HOME),
    )
    for unit in (first, second):
        routing.put_away(db.session, unit.lpn, bins[kind].code, factories.operator_actor())
    batch = db.session.query(Batch).one()
    assert batch.kind == batch_kind
    assert [i.unit_id for i in batch.items] == [first.id, second.id]


@pytest.mark.parametrize("outcome", [Disposition.DONATE, Disposition.RECYCLE])
def test_donate_and_recycle_by_rule(app, outcome):
    unit = factories.graded(Grade.HEAVY_DAMAGE)
    db.session.add(DispositionRule(partner_id=unit.partner_id, position=1, outcome=outcome))
    target = factories.location(LocationKind(outcome.value))
    assert routing.put_away(
        db.session, unit.lpn, target.code, factories.operator_actor()
    ).disposition == (outcome)


def test_an_item_of_another_marketplace_goes_to_quarantine(app):
    unit = factories.graded(Grade.NEW, exception=UnitException.FOREIGN)
    target = factories.location(LocationKind.QUARANTINE)
    assert (
        routing.plan(db.session, unit.lpn, factories.operator_actor()).kind
        == LocationKind.QUARANTINE
    )
    routing.put_away(db.session, unit.lpn, target.code, factories.operator_actor())


def test_resale_under_the_floor_falls_back_to_the_partners_route(app):
    partner = factories.partner(defective_handling=DefectiveHandling.RETURN_TO_VENDOR)
    unit = factories.graded(
        Grade.HEAVY_DAMAGE, partner=partner, currency="GBP", price=1_000, floor=400
    )
    planned = routing.plan(db.session, unit.lpn, factories.operator_actor())
    # 70 % off 10.00 = 3.00 < 4.00 floor → no listing, return to vendor.
    assert planned.route.outcome == Disposition.RTV
    assert "under the floor" in planned.route.passed_over[0]


def test_quota_counts_this_months_units_per_rule(app):
    partner = factories.partner()
    rule = DispositionRule(
        partner_id=partner.id, position=1, outcome=Disposition.DONATE, monthly_quota=1
    )
    db.session.add(rule)
    donate, restock = (
        factories.location(LocationKind.DONATE),
        factories.location(LocationKind.RESTOCK),
    )
    first, second = (
        factories.graded(Grade.NEW, partner=partner),
        factories.graded(Grade.NEW, partner=partner),
    )
    routing.put_away(db.session, first.lpn, donate.code, factories.operator_actor())
    assert (
        routing.plan(db.session, second.lpn, factories.operator_actor()).kind
        == LocationKind.RESTOCK
    )
    routing.put_away(db.session, second.lpn, restock.code, factories.operator_actor())


# --- refused put-aways -----------------------------------------------------------------------


def refused(unit, code, error=InvalidInput):
    db.session.commit()
    before = row_counts(*TOUCHED)
    with pytest.raises(error) as caught:
        routing.put_away(db.session, unit.lpn, code, factories.operator_actor())
    db.session.rollback()
    assert row_counts(*TOUCHED) == before
    return caught.value


def test_a_bin_of_the_wrong_kind_is_refused(app):
    unit, wrong = factories.graded(Grade.NEW), factories.location(LocationKind.DESTROY, "BIN-D-1")
    error = refused(unit, wrong.code)
    assert error.message.startswith("BIN-D-1 is a destroy bin; unit")
    assert error.message.endswith("goes to restock. Scan a restock bin.")
    assert error.field == "location"


def test_a_wrong_bin_names_both_kinds_in_the_readers_words(app):
    unit = factories.graded(Grade.HEAVY_DAMAGE)  # resold at a discount
    wrong = factories.location(LocationKind.RESTOCK, "BIN-R-1")
    with reading("de"):
        error = refused(unit, wrong.code)
    assert error.message == (
        f"BIN-R-1 ist ein Behälter für „zurück in den Bestand“; Einheit {unit.lpn} ist für "
        "„Wiederverkauf“ bestimmt. Einen Behälter für „Wiederverkauf“ scannen."
    )


def test_a_bin_of_another_site_is_refused(app):
    unit = factories.graded(Grade.NEW)
    elsewhere = factories.location(LocationKind.RESTOCK, "BIN-X-1", site_code="EMM")
    assert "another site (EMM)" in refused(unit, elsewhere.code).message


def test_a_full_bin_is_refused(app):
    full = factories.location(LocationKind.RESTOCK, "BIN-FULL", capacity=1)
    routing.put_away(
        db.session, factories.graded(Grade.NEW).lpn, full.code, factories.operator_actor()
    )
    error = refused(factories.graded(Grade.NEW), full.code, Conflict)
    assert error.message.startswith("BIN-FULL is full (1 of 1)")


def test_another_partners_rtv_pallet_is_refused(app):
    handling = DefectiveHandling.RETURN_TO_VENDOR
    mine, theirs = factories.partner(defective_handling=handling), factories.partner()
    pallet = factories.location(LocationKind.RTV, "PAL-THEIRS", partner=theirs)
    assert (
        "RTV pallet of another partner"
        in refused(factories.graded(Grade.DEFECTIVE, partner=mine), pallet.code).message
    )


def test_an_unknown_bin_is_refused(app):
    assert refused(factories.graded(Grade.NEW), "NOPE", UnknownBarcode).field == "location"


def test_routing_twice_is_refused_and_a_rescan_is_idempotent(app):
    bins = factories.bins_for_every_kind()
    other = factories.location(LocationKind.RESTOCK)
    unit = factories.graded(Grade.NEW)
    routing.put_away(db.session, unit.lpn, bins["restock"].code, factories.operator_actor())
    db.session.commit()
    before = row_counts(*TOUCHED)
    again = routing.put_away(db.session, unit.lpn, bins["restock"].code, factories.operator_actor())
    assert again.repeated
    assert row_counts(*TOUCHED) == before
    assert unit.product.stock == 1
    error = refused(unit, other.code, Conflict)
    assert "already routed (restock)" in error.message


def test_an_ungraded_unit_is_not_routed(app):
    unit = factories.graded(Grade.NEW)
    unit.status = UnitStatus.RECEIVED
    assert (
        "not graded yet"
        in refused(unit, factories.location(LocationKind.RESTOCK).code, Conflict).message
    )


def test_a_partner_actor_cannot_see_another_partners_unit(app):
    unit = factories.graded(Grade.NEW)
    stranger = factories.partner()
    actor = factories.operator_actor()
    from dataclasses import replace

    with pytest.raises(UnknownBarcode):
        routing.plan(db.session, unit.lpn, replace(actor, partner_id=stranger.id))


# --- closing ---------------------------------------------------------------------------------


def test_unit_closes_when_routed_and_decided_and_the_rma_when_all_units_are(app):
    bins = factories.bins_for_every_kind()
    # A partner that keeps refused goods: its units may be routed before the refund is decided.
    product = factories.product(factories.partner(rejected_returns=RejectedReturns.KEEP))
    order = factories.order([(product, 2)])
    rma = factories.return_request(order)
    first = factories.graded_unit(rma.lines[0], Grade.NEW, slot=1)
    second = factories.graded_unit(rma.lines[0], Grade.NEW, slot=2)
    actor = factories.operator_actor()
    first.refund_state = RefundState.APPROVED
    assert routing.put_away(db.session, first.lpn, bins["restock"].code, actor).closed
    assert first.status == UnitStatus.CLOSED
    assert rma.status != ReturnStatus.CLOSED
    # Routed while the refund is open: stays routed until the decision closes it.
    second.refund_state = RefundState.OPEN
    assert not routing.put_away(db.session, second.lpn, bins["restock"].code, actor).closed
    assert second.status == UnitStatus.ROUTED
    second.refund_state = RefundState.REJECTED
    assert routing.close_if_done(db.session, second, actor)
    assert not routing.close_if_done(db.session, second, actor)
    assert rma.status == ReturnStatus.CLOSED
    assert rma.closed_at is not None
    assert [e.kind for e in history(db.session, rma)] == ["return.closed"]


def test_a_unit_whose_refund_is_undecided_waits_when_refused_goods_go_back(app):
    """Refused, the goods are still the customer's: they are not restocked, sold or destroyed
    while the partner decides; a partner that keeps refused goods has its units routed."""
    bins = factories.bins_for_every_kind()
    unit = factories.graded(Grade.NEW)
    unit.refund_state = RefundState.OPEN
    actor = factories.operator_actor()
    before = row_counts(*TOUCHED)
    with pytest.raises(Conflict, match="keep it on the hold shelf"):
        routing.plan(db.session, unit.lpn, actor)
    with pytest.raises(Conflict, match="keep it on the hold shelf"):
        routing.put_away(db.session, unit.lpn, bins["restock"].code, actor)
    assert row_counts(*TOUCHED) == before
    unit.refund_state = RefundState.REJECTED
    assert routing.plan(db.session, unit.lpn, actor).route.outcome == Disposition.TO_CUSTOMER


def test_a_scan_takes_few_queries(app, count_queries):
    bins = factories.bins_for_every_kind()
    unit = factories.graded(Grade.OPENED, category=Category.ELECTRONICS)
    actor = factories.operator_actor()
    db.session.commit()
    with count_queries() as statements:
        routing.plan(db.session, unit.lpn, actor)
    assert len(statements) <= 8, statements
    db.session.commit()
    with count_queries() as statements:
        routing.put_away(db.session, unit.lpn, bins["resale"].code, actor)
        db.session.commit()
    assert len(statements) <= 16, statements


def test_editing_the_table_keeps_a_kept_rules_quota_count(app):
    from warehouse.rules import Rule, replace_table

    partner = factories.partner()
    donate, restock = (
        factories.location(LocationKind.DONATE),
        factories.location(LocationKind.RESTOCK),
    )
    quota = Rule(Disposition.DONATE, partner_id=partner.id, grade=Grade.NEW, monthly_quota=1)
    [first_row] = replace_table(db.session, partner.id, [quota], factories.operator_actor())
    routing.put_away(
        db.session,
        factories.graded(Grade.NEW, partner=partner).lpn,
        donate.code,
        factories.operator_actor(),
    )
    # A new rule in front and the quota raised: the same rule, so its count (1) is kept.
    rows = replace_table(
        db.session,
        partner.id,
        [
            Rule(Disposition.RTV, partner_id=partner.id, grade=Grade.DEFECTIVE),
            Rule(Disposition.DONATE, partner_id=partner.id, grade=Grade.NEW, monthly_quota=2),
        ],
        factories.operator_actor(),
    )
    assert rows[1].id == first_row.id
    routing.put_away(
        db.session,
        factories.graded(Grade.NEW, partner=partner).lpn,
        donate.code,
        factories.operator_actor(),
    )
    third = factories.graded(Grade.NEW, partner=partner)
    assert (
        routing.plan(db.session, third.lpn, factories.operator_actor()).kind == LocationKind.RESTOCK
    )
    routing.put_away(db.session, third.lpn, restock.code, factories.operator_actor())


@pytest.mark.parametrize(
    ("category", "checklist", "outcome"),
    [
        (Category.ELECTRONICS, {"accessories_complete", "powers_on"}, Disposition.REFURBISH),
        (Category.ELECTRONICS, {"powers_on", "tested", "factory_reset"}, Disposition.RESALE),
        (Category.HYGIENE, {"accessories_complete", "cleaned"}, Disposition.REFURBISH),
        (Category.HYGIENE, {"sterilised"}, Disposition.RESALE),
        (Category.FASHION, set(), Disposition.RESALE),
    ],
)
def test_resale_needs_the_categorys_checks_otherwise_refurbish(app, category, checklist, outcome):
    """Issue 10, defect 6 (SPEC 6): electronics tested and factory-reset, hygiene sterilised,
    before any resale; a rule cannot waive it."""
    factories.bins_for_every_kind()
    unit = factories.graded(Grade.OPENED, category=category)
    unit.checklist = dict.fromkeys(checklist, True)
    planned = routing.plan(db.session, unit.lpn, factories.operator_actor())
    assert planned.route.outcome == outcome
    if outcome == Disposition.REFURBISH:
        assert "first: refurbish" in planned.route.rule.label
        assert planned.kind == LocationKind.REFURBISH


def test_a_sealed_new_unit_is_restocked_without_the_checks(app):
    factories.bins_for_every_kind()
    unit = factories.graded(Grade.NEW, category=Category.ELECTRONICS)
    unit.checklist = {}
    assert routing.plan(db.session, unit.lpn, factories.operator_actor()).route.outcome == (
        Disposition.RESTOCK
    )


def test_even_a_partner_rule_for_resale_cannot_skip_the_checks(app):
    from warehouse.rules import Rule, replace_table

    partner = factories.partner()
    factories.bins_for_every_kind()
    rule = Rule(Disposition.RESALE, partner_id=partner.id, category=Category.ELECTRONICS)
    replace_table(db.session, partner.id, [rule], factories.operator_actor())
    unit = factories.graded(Grade.USED, partner=partner, category=Category.ELECTRONICS)
    unit.checklist = {"powers_on": True}
    assert routing.plan(db.session, unit.lpn, factories.operator_actor()).route.outcome == (
        Disposition.REFURBISH
    )
