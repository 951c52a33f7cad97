"""Master data in the domain: partners within the agreement and the law, the catalogue's
upsert and CSV import, sites and country return addresses, users and their set-password links.
Every refusal names the field and changes nothing."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import accounts, catalogue, partners, sites
from warehouse.db import db
from warehouse.errors import Conflict, DomainError, InvalidInput, NotFound
from warehouse.events import Actor, history
from warehouse.models import Country, Event, Partner, Product, ProductPrice, Role, User

ADMIN = Actor(label="admin@returnyard.test")
GOOD = {"code": "acme", "name": "Acme", "contact_email": "Ops@Acme.example"}


def test_a_partner_is_created_with_safe_defaults_and_an_event(app):
    partner = partners.create_partner(db.session, ADMIN, GOOD)
    db.session.commit()
    assert (partner.code, partner.contact_email) == ("ACME", "ops@acme.example")
    assert partner.window_days == 14
    assert partner.commission_rate_bp == 1000
    assert partner.currencies == ["EUR", "GBP", "DKK", "SEK"]
    [event] = history(db.session, partner)
    assert event.kind == "partner.created"
    assert event.data["fields"]["code"] == "ACME"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"commission_rate_bp": 2500}, "commission_rate_bp", "5 to 20 %"),
        ({"commission_rate_bp": 400}, "commission_rate_bp", "5 to 20 %"),
        ({"window_days": 13}, "window_days", "legal 14 days"),
        ({"grace_days": -1}, "grace_days", "0 to 60"),
        ({"destination": "partner"}, "address", "needs its return address"),
        ({"currencies": ["USD"]}, "currencies[0]", "input should be 'EUR'"),
        ({"currencies": []}, "currencies", "at least 1"),
        ({"refund_deduction_bp": {"used": 12000}}, "refund_deduction_bp", "0 to 10000"),
        ({"refund_deduction_bp": {"shiny": 100}}, "refund_deduction_bp", "not one of"),
        ({"contact_email": "nobody"}, "contact_email", "pattern"),
        ({"code": "A"}, "code", "pattern"),
        ({"language": "xx"}, "language", "input should be"),
    ],
)
def test_a_bad_partner_is_refused_by_field_and_nothing_is_stored(app, changes, field, message):
    before = row_counts(Partner, Event)
    with pytest.raises(InvalidInput, match=message) as caught:
        partners.create_partner(db.session, ADMIN, {**GOOD, **changes})
    assert caught.value.field == field
    db.session.rollback()
    assert row_counts(Partner, Event) == before


def test_a_code_is_taken_once(app):
    partners.create_partner(db.session, ADMIN, GOOD)
    with pytest.raises(Conflict, match="exists already"):
        partners.create_partner(db.session, ADMIN, {**GOOD, "name": "Other"})


def test_a_change_is_checked_whole_and_recorded_with_before_and_after(app):
    partner = partners.create_partner(db.session, ADMIN, GOOD)
    changed = partners.update_partner(
        db.session, ADMIN, partner, {"window_days": 30, "approval_mode": "consult"}
    )
    assert changed == {"window_days": (14, 30), "approval_mode": ("auto", "consult")}
    with pytest.raises(InvalidInput, match="legal 14 days"):
        partners.update_partner(db.session, ADMIN, partner, {"window_days": 7})
    assert partner.window_days == 30  # the refused change left the partner as it was
    with pytest.raises(InvalidInput, match="never changes"):
        partners.update_partner(db.session, ADMIN, partner, {"code": "OTHER"})
    with pytest.raises(InvalidInput, match="not yours to change"):
        partners.update_partner(
            db.session,
            ADMIN,
            partner,
            {"commission_rate_bp": 500},
            allowed=partners.POLICY_FIELDS,
        )
    [_created, change] = history(db.session, partner)
    assert change.data["changes"]["window_days"] == {"before": 14, "after": 30}
    assert partners.update_partner(db.session, ADMIN, partner, {"window_days": 30}) == {}


# --- the catalogue ---------------------------------------------------------------------------


@pytest.fixture
def acme(app):
    partner = partners.create_partner(db.session, ADMIN, {**GOOD, "currencies": ["EUR", "GBP"]})
    db.session.commit()
    return partner


def _product(**fields):
    return {
        "partner": "ACME",
        "sku": "SH-1",
        "gtin": "4006381333931",
        "title": "Trail shoe",
        "category": "fashion",
        "prices": [{"currency": "EUR", "price_minor": 4999, "min_price_minor": 1000}],
        **fields,
    }


def test_products_are_upserted_by_partner_and_sku(acme):
    done = catalogue.upsert_products(db.session, ADMIN, [_product()])
    assert [p.sku for p in done.created] == ["SH-1"]
    again = catalogue.upsert_products(db.session, ADMIN, [_product()])
    assert [p.sku for p in again.unchanged] == ["SH-1"]
    changed = catalogue.upsert_products(
        db.session,
        ADMIN,
        [_product(title="Trail shoe 2", prices=[{"currency": "GBP", "price_minor": 4299}])],
    )
    assert [p.sku for p in changed.updated] == ["SH-1"]
    product = db.session.query(Product).one()
    assert product.title == "Trail shoe 2"
    assert {(p.currency, p.price_minor) for p in product.prices} == {("EUR", 4999), ("GBP", 4299)}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"gtin": "4006381333932"}, "[0].gtin", "wrong check digit"),
        ({"gtin": "12345"}, "[0].gtin", "not a GTIN"),
        (
            {"prices": [{"currency": "DKK", "price_minor": 100}]},
            "[0].prices[0].currency",
            "does not sell in DKK",
        ),
        (
            {"prices": [{"currency": "EUR", "price_minor": 100, "min_price_minor": 200}]},
            "[0].prices[0].min_price_minor",
            "floor .* is above the price",
        ),
        ({"prices": []}, "[0].prices", "at least 1"),
        ({"partner": "NOPE"}, "[0].partner", "no partner"),
        ({"category": "cars"}, "[0].category", "input should be"),
    ],
)
def test_a_bad_product_refuses_the_batch_by_field(acme, fields, field, message):
    before = row_counts(Product, ProductPrice, Event)
    with pytest.raises(DomainError, match=message) as caught:
        catalogue.upsert_products(db.session, ADMIN, [_product(sku="OK-1"), _product(**fields)])
    assert caught.value.field == field.replace("[0]", "[1]", 1)
    db.session.rollback()
    assert row_counts(Product, ProductPrice, Event) == before


def test_a_validators_refusal_is_in_the_readers_language(acme):
    """The partner's catalogue screen shows the validator's words: in German for a German reader."""
    from warehouse.i18n import reading

    with reading("de"), pytest.raises(DomainError) as caught:
        catalogue.upsert_products(db.session, ADMIN, [_product(gtin="4006381333932")])
    assert "4006381333932 hat eine falsche Prüfziffer" in caught.value.message
    db.session.rollback()


def test_a_gtin_belongs_to_one_product_of_a_partner(acme):
    catalogue.upsert_products(db.session, ADMIN, [_product()])
    with pytest.raises(InvalidInput, match="already product SH-1") as caught:
        catalogue.upsert_products(db.session, ADMIN, [_product(sku="SH-2")])
    assert caught.value.field == "[0].gtin"


def test_a_partner_token_upserts_only_its_own_products(acme):
    other = partners.create_partner(db.session, ADMIN, {**GOOD, "code": "OTHER"})
    with pytest.raises(NotFound):
        catalogue.upsert_products(db.session, ADMIN, [_product()], partner_id=other.id)


CSV = (
    "sku,gtin,title,category,price_eur,min_price_eur,serial_tracked\n"
    "A-1,4006381333931,Trail shoe,fashion,49.99,10,no\n"
    "A-2,4006381333932,Bad check digit,fashion,49.99,10,\n"
    "A-3,5901234123457,Floor too high,fashion,9.99,19.99,\n"
    "A-4,8712345678906,Radio,electronics,29.95,,yes\n"
    "A-1,4006381333931,Twice,fashion,1,,\n"
)


def _import(data: bytes, partner=None):
    record = catalogue.new_import(db.session, ADMIN, filename="c.csv", partner=partner)
    report = catalogue.import_products(db.session, ADMIN, data, record)
    catalogue.finish(record, report)
    db.session.commit()
    return report, record


def test_a_csv_keeps_its_good_rows_and_reports_the_bad_ones_by_row_and_column(acme):
    report, record = _import(CSV.encode(), acme)
    assert (report.created, report.refused_rows) == (2, 3)
    assert report.errors == [
        "row 3, column gtin: 4006381333932 has a wrong check digit",
        "row 4, column min_price_eur: the floor (1999) is above the price (999)",
        "row 6, column sku: SKU A-1 is also on row 2",
    ]
    radio = db.session.query(Product).filter_by(sku="A-4").one()
    assert radio.serial_tracked
    assert radio.needs_serial
    assert record.status.value == "done"
    again, _ = _import(CSV.encode(), acme)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)  # idempotent


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sku,gtin,title\nA,1,2\n", "the column 'category' is missing"),
        (b"sku,gtin,title,category,colour\n", "unknown column 'colour'"),
        ("sku,gtin,title,category\nA,4006381333931,Café,fashion\n".encode("latin-1"), "not UTF-8"),
        (b"", "the file is empty"),
    ],
)
def test_a_bad_file_is_refused_whole(acme, data, message):
    report, record = _import(data, acme)
    assert report.file_refused
    assert message in report.errors[0]
    assert db.session.query(Product).count() == 0
    assert record.status.value == "failed"


def test_a_file_of_too_many_rows_is_refused_whole(acme, monkeypatch):
    monkeypatch.setattr(catalogue, "MAX_ROWS", 3)
    rows = "".join(f"S-{n},4006381333931,T,fashion,1\n" for n in range(4))
    report, _ = _import(("sku,gtin,title,category,price_eur\n" + rows).encode(), acme)
    assert report.file_refused
    assert "more than 3 rows" in report.errors[0]
    assert db.session.query(Product).count() == 0


# --- sites -------------------------------------------------------------------------------------


def test_the_first_site_gets_every_country_and_a_country_can_be_sent_elsewhere(app):
    wal = sites.create_site(
        db.session,
        ADMIN,
        {"code": "wal", "name": "Waalwijk", "country": "NL", "address": "Havenweg 12"},
    )
    assert db.session.query(Country).count() == 11
    assert {c.site_id for c in db.session.query(Country)} == {wal.id}
    bcn = sites.create_site(
        db.session,
        ADMIN,
        {
            "code": "BCN",
            "name": "Barcelona",
            "country": "ES",
            "timezone": "Europe/Madrid",
            "address": "Carrer 1",
        },
    )
    spain = sites.set_country_return(
        db.session, ADMIN, "es", {"site": "BCN", "return_address": "Punto de consolidación\nMadrid"}
    )
    assert spain.site_id == bcn.id
    assert spain.return_address.startswith("Punto")
    with pytest.raises(InvalidInput, match="not a time zone"):
        sites.create_site(
            db.session,
            ADMIN,
            {"code": "X1", "name": "X", "country": "NL", "timezone": "Mars/Base", "address": "a"},
        )
    with pytest.raises(Conflict):
        sites.create_site(
            db.session, ADMIN, {"code": "WAL", "name": "X", "country": "NL", "address": "a"}
        )
    with pytest.raises(NotFound):
        sites.set_country_return(db.session, ADMIN, "US", {"site": "WAL", "return_address": "a"})


# --- users -------------------------------------------------------------------------------------


def test_an_invited_user_sets_a_password_once_from_the_link(app):
    partner = factories.partner()
    user = accounts.add_user(
        db.session, ADMIN, email="New@Partner.example", name="", role=Role.PARTNER, partner=partner
    )
    links = accounts.PasswordLinks("secret")
    accounts.password_mail(db.session, user, links, public_url="http://x", invite=True)
    db.session.commit()
    assert accounts.authenticate(db.session, "new@partner.example", "!") is None
    [mail] = factories.mails("user_invite")
    token = mail.payload["context"]["link"].rsplit("/", 1)[1]
    assert links.user_for(db.session, token).id == user.id
    accounts.set_password(user, "a long enough password")
    with pytest.raises(Conflict, match="used already"):
        links.user_for(db.session, token)
    with pytest.raises(NotFound):
        links.user_for(db.session, token + "x")
    with pytest.raises(Conflict, match="expired"):
        accounts.PasswordLinks("secret", max_age_seconds=-1).user_for(db.session, token)


def test_the_last_admin_keeps_their_role_and_access(app):
    only = factories.user(Role.ADMIN)
    with pytest.raises(Conflict, match="last active admin"):
        accounts.change_user(db.session, ADMIN, only, active=False)
    with pytest.raises(Conflict, match="last active admin"):
        accounts.change_user(db.session, ADMIN, only, role=Role.SUPERVISOR)
    factories.user(Role.ADMIN)
    changed = accounts.change_user(db.session, ADMIN, only, active=False)
    assert changed == {"active": [True, False]}


def test_changing_a_users_role_or_access_ends_their_sessions(app):
    person = factories.user(Role.OPERATOR)
    version = person.session_version
    accounts.change_user(db.session, ADMIN, person, name="Renamed")
    assert person.session_version == version
    accounts.change_user(db.session, ADMIN, person, role=Role.SUPERVISOR)
    assert person.session_version > version
    with pytest.raises(InvalidInput, match="needs its partner"):
        accounts.change_user(db.session, ADMIN, person, role=Role.PARTNER)
    assert db.session.get(User, person.id).role == Role.SUPERVISOR


def test_a_deactivated_partner_takes_no_new_orders(app):
    from warehouse.orders import place_order

    partner = factories.partner("SLEEP")
    factories.product(partner, sku="Z-1")
    factories.site()
    partners.update_partner(db.session, ADMIN, partner, {"active": False})
    order = {
        "number": "MP-9001",
        "country": "NL",
        "currency": "EUR",
        "customer": {"name": "A", "email": "a@example.org", "postcode": "1011 AB"},
        "lines": [{"partner": "SLEEP", "sku": "Z-1", "quantity": 1}],
    }
    with pytest.raises(InvalidInput, match="deactivated") as caught:
        place_order(db.session, order, ADMIN)
    assert caught.value.field == "lines[0].partner"


def test_a_password_link_outlives_a_logout_but_not_its_use(app):
    user = factories.user(Role.OPERATOR)
    links = accounts.PasswordLinks("secret")
    token = links.token(user)
    accounts.end_sessions(user)  # logging out elsewhere
    accounts.change_user(db.session, ADMIN, user, role=Role.SUPERVISOR)
    assert links.user_for(db.session, token).id == user.id
    accounts.set_password(user, "another long password")
    with pytest.raises(Conflict, match="used already"):
        links.user_for(db.session, token)
