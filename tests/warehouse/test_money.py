"""Money from order to accounting: sales and commission booked at delivery, refunds crediting
commission back exactly, resale proceeds, statements in words, the balanced journal, invoices."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labels.money_documents import money_pdf
from tests import factories
from tests.helpers import pdf_text
from warehouse import accounting, invoices, ledger, listings, orders
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.documents import invoice_document, statement_document
from warehouse.errors import Conflict, InvalidInput
from warehouse.events import Actor
from warehouse.models import Grade, LedgerEntry, Listing, ListingStatus
from warehouse.money import basis_points_of

ACTOR = Actor(label="accounting@test")
ISSUER = invoices.Issuer("Returnyard Marketplace B.V.", "Havenweg 1\n5145 NJ Waalwijk", "NL1B01")
CURRENCY_COUNTRY = {"EUR": "NL", "GBP": "GB", "DKK": "DK", "SEK": "SE"}


def _today() -> dt.date:
    return local_date(utcnow(), "Europe/Amsterdam")  # the test site's day


def _deliver(order, when=None):
    for shipment in order.shipments:
        orders.apply_tracking(
            db.session,
            shipment,
            ACTOR,
            tracking_number=None,
            carrier=None,
            delivered_at=when or utcnow() - dt.timedelta(days=2),
        )
    db.session.flush()


def _entries(partner_id, **where):
    return db.session.query(LedgerEntry).filter_by(partner_id=partner_id, **where).all()


def _sum(entries, *kinds):
    return sum(e.amount_minor for e in entries if e.kind in kinds)


def test_a_delivered_shipment_books_its_sale_and_commission_once(app):
    """Commission is booked per shipment at delivery, at the partner's rate then, half away
    from zero in minor units; delivering again (a correction) books nothing more."""
    seller = factories.partner(commission_rate_bp=1250)
    item = factories.product(seller, prices={"EUR": 1999})
    order = factories.order([(item, 3)], delivered_days_ago=None)
    _deliver(order)
    entries = _entries(seller.id)
    assert sorted((e.kind, e.amount_minor) for e in entries) == [
        ("commission", -750),  # 12.5 % of 59.97 = 7.49625 -> 7.50
        ("sale", 5997),
    ]
    assert {e.order_id for e in entries} == {order.id}
    assert {e.rate_bp for e in entries if e.kind == "commission"} == {1250}
    seller.commission_rate_bp = 2000  # a later change of rate does not touch booked sales
    _deliver(order, utcnow() - dt.timedelta(days=1))
    assert len(_entries(seller.id)) == 2


def test_partial_refunds_credit_back_exactly_the_commission_booked(app):
    """Three partial refunds of one shipment, each credited proportionally: together they credit
    exactly rate x total refunded; a full refund gives back exactly the commission booked."""
    seller = factories.partner(commission_rate_bp=1500)
    item = factories.product(seller, prices={"EUR": 3333})
    order = factories.order([(item, 3)], delivered_days_ago=None)
    _deliver(order)
    rma = factories.return_request(order, [(order.lines[0], 3, factories.Reason.CHANGED_MIND)])
    units = [factories.received_unit(rma.lines[0], slot=n) for n in (1, 2, 3)]
    for unit in units:
        ledger.book_refund(
            db.session,
            unit,
            seller,
            amount_minor=3333,
            currency="EUR",
            booked_on=_today(),
        )
    entries = _entries(seller.id)
    assert _sum(entries, "commission_credit") == -_sum(entries, "commission") == 1500
    assert [e.amount_minor for e in entries if e.kind == "commission_credit"] == [500, 500, 500]


def test_a_resale_credits_the_proceeds_less_commission(app):
    """A channel reports the sale of a listed unit: proceeds to the partner, commission kept."""
    seller = factories.listed_units(1)
    listing = db.session.query(Listing).filter_by(partner_id=seller.id).one()
    unit = listing.unit
    sold_at = utcnow()
    with pytest.raises(InvalidInput, match="listed in"):
        listings.record_sale(
            db.session,
            ACTOR,
            unit.lpn,
            price_minor=1000,
            currency="SEK",
            channel="ebay",
            sold_at=sold_at,
        )
    with pytest.raises(InvalidInput, match="future"):
        listings.record_sale(
            db.session,
            ACTOR,
            unit.lpn,
            price_minor=1000,
            currency=listing.currency,
            channel="ebay",
            sold_at=utcnow() + dt.timedelta(days=1),
        )
    _, changed = listings.record_sale(
        db.session,
        ACTOR,
        unit.lpn,
        price_minor=2500,
        currency=listing.currency,
        channel="ebay",
        sold_at=sold_at,
    )
    assert changed
    assert listing.status == ListingStatus.SOLD
    resale = [e for e in _entries(seller.id) if e.kind.startswith("resale")]
    assert sorted(e.amount_minor for e in resale) == sorted(
        [2500, -basis_points_of(2500, seller.commission_rate_bp)]
    )
    _, again = listings.record_sale(
        db.session,
        ACTOR,
        unit.lpn,
        price_minor=2500,
        currency=listing.currency,
        channel="ebay",
        sold_at=sold_at,
    )
    assert not again
    with pytest.raises(Conflict, match="sold already"):
        listings.record_sale(
            db.session,
            ACTOR,
            unit.lpn,
            price_minor=2600,
            currency=listing.currency,
            channel="ebay",
            sold_at=sold_at,
        )


@st.composite
def _scenario(draw):
    currency = draw(st.sampled_from(sorted(CURRENCY_COUNTRY)))
    rate = draw(st.integers(min_value=500, max_value=2000))
    lines = draw(
        st.lists(st.tuples(st.integers(1, 3), st.integers(1, 99_999)), min_size=1, max_size=3)
    )
    refunds = draw(st.lists(st.integers(0, 100), min_size=0, max_size=4))  # % of a unit price
    resale = draw(st.one_of(st.none(), st.integers(1, 50_000)))
    return currency, rate, lines, refunds, resale


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=_scenario())
def test_the_journal_balances_and_matches_the_statement(app, scenario):
    """Random orders, partial refunds and a resale in EUR, GBP, DKK and SEK: the journal balances
    per currency, commission never drifts a minor unit from rate x base, and the statement's
    balance is the journal's "Payable to partners" for the partner."""
    currency, rate, lines, refunds, resale = scenario
    seller = factories.partner(commission_rate_bp=rate)
    items = [factories.product(seller, prices={currency: price}) for _, price in lines]
    order = factories.order(
        [(item, quantity) for item, (quantity, _) in zip(items, lines, strict=True)],
        country=CURRENCY_COUNTRY[currency],
        currency=currency,
        delivered_days_ago=None,
    )
    _deliver(order)
    line = order.lines[0]
    rma = factories.return_request(order, [(line, line.quantity, factories.Reason.CHANGED_MIND)])
    refunded = 0
    for slot, percent in enumerate(refunds[: line.quantity], 1):
        unit = factories.received_unit(rma.lines[0], slot=slot)
        amount = line.unit_price_minor * percent // 100
        ledger.book_refund(
            db.session,
            unit,
            seller,
            amount_minor=amount,
            currency=currency,
            booked_on=_today(),
        )
        refunded += max(amount, 0) if amount > 0 else 0
    if resale is not None:
        unit = factories.received_unit(rma.lines[0], slot=99)
        unit.grade = Grade.OPENED
        listing = Listing(
            unit_id=unit.id,
            partner_id=seller.id,
            channel="ebay",
            title="x",
            condition_id=1500,
            condition_description="",
            original_minor=resale,
            discount_bp=0,
            price_minor=resale,
            currency=currency,
            created_at=utcnow() - dt.timedelta(days=1),
        )
        db.session.add(listing)
        db.session.flush()
        listings.record_sale(
            db.session,
            ACTOR,
            unit.lpn,
            price_minor=resale,
            currency=currency,
            channel="ebay",
            sold_at=utcnow() - dt.timedelta(hours=1),
        )
    db.session.flush()

    entries = _entries(seller.id)
    gross = sum(q * p for q, p in lines)
    assert _sum(entries, "sale") == gross
    assert -_sum(entries, "commission") == basis_points_of(gross, rate)
    assert _sum(entries, "commission_credit") == basis_points_of(refunded, rate)
    if resale is not None:
        assert -_sum(entries, "resale_commission") == basis_points_of(resale, rate)

    today = _today()
    journal = list(
        accounting.lines(db.session, today - dt.timedelta(days=40), today, partner_id=seller.id)
    )
    assert len(journal) == 2 * len(entries)
    debit = sum(j.debit_minor for j in journal if j.currency == currency)
    credit = sum(j.credit_minor for j in journal if j.currency == currency)
    assert debit == credit
    payable = sum(
        j.credit_minor - j.debit_minor for j in journal if j.account == accounting.PAYABLE
    )
    months = {(e.booked_on.year, e.booked_on.month) for e in entries}
    balance = sum(
        ledger.statement(db.session, seller.id, y, m).totals[currency].balance_minor
        for y, m in months
    )
    assert payable == balance


def test_the_journal_csv_parses_back_and_matches_the_ledger(app):
    seller = factories.partner(code="ACME", commission_rate_bp=1000)
    order = factories.order(
        [(factories.product(seller, prices={"DKK": 37550}), 2)],
        country="DK",
        currency="DKK",
        delivered_days_ago=None,
    )
    _deliver(order)
    today = _today()
    text = "".join(accounting.as_csv(accounting.lines(db.session, today - dt.timedelta(9), today)))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == accounting.COLUMNS
    by_entry = {}
    for row in rows:
        by_entry.setdefault(int(row["entry"]), []).append(row)
    for entry in db.session.query(LedgerEntry).filter_by(partner_id=seller.id):
        debit, credit = by_entry[entry.id]
        assert int(debit["debit_minor"]) == int(credit["credit_minor"]) == abs(entry.amount_minor)
        assert (debit["currency"], debit["partner"], debit["reference"]) == (
            "DKK",
            "ACME",
            order.number,
        )
    sale = next(r for r in rows if r["kind"] == "sale" and r["debit"])
    assert (sale["account"], sale["debit"]) == ("1100", "751.00")
    document = json.loads(
        "".join(
            accounting.as_json(
                accounting.lines(db.session, today - dt.timedelta(9), today), {"from": "x"}
            )
        )
    )
    assert document["from"] == "x"
    assert len(document["lines"]) == len(rows)


def test_the_statement_explains_every_line_and_its_pdf_shows_the_numbers(app):
    seller = factories.partner(name="Acme Outdoor", commission_rate_bp=1000)
    order = factories.order(
        [(factories.product(seller, prices={"EUR": 5000}), 1)], delivered_days_ago=None
    )
    _deliver(order)
    booked = _entries(seller.id)[0].booked_on
    result = ledger.statement(db.session, seller.id, booked.year, booked.month)
    words = [line.text for line in result.lines]
    assert any(f"order {order.number}" in w and "the marketplace owes you" in w for w in words)
    assert any("Commission 10 %" in w and "you owe the marketplace" in w for w in words)
    assert [line.balance_minor for line in result.lines] == [5000, 4500]
    assert result.closing("EUR") == 4500
    text = pdf_text(money_pdf(statement_document(result, seller, ISSUER)))
    assert "€50.00" in text
    assert "-€5.00" in text
    assert "€45.00" in text  # the closing balance
    assert order.number in text
    rows = list(csv.DictReader(io.StringIO(ledger.statement_csv(result))))
    assert [r["balance_after_minor"] for r in rows] == ["5000", "4500"]


def test_an_invoice_bills_the_net_commission_of_an_ended_month(app):
    seller = factories.partner(name="Acme Outdoor", commission_rate_bp=1000)
    order = factories.order(
        [(factories.product(seller, prices={"EUR": 5000}), 2)], delivered_days_ago=None
    )
    last_month = (_today().replace(day=1) - dt.timedelta(days=1)).replace(day=15)
    _deliver(order)
    # Booked last month (a sale books on the day its delivery is recorded).
    for row in _entries(seller.id):
        row.booked_on = last_month
    rma = factories.return_request(order, [(order.lines[0], 1, factories.Reason.CHANGED_MIND)])
    unit = factories.received_unit(rma.lines[0])
    ledger.book_refund(
        db.session, unit, seller, amount_minor=5000, currency="EUR", booked_on=last_month
    )
    db.session.commit()
    today = _today()
    with pytest.raises(InvalidInput, match="has not ended"):
        invoices.issue(db.session, ACTOR, seller.id, today.year, today.month, "EUR", today=today)
    with pytest.raises(InvalidInput, match="no commission in GBP"):
        invoices.issue(
            db.session, ACTOR, seller.id, last_month.year, last_month.month, "GBP", today=today
        )
    first, issued = invoices.issue(
        db.session, ACTOR, seller.id, last_month.year, last_month.month, "EUR", today=today
    )
    again, issued_again = invoices.issue(
        db.session, ACTOR, seller.id, last_month.year, last_month.month, "EUR", today=today
    )
    assert (issued, issued_again) == (True, False)
    assert again.id == first.id
    assert (first.commission_minor, first.credited_minor, first.net_minor) == (1000, 500, 500)
    assert first.number == f"INV-{first.sequence:06d}"
    text = pdf_text(money_pdf(invoice_document(first, ISSUER)))
    assert first.number in text
    assert "Returnyard Marketplace B.V." in text
    assert "Acme Outdoor" in text
    assert "€10.00" in text
    assert "-€5.00" in text
    assert "€5.00" in text


def test_reconciliation_lists_every_difference_and_only_the_partners_own(app):
    """A missing sale, a commission off its rate, a refund booked for the wrong amount, a
    credit off by a minor unit and an invoice that differs from its month: each is listed."""
    from warehouse import reconciliation
    from warehouse.models import Invoice, RefundState

    seller = factories.partner(code="ACME", commission_rate_bp=1000)
    other = factories.partner(code="BOLT", commission_rate_bp=1000)
    fine = factories.order(
        [(factories.product(seller, prices={"EUR": 1000}), 1)], delivered_days_ago=None
    )
    _deliver(fine)
    assert reconciliation.differences(db.session) == []

    missing = factories.order([(factories.product(other, prices={"EUR": 2000}), 1)])
    missing.shipments[0].delivered_at = utcnow()  # delivered without its sale booked
    off = factories.order(
        [(factories.product(seller, prices={"EUR": 3000}), 1)], delivered_days_ago=None
    )
    _deliver(off)
    commission = next(
        e for e in _entries(seller.id, shipment_id=off.shipments[0].id) if e.kind == "commission"
    )
    commission.amount_minor = -299
    rma = factories.return_request(fine, [(fine.lines[0], 1, factories.Reason.CHANGED_MIND)])
    unit = factories.received_unit(rma.lines[0])
    ledger.book_refund(
        db.session, unit, seller, amount_minor=1000, currency="EUR", booked_on=_today()
    )
    unit.refund_state, unit.refund_minor = RefundState.APPROVED, 900  # not what was booked
    paid_wrongly = factories.received_unit(rma.lines[0], slot=2)
    paid_wrongly.refund_state, paid_wrongly.refund_paid_at = RefundState.REJECTED, utcnow()
    paid_wrongly.refund_paid_by = "partner"
    credit = next(e for e in _entries(seller.id, unit_id=unit.id) if e.kind == "commission_credit")
    credit.amount_minor += 1
    db.session.add(
        Invoice(
            sequence=1,
            number="INV-000001",
            partner_id=seller.id,
            period_start=_today().replace(day=1),
            period_end=_today(),
            currency="EUR",
            commission_minor=0,
            credited_minor=0,
            net_minor=12345,
            partner_details="Acme",
            issued_on=_today(),
            issued_by="test",
        )
    )
    db.session.flush()
    found = reconciliation.differences(db.session)
    checks = sorted((d.check, d.partner) for d in found)
    assert checks == sorted(
        [
            ("sale booked for a delivered shipment", "BOLT"),
            ("commission 10 % of the sale", "ACME"),
            ("approved refund booked", "ACME"),
            ("refunds paid are approved refunds", "ACME"),
            ("commission 10 % credited on refunds", "ACME"),
            ("invoice net = commission booked - credited", "ACME"),
        ]
    ), found
    sale = next(d for d in found if d.partner == "BOLT")
    assert (sale.expected, sale.found) == ("EUR 20.00", "nothing")
    assert {d.partner for d in reconciliation.differences(db.session, partner_id=other.id)} == {
        "BOLT"
    }


def test_a_channels_sold_report_books_good_rows_and_names_bad_ones(app):
    """The CSV import: each good row booked once, each bad row named by row and column."""
    seller = factories.listed_units(2)
    lpns = [
        row.unit.lpn
        for row in db.session.query(Listing).filter_by(partner_id=seller.id).order_by(Listing.id)
    ]
    db.session.commit()
    now = utcnow().isoformat()
    report_csv = (
        "lpn,price,currency,channel,sold_at\n"
        f"{lpns[0]},25.00,EUR,own_shop,{now}\n"
        f"{lpns[1]},twenty,EUR,own_shop,{now}\n"
        f"LPNOPE,25.00,EUR,own_shop,{now}\n"
        f"{lpns[1]},25.00,EUR,own_shop,2026-11-30T10:00:00\n"
    ).encode()
    report = listings.import_sales(db.session, ACTOR, report_csv)
    assert report.booked == 1
    assert [(line, column) for line, column, _ in report.problems] == [
        (3, "price"),
        (4, "lpn"),
        (5, "sold_at"),
    ]
    again = listings.import_sales(db.session, ACTOR, report_csv)
    assert (again.booked, again.repeated) == (0, 1)
    kinds = [e.kind for e in _entries(seller.id)]
    assert kinds.count("resale_proceeds") == 1
    header = listings.import_sales(db.session, ACTOR, b"lpn,amount\n1,2\n")
    assert header.problems[0][0] == 1
