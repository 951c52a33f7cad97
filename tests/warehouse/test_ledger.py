"""Ledger entries of approved refunds and the partner's monthly statement."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from warehouse import ledger
from warehouse.cases import decide_case
from warehouse.db import db
from warehouse.events import Actor

ACTOR = Actor(label="partner")


@pytest.mark.parametrize(
    ("refund", "rate_bp", "credit"),
    [
        (4999, 1000, 500),
        (4999, 1200, 600),
        (4499, 1500, 675),
        (5, 1000, 1),
        (4, 1000, 0),
        (15, 500, 1),
        (12345, 2000, 2469),
        (0, 1000, 0),
        (-15, 1000, -2),
    ],
)
def test_commission_credit_rounds_half_away_from_zero(refund, rate_bp, credit):
    assert ledger.commission_credit(refund, rate_bp) == credit


def test_statement_sums_refunds_and_commission_per_currency(app):
    partner = factories.partner(commission_rate_bp=1000, refund_paid_by="marketplace")
    november, december = dt.date(2026, 11, 30), dt.date(2026, 12, 1)
    decisions = [
        (4999, "EUR", november, 3333),
        (2500, "EUR", november, 2500),
        (37500, "DKK", november, 11111),
        (9999, "EUR", december, 9999),
    ]
    for price, currency, booked_on, amount in decisions:
        case = factories.open_case(
            partner, price=price, currency=currency, country="DK" if currency == "DKK" else "NL"
        )
        decide_case(
            db.session,
            ACTOR,
            case.id,
            action="adjust",
            amount_minor=amount,
            reason="agreed",
            via="portal",
            today=booked_on,
        )
    db.session.commit()

    statement = ledger.statement(db.session, partner.id, 2026, 11)
    assert (statement.period_start, statement.period_end) == (dt.date(2026, 11, 1), november)
    assert len(statement.entries) == 6
    eur, dkk = statement.totals["EUR"], statement.totals["DKK"]
    assert eur.refunded_minor == 3333 + 2500
    assert eur.commission_credit_minor == 333 + 250
    assert eur.balance_minor == -(3333 + 2500) + 333 + 250
    assert (dkk.refunded_minor, dkk.commission_credit_minor) == (11111, 1111)
    assert ledger.statement(db.session, partner.id, 2026, 12).totals["EUR"].refunded_minor == 9999
    other = factories.partner()
    assert ledger.statement(db.session, other.id, 2026, 11).entries == []


def test_refunds_paid_by_the_partner_are_shown_but_not_in_the_balance(app):
    partner = factories.partner(commission_rate_bp=2000, refund_paid_by="partner")
    unit = factories.received(partner, price=1000)
    factories.grade(unit, "new", today=dt.date(2026, 11, 5))
    totals = ledger.statement(db.session, partner.id, 2026, 11).totals["EUR"]
    assert totals.by_kind == {"refund_by_partner": -1000, "commission_credit": 200}
    assert (totals.refunded_minor, totals.balance_minor) == (1000, 200)


def test_a_rejected_or_zero_refund_books_nothing(app):
    case = factories.open_case()
    decide_case(
        db.session,
        ACTOR,
        case.id,
        action="adjust",
        amount_minor=0,
        reason="worn",
        via="portal",
        today=dt.date(2026, 11, 5),
    )
    assert ledger.statement(db.session, case.partner_id, 2026, 11).entries == []


def test_month_bounds_refuse_a_bad_month():
    assert ledger.month_bounds(2028, 2) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    with pytest.raises(ValueError, match="month"):
        ledger.month_bounds(2026, 13)
