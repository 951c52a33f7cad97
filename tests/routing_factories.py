"""Test data for routing: bins and graded units in a given currency (on top of factories)."""

from __future__ import annotations

import itertools

from tests import factories
from warehouse.db import db
from warehouse.events import Actor
from warehouse.models import (
    Category,
    Grade,
    Location,
    LocationKind,
    Partner,
    Reason,
    Unit,
)

_seq = itertools.count(1)
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
        site=factories.site(site_code),
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
    partner = partner or factories.partner()
    prices = {"EUR": 4999, "GBP": 4299, "DKK": 37500, "SEK": 55900}
    if price is not None:
        prices[currency] = price
    product = factories.product(partner, category=category, prices=prices)
    if floor is not None:
        product.price_in(currency).min_price_minor = floor
    order = factories.order([(product, 1)], country=COUNTRY_OF[currency], currency=currency)
    rma = factories.return_request(order, [(order.lines[0], 1, reason)])
    return factories.graded_unit(rma.lines[0], grade, **fields)


def operator_actor(user=None) -> Actor:
    """An actor at the route station of the test site."""
    site = factories.site()
    return Actor(
        label=user.email if user else "operator@test",
        user_id=user.id if user else None,
        station="route",
        site_id=site.id,
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
    import sqlalchemy as sa

    from warehouse.db import utcnow
    from warehouse.models import Listing, UnitStatus

    partner = partner or factories.partner()
    product = factories.product(partner, title="Espresso machine Barista Pro")
    order = factories.order([(product, count)], country=COUNTRY_OF[currency], currency=currency)
    rma = factories.return_request(order)
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
                "product_id": product.id,
                "partner_id": partner.id,
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
                "partner_id": partner.id,
                "channel": channel,
                "language": "en",
                "title": product.title,
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
    return partner
