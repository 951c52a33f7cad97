"""The demo data set: loads on both databases, fast, and holds what the README promises."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest
import sqlalchemy as sa

import demo
from demo.base import DEMO_PASSWORD, DEMO_USERS
from tests.helpers import machine_slowness
from warehouse.db import db, utcnow
from warehouse.models import (
    Category,
    Country,
    Destination,
    Event,
    Order,
    OrderLine,
    Partner,
    Product,
    Role,
    Shipment,
    Site,
    User,
)


def test_the_demo_loads_fast_and_meets_the_counts(app):
    started = time.monotonic()
    demo.load(db.session)
    db.session.commit()
    elapsed = time.monotonic() - started
    slowness = machine_slowness()
    assert elapsed < 15 * slowness, f"demo took {elapsed:.1f} s ({slowness:.1f} x slow machine)"

    site = db.session.query(Site).one()
    assert (site.code, site.timezone) == ("WAL", "Europe/Amsterdam")
    assert db.session.query(Country).count() == 11

    partners = db.session.query(Partner).all()
    assert len(partners) >= 5
    assert {p.approval_mode.value for p in partners} == {"auto", "consult"}
    assert {p.window_days for p in partners} >= {14, 30}
    assert len({p.grace_days for p in partners}) > 1
    assert {p.destination for p in partners} == {Destination.WAREHOUSE, Destination.PARTNER}
    assert {p.defective_handling.value for p in partners} == {"destroy", "return_to_vendor"}
    assert all(p.resale_discount_bp and p.refund_deduction_bp for p in partners)

    products = db.session.query(Product).all()
    assert len(products) >= 200
    assert {p.category for p in products} == set(Category)
    currencies = {price.currency for p in products for price in p.prices}
    assert currencies == {"EUR", "GBP", "DKK", "SEK"}
    assert all(0 < pr.min_price_minor < pr.price_minor for p in products for pr in p.prices)
    assert len({p.gtin for p in products}) == len(products)

    orders = db.session.query(Order).all()
    assert len(orders) >= 500
    assert {o.country_code for o in orders} == {c.code for c in db.session.query(Country)}
    assert {o.currency for o in orders} == {"EUR", "GBP", "DKK", "SEK"}
    by_country = {c.code: c.currency for c in db.session.query(Country)}
    assert all(o.currency == by_country[o.country_code] for o in orders)
    shipments_per_order = Counter(s.order_id for s in db.session.query(Shipment))
    assert sum(1 for n in shipments_per_order.values() if n > 1) >= 50

    now = utcnow()
    delivered = [s.delivered_at for s in db.session.query(Shipment)]
    on_the_way = [d for d in delivered if d is None]
    assert 5 <= len(on_the_way) <= len(delivered) // 10
    ages = [(now - d) for d in delivered if d is not None]
    assert max(ages) <= dt.timedelta(days=61)
    assert min(ages) >= dt.timedelta(0)
    assert all(s.tracking_number for s in db.session.query(Shipment))

    electronics = (
        db.session.query(OrderLine).join(Product).filter(Product.category == Category.ELECTRONICS)
    )
    assert electronics.count() > 50
    assert all(len(line.serial_numbers) == line.quantity for line in electronics)
    kinds = Counter(db.session.scalars(sa.select(Event.kind)))
    assert kinds["order.placed"] == len(orders)

    users = {u.email: u for u in db.session.query(User)}
    assert {role for _, _, role, _ in DEMO_USERS} == set(Role)
    assert sum(1 for u in users.values() if u.role == Role.PARTNER) == 2


# The command line around the demo loader is the same on both databases (the loader itself is
# tested on both above): once, on SQLite, what `make run` uses.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_demo_commands(runner, client):
    from tests.helpers import csrf_from

    empty = runner.invoke(args=["demo-logins"])
    assert "No demo users" in empty.output
    loaded = runner.invoke(args=["demo"])
    assert loaded.exit_code == 0, loaded.output
    assert "540 orders" in loaded.output
    assert "volt@partners.example" in loaded.output

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 2
    assert "not empty" in again.output
    quiet = runner.invoke(args=["demo", "--if-empty"])
    assert quiet.exit_code == 0
    assert db.session.query(Order).count() == 540

    logins = runner.invoke(args=["demo-logins"]).output
    for email, _name, role, _partner in DEMO_USERS:
        assert email in logins
        assert role.value in logins
    assert DEMO_PASSWORD in logins
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "email": "nord@partners.example",
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 303


# The command line around the demo loader is the same on both databases (the loader itself is
# tested on both above): once, on SQLite, what `make run` uses.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_demo_can_leave_the_logins_to_make_run(runner):
    loaded = runner.invoke(args=["demo", "--if-empty", "--no-logins"])
    assert loaded.exit_code == 0, loaded.output
    assert "540 orders" in loaded.output
    assert "volt@partners.example" not in loaded.output
