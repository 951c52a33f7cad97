"""The money API: the journal (CSV parses back and balances; JSON), statements, invoices (gap-free
numbers under parallel requests), resale sales, reconciliation, partner isolation, refusals."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import documents, invoices, orders
from warehouse.db import db, utcnow
from warehouse.events import Actor
from warehouse.models import Event, Grade, Invoice, LedgerEntry, Listing, Role

ACTOR = Actor(label="test")


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def _delivered_order(seller, price=5000, quantity=2, when=None, currency="EUR", country="NL"):
    item = factories.product(seller, prices={currency: price})
    order = factories.order(
        [(item, quantity)], delivered_days_ago=None, currency=currency, country=country
    )
    orders.apply_tracking(
        db.session,
        order.shipments[0],
        ACTOR,
        tracking_number=None,
        carrier=None,
        delivered_at=when or utcnow() - dt.timedelta(hours=2),
    )
    return order


@pytest.fixture
def books(app):
    first = factories.partner(code="ACME", name="Acme", commission_rate_bp=1000)
    second = factories.partner(code="BOLT", name="Bolt", commission_rate_bp=1500)
    last_month = (utcnow().date().replace(day=1) - dt.timedelta(days=1)).replace(day=10)
    when = dt.datetime.combine(last_month, dt.time(12), tzinfo=dt.UTC)
    acme_order = _delivered_order(first, when=when)
    bolt_order = _delivered_order(second, price=3999, quantity=1, when=when)
    for entry in db.session.query(LedgerEntry):  # recorded last month
        entry.booked_on = last_month
    tokens = {
        "admin": factories.token(Role.ADMIN),
        "acme": factories.token(Role.PARTNER, first),
        "bolt": factories.token(Role.PARTNER, second),
    }
    db.session.commit()
    return {
        "tokens": tokens,
        "month": f"{last_month:%Y-%m}",
        "day": last_month,
        "numbers": {acme_order.number, bolt_order.number},
        "partners": (first, second),
    }


def test_the_journal_csv_balances_and_parses_back(client, books):
    day = books["day"]
    response = client.get(
        f"/api/v1/accounting/journal?from={day.replace(day=1)}&to={day}",
        headers=_auth(books["tokens"]["admin"]),
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2 * db.session.query(LedgerEntry).count()
    assert sum(int(r["debit_minor"]) for r in rows) == sum(int(r["credit_minor"]) for r in rows)
    assert {r["partner"] for r in rows} == {"ACME", "BOLT"}
    assert {r["reference"] for r in rows} == books["numbers"]


def test_a_partner_token_gets_only_its_own_journal_and_statement(client, books):
    day = books["day"]
    acme = _auth(books["tokens"]["acme"])
    mine = client.get(
        f"/api/v1/accounting/journal?from={day.replace(day=1)}&to={day}&format=json", headers=acme
    )
    assert mine.status_code == 200
    assert {line["partner"] for line in mine.get_json()["lines"]} == {"ACME"}
    other = client.get(f"/api/v1/accounting/journal?from={day}&to={day}&partner=BOLT", headers=acme)
    assert other.status_code == 404
    statement = client.get(f"/api/v1/accounting/statement?month={books['month']}", headers=acme)
    assert statement.status_code == 200, statement.get_json()
    body = statement.get_json()
    assert body["partner"] == "ACME"
    assert body["currencies"][0]["closing_minor"] == 10000 - 1000
    assert [line["balance_after_minor"] for line in body["lines"]] == [10000, 9000]
    assert "you owe the marketplace" in body["lines"][1]["what_happened"]
    assert (
        client.get(
            f"/api/v1/accounting/statement?month={books['month']}&partner=BOLT", headers=acme
        ).status_code
        == 404
    )
    reconciled = client.get("/api/v1/accounting/reconciliation", headers=acme).get_json()
    assert reconciled["differences"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-01-01", "to"),
        ("from=2026-02-01&to=2026-01-01", "to"),
        ("from=2020-01-01&to=2026-01-01", "to"),
        ("from=yesterday&to=2026-01-01", "from"),
        ("from=2026-01-01&to=2026-01-02&format=xml", "format"),
        ("from=2026-01-01&to=2026-01-02&site=NOPE", "site"),
    ],
)
def test_a_bad_journal_query_is_refused_naming_it(client, books, query, field):
    response = client.get(
        f"/api/v1/accounting/journal?{query}", headers=_auth(books["tokens"]["admin"])
    )
    assert response.status_code in (400, 404), response.get_data(as_text=True)
    assert response.get_json()["field"] == field


@pytest.mark.commits
def test_two_invoices_issued_at_once_get_consecutive_numbers(app, books):
    """Two admins issue two partners' invoices at the same moment: numbers n and n+1, no gap;
    two requests for the same invoice at once make one invoice."""
    month = books["month"]
    token = books["tokens"]["admin"]
    db.session.remove()
    start = threading.Barrier(4)
    answers: list[tuple[int, dict]] = []

    def issue(partner):
        client = app.test_client()
        start.wait(10)
        response = client.post(
            "/api/v1/accounting/invoices",
            json={"partner": partner, "month": month, "currency": "EUR"},
            headers=_auth(token),
        )
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=issue, args=(p,)) for p in ("ACME", "BOLT", "ACME", "BOLT")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(status for status, _ in answers) == [200, 200, 201, 201], answers
    numbers = sorted({body["number"] for _, body in answers})
    assert len(numbers) == 2
    sequences = sorted(row.sequence for row in db.session.query(Invoice))
    assert sequences == list(range(sequences[0], sequences[0] + 2))
    by_partner = {body["partner"]: body for _, body in answers}
    assert by_partner["ACME"]["net_minor"] == 1000
    assert by_partner["BOLT"]["net_minor"] == 600  # 15 % of 39.99 = 5.9985 -> 6.00


def test_invoices_refuse_months_not_ended_and_partners_see_their_own(client, books):
    admin = _auth(books["tokens"]["admin"])
    this_month = f"{invoices.invoicing_day(db.session):%Y-%m}"  # the marketplace's, not UTC's
    before = row_counts(Invoice, Event)
    refused = client.post(
        "/api/v1/accounting/invoices",
        json={"partner": "ACME", "month": this_month, "currency": "EUR"},
        headers=admin,
    )
    assert refused.status_code == 400
    assert refused.get_json()["field"] == "month"
    assert row_counts(Invoice, Event) == before
    issued = client.post(
        "/api/v1/accounting/invoices",
        json={"partner": "ACME", "month": books["month"], "currency": "EUR"},
        headers=admin,
    )
    assert issued.status_code == 201
    bolt = client.get("/api/v1/accounting/invoices", headers=_auth(books["tokens"]["bolt"]))
    assert bolt.get_json()["invoices"] == []
    partner_post = client.post(
        "/api/v1/accounting/invoices",
        json={"partner": "ACME", "month": books["month"], "currency": "EUR"},
        headers=_auth(books["tokens"]["acme"]),
    )
    assert partner_post.status_code == 403


def test_the_invoice_date_is_the_marketplaces_day_of_issue_after_the_period(
    client, books, monkeypatch
):
    """Issued at 23:30 UTC on the month's last day, 00:30 on the 1st in Waalwijk: the month has
    ended there, and the invoice is dated the 1st on paper and in the API, never inside its
    period (the UTC day would have been the period's last)."""
    last_day = (books["day"].replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(
        days=1
    )
    late_evening = dt.datetime.combine(last_day, dt.time(23, 30), tzinfo=dt.UTC)
    monkeypatch.setattr(invoices, "utcnow", lambda: late_evening)
    issued = client.post(
        "/api/v1/accounting/invoices",
        json={"partner": "ACME", "month": books["month"], "currency": "EUR"},
        headers=_auth(books["tokens"]["admin"]),
    )
    assert issued.status_code == 201, issued.get_json()
    first = last_day + dt.timedelta(days=1)
    assert issued.get_json()["issued_on"] == first.isoformat()
    assert issued.get_json()["period_end"] == last_day.isoformat()
    invoice = db.session.query(Invoice).one()
    issuer = invoices.Issuer("Returnyard Marketplace B.V.", "Havenweg 1", "NL1B01")
    facts = dict(documents.invoice_document(invoice, issuer).facts)
    assert facts["Invoice date"] == first.isoformat()


def test_a_channel_reports_a_resale_and_the_partner_is_credited(client, app):
    seller = factories.listed_units(1, partner=factories.partner(code="CASA"))
    listing = db.session.query(Listing).filter_by(partner_id=seller.id).one()
    other = factories.partner(code="OTHR")
    tokens = {
        "admin": factories.token(Role.ADMIN),
        "other": factories.token(Role.PARTNER, other),
    }
    lpn, listing_id = listing.unit.lpn, listing.id
    db.session.commit()
    path = f"/api/v1/resale-listings/{lpn}/sale"
    sold_at = (utcnow() + dt.timedelta(seconds=1)).isoformat()
    body = {"price_minor": 2000, "currency": "EUR", "channel": "own_shop", "sold_at": sold_at}
    # A partner may not report sales that credit itself (nor another partner's).
    assert client.post(path, json=body, headers=_auth(tokens["other"])).status_code == 403
    naive = {**body, "sold_at": "2026-11-30T10:00:00"}
    assert client.post(path, json=naive, headers=_auth(tokens["admin"])).status_code == 400
    zero = {**body, "price_minor": 0}
    assert client.post(path, json=zero, headers=_auth(tokens["admin"])).status_code == 400
    sold = client.post(path, json=body, headers=_auth(tokens["admin"]))
    assert sold.status_code == 201, sold.get_json()
    assert sold.get_json()["partner_credited_minor"] == 2000 - 200
    again = client.post(path, json=body, headers=_auth(tokens["admin"]))
    assert again.status_code == 200
    different = client.post(
        path, json={**body, "price_minor": 2100}, headers=_auth(tokens["admin"])
    )
    assert different.status_code == 409
    seller_id = db.session.query(Listing.partner_id).filter_by(id=listing_id).scalar()
    kinds = sorted(e.kind for e in db.session.query(LedgerEntry).filter_by(partner_id=seller_id))
    assert kinds.count("resale_proceeds") == 1


@pytest.mark.parametrize("month", ["0000-01", "2026-13", "26-01", "2026-1x"])
def test_a_month_that_is_no_month_is_refused(client, books, month):
    admin = _auth(books["tokens"]["admin"])
    statement = client.get(
        f"/api/v1/accounting/statement?month={month}&partner=ACME", headers=admin
    )
    assert statement.status_code == 400
    assert statement.get_json()["field"] == "month"
    invoice = client.post(
        "/api/v1/accounting/invoices",
        json={"partner": "ACME", "month": month, "currency": "EUR"},
        headers=admin,
    )
    assert invoice.status_code == 400


def test_a_partner_token_confirms_its_customers_refund_as_paid(client, app):
    unit = factories.received(refund_paid_by="partner")
    factories.grade(unit, Grade.NEW)
    own = factories.token(Role.PARTNER, unit.partner)
    other = factories.token(Role.PARTNER, factories.partner())
    admin = factories.token(Role.ADMIN)
    lpn = unit.lpn
    db.session.commit()
    path = f"/api/v1/refunds/{lpn}/paid"
    assert client.post(path, json={}, headers=_auth(other)).status_code == 404
    assert client.post(path, json={}, headers=_auth(admin)).status_code == 403
    bad = client.post(path, json={"paid_at": "2026-01-01T10:00:00"}, headers=_auth(own))
    assert bad.status_code == 400
    paid = client.post(path, json={"reference": "SEPA-9"}, headers=_auth(own))
    assert paid.status_code == 201, paid.get_json()
    assert paid.get_json()["paid_by"] == "partner"
    assert paid.get_json()["amount_minor"] == 4999
    again = client.post(path, json={"reference": "SEPA-9"}, headers=_auth(own))
    assert again.status_code == 200
    assert client.post(path, json={"reference": "OTHER"}, headers=_auth(own)).status_code == 409
