"""The order flow API: orders in (split per partner), shipment tracking, partners, products.

A partner token sees only its own partner: its shipments and lines of an order, its products,
its own partner record. Another partner's order or shipment answers 404 like a missing one.
"""

from __future__ import annotations

from flask import g, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from stations import openapi
from stations.api import bp, json_body, token_partner_id, token_required
from warehouse import orders
from warehouse.db import db
from warehouse.errors import InvalidInput, NotFound
from warehouse.events import Actor
from warehouse.models import Order, OrderLine, Partner, Product, Role, Shipment

READERS = (Role.SUPERVISOR, Role.PARTNER)
MAX_PAGE = 500


def api_actor() -> Actor:
    """The calling token as the events' actor."""
    token = g.api_token
    return Actor(label=f"api:{token.prefix}…", partner_id=token.partner_id)


def _instant(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def line_json(line: OrderLine) -> dict:
    """An order line as the API shows it."""
    return {
        "id": line.id,
        "partner": line.product.partner.code,
        "sku": line.product.sku,
        "gtin": line.product.gtin,
        "title": line.product.title,
        "category": line.product.category.value,
        "quantity": line.quantity,
        "unit_price_minor": line.unit_price_minor,
        "total_minor": line.total_minor,
        "serial_numbers": list(line.serial_numbers),
    }


def shipment_json(shipment: Shipment) -> dict:
    """A shipment with its lines, money in minor units of the order currency."""
    return {
        "id": shipment.id,
        "order": shipment.order.number,
        "partner": shipment.partner.code,
        "tracking_number": shipment.tracking_number,
        "carrier": shipment.carrier,
        "delivered_at": _instant(shipment.delivered_at),
        "currency": shipment.order.currency,
        "total_minor": shipment.total_minor,
        "lines": [line_json(line) for line in shipment.lines],
    }


def order_json(order: Order, partner_id: int | None = None) -> dict:
    """The order as the caller may see it: a partner sees its own shipments only."""
    shipments = [s for s in order.shipments if partner_id is None or s.partner_id == partner_id]
    return {
        "number": order.number,
        "channel": order.channel,
        "customer": {
            "name": order.customer_name,
            "email": order.customer_email,
            "postcode": order.customer_postcode,
            "address": order.customer_address,
        },
        "country": order.country_code,
        "currency": order.currency,
        "language": order.language,
        "withdrawal_informed": order.withdrawal_informed,
        "placed_at": _instant(order.placed_at),
        "total_minor": sum(s.total_minor for s in shipments),
        "shipments": [shipment_json(s) for s in shipments],
    }


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
def post_order():
    """Place an order: 201 when new, 200 for a re-post of the same order."""
    data = json_body()
    partner_id = token_partner_id()
    try:
        order, created = orders.place_order(db.session, data, api_actor(), partner_id=partner_id)
        number = order.number
        db.session.commit()
    except IntegrityError:
        # Another request placed the same number between our check and our commit: answer as
        # for a re-post (the same order, or a conflict).
        db.session.rollback()
        order, created = orders.place_order(db.session, data, api_actor(), partner_id=partner_id)
        if created:
            raise
        number = order.number
    # The answer is read back as stored, in a fixed number of queries.
    db.session.expire_all()
    response = jsonify(order_json(_load_order(number), partner_id))
    response.status_code = 201 if created else 200
    response.headers["Location"] = url_for("api.get_order", number=number)
    return response


@bp.get("/orders/<number>")
@token_required(*READERS)
def get_order(number: str):
    """One order; a partner token sees only its own shipments."""
    partner_id = token_partner_id()
    order = _load_order(number)
    if order is None or (
        partner_id is not None and all(s.partner_id != partner_id for s in order.shipments)
    ):
        raise NotFound(f"no order {number}", field="number")
    return jsonify(order_json(order, partner_id))


@bp.post("/shipments/<int:shipment_id>/tracking")
@token_required(*READERS)
def post_tracking(shipment_id: int):
    """Set a shipment's tracking number and/or delivered-at."""
    data = json_body()
    unknown = sorted(set(data) - {"tracking_number", "delivered_at", "carrier"})
    if unknown:
        raise InvalidInput(
            f"unknown field {unknown[0]!r}; expected tracking_number, delivered_at, carrier",
            field=unknown[0],
        )
    shipment, _changed = orders.set_tracking(
        db.session,
        shipment_id,
        data.get("tracking_number"),
        data.get("delivered_at"),
        api_actor(),
        carrier=data.get("carrier"),
        partner_id=token_partner_id(),
    )
    db.session.commit()
    return jsonify(shipment_json(shipment))


def partner_json(partner: Partner) -> dict:
    """A partner and its return policy."""
    return {
        "code": partner.code,
        "name": partner.name,
        "contact_email": partner.contact_email,
        "language": partner.language,
        "commission_rate_bp": partner.commission_rate_bp,
        "policy": {
            "window_days": partner.window_days,
            "grace_days": partner.grace_days,
            "approval_mode": partner.approval_mode.value,
            "destination": partner.destination.value,
            "defective_handling": partner.defective_handling.value,
            "out_of_window": partner.out_of_window.value,
            "refund_deduction_bp": dict(partner.refund_deduction_bp),
            "resale_discount_bp": dict(partner.resale_discount_bp),
        },
    }


@bp.get("/partners")
@token_required(*READERS)
def list_partners():
    """All partners, or a partner token's own."""
    query = select(Partner).order_by(Partner.code)
    partner_id = token_partner_id()
    if partner_id is not None:
        query = query.where(Partner.id == partner_id)
    return jsonify({"partners": [partner_json(p) for p in db.session.scalars(query)]})


def product_json(product: Product) -> dict:
    """A product with its price and resale floor per currency."""
    return {
        "partner": product.partner.code,
        "sku": product.sku,
        "gtin": product.gtin,
        "title": product.title,
        "category": product.category.value,
        "weight_grams": product.weight_grams,
        "stock": product.stock,
        "prices": [
            {
                "currency": price.currency,
                "price_minor": price.price_minor,
                "min_price_minor": price.min_price_minor,
            }
            for price in sorted(product.prices, key=lambda p: p.currency)
        ],
    }


def _page_argument(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > maximum:
        raise InvalidInput(f"{name} must be a whole number from 0 to {maximum}", field=name)
    return int(raw)


@bp.get("/products")
@token_required(*READERS)
def list_products():
    """One page of products, of one partner or all the caller may see."""
    partner_id = token_partner_id()
    limit = _page_argument("limit", 100, MAX_PAGE) or 100
    offset = _page_argument("offset", 0, 10**9)
    query = (
        select(Product)
        .order_by(Product.partner_id, Product.sku)
        .options(selectinload(Product.prices), selectinload(Product.partner))
    )
    code = request.args.get("partner")
    if code is not None:
        partner = db.session.scalars(select(Partner).where(Partner.code == code)).one_or_none()
        if partner is None or (partner_id is not None and partner.id != partner_id):
            raise NotFound(f"no partner {code!r}", field="partner")
        query = query.where(Product.partner_id == partner.id)
    elif partner_id is not None:
        query = query.where(Product.partner_id == partner_id)
    products = list(db.session.scalars(query.offset(offset).limit(limit + 1)))
    more = len(products) > limit
    return jsonify(
        {
            "products": [product_json(p) for p in products[:limit]],
            "next_offset": offset + limit if more else None,
        }
    )


# -- OpenAPI -----------------------------------------------------------------------------------

_MONEY = {"type": "integer", "description": "Minor units (cents, pence, øre, öre)"}
_CURRENCY = {"type": "string", "enum": ["EUR", "GBP", "DKK", "SEK"]}
_INSTANT = {"type": ["string", "null"], "format": "date-time"}

openapi.schema(
    "OrderIn",
    {
        "type": "object",
        "additionalProperties": False,
        "required": ["number", "customer", "country", "currency", "lines"],
        "properties": {
            "number": {
                "type": "string",
                "maxLength": 40,
                "pattern": "^[A-Za-z0-9][A-Za-z0-9._/-]*$",
            },
            "channel": {"type": "string", "maxLength": 40, "default": "marketplace"},
            "customer": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "email", "postcode"],
                "properties": {
                    "name": {"type": "string", "maxLength": 120},
                    "email": {"type": "string", "format": "email"},
                    "postcode": {
                        "type": "string",
                        "description": "Canary Islands postcodes (ES 35…, 38…) are not served",
                    },
                    "address": {"type": "string"},
                },
            },
            "country": {
                "type": "string",
                "enum": ["NL", "BE", "DK", "DE", "FR", "IT", "LU", "AT", "ES", "GB", "SE"],
            },
            "currency": {**_CURRENCY, "description": "Must be the country's currency"},
            "language": {
                "type": "string",
                "enum": ["en", "nl", "de", "fr"],
                "description": "Defaults to the country's language",
            },
            "withdrawal_informed": {
                "type": "boolean",
                "default": True,
                "description": "False if the customer was never told of the right of withdrawal",
            },
            "placed_at": {"type": "string", "format": "date-time"},
            "lines": {
                "type": "array",
                "minItems": 1,
                "maxItems": orders.MAX_LINES,
                "items": openapi.schema(
                    "OrderLineIn",
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["quantity"],
                        "description": "Name the product by partner + sku, or by gtin",
                        "properties": {
                            "partner": {"type": "string"},
                            "sku": {"type": "string"},
                            "gtin": {"type": "string", "pattern": "^[0-9]{8,14}$"},
                            "quantity": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": orders.MAX_QUANTITY,
                            },
                            "unit_price_minor": {
                                **_MONEY,
                                "minimum": 0,
                                "description": "Defaults to the list price in the currency",
                            },
                            "serial_numbers": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                ),
            },
        },
    },
)
openapi.schema(
    "OrderLine",
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "partner": {"type": "string"},
            "sku": {"type": "string"},
            "gtin": {"type": "string"},
            "title": {"type": "string"},
            "category": {"type": "string"},
            "quantity": {"type": "integer"},
            "unit_price_minor": _MONEY,
            "total_minor": _MONEY,
            "serial_numbers": {"type": "array", "items": {"type": "string"}},
        },
    },
)
openapi.schema(
    "Shipment",
    {
        "type": "object",
        "description": "One partner's parcel of an order",
        "properties": {
            "id": {"type": "integer"},
            "order": {"type": "string"},
            "partner": {"type": "string"},
            "tracking_number": {"type": ["string", "null"]},
            "carrier": {"type": ["string", "null"]},
            "delivered_at": _INSTANT,
            "currency": _CURRENCY,
            "total_minor": _MONEY,
            "lines": {"type": "array", "items": openapi.ref("OrderLine")},
        },
    },
)
openapi.schema(
    "Order",
    {
        "type": "object",
        "properties": {
            "number": {"type": "string"},
            "channel": {"type": "string"},
            "customer": {"type": "object"},
            "country": {"type": "string"},
            "currency": _CURRENCY,
            "language": {"type": "string"},
            "withdrawal_informed": {"type": "boolean"},
            "placed_at": {"type": "string", "format": "date-time"},
            "total_minor": _MONEY,
            "shipments": {"type": "array", "items": openapi.ref("Shipment")},
        },
    },
)
openapi.schema(
    "Partner",
    {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "contact_email": {"type": "string"},
            "language": {"type": "string"},
            "commission_rate_bp": {"type": "integer", "description": "Basis points (1000 = 10 %)"},
            "policy": {"type": "object"},
        },
    },
)
openapi.schema(
    "Product",
    {
        "type": "object",
        "properties": {
            "partner": {"type": "string"},
            "sku": {"type": "string"},
            "gtin": {"type": "string"},
            "title": {"type": "string"},
            "category": {"type": "string", "enum": ["electronics", "fashion", "home", "hygiene"]},
            "weight_grams": {"type": ["integer", "null"]},
            "stock": {"type": "integer"},
            "prices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "currency": _CURRENCY,
                        "price_minor": _MONEY,
                        "min_price_minor": _MONEY,
                    },
                },
            },
        },
    },
)

openapi.document(
    "/orders",
    "post",
    {
        "summary": "Place a marketplace order; it is split into one shipment per partner",
        "description": (
            "Re-posting the same number with the same content returns the stored order (200) "
            "and writes nothing; the same number with other content is a 409 naming `number`. "
            "A partner token may only order its own partner's products."
        ),
        "operationId": "placeOrder",
        "requestBody": openapi.json_request(openapi.ref("OrderIn")),
        "responses": {
            "201": openapi.json_response("The order was placed", openapi.ref("Order")),
            "200": openapi.json_response("The same order was placed before", openapi.ref("Order")),
            **openapi.errors(400, 401, 403, 409),
        },
    },
)
openapi.document(
    "/orders/<number>",
    "get",
    {
        "summary": "One order with its shipments (a partner token: its own shipments only)",
        "operationId": "getOrder",
        "responses": {
            "200": openapi.json_response("The order", openapi.ref("Order")),
            **openapi.errors(401, 403, 404),
        },
    },
)
openapi.document(
    "/shipments/<int:shipment_id>/tracking",
    "post",
    {
        "summary": "Set a shipment's tracking number and/or its delivered-at instant",
        "operationId": "setTracking",
        "requestBody": openapi.json_request(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "tracking_number": {"type": "string", "maxLength": 64},
                    "carrier": {"type": "string", "maxLength": 40},
                    "delivered_at": {
                        "type": "string",
                        "format": "date-time",
                        "description": "ISO 8601 with a zone; not in the future",
                    },
                },
            }
        ),
        "responses": {
            "200": openapi.json_response("The shipment as stored now", openapi.ref("Shipment")),
            **openapi.errors(400, 401, 403, 404, 409),
        },
    },
)
openapi.document(
    "/partners",
    "get",
    {
        "summary": "Partners and their return policies (a partner token: its own only)",
        "operationId": "listPartners",
        "responses": {
            "200": openapi.json_response(
                "The partners",
                {
                    "type": "object",
                    "properties": {"partners": {"type": "array", "items": openapi.ref("Partner")}},
                },
            ),
            **openapi.errors(401, 403),
        },
    },
)
openapi.document(
    "/products",
    "get",
    {
        "summary": "Products with prices and min-price floors per currency",
        "operationId": "listProducts",
        "parameters": [
            {
                "name": "partner",
                "in": "query",
                "description": "A partner code; a partner token sees its own products only",
                "schema": {"type": "string"},
            },
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100},
            },
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        ],
        "responses": {
            "200": openapi.json_response(
                "One page of products",
                {
                    "type": "object",
                    "properties": {
                        "products": {"type": "array", "items": openapi.ref("Product")},
                        "next_offset": {"type": ["integer", "null"]},
                    },
                },
            ),
            **openapi.errors(400, 401, 403, 404),
        },
    },
)
