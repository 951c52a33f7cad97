"""Grading (SPEC section 3.3): scan an LPN, pick the condition grade, tick the category's
checklist, add notes and photos. Grading proposes the refund in the same transaction.

Units are graded while `received` (first grading, or back from refurbishment) and may be
re-graded while `graded` and not yet routed; every grading is an event, so the history stays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from warehouse import cases, events, outbox, webhooks
from warehouse.checklists import checklist_for
from warehouse.db import lock_row, utcnow
from warehouse.deadlines import Assessment, local_date
from warehouse.errors import Conflict, InvalidInput, NotFound, UnknownBarcode
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import (
    PARTNER_PORTAL_STATION,
    Case,
    CaseStatus,
    Grade,
    Reason,
    ReturnLine,
    ReturnRequest,
    Unit,
    UnitStatus,
)
from warehouse.receiving import assessment_for, reason_of
from warehouse.vocabulary import status_word

GRADE_HINTS = {
    Grade.NEW: _l("sealed, unopened"),
    Grade.OPENED: _l("opened, unused"),
    Grade.USED: _l("used, no damage, complete"),
    Grade.LIGHT_DAMAGE: _l("light marks, scratches"),
    Grade.HEAVY_DAMAGE: _l("clearly damaged, works"),
    Grade.DEFECTIVE: _l("does not work"),
}
GRADE_ORDER = tuple(Grade)  # keys 1-6 on the station follow this order
GRADE_BARCODE_PREFIX = "GRADE-"

GRADABLE = (UnitStatus.RECEIVED, UnitStatus.GRADED)
NOTES_MAX = 2000


def grade_barcode(grade: Grade) -> str:
    """The text of a grade's barcode on the printed grade sheet, e.g. 'GRADE-LIGHT_DAMAGE'."""
    return GRADE_BARCODE_PREFIX + Grade(grade).value.upper()


def parse_grade_barcode(code: str) -> Grade | None:
    """The grade a scanned grade-sheet barcode stands for, or None when it is not one."""
    code = code.strip().upper()
    if not code.startswith(GRADE_BARCODE_PREFIX):
        return None
    try:
        return Grade(code.removeprefix(GRADE_BARCODE_PREFIX).lower().replace("-", "_"))
    except ValueError:
        return None


def _unit_query(session: Session):
    # Everything the unit card shows, in one round trip plus the case / photo look-ups.
    return session.query(Unit).options(
        joinedload(Unit.product),
        joinedload(Unit.partner),
        joinedload(Unit.return_line).joinedload(ReturnLine.order_line),
        joinedload(Unit.return_request).joinedload(ReturnRequest.site),
        joinedload(Unit.return_request).joinedload(ReturnRequest.order),
        joinedload(Unit.return_request).joinedload(ReturnRequest.shipment),
    )


def _visible(unit: Unit | None, partner_id: int | None, site_id: int | None) -> bool:
    """Whether a partner (its own units) or a station (its site's units) may see the unit."""
    return (
        unit is not None
        and (partner_id is None or unit.partner_id == partner_id)
        and (site_id is None or unit.site_id == site_id)
    )


def find_unit(
    session: Session, lpn: str, *, partner_id: int | None = None, site_id: int | None = None
) -> Unit:
    """The unit with this LPN (indexed look-up); another partner's or site's unit is not found."""
    code = lpn.strip().upper()
    if not code:
        raise InvalidInput(_("scan a unit label (LPN)"), field="code")
    unit = _unit_query(session).filter(Unit.lpn == code).one_or_none()
    if not _visible(unit, partner_id, site_id):
        raise UnknownBarcode(_("no unit with label %(code)s", code=code), field="code")
    return unit


def get_unit(
    session: Session, unit_id: int, *, partner_id: int | None = None, site_id: int | None = None
) -> Unit:
    """The unit by id; another partner's or site's unit is not found."""
    unit = _unit_query(session).filter(Unit.id == unit_id).one_or_none()
    if not _visible(unit, partner_id, site_id):
        raise NotFound(_("no such unit"), field="unit")
    return unit


@dataclass(frozen=True)
class UnitCard:
    """What the grading station shows about a scanned unit."""

    unit: Unit
    assessment: Assessment
    reason: Reason
    comment: str
    checklist: tuple[str, ...]
    case: Case | None

    @property
    def gradable(self) -> bool:
        """Whether the unit is at the grading stage."""
        return self.unit.status in GRADABLE


def unit_card(session: Session, unit: Unit) -> UnitCard:
    """The card of a unit: product, reason, deadline verdict, customer comment, checklist."""
    comment = "\n".join(
        text
        for text in (
            unit.return_line.comment if unit.return_line else "",
            unit.return_request.customer_comment,
        )
        if text
    )
    case = session.query(Case).filter_by(unit_id=unit.id).one_or_none()
    return UnitCard(
        unit=unit,
        assessment=assessment_for(unit),
        reason=reason_of(unit),
        comment=comment,
        checklist=checklist_for(unit.product.category if unit.product else None),
        case=case,
    )


def clean_checklist(unit: Unit, ticked: dict[str, bool] | set[str]) -> dict[str, bool]:
    """Every checklist item of the unit's category, True when ticked; unknown items refused."""
    items = checklist_for(unit.product.category if unit.product else None)
    names = (
        {name for name, value in ticked.items() if value} if isinstance(ticked, dict) else ticked
    )
    unknown = sorted(set(names) - set(items))
    if unknown:
        raise InvalidInput(
            _("%(value)s is not on the checklist of this product", value=", ".join(unknown)),
            field="checklist",
        )
    return {item: item in names for item in items}


def check_gradable(unit: Unit) -> None:
    """Refuse a unit that is not (or no longer) at the grading stage, saying why."""
    if unit.status in GRADABLE:
        return
    if unit.status == UnitStatus.ROUTED:
        raise Conflict(
            _(
                "unit %(lpn)s was already routed (%(disposition)s); it can no longer be graded",
                lpn=unit.lpn,
                disposition=unit.disposition or "put away",
            ),
            field="code",
        )
    raise Conflict(
        _("unit %(lpn)s is closed; it can no longer be graded", lpn=unit.lpn), field="code"
    )


def grade_unit(
    session: Session,
    actor: events.Actor,
    unit_id: int,
    *,
    grade: Grade | str,
    checklist: dict[str, bool] | set[str],
    notes: str = "",
    links,
    today: dt.date | None = None,
    hold_case_mail_until: dt.datetime | None = None,
):
    """Grade a unit and settle its refund (approve, open a case or reject) in one transaction.

    `links` signs the partner's decision links (`warehouse.cases.CaseLinks`). With
    `hold_case_mail_until` a case's mail to the partner waits until then, so the station can
    take the grade back (`undo_grade`). Returns the `warehouse.cases.Settlement`.
    """
    try:
        grade = Grade(grade)
    except ValueError:
        raise InvalidInput(
            _("%(grade)s is not a grade", grade=repr(grade)), field="grade"
        ) from None
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise InvalidInput(
            _("notes are limited to %(NOTES_MAX)s characters", NOTES_MAX=NOTES_MAX), field="notes"
        )
    lock_row(session, Unit, unit_id)  # a second station grading it at once waits, then reads
    unit = (
        session.query(Unit)
        .options(
            joinedload(Unit.return_line).joinedload(ReturnLine.order_line),
            joinedload(Unit.return_request).joinedload(ReturnRequest.shipment),
            selectinload(Unit.partner),
        )
        .filter(Unit.id == unit_id)
        .populate_existing()
        .one_or_none()
    )
    # A station grades its site's units; a partner that receives its own returns, its own.
    if not _visible(unit, actor.partner_id, actor.site_id):
        raise NotFound(_("no such unit"), field="unit")
    if unit.received_station == PARTNER_PORTAL_STATION and actor.partner_id is None:
        raise Conflict(
            _(
                "%(lpn)s was received by %(name)s, which keeps and grades it",
                lpn=unit.lpn,
                name=unit.partner.name,
            ),
            field="code",
        )
    check_gradable(unit)
    cleaned = clean_checklist(unit, checklist)

    before = unit.status
    previous = {"grade": unit.grade.value if unit.grade else None, "checklist": unit.checklist}
    unit.grade = grade
    unit.checklist = cleaned
    unit.notes = notes
    unit.graded_at = utcnow()
    unit.status = UnitStatus.GRADED
    events.record(
        session,
        actor,
        "unit.regraded" if previous["grade"] else "unit.graded",
        unit,
        before=before.value,
        after=UnitStatus.GRADED.value,
        grade=grade.value,
        checklist=cleaned,
        notes=notes,
        previous=previous,
    )
    rma = unit.return_request
    webhooks.emit(
        session,
        "unit.graded",
        channel=rma.order.channel,
        key=graded_key(unit),
        available_at=hold_case_mail_until,  # the station may still take the grade back
        data=lambda: webhooks.about(
            rma,
            unit,
            sku=unit.product.sku if unit.product else None,
            grade=grade.value,
            regraded=previous["grade"] is not None,
        ),
    )
    today = today or local_date(utcnow(), unit.return_request.site.timezone)
    return cases.settle_after_grading(
        session, actor, unit, links=links, today=today, hold_until=hold_case_mail_until
    )


def graded_key(unit: Unit) -> str:
    """What names one grading of a unit (its webhook is sent once, or taken back with it)."""
    return f"{unit.lpn}:{unit.graded_at.isoformat()}"


def undo_grade(session: Session, actor: events.Actor, unit_id: int) -> Unit:
    """Take back a grade whose refund went to a case the partner has not been mailed about yet:
    the unit is back at grading (its checklist kept), the case is withdrawn.

    A refund approved or rejected at once is not taken back this way (the customer and the
    ledger have it); re-grading updates an open case instead.
    """
    lock_row(session, Unit, unit_id)
    unit = session.query(Unit).filter(Unit.id == unit_id).populate_existing().one_or_none()
    if unit is None or (actor.site_id is not None and unit.site_id != actor.site_id):
        raise NotFound(_("no such unit"), field="unit")
    if unit.status != UnitStatus.GRADED:
        raise Conflict(
            _("%(lpn)s is not graded (or routed already): nothing to undo.", lpn=unit.lpn)
        )
    case = session.query(Case).filter_by(unit_id=unit.id).one_or_none()
    if case is None or case.status != CaseStatus.OPEN:
        state = status_word(unit.refund_state) if unit.refund_state else _("settled")
        raise Conflict(
            _(
                "The refund of %(lpn)s is %(state)s already; grade it again to change the grade.",
                lpn=unit.lpn,
                state=state,
            )
        )
    if cases.partner_was_mailed(session, case) or not outbox.cancel(
        session, cases.case_mail_key(case)
    ):
        raise Conflict(
            _(
                "The partner was mailed about %(lpn)s already; grade it again "
                "instead (the case is updated and the partner mailed the new "
                "proposal).",
                lpn=unit.lpn,
            ),
        )
    events.record(
        session,
        actor,
        "case.withdrawn",
        case,
        before=CaseStatus.OPEN.value,
        after="withdrawn",
        unit_id=unit.id,
        reason="grade taken back at the station before the partner was mailed",
    )
    events.record(
        session,
        actor,
        "unit.grade_undone",
        unit,
        before=UnitStatus.GRADED.value,
        after=UnitStatus.RECEIVED.value,
        grade=unit.grade.value if unit.grade else None,
        case_id=case.id,
    )
    session.delete(case)
    webhooks.withdraw(
        session,
        "unit.graded",
        channel=unit.return_request.order.channel,
        key=graded_key(unit),
    )
    unit.status = UnitStatus.RECEIVED
    unit.grade = None
    unit.graded_at = None
    unit.refund_state = None
    unit.refund_minor = None
    session.flush()
    return unit


def waiting_for_grading(session: Session, site_id: int | None = None, limit: int = 50) -> list:
    """Received units not graded yet, oldest first (the station's work list)."""
    query = (
        session.query(Unit)
        .options(joinedload(Unit.product))
        .filter(Unit.status == UnitStatus.RECEIVED)
        # a partner's own returns are graded by the partner, where they are
        .filter(
            sa.or_(
                Unit.received_station.is_(None),
                Unit.received_station != PARTNER_PORTAL_STATION,
            )
        )
    )
    if site_id is not None:
        query = query.filter(Unit.site_id == site_id)
    query = query.order_by(Unit.received_at, Unit.id).limit(limit)
    return list(query)
