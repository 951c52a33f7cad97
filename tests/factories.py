"""Small factories for test data. Each adds to `db.session` and flushes; tests commit if needed."""

from __future__ import annotations

import datetime as dt
import itertools

from stations.api import issue_token
from stations.auth import hash_password
from warehouse.db import db, utcnow
from warehouse.models import (
    Category,
    Grade,
    Order,
    OrderLine,
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
    """The test site, with every served country returning to it."""
    found = ensure_site(db.session, code=code)
    ensure_countries(db.session, found)
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
        gtin=fields.pop("gtin", f"{8712345000000 + n:013d}"),
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
    n = next(_seq)
    row = ReturnRequest(
        rma=fields.pop("rma", f"R{n:07d}"),
        order=order_row,
        shipment=shipment,
        partner_id=shipment.partner_id,
        site_id=site().id,
        announced_at=announced_at,
        announced_on=announced_at.date(),
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
    rma.received_on = rma.received_on or rma.received_at.date()
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
    row.checklist = {"accessories_complete": True, "cleaned": True, "repackaged": True}
    db.session.flush()
    return row
