"""Marketplace orders: taking an order in, splitting it per partner, and shipment tracking.

An order arrives as an `OrderIn` (the JSON API's body, or each order of a CSV import as a dict).
Every value is checked before anything is written; a refusal names the field at fault
(`lines[2].sku`). An order with
lines of several partners becomes one Shipment per partner: one parcel each, with its own
tracking number and delivered-at date, while the customer still sees one order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import AfterValidator, AwareDatetime, Field, StrictBool, StrictInt
from sqlalchemy.orm import Session, selectinload

from warehouse import events, ledger
from warehouse.db import utcnow
from warehouse.deadlines import local_date
from warehouse.errors import Conflict, DomainError, InvalidInput, NotFound
from warehouse.events import Actor
from warehouse.i18n import gettext as _
from warehouse.models import Country, Order, OrderLine, Partner, Product, Shipment
from warehouse.money import Currency
from warehouse.reference import CountryCode, Language, served_postcode
from warehouse.validation import Email, Input, OptionalText, Text, code_of, validated

MAX_LINES = 200
MAX_QUANTITY = 9_999
MAX_PRICE_MINOR = 100_000_000  # one million in any of our currencies: beyond is a typo

ORDER_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
POSTCODE = r"^[A-Za-z0-9][A-Za-z0-9 -]*$"
TRACKING_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9 -]*$"
# EAN-8, UPC-A (12), EAN-13 and GTIN-14.
GTIN = r"^(?:[0-9]{8}|[0-9]{12,14})$"


# -- the order as it comes in (the API's request body and each order of a CSV import) --------


class CustomerIn(Input):
    """Who bought: the email or postcode is what the customer later finds the order with."""

    name: Text(120)
    email: Email
    postcode: Annotated[
        Text(16, pattern=POSTCODE),
        AfterValidator(str.upper),
        Field(description="Canary Islands postcodes (ES 35…, 38…) are not served"),
    ]
    address: OptionalText(1000) = None


class OrderLineIn(Input):
    """One product bought: named by partner + sku, or by gtin."""

    partner: OptionalText(32) = None
    sku: OptionalText(64) = None
    gtin: OptionalText(14, pattern=GTIN) = None
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]
    unit_price_minor: Annotated[
        StrictInt | None,
        Field(
            ge=0,
            le=MAX_PRICE_MINOR,
            description="Minor units of the order currency; defaults to the list price",
        ),
    ] = None
    serial_numbers: list[Text(64)] = Field(
        default_factory=list, description="Serial numbers / IMEIs shipped, at most `quantity`"
    )


class OrderIn(Input):
    """A marketplace order: the customer, the country it ships to, and its lines."""

    number: Text(40, pattern=ORDER_NUMBER)
    channel: OptionalText(40) = None
    customer: CustomerIn
    country: code_of(CountryCode)
    currency: Annotated[code_of(Currency), Field(description="Must be the country's currency")]
    language: Annotated[
        code_of(Language, lower=True) | None,
        Field(description="Defaults to the country's language"),
    ] = None
    withdrawal_informed: Annotated[
        StrictBool,
        Field(description="False if the customer was never told of the right of withdrawal"),
    ] = True
    placed_at: AwareDatetime | None = None
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_LINES)]


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


# -- checking what only the database can tell ----------------------------------------------


def not_in_future(instant: dt.datetime, field: str, *, now: dt.datetime | None = None):
    """An aware instant as UTC, refused when it lies in the future."""
    instant = instant.astimezone(dt.UTC)
    if instant > (now or utcnow()):
        raise InvalidInput(
            _(
                "%(field)s %(isoformat)s is in the future",
                field=field,
                isoformat=instant.isoformat(),
            ),
            field=field,
        )
    return instant


def parse_order(
    session: Session,
    data: OrderIn | dict[str, Any],
    *,
    partner_id: int | None = None,
    catalogue: Catalogue | None = None,
) -> OrderInput:
    """Check an order completely; `partner_id` limits its lines to that partner's SKUs.

    The shape (types, lengths, patterns) is `OrderIn`'s; this adds what needs the database:
    a served country and postcode, the country's currency, and products that exist.
    """
    order = data if isinstance(data, OrderIn) else validated(OrderIn, data)
    country = session.get(Country, order.country.value)
    if country is None:
        raise InvalidInput(
            _("we do not deliver to country %(value)s", value=repr(order.country.value)),
            field="country",
        )
    postcode = order.customer.postcode
    if not served_postcode(country.code, postcode):
        raise InvalidInput(
            _(
                "postcode %(postcode)s is in the Canary Islands, outside our delivery zone",
                postcode=postcode,
            ),
            field="customer.postcode",
        )
    currency = order.currency.value
    if currency != country.currency:
        raise InvalidInput(
            _(
                "orders to %(name)s are paid in %(currency)s, not %(currency2)s",
                name=country.name,
                currency=country.currency,
                currency2=currency,
            ),
            field="currency",
        )
    placed_at = None
    if order.placed_at is not None:
        placed_at = not_in_future(order.placed_at, "placed_at")
    return OrderInput(
        number=order.number,
        channel=order.channel or "marketplace",
        customer_name=order.customer.name,
        customer_email=order.customer.email,
        customer_postcode=postcode,
        customer_address=order.customer.address or "",
        country=country,
        currency=currency,
        language=order.language.value if order.language else country.language,
        withdrawal_informed=order.withdrawal_informed,
        placed_at=placed_at,
        lines=_check_lines(session, order.lines, currency, partner_id, catalogue),
    )


def _check_lines(
    session: Session,
    lines: list[OrderLineIn],
    currency: str,
    partner_id: int | None,
    catalogue: Catalogue | None,
) -> tuple[LineInput, ...]:
    for index, line in enumerate(lines):
        prefix = f"lines[{index}]"
        if not line.sku and not line.gtin:
            raise InvalidInput(
                _("%(prefix)s needs the partner's sku or the gtin", prefix=prefix),
                field=f"{prefix}.sku",
            )
        if line.sku and not line.partner:
            raise InvalidInput(
                _("%(prefix)s.partner is required with a sku", prefix=prefix),
                field=f"{prefix}.partner",
            )
        serials = line.serial_numbers
        if len(serials) > line.quantity:
            raise InvalidInput(
                _(
                    "%(serials)s serial numbers for a quantity of %(quantity)s",
                    serials=len(serials),
                    quantity=line.quantity,
                ),
                field=f"{prefix}.serial_numbers",
            )
        if len(set(serials)) != len(serials):
            raise InvalidInput(
                _("%(prefix)s.serial_numbers lists a serial number twice", prefix=prefix),
                field=f"{prefix}.serial_numbers",
            )

    # The catalogue in three queries for all lines at once.
    if catalogue is None:
        catalogue = Catalogue.for_lines(
            session,
            partner_codes={line.partner for line in lines if line.partner},
            skus={(line.partner, line.sku) for line in lines if line.partner and line.sku},
            gtins={line.gtin for line in lines if line.gtin and not line.sku},
        )
    partners = catalogue.partners

    checked = []
    for index, line in enumerate(lines):
        prefix = f"lines[{index}]"
        partner_code, sku, gtin = line.partner, line.sku, line.gtin
        partner = partners.get(partner_code) if partner_code else None
        if partner_code and (partner is None or (partner_id and partner.id != partner_id)):
            raise InvalidInput(
                _("no partner %(partner_code)s", partner_code=repr(partner_code)),
                field=f"{prefix}.partner",
            )
        if sku:
            product = catalogue.by_sku.get((partner.id, sku))
            if product is None:
                raise InvalidInput(
                    _(
                        "partner %(partner_code)s has no SKU %(sku)s",
                        partner_code=partner_code,
                        sku=repr(sku),
                    ),
                    field=f"{prefix}.sku",
                )
            if gtin and product.gtin != gtin:
                raise InvalidInput(
                    _(
                        "SKU %(sku)s has GTIN %(gtin)s, not %(gtin2)s",
                        sku=repr(sku),
                        gtin=product.gtin,
                        gtin2=gtin,
                    ),
                    field=f"{prefix}.gtin",
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
                raise InvalidInput(
                    _("no product with GTIN %(gtin)s", gtin=gtin), field=f"{prefix}.gtin"
                )
            if len(matches) > 1:
                raise InvalidInput(
                    _("GTIN %(gtin)s is sold by several partners; add the partner", gtin=gtin),
                    field=f"{prefix}.partner",
                )
            product = matches[0]
            field = f"{prefix}.gtin"
        if not product.partner.active:
            raise InvalidInput(
                _(
                    "partner %(code)s is deactivated: it takes no new orders",
                    code=product.partner.code,
                ),
                field=f"{prefix}.partner",
            )
        listed = product.price_in(currency)
        if listed is None:
            raise InvalidInput(
                _(
                    "%(sku)s (%(title)s) is not sold in %(currency)s",
                    sku=product.sku,
                    title=product.title,
                    currency=currency,
                ),
                field=field,
            )
        price = line.unit_price_minor
        checked.append(
            LineInput(
                product=product,
                quantity=line.quantity,
                unit_price_minor=listed.price_minor if price is None else price,
                price_given=price is not None,
                serial_numbers=tuple(line.serial_numbers),
            )
        )
    return tuple(checked)


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
                raise InvalidInput(
                    _("order %(number)s appears twice", number=checked.number), field="number"
                )
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
                _("order %(number)s exists already with different content", number=checked.number),
                field="number",
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
    ordered = order.ordered_lines
    if header != wanted or len(ordered) != len(checked.lines):
        return False
    if checked.placed_at is not None and order.placed_at != checked.placed_at:
        return False
    for stored, line in zip(ordered, checked.lines, strict=True):
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
        raise NotFound(
            _("no shipment %(shipment_id)s", shipment_id=shipment_id), field="shipment_id"
        )
    return shipment


class TrackingIn(Input):
    """A shipment's carrier tracking number and / or the instant it was delivered."""

    tracking_number: Annotated[
        OptionalText(64, pattern=TRACKING_NUMBER), AfterValidator(lambda v: v and v.upper())
    ] = None
    delivered_at: Annotated[
        AwareDatetime | None,
        Field(description="ISO 8601 with a zone; not in the future, not before the order"),
    ] = None
    carrier: OptionalText(40) = None


def set_tracking(
    session: Session,
    shipment_id: int,
    tracking: TrackingIn,
    actor: Actor,
    *,
    partner_id: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[Shipment, bool]:
    """Record a shipment's tracking number and/or delivery instant; returns (shipment, changed).

    Sending what is stored already changes nothing and records no event.
    """
    shipment = find_shipment(session, shipment_id, partner_id=partner_id)
    if tracking.tracking_number is None and tracking.delivered_at is None:
        raise InvalidInput(
            _("send a tracking_number, a delivered_at, or both"), field="tracking_number"
        )
    number = tracking.tracking_number
    delivered = None
    if tracking.delivered_at is not None:
        delivered = not_in_future(tracking.delivered_at, "delivered_at", now=now)
        if delivered < shipment.order.placed_at:
            raise InvalidInput(
                _(
                    "delivered_at %(isoformat)s is before the order was placed",
                    isoformat=delivered.isoformat(),
                ),
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
                _("tracking number %(number)s belongs to another shipment", number=number),
                field="tracking_number",
            )

    changed = apply_tracking(
        session,
        shipment,
        actor,
        tracking_number=number,
        carrier=tracking.carrier,
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
    booked_on: dt.date | None = None,
) -> bool:
    """Store tracking values that are checked already, with their events; None keeps a value.
    A first delivery books the sale on `booked_on` (default: today at the site: the day it is
    recorded; history loaded at once, like the demo's, books on its own days).

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
        first = shipment.delivered_at is None
        shipment.delivered_at = delivered
        changed = True
        if first:  # delivered: the sale and its commission are booked (corrections are not)
            timezone = shipment.order.country.site.timezone
            ledger.book_sale(
                session, shipment, booked_on=booked_on or local_date(utcnow(), timezone)
            )
    return changed
