"""The exceptions queue over the API: list and resolve. Supervisor and admin tokens see every
site; a partner token sees (and may resolve) its own partner's exceptions only."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from warehouse import exceptions, routing
from warehouse.db import db
from warehouse.exceptions import NOTE_MAX, Filters
from warehouse.models import (
    ExceptionKind,
    ExceptionStatus,
    Resolution,
    ReturnException,
    Role,
)
from warehouse.validation import Input

PAGE = 200


class ExceptionQuery(BaseModel):
    """Which exceptions: one kind, a status (`all` for any; default open)."""

    model_config = ConfigDict(extra="ignore")

    kind: str = ""
    status: str = ""
    offset: int = Field(0, ge=0, le=10_000_000)


class ExceptionOut(BaseModel):
    """One flagged parcel or unit, and how it was resolved."""

    id: int
    kind: ExceptionKind
    status: ExceptionStatus
    rma: str
    order_number: str
    partner: str
    lpn: str | None
    detail: str
    opened_at: dt.datetime
    opened_by: str
    resolutions: list[Resolution] = Field(description="What this kind can be resolved with")
    resolution: Resolution | None
    note: str
    resolved_at: dt.datetime | None
    resolved_by: str | None

    @classmethod
    def of(cls, row: ReturnException) -> ExceptionOut:
        """The API's view of an exception."""
        return cls(
            id=row.id,
            kind=row.kind,
            status=row.status,
            rma=row.return_request.rma,
            order_number=row.return_request.order.number,
            partner=row.partner.code,
            lpn=row.lpn,
            detail=row.detail,
            opened_at=row.opened_at,
            opened_by=row.opened_by,
            resolutions=list(exceptions.RESOLUTIONS[row.kind]),
            resolution=row.resolution,
            note=row.note,
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
        )


class ExceptionList(BaseModel):
    """A page of the queue, oldest first."""

    exceptions: list[ExceptionOut]
    total: int
    offset: int


class ResolveIn(Input):
    """How the exception is resolved, and why."""

    resolution: Resolution
    note: str = Field(min_length=1, max_length=NOTE_MAX, description="Why; kept with it")


@bp.get("/exceptions")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "The exceptions queue",
    operation_id="listExceptions",
    query=ExceptionQuery,
    answers={200: Answer("Exceptions", ExceptionList)},
    errors=(400, 401, 403),
)
def list_exceptions(query: ExceptionQuery):
    """Flagged parcels and units, oldest first, 200 a page (`offset` for the next)."""
    filters = Filters.parse(kind=query.kind, status=query.status, partner_id=partner_scope())
    rows, total = exceptions.queue(db.session, filters, limit=PAGE, offset=query.offset)
    return answer(
        ExceptionList(
            exceptions=[ExceptionOut.of(row) for row in rows], total=total, offset=query.offset
        )
    )


@bp.post("/exceptions/<int:exception_id>/resolve")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "Resolve an exception",
    operation_id="resolveException",
    body=ResolveIn,
    answers={200: Answer("Resolved", ExceptionOut)},
    errors=(400, 401, 403, 404, 409),
)
def resolve_exception(exception_id: int, body: ResolveIn):
    """Resolve with one of the kind's resolutions (see `resolutions`) and a note."""
    actor = api_actor()
    row = exceptions.resolve(
        db.session,
        actor,
        exception_id,
        resolution=body.resolution,
        note=body.note,
        site_id=None,
        partner_id=partner_scope(),
        quarantine_unit=lambda unit: routing.quarantine(db.session, actor, unit),
    )
    db.session.commit()
    return answer(ExceptionOut.of(row))
