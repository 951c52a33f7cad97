"""Money booked to partners: sales and their commission, refunds and the commission credited
back, resale proceeds; the partner's statement per month and the double-entry journal.

Sign convention: an entry's amount is seen from the partner: positive is owed to the partner by
the marketplace, negative is owed by (or paid by) the partner.

- A shipment delivered books `sale` +G (the marketplace collected the customer's payment of its
  lines, G) and `commission` -rate x G, rounded half away from zero, at the partner's rate then.
- An approved refund R of a unit books `refund_by_partner` -R when the partner pays the customer
  itself (it settles outside the marketplace: on the statement, not in the balance), or
  `refund_by_marketplace` -R when the marketplace paid the customer on the partner's behalf;
  and `commission_credit`: the marketplace keeps commission only on what stays sold (SPEC 3.6).
  The credit is counted on the shipment's refunds so far at the sale's rate, so partial refunds
  add up exactly: refunding everything credits back exactly the commission booked.
- A returned unit sold again by a resale channel books `resale_proceeds` +P (what the channel
  sold it for) and `resale_commission` -rate x P.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse.db import lock_row
from warehouse.errors import InvalidInput
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import LedgerEntry, Listing, Order, Partner, Shipment, Unit
from warehouse.money import basis_points_of, to_decimal_string

SALE = "sale"
COMMISSION = "commission"
REFUND_BY_PARTNER = "refund_by_partner"
REFUND_BY_MARKETPLACE = "refund_by_marketplace"
COMMISSION_CREDIT = "commission_credit"
RESALE_PROCEEDS = "resale_proceeds"
RESALE_COMMISSION = "resale_commission"
KINDS = (
    SALE,
    COMMISSION,
    REFUND_BY_PARTNER,
    REFUND_BY_MARKETPLACE,
    COMMISSION_CREDIT,
    RESALE_PROCEEDS,
    RESALE_COMMISSION,
)
REFUND_KINDS = (REFUND_BY_PARTNER, REFUND_BY_MARKETPLACE)
COMMISSION_KINDS = (COMMISSION, RESALE_COMMISSION)
# What the balance with the marketplace is made of: all but the refunds partners pay directly.
SETTLED_KINDS = tuple(kind for kind in KINDS if kind != REFUND_BY_PARTNER)
KIND_LABELS = {
    SALE: _l("Sale"),
    COMMISSION: _l("Commission on the sale"),
    REFUND_BY_PARTNER: _l("Refund paid by you"),
    REFUND_BY_MARKETPLACE: _l("Refund paid by the marketplace for you"),
    COMMISSION_CREDIT: _l("Commission credited back"),
    RESALE_PROCEEDS: _l("Resale of a returned item"),
    RESALE_COMMISSION: _l("Commission on the resale"),
}


def commission_credit(refunded_minor: int, commission_rate_bp: int) -> int:
    """The commission given back on a refund: rate x refunded amount, half away from zero."""
    return basis_points_of(refunded_minor, commission_rate_bp)


def book_sale(session: Session, shipment: Shipment, *, booked_on: dt.date) -> list[LedgerEntry]:
    """Book a delivered shipment once: the sale of its lines and the commission on it, at the
    partner's rate now, on `booked_on` (the day it is recorded: a month already invoiced or
    stated is never changed afterwards). Two deliveries reported at once book it once."""
    lock_row(session, Shipment, shipment.id)
    booked = session.scalar(
        sa.select(LedgerEntry.id).where(
            LedgerEntry.shipment_id == shipment.id, LedgerEntry.kind == SALE
        )
    )
    gross = shipment.total_minor  # an exchange: 0, its sale was the original shipment's
    if booked is not None or gross <= 0:
        return []
    partner = shipment.partner
    rate = partner.commission_rate_bp
    order = shipment.order
    common = {
        "partner_id": partner.id,
        "currency": order.currency,
        "order_id": order.id,
        "shipment_id": shipment.id,
        "booked_on": booked_on,
    }
    entries = [
        LedgerEntry(kind=SALE, amount_minor=gross, memo=f"sale, order {order.number}", **common),
        LedgerEntry(
            kind=COMMISSION,
            amount_minor=-basis_points_of(gross, rate),
            rate_bp=rate,
            memo=f"commission {rate / 100:g} % on order {order.number}",
            **common,
        ),
    ]
    session.add_all(entries)
    return entries


def _sale_rate(session: Session, shipment_id: int, partner: Partner) -> int:
    """The rate the shipment's commission was booked at (the partner's rate now for shipments
    delivered before sales were booked)."""
    rate = session.scalar(
        sa.select(LedgerEntry.rate_bp).where(
            LedgerEntry.shipment_id == shipment_id, LedgerEntry.kind == COMMISSION
        )
    )
    return rate if rate is not None else partner.commission_rate_bp


def credit_for(refunded_before: int, refund: int, rate_bp: int) -> int:
    """The commission credited for `refund` on a shipment that had `refunded_before` refunded:
    the commission on the refunds so far, less the part credited already. Summed over any
    sequence of partial refunds it is exactly the commission on their total."""
    return commission_credit(refunded_before + refund, rate_bp) - commission_credit(
        refunded_before, rate_bp
    )


def _unit_links(unit: Unit, currency: str, booked_on: dt.date) -> dict:
    """What every entry about a returned unit carries: its partner, return, order, shipment."""
    rma = unit.return_request
    return {
        "partner_id": unit.partner_id,
        "currency": currency,
        "return_id": unit.return_id,
        "unit_id": unit.id,
        "order_id": rma.order_id,
        "shipment_id": rma.shipment_id,
        "booked_on": booked_on,
    }


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
    rma = unit.return_request
    # Two refunds of one shipment at once: the second reads the first's before crediting.
    lock_row(session, Shipment, rma.shipment_id)
    refund_kind = (
        REFUND_BY_MARKETPLACE if partner.refund_paid_by == "marketplace" else (REFUND_BY_PARTNER)
    )
    refunded_before = -(
        session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_minor), 0)).where(
                LedgerEntry.shipment_id == rma.shipment_id,
                LedgerEntry.kind.in_(REFUND_KINDS),
            )
        )
        or 0
    )
    rate = _sale_rate(session, rma.shipment_id, partner)
    common = _unit_links(unit, currency, booked_on)
    entries = [
        LedgerEntry(
            kind=refund_kind,
            amount_minor=-amount_minor,
            memo=(memo or f"refund {unit.lpn}")[:250],
            **common,
        ),
        LedgerEntry(
            kind=COMMISSION_CREDIT,
            amount_minor=credit_for(refunded_before, amount_minor, rate),
            rate_bp=rate,
            memo=f"commission {rate / 100:g} % on refund {unit.lpn}",
            **common,
        ),
    ]
    session.add_all(entries)
    session.flush()
    return entries


def resale_credit(session: Session, unit_id: int) -> int:
    """What the partner was credited for a unit's resale: the proceeds less the commission, as
    booked."""
    return int(
        session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_minor), 0)).where(
                LedgerEntry.unit_id == unit_id,
                LedgerEntry.kind.in_((RESALE_PROCEEDS, RESALE_COMMISSION)),
            )
        )
        or 0
    )


def book_resale(
    session: Session, listing: Listing, *, proceeds_minor: int, channel: str, booked_on: dt.date
) -> list[LedgerEntry]:
    """Credit the partner what a channel sold a returned unit for, less the commission."""
    unit = listing.unit
    partner = unit.partner
    rate = partner.commission_rate_bp
    common = _unit_links(unit, listing.currency, booked_on)
    entries = [
        LedgerEntry(
            kind=RESALE_PROCEEDS,
            amount_minor=proceeds_minor,
            memo=f"resale of {unit.lpn} on {channel}"[:250],
            **common,
        ),
        LedgerEntry(
            kind=RESALE_COMMISSION,
            amount_minor=-basis_points_of(proceeds_minor, rate),
            rate_bp=rate,
            memo=f"commission {rate / 100:g} % on the resale of {unit.lpn}",
            **common,
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
    def refunded_by_marketplace_minor(self) -> int:
        """Refunds the marketplace paid for the partner this month (a positive number)."""
        return -self.by_kind.get(REFUND_BY_MARKETPLACE, 0)

    @property
    def refunded_by_partner_minor(self) -> int:
        """Refunds the partner pays its customers itself (listed, not in the balance)."""
        return -self.by_kind.get(REFUND_BY_PARTNER, 0)

    @property
    def commission_credit_minor(self) -> int:
        """Commission credited back this month, minor units."""
        return self.by_kind.get(COMMISSION_CREDIT, 0)

    @property
    def sold_minor(self) -> int:
        """Sales and resales this month (what customers and channels paid)."""
        return self.by_kind.get(SALE, 0) + self.by_kind.get(RESALE_PROCEEDS, 0)

    @property
    def commission_minor(self) -> int:
        """Commission charged this month on sales and resales (a positive number)."""
        return -sum(self.by_kind.get(kind, 0) for kind in COMMISSION_KINDS)

    @property
    def net_commission_minor(self) -> int:
        """Commission charged less commission credited back: what the invoice bills."""
        return self.commission_minor - self.commission_credit_minor

    @property
    def balance_minor(self) -> int:
        """What the marketplace owes the partner for the period (negative: the partner owes)."""
        return sum(self.by_kind.get(kind, 0) for kind in SETTLED_KINDS)


@dataclass(frozen=True)
class StatementLine:
    """One entry of a statement in words: the order it belongs to, what happened, who owes whom,
    and the balance with the marketplace after it."""

    booked_on: dt.date
    reference: str  # the order number (the partner's own reference for a sale)
    text: str
    owed_by: str  # "marketplace" (owes you), "partner" (you owe) or "settled" (outside)
    amount_minor: int
    currency: str
    balance_minor: int  # running balance in `currency` after this line
    entry_id: int


@dataclass
class Statement:
    """A partner's ledger for one calendar month: every entry, in words with a running balance,
    the opening and closing balance and the sums per currency."""

    partner_id: int
    period_start: dt.date
    period_end: dt.date
    entries: list[LedgerEntry]
    totals: dict[str, CurrencyTotals]
    opening: dict[str, int] = field(default_factory=dict)
    lines: list[StatementLine] = field(default_factory=list)

    def closing(self, currency: str) -> int:
        """The balance at the end of the month in `currency`."""
        totals = self.totals.get(currency)
        return self.opening.get(currency, 0) + (totals.balance_minor if totals else 0)

    @property
    def currencies(self) -> list[str]:
        """Every currency with a balance or an entry, sorted."""
        return sorted(set(self.opening) | set(self.totals))

    def summary(self, currency: str) -> list[tuple[str, int]]:
        """The month in one currency as rows that add up, signed as the lines are: the opening
        balance, each movement, the closing balance; then the refunds the partner paid
        directly (listed, not in the balance)."""
        month = self.totals.get(currency) or CurrencyTotals(currency)
        return [
            (_("Balance at the start of the month"), self.opening.get(currency, 0)),
            (_("+ Sold (sales and resales)"), month.sold_minor),
            (_("- Commission charged"), -month.commission_minor),
            (_("- Refunds the marketplace paid for you"), -month.refunded_by_marketplace_minor),
            (_("+ Commission credited back"), month.commission_credit_minor),
            (_("= Balance at the end of the month"), self.closing(currency)),
            (
                _("Refunds you paid directly (not in the balance)"),
                month.refunded_by_partner_minor,
            ),
        ]


def describe(entry: LedgerEntry, order_number: str) -> tuple[str, str]:
    """What an entry means for the partner, in words (the reader's language), and who owes it."""
    on = _("order %(number)s", number=order_number) if order_number else _("an order")
    rate = f"{entry.rate_bp / 100:g} %" if entry.rate_bp is not None else _("commission")
    if entry.kind == SALE:
        return _("The customer paid for your items of %(on)s; the marketplace owes you", on=on), (
            "marketplace"
        )
    if entry.kind == COMMISSION:
        text = _(
            "Commission %(rate)s on the sale of %(on)s; you owe the marketplace", rate=rate, on=on
        )
        return text, "partner"
    if entry.kind == REFUND_BY_MARKETPLACE:
        text = _(
            "Refund to the customer of %(on)s, paid by the marketplace for you; you owe it back",
            on=on,
        )
        return text, "partner"
    if entry.kind == REFUND_BY_PARTNER:
        text = _(
            "Refund to the customer of %(on)s, which you pay directly: between you and the "
            "customer, not in the balance",
            on=on,
        )
        return text, "settled"
    if entry.kind == COMMISSION_CREDIT:
        text = _(
            "Commission %(rate)s credited back on the refund of %(on)s; the marketplace owes you",
            rate=rate,
            on=on,
        )
        return text, "marketplace"
    if entry.kind == RESALE_PROCEEDS:
        text = _("A returned item of %(on)s resold; the marketplace owes you the proceeds", on=on)
        return text, "marketplace"
    if entry.kind == RESALE_COMMISSION:
        text = _(
            "Commission %(rate)s on the resale of a returned item of %(on)s; you owe the "
            "marketplace",
            rate=rate,
            on=on,
        )
        return text, "partner"
    return entry.memo or entry.kind, "marketplace"


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """First and last day of a month."""
    if not 1 <= month <= 12:
        raise ValueError("month must be 1-12")
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def statement(session: Session, partner_id: int, year: int, month: int) -> Statement:
    """The statement of `partner_id` for a month, booked-on dates inclusive."""
    start, end = month_bounds(year, month)
    rows = session.execute(
        sa.select(LedgerEntry, Order.number)
        .outerjoin(Order, Order.id == LedgerEntry.order_id)
        .where(
            LedgerEntry.partner_id == partner_id,
            LedgerEntry.booked_on >= start,
            LedgerEntry.booked_on <= end,
        )
        .order_by(LedgerEntry.booked_on, LedgerEntry.id)
    ).all()
    opening = dict(
        session.execute(
            sa.select(LedgerEntry.currency, sa.func.sum(LedgerEntry.amount_minor))
            .where(
                LedgerEntry.partner_id == partner_id,
                LedgerEntry.booked_on < start,
                LedgerEntry.kind.in_(SETTLED_KINDS),
            )
            .group_by(LedgerEntry.currency)
        ).all()
    )
    totals: dict[str, CurrencyTotals] = {}
    running = {currency: int(value or 0) for currency, value in opening.items()}
    lines = []
    for entry, number in rows:
        sums = totals.setdefault(entry.currency, CurrencyTotals(entry.currency))
        sums.by_kind[entry.kind] = sums.by_kind.get(entry.kind, 0) + entry.amount_minor
        if entry.kind in SETTLED_KINDS:
            running[entry.currency] = running.get(entry.currency, 0) + entry.amount_minor
        text, owed_by = describe(entry, number or "")
        lines.append(
            StatementLine(
                booked_on=entry.booked_on,
                reference=number or "",
                text=text,
                owed_by=owed_by,
                amount_minor=entry.amount_minor,
                currency=entry.currency,
                balance_minor=running.get(entry.currency, 0),
                entry_id=entry.id,
            )
        )
    return Statement(
        partner_id,
        start,
        end,
        [entry for entry, _ in rows],
        dict(sorted(totals.items())),
        opening={currency: int(value or 0) for currency, value in opening.items()},
        lines=lines,
    )


STATEMENT_COLUMNS = (
    "booked_on",
    "order",
    "what_happened",
    "owed_by",
    "amount",
    "currency",
    "balance_after",
    "amount_minor",
    "balance_after_minor",
    "entry",
)


def statement_csv(result: Statement) -> str:
    """The statement as CSV: one row per entry in words, with machine amounts too."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(STATEMENT_COLUMNS)
    for line in result.lines:
        writer.writerow(
            [
                line.booked_on.isoformat(),
                line.reference,
                line.text,
                line.owed_by,
                to_decimal_string(line.amount_minor, line.currency),
                line.currency,
                to_decimal_string(line.balance_minor, line.currency),
                line.amount_minor,
                line.balance_minor,
                line.entry_id,
            ]
        )
    return buffer.getvalue()


def parse_month(text: str) -> tuple[int, int]:
    """A month as people and URLs write it, YYYY-MM; refuses anything else, naming it."""
    raw = (text or "").strip()
    try:
        year, month = (int(part) for part in raw.split("-", 1))
        month_bounds(year, month)
    except (ValueError, OverflowError):
        raise InvalidInput(
            _("“%(raw)s” is not a month (use YYYY-MM)", raw=raw), field="month"
        ) from None
    if not 2000 <= year <= 2100:
        raise InvalidInput(_("“%(raw)s” is not a month (use YYYY-MM)", raw=raw), field="month")
    return year, month
