"""Receiving parcels (SPEC 3.2 and 5): scan the parcel, check the deadline, confirm each unit.

A scan is answered with indexed look-ups only (RMA, return tracking number, order number,
outbound tracking number, LPN: each a unique or indexed column), and the parcel is loaded with
a fixed number of queries however big the tables are.

Confirming a unit claims a *slot* (1..quantity) of its return line; the unique constraint on
(return_line_id, slot) means two stations confirming the same expected unit cannot both
succeed. Before counting, the confirmation takes the parcel's row lock (an UPDATE, which also
makes SQLite take its write lock first), so the loser sees the winner's unit and is told who
has it; the constraint remains the backstop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from warehouse import codes, exceptions, guarantees, webhooks
from warehouse.db import lock_row, utcnow
from warehouse.deadlines import Assessment, Verdict, assess, local_date, refund_due_on
from warehouse.errors import Conflict, InvalidInput, NotFound, UnitAlreadyClaimed, UnknownBarcode
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.mail import queue_mail
from warehouse.models import (
    Destination,
    Event,
    ExceptionKind,
    Order,
    OrderLine,
    Product,
    Reason,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    Site,
    Unit,
    UnitException,
    UnitPhoto,
    UnitStatus,
    User,
)

# Worst first: the parcel's verdict is the worst of its lines'.
_SEVERITY = {Verdict.OUT_OF_WINDOW: 0, Verdict.GRACE: 1, Verdict.IN_TIME: 2, Verdict.GUARANTEE: 3}


class WrongSite(Conflict):
    """The parcel belongs to another site."""

    code = "wrong_site"


def line_verdict(rma: ReturnRequest, line: ReturnLine) -> Assessment:
    """The deadline verdict of one line of the parcel."""
    return return_verdict(rma, line.reason, line.order_line.guarantee_extended_months)


def return_verdict(rma: ReturnRequest, reason: Reason, extended_months: int = 0) -> Assessment:
    """The deadline verdict of a return for one reason: windows from the shipment's delivery in
    the site's time zone, notice on the announcement (or, for an unannounced parcel, the day it
    arrived)."""
    timezone = rma.site.timezone
    delivered = rma.shipment.delivered_at
    return assess(
        reason=reason,
        delivered_on=local_date(delivered, timezone) if delivered else None,
        notice_on=rma.announced_on,
        received_on=rma.received_on,
        announced_on=rma.announced_on,
        window_days=rma.partner.window_days,
        grace_days=rma.partner.grace_days,
        informed=rma.order.withdrawal_informed,
        guarantee=guarantees.rule_for(rma.order.country_code),
        extended_months=extended_months,
        dispatch_proof_on=dispatch_proof_on(rma),
    )


def dispatch_proof_on(rma: ReturnRequest) -> dt.date | None:
    """The site day the carrier first scanned the return parcel (proof of dispatch), if known."""
    return local_date(rma.dispatch_proof_at, rma.site.timezone) if rma.dispatch_proof_at else None


def refund_due_of(rma: ReturnRequest) -> dt.date:
    """The return's refund-due date from its notice, arrival and proof of dispatch."""
    return refund_due_on(rma.announced_on, rma.received_on, dispatch_proof_on(rma))


def reason_of(unit: Unit) -> Reason:
    """The customer's reason for this unit (an extra unit without a return line: other)."""
    return unit.return_line.reason if unit.return_line else Reason.OTHER


def assessment_for(unit: Unit) -> Assessment:
    """The deadline verdict of a unit's return, by calendar day in the site's time zone."""
    line = unit.return_line
    extended = line.order_line.guarantee_extended_months if line is not None else 0
    return return_verdict(unit.return_request, reason_of(unit), extended)


def verdict_of(rma: ReturnRequest) -> Assessment:
    """The parcel's verdict: the worst of its lines' (an RMA always has at least one line)."""
    return min((line_verdict(rma, line) for line in rma.lines), key=lambda a: _SEVERITY[a.verdict])


# --- Looking a parcel up ---------------------------------------------------------------------


@dataclass
class ScanResult:
    """What a parcel scan found: one RMA to open, several to choose from, or an order with no
    RMA for the shipment (unannounced parcel)."""

    code: str
    rma: ReturnRequest | None = None
    choices: list[ReturnRequest] = field(default_factory=list)
    order: Order | None = None
    unannounced_shipments: list[Shipment] = field(default_factory=list)
    via: str = ""


def _load_rma(session: Session, **where) -> ReturnRequest | None:
    """One RMA with everything the parcel card shows, in a fixed number of queries."""
    return (
        session.query(ReturnRequest)
        .filter_by(**where)
        .options(
            selectinload(ReturnRequest.order).selectinload(Order.country),
            selectinload(ReturnRequest.shipment),
            selectinload(ReturnRequest.partner),
            selectinload(ReturnRequest.site),
            selectinload(ReturnRequest.lines)
            .selectinload(ReturnLine.order_line)
            .selectinload(OrderLine.product),
            selectinload(ReturnRequest.units).selectinload(Unit.product),
        )
        .populate_existing()
        .one_or_none()
    )


def load_parcel(session: Session, rma_id: int) -> ReturnRequest:
    """The RMA by id with what the card needs."""
    rma = _load_rma(session, id=rma_id)
    if rma is None:
        raise NotFound(_("no such parcel"), field="rma")
    return rma


def _check_site(rma: ReturnRequest, actor: Actor) -> None:
    if actor.site_id is not None and rma.site_id != actor.site_id:
        raise WrongSite(
            _(
                "%(rma)s is a return for site %(code)s (%(name)s), not this site. Do not open it: "
                "put it on the transfer pallet.",
                rma=rma.rma,
                code=rma.site.code,
                name=rma.site.name,
            ),
            field="code",
            site=rma.site.code,
        )


def _order_result(session: Session, code: str, order: Order, via: str) -> ScanResult:
    rmas = (
        session.query(ReturnRequest)
        .filter(ReturnRequest.order_id == order.id, ReturnRequest.receipt_closed_at.is_(None))
        .order_by(ReturnRequest.id)
        .all()
    )
    if len(rmas) == 1:
        return ScanResult(code, rma=_load_rma(session, id=rmas[0].id), via=via)
    if rmas:
        return ScanResult(code, choices=rmas, order=order, via=via)
    shipments = session.query(Shipment).filter_by(order_id=order.id).order_by(Shipment.id).all()
    return ScanResult(code, order=order, unannounced_shipments=shipments, via=via)


def find_parcel(session: Session, code: str, actor: Actor) -> ScanResult:
    """Resolve a scan of an RMA, return tracking number, order number or outbound tracking
    number (or a unit's LPN) to a parcel. Unknown and malformed codes raise `UnknownBarcode`
    and write nothing."""
    scanned = codes.normalise(code)
    if not scanned:
        raise InvalidInput(_("scan a code first"), field="code")
    if len(scanned) > 64:
        raise UnknownBarcode(_("That scan is too long to be a parcel barcode."), field="code")
    status = codes.rma_status(scanned)
    if status is False:
        raise UnknownBarcode(
            _(
                "%(scanned)s is not a valid RMA number (its check character does not match). "
                "Scan it again, or search by order number, tracking number or email.",
                scanned=scanned,
            ),
            field="code",
        )
    if status is True:
        rma = _load_rma(session, rma=codes.canonical_rma(scanned))
        if rma is None:
            raise UnknownBarcode(
                _(
                    "No return %(canonical_rma)s exists. Search by order number, "
                    "tracking number or email.",
                    canonical_rma=codes.canonical_rma(scanned),
                ),
                field="code",
            )
        _check_site(rma, actor)
        return ScanResult(scanned, rma=rma, via="rma")
    if codes.lpn_status(scanned) is not None:
        unit = session.query(Unit).filter_by(lpn=scanned).one_or_none()
        if unit is None:
            raise UnknownBarcode(
                _("No unit carries the licence plate %(scanned)s.", scanned=scanned), field="code"
            )
        rma = _load_rma(session, id=unit.return_id)
        _check_site(rma, actor)
        return ScanResult(scanned, rma=rma, via="lpn")
    raw = code.strip()
    for where, via in (({"rma": raw}, "rma"), ({"return_tracking_number": raw}, "tracking")):
        rma = _load_rma(session, **where)
        if rma is not None:
            _check_site(rma, actor)
            return ScanResult(scanned, rma=rma, via=via)
    order = session.query(Order).filter(Order.number.in_({raw, scanned})).first()
    if order is not None:
        return _order_result(session, scanned, order, "order")
    shipment = session.query(Shipment).filter(Shipment.tracking_number.in_({raw, scanned})).first()
    if shipment is not None:
        return _order_result(session, scanned, shipment.order, "shipment")
    raise UnknownBarcode(
        _(
            "Nothing is known by %(raw)s: not an RMA, tracking number, order number or unit "
            "label. Search by order number, tracking number or the customer's email.",
            raw=repr(raw),
        ),
        field="code",
    )


def scan_parcel(session: Session, code: str, actor: Actor) -> ScanResult:
    """`find_parcel`, plus the scan event when it opened a parcel (scanning twice is harmless:
    same card, an extra event, nothing else)."""
    result = find_parcel(session, code, actor)
    if result.rma is not None:
        record(
            session,
            actor,
            "parcel.scanned",
            result.rma,
            site_id=result.rma.site_id,
            code=result.code,
            via=result.via,
        )
    return result


def search(session: Session, text: str, limit: int = 20) -> list[Order]:
    """Orders by number, outbound or return tracking number, or the customer's email."""
    text = text.strip()
    if not text:
        return []
    by_tracking = sa.select(Shipment.order_id).where(Shipment.tracking_number == text)
    by_return = sa.select(ReturnRequest.order_id).where(
        sa.or_(ReturnRequest.return_tracking_number == text, ReturnRequest.rma == text.upper())
    )
    return (
        session.query(Order)
        .filter(
            sa.or_(
                Order.number == text,
                Order.number == text.upper(),
                sa.func.lower(Order.customer_email) == text.lower(),
                Order.id.in_(by_tracking),
                Order.id.in_(by_return),
            )
        )
        .order_by(Order.id.desc())
        .limit(limit)
        .all()
    )


# --- Unannounced parcels -----------------------------------------------------------------------


def create_unannounced(
    session: Session,
    shipment_id: int,
    *,
    actor: Actor,
    site_id: int,
    now: dt.datetime | None = None,
) -> ReturnRequest:
    """An RMA made on the spot for a parcel nobody announced, flagged `unannounced`.

    It expects every unit of the shipment not yet on another RMA (reason 'other'); the operator
    confirms what is really in the box and closes the parcel, which declares the rest missing.
    """
    from warehouse.announcements import returnable

    now = now or utcnow()
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(_("no such shipment"), field="shipment")
    site = session.get(Site, site_id)
    order = shipment.order
    left = returnable(session, order)
    lines = [line for line in shipment.lines if left.get(line.id, 0) > 0]
    if not lines:
        # Undelivered per the carrier, or everything already announced: expect what was sent.
        taken = {line.id: line.quantity - left.get(line.id, 0) for line in shipment.lines}
        lines = [line for line in shipment.lines if line.quantity - taken[line.id] > 0]
        if not lines:
            raise Conflict(
                _(
                    "Every unit of order %(number)s from %(name)s is already on an "
                    "RMA: scan that RMA instead.",
                    number=order.number,
                    name=shipment.partner.name,
                ),
                field="shipment",
            )
        left = {line.id: line.quantity - taken[line.id] for line in lines}
    today = local_date(now, site.timezone)
    rma = ReturnRequest(
        rma=codes.new_rma(),
        order=order,
        shipment=shipment,
        partner_id=shipment.partner_id,
        site_id=site.id,
        source="station",
        unannounced=True,
        announced_at=now,
        announced_on=today,
        destination=shipment.partner.destination,  # a partner's own returns are forwarded
    )
    for line in lines:
        rma.lines.append(
            ReturnLine(order_line_id=line.id, quantity=left[line.id], reason=Reason.OTHER)
        )
    session.add(rma)
    session.flush()
    record(
        session,
        actor,
        "return.created_unannounced",
        rma,
        after=ReturnStatus.ANNOUNCED.value,
        site_id=site.id,
        rma=rma.rma,
        order=order.number,
    )
    exceptions.flag(
        session, actor, ExceptionKind.UNANNOUNCED, rma, detail=f"order {order.number}", now=now
    )
    return rma


# --- Confirming units --------------------------------------------------------------------------


@dataclass
class Confirmed:
    """A confirmation's outcome: the unit, and whether it was already there (a repeat)."""

    unit: Unit
    repeated: bool = False
    needs_serial: bool = False

    @property
    def parcel(self) -> ReturnRequest:
        """The parcel as read under the lock, with the new unit: what its card shows."""
        return self.unit.return_request


def _open_for_units(rma: ReturnRequest, actor: Actor) -> None:
    _check_site(rma, actor)
    if actor.partner_id is not None and actor.partner_id != rma.partner_id:
        raise NotFound(_("no return %(rma)s", rma=rma.rma), field="code")
    at_partner = actor.partner_id == rma.partner_id  # the partner receiving its own return
    if rma.destination == Destination.PARTNER and not at_partner:
        raise Conflict(
            _(
                "%(name)s takes its returns directly: do not unpack, forward "
                "the parcel with the forwarding label.",
                name=rma.partner.name,
            ),
            field="code",
        )
    if rma.receipt_closed_at is not None:
        raise Conflict(
            _("%(rma)s was closed at receiving; open a new RMA for extra items.", rma=rma.rma)
        )


def _mark_received(session: Session, rma: ReturnRequest, actor: Actor, now: dt.datetime) -> None:
    """First unit in: the RMA is received, its refund-due date fixed, the customer told once."""
    if rma.status != ReturnStatus.ANNOUNCED:
        return
    rma.status = ReturnStatus.RECEIVED
    rma.received_at = now
    rma.received_on = local_date(now, rma.site.timezone)
    rma.refund_due_on = refund_due_of(rma)
    verdict = verdict_of(rma)
    record(
        session,
        actor,
        "return.received",
        rma,
        before=ReturnStatus.ANNOUNCED.value,
        after=ReturnStatus.RECEIVED.value,
        site_id=rma.site_id,
        verdict=verdict.verdict.value,
        days_left=verdict.days_left,
        days_over=verdict.days_over,
        refund_due_on=rma.refund_due_on.isoformat(),
    )
    order = rma.order
    queue_mail(
        session,
        template="return_received",
        to=order.customer_email,
        language=order.language,
        context={
            "rma": rma.rma,
            "return_id": rma.id,
            "order_number": order.number,
            "customer_name": order.customer_name,
            "received_on": rma.received_on.isoformat(),
            "refund_due_on": rma.refund_due_on.isoformat(),
        },
        key=f"received:{rma.rma}",
    )
    webhooks.emit(
        session,
        "return.received",
        channel=order.channel,
        key=rma.rma,
        data=lambda: webhooks.about(
            rma,
            received_on=rma.received_on.isoformat(),
            refund_due_on=rma.refund_due_on.isoformat(),
            verdict=verdict.verdict.value,
        ),
    )


def _who(session: Session, unit: Unit) -> str:
    user = session.get(User, unit.received_by_id) if unit.received_by_id else None
    if user is None:
        return unit.received_station or _("another station")
    if not unit.received_station:
        return user.name
    return _("%(name)s at %(station)s", name=user.name, station=unit.received_station)


def _new_unit(
    session: Session,
    rma: ReturnRequest,
    actor: Actor,
    now: dt.datetime,
    *,
    line: ReturnLine | None,
    product: Product | None,
    slot: int | None,
    exception: UnitException | None,
) -> Unit:
    for _attempt in range(3):
        unit = Unit(
            lpn=codes.new_lpn(),
            return_id=rma.id,
            return_line_id=line.id if line else None,
            product_id=product.id if product else None,
            partner_id=rma.partner_id,
            site_id=rma.site_id,
            slot=slot,
            exception=exception,
            received_at=now,
            received_by_id=actor.user_id,
            received_station=actor.station,
        )
        savepoint = session.begin_nested()
        session.add(unit)
        try:
            session.flush()
        except IntegrityError:
            savepoint.rollback()
            if slot is not None and line is not None:
                winner = (
                    session.query(Unit).filter_by(return_line_id=line.id, slot=slot).one_or_none()
                )
                if winner is not None:
                    raise UnitAlreadyClaimed(
                        _(
                            "Unit %(slot)s of %(quantity)s of %(product)s was just confirmed by "
                            "%(who)s as %(lpn)s.",
                            slot=slot,
                            quantity=line.quantity,
                            product=product.title,
                            who=_who(session, winner),
                            lpn=winner.lpn,
                        ),
                        field="code",
                        lpn=winner.lpn,
                    ) from None
            continue  # an LPN collision: draw another
        savepoint.commit()
        rma.units.append(unit)  # the parcel as loaded shows it too, without reading it again
        return unit
    raise Conflict(_("could not assign a licence plate; scan again"))  # pragma: no cover


def confirm_unit(
    session: Session,
    rma_id: int,
    *,
    actor: Actor,
    gtin: str | None = None,
    line_id: int | None = None,
    seen_unit_id: int | None = None,
    now: dt.datetime | None = None,
) -> Confirmed:
    """Confirm one unit of the parcel by its product barcode (or a tap on its line).

    `seen_unit_id` is the newest unit the station's card showed: a unit of the same product
    newer than that, confirmed by this same station, means this request is a repeat (double
    scan, resent form) and it is answered with that unit instead of a second one; one confirmed
    by another station while this one looked means the other station has it.

    An EAN that is not in the RMA becomes a flagged `wrong_item` unit (or `foreign` if the
    marketplace does not sell it); one more than announced becomes an `extra` unit.
    """
    now = now or utcnow()
    lock_row(session, ReturnRequest, rma_id)  # one confirmation of a parcel at a time
    # Read under the lock, every row afresh (populate_existing reaches the eager loads too):
    # the parcel, its lines and its units are as the database has them, whatever the card showed.
    rma = load_parcel(session, rma_id)
    _open_for_units(rma, actor)

    if line_id is not None:
        candidates = [line for line in rma.lines if line.id == line_id]
        if not candidates:
            raise NotFound(_("%(rma)s has no such line", rma=rma.rma), field="line")
        product = candidates[0].order_line.product
    else:
        scanned = codes.normalise(gtin or "")
        candidates = [line for line in rma.lines if line.order_line.product.gtin == scanned]
        product = candidates[0].order_line.product if candidates else None
        if not candidates:
            if not codes.is_gtin(scanned):
                raise UnknownBarcode(
                    _(
                        "%(scanned)s is not a valid product barcode (its check digit "
                        "is wrong). Scan it again or type it.",
                        scanned=scanned,
                    ),
                    field="code",
                )
            product = (
                session.query(Product).filter_by(gtin=scanned, partner_id=rma.partner_id).first()
                or session.query(Product).filter_by(gtin=scanned).first()
            )

    units = sorted(rma.units, key=lambda u: u.id)
    if seen_unit_id is not None:
        newer = [u for u in units if u.id > seen_unit_id and product and u.product_id == product.id]
        mine = [
            u
            for u in newer
            if u.received_station == actor.station and u.received_by_id == actor.user_id
        ]
        if mine:
            return Confirmed(mine[-1], repeated=True)

    if not candidates:
        exception = UnitException.WRONG_ITEM if product else UnitException.FOREIGN
        unit = _new_unit(
            session, rma, actor, now, line=None, product=product, slot=None, exception=exception
        )
        _after_unit(session, rma, unit, actor, now, gtin=codes.normalise(gtin or ""))
        return Confirmed(unit)

    for line in candidates:
        taken = {u.slot for u in units if u.return_line_id == line.id and u.slot is not None}
        free = [slot for slot in range(1, line.quantity + 1) if slot not in taken]
        if free:
            unit = _new_unit(
                session, rma, actor, now, line=line, product=product, slot=free[0], exception=None
            )
            _after_unit(session, rma, unit, actor, now)
            return Confirmed(unit, needs_serial=product.needs_serial)

    # Every expected unit of this product is in. If another station confirmed the last one
    # while this station's card still showed it open, that station has it; else it is extra.
    if seen_unit_id is not None:
        others = [
            u
            for u in units
            if u.id > seen_unit_id and u.product_id == product.id and u.slot is not None
        ]
        if others:
            winner = others[-1]
            raise UnitAlreadyClaimed(
                _(
                    "That unit of %(product)s was just confirmed by %(who)s as %(lpn)s.",
                    product=product.title,
                    who=_who(session, winner),
                    lpn=winner.lpn,
                ),
                field="code",
                lpn=winner.lpn,
            )
    unit = _new_unit(
        session,
        rma,
        actor,
        now,
        line=candidates[0],
        product=product,
        slot=None,
        exception=UnitException.EXTRA,
    )
    _after_unit(session, rma, unit, actor, now)
    return Confirmed(unit, needs_serial=product.needs_serial)


def _after_unit(
    session: Session,
    rma: ReturnRequest,
    unit: Unit,
    actor: Actor,
    now: dt.datetime,
    **data,
) -> None:
    record(
        session,
        actor,
        "unit.received",
        unit,
        after=unit.status.value,
        site_id=rma.site_id,
        lpn=unit.lpn,
        rma=rma.rma,
        slot=unit.slot,
        exception=unit.exception.value if unit.exception else None,
        **data,
    )
    if unit.exception is not None:
        detail = unit.product.title if unit.product else f"barcode {data.get('gtin') or '?'}"
        exceptions.flag(
            session,
            actor,
            exceptions.FROM_UNIT_FLAG[unit.exception],
            rma,
            unit=unit,
            detail=detail,
            now=now,
        )
    _mark_received(session, rma, actor, now)


def record_serial(session: Session, unit_id: int, serial: str, *, actor: Actor) -> Unit:
    """Store the scanned serial number / IMEI; flag it when the shipped serials are known and
    this one is not among them."""
    serial = serial.strip()
    if not serial or len(serial) > 64:
        raise InvalidInput(_("scan the serial number or IMEI (1 to 64 characters)"), field="serial")
    unit = session.get(Unit, unit_id)
    if unit is None or (actor.site_id is not None and unit.site_id != actor.site_id):
        raise NotFound(_("no such unit"), field="unit")
    shipped = unit.return_line.order_line.serial_numbers if unit.return_line else []
    before = unit.serial_number
    unit.serial_number = serial
    unit.serial_mismatch = bool(shipped) and serial.upper() not in {s.upper() for s in shipped}
    record(
        session,
        actor,
        "unit.serial",
        unit,
        before=before,
        after=serial[:32],
        site_id=unit.site_id,
        mismatch=unit.serial_mismatch,
        shipped=shipped,
    )
    if unit.serial_mismatch:
        exceptions.flag(
            session,
            actor,
            ExceptionKind.SERIAL_MISMATCH,
            unit.return_request,
            unit=unit,
            detail=f"scanned {serial[:40]}, shipped {', '.join(shipped)[:150]}",
        )
    else:
        exceptions.withdraw(
            session,
            actor,
            ExceptionKind.SERIAL_MISMATCH,
            unit_id=unit.id,
            why="the serial scanned again matches",
        )
    return unit


def mark_damaged(session: Session, rma_id: int, *, actor: Actor) -> ReturnRequest:
    """Note that the parcel arrived damaged by the carrier."""
    rma = load_parcel(session, rma_id)
    _check_site(rma, actor)
    if not rma.parcel_damaged:
        rma.parcel_damaged = True
        record(
            session,
            actor,
            "parcel.damaged",
            rma,
            before="intact",
            after="damaged",
            site_id=rma.site_id,
        )
        exceptions.flag(session, actor, ExceptionKind.PARCEL_DAMAGED, rma)
    return rma


def flag_unit_damaged(session: Session, unit_id: int, *, actor: Actor) -> Unit:
    """Flag one unit as damaged in transit (the carrier's fault, not the customer's)."""
    unit = session.get(Unit, unit_id)
    if unit is None or (actor.site_id is not None and unit.site_id != actor.site_id):
        raise NotFound(_("no such unit"), field="unit")
    if unit.exception is None:
        unit.exception = UnitException.DAMAGED_IN_TRANSIT
        record(
            session,
            actor,
            "unit.damaged_in_transit",
            unit,
            after="damaged_in_transit",
            site_id=unit.site_id,
        )
        exceptions.flag(
            session, actor, ExceptionKind.DAMAGED_IN_TRANSIT, unit.return_request, unit=unit
        )
    return unit


def close_parcel(
    session: Session, rma_id: int, *, actor: Actor, now: dt.datetime | None = None
) -> ReturnRequest:
    """Finish receiving: every expected unit not confirmed is declared missing (flagged)."""
    now = now or utcnow()
    lock_row(session, ReturnRequest, rma_id)  # not while a unit of it is being confirmed
    rma = load_parcel(session, rma_id)  # read afresh under the lock, as confirm_unit does
    _check_site(rma, actor)
    if rma.receipt_closed_at is not None:
        return rma
    units = session.query(Unit).filter(Unit.return_id == rma.id).populate_existing().all()
    missing = {}
    for line in rma.lines:
        confirmed = sum(1 for u in units if u.return_line_id == line.id and u.slot is not None)
        line.missing_quantity = max(0, line.quantity - confirmed)
        if line.missing_quantity:
            missing[str(line.id)] = line.missing_quantity
            exceptions.flag(
                session,
                actor,
                ExceptionKind.MISSING_UNIT,
                rma,
                line=line,
                detail=f"{line.missing_quantity} x {line.order_line.product.title} missing",
                now=now,
            )
    rma.receipt_closed_at = now
    _mark_received(session, rma, actor, now)
    record(
        session,
        actor,
        "parcel.closed",
        rma,
        site_id=rma.site_id,
        missing=missing,
        units=len(units),
    )
    return rma


def forwards_to_partner(rma: ReturnRequest) -> bool:
    """True when the parcel belongs to a partner who takes its returns directly."""
    return rma.destination == Destination.PARTNER


# --- Taking a receiving action back ----------------------------------------------------------

UNDOABLE = ("unit.received", "unit.damaged_in_transit", "parcel.damaged")


@dataclass(frozen=True)
class Undone:
    """What an undo took back, in words for the station."""

    what: str
    lpn: str | None = None


def _removable(session: Session, unit: Unit) -> None:
    """Refuse to remove a unit that went further than receiving."""
    if unit.status != UnitStatus.RECEIVED or unit.grade is not None or unit.refund_state:
        raise Conflict(
            _(
                "%(lpn)s was graded already; it can no longer be taken back at receiving.",
                lpn=unit.lpn,
            ),
            field="code",
        )
    if session.scalar(sa.select(sa.func.count()).where(UnitPhoto.unit_id == unit.id)):
        raise Conflict(
            _("%(lpn)s has photos; it can no longer be removed.", lpn=unit.lpn), field="code"
        )


def remove_unit(session: Session, unit_id: int, *, actor: Actor) -> Undone:
    """Take back a unit confirmed by mistake (an extra or wrong scan): its record goes, the
    event log keeps the removal with the LPN, and its printed label is to be thrown away."""
    unit = session.get(Unit, unit_id)
    if unit is None or (actor.site_id is not None and unit.site_id != actor.site_id):
        raise NotFound(_("no such unit"), field="unit")
    _removable(session, unit)
    rma = unit.return_request
    record(
        session,
        actor,
        "unit.removed",
        rma,
        before=unit.lpn,
        after="removed",
        site_id=rma.site_id,
        lpn=unit.lpn,
        slot=unit.slot,
        exception=unit.exception.value if unit.exception else None,
    )
    exceptions.forget_unit(session, actor, unit, why="unit removed at receiving")
    session.delete(unit)
    session.flush()
    return Undone(_("%(lpn)s removed: throw its label away", lpn=unit.lpn), unit.lpn)


def clear_unit_damaged(session: Session, unit_id: int, *, actor: Actor) -> Undone:
    """Take back "damaged in transit" on a unit."""
    unit = session.get(Unit, unit_id)
    if unit is None or (actor.site_id is not None and unit.site_id != actor.site_id):
        raise NotFound(_("no such unit"), field="unit")
    if unit.exception != UnitException.DAMAGED_IN_TRANSIT:
        raise Conflict(
            _("%(lpn)s is not flagged as damaged in transit.", lpn=unit.lpn), field="code"
        )
    unit.exception = None
    exceptions.withdraw(
        session,
        actor,
        ExceptionKind.DAMAGED_IN_TRANSIT,
        unit_id=unit.id,
        why="damaged in transit taken back",
    )
    record(
        session,
        actor,
        "unit.damaged_in_transit.undone",
        unit,
        before="damaged_in_transit",
        after="intact",
        site_id=unit.site_id,
    )
    return Undone(_("%(lpn)s is no longer flagged as damaged in transit", lpn=unit.lpn), unit.lpn)


def clear_parcel_damaged(session: Session, rma_id: int, *, actor: Actor) -> Undone:
    """Take back "parcel damaged"."""
    rma = load_parcel(session, rma_id)
    _check_site(rma, actor)
    if not rma.parcel_damaged:
        raise Conflict(_("%(rma)s is not marked as damaged.", rma=rma.rma), field="code")
    rma.parcel_damaged = False
    exceptions.withdraw(
        session,
        actor,
        ExceptionKind.PARCEL_DAMAGED,
        return_id=rma.id,
        why="parcel damaged taken back",
    )
    record(
        session,
        actor,
        "parcel.damaged.undone",
        rma,
        before="damaged",
        after="intact",
        site_id=rma.site_id,
    )
    return Undone(_("%(rma)s is no longer marked as damaged", rma=rma.rma))


def undo_last(session: Session, rma_id: int, *, actor: Actor) -> Undone:
    """Take back this station's latest action on the parcel that can still be taken back: a
    unit confirmed (still ungraded), "damaged in transit" on a unit, or "parcel damaged"."""
    rma = load_parcel(session, rma_id)
    _check_site(rma, actor)
    units = {unit.id: unit for unit in rma.units}
    candidates = session.scalars(
        sa.select(Event)
        .where(
            Event.kind.in_(UNDOABLE),
            sa.or_(
                sa.and_(Event.subject_type == "unit", Event.subject_id.in_(list(units) or [0])),
                sa.and_(Event.subject_type == "return_request", Event.subject_id == rma.id),
            ),
            Event.station == actor.station,
        )
        .order_by(Event.id.desc())
        .limit(50)
    )
    for event in candidates:
        if event.kind == "parcel.damaged" and rma.parcel_damaged:
            return clear_parcel_damaged(session, rma.id, actor=actor)
        unit = units.get(event.subject_id) if event.subject_type == "unit" else None
        if unit is None:
            continue
        if (
            event.kind == "unit.damaged_in_transit"
            and unit.exception == UnitException.DAMAGED_IN_TRANSIT
        ):
            return clear_unit_damaged(session, unit.id, actor=actor)
        if event.kind == "unit.received" and unit.status == UnitStatus.RECEIVED and not unit.grade:
            return remove_unit(session, unit.id, actor=actor)
    raise Conflict(_("Nothing at this station on this parcel can be taken back."), field="code")
