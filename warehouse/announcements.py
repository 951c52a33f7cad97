"""Announcing a return (SPEC 3.1): the customer or a sales channel says what goes back and why.

An order split over several partners gives one RMA per partner shipment, each with its own
label, because each partner's goods may go to a different place.

Rules decided here:
- Only delivered shipments can be announced: until the carrier confirms delivery the customer
  has nothing to send back, and no return period has started (the customer is told so).
- A line can be announced up to what was ordered minus what is already announced on earlier
  RMAs (units later declared missing at receiving count as free again).
- Announcing late is allowed: the deadline verdict is recorded on the event, and the receiving
  station and the partner's policy decide; the law lets the trader, not the form, refuse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from pydantic import AwareDatetime, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warehouse import codes, guarantees, remedies, webhooks
from warehouse.db import CLOCK_SKEW, lock_row, utcnow
from warehouse.deadlines import assess, local_date, refund_due_on
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.mail import queue_mail
from warehouse.models import (
    Country,
    Order,
    OrderLine,
    Reason,
    Remedy,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Shipment,
)
from warehouse.validation import Input, Text

MAX_COMMENT = 1000


@dataclass(frozen=True)
class LineRequest:
    """One line of an announcement: how many of an order line go back, and why."""

    order_line_id: int
    quantity: int
    reason: Reason
    comment: str = ""
    remedy: Remedy = Remedy.REFUND  # repair / replacement (guarantee), exchange (withdrawal)
    exchange_sku: str | None = None  # the variant wanted, for an exchange


@dataclass
class Announced:
    """What an announcement created: the RMAs, in shipment order."""

    returns: list[ReturnRequest] = field(default_factory=list)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text or "").lower()


def find_order(session: Session, number: str, email_or_postcode: str) -> Order:
    """The order with `number` whose customer email or postcode matches (case and spaces
    ignored). The refusal does not say which half was wrong, so it cannot be used to probe."""
    wanted = _compact(email_or_postcode)
    order = None
    if number.strip() and wanted:
        order = session.query(Order).filter_by(number=number.strip().upper()).one_or_none()
        if order is None:
            order = session.query(Order).filter_by(number=number.strip()).one_or_none()
    if order is None or wanted not in {
        _compact(order.customer_email),
        _compact(order.customer_postcode),
    }:
        raise NotFound(
            _(
                "We could not find an order with that number and email address or postcode. "
                "Check both and try again."
            ),
            field="order_number",
        )
    return order


def announced_quantities(session: Session, order: Order) -> dict[int, int]:
    """Units per order line already on an RMA (minus units found missing at receiving and units
    the customer has again: repaired, replaced or sent back refused)."""
    rows = session.execute(
        sa.select(
            ReturnLine.order_line_id,
            sa.func.sum(
                ReturnLine.quantity - ReturnLine.missing_quantity - ReturnLine.sent_back_quantity
            ),
        )
        .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(OrderLine.order_id == order.id)
        .group_by(ReturnLine.order_line_id)
    )
    return {line_id: int(total or 0) for line_id, total in rows}


def returnable(session: Session, order: Order) -> dict[int, int]:
    """How many units of each order line can still be announced (0 for undelivered ones)."""
    taken = announced_quantities(session, order)
    return {
        line.id: (
            max(0, line.quantity - taken.get(line.id, 0))
            if line.shipment.delivered_at is not None
            else 0
        )
        for line in order.lines
    }


def parse_reason(value: object, field_name: str = "reason") -> Reason:
    """A Reason from its value, or a clear refusal listing the choices."""
    try:
        return Reason(str(value))
    except ValueError:
        choices = ", ".join(reason.value for reason in Reason)
        raise InvalidInput(
            _(
                "%(value)s is not a return reason; choose one of: %(choices)s",
                value=repr(value),
                choices=choices,
            ),
            field=field_name,
        ) from None


def _new_rma(session: Session, taken: set[str]) -> str:
    for _attempt in range(20):
        rma = codes.new_rma()
        if rma in taken:
            continue
        if session.query(ReturnRequest.id).filter_by(rma=rma).first() is None:
            taken.add(rma)
            return rma
    raise Conflict(_("could not find a free RMA number; try again"))  # pragma: no cover


def announce(
    session: Session,
    order: Order,
    lines: list[LineRequest],
    *,
    actor: Actor,
    label_url: Callable[[str], str],
    comment: str = "",
    source: str = "customer",
    partner_id: int | None = None,
    now: dt.datetime | None = None,
    mail: bool = True,
) -> Announced:
    """Create one RMA per partner shipment for `lines`, with events and the customer's mail.

    `partner_id` limits the announcement to that partner's lines (a partner's API token); a
    line of another partner is reported as unknown. `label_url(rma)` gives the label's public
    link for the mail. Refusals change nothing.
    """
    now = now or utcnow()
    if not lines:
        raise InvalidInput(_("choose at least one item to return"), field="lines")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(
            _("the comment is longer than %(MAX_COMMENT)s characters", MAX_COMMENT=MAX_COMMENT),
            field="comment",
        )
    # Lock the order so two announcements at once cannot both take the last unit.
    lock_row(session, Order, order.id)
    by_id = {line.id: line for line in order.lines}
    left = returnable(session, order)
    wanted: dict[int, int] = {}
    exchange_for: dict[int, object] = {}
    for index, request in enumerate(lines):
        where = f"lines[{index}]"
        line = by_id.get(request.order_line_id)
        if line is None or (partner_id is not None and line.shipment.partner_id != partner_id):
            raise NotFound(
                _(
                    "order %(number)s has no line %(order_line_id)s",
                    number=order.number,
                    order_line_id=request.order_line_id,
                ),
                field=where,
            )
        if not isinstance(request.quantity, int) or request.quantity < 1:
            raise InvalidInput(
                _("%(where)s: the quantity must be a whole number of at least 1", where=where),
                field=f"{where}.quantity",
            )
        if len(request.comment) > MAX_COMMENT:
            raise InvalidInput(
                _(
                    "%(where)s: the comment is longer than %(MAX_COMMENT)s characters",
                    where=where,
                    MAX_COMMENT=MAX_COMMENT,
                ),
                field=f"{where}.comment",
            )
        if line.shipment.delivered_at is None:
            raise InvalidInput(
                _(
                    "%(product)s has not been delivered yet; you can announce its return once "
                    "the parcel has arrived",
                    product=line.product.title,
                ),
                field=where,
            )
        exchange_for[index] = remedies.check_remedy(
            session,
            line,
            order.currency,
            request.reason,
            request.remedy,
            request.exchange_sku,
            where=where,
        )
        wanted[line.id] = wanted.get(line.id, 0) + request.quantity
        if wanted[line.id] > left[line.id]:
            already = line.quantity - left[line.id]
            values = {"product": line.product.title, "ordered": line.quantity}
            raise InvalidInput(
                _(
                    "%(product)s: you ordered %(ordered)s, %(already)s already announced; at "
                    "most %(left)s can be returned",
                    already=already,
                    left=left[line.id],
                    **values,
                )
                if already
                else _(
                    "%(product)s: you ordered %(ordered)s; at most %(left)s can be returned",
                    left=left[line.id],
                    **values,
                ),
                field=f"{where}.quantity",
            )

    country = session.get(Country, order.country_code)
    site = country.site
    announced_on = local_date(now, site.timezone)
    by_shipment: dict[int, list[tuple[int, LineRequest]]] = {}
    for index, request in enumerate(lines):
        by_shipment.setdefault(by_id[request.order_line_id].shipment_id, []).append(
            (index, request)
        )

    result = Announced()
    taken: set[str] = set()
    for shipment_id in sorted(by_shipment):
        shipment = session.get(Shipment, shipment_id)
        rma = ReturnRequest(
            rma=_new_rma(session, taken),
            order=order,
            shipment=shipment,
            partner_id=shipment.partner_id,
            site_id=site.id,
            source=source,
            customer_comment=comment.strip(),
            announced_at=now,
            announced_on=announced_on,
            destination=shipment.partner.destination,  # where the label sends it
        )
        verdicts = {}
        for index, request in by_shipment[shipment_id]:
            exchange = exchange_for[index]
            rma.lines.append(
                ReturnLine(
                    order_line_id=request.order_line_id,
                    quantity=request.quantity,
                    reason=request.reason,
                    comment=request.comment.strip(),
                    remedy=request.remedy,
                    exchange_product_id=exchange.id if exchange is not None else None,
                )
            )
            verdicts[str(request.order_line_id)] = assess(
                reason=request.reason,
                delivered_on=local_date(shipment.delivered_at, site.timezone),
                notice_on=announced_on,
                window_days=shipment.partner.window_days,
                grace_days=shipment.partner.grace_days,
                informed=order.withdrawal_informed,
                guarantee=guarantees.rule_for(order.country_code),
                extended_months=by_id[request.order_line_id].guarantee_extended_months,
            ).verdict.value
        session.add(rma)
        try:
            session.flush()
        except IntegrityError:  # pragma: no cover - a 1-in-a-billion RMA collision
            raise Conflict(_("that RMA number was just taken; please try again")) from None
        record(
            session,
            actor,
            "return.announced",
            rma,
            after=rma.status.value,
            site_id=site.id,
            rma=rma.rma,
            source=source,
            verdicts=verdicts,
            lines=[
                {
                    "order_line_id": r.order_line_id,
                    "quantity": r.quantity,
                    "reason": r.reason.value,
                    "remedy": r.remedy.value,
                }
                for _line, r in by_shipment[shipment_id]
            ],
        )
        webhooks.emit(
            session,
            "return.announced",
            channel=order.channel,
            key=rma.rma,
            data=lambda rma=rma: webhooks.about(  # called within this turn of the loop
                rma,
                source=source,
                announced_on=rma.announced_on.isoformat(),
                lines=[
                    {
                        "sku": line.order_line.product.sku,
                        "quantity": line.quantity,
                        "reason": line.reason.value,
                        "remedy": line.remedy.value,
                    }
                    for line in rma.lines
                ],
            ),
        )
        result.returns.append(rma)

    if not mail:  # the caller sends its own (a withdrawal's acknowledgment)
        return result
    queue_mail(
        session,
        template="return_announced",
        to=order.customer_email,
        language=order.language,
        context={
            "order_number": order.number,
            "customer_name": order.customer_name,
            "returns": [
                {"rma": rma.rma, "label_url": label_url(rma.rma), "partner": rma.partner.name}
                for rma in result.returns
            ],
        },
        key=f"announced:{result.returns[0].rma}",
    )
    return result


def return_by_rma(session: Session, rma: str, partner_id: int | None = None) -> ReturnRequest:
    """The RMA by its number; another partner's RMA is reported as not found."""
    found = (
        session.query(ReturnRequest).filter_by(rma=codes.canonical_rma(rma)).one_or_none()
        if codes.rma_status(rma) is not None
        else session.query(ReturnRequest).filter_by(rma=rma.strip()).one_or_none()
    )
    if found is None or (partner_id is not None and found.partner_id != partner_id):
        raise NotFound(_("no return %(rma)s", rma=repr(rma)), field="rma")
    return found


TRACKING_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$")


class ReturnTrackingIn(Input):
    """The carrier's tracking number of a return parcel."""

    tracking_number: Text(64, pattern=TRACKING_PATTERN.pattern) = Field(
        description="4 to 64 letters, digits or dashes, as the carrier prints it"
    )
    first_scan_at: AwareDatetime | None = Field(
        None, description="When the carrier first scanned the parcel (proof of dispatch)"
    )


def set_return_tracking(
    session: Session,
    rma: str,
    tracking_number: str,
    actor: Actor,
    *,
    partner_id: int | None = None,
    first_scan_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ReturnRequest:
    """Store the carrier's tracking number of the return parcel, so scanning it opens the RMA.

    Only while the parcel is still on its way (announced); a number already used by another
    return is refused, since a scan must lead to exactly one parcel. `first_scan_at`, the
    carrier's first scan, is kept as the customer's proof of dispatch (Directive 2011/83/EU
    Art. 13(3)): the earliest one told counts; one in the future is refused.
    """
    found = return_by_rma(session, rma, partner_id=partner_id)
    number = tracking_number
    if first_scan_at is not None and first_scan_at > (now or utcnow()) + CLOCK_SKEW:
        raise InvalidInput(_("the first scan cannot be in the future"), field="first_scan_at")
    if found.return_tracking_number == number:
        _record_dispatch_proof(session, found, actor, first_scan_at)
        return found  # the carrier told us twice: at most the proof is new
    if found.status != ReturnStatus.ANNOUNCED:
        raise Conflict(
            _(
                "%(rma)s has arrived already; its tracking number can no longer change",
                rma=found.rma,
            ),
            field="tracking_number",
        )
    taken = (
        session.query(ReturnRequest.rma)
        .filter(ReturnRequest.return_tracking_number == number, ReturnRequest.id != found.id)
        .first()
    )
    if taken is not None:
        raise Conflict(
            _("tracking number %(number)s belongs to another return", number=number),
            field="tracking_number",
        )
    before = found.return_tracking_number
    found.return_tracking_number = number
    record(
        session,
        actor,
        "return.tracking_set",
        found,
        before=before,
        after=number,
        site_id=found.site_id,
    )
    _record_dispatch_proof(session, found, actor, first_scan_at)
    return found


def _record_dispatch_proof(
    session: Session, rma: ReturnRequest, actor: Actor, first_scan_at: dt.datetime | None
) -> None:
    if first_scan_at is None or rma.status != ReturnStatus.ANNOUNCED:
        return
    if rma.dispatch_proof_at is not None and rma.dispatch_proof_at <= first_scan_at:
        return
    if first_scan_at < rma.order.placed_at:
        raise InvalidInput(
            _("the first scan is before the order was placed"), field="first_scan_at"
        )
    before = rma.dispatch_proof_at
    rma.dispatch_proof_at = first_scan_at.astimezone(dt.UTC)
    # From the proof the refund may no longer be withheld: it is due now or 14 days from the
    # notice, whichever is later, even if the goods never arrive.
    rma.refund_due_on = refund_due_on(
        rma.announced_on, None, local_date(rma.dispatch_proof_at, rma.site.timezone)
    )
    record(
        session,
        actor,
        "return.dispatch_proved",
        rma,
        before=before.isoformat() if before else None,
        after=rma.dispatch_proof_at.isoformat(),
        site_id=rma.site_id,
        source="Directive 2011/83/EU Art. 13(3): the refund may no longer be withheld",
    )
