"""Remedies beyond a refund, and what happens to the goods of a refused return.

The law:
- For goods that do not conform, the consumer chooses repair or replacement; a refund when that
  remedy is impossible (Directive (EU) 2019/771 Art. 13(2) and 13(4)); the remedy is free of
  charge and the seller takes the replaced goods back (Art. 14(1)-(2)).
- After a repair the seller's liability period is extended once by 12 months (Directive (EU)
  2019/771 Art. 10(1a), inserted by Directive (EU) 2024/1799 Art. 16, from 31 July 2026).
- An exchange for another size or colour of the same style on a withdrawal is the marketplace's
  offer (SPEC), not law: it takes the place of a full refund only.
- The goods of a return whose refund the partner refused are still the customer's: they go back
  to the customer, unless the partner's policy keeps them (`Partner.rejected_returns`).

Flow: the customer asks for a remedy per line when announcing (`check_remedy`). Grading then
grants it (`grant`) instead of deciding a refund, or falls back to the refund rules with the
reason told to the customer. A replacement or exchange takes one item from stock into a waiting
parcel at once; a repaired or refused unit is routed "to customer" and its parcel is made when it
is put on the to-customer shelf (`warehouse.routing`). The parcels leave from the to-customer
station (`warehouse.dispatch`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import events, webhooks
from warehouse.db import utcnow
from warehouse.deadlines import Verdict, local_date
from warehouse.errors import InvalidInput
from warehouse.grounds import say, word
from warehouse.guarantees import repair_extends
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.mail import queue_mail
from warehouse.models import (
    GUARANTEE_REASONS,
    PARTNER_PORTAL_STATION,
    CustomerParcel,
    OrderLine,
    ParcelPurpose,
    Product,
    ProductPrice,
    Reason,
    RefundState,
    Remedy,
    StockEntry,
    Unit,
)
from warehouse.parcels import new_parcel
from warehouse.routing import close_if_done

REMEDY_LABELS = {
    Remedy.REFUND: _l("Refund"),
    Remedy.REPAIR: _l("Repair it and send it back"),
    Remedy.REPLACEMENT: _l("Replace it with a new one"),
    Remedy.EXCHANGE: _l("Exchange it for another size or colour"),
}
PURPOSE_OF = {
    Remedy.REPAIR: ParcelPurpose.REPAIR,
    Remedy.REPLACEMENT: ParcelPurpose.REPLACEMENT,
    Remedy.EXCHANGE: ParcelPurpose.EXCHANGE,
}


def allowed_remedies(reason: Reason) -> tuple[Remedy, ...]:
    """What a customer may ask for with this reason: repair or replacement for a lack of
    conformity (Directive (EU) 2019/771 Art. 13(2)), an exchange for a withdrawal."""
    if reason in GUARANTEE_REASONS:
        return (Remedy.REFUND, Remedy.REPAIR, Remedy.REPLACEMENT)
    return (Remedy.REFUND, Remedy.EXCHANGE)


def exchange_options(session: Session, line: OrderLine, currency: str) -> list[Product]:
    """Products a unit of `line` may be exchanged for: the partner's other products of the same
    style, at the price paid in the order's currency, in stock."""
    product = line.product
    if not product.style:
        return []
    return list(
        session.scalars(
            sa.select(Product)
            .join(ProductPrice, ProductPrice.product_id == Product.id)
            .where(
                Product.partner_id == product.partner_id,
                Product.style == product.style,
                Product.id != product.id,
                Product.stock > 0,
                ProductPrice.currency == currency,
                ProductPrice.price_minor == line.unit_price_minor,
            )
            .order_by(Product.title, Product.sku)
            .limit(50)
        )
    )


def parse_remedy(value: object, field: str) -> Remedy:
    """A Remedy from its value, or a refusal listing the choices."""
    try:
        return Remedy(str(value))
    except ValueError:
        choices = ", ".join(remedy.value for remedy in Remedy)
        raise InvalidInput(
            _(
                "%(value)s is not a remedy; choose one of: %(choices)s",
                value=repr(value),
                choices=choices,
            ),
            field=field,
        ) from None


def check_remedy(
    session: Session,
    line: OrderLine,
    currency: str,
    reason: Reason,
    remedy: Remedy,
    exchange_sku: str | None,
    *,
    where: str,
) -> Product | None:
    """Refuse a remedy the reason does not allow; for an exchange, the product exchanged for."""
    if remedy not in allowed_remedies(reason):
        allowed = ", ".join(r.value for r in allowed_remedies(reason))
        raise InvalidInput(
            _(
                "%(where)s: %(remedy)s is not possible for the reason "
                "%(reason)s; choose one of: %(allowed)s",
                where=where,
                remedy=remedy.value,
                reason=reason.value,
                allowed=allowed,
            ),
            field=f"{where}.remedy",
        )
    if remedy != Remedy.EXCHANGE:
        if exchange_sku:
            raise InvalidInput(
                _("%(where)s: an exchange product is only for the remedy exchange", where=where),
                field=f"{where}.exchange_sku",
            )
        return None
    options = exchange_options(session, line, currency)
    if not exchange_sku:
        raise InvalidInput(
            _("%(where)s: choose the size or colour you want instead", where=where),
            field=f"{where}.exchange_sku",
        )
    chosen = next((p for p in options if p.sku == exchange_sku), None)
    if chosen is None:
        offered = ", ".join(p.sku for p in options) or "none"
        raise InvalidInput(
            _(
                "%(where)s: %(exchange_sku)s cannot be exchanged for %(title)s "
                "(same style, same price, in stock; offered: %(offered)s)",
                where=where,
                exchange_sku=repr(exchange_sku),
                title=line.product.title,
                offered=offered,
            ),
            field=f"{where}.exchange_sku",
        )
    return chosen


# --- granting at grading ---------------------------------------------------------------------


@dataclass(frozen=True)
class Granted:
    """What grading did with a unit's remedy: granted, or why the refund rules apply instead."""

    granted: bool
    note: str
    parcel: CustomerParcel | None = None


def grant(
    session: Session, actor: events.Actor, unit: Unit, *, verdict: Verdict, full_refund: bool
) -> Granted:
    """Grant the remedy the customer asked for on `unit`'s line, or say why not.

    A remedy takes the place of a refund the rules (or the partner, deciding its case) approve
    in full: repair and replacement need the legal guarantee to cover the return (a lack of
    conformity within the guarantee, Directive (EU) 2019/771 Art. 10 and 13); an item that came
    back incomplete or worn goes to the partner as a case first. A replacement or exchange needs
    one in stock (else a refund, Art. 13(4)(a)) and takes it now into the customer's parcel. A
    unit the partner received itself stays there: the partner repairs or sends it (no parcel,
    no warehouse stock).
    """
    line = unit.return_line
    remedy = line.remedy
    if remedy in (Remedy.REPAIR, Remedy.REPLACEMENT) and verdict != Verdict.GUARANTEE:
        return _refused(
            session, actor, unit, say("no_remedy_guarantee", remedy=word("remedy", remedy.value))
        )
    if not full_refund:
        return _refused(
            session, actor, unit, say("no_remedy_partial", remedy=word("remedy", remedy.value))
        )
    at_partner = unit.received_station == PARTNER_PORTAL_STATION
    product = sent_product(unit)
    if (
        remedy in (Remedy.REPLACEMENT, Remedy.EXCHANGE)
        and not at_partner
        and not _take_from_stock(session, product, unit, remedy)
    ):
        return _refused(
            session,
            actor,
            unit,
            say("no_remedy_stock", remedy=word("remedy", remedy.value), product=product.title),
        )
    before = unit.refund_state
    unit.refund_state, unit.refund_minor = RefundState.REMEDY, 0
    unit.refund_decided_at = utcnow()
    parcel = None
    if remedy != Remedy.REPAIR and not at_partner:
        parcel = new_parcel(session, unit, PURPOSE_OF[remedy], product)
    events.record(
        session,
        actor,
        "remedy.granted",
        unit,
        before=before,
        after=unit.refund_state,
        site_id=unit.site_id,
        lpn=unit.lpn,
        remedy=remedy.value,
        product=product.sku,
        parcel=parcel.code if parcel else None,
    )
    rma = unit.return_request
    context = {
        "remedy": remedy.value,
        "rma": rma.rma,
        "order_number": rma.order.number,
        "lpn": unit.lpn,
        "product": unit.product.title,
        "sent_product": product.title,
        "customer_name": rma.order.customer_name,
        "at_partner": at_partner,
        # Once per line, for repairs from 31 July 2026 (warehouse.dispatch.extend_guarantee).
        "extends_guarantee": remedy == Remedy.REPAIR
        and repair_extends(
            line.order_line.guarantee_extended_months,
            local_date(unit.refund_decided_at, unit.site.timezone),
        ),
    }
    queue_mail(
        session,
        template="remedy_granted_customer",
        to=rma.order.customer_email,
        language=rma.order.language,
        context=context,
        key=f"remedy-granted:{unit.id}",
    )
    queue_mail(
        session,
        template="remedy_granted_partner",
        to=unit.partner.contact_email,
        language=unit.partner.language,
        context=context | {"sku": product.sku},
        key=f"remedy-granted-partner:{unit.id}",
    )
    if remedy == Remedy.EXCHANGE:
        webhooks.emit(
            session,
            "exchange.created",
            channel=rma.order.channel,
            key=unit.lpn,
            data=lambda: webhooks.about(
                rma,
                unit,
                returned_sku=unit.product.sku,
                sent_sku=product.sku,
                parcel=parcel.code if parcel else None,
            ),
        )
    close_if_done(session, unit, actor)
    return Granted(True, say("remedy_granted", remedy=word("remedy", remedy.value)), parcel)


def sent_product(unit: Unit) -> Product:
    """What goes to the customer for the unit's remedy: the variant chosen for an exchange, the
    same product otherwise (the unit itself, repaired, or a new one)."""
    line = unit.return_line
    return line.exchange_product if line.remedy == Remedy.EXCHANGE else unit.product


def _refused(session: Session, actor: events.Actor, unit: Unit, why: str) -> Granted:
    events.record(
        session,
        actor,
        "remedy.refused",
        unit,
        site_id=unit.site_id,
        lpn=unit.lpn,
        remedy=unit.return_line.remedy.value,
        reason=why,
    )
    return Granted(False, say("remedy_refused", why=why))


def _take_from_stock(session: Session, product: Product, unit: Unit, remedy: Remedy) -> bool:
    """One of `product` out of sellable stock for the customer's parcel, atomically."""
    left = session.execute(
        sa.update(Product)
        .where(Product.id == product.id, Product.stock > 0)
        .values(stock=Product.stock - 1)
        .returning(Product.stock)
        .execution_options(synchronize_session="fetch")
    ).scalar_one_or_none()
    if left is None:
        return False
    session.add(
        StockEntry(
            product_id=product.id,
            site_id=unit.site_id,
            unit_id=unit.id,
            quantity=-1,
            reason=remedy.value,
            stock_after=left,
        )
    )
    return True
