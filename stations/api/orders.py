"""Orders in (split per partner) and shipment tracking.

A partner token sees only its own partner: its shipments and lines of an order. Another
partner's order or shipment answers 404 like a missing one.
"""

from __future__ import annotations

import datetime as dt

from flask import url_for
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from warehouse import orders
from warehouse.db import db
from warehouse.errors import NotFound
from warehouse.models import Category, Order, OrderLine, Product, Role, Shipment
from warehouse.money import Currency
from warehouse.orders import OrderIn, TrackingIn
from warehouse.reference import CountryCode, Language

READERS = (Role.SUPERVISOR, Role.PARTNER)


class OrderLineOut(BaseModel):
    """An order line: the product, how many, and the price paid in the order currency."""

    id: int
    partner: str
    sku: str
    gtin: str
    title: str
    category: Category
    quantity: int
    unit_price_minor: int
    total_minor: int
    serial_numbers: list[str]

    @classmethod
    def of(cls, line: OrderLine) -> OrderLineOut:
        """The API's view of an order line."""
        product = line.product
        return cls(
            id=line.id,
            partner=product.partner.code,
            sku=product.sku,
            gtin=product.gtin,
            title=product.title,
            category=product.category,
            quantity=line.quantity,
            unit_price_minor=line.unit_price_minor,
            total_minor=line.total_minor,
            serial_numbers=list(line.serial_numbers),
        )


class ShipmentOut(BaseModel):
    """One partner's parcel of an order, money in minor units of the order currency."""

    id: int
    order: str
    partner: str
    tracking_number: str | None
    carrier: str | None
    delivered_at: dt.datetime | None
    currency: Currency
    total_minor: int
    lines: list[OrderLineOut]

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentOut:
        """The API's view of a shipment and its lines."""
        return cls(
            id=shipment.id,
            order=shipment.order.number,
            partner=shipment.partner.code,
            tracking_number=shipment.tracking_number,
            carrier=shipment.carrier,
            delivered_at=shipment.delivered_at,
            currency=shipment.order.currency,
            total_minor=shipment.total_minor,
            lines=[OrderLineOut.of(line) for line in shipment.lines],
        )


class CustomerOut(BaseModel):
    """The customer of an order."""

    name: str
    email: str
    postcode: str
    address: str


class OrderOut(BaseModel):
    """An order as the caller may see it: a partner sees its own shipments only."""

    number: str
    channel: str
    customer: CustomerOut
    country: CountryCode
    currency: Currency
    language: Language
    withdrawal_informed: bool
    placed_at: dt.datetime
    total_minor: int
    shipments: list[ShipmentOut]

    @classmethod
    def of(cls, order: Order, partner_id: int | None = None) -> OrderOut:
        """The order with the shipments `partner_id` may see (all for None)."""
        shipments = [s for s in order.shipments if partner_id is None or s.partner_id == partner_id]
        return cls(
            number=order.number,
            channel=order.channel,
            customer=CustomerOut(
                name=order.customer_name,
                email=order.customer_email,
                postcode=order.customer_postcode,
                address=order.customer_address,
            ),
            country=order.country_code,
            currency=order.currency,
            language=order.language,
            withdrawal_informed=order.withdrawal_informed,
            placed_at=order.placed_at,
            total_minor=sum(s.total_minor for s in shipments),
            shipments=[ShipmentOut.of(s) for s in shipments],
        )


def _load_order(number: str) -> Order | None:
    return db.session.scalars(
        select(Order)
        .where(Order.number == number)
        .options(
            selectinload(Order.shipments).selectinload(Shipment.partner),
            selectinload(Order.shipments)
            .selectinload(Shipment.lines)
            .selectinload(OrderLine.product)
            .selectinload(Product.partner),
        )
    ).one_or_none()


@bp.post("/orders")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "Place a marketplace order; it is split into one shipment per partner",
    operation_id="placeOrder",
    description=(
        "Re-posting the same number with the same content returns the stored order (200) "
        "and writes nothing; the same number with other content is a 409 naming `number`. "
        "A partner token may only order its own partner's products."
    ),
    body=OrderIn,
    answers={
        201: Answer("The order was placed", OrderOut),
        200: Answer("The same order was placed before", OrderOut),
    },
    errors=(400, 401, 403, 409),
)
def post_order(body: OrderIn):
    """Place an order: 201 when new, 200 for a re-post of the same order."""
    partner_id = partner_scope()
    try:
        order, created = orders.place_order(db.session, body, api_actor(), partner_id=partner_id)
        number = order.number
        db.session.commit()
    except IntegrityError:
        # Another request placed the same number between our check and our commit: answer as
        # for a re-post (the same order, or a conflict).
        db.session.rollback()
        order, created = orders.place_order(db.session, body, api_actor(), partner_id=partner_id)
        if created:
            raise
        number = order.number
    # The answer is read back as stored, in a fixed number of queries.
    db.session.expire_all()
    response = answer(OrderOut.of(_load_order(number), partner_id), 201 if created else 200)
    response.headers["Location"] = url_for("api.get_order", number=number)
    return response


@bp.get("/orders/<number>")
@token_required(*READERS)
@operation(
    "One order with its shipments (a partner token: its own shipments only)",
    operation_id="getOrder",
    answers={200: Answer("The order", OrderOut)},
    errors=(401, 403, 404),
)
def get_order(number: str):
    """One order; a partner token sees only its own shipments."""
    partner_id = partner_scope()
    order = _load_order(number)
    if order is None or (
        partner_id is not None and all(s.partner_id != partner_id for s in order.shipments)
    ):
        raise NotFound(f"no order {number}", field="number")
    return answer(OrderOut.of(order, partner_id))


@bp.post("/shipments/<int:shipment_id>/tracking")
@token_required(*READERS)
@operation(
    "Set a shipment's tracking number and/or its delivered-at instant",
    operation_id="setTracking",
    body=TrackingIn,
    answers={200: Answer("The shipment as stored now", ShipmentOut)},
    errors=(400, 401, 403, 404, 409),
)
def post_tracking(shipment_id: int, body: TrackingIn):
    """Set a shipment's tracking number and/or delivered-at."""
    shipment, _changed = orders.set_tracking(
        db.session, shipment_id, body, api_actor(), partner_id=partner_scope()
    )
    db.session.commit()
    return answer(ShipmentOut.of(shipment))
