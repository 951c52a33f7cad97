"""RTV shipments to partners and destruction batches: open → packed → shipped / destroyed.

Routing adds each RTV unit to its partner's open batch at the site and each destroyed unit to
the site's open destruction batch. Packing freezes a batch; shipping (with carrier and tracking)
emails the partner through the outbox; destroying stamps the certificate's date and the person
responsible. Units leave their pallet / bin when the batch ships or is destroyed.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from labels.batches import BatchDocument, BatchLine
from warehouse.db import utcnow
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.mail import queue_mail
from warehouse.models import (
    Batch,
    BatchKind,
    BatchStatus,
    BatchUnit,
    Partner,
    Placement,
    Site,
    Unit,
    User,
)
from warehouse.vocabulary import status_word

PREFIX = {BatchKind.RTV: "RTV", BatchKind.DESTRUCTION: "DST"}


def open_batch(
    session: Session, kind: BatchKind, site_id: int, partner_id: int | None, actor: Actor
) -> Batch:
    """The open batch of this kind for the site (and partner, for RTV); opened when missing."""
    query = sa.select(Batch).where(
        Batch.kind == kind, Batch.site_id == site_id, Batch.status == BatchStatus.OPEN
    )
    if kind == BatchKind.RTV:
        query = query.where(Batch.partner_id == partner_id)
    batch = session.scalars(query.order_by(Batch.id).limit(1)).first()
    if batch is not None:
        return batch
    batch = Batch(
        number=f"new-{secrets.token_hex(8)}",  # renumbered from the id below
        kind=kind,
        site_id=site_id,
        partner_id=partner_id if kind == BatchKind.RTV else None,
    )
    session.add(batch)
    session.flush()
    batch.number = f"{PREFIX[kind]}{batch.id:06d}"
    record(session, actor, "batch.opened", batch, after=BatchStatus.OPEN, site_id=site_id)
    return batch


def add_unit(session: Session, batch: Batch, unit: Unit, actor: Actor) -> BatchUnit:
    """Put a routed unit into an open batch."""
    if batch.status != BatchStatus.OPEN:
        raise Conflict(
            _(
                "Batch %(number)s is %(status)s; it takes no more units.",
                number=batch.number,
                status=status_word(batch.status),
            )
        )
    item = BatchUnit(batch=batch, unit_id=unit.id)
    session.add(item)
    record(session, actor, "batch.unit_added", batch, lpn=unit.lpn, unit_id=unit.id)
    return item


def get_batch(session: Session, batch_id: int, actor: Actor) -> Batch:
    """A batch by id; to a partner user, another partner's batch is NotFound."""
    batch = session.get(
        Batch,
        batch_id,
        options=[selectinload(Batch.items).selectinload(BatchUnit.unit).selectinload(Unit.product)],
    )
    if batch is None or (actor.partner_id is not None and batch.partner_id != actor.partner_id):
        raise NotFound(_("No such batch."))
    return batch


def pack(session: Session, batch_id: int, actor: Actor) -> Batch:
    """Close an open batch for packing; an empty batch cannot be packed."""
    batch = get_batch(session, batch_id, actor)
    if batch.status != BatchStatus.OPEN:
        raise Conflict(
            _(
                "Batch %(number)s is already %(status)s.",
                number=batch.number,
                status=status_word(batch.status),
            )
        )
    if not batch.items:
        raise InvalidInput(
            _("Batch %(number)s has no units to pack.", number=batch.number), field="batch"
        )
    batch.status = BatchStatus.PACKED
    batch.packed_at = utcnow()
    batch.responsible_id = actor.user_id
    record(
        session,
        actor,
        "batch.packed",
        batch,
        before=BatchStatus.OPEN,
        after=BatchStatus.PACKED,
        units=len(batch.items),
    )
    return batch


def _leave_locations(session: Session, batch: Batch) -> None:
    unit_ids = [item.unit_id for item in batch.items]
    session.execute(
        sa.update(Placement)
        .where(Placement.unit_id.in_(unit_ids), Placement.left_at.is_(None))
        .values(left_at=utcnow())
    )


def ship(session: Session, batch_id: int, carrier: str, tracking: str, actor: Actor) -> Batch:
    """Ship a packed RTV batch with its tracking number and email the partner."""
    batch = get_batch(session, batch_id, actor)
    if batch.kind != BatchKind.RTV:
        raise Conflict(
            _("Batch %(number)s is a destruction batch; it is not shipped.", number=batch.number)
        )
    if batch.status != BatchStatus.PACKED:
        raise Conflict(
            _(
                "Batch %(number)s is %(status)s; pack it before shipping.",
                number=batch.number,
                status=status_word(batch.status),
            )
        )
    carrier, tracking = (carrier or "").strip(), (tracking or "").strip()
    if not carrier:
        raise InvalidInput(_("Name the carrier."), field="carrier")
    if not tracking:
        raise InvalidInput(_("Enter the tracking number."), field="tracking")
    batch.status = BatchStatus.SHIPPED
    batch.carrier = carrier
    batch.tracking_number = tracking
    batch.finished_at = utcnow()
    _leave_locations(session, batch)
    record(
        session,
        actor,
        "batch.shipped",
        batch,
        before=BatchStatus.PACKED,
        after=BatchStatus.SHIPPED,
        carrier=carrier,
        tracking=tracking,
    )
    partner = session.get(Partner, batch.partner_id)
    queue_mail(
        session,
        template="rtv_shipped",
        to=partner.contact_email,
        language=partner.language,
        context={
            "batch_id": batch.id,
            "batch_number": batch.number,
            "partner_name": partner.name,
            "carrier": carrier,
            "tracking": tracking,
            "unit_count": len(batch.items),
            "lpns": [item.unit.lpn for item in batch.items],
        },
        key=f"rtv-shipped:{batch.number}",
    )
    return batch


def destroy(session: Session, batch_id: int, actor: Actor) -> Batch:
    """Record a packed destruction batch as destroyed by the actor today (the certificate)."""
    batch = get_batch(session, batch_id, actor)
    if batch.kind != BatchKind.DESTRUCTION:
        raise Conflict(
            _(
                "Batch %(number)s is an RTV batch; it is shipped, not destroyed.",
                number=batch.number,
            )
        )
    if batch.status != BatchStatus.PACKED:
        raise Conflict(
            _(
                "Batch %(number)s is %(status)s; pack it first.",
                number=batch.number,
                status=status_word(batch.status),
            )
        )
    batch.status = BatchStatus.DESTROYED
    batch.finished_at = utcnow()
    batch.responsible_id = actor.user_id or batch.responsible_id
    _leave_locations(session, batch)
    record(session, actor, "batch.destroyed", batch, before=BatchStatus.PACKED, after="destroyed")
    return batch


def document(session: Session, batch: Batch) -> BatchDocument:
    """The printable form of a batch: an RTV packing list or a destruction certificate."""
    lines = tuple(
        BatchLine(
            lpn=item.unit.lpn,
            sku=item.unit.product.sku if item.unit.product else "",
            title=item.unit.product.title if item.unit.product else "unknown product",
            grade=item.unit.grade.value if item.unit.grade else "",
            weight_grams=item.unit.product.weight_grams if item.unit.product else None,
        )
        for item in batch.items
    )
    site = session.get(Site, batch.site_id)
    responsible = session.get(User, batch.responsible_id) if batch.responsible_id else None
    status = batch.status.value
    if batch.kind == BatchKind.RTV:
        partner = session.get(Partner, batch.partner_id)
        facts = (
            ("To", partner.name),
            ("Status", status),
            ("Carrier", f"{batch.carrier or '-'} {batch.tracking_number or ''}".strip()),
            ("Packed", _day(batch.packed_at, site)),
        )
        return BatchDocument(batch.number, "RTV packing list", site.name, facts, lines)
    day = _day(batch.finished_at, site)
    signer = responsible.name if responsible else ""
    facts = (("Status", status), ("Destroyed on", day), ("Responsible", signer or "-"))
    statement = (
        f"We certify that the {len(lines)} units listed were destroyed on {day}\n"
        f"at {site.name}, so that none of them can be sold or used again."
        if batch.status == BatchStatus.DESTROYED
        else "Not destroyed yet: this is a draft of the certificate."
    )
    return BatchDocument(
        batch.number, "Certificate of destruction", site.name, facts, lines, statement, signer
    )


def _day(when, site: Site) -> str:
    """The calendar date of an instant in the site's time zone, or '-'."""
    if when is None:
        return "-"
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo(site.timezone)).date().isoformat()
