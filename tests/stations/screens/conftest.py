"""Fixtures the screen tests share: the test parcel at the receiving station."""

from __future__ import annotations

import pytest

from tests import factories
from tests.stations.screens.receiving import RMA, Station
from warehouse.db import db
from warehouse.models import Category, Reason, Role


@pytest.fixture
def parcel(app):
    partner = factories.partner(name="Fjell Outdoor")
    shoe = factories.product(partner, title="Trail shoe", gtin="4006381333931")
    phone = factories.product(
        partner, title="Phone X", gtin="96385074", category=Category.ELECTRONICS
    )
    order = factories.order([(shoe, 2), (phone, 1)], customer_email="kim@example.org")
    order.lines[1].serial_numbers = ["IMEI-111", "IMEI-222"]
    rma = factories.return_request(
        order,
        [(order.lines[0], 2, Reason.WRONG_SIZE), (order.lines[1], 1, Reason.DEFECTIVE)],
        rma=RMA,
    )
    operator = factories.user(Role.OPERATOR)
    db.session.commit()
    return {"rma": rma, "order": order, "operator": operator, "shoe": shoe, "phone": phone}


@pytest.fixture
def station(client, parcel):
    """The parcel's operator logged in at the receiving station."""
    return Station(client, parcel["operator"])
