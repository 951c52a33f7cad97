"""The to-customer station: parcels from the warehouse to customers leave here.

A parcel waits (`CustomerParcel`, made by `warehouse.remedies` for a replacement or exchange, by
`warehouse.routing` for a repaired or refused unit put on the to-customer shelf) until an
operator has repaired or picked the item, printed its label and packed it. Shipping (`ship`)
records the tracking number, mails the customer, makes the order line announceable again (the
customer has the goods again) and, after a repair, extends the line's guarantee by 12 months
once (Directive (EU) 2019/771 Art. 10(1a), inserted by Directive (EU) 2024/1799 Art. 16).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from warehouse import codes, events, guarantees
from warehouse.announcements import TRACKING_PATTERN
from warehouse.db import utcnow
from warehouse.deadlines import add_months, local_date
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.mail import queue_mail
from warehouse.models import (
    CustomerParcel,
    Disposition,
    OrderLine,
    ParcelPurpose,
    ParcelStatus,
    Placement,
    ReturnLine,
    Shipment,
    Unit,
)
from warehouse.receiving import assessment_for
from warehouse.routing import close_if_done

# Directive (EU) 2019/771 Art. 10(1a) (Directive (EU) 2024/1799 Art. 16): once, 12 months.
REPAIR_NOTE_MIN = 5
REPAIR_NOTE_MAX = 1000

PURPOSE_LABELS = {
    ParcelPurpose.REPAIR: _l("repaired item"),
    ParcelPurpose.REPLACEMENT: _l("replacement"),
    ParcelPurpose.EXCHANGE: _l("exchange"),
    ParcelPurpose.REJECTED: _l("refused return sent back"),
}


def find_parcel(session: Session, code: str, actor: events.Actor) -> CustomerParcel:
    """A parcel by its code or by the LPN of the unit it answers; another site's is unknown."""
    wanted = codes.normalise(code)
    query = sa.select(CustomerParcel).options(
        joinedload(CustomerParcel.unit), joinedload(CustomerParcel.product)
    )
    if wanted.startswith(codes.PARCEL_PREFIX):
        parcel = session.scalar(query.where(CustomerParcel.code == wanted))
    else:
        parcel = session.scalar(
            query.join(Unit, Unit.id == CustomerParcel.unit_id).where(Unit.lpn == wanted)
        )
    if parcel is None or (actor.site_id is not None and parcel.site_id != actor.site_id):
        raise NotFound(
            _("No parcel to a customer has the code or LPN %(wanted)s.", wanted=repr(wanted)),
            field="code",
        )
    return parcel


def waiting_parcels(session: Session, site_id: int | None, limit: int = 200) -> list:
    """Parcels still to repair / pick, label and ship, oldest first."""
    query = (
        sa.select(CustomerParcel)
        .where(CustomerParcel.status == ParcelStatus.WAITING)
        .options(
            joinedload(CustomerParcel.product),
            joinedload(CustomerParcel.unit),
            joinedload(CustomerParcel.order),
            joinedload(CustomerParcel.site),
        )
        .order_by(CustomerParcel.created_at, CustomerParcel.id)
        .limit(limit)
    )
    if site_id is not None:
        query = query.where(CustomerParcel.site_id == site_id)
    return list(session.scalars(query))


def ready_to_ship(parcel: CustomerParcel) -> str | None:
    """Why the parcel cannot leave yet, or None: a customer's own item must be on the shelf."""
    if parcel.own_item and (parcel.unit.disposition != Disposition.TO_CUSTOMER):
        return f"put {parcel.unit.lpn} on a to-customer shelf at the route station first"
    return None


def ship(
    session: Session,
    actor: events.Actor,
    code: str,
    *,
    tracking_number: str = "",
    repair_note: str = "",
) -> CustomerParcel:
    """The parcel leaves: tracking number, customer mail, the line announceable again, the
    guarantee extended after a repair, and the returned unit closed when it was the item sent.

    A repair needs a note of what was repaired (the unit's repair trail). Shipping a shipped
    parcel again with the same tracking number changes nothing."""
    parcel = find_parcel(session, code, actor)
    tracking_number = (tracking_number or "").strip()
    repair_note = (repair_note or "").strip()
    if parcel.status == ParcelStatus.SHIPPED:
        if not tracking_number or tracking_number == parcel.tracking_number:
            return parcel
        raise Conflict(
            _(
                "%(code)s has left already with tracking number %(tracking_number)s",
                code=parcel.code,
                tracking_number=parcel.tracking_number,
            ),
            field="tracking_number",
        )
    if not tracking_number:
        raise InvalidInput(
            _("scan the carrier's tracking number of the parcel"), field="tracking_number"
        )
    if not TRACKING_PATTERN.match(tracking_number):
        raise InvalidInput(
            _("the tracking number is 4 to 64 letters, digits or dashes"), field="tracking_number"
        )
    if parcel.purpose == ParcelPurpose.REPAIR and len(repair_note) < REPAIR_NOTE_MIN:
        raise InvalidInput(_("say what was repaired; the customer reads it"), field="repair_note")
    if len(repair_note) > REPAIR_NOTE_MAX:
        raise InvalidInput(
            _(
                "the repair note is limited to %(most)s characters",
                most=REPAIR_NOTE_MAX,
            ),
            field="repair_note",
        )
    waiting = ready_to_ship(parcel)
    if waiting:
        raise Conflict(
            _("%(code)s cannot leave yet: %(waiting)s", code=parcel.code, waiting=waiting),
            field="code",
        )
    claimed = session.execute(
        sa.update(CustomerParcel)
        .where(CustomerParcel.id == parcel.id, CustomerParcel.status == ParcelStatus.WAITING)
        .values(status=ParcelStatus.SHIPPED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(
            _("%(code)s was just shipped at another station", code=parcel.code), field="code"
        )
    now = utcnow()
    parcel.status = ParcelStatus.SHIPPED
    parcel.shipped_at = now
    parcel.shipped_by_id = actor.user_id
    parcel.tracking_number = tracking_number
    parcel.repair_note = repair_note
    unit = parcel.unit
    line = session.get(ReturnLine, unit.return_line_id)
    # The customer has the goods of the line again (their own, or the same new): announceable.
    if parcel.purpose != ParcelPurpose.EXCHANGE:
        line.sent_back_quantity += 1
    else:
        exchange_shipment(session, actor, parcel, line.order_line)
    extended = None
    if parcel.purpose == ParcelPurpose.REPAIR:
        extended = extend_guarantee(session, actor, unit, line.order_line, now=now)
    if parcel.own_item:  # the unit leaves its shelf
        session.execute(
            sa.update(Placement)
            .where(Placement.unit_id == unit.id, Placement.left_at.is_(None))
            .values(left_at=now)
        )
    events.record(
        session,
        actor,
        "parcel.shipped",
        parcel,
        before=ParcelStatus.WAITING.value,
        after=ParcelStatus.SHIPPED.value,
        site_id=parcel.site_id,
        lpn=unit.lpn,
        purpose=parcel.purpose.value,
        tracking_number=parcel.tracking_number,
        repair_note=repair_note,
    )
    order = parcel.order
    queue_mail(
        session,
        template="parcel_shipped_customer",
        to=order.customer_email,
        language=order.language,
        context={
            "purpose": parcel.purpose.value,
            "parcel": parcel.code,
            "order_number": order.number,
            "customer_name": order.customer_name,
            "product": parcel.product.title,
            "tracking_number": parcel.tracking_number,
            "repair_note": repair_note,
            "guarantee_ends_on": extended.isoformat() if extended else "",
        },
        key=f"parcel-shipped:{parcel.id}",
    )
    session.flush()
    close_if_done(session, unit, actor)
    return parcel


def exchange_shipment(
    session: Session, actor: events.Actor, parcel: CustomerParcel, original: OrderLine
) -> Shipment:
    """The exchange on the order flow: a shipment of the order carrying the variant, at the
    price paid for what it replaces, so its delivery, its withdrawal period and a later return
    work as for any shipment (nothing is charged or booked as a sale: it replaces a returned
    unit of a sale booked already)."""
    order = parcel.order
    shipment = Shipment(
        order_id=order.id,
        partner_id=parcel.partner_id,
        tracking_number=parcel.tracking_number,
        exchange_for_unit_id=parcel.unit_id,
    )
    session.add(shipment)
    session.flush()
    session.add(
        OrderLine(
            order_id=order.id,
            shipment_id=shipment.id,
            product_id=parcel.product_id,
            quantity=1,
            unit_price_minor=original.unit_price_minor,
        )
    )
    events.record(
        session,
        actor,
        "shipment.created",
        shipment,
        after="created",
        order=order.number,
        exchange_for=parcel.unit.lpn,
        parcel=parcel.code,
    )
    return shipment


def extend_guarantee(
    session: Session,
    actor: events.Actor,
    unit: Unit,
    line: OrderLine,
    now: dt.datetime | None = None,
) -> dt.date | None:
    """Extend the guarantee of a repaired line by 12 months, once (Directive (EU) 2019/771
    Art. 10(1a)), for repairs from the day the rule applies, by the site's calendar day; the
    new end date, or None when it was extended before or the rule did not apply yet."""
    today = local_date(now or utcnow(), unit.site.timezone)
    if not guarantees.repair_extends(line.guarantee_extended_months, today):
        return None
    before = assessment_for(unit).guarantee_ends_on
    line.guarantee_extended_months = guarantees.REPAIR_EXTENSION_MONTHS
    after = add_months(before, guarantees.REPAIR_EXTENSION_MONTHS) if before else None
    events.record(
        session,
        actor,
        "guarantee.extended",
        line,
        partner_id=unit.partner_id,
        site_id=unit.site_id,
        before=before.isoformat() if before else None,
        after=after.isoformat() if after else None,
        lpn=unit.lpn,
        months=guarantees.REPAIR_EXTENSION_MONTHS,
        source="Directive (EU) 2019/771 Art. 10(1a), inserted by Directive (EU) 2024/1799",
    )
    return after
