"""What goes on the warehouse's labels, read from the records (the `labels` package draws it)."""

from __future__ import annotations

from labels.money_documents import DocumentLine, MoneyDocument
from labels.return_label import ReturnLabel
from labels.unit_label import UnitLabel
from warehouse import i18n
from warehouse.deadlines import local_date
from warehouse.i18n import N_
from warehouse.i18n import gettext as _
from warehouse.invoices import Issuer
from warehouse.ledger import Statement
from warehouse.models import (
    CustomerParcel,
    Destination,
    ExceptionKind,
    Invoice,
    ParcelPurpose,
    Partner,
    ReturnRequest,
    Unit,
)
from warehouse.vocabulary import REASON_LABELS, exception_word


def _partner_address(rma: ReturnRequest) -> str:
    partner = rma.partner
    return "\n".join([partner.name, *partner.address.splitlines()])


def _lines(rma: ReturnRequest) -> tuple[tuple[str, str, int, str], ...]:
    return tuple(
        (
            line.order_line.product.sku,
            line.order_line.product.title,
            line.quantity,
            REASON_LABELS[line.reason],
        )
        for line in rma.lines
    )


def return_label_for(rma: ReturnRequest) -> ReturnLabel:
    """The customer's label: to the country's return address, or to the partner itself when
    the partner takes its returns directly."""
    if rma.destination == Destination.PARTNER:
        ship_to = _partner_address(rma)
    else:
        ship_to = rma.order.country.return_address
    return ReturnLabel(
        rma=rma.rma,
        order_number=rma.order.number,
        ship_to=ship_to,
        ship_from=rma.order.postal_address,
        lines=_lines(rma),
    )


def forwarding_label_for(rma: ReturnRequest) -> ReturnLabel:
    """The label a site prints to send a parcel on to a partner who takes returns directly."""
    return ReturnLabel(
        rma=rma.rma,
        order_number=rma.order.number,
        ship_to=_partner_address(rma),
        ship_from=f"{rma.site.name}\n{rma.site.address}",
        lines=_lines(rma),
        title=N_("Forwarding label"),
        note=_(
            "Return of %(customer)s, forwarded unopened by %(site)s.",
            customer=rma.order.customer_name,
            site=rma.site.name,
        ),
        instructions=(
            N_("Do not open the customer's parcel: put it, as it is, in a new outer box."),
            N_("Tape this label flat on the outer box and cover the customer's label."),
            N_("Hand it to the partner carrier run; scan the RMA when it leaves."),
        ),
    )


def unit_label_for(unit: Unit) -> UnitLabel:
    """The licence-plate label of one received unit."""
    product = unit.product
    flags = []
    if unit.exception:
        flags.append(exception_word(unit.exception))
    if unit.serial_mismatch:
        flags.append(exception_word(ExceptionKind.SERIAL_MISMATCH))
    return UnitLabel(
        lpn=unit.lpn,
        title=product.title if product else _("Unknown item"),
        sku=product.sku if product else "-",
        rma=unit.return_request.rma,
        partner=unit.partner.name,
        received_on=(
            unit.return_request.received_on or local_date(unit.received_at, unit.site.timezone)
        ).isoformat(),
        flags=tuple(flags),
    )


_PARCEL_NOTES = {
    ParcelPurpose.REPAIR: N_("Your item, repaired free of charge under the legal guarantee."),
    ParcelPurpose.REPLACEMENT: N_("A new item replacing the one you returned under the guarantee."),
    ParcelPurpose.EXCHANGE: N_("The item you chose in exchange for your return."),
    ParcelPurpose.REJECTED: N_("Your returned item, sent back: its return was not refunded."),
}


def parcel_label_for(parcel: CustomerParcel) -> ReturnLabel:
    """The label of a parcel from the site to a customer; its code is the barcode."""
    product = parcel.product
    what = {
        ParcelPurpose.REPAIR: N_("repaired"),
        ParcelPurpose.REPLACEMENT: N_("replacement"),
        ParcelPurpose.EXCHANGE: N_("exchange"),
        ParcelPurpose.REJECTED: N_("returned"),
    }[parcel.purpose]
    return ReturnLabel(
        rma=parcel.code,
        order_number=parcel.order.number,
        ship_to=parcel.ship_to,
        ship_from=f"{parcel.site.name}\n{parcel.site.address}",
        lines=((product.sku, product.title, 1, _(what)),),
        title=N_("Parcel to customer"),
        note=_(_PARCEL_NOTES[parcel.purpose]),
        instructions=(
            N_("Pack the item with its accessories in a sturdy box."),
            N_("Tape this label flat on the largest side; cover old labels."),
            N_("Scan the carrier's tracking number into the station when it leaves."),
        ),
    )


def _issuer_block(issuer: Issuer) -> str:
    return "\n".join([issuer.name, *issuer.address.splitlines(), f"VAT {issuer.vat_id}"])


STATEMENT_NOTE = N_(
    "Every amount is seen from you: positive, the marketplace owes it to you; negative, you owe "
    "it to the marketplace. The balance adds them up. Commission is taken off the balance line "
    "by line; the monthly invoice documents it and is not deducted again.\nPayouts are not on "
    "this statement. Refunds you pay your customers yourself are listed but not in the balance."
)


def statement_document(result: Statement, partner: Partner, issuer: Issuer) -> MoneyDocument:
    """A partner's monthly statement as printed: every entry in words with its running balance
    and, per currency, the opening balance, the month's movements and the closing balance."""
    totals = [
        (f"{currency}: {label}", i18n.money(amount, currency))
        for currency in result.currencies
        for label, amount in result.summary(currency)
    ]
    return MoneyDocument(
        title=_("Statement"),
        number=f"{result.period_start:%Y-%m}",
        issuer=_issuer_block(issuer),
        recipient="\n".join([partner.name, *partner.address.splitlines()]),
        facts=(
            (
                _("Period"),
                _("%(start)s to %(end)s", start=result.period_start, end=result.period_end),
            ),
            (_("Partner"), partner.code),
        ),
        lines=tuple(
            DocumentLine(
                day=line.booked_on.isoformat(),
                reference=line.reference,
                text=line.text,  # says who owes whom
                amount=i18n.money(line.amount_minor, line.currency),
                balance=i18n.money(line.balance_minor, line.currency),
            )
            for line in result.lines
        ),
        totals=tuple(totals),
        note=_(STATEMENT_NOTE),
        balance_column=True,
    )


def invoice_document(invoice: Invoice, issuer: Issuer) -> MoneyDocument:
    """A commission invoice as printed: the issuer, the partner, the month's commission, the
    commission credited back on refunds and the net amount billed."""
    currency = invoice.currency
    credit = invoice.net_minor < 0  # more credited back than charged: a credit note
    return MoneyDocument(
        title=_("Commission credit note") if credit else _("Commission invoice"),
        number=invoice.number,
        issuer=_issuer_block(issuer),
        recipient=invoice.partner_details,
        facts=(
            (_("Invoice date"), invoice.issued_on.isoformat()),
            (
                _("Period"),
                _("%(start)s to %(end)s", start=invoice.period_start, end=invoice.period_end),
            ),
            (_("Partner"), invoice.partner.code),
        ),
        lines=(
            DocumentLine(
                day=invoice.period_end.isoformat(),
                reference="",
                text=_("Commission on sales and resales in the period"),
                amount=i18n.money(invoice.commission_minor, currency),
            ),
            DocumentLine(
                day=invoice.period_end.isoformat(),
                reference="",
                text=_("Commission credited back on refunds in the period"),
                amount=i18n.money(-invoice.credited_minor, currency),
            ),
        ),
        totals=(
            (_("Net commission credited to you"), i18n.money(-invoice.net_minor, currency))
            if credit
            else (_("Net commission due"), i18n.money(invoice.net_minor, currency)),
        ),
        note=_(
            "The commission is taken off your balance line by line on your statement of the "
            "period; this invoice documents it and is not deducted again."
        ),
    )
