"""Command-line tools: create-token and import-orders."""

from __future__ import annotations

import hashlib

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse.db import db
from warehouse.models import ApiToken, Category, Event, Order, OrderLine, Shipment

WRITTEN = (Order, OrderLine, Shipment, Event)


@pytest.fixture
def catalogue(app):
    factories.site()
    acme = factories.partner("ACME")
    bolt = factories.partner("BOLT")
    factories.product(acme, sku="PH-1", category=Category.ELECTRONICS, gtin="8712345678906")
    factories.product(bolt, sku="SH-1", prices={"EUR": 2995, "GBP": 2599})
    db.session.commit()
    return acme, bolt


def test_create_token_prints_a_token_that_works_and_is_stored_hashed(runner, client, catalogue):
    result = runner.invoke(args=["create-token", "admin", "--label", "marketplace"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    stored = db.session.query(ApiToken).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.token_hash, stored.label)
    response = client.get("/api/v1/partners", headers={"Authorization": f"Bearer {token}"})
    assert [p["code"] for p in response.get_json()["partners"]] == ["ACME", "BOLT"]


def test_a_partner_token_is_bound_to_its_partner(runner, client, catalogue):
    result = runner.invoke(args=["create-token", "partner", "--partner", "BOLT"])
    assert result.exit_code == 0, result.output
    headers = {"Authorization": f"Bearer {result.stdout.strip()}"}
    partners = client.get("/api/v1/partners", headers=headers).get_json()["partners"]
    assert [p["code"] for p in partners] == ["BOLT"]
    assert client.get("/api/v1/products?partner=ACME", headers=headers).status_code == 404


@pytest.mark.parametrize(
    "args",
    [["partner"], ["admin", "--partner", "ACME"], ["partner", "--partner", "NOPE"], ["boss"]],
    ids=["partner without partner", "admin with partner", "unknown partner", "unknown role"],
)
def test_create_token_refuses_bad_pairings(runner, catalogue, args):
    result = runner.invoke(args=["create-token", *args])
    assert result.exit_code == 2
    assert db.session.query(ApiToken).count() == 0


HEADER = (
    "order_number,customer_name,customer_email,customer_postcode,country,currency,"
    "partner,sku,gtin,quantity,unit_price,serial_numbers\n"
)


def write_csv(tmp_path, body: str, header: str = HEADER):
    path = tmp_path / "orders.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


GOOD = (
    "MP-1,Anna de Vries,anna@example.org,1011 AB,NL,EUR,ACME,PH-1,,2,,SN-1|SN-2\n"
    "MP-2,Tom Smith,tom@example.co.uk,SW1A 1AA,GB,GBP,BOLT,SH-1,,1,19.99,\n"
    "MP-1,,,,,,BOLT,SH-1,,3,24.50,\n"
)


def test_import_orders_groups_rows_by_order_and_is_idempotent(runner, catalogue, tmp_path):
    path = write_csv(tmp_path, GOOD)
    result = runner.invoke(args=["import-orders", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 orders imported, 0 already there, 0 refused" in result.output
    mp1 = db.session.query(Order).filter_by(number="MP-1").one()
    assert [(s.partner.code, s.total_minor) for s in mp1.shipments] == [
        ("ACME", 2 * 4999),
        ("BOLT", 3 * 2450),
    ]
    assert mp1.lines[0].serial_numbers == ["SN-1", "SN-2"]
    mp2 = db.session.query(Order).filter_by(number="MP-2").one()
    assert (mp2.currency, mp2.total_minor) == ("GBP", 1999)

    before = row_counts(*WRITTEN)
    again = runner.invoke(args=["import-orders", str(path)])
    assert again.exit_code == 0, again.output
    assert "0 orders imported, 2 already there, 0 refused" in again.output
    assert row_counts(*WRITTEN) == before


def test_import_orders_reports_rows_and_leaves_out_orders_with_errors(runner, catalogue, tmp_path):
    path = write_csv(
        tmp_path,
        "MP-1,Anna de Vries,anna@example.org,1011 AB,NL,EUR,ACME,PH-1,,2,,\n"  # row 2: fine
        "MP-1,,,,,,BOLT,SH-404,,1,,\n"  # row 3: unknown SKU -> MP-1 left out whole
        "MP-2,Tom Smith,tom@example.co.uk,SW1A 1AA,GB,EUR,BOLT,SH-1,,1,,\n"  # row 4: currency
        "MP-3,Eva Berg,eva@example.se,211 41,SE,SEK,ACME,PH-1,,two,,\n"  # row 5: quantity
        "MP-4,Juan Ruiz,juan@example.es,35001,ES,EUR,ACME,PH-1,,1,,\n"  # row 6: Canary Islands
        "MP-5,Lea Weber,lea@example.de,10115,DE,EUR,ACME,PH-1,,1,,\n"  # row 7: fine
        "MP-5,Lea Weber,lea@other.de,,,,BOLT,SH-1,,1,,\n",  # row 8: email differs
    )
    before = row_counts(*WRITTEN)
    result = runner.invoke(args=["import-orders", str(path)])
    assert result.exit_code == 1
    assert "0 orders imported, 0 already there, 5 refused" in result.output
    errors = result.output.splitlines()
    assert any(e.startswith("row 3, column sku: partner BOLT has no SKU 'SH-404'") for e in errors)
    assert any(e.startswith("row 4, column currency:") for e in errors)
    assert any(e.startswith("row 5, column quantity: 'two' is not a whole number") for e in errors)
    assert any(e.startswith("row 6, column customer_postcode:") for e in errors)
    assert any(e.startswith("row 8, column customer_email:") for e in errors)
    assert all("not imported" in e for e in errors if e.startswith("row"))
    assert row_counts(*WRITTEN) == before


def test_import_orders_refuses_a_file_with_unknown_columns(runner, catalogue, tmp_path):
    path = write_csv(tmp_path, GOOD, header=HEADER.replace("quantity", "qty"))
    result = runner.invoke(args=["import-orders", str(path)])
    assert result.exit_code == 1
    assert "row 1, column qty: unknown column 'qty'" in result.output
    assert "row 1, column quantity: the column 'quantity' is missing" in result.output
    assert db.session.query(Order).count() == 0


def test_a_partners_file_needs_no_partner_column(runner, catalogue, tmp_path):
    path = tmp_path / "acme.csv"
    path.write_text(
        "order_number;customer_name;customer_email;customer_postcode;country;currency;sku;quantity\n"
        "AC-9;Kim Peeters;kim@example.be;2000;BE;EUR;PH-1;1\n"
        "AC-10;Kim Peeters;kim@example.be;2000;BE;EUR;SH-1;1\n",
        encoding="utf-8-sig",
    )
    result = runner.invoke(args=["import-orders", str(path), "--partner", "ACME"])
    assert result.exit_code == 1
    assert "1 orders imported, 0 already there, 1 refused" in result.output
    assert "row 3, column sku: partner ACME has no SKU 'SH-1'" in result.output
    assert [o.number for o in db.session.query(Order)] == ["AC-9"]


def test_a_revoked_token_stops_working_and_revoking_it_twice_is_refused(runner, client):
    result = runner.invoke(args=["create-token", "admin", "--label", "shop"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    stored = db.session.query(ApiToken).one()
    assert f"revoke-token {stored.id}" in result.stderr
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/partners", headers=headers).status_code == 200
    revoked = runner.invoke(args=["revoke-token", str(stored.id)])
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked API token #{stored.id}" in revoked.output
    assert client.get("/api/v1/partners", headers=headers).status_code == 401
    again = runner.invoke(args=["revoke-token", str(stored.id)])
    assert again.exit_code == 2
    assert "revoked already" in again.output
    missing = runner.invoke(args=["revoke-token", "999"])
    assert missing.exit_code == 2
    assert "no API token #999" in missing.output


def test_refresh_figures_rebuilds_the_months_asked_for(runner, app):
    from warehouse.models import FigureRefresh

    seller = factories.partner()
    factories.received(seller)
    db.session.commit()
    result = runner.invoke(args=["refresh-figures", "--from", "2026-01", "--to", "2026-03"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("figure rows") == 3
    months = sorted(row.month for row in db.session.query(FigureRefresh))
    assert months == ["2026-01", "2026-02", "2026-03"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13"], "not a month"),
        (["--from", "2026-05", "--to", "2026-01"], "starts after it ends"),
        (["--site", "NOPE"], "no site with code"),
    ],
)
def test_refresh_figures_refuses_bad_months_and_sites(runner, app, args, message):
    factories.site()
    db.session.commit()
    result = runner.invoke(args=["refresh-figures", *args])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--commission", "30"], "5 to 20 %"),
        (["--commission", "lots"], "not a percentage"),
        (["--window-days", "10"], "legal 14 days"),
        (["--email", "nobody"], "contact_email"),
    ],
)
def test_create_partner_refuses_what_the_agreement_or_the_law_forbids(runner, app, args, message):
    from warehouse.models import Partner

    base = {"--email": "ops@new.example"}
    flags = dict(zip(args[::2], args[1::2], strict=True))
    line = ["create-partner", "NEWP", "New partner"]
    for flag, value in {**base, **flags}.items():
        line += [flag, value]
    result = runner.invoke(args=line)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert db.session.query(Partner).filter_by(code="NEWP").count() == 0


def test_import_products_reports_bad_rows_and_exits_1(runner, app, tmp_path):
    factories.site()
    factories.partner("ACME")
    db.session.commit()
    path = tmp_path / "c.csv"
    path.write_text(
        "sku,gtin,title,category,price_eur\n"
        "A-1,4006381333931,Shoe,fashion,49.99\n"
        "A-2,4006381333932,Bad,fashion,49.99\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-products", str(path), "--partner", "ACME"])
    assert result.exit_code == 1
    assert "1 created" in result.stdout
    assert "row 3, column gtin" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes("sku,gtin,title\nA,1,Caf\xe9\n".encode("latin-1"))
    refused = runner.invoke(args=["import-products", str(bad), "--partner", "ACME"])
    assert refused.exit_code == 1
    assert "not imported" in refused.output
