"""POST /api/v1/withdrawals: a customer's withdrawal from the contract given through a channel
(Directive 2011/83/EU Art. 11a): the same as the customer page's function."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, StrictInt

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from stations.screens.customer import label_url
from warehouse import withdrawals
from warehouse.db import db
from warehouse.errors import InvalidInput, NotFound
from warehouse.models import Order, Role
from warehouse.validation import Input, OptionalText, Text


class WithdrawalLineIn(Input):
    """An order line withdrawn from, by `line_id` or `sku`."""

    line_id: StrictInt | None = None
    sku: OptionalText(64) = None
    quantity: StrictInt = Field(ge=1)


class WithdrawalIn(Input):
    """The notice: the order, the lines (all that are still withdrawable when absent), what the
    customer said, and the channel it came through."""

    order_number: Text(40)
    lines: list[WithdrawalLineIn] | None = Field(None, min_length=1)
    statement: str = Field("", max_length=withdrawals.MAX_STATEMENT)
    channel: OptionalText(40) = Field(None, description="e.g. app, chat; default: api")


class WithdrawnReturn(BaseModel):
    """A return that carries the withdrawal out."""

    rma: str
    label_url: str


class WithdrawalOut(BaseModel):
    """The withdrawal as acknowledged (the customer gets the same by email)."""

    id: int
    order_number: str
    notified_at: dt.datetime
    goods_back_by: dt.date = Field(description="Art. 14(1): 14 days from the notice")
    refund_by: dt.date = Field(description="Art. 13(1): 14 days from the notice")
    returns: list[WithdrawnReturn]


@bp.post("/withdrawals")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "Take a customer's withdrawal from the contract",
    operation_id="createWithdrawal",
    description="Lines beyond their withdrawal period are refused; the customer gets the "
    "acknowledgment with its date and time and the return labels by email.",
    body=WithdrawalIn,
    answers={201: Answer("Withdrawn", WithdrawalOut)},
    errors=(400, 401, 403, 404),
)
def create_withdrawal(body: WithdrawalIn):
    """A withdrawal for an order; one RMA per partner shipment carries it out."""
    scope = partner_scope()
    order = db.session.query(Order).filter_by(number=body.order_number).one_or_none()
    if order is None or (scope is not None and all(s.partner_id != scope for s in order.shipments)):
        raise NotFound(f"no order {body.order_number!r}", field="order_number")
    quantities = None
    if body.lines is not None:
        quantities = {}
        for index, raw in enumerate(body.lines):
            candidates = [
                item
                for item in order.lines
                if (scope is None or item.shipment.partner_id == scope)
                and (
                    (raw.line_id is not None and item.id == raw.line_id)
                    or (raw.line_id is None and raw.sku and item.product.sku == raw.sku)
                )
            ]
            if not candidates:
                raise NotFound(f"lines[{index}]: no such line in order", field=f"lines[{index}]")
            if len(candidates) > 1:
                raise InvalidInput(
                    f"lines[{index}]: SKU {raw.sku} is on several lines; name the line_id",
                    field=f"lines[{index}].sku",
                )
            line = candidates[0]
            if line.id in quantities:
                raise InvalidInput(f"lines[{index}]: named twice", field=f"lines[{index}]")
            quantities[line.id] = raw.quantity
    row, returns = withdrawals.withdraw(
        db.session,
        order,
        quantities,
        actor=api_actor(),
        channel=body.channel or "api",
        label_url=label_url,
        statement=body.statement,
        partner_id=scope,
    )
    db.session.commit()
    return answer(
        WithdrawalOut(
            id=row.id,
            order_number=order.number,
            notified_at=row.notified_at,
            goods_back_by=row.notified_on + dt.timedelta(days=withdrawals.GOODS_BACK_DAYS),
            refund_by=row.notified_on + dt.timedelta(days=withdrawals.WITHDRAWAL_DAYS),
            returns=[WithdrawnReturn(rma=r.rma, label_url=label_url(r.rma)) for r in returns],
        ),
        201,
    )
