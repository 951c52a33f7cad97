"""Partners that receive their own returns (destination `partner`, SPEC 2): the customer's label
carries the partner's address and the parcel never reaches the warehouse. The partner confirms
what arrived and grades it in the portal, through the same receiving and grading as the
stations (the same checklists, grades, refund proposal and decision rules); the unit then stays
with the partner — routed "kept by the partner" — and closes once its refund is decided, so
these returns close and count in every figure like the others.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from warehouse import grading, receiving, routing
from warehouse.db import utcnow
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.models import (
    PARTNER_PORTAL_STATION,
    Destination,
    Partner,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Unit,
    UnitStatus,
)

KEPT_BY_PARTNER = "partner"  # the unit's disposition: it stays where it arrived
MAX_UNITS_PER_LINE = 100


def returns_to_receive(session: Session, partner: Partner, *, limit: int = 100) -> list:
    """The partner's returns sent to it and still open (announced, or units not closed)."""
    return list(
        session.scalars(
            sa.select(ReturnRequest)
            .where(
                ReturnRequest.partner_id == partner.id,
                ReturnRequest.destination == Destination.PARTNER,
                ReturnRequest.status != ReturnStatus.CLOSED,
            )
            .options(selectinload(ReturnRequest.lines).selectinload(ReturnLine.units))
            .order_by(ReturnRequest.announced_at.desc())
            .limit(limit)
        )
    )


def own_return(session: Session, partner: Partner, rma: str) -> ReturnRequest:
    """One of the partner's returns by its RMA (another partner's is not found)."""
    found = session.scalar(
        sa.select(ReturnRequest).where(
            ReturnRequest.rma == (rma or "").strip().upper(),
            ReturnRequest.partner_id == partner.id,
        )
    )
    if found is None:
        raise NotFound(_("no return %(rma)s", rma=repr(rma)), field="rma")
    return found


def _check_sent_to_partner(rma: ReturnRequest) -> None:
    """Only a return whose label sent the parcel to the partner is the partner's to receive
    (the destination as it was at announcement: a policy change moves no parcel)."""
    if rma.destination != Destination.PARTNER:
        raise Conflict(
            _("%(rma)s was sent to the warehouse, which receives and grades it", rma=rma.rma),
            field="destination",
        )


def receive(
    session: Session, actor: Actor, partner: Partner, rma: str, counts: dict[int, int]
) -> list[Unit]:
    """Confirm how many units of each line arrived at the partner; answers the new units."""
    found = own_return(session, partner, rma)
    _check_sent_to_partner(found)
    lines = {line.id: line for line in found.lines}
    made: list[Unit] = []
    for line_id, count in counts.items():
        if line_id not in lines:
            raise InvalidInput(
                _("line %(line_id)s is not in %(rma)s", line_id=line_id, rma=found.rma),
                field=f"line_{line_id}",
            )
        if not 0 <= count <= MAX_UNITS_PER_LINE:
            raise InvalidInput(
                _(
                    "0 to %(MAX_UNITS_PER_LINE)s units per line",
                    MAX_UNITS_PER_LINE=MAX_UNITS_PER_LINE,
                ),
                field=f"line_{line_id}",
            )
        for _copy in range(count):
            made.append(
                receiving.confirm_unit(session, found.id, actor=actor, line_id=line_id).unit
            )
    if not made:
        raise InvalidInput(_("say how many units arrived"), field="counts")
    return made


def grade_and_keep(
    session: Session,
    actor: Actor,
    partner: Partner,
    unit_id: int,
    *,
    grade: str,
    checklist,
    links,
    notes: str = "",
):
    """Grade one of the partner's units (the stations' rules) and keep it at the partner;
    it closes once its refund is decided (now, when the refund was approved at once)."""
    unit = session.get(Unit, unit_id)
    if unit is None or unit.partner_id != partner.id:
        raise NotFound(_("no unit #%(unit_id)s", unit_id=unit_id), field="unit")
    _check_sent_to_partner(unit.return_request)
    if unit.received_station != PARTNER_PORTAL_STATION:
        raise Conflict(
            _("%(lpn)s was received at the warehouse, which grades it", lpn=unit.lpn), field="unit"
        )
    settlement = grading.grade_unit(
        session, actor, unit.id, grade=grade, checklist=checklist, notes=notes, links=links
    )
    if unit.status == UnitStatus.GRADED:
        unit.status = UnitStatus.ROUTED
        unit.disposition = KEPT_BY_PARTNER
        unit.routed_at = utcnow()
        record(
            session,
            actor,
            "unit.kept_by_partner",
            unit,
            before=UnitStatus.GRADED.value,
            after=KEPT_BY_PARTNER,
            site_id=unit.site_id,
            lpn=unit.lpn,
        )
        session.flush()
        routing.close_if_done(session, unit, actor)
    return settlement
