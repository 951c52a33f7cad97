"""The exceptions queue: every flagged parcel or unit (SPEC section 5) and every refund past its
due date, in one list a supervisor works through.

A flag is raised where it happens (receiving, the serial check, the hourly refund-due sweep),
in the same transaction as the flag itself, and taken back (`withdraw`) when the flag is: a
removed extra unit, a parcel no longer marked damaged. Resolving one records how and why, as an
event, and does what the resolution says: a mail to the customer (in their language) or the
partner, a carrier claim note, quarantine for the unit, or plain acceptance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from warehouse import events
from warehouse.db import lock_row, utcnow
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.jobs import periodic
from warehouse.mail import queue_mail
from warehouse.models import (
    NO_REFUND_FLAGS,
    OPEN_UNIT,
    ExceptionKind,
    ExceptionStatus,
    RefundState,
    Resolution,
    ReturnException,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Site,
    Unit,
    UnitException,
)
from warehouse.vocabulary import EXCEPTION_KIND_LABELS as KIND_LABELS

NOTE_MAX = 1000


# What each kind can be resolved with (the customer only hears of what concerns them).
RESOLUTIONS = {
    ExceptionKind.WRONG_ITEM: (
        Resolution.NOTIFY_CUSTOMER,
        Resolution.NOTIFY_PARTNER,
        Resolution.QUARANTINE,
        Resolution.ACCEPT,
    ),
    ExceptionKind.EXTRA_UNIT: (
        Resolution.NOTIFY_CUSTOMER,
        Resolution.NOTIFY_PARTNER,
        Resolution.QUARANTINE,
        Resolution.ACCEPT,
    ),
    ExceptionKind.MISSING_UNIT: (
        Resolution.NOTIFY_CUSTOMER,
        Resolution.NOTIFY_PARTNER,
        Resolution.ACCEPT,
    ),
    ExceptionKind.PARCEL_DAMAGED: (
        Resolution.CARRIER_CLAIM,
        Resolution.NOTIFY_PARTNER,
        Resolution.ACCEPT,
    ),
    ExceptionKind.DAMAGED_IN_TRANSIT: (
        Resolution.CARRIER_CLAIM,
        Resolution.NOTIFY_PARTNER,
        Resolution.QUARANTINE,
        Resolution.ACCEPT,
    ),
    ExceptionKind.SERIAL_MISMATCH: (
        Resolution.NOTIFY_CUSTOMER,
        Resolution.NOTIFY_PARTNER,
        Resolution.QUARANTINE,
        Resolution.ACCEPT,
    ),
    ExceptionKind.UNANNOUNCED: (Resolution.NOTIFY_PARTNER, Resolution.ACCEPT),
    ExceptionKind.FOREIGN_ITEM: (
        Resolution.QUARANTINE,
        Resolution.NOTIFY_CUSTOMER,
        Resolution.ACCEPT,
    ),
    ExceptionKind.REFUND_OVERDUE: (Resolution.NOTIFY_PARTNER, Resolution.ACCEPT),
}

# A kind raised by receiving's unit flag.
FROM_UNIT_FLAG = {
    UnitException.WRONG_ITEM: ExceptionKind.WRONG_ITEM,
    UnitException.EXTRA: ExceptionKind.EXTRA_UNIT,
    UnitException.DAMAGED_IN_TRANSIT: ExceptionKind.DAMAGED_IN_TRANSIT,
    UnitException.FOREIGN: ExceptionKind.FOREIGN_ITEM,
}


def _key(kind: ExceptionKind, subject: str, subject_id: int) -> str:
    return f"{kind.value}:{subject}:{subject_id}"


def flag(
    session: Session,
    actor: events.Actor,
    kind: ExceptionKind,
    rma: ReturnRequest,
    *,
    unit: Unit | None = None,
    line: ReturnLine | None = None,
    detail: str = "",
    now: dt.datetime | None = None,
) -> ReturnException:
    """Put `kind` for this parcel (or its `unit` / `line`) on the queue; flagging what is
    already there changes nothing, flagging what was withdrawn or resolved opens it again."""
    if unit is not None:
        key = _key(kind, "unit", unit.id)
    elif line is not None:
        key = _key(kind, "line", line.id)
    else:
        key = _key(kind, "return", rma.id)
    row = session.scalar(sa.select(ReturnException).where(ReturnException.key == key))
    if row is not None and row.status == ExceptionStatus.OPEN:
        row.detail = detail[:250] or row.detail
        return row
    if row is None:
        row = ReturnException(key=key, kind=kind)
        session.add(row)
    row.status = ExceptionStatus.OPEN
    row.site_id, row.partner_id, row.return_id = rma.site_id, rma.partner_id, rma.id
    row.unit_id = unit.id if unit is not None else None
    row.lpn = unit.lpn if unit is not None else None
    row.return_line_id = line.id if line is not None else None
    row.detail = detail[:250]
    row.opened_at = now or utcnow()
    row.opened_by = actor.label[:120]
    row.resolution = None
    row.note = ""
    row.resolved_at = row.resolved_by = row.resolved_by_id = None
    session.flush()
    events.record(
        session,
        actor,
        "exception.opened",
        row,
        after=kind.value,
        site_id=rma.site_id,
        partner_id=rma.partner_id,
        rma=rma.rma,
        lpn=row.lpn,
        detail=row.detail,
    )
    return row


def withdraw(
    session: Session,
    actor: events.Actor,
    kind: ExceptionKind,
    *,
    unit_id: int | None = None,
    line_id: int | None = None,
    return_id: int | None = None,
    why: str,
) -> None:
    """Take an open exception back because its flag was taken back (nothing to resolve)."""
    if unit_id is not None:
        key = _key(kind, "unit", unit_id)
    elif line_id is not None:
        key = _key(kind, "line", line_id)
    else:
        key = _key(kind, "return", return_id)
    row = session.scalar(sa.select(ReturnException).where(ReturnException.key == key))
    if row is None or row.status != ExceptionStatus.OPEN:
        return
    row.status = ExceptionStatus.WITHDRAWN
    row.resolved_at = utcnow()
    row.resolved_by, row.resolved_by_id = actor.label[:120], actor.user_id
    row.note = why
    events.record(
        session,
        actor,
        "exception.withdrawn",
        row,
        before=ExceptionStatus.OPEN.value,
        after=ExceptionStatus.WITHDRAWN.value,
        site_id=row.site_id,
        partner_id=row.partner_id,
        why=why,
    )


def forget_unit(session: Session, actor: events.Actor, unit: Unit, *, why: str) -> None:
    """A unit removed at receiving: its open exceptions are withdrawn and keep only its LPN."""
    rows = session.scalars(sa.select(ReturnException).where(ReturnException.unit_id == unit.id))
    for row in rows:
        withdraw(session, actor, row.kind, unit_id=unit.id, why=why)
        row.unit_id = None


# --- reading the queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the queue shows: kinds, status, one site, one partner."""

    kind: ExceptionKind | None = None
    status: ExceptionStatus | None = ExceptionStatus.OPEN
    site_id: int | None = None
    partner_id: int | None = None

    @classmethod
    def parse(cls, *, kind: str = "", status: str = "", **scope) -> Filters:
        """Filters from request values, refusing unknown ones by name; `status=all` is any."""
        chosen_kind = None
        if kind:
            try:
                chosen_kind = ExceptionKind(kind)
            except ValueError:
                choices = ", ".join(k.value for k in ExceptionKind)
                raise InvalidInput(
                    _(
                        "%(kind)s is not an exception kind; choose one of: %(choices)s",
                        kind=repr(kind),
                        choices=choices,
                    ),
                    field="kind",
                ) from None
        chosen_status: ExceptionStatus | None = ExceptionStatus.OPEN
        if status == "all":
            chosen_status = None
        elif status:
            try:
                chosen_status = ExceptionStatus(status)
            except ValueError:
                raise InvalidInput(
                    _(
                        "%(status)s is not a status; choose open, resolved, withdrawn or all",
                        status=repr(status),
                    ),
                    field="status",
                ) from None
        return cls(kind=chosen_kind, status=chosen_status, **scope)


def queue(session: Session, filters: Filters, *, limit: int = 50, offset: int = 0):
    """The exceptions matching `filters`, oldest first, and how many there are in all."""
    query = sa.select(ReturnException)
    if filters.kind is not None:
        query = query.where(ReturnException.kind == filters.kind)
    if filters.status is not None:
        query = query.where(ReturnException.status == filters.status)
    if filters.site_id is not None:
        query = query.where(ReturnException.site_id == filters.site_id)
    if filters.partner_id is not None:
        query = query.where(ReturnException.partner_id == filters.partner_id)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = session.scalars(
        query.options(
            joinedload(ReturnException.return_request).joinedload(ReturnRequest.order),
            joinedload(ReturnException.partner),
        )
        .order_by(ReturnException.opened_at, ReturnException.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total or 0


def get_exception(
    session: Session, exception_id: int, *, site_id: int | None, partner_id: int | None
) -> ReturnException:
    """One exception within the caller's site and partner scope (else: not found)."""
    row = session.get(ReturnException, exception_id)
    if (
        row is None
        or (site_id is not None and row.site_id != site_id)
        or (partner_id is not None and row.partner_id != partner_id)
    ):
        raise NotFound(
            _("no exception #%(exception_id)s", exception_id=exception_id), field="exception"
        )
    return row


def open_count(session: Session, *, site_id: int | None, partner_id: int | None = None) -> int:
    """How many exceptions wait (the overview's figure)."""
    return session.scalar(
        sa.select(sa.func.count()).where(
            ReturnException.status == ExceptionStatus.OPEN,
            *([ReturnException.site_id == site_id] if site_id is not None else []),
            *([ReturnException.partner_id == partner_id] if partner_id is not None else []),
        )
    )


# --- resolving -------------------------------------------------------------------------------


def resolve(
    session: Session,
    actor: events.Actor,
    exception_id: int,
    *,
    resolution: Resolution | str,
    note: str,
    site_id: int | None,
    partner_id: int | None = None,
    quarantine_unit=None,
) -> ReturnException:
    """Resolve an open exception with one of its kind's resolutions, saying why.

    `quarantine_unit(unit)` routes a unit to quarantine (routing's, passed in to keep this
    module below routing).
    """
    lock_row(session, ReturnException, exception_id)  # one resolution wins, on either database
    row = get_exception(session, exception_id, site_id=site_id, partner_id=partner_id)
    session.refresh(row)
    try:
        resolution = Resolution(resolution)
    except ValueError:
        choices = ", ".join(r.value for r in RESOLUTIONS[row.kind])
        raise InvalidInput(
            _(
                "%(resolution)s is not a resolution; choose one of: %(choices)s",
                resolution=repr(resolution),
                choices=choices,
            ),
            field="resolution",
        ) from None
    if resolution not in RESOLUTIONS[row.kind]:
        choices = ", ".join(r.value for r in RESOLUTIONS[row.kind])
        raise InvalidInput(
            _(
                "a %(kind)s cannot be resolved with %(resolution)s; choose one of: %(choices)s",
                kind=KIND_LABELS[row.kind],
                resolution=resolution.value,
                choices=choices,
            ),
            field="resolution",
        )
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("say why: the note is kept with the exception"), field="note")
    if len(note) > NOTE_MAX:
        raise InvalidInput(
            _("the note is limited to %(most)s characters", most=NOTE_MAX), field="note"
        )
    if row.status != ExceptionStatus.OPEN:
        if row.status == ExceptionStatus.WITHDRAWN and row.resolved_by:
            message = _(
                "exception #%(id)s was withdrawn already, by %(who)s",
                id=row.id,
                who=row.resolved_by,
            )
        elif row.status == ExceptionStatus.WITHDRAWN:
            message = _("exception #%(id)s was withdrawn already", id=row.id)
        elif row.resolved_by:
            message = _(
                "exception #%(id)s was resolved already, by %(who)s", id=row.id, who=row.resolved_by
            )
        else:
            message = _("exception #%(id)s was resolved already", id=row.id)
        raise Conflict(message, field="exception")
    if resolution == Resolution.QUARANTINE:
        if row.unit is None:
            raise Conflict(_("there is no unit to send to quarantine"), field="resolution")
        if quarantine_unit is None:  # pragma: no cover - every caller passes routing's
            raise Conflict(_("quarantine is not available here"), field="resolution")
        quarantine_unit(row.unit)
    rma = row.return_request
    if resolution == Resolution.NOTIFY_CUSTOMER:
        queue_mail(
            session,
            template="exception_customer",
            to=rma.order.customer_email,
            language=rma.order.language,
            context=_mail_context(row, note),
            key=f"exception-customer:{row.id}:{row.opened_at.isoformat()}",
        )
    elif resolution == Resolution.NOTIFY_PARTNER:
        queue_mail(
            session,
            template="exception_partner",
            to=rma.partner.contact_email,
            language=rma.partner.language,
            context=_mail_context(row, note),
            key=f"exception-partner:{row.id}:{row.opened_at.isoformat()}",
        )
    row.status = ExceptionStatus.RESOLVED
    row.resolution = resolution
    row.note = note
    row.resolved_at = utcnow()
    row.resolved_by, row.resolved_by_id = actor.label[:120], actor.user_id
    events.record(
        session,
        actor,
        "exception.resolved",
        row,
        before=ExceptionStatus.OPEN.value,
        after=resolution.value,
        site_id=row.site_id,
        partner_id=row.partner_id,
        note=note,
        rma=rma.rma,
        lpn=row.lpn,
    )
    return row


def _mail_context(row: ReturnException, note: str) -> dict:
    rma = row.return_request
    return {
        "kind": row.kind.value,
        "rma": rma.rma,
        "order_number": rma.order.number,
        "customer_name": rma.order.customer_name,
        "lpn": row.lpn or "",
        "product": row.unit.product.title if row.unit is not None and row.unit.product else "",
        "line_product": row.return_line.order_line.product.title if row.return_line else "",
        "missing": row.return_line.missing_quantity if row.return_line else 0,
        "detail": row.detail,
        "note": note,
    }


# --- refunds running late --------------------------------------------------------------------

OVERDUE_EVERY = dt.timedelta(hours=1)


def overdue_units(session: Session, *, site_id: int, today: dt.date) -> list[Unit]:
    """Units of received returns whose refund-due date has passed with no refund decided
    (received but not graded, or a case still open). Extra and foreign units are owed nothing."""
    return session.scalars(
        sa.select(Unit)
        .join(ReturnRequest, ReturnRequest.id == Unit.return_id)
        .where(
            ReturnRequest.site_id == site_id,
            ReturnRequest.status != ReturnStatus.ANNOUNCED,
            ReturnRequest.refund_due_on < today,
            Unit.return_line_id.is_not(None),
            sa.or_(Unit.exception.is_(None), Unit.exception.not_in(NO_REFUND_FLAGS)),
            OPEN_UNIT,  # the ix_unit_open partial index
            sa.or_(Unit.refund_state.is_(None), Unit.refund_state == RefundState.OPEN),
        )
        .options(joinedload(Unit.return_request))
        .order_by(ReturnRequest.refund_due_on, Unit.id)
    ).all()


def flag_overdue(session: Session, *, now: dt.datetime) -> int:
    """Put every refund past its due date on the queue (once per unit)."""
    from warehouse.deadlines import local_date

    actor = events.Actor(label="refund-due check")
    flagged = 0
    for site in session.scalars(sa.select(Site)).all():
        today = local_date(now, site.timezone)
        for unit in overdue_units(session, site_id=site.id, today=today):
            row = flag(
                session,
                actor,
                ExceptionKind.REFUND_OVERDUE,
                unit.return_request,
                unit=unit,
                detail=f"refund was due on {unit.return_request.refund_due_on.isoformat()}",
                now=now,
            )
            flagged += row.opened_at == now
    return flagged


@periodic("flag_overdue_refunds", every=OVERDUE_EVERY)
def flag_overdue_refunds(job, payload: dict) -> str:
    """Hourly: refunds past their due date go on the exceptions queue."""
    return f"flagged {flag_overdue(job.session, now=job.now)} overdue refunds"
