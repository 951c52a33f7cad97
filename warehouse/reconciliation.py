"""Reconciliation: every place where the money records disagree, listed so a person can act.

Checks (each difference names the record and both numbers):
- a delivered shipment's booked sale equals the sum of its lines, and its commission equals
  rate x sale (half away from zero);
- an order's total equals the sum of its shipments' lines;
- every approved refund of a unit is booked once, for its amount;
- commission credited on a shipment is exactly rate x refunds booked on it;
- an issued invoice's net equals the commission booked less credited in its month.
"""

from __future__ import annotations

import datetime as dt
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
    Shipment,
    Unit,
)
from warehouse.money import basis_points_of, format_minor

LIMIT = 500


@dataclass(frozen=True)
class Difference:
    """One disagreement between two money records."""

    check: str
    subject: str  # what it is about, as people look it up (order, LPN, invoice number)
    expected: str
    found: str
    partner: str = ""


def _sums(session: Session, column, kinds, where) -> dict:
    return dict(
        session.execute(
            sa.select(column, sa.func.sum(LedgerEntry.amount_minor))
            .where(LedgerEntry.kind.in_(kinds), where)
            .group_by(column)
        ).all()
    )


def differences(
    session: Session, *, partner_id: int | None = None, limit: int = LIMIT
) -> list[Difference]:
    """Every difference found (at most `limit`), in check order."""
    found: list[Difference] = []
    mine = (LedgerEntry.partner_id == partner_id) if partner_id is not None else sa.true()
    codes = dict(session.execute(sa.select(Partner.id, Partner.code)).all())

    # Sales and their commission, per delivered shipment.
    line_totals = sa.select(
        OrderLine.shipment_id,
        sa.func.sum(OrderLine.quantity * OrderLine.unit_price_minor).label("gross"),
    ).group_by(OrderLine.shipment_id)
    line_totals = line_totals.subquery()
    query = (
        sa.select(Shipment, Order.number, Order.currency, line_totals.c.gross)
        .join(Order, Order.id == Shipment.order_id)
        .join(line_totals, line_totals.c.shipment_id == Shipment.id)
        .where(Shipment.delivered_at.is_not(None))
        .order_by(Shipment.id)
    )
    if partner_id is not None:
        query = query.where(Shipment.partner_id == partner_id)
    shipments = session.execute(query).all()
    ids = [row[0].id for row in shipments]
    booked_here = LedgerEntry.shipment_id.in_(ids)
    sales = _sums(session, LedgerEntry.shipment_id, (ledger.SALE,), booked_here)
    commission = {
        shipment_id: (amount, rate)
        for shipment_id, amount, rate in session.execute(
            sa.select(LedgerEntry.shipment_id, LedgerEntry.amount_minor, LedgerEntry.rate_bp).where(
                LedgerEntry.kind == ledger.COMMISSION, booked_here
            )
        )
    }
    for shipment, number, currency, gross in shipments:
        partner = codes.get(shipment.partner_id, "")
        booked = sales.get(shipment.id)
        if booked != gross:
            found.append(
                Difference(
                    "sale booked for a delivered shipment",
                    f"order {number}, shipment {shipment.id}",
                    format_minor(int(gross), currency),
                    format_minor(int(booked), currency) if booked is not None else "nothing",
                    partner,
                )
            )
        charged = commission.get(shipment.id)
        if booked is not None and charged is not None:
            amount, rate = charged
            if -amount != basis_points_of(int(booked), rate):
                found.append(
                    Difference(
                        f"commission {rate / 100:g} % of the sale",
                        f"order {number}, shipment {shipment.id}",
                        format_minor(basis_points_of(int(booked), rate), currency),
                        format_minor(-amount, currency),
                        partner,
                    )
                )
        if len(found) >= limit:
            return found

    # Orders: their total is the sum of their shipments' lines (every line is on a shipment).
    unshipped = session.execute(
        sa.select(Order.number, sa.func.count())
        .join(OrderLine, OrderLine.order_id == Order.id)
        .outerjoin(Shipment, Shipment.id == OrderLine.shipment_id)
        .where(Shipment.id.is_(None) | (Shipment.order_id != Order.id))
        .group_by(Order.number)
    ).all()
    for number, lines in unshipped:
        found.append(
            Difference("order lines on its own shipments", f"order {number}", "all", f"{lines} not")
        )

    # Approved refunds: booked once, for their amount.
    units = sa.select(Unit.id, Unit.lpn, Unit.partner_id, Unit.refund_minor).where(
        Unit.refund_state == RefundState.APPROVED, Unit.refund_minor > 0
    )
    if partner_id is not None:
        units = units.where(Unit.partner_id == partner_id)
    approved = session.execute(units.order_by(Unit.id)).all()
    booked_refunds = _sums(
        session,
        LedgerEntry.unit_id,
        ledger.REFUND_KINDS,
        LedgerEntry.unit_id.in_([row.id for row in approved]),
    )
    currencies = dict(
        session.execute(
            sa.select(LedgerEntry.unit_id, LedgerEntry.currency).where(
                LedgerEntry.unit_id.in_([row.id for row in approved])
            )
        ).all()
    )
    for unit_id, lpn, owner, amount in approved:
        booked = -(booked_refunds.get(unit_id) or 0)
        if booked != amount:
            currency = currencies.get(unit_id, "EUR")
            found.append(
                Difference(
                    "approved refund booked",
                    f"unit {lpn}",
                    format_minor(amount, currency),
                    format_minor(booked, currency),
                    codes.get(owner, ""),
                )
            )
        if len(found) >= limit:
            return found

    # Commission credited per shipment = rate x refunds booked on it.
    rows = session.execute(
        sa.select(
            LedgerEntry.shipment_id,
            LedgerEntry.partner_id,
            LedgerEntry.currency,
            LedgerEntry.kind,
            sa.func.sum(LedgerEntry.amount_minor),
            sa.func.max(LedgerEntry.rate_bp),
        )
        .where(
            LedgerEntry.kind.in_((*ledger.REFUND_KINDS, ledger.COMMISSION_CREDIT)),
            LedgerEntry.shipment_id.is_not(None),
            mine,
        )
        .group_by(
            LedgerEntry.shipment_id, LedgerEntry.partner_id, LedgerEntry.currency, LedgerEntry.kind
        )
    ).all()
    per_shipment: dict[int, dict] = {}
    for shipment_id, owner, currency, kind, total, rate in rows:
        slot = per_shipment.setdefault(
            shipment_id, {"partner": owner, "currency": currency, "refunded": 0, "credited": 0}
        )
        if kind == ledger.COMMISSION_CREDIT:
            slot["credited"] += int(total)
            slot["rate"] = rate
        else:
            slot["refunded"] -= int(total)
    for shipment_id, slot in sorted(per_shipment.items()):
        rate = slot.get("rate")
        if rate is None:
            continue
        expected = basis_points_of(slot["refunded"], rate)
        if expected != slot["credited"]:
            found.append(
                Difference(
                    f"commission {rate / 100:g} % credited on refunds",
                    f"shipment {shipment_id}",
                    format_minor(expected, slot["currency"]),
                    format_minor(slot["credited"], slot["currency"]),
                    codes.get(slot["partner"], ""),
                )
            )

    # Invoices: net = commission booked - credited in the month.
    invoices = sa.select(Invoice).order_by(Invoice.sequence)
    if partner_id is not None:
        invoices = invoices.where(Invoice.partner_id == partner_id)
    for invoice in session.scalars(invoices):
        month = ledger.statement(
            session, invoice.partner_id, invoice.period_start.year, invoice.period_start.month
        ).totals.get(invoice.currency)
        net = month.net_commission_minor if month else 0
        if net != invoice.net_minor:
            found.append(
                Difference(
                    "invoice net = commission booked - credited",
                    f"invoice {invoice.number}",
                    format_minor(net, invoice.currency),
                    format_minor(invoice.net_minor, invoice.currency),
                    codes.get(invoice.partner_id, ""),
                )
            )
    return found[:limit]


def checked_at() -> dt.datetime:
    """When a check ran (for the screen and the command's report)."""
    return dt.datetime.now(dt.UTC)
