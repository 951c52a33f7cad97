"""A whole working warehouse from an empty database through the command line and the API only
(no demo loader, no factories): a site with its countries, two partners, a product CSV, users, a
token; then an order, a return, a receipt and a grade succeed on it."""

from __future__ import annotations

import datetime as dt

from tests.factories import PASSWORD  # the password login_as types
from tests.helpers import csrf_from, login_as
from tests.stations.screens.receiving import Station
from warehouse.db import db
from warehouse.models import (
    Case,
    Product,
    ReturnRequest,
    ReturnStatus,
    Role,
    Unit,
    UnitStatus,
    User,
)

CATALOGUE = (
    "partner,sku,gtin,title,category,price_eur,min_price_eur,price_gbp\n"
    "ACME,SH-1,4006381333931,Trail shoe,fashion,49.99,10.00,42.99\n"
    "BOLT,PH-1,8712345678906,Phone,electronics,299.00,60,\n"
)


def _cli(runner, *args):
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_warehouse_is_built_from_nothing_and_a_return_goes_through(app, runner, client, tmp_path):
    _cli(
        runner,
        "create-site",
        "WAL",
        "Waalwijk returns",
        "--country",
        "NL",
        "--address",
        "Havenweg 12",
    )
    _cli(runner, "create-partner", "ACME", "Acme Shoes", "--email", "ops@acme.example")
    _cli(
        runner,
        "create-partner",
        "BOLT",
        "Bolt Phones",
        "--email",
        "ops@bolt.example",
        "--commission",
        "8",
        "--invite",
        "owner@bolt.example",
    )
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    assert "2 created" in _cli(runner, "import-products", str(catalogue))
    _cli(
        runner, "create-user", "op@wal.example", "operator", "--site", "WAL", "--password", PASSWORD
    )
    token = _cli(runner, "create-token", "admin", "--label", "marketplace").strip()
    assert db.session.query(Product).count() == 2
    assert db.session.query(User).filter_by(email="owner@bolt.example").one().role == Role.PARTNER

    headers = {"Authorization": f"Bearer {token}"}
    order = client.post(
        "/api/v1/orders",
        headers=headers,
        json={
            "number": "MP-1001",
            "placed_at": (dt.datetime.now(dt.UTC) - dt.timedelta(days=5)).isoformat(),
            "country": "NL",
            "currency": "EUR",
            "customer": {"name": "Anna", "email": "anna@example.org", "postcode": "1011 AB"},
            "lines": [{"partner": "ACME", "sku": "SH-1", "quantity": 1}],
        },
    )
    assert order.status_code == 201, order.get_json()
    shipment = order.get_json()["shipments"][0]["id"]
    delivered = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat()
    tracked = client.post(
        f"/api/v1/shipments/{shipment}/tracking", headers=headers, json={"delivered_at": delivered}
    )
    assert tracked.status_code == 200, tracked.get_json()
    announced = client.post(
        "/api/v1/returns",
        headers=headers,
        json={
            "order_number": "MP-1001",
            "lines": [{"sku": "SH-1", "quantity": 1, "reason": "wrong_size"}],
        },
    )
    assert announced.status_code == 201, announced.get_json()
    rma = announced.get_json()["rma"]

    operator = db.session.query(User).filter_by(email="op@wal.example").one()
    station = Station(client, operator)
    assert station.scan(rma).status_code == 200
    assert station.scan("4006381333931").status_code == 200
    unit = db.session.query(Unit).one()
    assert unit.status == UnitStatus.RECEIVED
    assert db.session.query(ReturnRequest).one().status == ReturnStatus.RECEIVED

    login_as(client, operator)
    token_field = csrf_from(client.get("/grade").get_data(as_text=True))
    graded = client.post(
        f"/grade/{unit.id}",
        data={
            "csrf_token": token_field,
            "grade": "new",
            "check": ["accessories_complete", "cleaned", "repackaged"],
        },
    )
    assert graded.status_code == 303, graded.get_data(as_text=True)[:500]
    db.session.expire_all()
    unit = db.session.get(Unit, unit.id)
    assert unit.status == UnitStatus.GRADED
    assert unit.refund_minor == 4999  # a new item back in time: the full price
    assert db.session.query(Case).count() == 0  # ACME approves full refunds automatically
