"""Test data: small factories that add to `db.session` and flush (tests commit when they need to).

Orders, returns and units at each stage of the flow (`received`, `graded`, `open_case`), bins for
routing, listings in bulk, users and tokens, and the constants the grading tests share.
"""

from __future__ import annotations

import datetime as dt
import itertools

import sqlalchemy as sa

from warehouse import events
from warehouse.accounts import hash_password, issue_token
from warehouse.cases import CaseLinks
from warehouse.channels import ensure_channels
from warehouse.checklists import checklist_for
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.events import Actor
from warehouse.grading import grade_unit
from warehouse.models import (
    Case,
    Category,
    Grade,
    Listing,
    Location,
    LocationKind,
    Order,
    OrderLine,
    Outbox,
    Partner,
    Product,
    ProductPrice,
    Reason,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Role,
    Shipment,
    Unit,
    UnitStatus,
    User,
)
from warehouse.reference import ensure_countries, ensure_site

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


def site(code: str = "WAL"):
    """The test site, with every served country returning to it (and the sales channels)."""
    found = ensure_site(db.session, code=code)
    ensure_countries(db.session, found)
    ensure_channels(db.session)  # the starter sales channels, as migration 0015 writes them
    return found


def partner(code: str | None = None, **fields) -> Partner:
    n = next(_seq)
    row = Partner(
        code=code or f"P{n}",
        name=fields.pop("name", f"Partner {n}"),
        contact_email=fields.pop("contact_email", f"partner{n}@example.com"),
        refund_deduction_bp=fields.pop(
            "refund_deduction_bp", {"used": 1000, "light_damage": 3000, "heavy_damage": 5000}
        ),
        resale_discount_bp=fields.pop(
            "resale_discount_bp",
            {"opened": 1000, "used": 2500, "light_damage": 4000, "heavy_damage": 7000},
        ),
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


new_partner = partner  # for factories whose `partner` parameter hides the function


def _gtin(body: str) -> str:
    """`body` with its GTIN check digit: factory products have scannable barcodes."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def product(
    partner_row: Partner,
    *,
    category: Category = Category.FASHION,
    prices: dict[str, int] | None = None,
    **fields,
) -> Product:
    n = next(_seq)
    row = Product(
        partner=partner_row,
        sku=fields.pop("sku", f"SKU-{n}"),
        gtin=fields.pop("gtin", _gtin(f"{871234500000 + n:012d}")),
        title=fields.pop("title", f"Product {n}"),
        category=category,
        **fields,
    )
    for currency, price in (
        prices or {"EUR": 4999, "GBP": 4299, "DKK": 37500, "SEK": 55900}
    ).items():
        row.prices.append(
            ProductPrice(currency=currency, price_minor=price, min_price_minor=price // 5)
        )
    db.session.add(row)
    db.session.flush()
    return row


def order(
    lines: list[tuple[Product, int]],
    *,
    country: str = "NL",
    currency: str = "EUR",
    delivered_days_ago: int | None = 3,
    number: str | None = None,
    **fields,
) -> Order:
    """An order already split into one shipment per partner, delivered `delivered_days_ago`."""
    site()
    n = next(_seq)
    row = Order(
        number=number or f"MP-{100000 + n}",
        customer_name=fields.pop("customer_name", "Sam Customer"),
        customer_email=fields.pop("customer_email", f"customer{n}@example.org"),
        customer_postcode=fields.pop("customer_postcode", "1011 AB"),
        country_code=country,
        currency=currency,
        **fields,
    )
    db.session.add(row)
    shipments: dict[int, Shipment] = {}
    for prod, quantity in lines:
        shipment = shipments.get(prod.partner_id)
        if shipment is None:
            shipment = Shipment(
                order=row,
                partner_id=prod.partner_id,
                tracking_number=f"3S{n:06d}{prod.partner_id:03d}",
            )
            if delivered_days_ago is not None:
                shipment.delivered_at = utcnow() - dt.timedelta(days=delivered_days_ago)
            shipments[prod.partner_id] = shipment
        price = prod.price_in(currency)
        db.session.add(
            OrderLine(
                order=row,
                shipment=shipment,
                product=prod,
                quantity=quantity,
                unit_price_minor=price.price_minor,
            )
        )
    db.session.flush()
    return row


def user(role: Role, partner_row: Partner | None = None, email: str | None = None) -> User:
    n = next(_seq)
    row = User(
        email=email or f"{role.value}{n}@returnyard.test",
        name=f"{role.value.title()} {n}",
        password_hash=hash_password(PASSWORD),
        role=role,
        partner=partner_row,
        site=site() if role in (Role.OPERATOR, Role.SUPERVISOR) else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def token(role: Role, partner_row: Partner | None = None) -> str:
    plain = issue_token(db.session, role, partner_row.id if partner_row else None, "test")
    db.session.flush()
    return plain


def return_request(
    order_row: Order,
    lines: list[tuple[OrderLine, int, Reason]] | None = None,
    *,
    announced_days_ago: int = 1,
    **fields,
) -> ReturnRequest:
    """An announced RMA for the shipment of the first line given (all lines one partner)."""
    lines = lines or [(order_row.lines[0], order_row.lines[0].quantity, Reason.CHANGED_MIND)]
    shipment = lines[0][0].shipment
    announced_at = utcnow() - dt.timedelta(days=announced_days_ago)
    at = site()
    n = next(_seq)
    row = ReturnRequest(
        rma=fields.pop("rma", f"R{n:07d}"),
        order=order_row,
        shipment=shipment,
        partner_id=shipment.partner_id,
        site_id=at.id,
        announced_at=announced_at,
        announced_on=local_date(announced_at, at.timezone),  # the site's calendar day
        destination=fields.pop("destination", shipment.partner.destination),
        **fields,
    )
    for order_line, quantity, reason in lines:
        row.lines.append(ReturnLine(order_line=order_line, quantity=quantity, reason=reason))
    db.session.add(row)
    db.session.flush()
    return row


def received_unit(return_line: ReturnLine, slot: int = 1, **fields) -> Unit:
    """A unit of `return_line` received at the site, with a fresh LPN."""
    rma = return_line.return_request
    rma.status = ReturnStatus.RECEIVED
    rma.received_at = rma.received_at or utcnow()
    rma.received_on = rma.received_on or local_date(rma.received_at, rma.site.timezone)
    n = next(_seq)
    row = Unit(
        lpn=fields.pop("lpn", f"LPN{n:09d}"),
        return_request=rma,
        return_line=return_line,
        product=return_line.order_line.product,
        partner_id=rma.partner_id,
        site_id=rma.site_id,
        slot=slot,
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def graded_unit(return_line: ReturnLine, grade: Grade = Grade.NEW, slot: int = 1, **fields) -> Unit:
    """A received unit that has been graded (checklist all ticked)."""
    row = received_unit(return_line, slot, **fields)
    row.grade = grade
    row.status = UnitStatus.GRADED
    row.graded_at = utcnow()
    # Every check of the category done: a unit graded this way may be sold again.
    category = row.product.category if row.product else None
    row.checklist = dict.fromkeys(checklist_for(category), True)
    db.session.flush()
    return row


# -- grading and refund cases ------------------------------------------------------------------

SECRET = "test-secret-key"  # the SECRET_KEY of the test app
LINK_DAYS = 14  # CASE_LINK_MAX_AGE of the test app, in days
LINKS = CaseLinks(SECRET, LINK_DAYS * 86400)
OPERATOR = events.Actor(label="op@returnyard.test", station="grade")
COMPLETE = {"accessories_complete", "cleaned", "repackaged"}


def received(
    seller=None,
    *,
    price=4999,
    currency="EUR",
    country="NL",
    reason=Reason.CHANGED_MIND,
    delivered_days_ago=3,
    category=None,
    title=None,
    customer_comment="",
    **partner_fields,
):
    """A received unit of a one-line order of `seller` (a new partner when None)."""
    seller = seller or partner(**partner_fields)
    kwargs = {"category": category} if category else {}
    if title:
        kwargs["title"] = title
    item = product(seller, prices={currency: price}, **kwargs)
    sold = order(
        [(item, 1)], country=country, currency=currency, delivered_days_ago=delivered_days_ago
    )
    rma = return_request(sold, [(sold.lines[0], 1, reason)])
    rma.customer_comment = customer_comment
    return received_unit(rma.lines[0])


def grade(unit: Unit | int, chosen: Grade | str, *, checklist=COMPLETE, **options):
    """Grade a unit at the grading station as the test operator (the domain's `grade_unit`)."""
    unit_id = unit if isinstance(unit, int) else unit.id
    return grade_unit(
        db.session, OPERATOR, unit_id, grade=chosen, checklist=checklist, links=LINKS, **options
    )


def open_case(seller=None, *, grade=Grade.USED, **fields) -> Case:
    """A unit graded `used` (a partial refund): an open case, committed."""
    unit = received(seller, **fields)
    grade_unit(db.session, OPERATOR, unit.id, grade=grade, checklist=COMPLETE, links=LINKS)
    db.session.commit()
    return db.session.query(Case).filter_by(unit_id=unit.id).one()


def mails(template: str) -> list[Outbox]:
    """Queued mails of one template, oldest first."""
    return [
        row
        for row in db.session.query(Outbox).order_by(Outbox.id)
        if row.payload.get("template") == template
    ]


# -- routing: bins, graded units in a currency, listings in bulk -------------------------------

COUNTRY_OF = {"EUR": "NL", "GBP": "GB", "DKK": "DK", "SEK": "SE"}


def location(
    kind: LocationKind,
    code: str | None = None,
    *,
    capacity: int = 50,
    site_code: str = "WAL",
    partner: Partner | None = None,
) -> Location:
    """A bin of `kind` at a site (the test site by default)."""
    row = Location(
        site=site(site_code),
        code=code or f"BIN-{kind.value[:3].upper()}-{next(_seq):03d}",
        kind=kind,
        capacity=capacity,
        partner=partner,
    )
    db.session.add(row)
    db.session.flush()
    return row


def bins_for_every_kind() -> dict[LocationKind, Location]:
    """One bin of each kind at the test site."""
    return {kind: location(kind) for kind in LocationKind}


def graded(
    grade: Grade,
    *,
    partner: Partner | None = None,
    currency: str = "EUR",
    category: Category = Category.FASHION,
    reason: Reason = Reason.CHANGED_MIND,
    price: int | None = None,
    floor: int | None = None,
    **fields,
) -> Unit:
    """One graded unit of a fresh order in `currency` (price / floor override the SKU's)."""
    seller = partner or new_partner()
    prices = {"EUR": 4999, "GBP": 4299, "DKK": 37500, "SEK": 55900}
    if price is not None:
        prices[currency] = price
    item = product(seller, category=category, prices=prices)
    if floor is not None:
        item.price_in(currency).min_price_minor = floor
    sold = order([(item, 1)], country=COUNTRY_OF[currency], currency=currency)
    rma = return_request(sold, [(sold.lines[0], 1, reason)])
    return graded_unit(rma.lines[0], grade, **fields)


def operator_actor(person: User | None = None) -> Actor:
    """An actor at the route station of the test site."""
    return Actor(
        label=person.email if person else "operator@test",
        user_id=person.id if person else None,
        station="route",
        site_id=site().id,
    )


def listed_units(
    count: int,
    *,
    partner: Partner | None = None,
    currency: str = "EUR",
    channel: str = "ebay",
    notes: str = "",
) -> Partner:
    """`count` units listed for resale, inserted in bulk (fast enough for thousands)."""
    seller = partner or new_partner()
    item = product(seller, title="Espresso machine Barista Pro")
    sold = order([(item, count)], country=COUNTRY_OF[currency], currency=currency)
    rma = return_request(sold)
    line = rma.lines[0]
    batch = next(_seq)
    now = utcnow()
    db.session.execute(
        sa.insert(Unit),
        [
            {
                "lpn": f"LB{batch:04d}{slot:07d}",
                "return_id": rma.id,
                "return_line_id": line.id,
                "product_id": item.id,
                "partner_id": seller.id,
                "site_id": rma.site_id,
                "slot": slot,
                "status": UnitStatus.ROUTED,
                "grade": Grade.OPENED,
                "checklist": {"accessories_complete": True},
                "notes": notes,
                "disposition": "resale",
                "received_at": now,
                "graded_at": now,
                "routed_at": now,
            }
            for slot in range(1, count + 1)
        ],
    )
    ids = db.session.scalars(sa.select(Unit.id).where(Unit.return_id == rma.id).order_by(Unit.id))
    price = line.order_line.unit_price_minor
    db.session.execute(
        sa.insert(Listing),
        [
            {
                "unit_id": unit_id,
                "partner_id": seller.id,
                "channel": channel,
                "language": "en",
                "title": item.title,
                "condition_id": 1500,
                "condition_description": "Opened box, unused: complete."
                + (f" Notes: {notes}" if notes else ""),
                "original_minor": price,
                "discount_bp": 1000,
                "price_minor": price - price // 10,
                "currency": currency,
                "created_at": now,
            }
            for unit_id in ids
        ],
    )
    db.session.flush()
    return seller
