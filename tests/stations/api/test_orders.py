"""The order flow API: orders in with the per-partner split, tracking, partners, products."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse.db import db, utcnow
from warehouse.models import Category, Event, Order, OrderLine, Role, Shipment

WRITTEN = (Order, OrderLine, Shipment, Event)


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def shop(app):
    """Three partners with products, an admin token and a token per partner."""
    factories.site()
    acme = factories.partner("ACME")
    bolt = factories.partner("BOLT")
    cask = factories.partner("CASK")
    products = {
        "phone": factories.product(
            acme,
            sku="PH-1",
            gtin="8712345678906",
            category=Category.ELECTRONICS,
            prices={"EUR": 19999, "GBP": 17999, "DKK": 149500, "SEK": 229900},
        ),
        "shirt": factories.product(bolt, sku="SH-1", prices={"EUR": 2995, "GBP": 2599}),
        "towel": factories.product(
            cask, sku="TW-1", prices={"EUR": 1250, "DKK": 9300, "SEK": 13900}
        ),
        "euro_only": factories.product(cask, sku="EU-1", prices={"EUR": 500}),
    }
    tokens = {
        "admin": factories.token(Role.ADMIN),
        "operator": factories.token(Role.OPERATOR),
        "ACME": factories.token(Role.PARTNER, acme),
        "BOLT": factories.token(Role.PARTNER, bolt),
        "CASK": factories.token(Role.PARTNER, cask),
    }
    db.session.commit()
    return {"partners": (acme, bolt, cask), "products": products, "tokens": tokens}


def three_partner_order(number: str = "MP-1001") -> dict:
    return {
        "number": number,
        "channel": "webshop",
        "customer": {
            "name": "Anna de Vries",
            "email": "Anna@Example.org",
            "postcode": "1011 ab",
            "address": "Damrak 1, Amsterdam",
        },
        "country": "NL",
        "currency": "EUR",
        "lines": [
            {
                "partner": "ACME",
                "sku": "PH-1",
                "quantity": 2,
                "serial_numbers": ["IMEI-1", "IMEI-2"],
            },
            {"partner": "BOLT", "sku": "SH-1", "quantity": 3, "unit_price_minor": 2499},
            {"gtin": "8712345678906", "quantity": 1, "unit_price_minor": 18999},
            {"partner": "CASK", "sku": "TW-1", "quantity": 4},
        ],
    }


def test_an_order_of_three_partners_is_split_into_three_shipments(client, shop):
    before = row_counts(*WRITTEN)
    response = client.post(
        "/api/v1/orders", json=three_partner_order(), headers=auth(shop["tokens"]["admin"])
    )
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"] == "/api/v1/orders/MP-1001"
    body = response.get_json()
    assert body["currency"] == "EUR"
    assert body["language"] == "nl"  # the country's, as none was given
    assert body["customer"]["email"] == "anna@example.org"
    assert [s["partner"] for s in body["shipments"]] == ["ACME", "BOLT", "CASK"]
    acme, bolt, cask = body["shipments"]
    # ACME: 2 at 199.99 (list price) + 1 at 189.99 (given price).
    assert [(li["sku"], li["quantity"], li["unit_price_minor"]) for li in acme["lines"]] == [
        ("PH-1", 2, 19999),
        ("PH-1", 1, 18999),
    ]
    assert acme["lines"][0]["serial_numbers"] == ["IMEI-1", "IMEI-2"]
    assert acme["total_minor"] == 2 * 19999 + 18999 == 58997
    assert bolt["total_minor"] == 3 * 2499 == 7497
    assert cask["total_minor"] == 4 * 1250 == 5000
    assert body["total_minor"] == 58997 + 7497 + 5000 == 71494
    assert all(
        s["tracking_number"] is None and s["delivered_at"] is None for s in body["shipments"]
    )

    after = row_counts(*WRITTEN)
    assert after["order"] - before["order"] == 1
    assert after["shipment"] - before["shipment"] == 3
    assert after["order_line"] - before["order_line"] == 4
    kinds = sorted(e.kind for e in db.session.query(Event))
    assert kinds == ["order.placed"] + ["shipment.created"] * 3
    order = db.session.query(Order).one()
    assert order.total_minor == 71494
    assert {s.partner.code: s.total_minor for s in order.shipments} == {
        "ACME": 58997,
        "BOLT": 7497,
        "CASK": 5000,
    }


def _without(data: dict, path: str) -> dict:
    changed = copy.deepcopy(data)
    *parents, last = path.split(".")
    target = changed
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    del target[last]
    return changed


def _with(**changes):
    def change(data: dict) -> dict:
        changed = copy.deepcopy(data)
        for path, value in changes.items():
            target = changed
            parts = path.split("__")
            for part in parts[:-1]:
                target = target[int(part)] if part.isdigit() else target[part]
            last = parts[-1]
            target[int(last) if last.isdigit() else last] = value
        return changed

    return change


BAD_ORDERS = [
    ("unknown partner", _with(lines__1__partner="NOPE"), "lines[1].partner"),
    ("unknown sku", _with(lines__1__sku="SH-404"), "lines[1].sku"),
    ("unknown gtin", _with(lines__2__gtin="4006381333931"), "lines[2].gtin"),
    ("malformed gtin", _with(lines__2__gtin="12ab"), "lines[2].gtin"),
    ("sku without partner", lambda d: _without(d, "lines.0.partner"), "lines[0].partner"),
    ("line names no product", _with(lines__3={"quantity": 1}), "lines[3].sku"),
    ("unserved country", _with(country="US"), "country"),
    ("unserved country: Norway", _with(country="NO", currency="EUR"), "country"),
    (
        "Canary Islands",
        _with(country="ES", customer__postcode="35001"),
        "customer.postcode",
    ),
    (
        "Canary Islands, Tenerife",
        _with(country="ES", customer__postcode="38 003"),
        "customer.postcode",
    ),
    ("currency not the country's", _with(currency="GBP"), "currency"),
    ("currency of another country", _with(country="DK", currency="EUR"), "currency"),
    ("quantity zero", _with(lines__0__quantity=0), "lines[0].quantity"),
    ("negative quantity", _with(lines__2__quantity=-1), "lines[2].quantity"),
    ("fractional quantity", _with(lines__1__quantity=1.5), "lines[1].quantity"),
    ("quantity as text", _with(lines__1__quantity="2"), "lines[1].quantity"),
    ("quantity as boolean", _with(lines__1__quantity=True), "lines[1].quantity"),
    ("missing quantity", lambda d: _without(d, "lines.3.quantity"), "lines[3].quantity"),
    ("negative price", _with(lines__1__unit_price_minor=-1), "lines[1].unit_price_minor"),
    ("price as decimal", _with(lines__1__unit_price_minor=24.99), "lines[1].unit_price_minor"),
    ("price as text", _with(lines__1__unit_price_minor="24.99"), "lines[1].unit_price_minor"),
    ("missing number", lambda d: _without(d, "number"), "number"),
    ("malformed number", _with(number="MP 1001; DROP"), "number"),
    ("number too long", _with(number="M" * 41), "number"),
    ("missing customer", lambda d: _without(d, "customer"), "customer"),
    ("malformed email", _with(customer__email="anna.example.org"), "customer.email"),
    ("missing name", _with(customer__name="  "), "customer.name"),
    ("name not text", _with(customer__name=42), "customer.name"),
    ("unknown field", _with(colour="red"), "colour"),
    ("unknown line field", _with(lines__0__colour="red"), "lines[0].colour"),
    ("no lines", _with(lines=[]), "lines"),
    ("lines not a list", _with(lines={"sku": "PH-1"}), "lines"),
    ("line not an object", _with(lines__2="PH-1"), "lines[2]"),
    (
        "too many serials",
        _with(lines__0__serial_numbers=["a", "b", "c"]),
        "lines[0].serial_numbers",
    ),
    ("repeated serial", _with(lines__0__serial_numbers=["a", "a"]), "lines[0].serial_numbers"),
    ("serials not a list", _with(lines__0__serial_numbers="a,b"), "lines[0].serial_numbers"),
    ("withdrawal flag as text", _with(withdrawal_informed="yes"), "withdrawal_informed"),
    ("unserved language", _with(language="pt"), "language"),
    ("placed in the future", _with(placed_at="2999-01-01T00:00:00+00:00"), "placed_at"),
    ("placed_at without zone", _with(placed_at="2026-01-01T10:00:00"), "placed_at"),
    ("placed_at not a date", _with(placed_at="yesterday"), "placed_at"),
]


@pytest.mark.parametrize(
    ("change", "field"), [c[1:] for c in BAD_ORDERS], ids=[c[0] for c in BAD_ORDERS]
)
def test_bad_orders_are_refused_naming_the_field_and_write_nothing(client, shop, change, field):
    before = row_counts(*WRITTEN)
    response = client.post(
        "/api/v1/orders", json=change(three_partner_order()), headers=auth(shop["tokens"]["admin"])
    )
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid_input"
    assert body["field"] == field
    assert body["message"]
    assert row_counts(*WRITTEN) == before


def test_a_product_not_priced_in_the_order_currency_is_refused(client, shop):
    order = three_partner_order()
    order.update(
        country="GB", currency="GBP", customer={**order["customer"], "postcode": "SW1A 1AA"}
    )
    before = row_counts(*WRITTEN)
    response = client.post("/api/v1/orders", json=order, headers=auth(shop["tokens"]["admin"]))
    assert response.status_code == 400
    # TW-1 (CASK) has no GBP price.
    assert response.get_json()["field"] == "lines[3].sku"
    assert "GBP" in response.get_json()["message"]
    assert row_counts(*WRITTEN) == before


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"[" * 20_000 + b"]" * 20_000, "application/json"),
        (b'{"number": "\xff\xfe"}', "application/json"),
    ],
    ids=["malformed", "empty", "array", "20000 deep", "not UTF-8"],
)
def test_a_body_that_is_not_a_json_object_is_refused(client, shop, data, content_type):
    before = row_counts(*WRITTEN)
    response = client.post(
        "/api/v1/orders",
        data=data,
        content_type=content_type,
        headers=auth(shop["tokens"]["admin"]),
    )
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"
    assert row_counts(*WRITTEN) == before


def test_reposting_the_same_order_is_idempotent(client, shop):
    headers = auth(shop["tokens"]["admin"])
    first = client.post("/api/v1/orders", json=three_partner_order(), headers=headers)
    assert first.status_code == 201
    before = row_counts(*WRITTEN)
    again = client.post("/api/v1/orders", json=three_partner_order(), headers=headers)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert row_counts(*WRITTEN) == before


def test_the_same_number_with_other_content_is_a_conflict(client, shop):
    headers = auth(shop["tokens"]["admin"])
    assert (
        client.post("/api/v1/orders", json=three_partner_order(), headers=headers).status_code
        == 201
    )
    before = row_counts(*WRITTEN)
    other = three_partner_order()
    other["lines"][3]["quantity"] = 5
    response = client.post("/api/v1/orders", json=other, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["field"] == "number"
    assert response.get_json()["error"] == "conflict"
    assert row_counts(*WRITTEN) == before


def test_tokens_are_required_and_roles_checked(client, shop):
    order = three_partner_order()
    assert client.post("/api/v1/orders", json=order).status_code == 401
    assert (
        client.post("/api/v1/orders", json=order, headers=auth("ry_not-a-token")).status_code == 401
    )
    response = client.post("/api/v1/orders", json=order, headers=auth(shop["tokens"]["operator"]))
    assert response.status_code == 403
    assert db.session.query(Order).count() == 0


def test_a_partner_token_orders_only_its_own_products(client, shop):
    before = row_counts(*WRITTEN)
    response = client.post(
        "/api/v1/orders", json=three_partner_order(), headers=auth(shop["tokens"]["ACME"])
    )
    assert response.status_code == 400
    assert response.get_json()["field"] == "lines[1].partner"
    assert row_counts(*WRITTEN) == before

    own = three_partner_order("ACME-77")
    own["lines"] = [own["lines"][0], own["lines"][2]]
    response = client.post("/api/v1/orders", json=own, headers=auth(shop["tokens"]["ACME"]))
    assert response.status_code == 201
    assert [s["partner"] for s in response.get_json()["shipments"]] == ["ACME"]


def test_get_order_shows_a_partner_only_its_own_shipments(client, shop):
    tokens = shop["tokens"]
    client.post("/api/v1/orders", json=three_partner_order(), headers=auth(tokens["admin"]))
    other = three_partner_order("MP-2002")
    other["lines"] = [other["lines"][0]]
    client.post("/api/v1/orders", json=other, headers=auth(tokens["admin"]))

    full = client.get("/api/v1/orders/MP-1001", headers=auth(tokens["admin"])).get_json()
    assert [s["partner"] for s in full["shipments"]] == ["ACME", "BOLT", "CASK"]

    bolt = client.get("/api/v1/orders/MP-1001", headers=auth(tokens["BOLT"])).get_json()
    assert [s["partner"] for s in bolt["shipments"]] == ["BOLT"]
    assert bolt["total_minor"] == 7497

    # BOLT has nothing in MP-2002: it looks exactly like an order that does not exist.
    hidden = client.get("/api/v1/orders/MP-2002", headers=auth(tokens["BOLT"]))
    missing = client.get("/api/v1/orders/MP-9999", headers=auth(tokens["BOLT"]))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["field"] == "number"


def test_get_order_runs_a_fixed_number_of_queries(client, shop, count_queries):
    client.post("/api/v1/orders", json=three_partner_order(), headers=auth(shop["tokens"]["admin"]))
    with count_queries() as statements:
        assert (
            client.get("/api/v1/orders/MP-1001", headers=auth(shop["tokens"]["admin"])).status_code
            == 200
        )
    # token, order, shipments, their partners, lines, products, product partners
    assert len(statements) <= 8, statements


def _placed(client, shop) -> dict:
    """Place the three-partner order, four days ago; its shipment ids by partner code."""
    order = three_partner_order()
    order["placed_at"] = (utcnow() - dt.timedelta(days=4)).isoformat()
    response = client.post("/api/v1/orders", json=order, headers=auth(shop["tokens"]["admin"]))
    return {s["partner"]: s["id"] for s in response.get_json()["shipments"]}


def test_tracking_and_delivery_are_recorded_with_events(client, shop):
    shipments = _placed(client, shop)
    delivered = (utcnow() - dt.timedelta(hours=3)).astimezone(dt.timezone(dt.timedelta(hours=1)))
    response = client.post(
        f"/api/v1/shipments/{shipments['ACME']}/tracking",
        json={
            "tracking_number": "3sabc123456",
            "carrier": "PostNL",
            "delivered_at": delivered.isoformat(),
        },
        headers=auth(shop["tokens"]["ACME"]),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["tracking_number"] == "3SABC123456"
    assert body["carrier"] == "PostNL"
    stored = db.session.get(Shipment, shipments["ACME"])
    assert stored.delivered_at == delivered.astimezone(dt.UTC)
    assert body["delivered_at"] == delivered.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    events = db.session.query(Event).filter_by(subject_type="shipment", subject_id=stored.id)
    assert sorted(e.kind for e in events) == [
        "shipment.created",
        "shipment.delivered",
        "shipment.tracking_set",
    ]

    # The same values again change nothing and record nothing.
    before = row_counts(Event)
    again = client.post(
        f"/api/v1/shipments/{shipments['ACME']}/tracking",
        json={"tracking_number": "3SABC123456", "delivered_at": delivered.isoformat()},
        headers=auth(shop["tokens"]["ACME"]),
    )
    assert again.status_code == 200
    assert row_counts(Event) == before


BAD_TRACKING = [
    ("nothing to set", {}, "tracking_number", 400),
    ("tracking number not text", {"tracking_number": 123}, "tracking_number", 400),
    ("malformed tracking number", {"tracking_number": "<script>"}, "tracking_number", 400),
    ("delivered in the future", {"delivered_at": "2999-01-01T00:00:00Z"}, "delivered_at", 400),
    ("delivered_at without zone", {"delivered_at": "2026-11-01T10:00:00"}, "delivered_at", 400),
    ("delivered_at not a date", {"delivered_at": "last tuesday"}, "delivered_at", 400),
    (
        "delivered before ordered",
        {"delivered_at": "2020-01-01T10:00:00+01:00"},
        "delivered_at",
        400,
    ),
    ("unknown field", {"tracking": "X"}, "tracking", 400),
]


@pytest.mark.parametrize(
    ("body", "field", "status"), [c[1:] for c in BAD_TRACKING], ids=[c[0] for c in BAD_TRACKING]
)
def test_bad_tracking_is_refused_and_changes_nothing(client, shop, body, field, status):
    shipments = _placed(client, shop)
    before = row_counts(*WRITTEN)
    response = client.post(
        f"/api/v1/shipments/{shipments['BOLT']}/tracking",
        json=body,
        headers=auth(shop["tokens"]["admin"]),
    )
    assert response.status_code == status, response.get_json()
    assert response.get_json()["field"] == field
    assert row_counts(*WRITTEN) == before
    db.session.expire_all()
    stored = db.session.get(Shipment, shipments["BOLT"])
    assert stored.tracking_number is None
    assert stored.delivered_at is None


def test_a_tracking_number_of_another_shipment_is_a_conflict(client, shop):
    shipments = _placed(client, shop)
    headers = auth(shop["tokens"]["admin"])
    client.post(
        f"/api/v1/shipments/{shipments['ACME']}/tracking",
        json={"tracking_number": "3S0001"},
        headers=headers,
    )
    before = row_counts(*WRITTEN)
    response = client.post(
        f"/api/v1/shipments/{shipments['BOLT']}/tracking",
        json={"tracking_number": "3S0001"},
        headers=headers,
    )
    assert response.status_code == 409
    assert response.get_json()["field"] == "tracking_number"
    assert row_counts(*WRITTEN) == before


def test_another_partners_shipment_is_not_found(client, shop):
    shipments = _placed(client, shop)
    before = row_counts(*WRITTEN)
    response = client.post(
        f"/api/v1/shipments/{shipments['ACME']}/tracking",
        json={"tracking_number": "3S999"},
        headers=auth(shop["tokens"]["BOLT"]),
    )
    missing = client.post(
        "/api/v1/shipments/999999/tracking",
        json={"tracking_number": "3S999"},
        headers=auth(shop["tokens"]["BOLT"]),
    )
    assert response.status_code == missing.status_code == 404
    assert response.get_json()["message"] == f"no shipment {shipments['ACME']}"
    assert row_counts(*WRITTEN) == before
    db.session.expire_all()
    assert db.session.get(Shipment, shipments["ACME"]).tracking_number is None


def test_partners_a_partner_token_sees_only_itself(client, shop):
    everyone = client.get("/api/v1/partners", headers=auth(shop["tokens"]["admin"])).get_json()
    assert [p["code"] for p in everyone["partners"]] == ["ACME", "BOLT", "CASK"]
    assert everyone["partners"][0]["policy"]["window_days"] == 14
    own = client.get("/api/v1/partners", headers=auth(shop["tokens"]["BOLT"])).get_json()
    assert [p["code"] for p in own["partners"]] == ["BOLT"]
    assert (
        client.get("/api/v1/partners", headers=auth(shop["tokens"]["operator"])).status_code == 403
    )


def test_products_by_partner_with_prices_and_floors(client, shop):
    tokens = shop["tokens"]
    body = client.get("/api/v1/products?partner=CASK", headers=auth(tokens["admin"])).get_json()
    assert [p["sku"] for p in body["products"]] == ["EU-1", "TW-1"]
    towel = body["products"][1]
    assert towel["prices"] == [
        {"currency": "DKK", "price_minor": 9300, "min_price_minor": 1860},
        {"currency": "EUR", "price_minor": 1250, "min_price_minor": 250},
        {"currency": "SEK", "price_minor": 13900, "min_price_minor": 2780},
    ]
    assert body["next_offset"] is None

    page = client.get("/api/v1/products?limit=2", headers=auth(tokens["admin"])).get_json()
    assert len(page["products"]) == 2
    assert page["next_offset"] == 2
    rest = client.get("/api/v1/products?limit=2&offset=2", headers=auth(tokens["admin"])).get_json()
    assert len(rest["products"]) == 2
    assert rest["next_offset"] is None

    own = client.get("/api/v1/products", headers=auth(tokens["ACME"])).get_json()
    assert [p["sku"] for p in own["products"]] == ["PH-1"]
    other = client.get("/api/v1/products?partner=CASK", headers=auth(tokens["ACME"]))
    unknown = client.get("/api/v1/products?partner=NOPE", headers=auth(tokens["ACME"]))
    assert other.status_code == unknown.status_code == 404
    assert other.get_json() == unknown.get_json() | {"message": "no partner 'CASK'"}
    bad = client.get("/api/v1/products?limit=lots", headers=auth(tokens["admin"]))
    assert bad.status_code == 400
    assert bad.get_json()["field"] == "limit"


@pytest.mark.commits  # the rival request commits on its own connection
@pytest.mark.parametrize(("twin_quantity", "status"), [(4, 200), (9, 409)])
def test_an_order_placed_by_another_request_meanwhile_is_answered_as_a_repost(
    client, shop, twin_quantity, status
):
    """Two requests with one number: the loser's insert hits the unique number, and it
    answers like a re-post (200 if the content is the same, 409 if not)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from warehouse.events import SYSTEM
    from warehouse.orders import place_order

    twin = three_partner_order()
    twin["lines"][3]["quantity"] = twin_quantity
    raced = []

    def other_request_commits_first(session, _context, _instances):
        if raced or not any(isinstance(row, Order) for row in session.new):
            return
        raced.append(True)
        with Session(db.engine) as other:
            place_order(other, twin, SYSTEM)
            other.commit()

    sa.event.listen(db.session(), "before_flush", other_request_commits_first)
    try:
        response = client.post(
            "/api/v1/orders", json=three_partner_order(), headers=auth(shop["tokens"]["admin"])
        )
    finally:
        sa.event.remove(db.session(), "before_flush", other_request_commits_first)
    assert raced
    assert response.status_code == status, response.get_json()
    assert db.session.query(Order).count() == 1
    assert db.session.query(Shipment).count() == 3


def test_placing_an_order_reads_the_same_few_rows_whatever_its_size(client, shop, count_queries):
    small = three_partner_order("MP-S")
    large = three_partner_order("MP-L")
    large["lines"] = [
        {k: v for k, v in line.items() if k != "serial_numbers"} for line in large["lines"] * 10
    ]
    reads = []
    for order in (small, large):
        with count_queries() as statements:
            response = client.post(
                "/api/v1/orders", json=order, headers=auth(shop["tokens"]["admin"])
            )
        assert response.status_code == 201
        reads.append(sum(1 for s in statements if s.lstrip().upper().startswith("SELECT")))
    # token, country, partners, products + prices, existing number; then the answer's 6 loads
    assert reads[0] == reads[1] <= 12, reads
