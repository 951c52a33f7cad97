"""Money for accounting and partners: the journal (streamed CSV or JSON), statements, commission
invoices and the reconciliation report."""

from __future__ import annotations

import datetime as dt
import enum

from flask import stream_with_context
from pydantic import BaseModel, ConfigDict, Field

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from stations.htmx import file_response
from warehouse import accounting, invoices, ledger, reconciliation
from warehouse.db import db, utcnow
from warehouse.errors import InvalidInput, NotFound
from warehouse.models import Partner, Role
from warehouse.money import Currency
from warehouse.validation import Input, Text

JournalFormat = enum.StrEnum("JournalFormat", [(name, name) for name in accounting.FORMATS])
JournalFormat.__doc__ = "CSV (one row per journal line) or one JSON document."
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class JournalQuery(BaseModel):
    """The period (inclusive, booking days), the format and an optional partner / site."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: dt.date = Field(alias="from", description="First booking day, YYYY-MM-DD")
    to: dt.date = Field(description="Last booking day, YYYY-MM-DD (at most three years on)")
    format: JournalFormat = JournalFormat("csv")
    partner: str | None = Field(None, max_length=32, description="A partner's code")
    site: str | None = Field(None, max_length=16, description="A site's code")


class JournalLineOut(BaseModel):
    """One journal line (documents the JSON `lines` and the CSV columns; a test keeps them so)."""

    entry: int = Field(description="The ledger entry (its two lines share it)")
    booked_on: str
    account: str
    account_name: str
    debit: str = Field(description="Decimal, empty on a credit line")
    credit: str = Field(description="Decimal, empty on a debit line")
    debit_minor: int
    credit_minor: int
    currency: str
    partner: str
    reference: str = Field(description="The order number")
    kind: str
    memo: str


class JournalOut(BaseModel):
    """The JSON journal."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    accounts: dict[str, str]
    lines: list[JournalLineOut]


def _scope(partner_code: str | None, site_code: str | None) -> tuple[int | None, int | None]:
    """The journal's partner and site; a partner token: its own partner whatever it names."""
    partner_id, site_id = accounting.scope_of(db.session, partner_code, site_code)
    scope = partner_scope()
    if scope is not None and partner_id not in (None, scope):
        raise NotFound(f"no partner {partner_code!r}", field="partner")
    return (scope if scope is not None else partner_id), site_id


@bp.get("/accounting/journal")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "The accounting journal of a period, streamed",
    operation_id="accountingJournal",
    description=(
        "Every ledger entry booked in the period as a balanced double entry (a debit and a "
        "credit line of the same amount: the journal balances per currency). Filter by "
        "`partner` and `site`; a partner token gets its own entries only. Streamed: any size "
        "of period answers at once and holds no more than a batch in memory."
    ),
    query=JournalQuery,
    answers={
        200: Answer(
            "The journal (CSV by default)",
            JournalOut,
            content={"text/csv": {"schema": {"type": "string"}}},
        )
    },
    errors=(400, 401, 403, 404),
)
def journal(query: JournalQuery):
    """The journal as CSV or JSON, streamed."""
    start, end = accounting.period(query.from_, query.to)
    partner_id, site_id = _scope(query.partner, query.site)
    lines = accounting.lines(db.session, start, end, partner_id=partner_id, site_id=site_id)
    fmt = query.format.value
    body = stream_with_context(accounting.render(lines, fmt, start, end))
    name = f"journal-{start}-{end}.{fmt}"
    if fmt == "json":
        return file_response(body, "application/json", name, inline=True)
    return file_response(body, "text/csv", name)


class StatementQuery(BaseModel):
    """Which month and (admins, supervisors) which partner."""

    model_config = ConfigDict(extra="ignore")

    month: str = Field(pattern=MONTH, description="YYYY-MM")
    partner: str | None = Field(None, max_length=32)


class StatementLineOut(BaseModel):
    """One entry of the statement, in words."""

    booked_on: dt.date
    order: str
    what_happened: str
    owed_by: str = Field(description="marketplace (owes you), partner (you owe) or settled")
    amount_minor: int
    currency: str
    balance_after_minor: int


class CurrencyBalanceOut(BaseModel):
    """One currency's month."""

    currency: str
    opening_minor: int
    sold_minor: int
    refunded_minor: int
    commission_minor: int
    commission_credited_minor: int
    closing_minor: int = Field(description="Positive: the marketplace owes the partner")


class StatementOut(BaseModel):
    """A partner's monthly statement."""

    partner: str
    month: str
    currencies: list[CurrencyBalanceOut]
    lines: list[StatementLineOut]


@bp.get("/accounting/statement")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "A partner's monthly statement",
    operation_id="partnerStatement",
    description="Amounts are seen from the partner: positive is owed to it by the marketplace.",
    query=StatementQuery,
    answers={200: Answer("The statement", StatementOut)},
    errors=(400, 401, 403, 404),
)
def statement(query: StatementQuery):
    """Every entry of the month in words, with the running balance."""
    partner_id, _ = _scope(query.partner, None)
    if partner_id is None:
        raise InvalidInput("name the partner", field="partner")
    year, month = ledger.parse_month(query.month)
    result = ledger.statement(db.session, partner_id, year, month)
    partner = db.session.get(Partner, partner_id)
    return answer(
        StatementOut(
            partner=partner.code,
            month=query.month,
            currencies=[
                CurrencyBalanceOut(
                    currency=currency,
                    opening_minor=result.opening.get(currency, 0),
                    sold_minor=totals.sold_minor if totals else 0,
                    refunded_minor=totals.refunded_minor if totals else 0,
                    commission_minor=totals.commission_minor if totals else 0,
                    commission_credited_minor=totals.commission_credit_minor if totals else 0,
                    closing_minor=result.closing(currency),
                )
                for currency in result.currencies
                for totals in [result.totals.get(currency)]
            ],
            lines=[
                StatementLineOut(
                    booked_on=line.booked_on,
                    order=line.reference,
                    what_happened=line.text,
                    owed_by=line.owed_by,
                    amount_minor=line.amount_minor,
                    currency=line.currency,
                    balance_after_minor=line.balance_minor,
                )
                for line in result.lines
            ],
        )
    )


class InvoiceIn(Input):
    """Which partner, month and currency to invoice."""

    partner: Text(32)
    month: Text(7, pattern=MONTH)
    currency: Currency


class InvoiceOut(BaseModel):
    """A commission invoice."""

    number: str
    partner: str
    period_start: dt.date
    period_end: dt.date
    currency: str
    commission_minor: int
    credited_minor: int
    net_minor: int
    issued_on: dt.date = Field(description="The invoice date: the marketplace's day of issue")
    issued_at: dt.datetime

    @classmethod
    def of(cls, invoice) -> InvoiceOut:
        """The API's view of an invoice."""
        return cls(
            number=invoice.number,
            partner=invoice.partner.code,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            currency=invoice.currency,
            commission_minor=invoice.commission_minor,
            credited_minor=invoice.credited_minor,
            net_minor=invoice.net_minor,
            issued_on=invoice.issued_on,
            issued_at=invoice.issued_at,
        )


class InvoiceList(BaseModel):
    """Invoices, newest first."""

    invoices: list[InvoiceOut]


@bp.post("/accounting/invoices")
@token_required(Role.ADMIN)
@operation(
    "Issue a partner's commission invoice for a month",
    operation_id="issueInvoice",
    description=(
        "Numbers are sequential without gaps (INV-000001, ...). Issuing the same partner, month "
        "and currency again answers the invoice issued before (200) instead of a new one (201). "
        "Only for months that have ended and had commission."
    ),
    body=InvoiceIn,
    answers={201: Answer("Issued", InvoiceOut), 200: Answer("Issued before", InvoiceOut)},
    errors=(400, 401, 403, 404),
)
def issue_invoice(body: InvoiceIn):
    """Issue (or find) the invoice."""
    partner_id, _ = _scope(body.partner, None)
    year, month = ledger.parse_month(body.month)
    today = invoices.invoicing_day(db.session)
    invoice, issued = invoices.issue(
        db.session, api_actor(), partner_id, year, month, str(body.currency), today=today
    )
    return answer(InvoiceOut.of(invoice), 201 if issued else 200)


@bp.get("/accounting/invoices")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "Commission invoices",
    operation_id="listInvoices",
    description="Newest first; a partner token sees its own.",
    answers={200: Answer("The invoices", InvoiceList)},
    errors=(401, 403),
)
def list_invoices():
    """The invoices the caller may see."""
    rows = invoices.of_partner(db.session, partner_scope())
    return answer(InvoiceList(invoices=[InvoiceOut.of(row) for row in rows]))


class DifferenceOut(BaseModel):
    """One disagreement between money records."""

    check: str
    subject: str
    expected: str
    found: str
    partner: str


class ReconciliationOut(BaseModel):
    """Every difference found (empty: the books agree)."""

    checked_at: dt.datetime
    differences: list[DifferenceOut]


@bp.get("/accounting/reconciliation")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "Where the money records disagree",
    operation_id="reconciliation",
    description=(
        "Sales booked = shipments delivered, commission = rate x sale, approved refunds booked "
        "once, commission credited = rate x refunds, invoiced = commission booked - credited."
    ),
    answers={200: Answer("The differences", ReconciliationOut)},
    errors=(401, 403),
)
def reconcile():
    """The reconciliation report (a partner token: its own records)."""
    found = reconciliation.differences(db.session, partner_id=partner_scope())
    return answer(
        ReconciliationOut(
            checked_at=utcnow(),
            differences=[DifferenceOut(**difference.__dict__) for difference in found],
        )
    )
