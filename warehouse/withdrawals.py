"""The withdrawal function: Directive 2011/83/EU Art. 11a (inserted by Directive (EU) 2023/2673,
applying from 19 June 2026).

- Art. 11a(1): a distance contract concluded through an online interface has a clearly labelled
  function to withdraw ("withdraw from contract here"), available throughout the withdrawal
  period; Art. 11a(2): it asks for the customer's identification, the contract and the means
  of the acknowledgment, and is confirmed with a second step ("confirm withdrawal").
- Art. 11a(3): the trader acknowledges it without undue delay on a durable medium (our mail),
  with its content and the date and time it was given.
- The notice starts the clocks: the refund within 14 days (Art. 13(1)) — which the trader may
  withhold until the goods, or proof they were sent, are back (Art. 13(3)) — and the
  customer's 14 days to send the goods (Art. 14(1)).

A withdrawal is carried out as a return: the notice announces the RMAs (their announcement day
is the notice day, so the refund-due date of `warehouse.deadlines.refund_due_on` counts from
it) and the acknowledgment carries their label links.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from warehouse import announcements
from warehouse.db import utcnow
from warehouse.deadlines import WITHDRAWAL_DAYS, assess, local_date
from warehouse.errors import InvalidInput
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.mail import queue_mail
from warehouse.models import Country, Order, Reason, ReturnRequest, Withdrawal

GOODS_BACK_DAYS = 14  # Art. 14(1)
MAX_STATEMENT = 2000


def _site_of(session: Session, order: Order):
    return session.get(Country, order.country_code).site


def withdrawable(
    session: Session, order: Order, *, now: dt.datetime | None = None, partner_id: int | None = None
) -> dict:
    """{order line id: units} the customer may still withdraw for: delivered, not announced
    yet, and within the line's withdrawal period (the partner's window, or 12 months more when
    the customer was not told of the right, Art. 10(1))."""
    now = now or utcnow()
    site = _site_of(session, order)
    today = local_date(now, site.timezone)
    left = announcements.returnable(session, order)
    open_lines = {}
    for line in order.lines:
        if not left.get(line.id) or line.shipment.delivered_at is None:
            continue
        if partner_id is not None and line.shipment.partner_id != partner_id:
            continue  # a partner's channel withdraws from its own lines only
        verdict = assess(
            reason=Reason.CHANGED_MIND,
            delivered_on=local_date(line.shipment.delivered_at, site.timezone),
            notice_on=today,
            window_days=line.shipment.partner.window_days,
            informed=order.withdrawal_informed,
        )
        if verdict.verdict.value == "in_time":
            open_lines[line.id] = left[line.id]
    return open_lines


def withdraw(
    session: Session,
    order: Order,
    quantities: dict[int, int] | None,
    *,
    actor: Actor,
    channel: str,
    label_url: Callable[[str], str],
    statement: str = "",
    now: dt.datetime | None = None,
    partner_id: int | None = None,
) -> tuple[Withdrawal, list[ReturnRequest]]:
    """Take the customer's withdrawal for `quantities` ({order line: units}; None: everything
    still withdrawable), announce the returns that carry it out and mail the acknowledgment.
    Refusals (nothing left, a line out of its period, too many units) change nothing."""
    now = now or utcnow()
    statement = (statement or "").strip()
    if len(statement) > MAX_STATEMENT:
        raise InvalidInput(
            _("the statement is limited to %(most)s characters", most=MAX_STATEMENT),
            field="statement",
        )
    open_lines = withdrawable(session, order, now=now, partner_id=partner_id)
    if quantities is None:
        quantities = dict(open_lines)
    quantities = {line_id: units for line_id, units in quantities.items() if units}
    if not quantities:
        raise InvalidInput(
            _(
                "nothing in this order can be withdrawn from any more: its withdrawal period "
                "is over, or everything is on its way back already"
            ),
            field="lines",
        )
    by_id = {line.id: line for line in order.lines}
    for line_id, units in quantities.items():
        line = by_id.get(line_id)
        if line is None:
            raise InvalidInput(
                _("order %(number)s has no line %(line_id)s", number=order.number, line_id=line_id),
                field="lines",
            )
        if line_id not in open_lines:
            raise InvalidInput(
                _(
                    "%(product)s: the withdrawal period is over (or it is returned already); a "
                    "return may still be possible under the seller's policy",
                    product=line.product.title,
                ),
                field=f"line_{line_id}",
            )
        if not isinstance(units, int) or not 1 <= units <= open_lines[line_id]:
            raise InvalidInput(
                _(
                    "%(product)s: 1 to %(most)s units",
                    product=line.product.title,
                    most=open_lines[line_id],
                ),
                field=f"line_{line_id}",
            )
    site = _site_of(session, order)
    row = Withdrawal(
        order_id=order.id,
        notified_at=now,
        notified_on=local_date(now, site.timezone),
        channel=channel[:40],
        statement=statement,
        lines=[{"order_line_id": k, "quantity": v} for k, v in sorted(quantities.items())],
    )
    session.add(row)
    session.flush()
    done = announcements.announce(
        session,
        order,
        [
            announcements.LineRequest(order_line_id=k, quantity=v, reason=Reason.CHANGED_MIND)
            for k, v in sorted(quantities.items())
        ],
        actor=actor,
        label_url=label_url,
        comment=statement[: announcements.MAX_COMMENT],
        source="withdrawal",
        now=now,
        mail=False,  # the acknowledgment below carries the labels
    )
    for rma in done.returns:
        rma.withdrawal_id = row.id
    record(
        session,
        actor,
        "order.withdrawn",
        row,
        after=",".join(rma.rma for rma in done.returns),
        site_id=site.id,
        order=order.number,
        channel=row.channel,
        lines=row.lines,
    )
    local = now.astimezone(ZoneInfo(site.timezone))
    queue_mail(
        session,
        template="withdrawal_ack",
        to=order.customer_email,
        language=order.language,
        context={
            "order_number": order.number,
            "customer_name": order.customer_name,
            "notified_at": local.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "statement": statement,
            "lines": [
                {"product": by_id[k].product.title, "sku": by_id[k].product.sku, "quantity": v}
                for k, v in sorted(quantities.items())
            ],
            "returns": [
                {"rma": rma.rma, "label_url": label_url(rma.rma), "partner": rma.partner.name}
                for rma in done.returns
            ],
            "goods_back_by": (row.notified_on + dt.timedelta(days=GOODS_BACK_DAYS)).isoformat(),
            "refund_by": (row.notified_on + dt.timedelta(days=WITHDRAWAL_DAYS)).isoformat(),
        },
        key=f"withdrawal:{row.id}",
    )
    return row, done.returns


@dataclass(frozen=True)
class GoodsBack:
    """Where a withdrawal's goods stand against Art. 14(1): due by, and how late they are."""

    notified_on: dt.date
    due_on: dt.date  # notice + 14 days + the site's transit grace
    days_late: int


def goods_back(rma: ReturnRequest, day: dt.date) -> GoodsBack | None:
    """For a return carrying out a withdrawal: whether goods arriving on `day` are late."""
    if rma.withdrawal_id is None:
        return None
    withdrawal = rma.withdrawal
    due = withdrawal.notified_on + dt.timedelta(
        days=GOODS_BACK_DAYS + (rma.site.transit_grace_days or 0)
    )
    return GoodsBack(withdrawal.notified_on, due, max(0, (day - due).days))
