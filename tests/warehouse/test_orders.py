"""The order domain without HTTP: split, prices, idempotency, tracking events."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import orders
from warehouse.db import db
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.events import SYSTEM, Actor, history
from warehouse.models import Event, Order, OrderLine, Shipment
from warehouse.orders import TrackingIn


def order_data(lines, number="WEB-1", **fields) -> dict:
    data = {
        "number": number,
        "customer": {"name": "Lars Jensen", "email": "lars@example.dk", "postcode": "2100"},
        "country": "DK",
        "currency": "DKK",
        "lines": lines,
    }
    data.update(fields)
    return data


def test_lines_take_the_list_price_in_the_order_currency(app):
    factories.site()
    partner = factories.partner("NORD")
    lamp = factories.product(partner, sku="LAMP", prices={"DKK": 49995, "EUR": 6700})
    order, created = orders.place_order(
        db.session, order_data([{"partner": "NORD", "sku": "LAMP", "quantity": 3}]), SYSTEM
    )
    assert created
    assert order.language == "da"  # Denmark's default
    assert [(li.product_id, li.unit_price_minor) for li in order.lines] == [(lamp.id, 49995)]
    assert order.total_minor == 149985
    assert [s.partner_id for s in order.shipments] == [partner.id]


def test_a_gtin_sold_by_two_partners_needs_the_partner(app):
    factories.site()
    one, two = factories.partner("ONE"), factories.partner("TWO")
    factories.product(one, sku="A", gtin="5701234567899")
    mine = factories.product(two, sku="B", gtin="5701234567899")
    with pytest.raises(InvalidInput) as refused:
        orders.place_order(
            db.session, order_data([{"gtin": "5701234567899", "quantity": 1}]), SYSTEM
        )
    assert refused.value.field == "lines[0].partner"
    order, _ = orders.place_order(
        db.session,
        order_data([{"gtin": "5701234567899", "partner": "TWO", "quantity": 1}]),
        SYSTEM,
    )
    assert order.lines[0].product_id == mine.id


def test_a_repost_after_a_list_price_change_is_still_the_same_order(app):
    factories.site()
    partner = factories.partner("NORD")
    lamp = factories.product(partner, sku="LAMP", prices={"DKK": 49995})
    data = order_data([{"partner": "NORD", "sku": "LAMP", "quantity": 1}])
    first, _ = orders.place_order(db.session, data, SYSTEM)
    lamp.prices[0].price_minor = 39995
    db.session.flush()
    before = row_counts(Order, OrderLine, Shipment, Event)
    again, created = orders.place_order(db.session, data, SYSTEM)
    assert (again.id, created) == (first.id, False)
    assert again.lines[0].unit_price_minor == 49995
    assert row_counts(Order, OrderLine, Shipment, Event) == before
    # An explicit price that differs is other content.
    data["lines"][0]["unit_price_minor"] = 39995
    with pytest.raises(Conflict):
        orders.place_order(db.session, data, SYSTEM)


def test_placing_records_who_placed_it(app):
    factories.site()
    factories.product(factories.partner("NORD"), sku="LAMP")
    actor = Actor(label="api:ry_abc…")
    order, _ = orders.place_order(
        db.session, order_data([{"partner": "NORD", "sku": "LAMP", "quantity": 2}]), actor
    )
    (placed,) = history(db.session, order)
    assert (placed.kind, placed.actor_label, placed.after) == (
        "order.placed",
        "api:ry_abc…",
        "placed",
    )
    assert placed.data["total_minor"] == order.total_minor
    (created,) = history(db.session, order.shipments[0])
    assert created.partner_id == order.shipments[0].partner_id


def test_correcting_a_delivery_date_keeps_both_in_the_history(app):
    factories.site()
    factories.product(factories.partner("NORD"), sku="LAMP")
    order, _ = orders.place_order(
        db.session,
        order_data(
            [{"partner": "NORD", "sku": "LAMP", "quantity": 1}],
            placed_at="2026-11-10T12:00:00Z",
        ),
        SYSTEM,
    )
    shipment = order.shipments[0]
    orders.set_tracking(
        db.session,
        shipment.id,
        TrackingIn(delivered_at="2026-11-20T10:00:00+01:00"),
        SYSTEM,
        now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
    )
    orders.set_tracking(
        db.session,
        shipment.id,
        TrackingIn(delivered_at="2026-11-21T09:30:00Z"),
        SYSTEM,
        now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
    )
    assert shipment.delivered_at == dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
    delivered = [e for e in history(db.session, shipment) if e.kind == "shipment.delivered"]
    assert [(e.before, e.after) for e in delivered] == [
        (None, "2026-11-20T09:00:00+00:00"),
        ("2026-11-20T09:00:00+00:00", "2026-11-21T09:30:00+00:00"),
    ]


def test_a_partner_cannot_reach_another_partners_shipment(app):
    factories.site()
    own, other = factories.partner("OWN"), factories.partner("OTHER")
    factories.product(other, sku="X")
    order, _ = orders.place_order(
        db.session, order_data([{"partner": "OTHER", "sku": "X", "quantity": 1}]), SYSTEM
    )
    with pytest.raises(NotFound):
        orders.set_tracking(
            db.session,
            order.shipments[0].id,
            TrackingIn(tracking_number="3S1"),
            SYSTEM,
            partner_id=own.id,
        )
    assert order.shipments[0].tracking_number is None


def test_a_batch_is_placed_all_or_none(app):
    factories.site()
    factories.product(factories.partner("NORD"), sku="LAMP")
    good = order_data([{"partner": "NORD", "sku": "LAMP", "quantity": 1}], number="B-1")
    bad = order_data([{"partner": "NORD", "sku": "LAMP", "quantity": 0}], number="B-2")
    before = row_counts(Order, OrderLine, Shipment, Event)
    with pytest.raises(InvalidInput) as refused:
        orders.place_orders(db.session, [good, bad], SYSTEM)
    assert refused.value.field == "lines[0].quantity"
    assert refused.value.as_dict()["batch_index"] == 1
    with pytest.raises(InvalidInput, match="appears twice"):
        orders.place_orders(db.session, [good, good], SYSTEM)
    assert row_counts(Order, OrderLine, Shipment, Event) == before
    placed = orders.place_orders(db.session, [good, {**bad, "lines": good["lines"]}], SYSTEM)
    assert [(o.number, created) for o, created in placed] == [("B-1", True), ("B-2", True)]
    assert orders.place_orders(db.session, [good], SYSTEM)[0][1] is False
