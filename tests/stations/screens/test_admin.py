"""The admin screens: only admins get in; partners, users, tokens, sites and the catalogue's
background import, each refusal shown with its message and nothing changed."""

from __future__ import annotations

import io

import pytest

from tests import factories
from tests.helpers import csrf_from, drain, login_as, relay, row_counts
from warehouse.db import db
from warehouse.models import (
    ApiToken,
    Country,
    Event,
    ImportStatus,
    Outbox,
    Partner,
    Product,
    ProductImport,
    Role,
    User,
)

ADMIN_PAGES = (
    "/admin/",
    "/admin/partners",
    "/admin/partners/new",
    "/admin/users",
    "/admin/tokens",
    "/admin/sites",
    "/admin/catalogue",
)


@pytest.fixture
def admin(app, client):
    factories.site()
    user = factories.user(Role.ADMIN)
    login_as(client, user)
    return user


def _token(client, path="/admin/partners/new"):
    return csrf_from(client.get(path).get_data(as_text=True))


PARTNER_FORM = {
    "code": "FJORD",
    "name": "Fjord Outdoor",
    "contact_email": "ops@fjord.example",
    "language": "en",
    "commission": "12,5",
    "currencies": ["EUR", "SEK"],
    "approval_mode": "consult",
    "destination": "warehouse",
    "defective_handling": "destroy",
    "out_of_window": "consult",
    "rejected_returns": "send_back",
    "window_days": "30",
    "grace_days": "2",
    "consult_escalate_days": "3",
    "refund_paid_by": "partner",
    "deduction_used": "10",
    "discount_used": "25",
}


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SUPERVISOR, Role.PARTNER])
def test_only_admins_open_the_admin_screens(app, client, role):
    partner = factories.partner() if role == Role.PARTNER else None
    login_as(client, factories.user(role, partner))
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path


def test_every_admin_screen_opens(client, admin):
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 200, path


def test_onboarding_a_partner_from_the_form(client, admin):
    data = {**PARTNER_FORM, "csrf_token": _token(client), "invite_email": "kari@fjord.example"}
    response = client.post("/admin/partners/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    partner = db.session.query(Partner).filter_by(code="FJORD").one()
    assert (partner.commission_rate_bp, partner.currencies) == (1250, ["EUR", "SEK"])
    assert partner.refund_deduction_bp == {"used": 1000}
    assert partner.resale_discount_bp == {"used": 2500}
    assert len(factories.mails("user_invite")) == 1
    page = client.get("/admin/partners/FJORD").get_data(as_text=True)
    assert "partner.created" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"commission": "21"}, "5 to 20 %"),
        ({"commission": "a lot"}, "not a percentage"),
        ({"window_days": "7"}, "legal 14 days"),
        ({"destination": "partner"}, "needs its return address"),
        ({"deduction_used": "150"}, "0 to 10000"),
        ({"invite_email": "not-an-email"}, "not an email address"),
    ],
)
def test_a_bad_partner_form_is_shown_again_and_nothing_is_stored(client, admin, changes, message):
    before = row_counts(Partner, User, Event, Outbox)
    data = {**PARTNER_FORM, **changes, "csrf_token": _token(client)}
    response = client.post("/admin/partners/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts(Partner, User, Event, Outbox) == before


def test_editing_a_partner_records_the_change(client, admin):
    client.post("/admin/partners/new", data={**PARTNER_FORM, "csrf_token": _token(client)})
    data = {**PARTNER_FORM, "window_days": "60", "active": "on", "csrf_token": _token(client)}
    data.pop("code")
    assert client.post("/admin/partners/FJORD", data=data).status_code == 303
    page = client.get("/admin/partners/FJORD").get_data(as_text=True)
    assert "window_days: 30 → 60" in page
    off = {**data, "csrf_token": _token(client)}
    off.pop("active")
    client.post("/admin/partners/FJORD", data=off)
    assert not db.session.query(Partner).filter_by(code="FJORD").one().active


def test_inviting_changing_and_deactivating_a_user(client, admin):
    token = _token(client, "/admin/users")
    bad = client.post(
        "/admin/users", data={"csrf_token": token, "email": "p@x.example", "role": "partner"}
    )
    assert bad.status_code == 400
    assert "needs its partner" in bad.get_data(as_text=True)
    done = client.post(
        "/admin/users",
        data={"csrf_token": token, "email": "op@x.example", "role": "operator", "site": "WAL"},
    )
    assert done.status_code == 303
    person = db.session.query(User).filter_by(email="op@x.example").one()
    version = person.session_version
    client.post(
        f"/admin/users/{person.id}",
        data={
            "csrf_token": token,
            "name": "Op",
            "role": "operator",
            "site": "WAL",
            "language": "de",
        },
    )
    db.session.refresh(person)
    assert (person.active, person.language, person.session_version) == (False, "de", version + 1)
    lonely = client.post(
        f"/admin/users/{admin.id}",
        data={"csrf_token": token, "name": "Me", "role": "supervisor", "active": "on"},
    )
    assert lonely.status_code == 400
    assert "last active admin" in lonely.get_data(as_text=True)
    client.post(f"/admin/users/{person.id}/reset", data={"csrf_token": token})
    assert factories.mails("password_reset") == []  # deactivated: no link
    assert client.get("/admin/users/99999999999").status_code == 404


def test_a_token_is_shown_once_and_revoked(client, admin):
    token = _token(client, "/admin/tokens")
    made = client.post(
        "/admin/tokens", data={"csrf_token": token, "label": "shop", "role": "supervisor"}
    )
    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"
    assert 'id="new-token">ry_' in made.get_data(as_text=True)
    assert 'id="new-token"' not in client.get("/admin/tokens").get_data(as_text=True)
    row = db.session.query(ApiToken).one()
    client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": token})
    twice = client.post(
        f"/admin/tokens/{row.id}/revoke", data={"csrf_token": token}, follow_redirects=True
    )
    assert "revoked already" in twice.get_data(as_text=True)
    unlabelled = client.post("/admin/tokens", data={"csrf_token": token, "role": "admin"})
    assert unlabelled.status_code == 400


def test_a_country_is_sent_to_another_site(client, admin):
    token = _token(client, "/admin/sites")
    client.post(
        "/admin/sites",
        data={
            "csrf_token": token,
            "code": "BCN",
            "name": "Barcelona",
            "timezone": "Europe/Madrid",
            "country": "ES",
            "address": "Carrer 1",
        },
    )
    client.post(
        "/admin/sites/countries/ES",
        data={"csrf_token": token, "site": "BCN", "return_address": "Punto ES\nMadrid"},
    )
    spain = db.session.get(Country, "ES")
    db.session.refresh(spain)
    assert spain.site.code == "BCN"
    refused = client.post(
        "/admin/sites",
        data={
            "csrf_token": token,
            "code": "ZZ",
            "name": "x",
            "timezone": "Mars/Base",
            "country": "NL",
            "address": "a",
        },
    )
    assert refused.status_code == 400
    assert "not a time zone" in refused.get_data(as_text=True)


def test_a_catalogue_upload_is_imported_in_the_background(app, client, admin, jobs, session_tmp):
    factories.partner("ACME")
    db.session.commit()
    app.instance_path = str(session_tmp / "instance")
    token = _token(client, "/admin/catalogue")
    csv = (
        b"sku,gtin,title,category,price_eur\n"
        b"A-1,4006381333931,Shoe,fashion,49.99\n"
        b"A-2,4006381333932,Bad,fashion,49.99\n"
    )
    response = client.post(
        "/admin/catalogue",
        data={"csrf_token": token, "partner": "ACME", "file": (io.BytesIO(csv), "shoes.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    record = db.session.query(ProductImport).one()
    assert record.status == ImportStatus.QUEUED
    queued = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in queued
    relay(app, jobs)
    drain(app, jobs)
    db.session.refresh(record)
    assert (record.status, record.created, record.refused) == (ImportStatus.DONE, 1, 1)
    done = client.get(response.headers["Location"], headers={"HX-Request": "true"})
    text = done.get_data(as_text=True)
    assert "row 3, column gtin" in text
    assert "every 1s" not in text  # finished: no more polling
    assert db.session.query(Product).count() == 1
    empty = client.post(
        "/admin/catalogue",
        data={"csrf_token": token, "file": (io.BytesIO(b""), "empty.csv")},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 400


def test_site_and_token_changes_show_on_their_pages(client, admin):
    token = _token(client, "/admin/tokens")
    client.post("/admin/tokens", data={"csrf_token": token, "label": "shop", "role": "supervisor"})
    assert "token.created" in client.get("/admin/tokens").get_data(as_text=True)
    client.post(
        "/admin/sites/countries/BE",
        data={"csrf_token": token, "site": "WAL", "return_address": "Punt BE\\nAntwerpen"},
    )
    page = client.get("/admin/sites").get_data(as_text=True)
    assert "country.return_changed" in page
