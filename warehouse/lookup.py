"""One search field for everything a supervisor (or a partner) may hold in hand: an RMA, an
LPN, an order number, a tracking number, a serial number or a customer's email. Each hit is a
parcel with its units, and the parcel's timeline from the event log: who did what, when, at
which station, from what to what."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from warehouse import codes
from warehouse.errors import InvalidInput
from warehouse.i18n import gettext as _
from warehouse.models import (
    Case,
    Event,
    LedgerEntry,
    Order,
    ReturnException,
    ReturnRequest,
    Shipment,
    Unit,
    UnitPhoto,
)

MAX_QUERY = 254
MAX_PARCELS = 20


@dataclass
class Hit:
    """A parcel found, what matched, and everything that happened to it."""

    rma: ReturnRequest
    matched: str  # rma | lpn | order | tracking | serial | email
    units: list[Unit]
    timeline: list[Event]
    cases: dict[int, Case] = field(default_factory=dict)
    photos: dict[int, list[UnitPhoto]] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    focus_unit_id: int | None = None  # the unit the search named, if it named one


def _returns(session: Session, where, partner_id: int | None, site_id: int | None):
    query = sa.select(ReturnRequest).where(where)
    if partner_id is not None:
        query = query.where(ReturnRequest.partner_id == partner_id)
    if site_id is not None:
        query = query.where(ReturnRequest.site_id == site_id)
    return session.scalars(
        query.options(selectinload(ReturnRequest.order), selectinload(ReturnRequest.partner))
        .order_by(ReturnRequest.id.desc())
        .limit(MAX_PARCELS)
    ).all()


def search(
    session: Session, text: str, *, partner_id: int | None = None, site_id: int | None = None
) -> list[Hit]:
    """The parcels `text` names (newest first), each with its units and timeline.

    Tried in order, each by an indexed column: RMA, LPN, order number, return or shipment
    tracking number, serial number, customer email. A partner sees only its own parcels.
    """
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("type or scan something to look up"), field="q")
    if len(text) > MAX_QUERY:
        raise InvalidInput(_("a look-up is at most %(most)s characters", most=MAX_QUERY), field="q")
    code = codes.normalise(text)
    focus: dict[int, int] = {}
    found: list[tuple[ReturnRequest, str]] = []

    def take(rows, how):
        for row in rows:
            if all(row.id != seen.id for seen, _ in found):
                found.append((row, how))

    if codes.rma_status(code) is not None:
        take(
            _returns(session, ReturnRequest.rma == codes.canonical_rma(code), partner_id, site_id),
            "rma",
        )
    # Two look-ups, each by its own index (an OR of the two makes some planners scan the table).
    units = list(session.scalars(sa.select(Unit).where(Unit.lpn == code)))
    units += [
        unit
        for unit in session.scalars(sa.select(Unit).where(Unit.serial_number == text).limit(20))
        if unit.lpn != code
    ]
    for unit in units:
        focus[unit.return_id] = unit.id
    if units:
        how = "lpn" if any(u.lpn == code for u in units) else "serial"
        take(
            _returns(
                session, ReturnRequest.id.in_([u.return_id for u in units]), partner_id, site_id
            ),
            how,
        )
    take(
        _returns(
            session,
            ReturnRequest.order_id.in_(sa.select(Order.id).where(Order.number == text.upper())),
            partner_id,
            site_id,
        ),
        "order",
    )
    take(
        _returns(
            session,
            sa.or_(
                ReturnRequest.return_tracking_number == code,
                ReturnRequest.shipment_id.in_(
                    sa.select(Shipment.id).where(Shipment.tracking_number == code)
                ),
            ),
            partner_id,
            site_id,
        ),
        "tracking",
    )
    if "@" in text:
        take(
            _returns(
                session,
                ReturnRequest.order_id.in_(
                    sa.select(Order.id).where(Order.customer_email == text.lower())
                ),
                partner_id,
                site_id,
            ),
            "email",
        )
    return [_hit(session, rma, how, focus.get(rma.id)) for rma, how in found[:MAX_PARCELS]]


def _hit(session: Session, rma: ReturnRequest, how: str, focus: int | None) -> Hit:
    units = session.scalars(
        sa.select(Unit)
        .where(Unit.return_id == rma.id)
        .options(selectinload(Unit.product))
        .order_by(Unit.id)
    ).all()
    unit_ids = [unit.id for unit in units] or [0]
    cases = {
        case.unit_id: case
        for case in session.scalars(sa.select(Case).where(Case.unit_id.in_(unit_ids)))
    }
    exception_ids = session.scalars(
        sa.select(ReturnException.id).where(ReturnException.return_id == rma.id)
    ).all()
    subjects = [
        sa.and_(Event.subject_type == "return_request", Event.subject_id == rma.id),
        sa.and_(Event.subject_type == "unit", Event.subject_id.in_(unit_ids)),
        sa.and_(Event.subject_type == "case", Event.subject_id.in_(list(cases_ids(cases)))),
        sa.and_(
            Event.subject_type == "return_exception", Event.subject_id.in_(exception_ids or [0])
        ),
    ]
    timeline = session.scalars(
        sa.select(Event).where(sa.or_(*subjects)).order_by(Event.at, Event.id)
    ).all()
    photos: dict[int, list[UnitPhoto]] = {}
    for photo in session.scalars(
        sa.select(UnitPhoto).where(UnitPhoto.unit_id.in_(unit_ids)).order_by(UnitPhoto.id)
    ):
        photos.setdefault(photo.unit_id, []).append(photo)
    ledger = session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.return_id == rma.id).order_by(LedgerEntry.id)
    ).all()
    return Hit(rma, how, list(units), list(timeline), cases, photos, list(ledger), focus)


def cases_ids(cases: dict[int, Case]) -> list[int]:
    """The ids of a {unit id: case} map (0 when empty, so IN () is never empty)."""
    return [case.id for case in cases.values()] or [0]
