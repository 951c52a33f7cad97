"""`POST /api/v1/refunds/<lpn>/paid`: an approved refund was paid out to the customer."""

from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime, BaseModel, Field

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from warehouse import payments
from warehouse.db import db
from warehouse.models import Role
from warehouse.validation import Input, OptionalText


class RefundPaidIn(Input):
    """When the refund was paid (default: now) and the payment's reference."""

    paid_at: AwareDatetime | None = Field(None, description="With its time zone; not ahead")
    reference: OptionalText(payments.REFERENCE_MAX) = Field(
        None, description="The payment's reference in the payer's system"
    )


class RefundPaidOut(BaseModel):
    """The refund as paid."""

    lpn: str
    amount_minor: int
    currency: str
    paid_at: dt.datetime
    paid_by: str = Field(description="partner or marketplace")
    reference: str | None


@bp.post("/refunds/<lpn>/paid")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "Confirm that an approved refund was paid out",
    operation_id="refundPaid",
    description=(
        "Whoever pays the partner's refunds confirms them: a partner token for a partner that "
        "pays its customers itself, the marketplace's payment system (a supervisor or admin "
        "token) for refunds the marketplace pays (403 otherwise). Until then the refund stays "
        "on the refund-due list. The same confirmation again answers 200 and changes nothing; "
        "another reference for a paid refund is a 409."
    ),
    body=RefundPaidIn,
    answers={201: Answer("Recorded", RefundPaidOut), 200: Answer("Recorded before", RefundPaidOut)},
    errors=(400, 401, 403, 404, 409),
)
def refund_paid(lpn: str, body: RefundPaidIn):
    """Record the payment of a unit's approved refund."""
    unit, changed = payments.mark_paid(
        db.session,
        api_actor(),
        lpn,
        reference=body.reference or "",
        paid_at=body.paid_at,
        partner_id=partner_scope(),
    )
    out = RefundPaidOut(
        lpn=unit.lpn,
        amount_minor=unit.refund_minor,
        currency=unit.return_request.order.currency,
        paid_at=unit.refund_paid_at,
        paid_by=unit.refund_paid_by,
        reference=unit.refund_payment_ref,
    )
    db.session.commit()
    return answer(out, 201 if changed else 200)
