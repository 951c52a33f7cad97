"""GET /api/v1/lookup?q=: parcels and units by RMA, LPN, order, tracking, serial or email, with
their event timeline. A partner token finds its own partner's parcels only."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from stations.api.blueprint import answer, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from warehouse import lookup
from warehouse.db import db
from warehouse.models import Event, Grade, RefundState, ReturnStatus, Role, UnitStatus


class LookupQuery(BaseModel):
    """What to look for."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field(description="RMA, LPN, order number, tracking number, serial or email")


class EventOut(BaseModel):
    """One line of a timeline: who did what, when, where, from what to what."""

    at: dt.datetime
    kind: str
    subject: str
    actor: str
    station: str | None
    before: str | None
    after: str | None

    @classmethod
    def of(cls, event: Event) -> EventOut:
        """The API's view of an event."""
        return cls(
            at=event.at,
            kind=event.kind,
            subject=f"{event.subject_type}:{event.subject_id}",
            actor=event.actor_label,
            station=event.station,
            before=event.before,
            after=event.after,
        )


class UnitOut(BaseModel):
    """A unit of the parcel."""

    lpn: str
    product: str | None
    status: UnitStatus
    grade: Grade | None
    refund_state: RefundState | None
    refund_minor: int | None
    matched: bool = Field(description="This is the unit the look-up named")


class ParcelOut(BaseModel):
    """A parcel found, its units and its timeline."""

    rma: str
    order_number: str
    partner: str
    status: ReturnStatus
    currency: str
    matched_by: str = Field(description="rma, lpn, order, tracking, serial or email")
    refund_due_on: dt.date | None
    units: list[UnitOut]
    timeline: list[EventOut]


class LookupResult(BaseModel):
    """Everything the look-up found, newest parcel first (at most 20)."""

    parcels: list[ParcelOut]


@bp.get("/lookup")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "Look up a parcel or unit",
    operation_id="lookup",
    query=LookupQuery,
    answers={200: Answer("Found", LookupResult)},
    errors=(400, 401, 403),
)
def look_up(query: LookupQuery):
    """Parcels named by the text, each with its units and the event timeline."""
    hits = lookup.search(db.session, query.q, partner_id=partner_scope())
    return answer(
        LookupResult(
            parcels=[
                ParcelOut(
                    rma=hit.rma.rma,
                    order_number=hit.rma.order.number,
                    partner=hit.rma.partner.code,
                    status=hit.rma.status,
                    currency=hit.rma.order.currency,
                    matched_by=hit.matched,
                    refund_due_on=hit.rma.refund_due_on,
                    units=[
                        UnitOut(
                            lpn=unit.lpn,
                            product=unit.product.title if unit.product else None,
                            status=unit.status,
                            grade=unit.grade,
                            refund_state=unit.refund_state,
                            refund_minor=unit.refund_minor,
                            matched=unit.id == hit.focus_unit_id,
                        )
                        for unit in hit.units
                    ],
                    timeline=[EventOut.of(event) for event in hit.timeline],
                )
                for hit in hits
            ]
        )
    )
