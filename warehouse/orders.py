"""Marketplace orders: taking an order in, splitting it per partner, and shipment tracking.

An order arrives as a plain dict (from the JSON API or a CSV import). Every value is checked
before anything is written; a refusal names the field at fault (`lines[2].sku`). An order with
lines of several partners becomes one Shipment per partner: one parcel each, with its own
tracking number and delivered-at date, while the customer still sees one order.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from warehouse import events
from warehouse.db import utcnow
from warehouse.errors import Conflict, DomainError, InvalidInput, NotFound
from warehouse.events import Actor
from warehouse.mail import LANGUAGES
from warehouse.models import Country, Order, OrderLine, Partner, Product, Shipment
from warehouse.reference import served_postcode

MAX_LINES = 200
MAX_QUANTITY = 9_999
MAX_PRICE_MINOR = 100_000_000  # one million in any of our currencies: beyond is a typo

_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$")
_TRACKING = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,63}$")
_GTIN = re.compile(r"^\d{8}$|^\d{12,14}$")

ORDER_FIELDS = frozenset(
    {
        "number",
        "channel",
        "customer",
        "country",
        "currency",
        "language",
        "withdrawal_informed",
        "placed_at",
        "lines",
    }
)
CUSTOMER_FIELDS = frozenset({"name", "email", "postcode", "address"})
LINE_FIELDS = frozenset(
    {"partner", "sku", "gtin", "quantity", "unit_price_minor", "serial_numbers"}
)


@dataclass(frozen=True)
class LineInput:
    """One checked order line: the product it names and what was bought."""

    product: Product
    quantity: int
    unit_price_minor: int
    price_given: bool
    serial_numbers: tuple[str, ...]


@dataclass(frozen=True)
class OrderInput:
    """A checked order, ready to be compared with a stored one or written."""

    number: str
    channel: str
    customer_name: str
    customer_email: str
    customer_postcode: str
    customer_address: str
    country: Country
    currency: str
    language: str
    withdrawal_informed: bool
    placed_at: dt.datetime | None
    lines: tuple[LineInput, ...]


class Catalogue:
    """Partners and products by the keys order lines name them with, prices loaded."""

    def __init__(self, partners: list[Partner], products: list[Product]) -> None:
        self.partners = {p.code: p for p in partners}
        self.by_sku = {(p.partner_id, p.sku): p for p in products}
        self.by_gtin: dict[str, list[Product]] = {}
        for product in products:
            self.by_gtin.setdefault(product.gtin, []).append(product)

    @classmethod
    def for_lines(
        cls,
        session: Session,
        *,
        partner_codes: set[str],
        skus: set[tuple[str, str]],
        gtins: set[str],
    ) -> Catalogue:
        """Just what one order's lines name: three indexed queries."""
        partners = list(session.scalars(sa.select(Partner).where(Partner.code.in_(partner_codes))))
        ids = {p.code: p.id for p in partners}
        keys = [(ids[code], sku) for code, sku in skus if code in ids]
        conditions = []
        if keys:
            conditions.append(sa.tuple_(Product.partner_id, Product.sku).in_(keys))
        if gtins:
            conditions.append(Product.gtin.in_(gtins))
        products = []
        if conditions:
            query = sa.select(Product).where(sa.or_(*conditions))
            products = list(session.scalars(query.options(selectinload(Product.prices))))
        return cls(partners, products)

    @classmethod
    def everything(cls, session: Session) -> Catalogue:
        """The whole catalogue, for placing many orders in one go (imports, demo data)."""
        products = session.scalars(sa.select(Product).options(selectinload(Product.prices)))
        return cls(list(session.scalars(sa.select(Partner))), list(products))


# -- checking input ----------------------------------------------------------------------------


def _text(
    value: Any,
    field: str,
    *,
    max_length: int,
    required: bool = True,
    pattern: re.Pattern | None = None,
    what: str = "text",
) -> str:
    """A stripped string of at most `max_length` characters, or InvalidInput naming `field`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    if pattern is not None and not pattern.match(value):
        raise InvalidInput(f"{value!r} is not a valid {what}", field=field)
    return value


def _whole_number(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    """An integer in [minimum, maximum]; floats, booleans and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be a whole number, got {value!r}", field=field)
    if not minimum <= value <= maximum:
        raise InvalidInput(
            f"{field} must be between {minimum} and {maximum}, got {value}", field=field
        )
    return value


def _unknown_keys(data: dict, allowed: frozenset[str], prefix: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        field = f"{prefix}{unknown[0]}"
        raise InvalidInput(
            f"unknown field {field!r}; expected {', '.join(sorted(allowed))}", field=field
        )


def parse_instant(value: Any, field: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """An ISO 8601 timestamp with a zone, not in the future, as an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            f"{field} must be an ISO 8601 timestamp with a zone, e.g. 2026-11-20T14:05:00+01:00",
            field=field,
        )
    try:
        instant = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not an ISO 8601 timestamp", field=field) from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput(f"{value!r} has no time zone; add one, e.g. +01:00 or Z", field=field)
    instant = instant.astimezone(dt.UTC)
    if instant > (now or utcnow()):
        raise InvalidInput(f"{field} {value!r} is in the future", field=field)
    return instant


def parse_order(
    session: Session,
    data: Any,
    *,
    partner_id: int | None = None,
    catalogue: Catalogue | None = None,
) -> OrderInput:
    """Check an order dict completely; `partner_id` limits its lines to that partner's SKUs."""
    if not isinstance(data, dict):
        raise InvalidInput("an order must be a JSON object", field="body")
    _unknown_keys(data, ORDER_FIELDS, "")
    number = _text(
        data.get("number"), "number", max_length=40, pattern=_NUMBER, what="order number"
    )
    channel = _text(data.get("channel"), "channel", max_length=40, required=False) or "marketplace"

    customer = data.get("customer")
    if not isinstance(customer, dict):
        raise InvalidInput(
            "customer must be an object with name, email, postcode and address", field="customer"
        )
    _unknown_keys(customer, CUSTOMER_FIELDS, "customer.")
    name = _text(customer.get("name"), "customer.name", max_length=120)
    email = _text(
        customer.get("email"), "customer.email", max_length=254, pattern=_EMAIL, what="email"
    ).lower()
    postcode = _text(
        customer.get("postcode"),
        "customer.postcode",
        max_length=16,
        pattern=_POSTCODE,
        what="postcode",
    ).upper()
    address = _text(customer.get("address"), "customer.address", max_length=1000, required=False)

    code = _text(data.get("country"), "country", max_length=2).upper()
    country = session.get(Country, code) if len(code) == 2 else None
    if country is None:
        raise InvalidInput(f"we do not deliver to country {code!r}", field="country")
    if not served_postcode(country.code, postcode):
        raise InvalidInput(
            f"postcode {postcode} is in the Canary Islands, outside our delivery zone",
            field="customer.postcode",
        )
    currency = _text(data.get("currency"), "currency", max_length=3).upper()
    if currency != country.currency:
        raise InvalidInput(
            f"orders to {country.name} are paid in {country.currency}, not {currency}",
            field="currency",
        )
    language = (
        _text(data.get("language"), "language", max_length=2, required=False).lower()
        or country.language
    )
    if language not in LANGUAGES:
        raise InvalidInput(
            f"language must be one of {', '.join(LANGUAGES)}, got {language!r}", field="language"
        )
    informed = data.get("withdrawal_informed", True)
    if not isinstance(informed, bool):
        raise InvalidInput("withdrawal_informed must be true or false", field="withdrawal_informed")
    placed_at = None
    if data.get("placed_at") is not None:
        placed_at = parse_instant(data["placed_at"], "placed_at")

    return OrderInput(
        number=number,
        channel=channel,
        customer_name=name,
        customer_email=email,
        customer_postcode=postcode,
        customer_address=address,
        country=country,
        currency=currency,
        language=language,
        withdrawal_informed=informed,
        placed_at=placed_at,
        lines=_parse_lines(session, data.get("lines"), currency, partner_id, catalogue),
    )


def _parse_lines(
    session: Session,
    lines: Any,
    currency: str,
    partner_id: int | None,
    catalogue: Catalogue | None,
) -> tuple[LineInput, ...]:
    if not isinstance(lines, list) or not lines:
        raise InvalidInput("lines must be a non-empty list", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"an order has at most {MAX_LINES} lines", field="lines")

    # First the shape of every line, then the catalogue in three queries for all lines at once.
    wanted = []
    for index, line in enumerate(lines):
        prefix = f"lines[{index}]"
        if not isinstance(line, dict):
            raise InvalidInput(f"{prefix} must be an object", field=prefix)
        _unknown_keys(line, LINE_FIELDS, f"{prefix}.")
        partner_code = _text(
            line.get("partner"), f"{prefix}.partner", max_length=32, required=False
        )
        sku = _text(line.get("sku"), f"{prefix}.sku", max_length=64, required=False)
        gtin = _text(
            line.get("gtin"),
            f"{prefix}.gtin",
            max_length=14,
            required=False,
            pattern=_GTIN,
            what="GTIN (8, 12, 13 or 14 digits)",
        )
        if not sku and not gtin:
            raise InvalidInput(
                f"{prefix} needs the partner's sku or the gtin", field=f"{prefix}.sku"
            )
        if sku and not partner_code:
            raise InvalidInput(
                f"{prefix}.partner is required with a sku", field=f"{prefix}.partner"
            )
        quantity = _whole_number(
            line.get("quantity"), f"{prefix}.quantity", minimum=1, maximum=MAX_QUANTITY
        )
        price = line.get("unit_price_minor")
        if price is not None:
            price = _whole_number(
                price, f"{prefix}.unit_price_minor", minimum=0, maximum=MAX_PRICE_MINOR
            )
        serials = _serial_numbers(line.get("serial_numbers"), f"{prefix}.serial_numbers", quantity)
        wanted.append((prefix, partner_code, sku, gtin, quantity, price, serials))

    if catalogue is None:
        catalogue = Catalogue.for_lines(
            session,
            partner_codes={w[1] for w in wanted if w[1]},
            skus={(w[1], w[2]) for w in wanted if w[1] and w[2]},
            gtins={w[3] for w in wanted if w[3] and not w[2]},
        )
    partners = catalogue.partners

    checked = []
    for prefix, partner_code, sku, gtin, quantity, price, serials in wanted:
        partner = partners.get(partner_code) if partner_code else None
        if partner_code and (partner is None or (partner_id and partner.id != partner_id)):
            raise InvalidInput(f"no partner {partner_code!r}", field=f"{prefix}.partner")
        if sku:
            product = catalogue.by_sku.get((partner.id, sku))
            if product is None:
                raise InvalidInput(
                    f"partner {partner_code} has no SKU {sku!r}", field=f"{prefix}.sku"
                )
            if gtin and product.gtin != gtin:
                raise InvalidInput(
                    f"SKU {sku!r} has GTIN {product.gtin}, not {gtin}", field=f"{prefix}.gtin"
                )
            field = f"{prefix}.sku"
        else:
            matches = [
                p
                for p in catalogue.by_gtin.get(gtin, ())
                if (partner is None or p.partner_id == partner.id)
                and (partner_id is None or p.partner_id == partner_id)
            ]
            if not matches:
                raise InvalidInput(f"no product with GTIN {gtin}", field=f"{prefix}.gtin")
            if len(matches) > 1:
                raise InvalidInput(
                    f"GTIN {gtin} is sold by several partners; add the partner",
                    field=f"{prefix}.partner",
                )
            product = matches[0]
            field = f"{prefix}.gtin"
        listed = product.price_in(currency)
        if listed is None:
            raise InvalidInput(
                f"{product.sku} ({product.title}) is not sold in {currency}", field=field
            )
        checked.append(
            LineInput(
                product=product,
                quantity=quantity,
                unit_price_minor=listed.price_minor if price is None else price,
                price_given=price is not None,
                serial_numbers=serials,
            )
        )
    return tuple(checked)


def _serial_numbers(value: Any, field: str, quantity: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput(f"{field} must be a list of strings", field=field)
    serials = tuple(_text(serial, f"{field}[{i}]", max_length=64) for i, serial in enumerate(value))
    if len(serials) > quantity:
        raise InvalidInput(
            f"{len(serials)} serial numbers for a quantity of {quantity}", field=field
        )
    if len(set(serials)) != len(serials):
        raise InvalidInput(f"{field} lists a serial number twice", field=field)
    return serials


# -- placing -----------------------------------------------------------------------------------


def place_order(
    session: Session,
    data: Any,
    actor: Actor,
    *,
    partner_id: int | None = None,
    catalogue: Catalogue | None = None,
) -> tuple[Order, bool]:
    """Take an order in and split it into one shipment per partner; flushes, never commits.

    Returns `(order, created)`. The same number with the same content again returns the stored
    order and writes nothing (`created` is False); with other content it is a Conflict. A
    partner-bound caller (`partner_id`) may only order that partner's products.
    """
    (placed,) = place_orders(session, [data], actor, partner_id=partner_id, catalogue=catalogue)
    return placed


def place_orders(
    session: Session,
    batch: list[Any],
    actor: Actor,
    *,
    partner_id: int | None = None,
    catalogue: Catalogue | None = None,
) -> list[tuple[Order, bool]]:
    """`place_order` for many orders at once, all or none, with one flush for the lot.

    Every order is checked before anything is added, so a refusal leaves the session as it
    was; in a batch of several, the refusal's `batch_index` is the position of the order.
    """
    checked_batch: list[OrderInput] = []
    for index, data in enumerate(batch):
        try:
            checked = parse_order(session, data, partner_id=partner_id, catalogue=catalogue)
            if any(c.number == checked.number for c in checked_batch):
                raise InvalidInput(f"order {checked.number} appears twice", field="number")
        except DomainError as error:
            if len(batch) > 1:
                error.details.setdefault("batch_index", index)
            raise
        checked_batch.append(checked)
    numbers = [checked.number for checked in checked_batch]
    stored = {
        order.number: order
        for order in session.scalars(
            sa.select(Order)
            .where(Order.number.in_(numbers))
            .options(selectinload(Order.lines), selectinload(Order.shipments))
        )
    }
    for index, checked in enumerate(checked_batch):
        existing = stored.get(checked.number)
        if existing is not None and not _same_order(existing, checked):
            conflict = Conflict(
                f"order {checked.number} exists already with different content", field="number"
            )
            if len(batch) > 1:
                conflict.details["batch_index"] = index
            raise conflict

    placed = [
        (stored[c.number], False) if c.number in stored else (_add_order(session, c), True)
        for c in checked_batch
    ]
    session.flush()
    for order, created in placed:
        if created:
            _record_placed(session, order, actor)
    return placed


def _add_order(session: Session, checked: OrderInput) -> Order:
    order = Order(
        number=checked.number,
        channel=checked.channel,
        customer_name=checked.customer_name,
        customer_email=checked.customer_email,
        customer_postcode=checked.customer_postcode,
        customer_address=checked.customer_address,
        country_code=checked.country.code,
        currency=checked.currency,
        language=checked.language,
        withdrawal_informed=checked.withdrawal_informed,
        placed_at=checked.placed_at or utcnow(),
    )
    session.add(order)
    shipments: dict[int, Shipment] = {}
    for line in checked.lines:
        partner_of_line = line.product.partner_id
        if partner_of_line not in shipments:
            shipments[partner_of_line] = Shipment(order=order, partner_id=partner_of_line)
        session.add(
            OrderLine(
                order=order,
                shipment=shipments[partner_of_line],
                product=line.product,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                serial_numbers=list(line.serial_numbers),
            )
        )
    return order


def _record_placed(session: Session, order: Order, actor: Actor) -> None:
    events.record(
        session,
        actor,
        "order.placed",
        order,
        after="placed",
        number=order.number,
        channel=order.channel,
        currency=order.currency,
        total_minor=order.total_minor,
        shipments=[s.id for s in order.shipments],
    )
    for shipment in order.shipments:
        events.record(
            session,
            actor,
            "shipment.created",
            shipment,
            after="created",
            order=order.number,
            lines=len(shipment.lines),
            total_minor=shipment.total_minor,
        )


def _same_order(order: Order, checked: OrderInput) -> bool:
    """Whether a stored order is what `checked` asks for (a re-post of the same order)."""
    header = (
        order.channel,
        order.customer_name,
        order.customer_email,
        order.customer_postcode,
        order.customer_address,
        order.country_code,
        order.currency,
        order.language,
        order.withdrawal_informed,
    )
    wanted = (
        checked.channel,
        checked.customer_name,
        checked.customer_email,
        checked.customer_postcode,
        checked.customer_address,
        checked.country.code,
        checked.currency,
        checked.language,
        checked.withdrawal_informed,
    )
    if header != wanted or len(order.lines) != len(checked.lines):
        return False
    if checked.placed_at is not None and order.placed_at != checked.placed_at:
        return False
    for stored, line in zip(order.lines, checked.lines, strict=True):
        if (stored.product_id, stored.quantity, tuple(stored.serial_numbers)) != (
            line.product.id,
            line.quantity,
            line.serial_numbers,
        ):
            return False
        # A line sent without a price took the list price of the day; a re-post after a price
        # change is still the same order.
        if line.price_given and stored.unit_price_minor != line.unit_price_minor:
            return False
    return True


# -- shipments ---------------------------------------------------------------------------------


def find_shipment(session: Session, shipment_id: Any, *, partner_id: int | None = None) -> Shipment:
    """The shipment with `shipment_id`; another partner's is NotFound, like a missing one."""
    shipment = session.get(Shipment, shipment_id) if isinstance(shipment_id, int) else None
    if shipment is None or (partner_id is not None and shipment.partner_id != partner_id):
        raise NotFound(f"no shipment {shipment_id}", field="shipment_id")
    return shipment


def set_tracking(
    session: Session,
    shipment_id: int,
    tracking_number: Any,
    delivered_at: Any,
    actor: Actor,
    *,
    carrier: Any = None,
    partner_id: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[Shipment, bool]:
    """Record a shipment's tracking number and/or delivery instant; returns (shipment, changed).

    `delivered_at` is an ISO 8601 string with a zone, not in the future and not before the
    order was placed. Sending what is stored already changes nothing and records no event.
    """
    shipment = find_shipment(session, shipment_id, partner_id=partner_id)
    if tracking_number is None and delivered_at is None:
        raise InvalidInput(
            "send a tracking_number, a delivered_at, or both", field="tracking_number"
        )
    number = None
    if tracking_number is not None:
        number = _text(
            tracking_number,
            "tracking_number",
            max_length=64,
            pattern=_TRACKING,
            what="tracking number",
        ).upper()
    carrier_name = None
    if carrier is not None:
        carrier_name = _text(carrier, "carrier", max_length=40)
    delivered = None
    if delivered_at is not None:
        delivered = parse_instant(delivered_at, "delivered_at", now=now)
        if delivered < shipment.order.placed_at:
            raise InvalidInput(
                f"delivered_at {delivered_at!r} is before the order was placed",
                field="delivered_at",
            )
    if number is not None and number != shipment.tracking_number:
        taken = session.scalars(
            sa.select(Shipment.id).where(
                Shipment.tracking_number == number, Shipment.id != shipment.id
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"tracking number {number} belongs to another shipment", field="tracking_number"
            )

    changed = apply_tracking(
        session,
        shipment,
        actor,
        tracking_number=number,
        carrier=carrier_name,
        delivered_at=delivered,
    )
    return shipment, changed


def apply_tracking(
    session: Session,
    shipment: Shipment,
    actor: Actor,
    *,
    tracking_number: str | None,
    carrier: str | None,
    delivered_at: dt.datetime | None,
) -> bool:
    """Store tracking values that are checked already, with their events; None keeps a value.

    `set_tracking` is the checked entry point; this is its second half, also used to put
    whole batches of known-good values in place (demo data) without a query per shipment.
    """
    number, carrier_name, delivered = tracking_number, carrier, delivered_at
    changed = False
    new_number = number if number is not None else shipment.tracking_number
    new_carrier = carrier_name if carrier_name is not None else shipment.carrier
    if (new_number, new_carrier) != (shipment.tracking_number, shipment.carrier):
        events.record(
            session,
            actor,
            "shipment.tracking_set",
            shipment,
            before=shipment.tracking_number,
            after=new_number,
            order=shipment.order.number,
            carrier_before=shipment.carrier,
            carrier=new_carrier,
        )
        shipment.tracking_number = new_number
        shipment.carrier = new_carrier
        changed = True
    if delivered is not None and delivered != shipment.delivered_at:
        events.record(
            session,
            actor,
            "shipment.delivered",
            shipment,
            before=shipment.delivered_at.isoformat() if shipment.delivered_at else None,
            after=delivered.isoformat(),
            order=shipment.order.number,
        )
        shipment.delivered_at = delivered
        changed = True
    return changed
