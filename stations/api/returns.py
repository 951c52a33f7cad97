"""Returns: announce a return (`POST /returns`), read one (`GET /returns/<rma>`), and set the
tracking number of the return parcel.

A partner token announces and reads only its own partner's returns; anything else is a 404,
exactly as if it did not exist.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, StrictInt

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.cases import CaseOut
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from stations.screens.customer import label_url
from warehouse import announcements
from warehouse.announcements import MAX_COMMENT, LineRequest, ReturnTrackingIn
from warehouse.cases import RefundSummary, refund_summary
from warehouse.db import db
from warehouse.deadlines import Verdict, refund_may_be_withheld
from warehouse.errors import InvalidInput, NotFound
from warehouse.models import (
    Grade,
    Order,
    Reason,
    RefundState,
    Remedy,
    ReturnRequest,
    ReturnStatus,
    Role,
    UnitException,
    UnitStatus,
)
from warehouse.money import Currency
from warehouse.receiving import dispatch_proof_on, verdict_of
from warehouse.validation import Input, OptionalText, Text

API_ROLES = (Role.SUPERVISOR, Role.PARTNER)


class ReturnLineIn(Input):
    """One order line going back: name it by `line_id`, or by `sku` / `gtin`."""

    line_id: StrictInt | None = Field(None, description="Order line id (or send sku / gtin)")
    sku: OptionalText(64) = None
    gtin: OptionalText(14) = None
    quantity: StrictInt = Field(ge=1, description="At most what was ordered minus announced")
    reason: Reason
    comment: str = Field("", max_length=MAX_COMMENT)
    remedy: Remedy = Field(
        Remedy.REFUND,
        description="refund; repair or replacement for a guarantee reason (Directive (EU) "
        "2019/771 Art. 13); exchange for another reason (send `exchange_sku`)",
    )
    exchange_sku: OptionalText(64) = Field(
        None, description="For an exchange: the SKU wanted instead (same style, same price)"
    )


class ReturnIn(Input):
    """An announcement: the order and the lines that go back, with their reasons."""

    order_number: Text(40)
    comment: str = Field("", max_length=MAX_COMMENT)
    lines: list[ReturnLineIn] = Field(min_length=1)


class ReturnLineOut(BaseModel):
    """A line of a return."""

    line_id: int = Field(description="The order line")
    sku: str
    gtin: str
    quantity: int
    missing_quantity: int = Field(description="Declared missing from the parcel at receiving")
    reason: Reason
    comment: str
    remedy: Remedy
    exchange_sku: str | None


class RefundOut(BaseModel):
    """A unit's refund once graded; `amount_minor` is null while a case is open."""

    state: RefundState | None
    amount_minor: int | None
    currency: Currency
    case: CaseOut | None = Field(description="The partner's case, when one was opened")

    @classmethod
    def of(cls, summary: RefundSummary) -> RefundOut:
        """The API's view of a unit's refund."""
        return cls(
            state=summary.state,
            amount_minor=summary.amount_minor,
            currency=summary.currency,
            case=CaseOut.of(summary.case) if summary.case else None,
        )


class ReturnUnitOut(BaseModel):
    """A unit received in the parcel, known by its LPN."""

    lpn: str
    status: UnitStatus
    sku: str | None
    exception: UnitException | None
    serial_number: str | None
    serial_mismatch: bool
    grade: Grade | None
    received_at: dt.datetime
    refund: RefundOut | None


class ReturnOut(BaseModel):
    """One return (RMA): status, deadline verdict, lines and the units received."""

    rma: str = Field(examples=["RMA-7K3QF2W"])
    status: ReturnStatus
    order_number: str
    partner: str
    site: str
    unannounced: bool
    announced_on: dt.date
    received_on: dt.date | None
    refund_due_on: dt.date | None
    dispatch_proof_at: dt.datetime | None = Field(
        description="The carrier's first scan of the return parcel (proof of dispatch)"
    )
    refund_may_be_withheld: bool = Field(
        description="Neither the goods nor a proof of dispatch are here yet: the refund may "
        "wait (Directive 2011/83/EU Art. 13(3))"
    )
    parcel_damaged: bool
    return_tracking_number: str | None
    verdict: Verdict
    label_url: str = Field(description="The customer's return label PDF (a signed link)")
    lines: list[ReturnLineOut]
    units: list[ReturnUnitOut]

    @classmethod
    def of(cls, rma: ReturnRequest) -> ReturnOut:
        """The API's view of one return."""
        refunds = refund_summary(db.session, rma) if rma.units else {}
        return cls(
            rma=rma.rma,
            status=rma.status,
            order_number=rma.order.number,
            partner=rma.partner.code,
            site=rma.site.code,
            unannounced=rma.unannounced,
            announced_on=rma.announced_on,
            received_on=rma.received_on,
            refund_due_on=rma.refund_due_on,
            dispatch_proof_at=rma.dispatch_proof_at,
            refund_may_be_withheld=refund_may_be_withheld(rma.received_on, dispatch_proof_on(rma)),
            parcel_damaged=rma.parcel_damaged,
            return_tracking_number=rma.return_tracking_number,
            verdict=verdict_of(rma).verdict,
            label_url=label_url(rma.rma),
            lines=[
                ReturnLineOut(
                    line_id=line.order_line_id,
                    sku=line.order_line.product.sku,
                    gtin=line.order_line.product.gtin,
                    quantity=line.quantity,
                    missing_quantity=line.missing_quantity,
                    reason=line.reason,
                    comment=line.comment,
                    remedy=line.remedy,
                    exchange_sku=line.exchange_product.sku if line.exchange_product else None,
                )
                for line in rma.lines
            ],
            units=[
                ReturnUnitOut(
                    lpn=unit.lpn,
                    status=unit.status,
                    sku=unit.product.sku if unit.product else None,
                    exception=unit.exception,
                    serial_number=unit.serial_number,
                    serial_mismatch=unit.serial_mismatch,
                    grade=unit.grade,
                    received_at=unit.received_at,
                    refund=RefundOut.of(refunds[unit.id]) if unit.id in refunds else None,
                )
                for unit in rma.units
            ],
        )


class Announced(BaseModel):
    """The RMAs of an announcement: `rma` / `label_url` are the first one's."""

    rma: str
    label_url: str
    returns: list[ReturnOut]


def _line_requests(order: Order, body: ReturnIn) -> list[LineRequest]:
    requests = []
    for index, raw in enumerate(body.lines):
        where = f"lines[{index}]"
        line = None
        if raw.line_id is not None:
            line = next((ol for ol in order.lines if ol.id == raw.line_id), None)
        elif raw.sku or raw.gtin:
            key, value = ("sku", raw.sku) if raw.sku else ("gtin", raw.gtin)
            matches = [ol for ol in order.lines if getattr(ol.product, key) == value]
            if len(matches) > 1:
                raise InvalidInput(
                    f"{where}: {key} {value!r} is on several lines; send `line_id`",
                    field=f"{where}.{key}",
                )
            line = matches[0] if matches else None
        else:
            raise InvalidInput(f"{where}: send `line_id`, `sku` or `gtin`", field=where)
        if line is None:
            raise NotFound(f"{where}: no such line in order {order.number}", field=where)
        requests.append(
            LineRequest(
                order_line_id=line.id,
                quantity=raw.quantity,
                reason=raw.reason,
                comment=raw.comment,
                remedy=raw.remedy,
                exchange_sku=raw.exchange_sku,
            )
        )
    return requests


@bp.post("/returns")
@token_required(*API_ROLES)
@operation(
    "Announce a return",
    operation_id="createReturn",
    description=(
        "Creates one RMA per partner shipment of the order. `rma` and `label_url` are those "
        "of the first RMA; `returns` lists all of them. Quantities above what was ordered "
        "minus what is already announced, and undelivered shipments, are refused."
    ),
    body=ReturnIn,
    answers={201: Answer("Announced", Announced)},
    errors=(400, 401, 403, 404),
)
def create_return(body: ReturnIn):
    """Announce a return for an order; one RMA per partner shipment."""
    partner_id = partner_scope()
    order = db.session.query(Order).filter_by(number=body.order_number).one_or_none()
    if order is None or (
        partner_id is not None and all(s.partner_id != partner_id for s in order.shipments)
    ):
        raise NotFound(f"no order {body.order_number!r}", field="order_number")
    done = announcements.announce(
        db.session,
        order,
        _line_requests(order, body),
        actor=api_actor(),
        label_url=label_url,
        comment=body.comment,
        source="api",
        partner_id=partner_id,
    )
    db.session.commit()
    returns = [ReturnOut.of(rma) for rma in done.returns]
    announced = Announced(rma=returns[0].rma, label_url=returns[0].label_url, returns=returns)
    return answer(announced, 201)


@bp.get("/returns/<rma>")
@token_required(*API_ROLES)
@operation(
    "One return with its status and units",
    operation_id="getReturn",
    answers={200: Answer("The return", ReturnOut)},
    errors=(401, 403, 404),
)
def get_return(rma: str):
    """One return with its status and units."""
    found = announcements.return_by_rma(db.session, rma, partner_id=partner_scope())
    return answer(ReturnOut.of(found))


@bp.post("/returns/<rma>/tracking")
@token_required(*API_ROLES)
@operation(
    "Set the tracking number of the return parcel",
    operation_id="setReturnTracking",
    description=(
        "For the channel or carrier: once stored, scanning the parcel's tracking number at "
        "receiving opens its RMA. Allowed while the return is announced; a number used by "
        "another return is refused (409). `first_scan_at`, the carrier's first scan, is the "
        "customer's proof of dispatch: from then the refund may no longer be withheld "
        "(Directive 2011/83/EU Art. 13(3))."
    ),
    body=ReturnTrackingIn,
    answers={200: Answer("The return with its tracking number", ReturnOut)},
    errors=(400, 401, 403, 404, 409),
)
def set_return_tracking(rma: str, body: ReturnTrackingIn):
    """The carrier's tracking number of the return parcel (scanning it then opens the RMA)."""
    found = announcements.set_return_tracking(
        db.session,
        rma,
        body.tracking_number,
        api_actor(),
        partner_id=partner_scope(),
        first_scan_at=body.first_scan_at,
    )
    db.session.commit()
    return answer(ReturnOut.of(found))
