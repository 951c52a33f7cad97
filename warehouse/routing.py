"""Routing and put-away: a graded unit's route, its target bin, and closing (SPEC sections 3, 7).

At the route station the operator scans an LPN (`plan`), then the barcode of the target bin or
pallet (`put_away`). Put-away refuses a target of the wrong kind, of another site, of another
partner (RTV pallets) or that is full, refuses a second route for a routed unit, and answers a
re-scan of the same put-away with the same result. Effects per route: restock raises the SKU's
stock with a ledger entry; resale lists the unit at its discounted price; refurbish sends the
unit back to grading; RTV and destroy add it to the open batch; to-customer (a unit to repair
and send back, or a refused return going back) makes its waiting parcel to the customer.

Which units go back to the customer is decided here, before any rule (`to_customer`): the
customer chose a repair (Directive (EU) 2019/771 Art. 13(2)), or the partner refused the refund
and its policy sends refused goods back (they are still the customer's).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from warehouse import channels, espr, parcels, resale, rules
from warehouse.batches import add_unit, open_batch
from warehouse.checklists import missing_before_sale
from warehouse.db import utcnow
from warehouse.errors import Conflict, InvalidInput, UnknownBarcode
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.models import (
    NO_REFUND_FLAGS,
    PARTNER_PORTAL_STATION,
    SETTLED_REFUND_STATES,
    BatchKind,
    CustomerParcel,
    Disposition,
    Listing,
    Location,
    LocationKind,
    ParcelPurpose,
    ParcelStatus,
    Placement,
    Product,
    RefundState,
    RejectedReturns,
    Remedy,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    StockEntry,
    Unit,
    UnitException,
    UnitStatus,
)
from warehouse.reference import LANGUAGES
from warehouse.vocabulary import disposition_word

DONE_STATES = (UnitStatus.ROUTED, UnitStatus.CLOSED)


@dataclass
class Plan:
    """What the station shows after an LPN scan: the route and where to put the unit."""

    unit: Unit
    route: rules.Route
    kind: LocationKind
    target: Location | None  # a suggested bin of the right kind with room, if any
    placement: Placement | None = None  # set when the unit is routed already

    @property
    def routed(self) -> bool:
        """Whether the unit is put away already."""
        return self.unit.status in DONE_STATES


@dataclass
class PutAway:
    """The result of a put-away scan."""

    unit: Unit
    location: Location
    disposition: Disposition
    repeated: bool = False  # the same put-away scanned again: nothing changed
    listing: Listing | None = None
    parcel: CustomerParcel | None = None  # to-customer: the parcel to label and ship
    closed: bool = False


def find_unit(session: Session, lpn: str, actor: Actor) -> Unit:
    """The unit with this LPN and everything routing reads, in one query."""
    lpn = (lpn or "").strip().upper()
    unit = session.scalars(
        sa.select(Unit)
        .where(Unit.lpn == lpn)
        .options(
            joinedload(Unit.partner),
            joinedload(Unit.site),
            joinedload(Unit.product).selectinload(Product.prices),
            joinedload(Unit.return_line).joinedload(ReturnLine.order_line),
            joinedload(Unit.return_request).joinedload(ReturnRequest.order),
        )
    ).first()
    if (
        unit is None
        or (actor.partner_id is not None and unit.partner_id != actor.partner_id)
        or (actor.site_id is not None and unit.site_id != actor.site_id)
    ):
        raise UnknownBarcode(_("No unit has the LPN %(lpn)s.", lpn=repr(lpn)), field="code")
    return unit


def _open_placement(session: Session, unit: Unit) -> Placement | None:
    return session.scalars(
        sa.select(Placement)
        .where(Placement.unit_id == unit.id, Placement.left_at.is_(None))
        .options(joinedload(Placement.location))
        .order_by(Placement.id.desc())
        .limit(1)
    ).first()


def facts_of(session: Session, unit: Unit) -> rules.UnitFacts:
    """The facts rules look at, from the unit, its order line and its SKU's floor."""
    currency = unit.return_request.order.currency
    price = unit.product.price_in(currency) if unit.product else None
    refurbished = facts_refurbished(session, unit)
    category = unit.product.category if unit.product else None
    return rules.UnitFacts(
        partner_id=unit.partner_id,
        grade=unit.grade,
        category=category,
        reason=unit.return_line.reason if unit.return_line else None,
        value_minor=facts_value(unit),
        currency=currency,
        floor_minor=price.min_price_minor if price else 0,
        refurbished=refurbished,
        missing_before_sale=missing_before_sale(category, unit.grade, unit.checklist or {}),
    )


def route_for(session: Session, unit: Unit) -> rules.Route:
    """Evaluate the partner's rules, the default table and the built-in defaults for a unit."""
    if unit.exception == UnitException.FOREIGN or unit.quarantined:
        why = "item of another marketplace" if not unit.quarantined else "sent to quarantine"
        quarantine = rules.Rule(Disposition.QUARANTINE, label=why)
        return rules.Route(Disposition.QUARANTINE, quarantine)
    back = to_customer(unit)
    if back is not None:
        return rules.Route(Disposition.TO_CUSTOMER, rules.Rule(Disposition.TO_CUSTOMER, label=back))
    table = rules.ordered(session, unit.partner_id)
    quota_ids = [rule.id for rule in table if rule.monthly_quota is not None]
    used: dict[int, int] = {}
    if quota_ids:
        month = rules.month_of(utcnow(), unit.site.timezone)
        used = dict(
            session.execute(
                sa.select(Placement.rule_id, sa.func.count())
                .where(Placement.rule_id.in_(quota_ids), Placement.placed_month == month)
                .group_by(Placement.rule_id)
            ).all()
        )
    return rules.decide(
        facts_of(session, unit),
        table,
        defective_handling=unit.partner.defective_handling,
        resale_discount_bp=unit.partner.resale_discount_bp or {},
        quota_used=used,
    )


def to_customer(unit: Unit) -> str | None:
    """Why the unit goes back to its customer, or None: a repair the customer chose and was
    granted, or a refused refund whose partner sends refused goods back. Extra, wrong and
    foreign items were never the customer's purchase and follow the rules."""
    if unit.return_line is None or unit.exception in NO_REFUND_FLAGS:
        return None
    if unit.refund_state == RefundState.REMEDY and unit.return_line.remedy == Remedy.REPAIR:
        return "repair and return to the customer"
    if (
        unit.refund_state == RefundState.REJECTED
        and unit.partner.rejected_returns == RejectedReturns.SEND_BACK
    ):
        return "refund refused: back to the customer"
    return None


def on_hold(unit: Unit) -> str | None:
    """Why a unit must wait before it is routed: its refund is still with the partner and, if
    the partner refuses it, the goods go back to the customer (they are still theirs), so they
    may not be restocked, sold or destroyed meanwhile."""
    if (
        unit.refund_state == RefundState.OPEN
        and unit.partner.rejected_returns == RejectedReturns.SEND_BACK
        and unit.return_line is not None
        and unit.exception not in NO_REFUND_FLAGS
    ):
        return _(
            "The refund of %(lpn)s is still with %(partner)s: keep it on the hold shelf until "
            "they decide (refused, it goes back to the customer).",
            lpn=unit.lpn,
            partner=unit.partner.name,
        )
    return None


def quarantine(session: Session, actor: Actor, unit: Unit) -> None:
    """Send `unit` to quarantine: its next route scan puts it in a quarantine bin, whatever the
    rules say. A closed unit has left the flow and cannot be."""
    if unit.status == UnitStatus.CLOSED:
        raise Conflict(
            _("%(lpn)s is closed already; it cannot go to quarantine", lpn=unit.lpn), field="unit"
        )
    if not unit.quarantined:
        unit.quarantined = True
        record(
            session,
            actor,
            "unit.quarantined",
            unit,
            before=unit.status.value,
            after="quarantine",
            site_id=unit.site_id,
        )


def occupancy(session: Session, location_ids: list[int]) -> dict[int, int]:
    """How many units sit in each location now."""
    if not location_ids:
        return {}
    return dict(
        session.execute(
            sa.select(Placement.location_id, sa.func.count())
            .where(Placement.location_id.in_(location_ids), Placement.left_at.is_(None))
            .group_by(Placement.location_id)
        ).all()
    )


def suggest_target(session: Session, unit: Unit, kind: LocationKind) -> Location | None:
    """A bin of `kind` at the unit's site with room; for RTV the partner's own pallet first."""
    query = sa.select(Location).where(
        Location.site_id == unit.site_id, Location.kind == kind, Location.active.is_(True)
    )
    if kind == LocationKind.RTV:
        query = query.where(
            sa.or_(Location.partner_id == unit.partner_id, Location.partner_id.is_(None))
        ).order_by(Location.partner_id.is_(None), Location.code)
    else:
        query = query.order_by(Location.code)
    candidates = list(session.scalars(query.limit(20)))
    used = occupancy(session, [location.id for location in candidates])
    return next((loc for loc in candidates if used.get(loc.id, 0) < loc.capacity), None)


def _graded_route(session: Session, unit: Unit) -> tuple[rules.Route, LocationKind]:
    """The route of a graded unit and the kind of location it goes to; refuses ungraded ones."""
    if unit.status != UnitStatus.GRADED or unit.grade is None:
        raise Conflict(
            _(
                "Unit %(lpn)s is not graded yet: grade it at the grading station first.",
                lpn=unit.lpn,
            ),
            field="code",
        )
    held = on_hold(unit)
    if held:
        raise Conflict(held, field="code")
    route = route_for(session, unit)
    if route.outcome == Disposition.DESTROY:
        refused = espr.destroy_refused(session, unit, utcnow())
        if refused:
            raise Conflict(refused, field="code")
    return route, LocationKind(route.outcome.value)


def plan(session: Session, lpn: str, actor: Actor) -> Plan:
    """The route of the unit with this LPN and a target to scan; a routed unit shows where."""
    unit = find_unit(session, lpn, actor)
    _not_at_partner(unit)
    if unit.status in DONE_STATES:
        placement = _open_placement(session, unit)
        disposition = Disposition(unit.disposition)
        done = rules.Route(disposition, rules.Rule(disposition, label="already routed"))
        return Plan(
            unit,
            done,
            LocationKind(disposition.value),
            placement.location if placement else None,
            placement,
        )
    route, kind = _graded_route(session, unit)
    return Plan(unit, route, kind, suggest_target(session, unit, kind))


def find_location(session: Session, code: str) -> Location | None:
    """The bin / pallet with this barcode, if any (one indexed look-up)."""
    code = (code or "").strip().upper()
    return session.scalars(sa.select(Location).where(Location.code == code)).first()


def _not_at_partner(unit: Unit) -> None:
    """A unit the partner received itself is not in the warehouse: nothing to route here."""
    if unit.received_station == PARTNER_PORTAL_STATION:
        raise Conflict(
            _(
                "%(lpn)s was received by %(name)s and stays there",
                lpn=unit.lpn,
                name=unit.partner.name,
            ),
            field="code",
        )


def put_away(session: Session, lpn: str, location_code: str, actor: Actor) -> PutAway:
    """Put the unit in the scanned location along its route (see the module docstring)."""
    unit = find_unit(session, lpn, actor)
    _not_at_partner(unit)
    location = find_location(session, location_code)
    if location is None:
        raise UnknownBarcode(
            _("No bin or pallet has the barcode %(code)s.", code=repr(location_code.strip())),
            field="location",
        )
    if unit.status in DONE_STATES:
        placement = _open_placement(session, unit)
        if placement is not None and placement.location_id == location.id:
            return PutAway(unit, location, placement.disposition, repeated=True)
        where = placement.location.code if placement else "its route"
        raise Conflict(
            _(
                "Unit %(lpn)s is already routed (%(disposition)s) to "
                "%(where)s; a unit is routed once.",
                lpn=unit.lpn,
                disposition=unit.disposition,
                where=where,
            ),
            field="code",
        )
    route, kind = _graded_route(session, unit)
    _check_target(session, unit, location, kind, actor)
    return _apply(session, unit, location, route, actor)


def _check_target(
    session: Session, unit: Unit, location: Location, kind: LocationKind, actor: Actor
) -> None:
    if actor.site_id is not None and location.site_id != actor.site_id:
        raise InvalidInput(
            _(
                "%(code)s is at another site (%(code2)s), not at this "
                "station's. Scan a %(kind)s bin here.",
                code=location.code,
                code2=location.site.code,
                kind=disposition_word(kind),
            ),
            field="location",
        )
    if location.site_id != unit.site_id:
        raise InvalidInput(
            _(
                "%(code)s is at another site (%(code2)s); unit %(lpn)s is at %(code3)s. Scan a "
                "%(kind)s bin here.",
                code=location.code,
                code2=location.site.code,
                lpn=unit.lpn,
                code3=unit.site.code,
                kind=disposition_word(kind),
            ),
            field="location",
        )
    if not location.active:
        raise InvalidInput(_("%(code)s is out of use.", code=location.code), field="location")
    if location.kind != kind:
        raise InvalidInput(
            _(
                "%(code)s is a %(kind)s bin; unit %(lpn)s goes to %(kind2)s. Scan a %(kind2)s bin.",
                code=location.code,
                kind=disposition_word(location.kind),
                lpn=unit.lpn,
                kind2=disposition_word(kind),
            ),
            field="location",
        )
    if location.partner_id is not None and location.partner_id != unit.partner_id:
        raise InvalidInput(
            _(
                "%(code)s is the RTV pallet of another partner; unit %(lpn)s belongs to %(name)s.",
                code=location.code,
                lpn=unit.lpn,
                name=unit.partner.name,
            ),
            field="location",
        )
    used = occupancy(session, [location.id]).get(location.id, 0)
    if used >= location.capacity:
        raise Conflict(
            _(
                "%(code)s is full (%(used)s of %(capacity)s); scan another %(kind)s bin.",
                code=location.code,
                used=used,
                capacity=location.capacity,
                kind=disposition_word(kind),
            ),
            field="location",
        )


def _apply(
    session: Session, unit: Unit, location: Location, route: rules.Route, actor: Actor
) -> PutAway:
    outcome = route.outcome
    new_status = UnitStatus.RECEIVED if outcome == Disposition.REFURBISH else UnitStatus.ROUTED
    # Claim the unit: of two stations putting the same unit away, exactly one changes it.
    claimed = session.execute(
        sa.update(Unit)
        .where(Unit.id == unit.id, Unit.status == UnitStatus.GRADED)
        .values(status=new_status)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(
            _("Unit %(lpn)s was just routed at another station.", lpn=unit.lpn), field="code"
        )
    now = utcnow()
    session.execute(
        sa.update(Placement)
        .where(Placement.unit_id == unit.id, Placement.left_at.is_(None))
        .values(left_at=now)
    )
    session.add(
        Placement(
            unit_id=unit.id,
            location_id=location.id,
            disposition=outcome,
            rule_id=route.rule.id,
            placed_at=now,
            placed_month=rules.month_of(now, unit.site.timezone),
            placed_by_id=actor.user_id,
        )
    )
    before = unit.status
    unit.status = new_status
    unit.disposition = outcome.value
    result = PutAway(unit, location, outcome)
    if outcome == Disposition.REFURBISH:
        unit.routed_at = None
    else:
        unit.routed_at = now
    if outcome == Disposition.RESTOCK:
        _restock(session, unit, actor)
    elif outcome == Disposition.RESALE:
        result.listing = _list_for_resale(session, unit, route)
    elif outcome == Disposition.TO_CUSTOMER:
        purpose = (
            ParcelPurpose.REPAIR
            if unit.refund_state == RefundState.REMEDY
            else ParcelPurpose.REJECTED
        )
        result.parcel = parcels.new_parcel(session, unit, purpose)
    elif outcome in (Disposition.RTV, Disposition.DESTROY):
        kind = BatchKind.RTV if outcome == Disposition.RTV else BatchKind.DESTRUCTION
        add_unit(
            session, open_batch(session, kind, unit.site_id, unit.partner_id, actor), unit, actor
        )
    record(
        session,
        actor,
        "unit.sent_to_refurbish" if outcome == Disposition.REFURBISH else "unit.routed",
        unit,
        before=before,
        after=new_status,
        site_id=unit.site_id,
        lpn=unit.lpn,
        disposition=outcome.value,
        location=location.code,
        rule=route.rule.label or route.rule.id,
        passed_over=list(route.passed_over),
        price_minor=route.price_minor,
    )
    session.flush()
    if outcome != Disposition.REFURBISH:
        result.closed = close_if_done(session, unit, actor)
    return result


def _restock(session: Session, unit: Unit, actor: Actor) -> None:
    """Raise the SKU's sellable stock by one, with a ledger entry (atomic under concurrency)."""
    stock_after = session.execute(
        sa.update(Product)
        .where(Product.id == unit.product_id)
        .values(stock=Product.stock + 1)
        .returning(Product.stock)
        .execution_options(synchronize_session="fetch")
    ).scalar_one()
    session.add(
        StockEntry(
            product_id=unit.product_id,
            site_id=unit.site_id,
            unit_id=unit.id,
            quantity=1,
            reason="restock",
            stock_after=stock_after,
        )
    )
    record(
        session,
        actor,
        "stock.raised",
        unit.product,
        before=str(stock_after - 1),
        after=str(stock_after),
        site_id=unit.site_id,
        lpn=unit.lpn,
    )


def _list_for_resale(session: Session, unit: Unit, route: rules.Route) -> Listing:
    condition = resale.condition_id(unit.grade, refurbished=facts_refurbished(session, unit))
    refurbished = condition == resale.SELLER_REFURBISHED
    language = unit.partner.language if unit.partner.language in LANGUAGES else "en"
    listing = Listing(
        unit_id=unit.id,
        partner_id=unit.partner_id,
        channel=channels.resale_channel(session),
        language=language,
        title=(unit.product.title if unit.product else unit.lpn)[:200],
        condition_id=condition,
        condition_description=resale.condition_description(
            unit.grade, unit.checklist, unit.notes, language=language, refurbished=refurbished
        ),
        original_minor=facts_value(unit),
        discount_bp=route.discount_bp or 0,
        price_minor=route.price_minor,
        currency=unit.return_request.order.currency,
    )
    session.add(listing)
    return listing


def facts_refurbished(session: Session, unit: Unit) -> bool:
    """True when the unit went through refurbish before this route."""
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Placement)
            .where(Placement.unit_id == unit.id, Placement.disposition == Disposition.REFURBISH)
        )
        > 0
    )


def facts_value(unit: Unit) -> int:
    """The original unit price the customer paid (or the list price for an extra unit)."""
    if unit.return_line is not None:
        return unit.return_line.order_line.unit_price_minor
    price = unit.product.price_in(unit.return_request.order.currency) if unit.product else None
    return price.price_minor if price else 0


def parcel_waiting(session: Session, unit: Unit) -> bool:
    """Whether the unit's parcel to its customer (the item going back, or its replacement or
    exchange) has still to leave; a unit going back without its parcel yet counts as waiting."""
    if unit.disposition != Disposition.TO_CUSTOMER and unit.refund_state != RefundState.REMEDY:
        return False
    status = session.scalar(
        sa.select(CustomerParcel.status).where(CustomerParcel.unit_id == unit.id)
    )
    if status is None:
        return unit.disposition == Disposition.TO_CUSTOMER
    return status != ParcelStatus.SHIPPED


def close_if_done(session: Session, unit: Unit, actor: Actor) -> bool:
    """Close the unit when it is routed AND its refund is decided; then its RMA if all are.

    Routing calls this after a put-away; the decision stage (issue 5) calls it after a refund
    decision (approved or rejected). Safe to call any time: returns True only when it closed
    the unit now.
    """
    if unit.status != UnitStatus.ROUTED:
        return False
    if unit.refund_state not in SETTLED_REFUND_STATES:
        return False
    if parcel_waiting(session, unit):
        return False  # it closes when its parcel to the customer has left
    now = utcnow()
    unit.status = UnitStatus.CLOSED
    unit.closed_at = now
    record(
        session,
        actor,
        "unit.closed",
        unit,
        before=UnitStatus.ROUTED,
        after=UnitStatus.CLOSED,
        site_id=unit.site_id,
        lpn=unit.lpn,
        refund_state=unit.refund_state.value,
    )
    session.flush()
    rma = session.get(ReturnRequest, unit.return_id)
    still_open = session.scalar(
        sa.select(sa.func.count())
        .select_from(Unit)
        .where(Unit.return_id == rma.id, Unit.status != UnitStatus.CLOSED)
    )
    if still_open == 0 and rma.status != ReturnStatus.CLOSED:
        before = rma.status
        rma.status = ReturnStatus.CLOSED
        rma.closed_at = now
        record(
            session,
            actor,
            "return.closed",
            rma,
            before=before,
            after=ReturnStatus.CLOSED,
            site_id=rma.site_id,
            rma=rma.rma,
        )
    return True
