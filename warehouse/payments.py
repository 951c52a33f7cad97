"""Refunds paid out: who pays an approved refund and when it was paid (SPEC 3.6).

The partner's agreement says who pays the customer (`Partner.refund_paid_by`): the partner
itself, which confirms each payment in the portal or with its API token, or the marketplace,
whose payment system confirms it with a supervisor or admin token. The refund-due clock
(`warehouse.figures.refund_due_risk`) watches approved refunds until they are paid.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, joinedload

from warehouse import codes, events, webhooks
from warehouse.db import CLOCK_SKEW, lock_row, utcnow
from warehouse.errors import Conflict, InvalidInput, NotAllowed, NotFound
from warehouse.i18n import gettext as _
from warehouse.models import UNPAID_REFUND, RefundState, ReturnRequest, Unit
from warehouse.vocabulary import status_word

REFERENCE_MAX = 80


def unit_for_payment(session: Session, lpn: str, *, partner_id: int | None = None) -> Unit:
    """The unit with this LPN; another partner's is not found."""
    wanted = codes.normalise(lpn)
    unit = (
        session.query(Unit)
        .options(
            joinedload(Unit.partner),
            joinedload(Unit.return_request).joinedload(ReturnRequest.order),
        )
        .filter(Unit.lpn == wanted)
        .one_or_none()
    )
    if unit is None or (partner_id is not None and unit.partner_id != partner_id):
        raise NotFound(_("no unit %(wanted)s", wanted=repr(wanted)), field="lpn")
    return unit


def mark_paid(
    session: Session,
    actor: events.Actor,
    lpn: str,
    *,
    reference: str = "",
    paid_at: dt.datetime | None = None,
    partner_id: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[Unit, bool]:
    """Record that the approved refund of a unit was paid; answers (unit, changed).

    `partner_id` set: the partner confirms (only refunds it pays itself); unset: the marketplace
    (refunds it pays for the partner). The same confirmation again changes nothing; another
    reference for a paid refund is refused."""
    now = now or utcnow()
    unit = unit_for_payment(session, lpn, partner_id=partner_id)
    lock_row(session, Unit, unit.id)
    session.refresh(unit)
    reference = (reference or "").strip()
    if len(reference) > REFERENCE_MAX:
        raise InvalidInput(
            _(
                "the payment reference is limited to %(REFERENCE_MAX)s characters",
                REFERENCE_MAX=REFERENCE_MAX,
            ),
            field="reference",
        )
    if unit.refund_state != RefundState.APPROVED or not unit.refund_minor:
        state = status_word(unit.refund_state) if unit.refund_state else _("not decided")
        raise Conflict(
            _("%(lpn)s has no approved refund to pay (%(state)s)", lpn=unit.lpn, state=state),
            field="lpn",
        )
    payer = unit.partner.refund_paid_by
    by = "partner" if partner_id is not None else "marketplace"
    if by != payer:
        raise NotAllowed(
            _(
                "%(partner)s's refunds are paid by the partner: the partner confirms them",
                partner=unit.partner.name,
            )
            if payer == "partner"
            else _(
                "%(partner)s's refunds are paid by the marketplace: the marketplace confirms them",
                partner=unit.partner.name,
            )
        )
    if unit.refund_paid_at is not None:
        if not reference or reference == unit.refund_payment_ref:
            return unit, False
        raise Conflict(
            _(
                "the refund of %(lpn)s was paid already (reference %(refund_payment_ref)s)",
                lpn=unit.lpn,
                refund_payment_ref=unit.refund_payment_ref,
            ),
            field="reference",
        )
    paid_at = paid_at or now
    if paid_at.tzinfo is None:
        raise InvalidInput(_("give the payment time with its time zone"), field="paid_at")
    if paid_at > now + CLOCK_SKEW:
        raise InvalidInput(_("the payment cannot be in the future"), field="paid_at")
    if unit.refund_decided_at and paid_at < unit.refund_decided_at - CLOCK_SKEW:
        raise InvalidInput(_("the payment is before the refund was approved"), field="paid_at")
    unit.refund_paid_at = paid_at.astimezone(dt.UTC)
    unit.refund_paid_by = by
    unit.refund_payment_ref = reference or None
    events.record(
        session,
        actor,
        "refund.paid",
        unit,
        before=RefundState.APPROVED.value,
        after="paid",
        site_id=unit.site_id,
        lpn=unit.lpn,
        amount_minor=unit.refund_minor,
        currency=unit.return_request.order.currency,
        paid_by=by,
        reference=reference,
    )
    rma = unit.return_request
    webhooks.emit(
        session,
        "refund.paid",
        channel=rma.order.channel,
        key=unit.lpn,
        data=lambda: webhooks.about(
            rma,
            unit,
            amount_minor=unit.refund_minor,
            currency=rma.order.currency,
            paid_by=by,
            paid_at=unit.refund_paid_at.isoformat(),
        ),
    )
    session.flush()
    return unit, True


def unpaid(session: Session, partner_id: int, limit: int = 200) -> list[Unit]:
    """A partner's approved refunds not paid yet, soonest due first."""
    return list(
        session.query(Unit)
        .join(ReturnRequest, ReturnRequest.id == Unit.return_id)
        .options(joinedload(Unit.return_request).joinedload(ReturnRequest.order))
        .filter(UNPAID_REFUND, Unit.partner_id == partner_id, Unit.refund_minor > 0)
        .order_by(ReturnRequest.refund_due_on, Unit.id)
        .limit(limit)
        .all()
    )
