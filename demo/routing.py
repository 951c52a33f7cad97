"""Demo data, stage 5 (routing, runs last): rules, bins, units at every route, batches.

Uses the units earlier stages graded; where they left too few for a route, it returns a few more
units of delivered orders (received and graded the way the stations would). Every put-away goes
through `warehouse.routing.put_away`, so the demo holds only what the real checks accept.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import batches, codes, dispatch, espr, routing, rules
from warehouse.db import utcnow
from warehouse.events import Actor
from warehouse.models import (
    Batch,
    BatchKind,
    BatchStatus,
    Category,
    DefectiveHandling,
    Destination,
    Grade,
    Location,
    LocationKind,
    OrderLine,
    Partner,
    Product,
    Reason,
    RefundState,
    Remedy,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    Site,
    Unit,
    UnitException,
    UnitStatus,
)

ACTOR = Actor(label="demo", station="route")

# Bins per kind at the main site: (code, capacity).
BINS = {
    LocationKind.RESTOCK: [("BIN-RS-01", 120), ("BIN-RS-02", 120)],
    LocationKind.RESALE: [("BIN-RE-01", 80), ("BIN-RE-02", 80)],
    LocationKind.REFURBISH: [("BIN-RF-01", 60)],
    LocationKind.DESTROY: [("CAGE-DS-01", 200)],
    LocationKind.QUARANTINE: [("BIN-QU-01", 20)],
    LocationKind.DONATE: [("BIN-DN-01", 40)],
    LocationKind.RECYCLE: [("BIN-RC-01", 100)],
    LocationKind.RTV: [("PAL-RTV-MIX", 60)],
    LocationKind.TO_CUSTOMER: [("SHELF-TC-01", 40)],
}

# Warehouse-wide rules (after each partner's own) and partners' own rules, as typed on screen.
DEFAULT_ROWS = [
    {"category": "hygiene", "grade": "opened", "outcome": "destroy"},
    {"category": "hygiene", "grade": "used", "outcome": "destroy"},
    {"grade": "heavy_damage", "currency": "EUR", "max_value": "15.00", "outcome": "recycle"},
]
PARTNER_ROWS = {
    "VOLT": [{"grade": "defective", "outcome": "rtv", "quota": "40"}],
    "NORD": [
        {"grade": "light_damage", "reason": "wrong_size", "outcome": "donate"},
        {"grade": "heavy_damage", "outcome": "recycle"},
    ],
    "CASA": [{"grade": "opened", "outcome": "resale", "discount": "15"}],
}

# (grade, partner code, how many) to route; routes follow the rules above.
SCENARIOS = [
    (Grade.NEW, "NORD", 6),  # restock
    (Grade.NEW, "VOLT", 3),  # restock
    (Grade.OPENED, "CASA", 4),  # resale at 15 % off
    (Grade.OPENED, "VOLT", 4),  # resale
    (Grade.USED, "GADG", 3),  # refurbish
    (Grade.DEFECTIVE, "VOLT", 5),  # rtv (quota 40)
    (Grade.DEFECTIVE, "CASA", 3),  # rtv (defective handling)
    (Grade.DEFECTIVE, "NORD", 3),  # destroy
    (Grade.LIGHT_DAMAGE, "NORD", 2),  # donate (wrong size) or refurbish
    (Grade.HEAVY_DAMAGE, "NORD", 2),  # recycle
]
UNROUTED = [(Grade.OPENED, "NORD", 2), (Grade.NEW, "CASA", 2), (Grade.DEFECTIVE, "GADG", 2)]


def load(session: Session, rng: random.Random, today: dt.date) -> None:
    """Rules, bins and pallets, units routed to every route, an open and a shipped RTV batch."""
    site = session.scalars(sa.select(Site).where(Site.code == "WAL")).first()
    if site is None:
        return
    partners = {p.code: p for p in session.scalars(sa.select(Partner))}
    actor = Actor(label="demo", station="route", site_id=site.id)
    _rules(session, partners, actor)
    _bins(session, site, partners)
    session.flush()
    for grade, code, count in SCENARIOS:
        for unit in _graded_units(session, rng, site, partners.get(code), grade, count):
            _route(session, unit, actor)
    foreign = _graded_units(session, rng, site, partners.get("NORD"), Grade.NEW, 1)
    for unit in foreign:
        unit.exception = UnitException.FOREIGN
        _route(session, unit, actor)
    for grade, code, count in UNROUTED:
        _graded_units(session, rng, site, partners.get(code), grade, count)
    _to_customer(session, rng, site, partners.get("NORD"), actor)
    _batches(session, site, partners, actor)


def _to_customer(
    session: Session, rng: random.Random, site: Site, partner: Partner | None, actor: Actor
) -> None:
    """A defect the customer asked to have repaired, on the to-customer shelf waiting to leave,
    and a refused return already sent back to its customer."""
    units = _new_returns(session, rng, site, partner, Grade.DEFECTIVE, 2) if partner else []
    if len(units) < 2:
        return
    repair, refused = units
    repair.return_line.remedy = Remedy.REPAIR
    repair.refund_state, repair.refund_minor = RefundState.REMEDY, 0
    refused.refund_state, refused.refund_minor = RefundState.REJECTED, 0
    for unit in units:
        planned = routing.plan(session, unit.lpn, actor)
        routing.put_away(session, unit.lpn, planned.target.code, actor)
    dispatch.ship(session, actor, refused.lpn, tracking_number="3SDEMO00000001")


def _rules(session: Session, partners: dict[str, Partner], actor: Actor) -> None:
    by_code = {code: p.id for code, p in partners.items()}
    rows = [{**row, "partner": code} for code, rs in PARTNER_ROWS.items() for row in rs] + [
        dict(row) for row in DEFAULT_ROWS
    ]
    rows = [row for row in rows if not row.get("partner") or row["partner"] in by_code]
    rules.replace_table(session, None, rules.parse_rows(rows, partners_by_code=by_code), actor)


def _bins(session: Session, site: Site, partners: dict[str, Partner]) -> None:
    for kind, specs in BINS.items():
        for code, capacity in specs:
            session.add(Location(site=site, code=code, kind=kind, capacity=capacity))
    for partner in partners.values():
        if partner.defective_handling == DefectiveHandling.RETURN_TO_VENDOR:
            session.add(
                Location(
                    site=site,
                    code=f"PAL-RTV-{partner.code}",
                    kind=LocationKind.RTV,
                    capacity=50,
                    partner=partner,
                    name=f"RTV pallet for {partner.name}",
                )
            )


def _graded_units(
    session: Session,
    rng: random.Random,
    site: Site,
    partner: Partner | None,
    grade: Grade,
    count: int,
) -> list[Unit]:
    """Graded units of `partner` with `grade`: earlier stages' first, then new returns."""
    if partner is None:
        return []
    found = list(
        session.scalars(
            sa.select(Unit)
            .where(
                Unit.partner_id == partner.id,
                Unit.grade == grade,
                Unit.status == UnitStatus.GRADED,
                Unit.site_id == site.id,
                Unit.refund_state != RefundState.OPEN,  # those wait for their partner's decision
            )
            .order_by(Unit.id)
            .limit(count)
        )
    )
    if len(found) < count:
        found += _new_returns(session, rng, site, partner, grade, count - len(found))
    return found


def _new_returns(
    session: Session, rng: random.Random, site: Site, partner: Partner, grade: Grade, count: int
) -> list[Unit]:
    """`count` units of delivered, not yet returned order lines, received and graded."""
    if partner.destination != Destination.WAREHOUSE:
        return []
    returned = sa.select(ReturnRequest.shipment_id)
    lines = list(
        session.scalars(
            sa.select(OrderLine)
            .join(Shipment, Shipment.id == OrderLine.shipment_id)
            .where(
                Shipment.partner_id == partner.id,
                Shipment.delivered_at.is_not(None),
                Shipment.id.not_in(returned),
            )
            .order_by(OrderLine.id)
            .limit(count * 3)
        )
    )
    rng.shuffle(lines)
    now = utcnow()
    reason = {
        Grade.DEFECTIVE: Reason.DEFECTIVE,
        Grade.HEAVY_DAMAGE: Reason.DAMAGED_ON_ARRIVAL,
        Grade.LIGHT_DAMAGE: Reason.WRONG_SIZE,
    }.get(grade, Reason.CHANGED_MIND)
    units = []
    used_shipments: set[int] = set()
    for line in lines:
        if len(units) == count or line.shipment_id in used_shipments:
            continue
        used_shipments.add(line.shipment_id)
        announced = now - dt.timedelta(days=rng.randint(3, 9))
        rma = ReturnRequest(
            rma=codes.new_rma(),
            order_id=line.order_id,
            shipment_id=line.shipment_id,
            partner_id=partner.id,
            site_id=site.id,
            status=ReturnStatus.RECEIVED,
            announced_at=announced,
            announced_on=announced.date(),
            received_at=now - dt.timedelta(days=1),
            received_on=(now - dt.timedelta(days=1)).date(),
            refund_due_on=announced.date() + dt.timedelta(days=14),
        )
        return_line = ReturnLine(order_line=line, quantity=1, reason=reason)
        rma.lines.append(return_line)
        session.add(rma)
        product = session.get(Product, line.product_id)
        checklist = {
            "accessories_complete": grade != Grade.DEFECTIVE,
            "cleaned": True,
            "repackaged": grade in (Grade.NEW, Grade.OPENED),
        }
        if product.category == Category.ELECTRONICS:
            checklist |= {
                "powers_on": grade != Grade.DEFECTIVE,
                "tested": True,
                "factory_reset": grade != Grade.DEFECTIVE,
            }
        unit = Unit(
            lpn=codes.new_lpn(),
            return_request=rma,
            return_line=return_line,
            product_id=line.product_id,
            partner_id=partner.id,
            site_id=site.id,
            slot=1,
            status=UnitStatus.GRADED,
            received_at=now - dt.timedelta(days=1),
            grade=grade,
            checklist=checklist,
            notes="Small scuff on the side." if grade == Grade.LIGHT_DAMAGE else "",
            graded_at=now - dt.timedelta(hours=rng.randint(1, 20)),
            # Decided: a unit whose refund is still with a partner that sends refused goods
            # back waits on the hold shelf instead of being routed (warehouse.routing.on_hold).
            refund_state=RefundState.APPROVED,
        )
        session.add(unit)
        units.append(unit)
    session.flush()
    return units


def _route(session: Session, unit: Unit, actor: Actor) -> None:
    if espr.destroy_refused(session, unit, utcnow()) and unit.grade == Grade.DEFECTIVE:
        # A supervisor looked at it: apparel may be destroyed only with a derogation on record
        # (ESPR Art. 25); the demo shows one.
        espr.record_exception(
            session,
            Actor(label="supervisor@returnyard.example"),
            unit,
            derogation="damaged",
            note="Torn seams and stains throughout; repair would cost more than the item.",
        )
    planned = routing.plan(session, unit.lpn, actor)
    if planned.target is None:
        return
    routing.put_away(session, unit.lpn, planned.target.code, actor)


def _batches(session: Session, site: Site, partners: dict[str, Partner], actor: Actor) -> None:
    """Ship CASA's RTV batch (the packing list and email exist); leave VOLT's open."""
    casa = partners.get("CASA")
    if casa is None:
        return
    batch = session.scalars(
        sa.select(Batch).where(
            Batch.kind == BatchKind.RTV,
            Batch.partner_id == casa.id,
            Batch.status == BatchStatus.OPEN,
        )
    ).first()
    if batch is not None and batch.items:
        batches.pack(session, batch.id, actor)
        batches.ship(session, batch.id, "DHL Freight", "JVGL0599912345", actor)
