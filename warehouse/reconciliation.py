"""Reconciliation: every place where the money records disagree, listed so a person can act.

Checks (each difference names the record and both numbers):
- a delivered shipment's booked sale equals the sum of its lines, and its commission equals
  rate x sale (half away from zero);
- every order line belongs to a shipment of its own order (an order's total is its shipments');
- every approved refund of a unit is booked once, for its amount, and only approved refunds are
  paid (refunds approved = paid + due);
- commission credited on a shipment is exactly rate x refunds booked on it;
- an issued invoice's net equals the commission booked less credited in its month.

Each check is one aggregate query that keeps only the rows that disagree (at most `limit`), so
a check reads the records once and answers with the few differences, not with every record.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import ledger
from warehouse.models import (
    Invoice,
    LedgerEntry,
    Order,
    OrderLine,
    Partner,
    RefundState,
    ReturnRequest,
    Shipment,
    Unit,
)
from warehouse.money import format_minor

LIMIT = 500


@dataclass(frozen=True)
class Difference:
    """One disagreement between two money records."""

    check: str
    subject: str  # what it is about, as people look it up (order, LPN, invoice number)
    expected: str
    found: str
    partner: str = ""


def _rounded(minor, rate):
    """The rate (bp) of an amount, half away from zero, in SQL (amounts here are >= 0)."""
    return (minor * rate + 5000) // 10000


def _sum(kinds, key):
    return (
        sa.select(key.label("key"), sa.func.sum(LedgerEntry.amount_minor).label("total"))
        .where(LedgerEntry.kind.in_(kinds))
        .group_by(key)
        .subquery()
    )


def _sales(session: Session, partner_id: int | None, limit: int) -> list[Difference]:
    gross = (
        sa.select(
            OrderLine.shipment_id.label("shipment_id"),
            sa.func.sum(OrderLine.quantity * OrderLine.unit_price_minor).label("gross"),
        )
        .group_by(OrderLine.shipment_id)
        .subquery()
    )
    sale = _sum((ledger.SALE,), LedgerEntry.shipment_id)
    commission = (
        sa.select(
            LedgerEntry.shipment_id.label("key"),
            sa.func.sum(-LedgerEntry.amount_minor).label("total"),
            sa.func.max(LedgerEntry.rate_bp).label("rate"),
        )
        .where(LedgerEntry.kind == ledger.COMMISSION)
        .group_by(LedgerEntry.shipment_id)
        .subquery()
    )
    query = (
        sa.select(
            Shipment.id,
            Order.number,
            Order.currency,
            Partner.code,
            gross.c.gross,
            sale.c.total,
            commission.c.total,
            commission.c.rate,
        )
        .join(Order, Order.id == Shipment.order_id)
        .join(Partner, Partner.id == Shipment.partner_id)
        .join(gross, gross.c.shipment_id == Shipment.id)
        .outerjoin(sale, sale.c.key == Shipment.id)
        .outerjoin(commission, commission.c.key == Shipment.id)
        .where(
            Shipment.delivered_at.is_not(None),
            Shipment.exchange_for_unit_id.is_(None),  # nothing is sold again by an exchange
            sa.or_(
                sale.c.total.is_(None),
                sale.c.total != gross.c.gross,
                commission.c.total.is_(None),
                commission.c.total != _rounded(sale.c.total, commission.c.rate),
            ),
        )
        .order_by(Shipment.id)
        .limit(limit)
    )
    if partner_id is not None:
        query = query.where(Shipment.partner_id == partner_id)
    found = []
    for shipment_id, number, currency, code, total, booked, charged, rate in session.execute(query):
        subject = f"order {number}, shipment {shipment_id}"
        if booked is None or int(booked) != int(total):
            found.append(
                Difference(
                    "sale booked for a delivered shipment",
                    subject,
                    format_minor(int(total), currency),
                    format_minor(int(booked), currency) if booked is not None else "nothing",
                    code,
                )
            )
            continue
        expected = (int(booked) * int(rate or 0) + 5000) // 10000
        found.append(
            Difference(
                f"commission {int(rate or 0) / 100:g} % of the sale",
                subject,
                format_minor(expected, currency),
                format_minor(int(charged), currency) if charged is not None else "nothing",
                code,
            )
        )
    return found


def _partner_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(sa.select(Partner.id, Partner.code)).all())


def differences(
    session: Session, *, partner_id: int | None = None, limit: int = LIMIT
) -> list[Difference]:
    """Every difference found (at most `limit`), in check order; a partner's own only."""
    codes = _partner_codes(session)
    found = _sales(session, partner_id, limit)

    # Order lines on a shipment of another order (an order's total would not be its shipments').
    stray = (
        sa.select(Order.number, Shipment.partner_id, sa.func.count())
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Shipment, Shipment.id == OrderLine.shipment_id)
        .where(Shipment.order_id != Order.id)
        .group_by(Order.number, Shipment.partner_id)
        .limit(limit)
    )
    if partner_id is not None:
        stray = stray.where(Shipment.partner_id == partner_id)
    for number, owner, lines in session.execute(stray):
        found.append(
            Difference(
                "order lines on its own shipments",
                f"order {number}",
                "all",
                f"{lines} on another order's",
                codes.get(owner, ""),
            )
        )

    # Approved refunds: booked once, for their amount.
    refunds = _sum(ledger.REFUND_KINDS, LedgerEntry.unit_id)
    approved = (
        sa.select(Unit.lpn, Unit.partner_id, Unit.refund_minor, refunds.c.total, Order.currency)
        .join(ReturnRequest, ReturnRequest.id == Unit.return_id)
        .join(Order, Order.id == ReturnRequest.order_id)
        .outerjoin(refunds, refunds.c.key == Unit.id)
        .where(
            Unit.refund_state == RefundState.APPROVED,
            Unit.refund_minor > 0,
            sa.or_(refunds.c.total.is_(None), -refunds.c.total != Unit.refund_minor),
        )
        .order_by(Unit.id)
        .limit(limit)
    )
    if partner_id is not None:
        approved = approved.where(Unit.partner_id == partner_id)
    for lpn, owner, amount, booked, currency in session.execute(approved):
        found.append(
            Difference(
                "approved refund booked",
                f"unit {lpn}",
                format_minor(amount, currency),
                format_minor(-int(booked), currency) if booked is not None else "nothing",
                codes.get(owner, ""),
            )
        )

    # Refunds approved = paid + due: nothing is paid that is not an approved refund.
    paid = (
        sa.select(Unit.lpn, Unit.partner_id, Unit.refund_state, Unit.refund_paid_by)
        .where(
            Unit.refund_paid_at.is_not(None),
            sa.or_(Unit.refund_state != RefundState.APPROVED, Unit.refund_state.is_(None)),
        )
        .order_by(Unit.id)
        .limit(limit)
    )
    if partner_id is not None:
        paid = paid.where(Unit.partner_id == partner_id)
    for lpn, owner, state, paid_by in session.execute(paid):
        found.append(
            Difference(
                "refunds paid are approved refunds",
                f"unit {lpn}",
                "approved",
                f"{state.value if state else 'undecided'}, paid by the {paid_by}",
                codes.get(owner, ""),
            )
        )

    # Commission credited per shipment = rate x refunds booked on it (shipments with a rate).
    credits = (
        sa.select(
            LedgerEntry.shipment_id.label("shipment_id"),
            LedgerEntry.partner_id.label("partner_id"),
            LedgerEntry.currency.label("currency"),
            sa.func.sum(
                sa.case((LedgerEntry.kind.in_(ledger.REFUND_KINDS), -LedgerEntry.amount_minor))
            ).label("refunded"),
            sa.func.sum(
                sa.case((LedgerEntry.kind == ledger.COMMISSION_CREDIT, LedgerEntry.amount_minor))
            ).label("credited"),
            sa.func.max(
                sa.case((LedgerEntry.kind == ledger.COMMISSION_CREDIT, LedgerEntry.rate_bp))
            ).label("rate"),
        )
        .where(
            LedgerEntry.kind.in_((*ledger.REFUND_KINDS, ledger.COMMISSION_CREDIT)),
            LedgerEntry.shipment_id.is_not(None),
        )
        .group_by(LedgerEntry.shipment_id, LedgerEntry.partner_id, LedgerEntry.currency)
        .subquery()
    )
    credited = (
        sa.select(credits)
        .where(
            credits.c.rate.is_not(None),
            sa.func.coalesce(credits.c.credited, 0)
            != _rounded(sa.func.coalesce(credits.c.refunded, 0), credits.c.rate),
        )
        .order_by(credits.c.shipment_id)
        .limit(limit)
    )
    if partner_id is not None:
        credited = credited.where(credits.c.partner_id == partner_id)
    for shipment_id, owner, currency, refunded, credit, rate in session.execute(credited):
        expected = (int(refunded or 0) * int(rate) + 5000) // 10000
        found.append(
            Difference(
                f"commission {int(rate) / 100:g} % credited on refunds",
                f"shipment {shipment_id}",
                format_minor(expected, currency),
                format_minor(int(credit or 0), currency),
                codes.get(owner, ""),
            )
        )

    # Invoices: net = commission booked - credited in the month, one query for all of them.
    month_net = (
        sa.select(
            # commission is booked negative, its credits positive: net = -(their sum)
            sa.func.coalesce(sa.func.sum(-LedgerEntry.amount_minor), 0)
        )
        .where(
            LedgerEntry.partner_id == Invoice.partner_id,
            LedgerEntry.currency == Invoice.currency,
            LedgerEntry.booked_on >= Invoice.period_start,
            LedgerEntry.booked_on <= Invoice.period_end,
            LedgerEntry.kind.in_((*ledger.COMMISSION_KINDS, ledger.COMMISSION_CREDIT)),
        )
        .correlate(Invoice)
        .scalar_subquery()
    )
    invoiced = (
        sa.select(
            Invoice.number, Invoice.partner_id, Invoice.currency, Invoice.net_minor, month_net
        )
        .where(Invoice.net_minor != month_net)
        .order_by(Invoice.sequence)
        .limit(limit)
    )
    if partner_id is not None:
        invoiced = invoiced.where(Invoice.partner_id == partner_id)
    for number, owner, currency, net, booked in session.execute(invoiced):
        found.append(
            Difference(
                "invoice net = commission booked - credited",
                f"invoice {number}",
                format_minor(int(booked), currency),
                format_minor(net, currency),
                codes.get(owner, ""),
            )
        )
    return found[:limit]
