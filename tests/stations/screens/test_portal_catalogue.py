"""The partner sets its own prices and floors in the portal; another partner's products stay
out of reach, and a floor above its price changes nothing."""

from __future__ import annotations

from tests import factories
from tests.helpers import csrf_from, login_as, row_counts
from warehouse.db import db
from warehouse.models import Event, ProductPrice, Role


def test_a_partner_sets_its_prices_and_floors(app, client):
    mine = factories.partner("MINE", currencies=["EUR", "SEK"])
    theirs = factories.partner("THEIRS")
    shoe = factories.product(mine, sku="SH-1", prices={"EUR": 4999})
    other = factories.product(theirs, sku="TH-1")
    login_as(client, factories.user(Role.PARTNER, mine))
    page = client.get("/portal/catalogue").get_data(as_text=True)
    assert 'data-sku="SH-1"' in page
    assert "TH-1" not in page
    token = csrf_from(page)
    saved = client.post(
        f"/portal/catalogue/{shoe.id}",
        data={"csrf_token": token, "price_EUR": "44.99", "floor_EUR": "20", "price_SEK": "499"},
    )
    assert saved.status_code == 303
    prices = {p.currency: (p.price_minor, p.min_price_minor) for p in shoe.prices}
    db.session.expire_all()
    prices = {
        p.currency: (p.price_minor, p.min_price_minor)
        for p in db.session.query(ProductPrice).filter_by(product_id=shoe.id)
    }
    assert prices == {"EUR": (4499, 2000), "SEK": (49900, 0)}
    before = row_counts(ProductPrice, Event)
    refused = client.post(
        f"/portal/catalogue/{shoe.id}",
        data={"csrf_token": token, "price_EUR": "10", "floor_EUR": "20"},
        follow_redirects=True,
    )
    assert "above the price" in refused.get_data(as_text=True)
    assert row_counts(ProductPrice, Event) == before
    assert (
        client.post(
            f"/portal/catalogue/{other.id}", data={"csrf_token": token, "price_EUR": "1"}
        ).status_code
        == 404
    )
    assert (
        client.post("/portal/catalogue/99999999999", data={"csrf_token": token}).status_code == 404
    )
