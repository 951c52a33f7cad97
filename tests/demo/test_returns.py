"""The returns stage of the demo: parcels ready to receive, and received ones with units."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from demo import returns as demo_returns
from tests import factories
from warehouse import codes, receiving
from warehouse.db import db
from warehouse.models import (
    Category,
    Destination,
    Event,
    Outbox,
    ReturnRequest,
    ReturnStatus,
    Role,
    Unit,
)


def _factory_world():
    """A small stand-in for the base stage: the site, two partners, delivered orders, users."""
    site = factories.site("WAL")
    factories.user(Role.OPERATOR, email=demo_returns.OPERATOR_EMAIL)
    partners = [
        factories.partner(),
        factories.partner(destination=Destination.PARTNER, address="Atelier\nParis"),
    ]
    products = [
        factories.product(partners[0], gtin=f"40063813339{n}{codes_digit(n)}") for n in range(3)
    ] + [factories.product(partners[0], category=Category.ELECTRONICS, gtin="96385074")]
    products.append(factories.product(partners[1], gtin="5901234123457"))
    for n in range(80):
        lines = [(products[n % 4], 1 + n % 2)]
        if n % 5 == 0:
            lines.append((products[4], 1))
        order = factories.order(lines, delivered_days_ago=2 + n % 10)
        if n % 4 == 3:
            order.lines[0].serial_numbers = [
                f"IMEI{n:04d}{k}" for k in range(order.lines[0].quantity)
            ]
    db.session.flush()
    return site


def codes_digit(n: int) -> str:
    body = f"40063813339{n}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return str((10 - total % 10) % 10)


def test_demo_returns_on_factory_data(app):
    site = _factory_world()
    today = dt.datetime.now(dt.UTC).date()
    demo_returns.load(db.session, random.Random(7), today)
    db.session.commit()

    returns = db.session.query(ReturnRequest).all()
    announced = [r for r in returns if r.status == ReturnStatus.ANNOUNCED]
    received = [r for r in returns if r.status == ReturnStatus.RECEIVED]
    assert len(announced) >= demo_returns.ANNOUNCED
    assert len(received) >= demo_returns.RECEIVED - 3  # a partner-direct one stays announced
    assert all(codes.rma_status(r.rma) for r in returns)
    assert all(r.site_id == site.id for r in returns)
    for rma in received:
        assert rma.received_on <= today
        assert rma.refund_due_on >= rma.announced_on + dt.timedelta(days=14)
        assert rma.receipt_closed_at is not None
        assert receiving.verdict_of(rma).verdict is not None
    units = db.session.query(Unit).all()
    assert len(units) >= demo_returns.RECEIVED
    assert len({u.lpn for u in units}) == len(units)
    assert all(codes.lpn_status(u.lpn) for u in units)
    assert db.session.query(Event).filter_by(kind="unit.received").count() == len(units)
    templates = {o.payload["template"] for o in db.session.query(Outbox)}
    assert templates == {"return_announced", "return_received"}
    # Parcels ready to receive include ones for the warehouse (not only partner-direct ones).
    assert any(r.partner.destination == Destination.WAREHOUSE for r in announced)


# The command line around the demo loader is the same on both databases (the loader itself is
# tested on both above): once, on SQLite, what `make run` uses.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_demo_logins_name_parcels_to_receive(runner):
    loaded = runner.invoke(args=["demo"])
    assert loaded.exit_code == 0, loaded.output
    assert "Parcels waiting at /receive/" in loaded.output
    shown = runner.invoke(args=["demo-logins"]).output.split("/receive/")[1].split()
    rmas = [code for code in shown if code.startswith("RMA-")]
    assert len(rmas) == 5
    for rma in rmas:
        row = db.session.query(ReturnRequest).filter_by(rma=rma).one()
        assert row.status == ReturnStatus.ANNOUNCED
