"""Commission invoices: one per partner, month and currency, numbered without gaps.

The invoice bills the month's net commission: commission on sales and resales less the
commission credited back on refunds (both from the ledger, `warehouse.ledger`). Numbers come from
one counter row (`DocumentCounter`) raised in the issuing transaction: a second issuer waits on
its row lock, and a transaction that fails gives its number back, so the sequence has no gaps.
Issuing the same partner-month-currency again returns the invoice already issued.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warehouse import events, ledger
from warehouse.db import utcnow
from warehouse.deadlines import local_date
from warehouse.errors import InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.models import DocumentCounter, Invoice, LedgerEntry, Partner, Site

COUNTER = "invoice"


@dataclass(frozen=True)
class Issuer:
    """Who issues the invoices (the marketplace), from the settings."""

    name: str
    address: str
    vat_id: str

    @classmethod
    def from_settings(cls, settings) -> Issuer:
        """The issuer named by MARKETPLACE_NAME, MARKETPLACE_ADDRESS and MARKETPLACE_VAT_ID."""
        return cls(
            settings["MARKETPLACE_NAME"],
            settings["MARKETPLACE_ADDRESS"],
            settings["MARKETPLACE_VAT_ID"],
        )


def invoicing_day(session: Session) -> dt.date:
    """Today at the marketplace (its first site's time zone): the day invoices are issued on
    and months are judged ended by."""
    site = session.scalar(sa.select(Site).order_by(Site.id))
    return local_date(utcnow(), site.timezone if site else "UTC")


def next_number(session: Session, name: str = COUNTER) -> int:
    """The next number of a document kind, taken under the counter row's lock."""
    value = session.execute(
        sa.update(DocumentCounter)
        .where(DocumentCounter.name == name)
        .values(value=DocumentCounter.value + 1)
        .returning(DocumentCounter.value)
    ).scalar_one_or_none()
    if value is not None:
        return value
    try:
        with session.begin_nested():
            session.add(DocumentCounter(name=name, value=1))
        return 1
    except IntegrityError:  # another issuer made the row just now: take the next one
        return next_number(session, name)


def find(session: Session, partner_id: int, period_start: dt.date, currency: str):
    """The invoice of a partner-month-currency, if issued."""
    return session.scalar(
        sa.select(Invoice).where(
            Invoice.partner_id == partner_id,
            Invoice.period_start == period_start,
            Invoice.currency == currency,
        )
    )


def issue(
    session: Session,
    actor: events.Actor,
    partner_id: int,
    year: int,
    month: int,
    currency: str,
    *,
    today: dt.date,
) -> tuple[Invoice, bool]:
    """Issue (and commit) the commission invoice of a partner's month in one currency; the one
    issued already when there is one. Answers (invoice, issued now). Only for a month that has
    ended, with commission in it.

    Commits itself: the number and the invoice are one transaction, and losing a race for the
    same invoice rolls that transaction back (giving the number back) before reading the winner's.
    """
    start, end = ledger.month_bounds(year, month)
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(_("no such partner"), field="partner")
    existing = find(session, partner_id, start, currency)
    if existing is not None:
        return existing, False
    if end >= today:
        raise InvalidInput(
            _(
                "%(month)s has not ended yet: invoice it from %(day)s",
                month=f"{start:%Y-%m}",
                day=(end + dt.timedelta(days=1)).isoformat(),
            ),
            field="month",
        )
    totals = ledger.statement(session, partner_id, year, month).totals.get(currency)
    if totals is None or (totals.commission_minor == 0 and totals.commission_credit_minor == 0):
        raise InvalidInput(
            _(
                "%(partner)s has no commission in %(currency)s in %(month)s",
                partner=partner.name,
                currency=currency,
                month=f"{start:%Y-%m}",
            ),
            field="month",
        )
    sequence = next_number(session)
    invoice = Invoice(
        sequence=sequence,
        number=f"INV-{sequence:06d}",
        partner_id=partner_id,
        period_start=start,
        period_end=end,
        currency=currency,
        commission_minor=totals.commission_minor,
        credited_minor=totals.commission_credit_minor,
        net_minor=totals.net_commission_minor,
        partner_details="\n".join([partner.name, *partner.address.splitlines()]),
        issued_on=today,
        issued_by=actor.label[:120],
    )
    session.add(invoice)
    try:
        session.flush()
        events.record(
            session,
            actor,
            "invoice.issued",
            invoice,
            partner_id=partner_id,
            after=invoice.number,
            net_minor=invoice.net_minor,
            currency=currency,
            period=f"{start:%Y-%m}",
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = find(session, partner_id, start, currency)
        if existing is None:  # pragma: no cover - a constraint other than the period's
            raise
        return existing, False
    return invoice, True


def issue_month(
    session: Session, actor: events.Actor, year: int, month: int, *, today: dt.date
) -> list[Invoice]:
    """Issue the invoices of a month for every partner and currency with commission booked or
    credited in it (the ones issued before come back as they were)."""
    start, end = ledger.month_bounds(year, month)
    pairs = session.execute(
        sa.select(LedgerEntry.partner_id, LedgerEntry.currency)
        .where(
            LedgerEntry.booked_on >= start,
            LedgerEntry.booked_on <= end,
            LedgerEntry.kind.in_((*ledger.COMMISSION_KINDS, ledger.COMMISSION_CREDIT)),
        )
        .distinct()
        .order_by(LedgerEntry.partner_id, LedgerEntry.currency)
    ).all()
    issued = []
    for partner_id, currency in pairs:
        totals = ledger.statement(session, partner_id, year, month).totals.get(currency)
        if totals is None or (totals.commission_minor == 0 and totals.commission_credit_minor == 0):
            continue  # entries that add up to nothing (a tiny sale's commission rounds to 0)
        issued.append(issue(session, actor, partner_id, year, month, currency, today=today)[0])
    return issued


def of_partner(session: Session, partner_id: int | None, limit: int = 120) -> list[Invoice]:
    """Invoices, newest first (one partner's, or everyone's)."""
    query = sa.select(Invoice).order_by(Invoice.sequence.desc()).limit(limit)
    if partner_id is not None:
        query = query.where(Invoice.partner_id == partner_id)
    return list(session.scalars(query))


def get(session: Session, number: str, *, partner_id: int | None = None) -> Invoice:
    """An invoice by its number; another partner's is not found."""
    invoice = session.scalar(sa.select(Invoice).where(Invoice.number == number.strip().upper()))
    if invoice is None or (partner_id is not None and invoice.partner_id != partner_id):
        raise NotFound(_("no invoice %(number)s", number=repr(number)), field="invoice")
    return invoice
