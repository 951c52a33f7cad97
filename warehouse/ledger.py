"""Money booked to partners for approved refunds, and the partner statement per month.

Sign convention: an entry's amount is seen from the partner: positive is owed to the partner by
the marketplace, negative is owed by (or paid by) the partner.

Each approved refund R of a unit books:
- `refund_by_partner` -R when the partner pays the customer itself (it settles outside the
  marketplace: shown on the statement, not in the balance), or
- `refund_by_marketplace` -R when the marketplace paid the customer on the partner's behalf
  (the partner owes it back: in the balance);
- `commission_credit` +commission_rate x R, rounded half away from zero: the marketplace only
  keeps commission on what stays sold (SPEC section 3.6).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from warehouse.models import LedgerEntry, Partner, Unit
from warehouse.money import basis_points_of

REFUND_BY_PARTNER = "refund_by_partner"
REFUND_BY_MARKETPLACE = "refund_by_marketplace"
COMMISSION_CREDIT = "commission_credit"
REFUND_KINDS = (REFUND_BY_PARTNER, REFUND_BY_MARKETPLACE)
SETTLED_KINDS = (REFUND_BY_MARKETPLACE, COMMISSION_CREDIT)
KIND_LABELS = {
    REFUND_BY_PARTNER: "Refund paid by you",
    REFUND_BY_MARKETPLACE: "Refund paid by the marketplace for you",
    COMMISSION_CREDIT: "Commission credited back",
}


def commission_credit(refunded_minor: int, commission_rate_bp: int) -> int:
    """The commission given back on a refund: rate x refunded amount, half away from zero."""
    return basis_points_of(refunded_minor, commission_rate_bp)


def book_refund(
    session: Session,
    unit: Unit,
    partner: Partner,
    *,
    amount_minor: int,
    currency: str,
    booked_on: dt.date,
    memo: str = "",
) -> list[LedgerEntry]:
    """Book an approved refund of `amount_minor` for `unit`: refund and commission credit."""
    if amount_minor <= 0:
        return []
    refund_kind = (
        REFUND_BY_MARKETPLACE if partner.refund_paid_by == "marketplace" else (REFUND_BY_PARTNER)
    )
    entries = [
        LedgerEntry(
            partner_id=partner.id,
            kind=refund_kind,
            amount_minor=-amount_minor,
            currency=currency,
            return_id=unit.return_id,
            unit_id=unit.id,
            booked_on=booked_on,
            memo=(memo or f"refund {unit.lpn}")[:250],
        ),
        LedgerEntry(
            partner_id=partner.id,
            kind=COMMISSION_CREDIT,
            amount_minor=commission_credit(amount_minor, partner.commission_rate_bp),
            currency=currency,
            return_id=unit.return_id,
            unit_id=unit.id,
            booked_on=booked_on,
            memo=f"commission {partner.commission_rate_bp / 100:g} % on refund {unit.lpn}",
        ),
    ]
    session.add_all(entries)
    return entries


@dataclass
class CurrencyTotals:
    """One currency's sums on a statement."""

    currency: str
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def refunded_minor(self) -> int:
        """Total refunded to customers (a positive number)."""
        return -sum(self.by_kind.get(kind, 0) for kind in REFUND_KINDS)

    @property
    def commission_credit_minor(self) -> int:
        """Commission credited back this month, minor units."""
        return self.by_kind.get(COMMISSION_CREDIT, 0)

    @property
    def balance_minor(self) -> int:
        """What the marketplace owes the partner for the period (negative: the partner owes)."""
        return sum(self.by_kind.get(kind, 0) for kind in SETTLED_KINDS)


@dataclass
class Statement:
    """A partner's ledger for one calendar month: every entry and the sums per currency."""

    partner_id: int
    period_start: dt.date
    period_end: dt.date
    entries: list[LedgerEntry]
    totals: dict[str, CurrencyTotals]


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """First and last day of a month."""
    if not 1 <= month <= 12:
        raise ValueError("month must be 1-12")
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def statement(session: Session, partner_id: int, year: int, month: int) -> Statement:
    """The statement of `partner_id` for a month, booked-on dates inclusive."""
    start, end = month_bounds(year, month)
    entries = list(
        session.query(LedgerEntry)
        .filter(
            LedgerEntry.partner_id == partner_id,
            LedgerEntry.booked_on >= start,
            LedgerEntry.booked_on <= end,
        )
        .order_by(LedgerEntry.booked_on, LedgerEntry.id)
    )
    totals: dict[str, CurrencyTotals] = {}
    for entry in entries:
        sums = totals.setdefault(entry.currency, CurrencyTotals(entry.currency))
        sums.by_kind[entry.kind] = sums.by_kind.get(entry.kind, 0) + entry.amount_minor
    return Statement(partner_id, start, end, entries, dict(sorted(totals.items())))
