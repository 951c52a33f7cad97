"""Master data over the API: partners (admin creates and changes, a partner token reads and
changes its own policy only), products (bulk upsert, a partner token its own), sites and
countries, tokens (admin lists and revokes). Refusals name the field and change nothing."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse.db import db
from warehouse.models import ApiToken, Event, Outbox, Partner, Product, Role, User


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(app):
    factories.site()
    token = factories.token(Role.ADMIN)
    db.session.commit()
    return token


NEW = {
    "code": "ACME",
    "name": "Acme Shoes",
    "contact_email": "ops@acme.example",
    "language": "nl",
    "commission_rate_bp": 1250,
    "currencies": ["EUR", "GBP"],
    "window_days": 30,
}


def test_an_admin_onboards_a_partner_and_invites_its_first_user(client, admin):
    body = {**NEW, "invite": {"email": "first@acme.example", "name": "Fien"}}
    response = client.post("/api/v1/partners", json=body, headers=auth(admin))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert (data["code"], data["commission_rate_bp"], data["currencies"]) == (
        "ACME",
        1250,
        ["EUR", "GBP"],
    )
    assert data["policy"]["window_days"] == 30
    user = db.session.query(User).filter_by(email="first@acme.example").one()
    assert (user.role, user.partner.code, user.language) == (Role.PARTNER, "ACME", "nl")
    [mail] = factories.mails("user_invite")
    assert "/account/password/" in mail.payload["context"]["link"]
    again = client.post("/api/v1/partners", json=NEW, headers=auth(admin))
    assert again.status_code == 409
    assert again.get_json()["field"] == "code"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"commission_rate_bp": 2100}, "commission_rate_bp"),
        ({"window_days": 10}, "window_days"),
        ({"destination": "partner"}, "address"),
        ({"currencies": ["JPY"]}, "currencies[0]"),
        ({"colour": "red"}, "colour"),
        ({"invite": {"email": "nope"}}, "invite.email"),
    ],
)
def test_a_bad_partner_is_refused_by_field(client, admin, changes, field):
    before = row_counts(Partner, User, Event, Outbox)
    response = client.post("/api/v1/partners", json={**NEW, **changes}, headers=auth(admin))
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert row_counts(Partner, User, Event, Outbox) == before


def test_a_partner_token_reads_and_changes_only_its_own_policy(client, admin):
    client.post("/api/v1/partners", json=NEW, headers=auth(admin))
    acme = db.session.query(Partner).filter_by(code="ACME").one()
    other = factories.partner("OTHER")
    token = factories.token(Role.PARTNER, acme)
    db.session.commit()
    assert client.get("/api/v1/partners/acme", headers=auth(token)).status_code == 200
    assert client.get("/api/v1/partners/OTHER", headers=auth(token)).status_code == 404
    assert (
        client.patch("/api/v1/partners/OTHER", json={"grace_days": 3}, headers=auth(token))
    ).status_code == 404
    changed = client.patch(
        "/api/v1/partners/ACME", json={"grace_days": 3, "window_days": 45}, headers=auth(token)
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["changed"] == {"grace_days": [0, 3], "window_days": [30, 45]}
    refused = client.patch(
        "/api/v1/partners/ACME", json={"commission_rate_bp": 500}, headers=auth(token)
    )
    assert refused.status_code == 400
    assert refused.get_json()["field"] == "commission_rate_bp"
    assert db.session.get(Partner, acme.id).commission_rate_bp == 1250
    assert other.window_days == 14
    kept = client.patch(
        "/api/v1/partners/ACME", json={"rejected_returns": "keep"}, headers=auth(token)
    )
    assert kept.get_json()["changed"] == {"rejected_returns": ["send_back", "keep"]}
    shown = client.get("/api/v1/partners/ACME", headers=auth(token)).get_json()
    assert shown["policy"]["rejected_returns"] == "keep"


def test_an_admin_deactivates_a_partner_and_its_history_says_so(client, admin):
    client.post("/api/v1/partners", json=NEW, headers=auth(admin))
    response = client.patch("/api/v1/partners/ACME", json={"active": False}, headers=auth(admin))
    assert response.get_json()["partner"]["active"] is False
    acme = db.session.query(Partner).filter_by(code="ACME").one()
    kinds = [e.kind for e in db.session.query(Event).filter_by(subject_type="partner")]
    assert kinds == ["partner.created", "partner.changed"]
    assert not acme.active


PRODUCT = {
    "partner": "ACME",
    "sku": "SH-1",
    "gtin": "4006381333931",
    "title": "Trail shoe",
    "category": "fashion",
    "prices": [{"currency": "EUR", "price_minor": 4999, "min_price_minor": 1000}],
}


def test_products_are_upserted_in_bulk_and_a_partner_token_upserts_its_own(client, admin):
    client.post("/api/v1/partners", json=NEW, headers=auth(admin))
    factories.partner("OTHER")
    db.session.commit()
    first = client.post("/api/v1/products", json=[PRODUCT], headers=auth(admin))
    assert first.get_json() == {"created": ["SH-1"], "updated": [], "unchanged": []}
    again = client.post("/api/v1/products", json=[PRODUCT], headers=auth(admin))
    assert again.get_json()["unchanged"] == ["SH-1"]
    acme = db.session.query(Partner).filter_by(code="ACME").one()
    token = factories.token(Role.PARTNER, acme)
    db.session.commit()
    theirs = client.post(
        "/api/v1/products", json=[{**PRODUCT, "partner": "OTHER"}], headers=auth(token)
    )
    assert theirs.status_code == 404
    assert theirs.get_json()["field"] == "[0].partner"
    mine = client.post(
        "/api/v1/products", json=[{**PRODUCT, "title": "Trail shoe II"}], headers=auth(token)
    )
    assert mine.get_json()["updated"] == ["SH-1"]
    listed = client.get("/api/v1/products?partner=ACME", headers=auth(token)).get_json()
    assert listed["products"][0]["title"] == "Trail shoe II"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{**PRODUCT, "gtin": "4006381333932"}], "[0].gtin"),
        (
            [{**PRODUCT, "prices": [{"currency": "DKK", "price_minor": 100}]}],
            "[0].prices[0].currency",
        ),
        (
            [{**PRODUCT, "prices": [{"currency": "EUR", "price_minor": 1, "min_price_minor": 2}]}],
            "[0].prices[0].min_price_minor",
        ),
        ([PRODUCT, PRODUCT], "[1].sku"),
        ([], "body"),
        ({"products": [PRODUCT]}, "body"),
    ],
)
def test_a_bad_batch_of_products_is_refused_whole(client, admin, body, field):
    client.post("/api/v1/partners", json=NEW, headers=auth(admin))
    before = row_counts(Product, Event)
    response = client.post("/api/v1/products", json=body, headers=auth(admin))
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field
    assert row_counts(Product, Event) == before


def test_sites_and_countries(client, admin):
    listed = client.get("/api/v1/sites", headers=auth(admin)).get_json()
    assert [site["code"] for site in listed["sites"]] == ["WAL"]
    created = client.post(
        "/api/v1/sites",
        json={
            "code": "bcn",
            "name": "Barcelona",
            "country": "ES",
            "timezone": "Europe/Madrid",
            "address": "Carrer 1\n08001 Barcelona",
        },
        headers=auth(admin),
    )
    assert created.status_code == 201
    moved = client.put(
        "/api/v1/countries/ES",
        json={"site": "BCN", "return_address": "Returnyard ES\nCalle 2\nMadrid"},
        headers=auth(admin),
    )
    assert moved.get_json()["site"] == "BCN"
    bad = client.post(
        "/api/v1/sites",
        json={"code": "X1", "name": "x", "country": "US", "address": "a"},
        headers=auth(admin),
    )
    assert bad.get_json()["field"] == "country"
    supervisor = factories.token(Role.SUPERVISOR)
    db.session.commit()
    assert client.get("/api/v1/sites", headers=auth(supervisor)).status_code == 200
    assert client.post("/api/v1/sites", json={}, headers=auth(supervisor)).status_code == 403


def test_tokens_are_listed_with_their_last_use_and_revoked_once(client, admin):
    partner = factories.partner()
    token = factories.token(Role.PARTNER, partner)
    db.session.commit()
    assert client.get("/api/v1/partners", headers=auth(token)).status_code == 200
    listed = client.get("/api/v1/tokens", headers=auth(admin)).get_json()["tokens"]
    theirs = next(row for row in listed if row["role"] == "partner")
    assert theirs["last_used_at"] is not None
    assert "token_hash" not in theirs
    assert client.delete(f"/api/v1/tokens/{theirs['id']}", headers=auth(admin)).status_code == 200
    again = client.delete(f"/api/v1/tokens/{theirs['id']}", headers=auth(admin))
    assert again.status_code == 409
    assert client.get("/api/v1/partners", headers=auth(token)).status_code == 401
    assert client.delete("/api/v1/tokens/99999999999", headers=auth(admin)).status_code == 404
    assert client.get("/api/v1/tokens", headers=auth(token)).status_code == 401
    other = factories.token(Role.SUPERVISOR)
    db.session.commit()
    assert client.get("/api/v1/tokens", headers=auth(other)).status_code == 403
    assert db.session.query(ApiToken).filter(ApiToken.revoked_at.is_not(None)).count() == 1


def test_a_partner_channel_withdraws_only_from_its_own_lines(client, admin):
    """Directive 2011/83/EU Art. 11a through a partner's channel: its lines, never another's."""
    mine, theirs = factories.partner("MINE"), factories.partner("THEIRS")
    order = factories.order(
        [(factories.product(mine), 1), (factories.product(theirs), 1)], delivered_days_ago=2
    )
    token = factories.token(Role.PARTNER, mine)
    db.session.commit()
    response = client.post(
        "/api/v1/withdrawals", json={"order_number": order.number}, headers=auth(token)
    )
    assert response.status_code == 201, response.get_json()
    [only] = response.get_json()["returns"]
    from warehouse.models import ReturnRequest

    assert db.session.query(ReturnRequest).one().partner_id == mine.id
    assert only["rma"]
    other_line = next(line for line in order.lines if line.shipment.partner_id == theirs.id)
    refused = client.post(
        "/api/v1/withdrawals",
        json={"order_number": order.number, "lines": [{"line_id": other_line.id, "quantity": 1}]},
        headers=auth(token),
    )
    assert refused.status_code == 404
