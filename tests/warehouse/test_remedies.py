"""Remedies beyond refund (repair, replacement, exchange), refused returns going back to the
customer, the guarantee extended after a repair, and the parcels that leave the warehouse."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import dispatch, orders, remedies, routing
from warehouse.announcements import LineRequest, announce, announced_quantities, returnable
from warehouse.db import db, utcnow
from warehouse.deadlines import add_months
from warehouse.errors import Conflict, InvalidInput
from warehouse.events import Actor, history
from warehouse.models import (
    Category,
    Disposition,
    Grade,
    LedgerEntry,
    LocationKind,
    OutOfWindowPolicy,
    ParcelPurpose,
    ParcelStatus,
    Reason,
    RefundState,
    RejectedReturns,
    Remedy,
    ReturnLine,
    StockEntry,
    UnitStatus,
)
from warehouse.receiving import assessment_for

CHANNEL = Actor(label="channel")


def _unit_with_remedy(remedy: Remedy, *, reason=Reason.DEFECTIVE, days=200, stock=0, **fields):
    unit = factories.received(reason=reason, delivered_days_ago=days, **fields)
    unit.return_line.remedy = remedy
    unit.product.stock = stock
    db.session.flush()
    return unit


def _put_away(unit):
    shelf = factories.location(LocationKind.TO_CUSTOMER)
    return routing.put_away(db.session, unit.lpn, shelf.code, factories.operator_actor())


@pytest.mark.parametrize(
    ("reason", "allowed"),
    [
        (Reason.DEFECTIVE, {Remedy.REFUND, Remedy.REPAIR, Remedy.REPLACEMENT}),
        (Reason.NOT_AS_DESCRIBED, {Remedy.REFUND, Remedy.REPAIR, Remedy.REPLACEMENT}),
        (Reason.DAMAGED_ON_ARRIVAL, {Remedy.REFUND, Remedy.REPAIR, Remedy.REPLACEMENT}),
        (Reason.WRONG_ITEM_SENT, {Remedy.REFUND, Remedy.REPAIR, Remedy.REPLACEMENT}),
        (Reason.CHANGED_MIND, {Remedy.REFUND, Remedy.EXCHANGE}),
        (Reason.WRONG_SIZE, {Remedy.REFUND, Remedy.EXCHANGE}),
        (Reason.OTHER, {Remedy.REFUND, Remedy.EXCHANGE}),
    ],
)
def test_which_remedy_each_reason_allows(reason, allowed):
    """Directive (EU) 2019/771 Art. 13(2): for a lack of conformity the consumer chooses repair
    or replacement; a withdrawal (Directive 2011/83/EU Art. 9) may be exchanged instead."""
    assert set(remedies.allowed_remedies(reason)) == allowed


def test_a_repair_routes_the_unit_back_and_extends_the_guarantee_by_12_months(app):
    """Directive (EU) 2019/771 Art. 13(2) (the consumer chose repair) and Art. 10(1a), inserted
    by Directive (EU) 2024/1799 Art. 16: the liability period is extended once by 12 months."""
    unit = _unit_with_remedy(Remedy.REPAIR)
    ends_before = assessment_for(unit).guarantee_ends_on
    factories.grade(unit, Grade.DEFECTIVE)
    assert unit.refund_state == RefundState.REMEDY
    assert unit.refund_minor == 0
    assert db.session.query(LedgerEntry).filter_by(unit_id=unit.id).count() == 0  # no money
    assert [m.payload["context"]["remedy"] for m in factories.mails("remedy_granted_customer")] == [
        "repair"
    ]

    plan = routing.plan(db.session, unit.lpn, factories.operator_actor())
    assert plan.route.outcome == Disposition.TO_CUSTOMER
    assert plan.route.rule.label == "repair and return to the customer"
    done = _put_away(unit)
    parcel = done.parcel
    assert parcel.purpose == ParcelPurpose.REPAIR
    assert parcel.status == ParcelStatus.WAITING
    assert parcel.product_id == unit.product_id
    assert "Sam Customer" in parcel.ship_to
    assert unit.status == UnitStatus.ROUTED  # it closes when its parcel leaves

    with pytest.raises(InvalidInput, match="say what was repaired"):
        dispatch.ship(db.session, factories.operator_actor(), parcel.code, tracking_number="3S01")
    dispatch.ship(
        db.session,
        factories.operator_actor(),
        parcel.code,
        tracking_number="3SPARCEL001",
        repair_note="replaced the broken hinge",
    )
    assert parcel.status == ParcelStatus.SHIPPED
    assert parcel.tracking_number == "3SPARCEL001"
    assert unit.status == UnitStatus.CLOSED
    ends_after = assessment_for(unit).guarantee_ends_on
    assert ends_after == add_months(ends_before, 12)
    shipped = factories.mails("parcel_shipped_customer")[-1].payload["context"]
    assert shipped["guarantee_ends_on"] == ends_after.isoformat()
    assert shipped["repair_note"] == "replaced the broken hinge"
    kinds = [event.kind for event in history(db.session, unit)]
    assert kinds.index("remedy.granted") < kinds.index("unit.routed") < kinds.index("unit.closed")
    # The customer has the item again: it can be announced again (under the longer guarantee).
    line = unit.return_line.order_line
    assert announced_quantities(db.session, line.order)[line.id] == 0


def test_the_guarantee_is_extended_once(app):
    """Directive (EU) 2019/771 Art. 10(1a): the extension applies once, not per repair."""
    unit = _unit_with_remedy(Remedy.REPAIR)
    line = unit.return_line.order_line
    first = dispatch.extend_guarantee(db.session, CHANNEL, unit, line)
    assert first is not None
    assert line.guarantee_extended_months == 12
    assert dispatch.extend_guarantee(db.session, CHANNEL, unit, line) is None
    assert line.guarantee_extended_months == 12


@pytest.mark.parametrize(
    ("shipped_at_utc", "extended"),
    [
        ("2026-07-30T21:59:00", False),  # 23:59 on 30 July in Amsterdam: before the rule applies
        ("2026-07-30T22:00:00", True),  # midnight, 31 July in Amsterdam, still the 30th in UTC
    ],
)
def test_the_extension_applies_from_the_sites_calendar_day(app, shipped_at_utc, extended):
    """Directive (EU) 2024/1799 Art. 19: repairs from 31 July 2026, a day in the site's zone."""
    unit = _unit_with_remedy(Remedy.REPAIR)
    assert unit.site.timezone == "Europe/Amsterdam"
    line = unit.return_line.order_line
    now = dt.datetime.fromisoformat(shipped_at_utc).replace(tzinfo=dt.UTC)
    result = dispatch.extend_guarantee(db.session, CHANNEL, unit, line, now=now)
    assert (result is not None) is extended
    assert line.guarantee_extended_months == (12 if extended else 0)


def test_a_repair_outside_the_guarantee_falls_back_to_the_refund_rules(app):
    """Directive (EU) 2019/771 Art. 10(1): no remedy is owed after the liability period."""
    unit = _unit_with_remedy(Remedy.REPAIR, days=3 * 365, out_of_window=OutOfWindowPolicy.REJECT)
    factories.grade(unit, Grade.DEFECTIVE)
    assert unit.refund_state == RefundState.REJECTED
    refused = [e for e in history(db.session, unit) if e.kind == "remedy.refused"]
    assert refused
    assert "guarantee does not cover it" in refused[0].data["reason"]
    outcome = factories.mails("refund_outcome_customer")[-1].payload["context"]
    assert "no repair: the guarantee does not cover it" in outcome["reason"]


def test_a_replacement_takes_one_from_stock_into_a_parcel(app):
    """Directive (EU) 2019/771 Art. 13(2) and 14(1): a replacement, free of charge; the
    returned unit is the partner's again and follows the partner's rules."""
    unit = _unit_with_remedy(Remedy.REPLACEMENT, stock=2, category=Category.HOME)
    factories.grade(unit, Grade.DEFECTIVE)
    assert unit.refund_state == RefundState.REMEDY
    assert unit.product.stock == 1
    taken = db.session.query(StockEntry).filter_by(unit_id=unit.id).one()
    assert (taken.quantity, taken.reason, taken.stock_after) == (-1, "replacement", 1)
    parcel = dispatch.find_parcel(db.session, unit.lpn, factories.operator_actor())
    assert parcel.purpose == ParcelPurpose.REPLACEMENT
    assert parcel.product_id == unit.product_id
    assert routing.plan(db.session, unit.lpn, factories.operator_actor()).route.outcome != (
        Disposition.TO_CUSTOMER
    )
    with pytest.raises(InvalidInput, match="scan the carrier's tracking number"):
        dispatch.ship(db.session, factories.operator_actor(), parcel.code)
    # Routed by the rules, the returned unit stays open until its replacement has left.
    cage = factories.location(LocationKind.DESTROY)  # defective home goods: the default
    routing.put_away(db.session, unit.lpn, cage.code, factories.operator_actor())
    assert unit.status == UnitStatus.ROUTED
    dispatch.ship(db.session, factories.operator_actor(), parcel.code, tracking_number="3SNEW1")
    assert parcel.tracking_number == "3SNEW1"
    assert unit.status == UnitStatus.CLOSED
    assert parcel.return_request.lines[0].sent_back_quantity == 1


def test_no_stock_for_a_replacement_means_a_refund(app):
    """Directive (EU) 2019/771 Art. 13(4)(a): the remedy is impossible, so a refund."""
    unit = _unit_with_remedy(Remedy.REPLACEMENT, stock=0)
    factories.grade(unit, Grade.DEFECTIVE)
    assert unit.refund_state == RefundState.APPROVED
    assert unit.refund_minor == 4999
    assert dispatch.waiting_parcels(db.session, None) == []
    assert (
        "is out of stock"
        in factories.mails("refund_outcome_customer")[-1].payload["context"]["reason"]
    )


def _styled_order(stock=3, other_price=4999):
    seller = factories.partner()
    small = factories.product(seller, title="Rain jacket S", style="RJ-1", sku="RJ-1-S")
    medium = factories.product(
        seller,
        title="Rain jacket M",
        style="RJ-1",
        sku="RJ-1-M",
        stock=stock,
        prices={"EUR": other_price},
    )
    factories.product(seller, title="Rain jacket L", style="RJ-1", sku="RJ-1-L", stock=0)
    sold = factories.order([(small, 1)])
    db.session.commit()  # refusals roll back: the catalogue stays
    return sold, small, medium


def _announce(sold, **line):
    return announce(
        db.session,
        sold,
        [LineRequest(order_line_id=sold.lines[0].id, quantity=1, **line)],
        actor=CHANNEL,
        label_url=lambda rma: f"/label/{rma}",
    )


def test_an_exchange_is_for_the_same_style_at_the_same_price_in_stock(app):
    """SPEC ("offer another size"): an exchange replaces the refund of a withdrawal (Directive
    2011/83/EU Art. 9); only variants of the same style, price and in stock are offered."""
    sold, _, medium = _styled_order()
    assert [p.sku for p in remedies.exchange_options(db.session, sold.lines[0], "EUR")] == [
        "RJ-1-M"
    ]
    before = row_counts(ReturnLine)
    refusals = [
        ({"reason": Reason.WRONG_SIZE, "remedy": Remedy.EXCHANGE}, "choose the size or colour"),
        (
            {"reason": Reason.WRONG_SIZE, "remedy": Remedy.EXCHANGE, "exchange_sku": "RJ-1-L"},
            "cannot be exchanged",
        ),
        ({"reason": Reason.WRONG_SIZE, "remedy": Remedy.REPAIR}, "repair is not possible"),
        ({"reason": Reason.DEFECTIVE, "remedy": Remedy.EXCHANGE}, "exchange is not possible"),
        (
            {"reason": Reason.DEFECTIVE, "remedy": Remedy.REPAIR, "exchange_sku": "RJ-1-M"},
            "only for the remedy exchange",
        ),
    ]
    for fields, message in refusals:
        with pytest.raises(InvalidInput, match=message):
            _announce(sold, **fields)
        db.session.rollback()
    assert row_counts(ReturnLine) == before
    rma = _announce(sold, reason=Reason.WRONG_SIZE, remedy=Remedy.EXCHANGE, exchange_sku="RJ-1-M")
    line = rma.returns[0].lines[0]
    assert (line.remedy, line.exchange_product_id) == (Remedy.EXCHANGE, medium.id)


def test_an_exchange_at_another_price_is_refused(app):
    """An exchange neither charges nor refunds a difference: same price only (SPEC)."""
    sold, _, _ = _styled_order(other_price=5999)
    with pytest.raises(InvalidInput, match="offered: none"):
        _announce(sold, reason=Reason.WRONG_SIZE, remedy=Remedy.EXCHANGE, exchange_sku="RJ-1-M")


def test_an_exchange_sends_the_variant_when_the_return_is_refunded_in_full(app):
    """The exchange takes the place of a full refund (Directive 2011/83/EU Art. 13(1))."""
    sold, _, medium = _styled_order()
    rma = _announce(
        sold, reason=Reason.WRONG_SIZE, remedy=Remedy.EXCHANGE, exchange_sku="RJ-1-M"
    ).returns[0]
    unit = factories.received_unit(rma.lines[0])
    factories.grade(unit, Grade.NEW)
    assert unit.refund_state == RefundState.REMEDY
    parcel = dispatch.find_parcel(db.session, unit.lpn, factories.operator_actor())
    assert (parcel.purpose, parcel.product_id) == (ParcelPurpose.EXCHANGE, medium.id)
    assert medium.stock == 2
    dispatch.ship(db.session, factories.operator_actor(), parcel.code, tracking_number="3SX1")
    assert rma.lines[0].sent_back_quantity == 0  # the customer has another product now
    # The exchange is a shipment of the order: nothing charged, nothing sold again, and once
    # delivered its item can be returned like any other (at the price paid for the first).
    order = rma.order
    db.session.refresh(order)
    exchange = next(s for s in order.shipments if s.exchange_for_unit_id == unit.id)
    assert exchange.tracking_number == "3SX1"
    assert [(line.product_id, line.unit_price_minor) for line in exchange.lines] == [
        (medium.id, 4999)
    ]
    assert exchange.total_minor == 0
    assert order.total_minor == 4999
    orders.apply_tracking(
        db.session, exchange, CHANNEL, tracking_number=None, carrier=None, delivered_at=utcnow()
    )
    assert db.session.query(LedgerEntry).filter_by(shipment_id=exchange.id).count() == 0
    assert announced_quantities(db.session, order).get(exchange.lines[0].id, 0) == 0
    assert returnable(db.session, order)[exchange.lines[0].id] == 1


def test_an_exchange_of_a_used_item_falls_back_to_the_refund_rules(app):
    """A used item is refunded less (Directive 2011/83/EU Art. 14(2)): no exchange for it."""
    sold, _, medium = _styled_order()
    rma = _announce(
        sold, reason=Reason.WRONG_SIZE, remedy=Remedy.EXCHANGE, exchange_sku="RJ-1-M"
    ).returns[0]
    unit = factories.received_unit(rma.lines[0])
    factories.grade(unit, Grade.USED)
    assert unit.refund_state != RefundState.REMEDY
    assert medium.stock == 3


def test_a_refused_return_goes_back_to_the_customer(app):
    """The partner refused the refund: the goods are still the customer's and go back."""
    unit = factories.received(delivered_days_ago=60, out_of_window=OutOfWindowPolicy.REJECT)
    factories.grade(unit, Grade.NEW)
    assert unit.refund_state == RefundState.REJECTED
    plan = routing.plan(db.session, unit.lpn, factories.operator_actor())
    assert plan.route.rule.label == "refund refused: back to the customer"
    parcel = _put_away(unit).parcel
    assert parcel.purpose == ParcelPurpose.REJECTED
    assert unit.status == UnitStatus.ROUTED
    dispatch.ship(db.session, factories.operator_actor(), unit.lpn, tracking_number="3SBACK1")
    assert unit.status == UnitStatus.CLOSED
    assert factories.mails("parcel_shipped_customer")[-1].payload["context"]["purpose"] == (
        "rejected"
    )
    # Shipping again with the same number changes nothing; another number is refused.
    dispatch.ship(db.session, factories.operator_actor(), parcel.code, tracking_number="3SBACK1")
    with pytest.raises(Conflict, match="has left already"):
        dispatch.ship(db.session, factories.operator_actor(), parcel.code, tracking_number="3SX")


def test_a_partner_that_keeps_refused_returns_routes_them_by_its_rules(app):
    """`Partner.rejected_returns = keep`: no parcel, the rules decide."""
    unit = factories.received(
        delivered_days_ago=60,
        out_of_window=OutOfWindowPolicy.REJECT,
        rejected_returns=RejectedReturns.KEEP,
    )
    factories.grade(unit, Grade.NEW)
    plan = routing.plan(db.session, unit.lpn, factories.operator_actor())
    assert plan.route.outcome == Disposition.RESTOCK


def test_a_to_customer_shelf_is_not_for_other_units(app):
    """Only units going back may be put on a to-customer shelf, and only there."""
    unit = factories.graded(Grade.NEW)
    unit.refund_state = RefundState.APPROVED
    shelf = factories.location(LocationKind.TO_CUSTOMER)
    with pytest.raises(InvalidInput, match="goes to restock"):
        routing.put_away(db.session, unit.lpn, shelf.code, factories.operator_actor())


def test_a_customers_own_item_leaves_only_from_the_shelf(app):
    """A repaired or refused unit must be routed to the to-customer shelf before it ships."""
    unit = _unit_with_remedy(Remedy.REPAIR)
    factories.grade(unit, Grade.DEFECTIVE)
    with pytest.raises(Exception, match="No parcel"):
        dispatch.find_parcel(db.session, unit.lpn, factories.operator_actor())
    parcel = _put_away(unit).parcel
    unit.disposition = None  # as if it had not been put away
    with pytest.raises(Conflict, match="to-customer shelf"):
        dispatch.ship(
            db.session,
            factories.operator_actor(),
            parcel.code,
            repair_note="fixed it",
            tracking_number="3S02",
        )
    assert parcel.status == ParcelStatus.WAITING


def test_a_parcel_of_another_site_is_unknown_at_this_station(app):
    """A station sees its own site's parcels only."""
    unit = _unit_with_remedy(Remedy.REPLACEMENT, stock=1)
    factories.grade(unit, Grade.DEFECTIVE)
    elsewhere = Actor(label="op", station="dispatch", site_id=factories.site("AMS").id)
    with pytest.raises(Exception, match="No parcel"):
        dispatch.find_parcel(db.session, unit.lpn, elsewhere)


def test_bad_shipping_input_changes_nothing(app):
    """A tracking number with spaces or symbols, or an overlong note, is refused."""
    unit = _unit_with_remedy(Remedy.REPLACEMENT, stock=1)
    factories.grade(unit, Grade.DEFECTIVE)
    parcel = dispatch.find_parcel(db.session, unit.lpn, factories.operator_actor())
    for fields, message in [
        ({"tracking_number": "3S 12"}, "letters, digits or dashes"),
        ({"tracking_number": "x" * 65}, "letters, digits or dashes"),
        ({"tracking_number": "-"}, "letters, digits or dashes"),
        ({"tracking_number": "3SOK1", "repair_note": "x" * 1001}, "limited to 1000"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            dispatch.ship(db.session, factories.operator_actor(), parcel.code, **fields)
    assert parcel.status == ParcelStatus.WAITING
    assert parcel.tracking_number is None


def test_a_partner_deciding_by_case_grants_the_remedy_by_approving(app):
    """An incomplete item (or a partner deciding every refund) goes to the partner as a case
    first; approving it grants the repair instead of paying, adjusting it pays money."""
    from warehouse.cases import decide_case
    from warehouse.models import ApprovalMode, Case, CaseStatus

    unit = _unit_with_remedy(Remedy.REPLACEMENT, stock=1, approval_mode=ApprovalMode.CONSULT)
    factories.grade(unit, Grade.DEFECTIVE)
    case = db.session.query(Case).filter_by(unit_id=unit.id).one()
    assert case.status == CaseStatus.OPEN
    assert "the customer asks for a replacement" in case.grounds[0]
    assert unit.product.stock == 1  # nothing taken before the partner agrees
    decide_case(
        db.session, CHANNEL, case.id, action="approve", via="portal", today=unit.received_at.date()
    )
    assert unit.refund_state == RefundState.REMEDY
    assert case.approved_minor == 0
    assert unit.product.stock == 0
    assert db.session.query(LedgerEntry).filter_by(unit_id=unit.id).count() == 0


def test_a_repair_at_a_partner_that_receives_its_own_returns_is_the_partners_to_do(app):
    """The unit is with the partner: the remedy is granted, no warehouse parcel or stock."""
    from warehouse.models import Destination, Partner, Role
    from warehouse.partner_receipt import grade_and_keep, receive

    seller = factories.partner(destination=Destination.PARTNER, address="Werkstraat 1")
    item = factories.product(seller, stock=3, category=Category.HOME)
    sold = factories.order([(item, 1)], delivered_days_ago=200)
    rma = factories.return_request(sold, [(sold.lines[0], 1, Reason.DEFECTIVE)])
    rma.lines[0].remedy = Remedy.REPLACEMENT
    person = factories.user(Role.PARTNER, seller)
    actor = Actor(label=person.email, user_id=person.id, station="portal", partner_id=seller.id)
    partner = db.session.get(Partner, seller.id)
    unit = receive(db.session, actor, partner, rma.rma, {rma.lines[0].id: 1})[0]
    grade_and_keep(
        db.session,
        actor,
        partner,
        unit.id,
        grade="defective",
        checklist=factories.COMPLETE,
        links=factories.LINKS,
    )
    assert unit.refund_state == RefundState.REMEDY
    assert unit.status == UnitStatus.CLOSED
    assert item.stock == 3
    assert dispatch.waiting_parcels(db.session, None) == []
    partner_mail = factories.mails("remedy_granted_partner")[-1].payload["context"]
    assert partner_mail["at_partner"] is True
