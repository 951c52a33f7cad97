"""The receiving station (SPEC 3.2, 5): one scan field; parcel card; units confirmed and labelled.

The scan field answers everything: a parcel code (RMA, return tracking, order, outbound tracking,
unit LPN) opens the parcel card; with a card open, a product barcode confirms a unit (its label
prints at once); when the card asks for a serial number, the next scan is that serial. At a
one-person bench the unit just confirmed can be graded here too (scan a grade from the grade
sheet, after the checklist) and put away (scan its bin), so a unit goes from parcel to bin
without leaving the station. Every action is also a barcode (`stations.commands`).

The card's context (which parcel, the newest unit it showed, the current unit, the unit waiting
for a serial, the ticked checklist) travels in fields that belong to the scan form, so each
scan is judged against the card the operator sees. Every view answers an htmx request with the
`#parcel` partial and a plain form post with a 303 back to the station page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_login import current_user

from labels.return_label import return_label_pdf
from labels.sheets import barcode_sheet_pdf
from labels.unit_label import unit_label_pdf, unit_label_zpl, unit_labels_pdf
from stations import commands, nav
from stations.auth import current_actor, roles_required
from stations.commands import Command
from stations.extensions import htmx
from stations.htmx import Outcome, file_response, fragment_or_303, once_per_scan
from stations.params import id_param
from warehouse import codes, grading, grounds, printing, receiving, routing, withdrawals
from warehouse.cases import CaseLinks
from warehouse.checklists import CHECKLIST_LABELS, checklist_for
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.documents import forwarding_label_for, unit_label_for
from warehouse.errors import DomainError, InvalidInput, UnknownBarcode
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.i18n import ngettext
from warehouse.models import ReturnRequest, Role, Unit, UnitException, UnitStatus
from warehouse.vocabulary import GRADE_LABELS, REASON_LABELS, disposition_word

bp = Blueprint("receive", __name__, url_prefix="/receive")
STATION_ROLES = (Role.OPERATOR, Role.SUPERVISOR)
nav.register(
    _l("Receive"),
    "receive.station",
    set(STATION_ROLES),
    hint=_l("Scan parcels, check the deadline, confirm and label each unit"),
    order=10,
)
# Why a unit was flagged as it was confirmed, as the station's message starts.
FLAG_LABELS = {
    UnitException.WRONG_ITEM: _l("Wrong item"),
    UnitException.EXTRA: _l("Extra"),
    UnitException.DAMAGED_IN_TRANSIT: _l("Damaged in transit"),
    UnitException.FOREIGN: _l("Foreign"),
}


@dataclass
class Message:
    """What the station says about a scan, and how it went."""

    text: str
    kind: Outcome = Outcome.OK


@dataclass
class Bench:
    """The current unit at a one-person bench: its checklist as ticked, and after grading, the
    refund and the route."""

    unit: Unit
    checks: set[str] = field(default_factory=set)
    settlement: object | None = None
    plan: routing.Plan | None = None
    put_away: routing.PutAway | None = None


def _actor():
    return current_actor(station=f"receive:{current_user.id}")


def _card_context(parcel: int | ReturnRequest | None, **extra) -> dict:
    """What the `#parcel` partial needs to show one parcel (by id, or already loaded)."""
    context = {
        "rma": None,
        "serial_for": g.get("serial_for"),
        "search_offered": False,
        "reasons": REASON_LABELS,
        "bench": None,
        "checklist_labels": CHECKLIST_LABELS,
        "grade_labels": GRADE_LABELS,
        "printer": current_user.label_printer,
        **extra,
    }
    if parcel is None:
        return context
    rma = parcel if isinstance(parcel, ReturnRequest) else receiving.load_parcel(db.session, parcel)
    _at_this_site(rma.site_id)
    units_by_line: dict[int | None, list[Unit]] = {}
    for unit in rma.units:
        units_by_line.setdefault(unit.return_line_id, []).append(unit)
    context.update(
        rma=rma,
        verdict=receiving.verdict_of(rma),
        line_verdicts={line.id: receiving.line_verdict(rma, line) for line in rma.lines},
        units_by_line=units_by_line,
        seen=max((unit.id for unit in rma.units), default=0),
        forward=receiving.forwards_to_partner(rma),
        # A withdrawal's goods against Art. 14(1): late when they arrive after the notice + 14
        # days + the site's transit grace (the day they arrived, else today).
        goods_back=withdrawals.goods_back(
            rma, rma.received_on or local_date(utcnow(), rma.site.timezone)
        )
        if rma.withdrawal_id is not None
        else None,
        open_for_units=rma.receipt_closed_at is None and not receiving.forwards_to_partner(rma),
        expected=sum(line.quantity for line in rma.lines),
        confirmed=sum(1 for unit in rma.units if unit.slot is not None),
    )
    bench = context.get("bench")
    if bench is not None:
        context["unit"] = bench.unit
        context["checklist"] = checklist_for(
            bench.unit.product.category if bench.unit.product else None
        )
    return context


def _answer(
    context: dict, message: Message | None, *, status: int | None = None, print_url: str = ""
):
    """The `#parcel` partial for htmx (with its outcome), else a 303 back to the station page
    showing the same card. The view's transaction is committed after this, by `once_per_scan`,
    so the card is drawn from the objects already loaded."""
    kind = message.kind if message else Outcome.OK
    args = {}
    if context.get("rma") is not None:
        args["rma"] = context["rma"].id
    for key in ("unit", "serial_for"):
        if context.get(key) is not None:
            args[key] = context[key].id
    if context.get("search_offered"):
        args["search"] = 1
    response = fragment_or_303(
        lambda: render_template("receive/_parcel.html", message=message, **context),
        url_for("receive.station", **args),
        outcome=kind,
        message=message.text if message else None,
        status=status,
    )
    if print_url and htmx:
        response.headers["X-Print-Label"] = print_url
    return response


def _refusal(error: DomainError, rma_id: int | None, bench: Bench | None = None):
    db.session.rollback()
    search = isinstance(error, UnknownBarcode)
    if bench is not None:
        bench = _bench(bench.unit.id, bench.checks)
    try:
        context = _card_context(rma_id, search_offered=search, bench=bench)
    except DomainError:
        context = _card_context(None, search_offered=search)
    return _answer(context, Message(error.message, Outcome.ERROR), status=error.status)


def _bench(unit_id: int | None, checks: set[str]) -> Bench | None:
    """The current unit of the card, if any, with the checklist as ticked on it."""
    if unit_id is None:
        return None
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        return None
    _at_this_site(unit.site_id)
    return Bench(unit, set(checks))


@bp.get("/")
@roles_required(*STATION_ROLES)
def station():
    """The station page; `?rma=` shows that parcel's card (the target of the 303s)."""
    bench = serial_id = None
    message, status = None, 200
    try:
        rma_id, unit_id, serial_id = id_param("rma"), id_param("unit"), id_param("serial_for")
        bench = _bench(unit_id, set())
        context = _card_context(
            rma_id, search_offered=bool(request.args.get("search")), bench=bench
        )
    except DomainError as error:  # a stale or mistyped address: the empty station, and why
        context = _card_context(None)
        message, status, serial_id = Message(error.message, Outcome.ERROR), error.status, None
    if serial_id:
        context["serial_for"] = db.session.get(Unit, serial_id)
    return render_template("receive/station.html", message=message, **context), status


@bp.post("/scan")
@roles_required(*STATION_ROLES)
@once_per_scan
def scan():
    """One scan: a command, a serial (when asked), a grade or a bin for the current unit, a
    product barcode (card open) or a parcel code."""
    code = request.form.get("code", "").strip()
    rma_id = None
    bench = None
    try:
        rma_id, seen, serial_for = id_param("rma_id"), id_param("seen"), id_param("serial_for")
        bench = _bench(id_param("unit_id"), set(request.form.getlist("check")))
        if not code:
            raise InvalidInput(_("Scan a parcel, a product or a command."), field="code")
        actor = _actor()
        if serial_for is not None:
            g.serial_for = db.session.get(Unit, serial_for)
        scanned = commands.parse(code)
        if scanned is not None:
            return _command(scanned, rma_id, bench)
        if serial_for is not None:
            _check_serial(code, g.serial_for)
            unit = receiving.record_serial(db.session, serial_for, code, actor=actor)
            g.serial_for = None  # asked and answered
            message = (
                Message(
                    _(
                        "Serial %(serial)s does not match the one shipped: flagged.",
                        serial=unit.serial_number,
                    ),
                    Outcome.WARN,
                )
                if unit.serial_mismatch
                else Message(
                    _(
                        "Serial %(serial)s stored on %(lpn)s.",
                        serial=unit.serial_number,
                        lpn=unit.lpn,
                    )
                )
            )
            context = _card_context(unit.return_id, bench=Bench(unit, bench_checks(bench)))
            return _answer(context, message)
        grade = grading.parse_grade_barcode(code)
        if grade is not None:
            if bench is None:
                raise InvalidInput(_("Confirm a unit first, then scan its grade."), field="code")
            return _grade_here(rma_id, bench, grade)
        if rma_id is not None and codes.looks_like_gtin(code):
            return _confirm(rma_id, seen, gtin=code)
        if bench is not None and bench.unit.status == UnitStatus.GRADED:
            location = routing.find_location(db.session, code)
            if location is not None:
                return _put_away_here(rma_id, bench, location.code)
        result = receiving.scan_parcel(db.session, code, actor)
    except DomainError as error:
        return _refusal(error, rma_id, bench)
    if result.rma is not None:
        opened = None
        if result.via == "lpn":
            opened = db.session.query(Unit).filter_by(lpn=codes.normalise(code)).one_or_none()
        context = _card_context(result.rma, bench=Bench(opened) if opened else None)
        if context["forward"]:
            message = Message(
                _(
                    "%(rma)s opened. %(partner)s takes its returns directly: "
                    "do not unpack, forward this parcel.",
                    rma=result.rma.rma,
                    partner=result.rma.partner.name,
                ),
                Outcome.WARN,
            )
        else:
            message = Message(_("%(rma)s opened.", rma=result.rma.rma))
        return _answer(context, message)
    context = _card_context(None, result=result)
    if result.choices:
        message = Message(
            _("Order %(order)s has several open returns: pick one.", order=result.order.number),
            Outcome.WARN,
        )
    else:
        message = Message(
            _(
                "Order %(order)s has no announced return: unannounced parcel.",
                order=result.order.number,
            ),
            Outcome.WARN,
        )
    if not htmx:  # nothing was written: show the choice on the full page
        return render_template("receive/station.html", message=message, **context)
    return _answer(context, message)


def _check_serial(code: str, unit: Unit | None) -> None:
    """Refuse, as a serial number, a code that is plainly something else (a grade, a parcel,
    a licence plate): the operator skipped the serial, and the card still asks for it."""
    text = codes.normalise(code)
    if codes.is_station_code(text) or codes.RMA_SHAPE.match(text) or codes.LPN_SHAPE.match(text):
        if unit is not None:
            message = _(
                "That is not a serial number: scan the serial number / IMEI of %(lpn)s first.",
                lpn=unit.lpn,
            )
        else:
            message = _(
                "That is not a serial number: scan the serial number / IMEI of the unit first."
            )
        raise InvalidInput(message, field="code")


def bench_checks(bench: Bench | None) -> set[str]:
    """The checklist ticked on the card, kept across scans of the same unit."""
    return set(bench.checks) if bench is not None else set()


def _command(scanned: commands.Scanned, rma_id: int | None, bench: Bench | None):
    """A scanned (or tapped) command; refused when the card has nothing it could act on."""
    if scanned.check is not None or scanned.command == Command.CHECK_ALL:
        if bench is None:
            raise InvalidInput(
                _("Confirm a unit first; the checklist belongs to a unit."), field="code"
            )
        items = checklist_for(bench.unit.product.category if bench.unit.product else None)
        if scanned.command == Command.CHECK_ALL:
            bench.checks = set(items)
            text = _("All checks ticked.")
        elif scanned.check not in items:
            raise InvalidInput(
                _(
                    "%(check)s is not on this product's checklist.",
                    check=CHECKLIST_LABELS[scanned.check],
                ),
                field="code",
            )
        else:
            bench.checks ^= {scanned.check}
            label = CHECKLIST_LABELS[scanned.check]
            if scanned.check in bench.checks:
                text = _("%(check)s ticked.", check=label)
            else:
                text = _("%(check)s unticked.", check=label)
        return _answer(_card_context(rma_id or bench.unit.return_id, bench=bench), Message(text))
    command = scanned.command
    actor = _actor()
    if command == Command.NEXT:
        g.serial_for = None  # the operator moves on (a serial can be scanned later by LPN)
        return _answer(_card_context(rma_id), Message(_("Scan the next item.")))
    if command in (Command.REPRINT, Command.UNIT_DAMAGED) and bench is None:
        raise InvalidInput(_("Scan or confirm a unit first."), field="code")
    if rma_id is None and command not in (Command.REPRINT, Command.UNIT_DAMAGED):
        raise InvalidInput(_("Scan a parcel first."), field="code")
    if command == Command.CLOSE:
        return _close(rma_id)
    if command == Command.PARCEL_DAMAGED:
        receiving.mark_damaged(db.session, rma_id, actor=actor)
        return _answer(
            _card_context(rma_id, bench=bench),
            Message(_("Parcel marked as damaged in transit."), Outcome.WARN),
        )
    if command == Command.UNIT_DAMAGED:
        unit = receiving.flag_unit_damaged(db.session, bench.unit.id, actor=actor)
        return _answer(
            _card_context(unit.return_id, bench=bench),
            Message(_("%(lpn)s flagged as damaged in transit.", lpn=unit.lpn), Outcome.WARN),
        )
    if command == Command.UNDO:
        if bench is not None and bench.unit.status == UnitStatus.GRADED:
            unit = grading.undo_grade(db.session, actor, bench.unit.id)
            return _answer(
                _card_context(unit.return_id, bench=Bench(unit, bench.checks)),
                Message(
                    _("Grade of %(lpn)s taken back: grade it again.", lpn=unit.lpn), Outcome.WARN
                ),
            )
        undone = receiving.undo_last(db.session, rma_id, actor=actor)
        keep = bench if bench is not None and bench.unit.lpn != undone.lpn else None
        return _answer(
            _card_context(rma_id, bench=keep),
            Message(_("Undone: %(what)s.", what=undone.what), Outcome.WARN),
        )
    if command == Command.REPRINT:
        return _print([bench.unit], rma_id or bench.unit.return_id, bench)
    if command == Command.PRINT_ALL:
        rma = receiving.load_parcel(db.session, rma_id)
        if not rma.units:
            raise InvalidInput(_("No unit of this parcel has a label yet."), field="code")
        return _print(list(rma.units), rma_id, bench)
    raise InvalidInput(
        _("%(command)s is not a receiving command.", command=command.value), field="code"
    )


def _print(
    units: list[Unit],
    rma_id: int,
    bench: Bench | None,
    message: Message | None = None,
    *,
    context: dict | None = None,
):
    """Print labels: on the user's label printer (a background job), else by the browser."""
    printer = current_user.label_printer
    context = context or _card_context(rma_id, bench=bench)
    if printer is not None:
        for unit in units:
            printing.request_print(db.session, unit, printer, _actor())
        text = ngettext(
            "%(num)s label printing on %(printer)s.",
            "%(num)s labels printing on %(printer)s.",
            len(units),
            printer=printer.name,
        )
        return _answer(context, _with(message, text))
    if len(units) == 1:
        url = url_for("receive.unit_label", lpn=units[0].lpn)
    else:
        url = url_for("receive.parcel_labels", rma_id=rma_id)
    text = ngettext(
        "Printing %(num)s label from this screen.",
        "Printing %(num)s labels from this screen.",
        len(units),
    )
    return _answer(context, _with(message, text), print_url=url)


def _with(message: Message | None, text: str) -> Message:
    """The scan's own message with what was printed added, or just that."""
    if message is None:
        return Message(text)
    return Message(f"{message.text} {text}", message.kind)


def _confirm(rma_id: int, seen: int | None, *, gtin=None, line_id=None):
    try:
        done = receiving.confirm_unit(
            db.session, rma_id, actor=_actor(), gtin=gtin, line_id=line_id, seen_unit_id=seen
        )
        db.session.flush()
    except DomainError as error:
        return _refusal(error, rma_id)
    unit = done.unit
    bench = Bench(unit)
    if done.repeated:
        message = Message(
            _("Already confirmed as %(lpn)s (same scan again): nothing added.", lpn=unit.lpn)
        )
    elif unit.exception is not None:
        label = (
            FLAG_LABELS.get(unit.exception) or unit.exception.value.replace("_", " ").capitalize()
        )
        message = Message(
            _(
                "%(flag)s: labelled %(lpn)s and flagged. Wrong scan? Undo it.",
                flag=label,
                lpn=unit.lpn,
            ),
            Outcome.WARN,
        )
    else:
        title = unit.product.title if unit.product else _("Unit")
        message = Message(
            _(
                "%(title)s: unit %(slot)s confirmed as %(lpn)s.",
                title=title,
                slot=unit.slot,
                lpn=unit.lpn,
            )
        )
    context = _card_context(done.parcel, bench=bench)
    if done.needs_serial and not done.repeated:
        context["serial_for"] = unit
        message.text += " " + _("Now scan its serial number / IMEI.")
    if done.repeated:
        return _answer(context, message)
    return _print([unit], rma_id, bench, message, context=context)


def _close(rma_id: int):
    rma = receiving.close_parcel(db.session, rma_id, actor=_actor())
    missing = sum(line.missing_quantity for line in rma.lines)
    message = (
        Message(
            ngettext(
                "%(rma)s closed with %(num)s unit missing: flagged.",
                "%(rma)s closed with %(num)s units missing: flagged.",
                missing,
                rma=rma.rma,
            ),
            Outcome.WARN,
        )
        if missing
        else Message(_("%(rma)s closed: complete.", rma=rma.rma))
    )
    return _answer(_card_context(rma_id), message)


def _grade_here(rma_id: int | None, bench: Bench, grade):
    """Grade the current unit at this bench with the checklist as ticked on the card.

    A unit graded a moment ago shows no checklist any more: a second grade scan keeps its
    stored checklist, and the same grade again (a double read) changes nothing.
    """
    if bench.unit.status == UnitStatus.GRADED:
        if bench.unit.grade == grade:
            unit = grading.get_unit(db.session, bench.unit.id, site_id=current_user.site_id)
            again = Bench(
                unit, bench.checks, plan=routing.plan(db.session, unit.lpn, current_actor("route"))
            )
            text = _(
                "%(lpn)s is graded %(grade)s already: nothing changed.",
                lpn=unit.lpn,
                grade=GRADE_LABELS[grade],
            )
            return _answer(_card_context(rma_id or unit.return_id, bench=again), Message(text))
        bench.checks = {item for item, done in (bench.unit.checklist or {}).items() if done}
    settlement = grading.grade_unit(
        db.session,
        current_actor("grade"),
        bench.unit.id,
        grade=grade,
        checklist=bench.checks,
        links=CaseLinks.from_settings(current_app.config),
        hold_case_mail_until=_undo_deadline(),
    )
    unit = grading.get_unit(db.session, bench.unit.id, site_id=current_user.site_id)
    bench = Bench(unit, bench.checks, settlement=settlement)
    bench.plan = routing.plan(db.session, unit.lpn, current_actor("route"))
    text = _(
        "%(lpn)s graded %(grade)s: %(note)s.",
        lpn=unit.lpn,
        grade=GRADE_LABELS[grade],
        note=grounds.retell(settlement.note),
    )
    if bench.plan.target is not None:
        text += " " + _("Put it in %(bin)s: scan the bin.", bin=bench.plan.target.code)
    rejected = settlement.refund_state is not None and settlement.refund_state.value == "rejected"
    kind = Outcome.WARN if rejected else Outcome.OK
    return _answer(_card_context(rma_id or unit.return_id, bench=bench), Message(text, kind))


def _put_away_here(rma_id: int | None, bench: Bench, location_code: str):
    done = routing.put_away(db.session, bench.unit.lpn, location_code, current_actor("route"))
    if done.repeated:
        text = _("%(lpn)s is already in %(bin)s.", lpn=done.unit.lpn, bin=done.location.code)
    else:
        text = _(
            "Put away: %(lpn)s → %(bin)s (%(disposition)s). Scan the next item.",
            lpn=done.unit.lpn,
            bin=done.location.code,
            disposition=disposition_word(done.disposition),
        )
    return _answer(_card_context(rma_id or done.unit.return_id), Message(text))


def _undo_deadline() -> dt.datetime:
    """Until when a case's mail waits, so the grade can still be taken back at the station."""
    return utcnow() + dt.timedelta(seconds=current_app.config["GRADE_UNDO_SECONDS"])


@bp.post("/<int:rma_id>/lines/<int:line_id>/confirm")
@roles_required(*STATION_ROLES)
@once_per_scan
def confirm(rma_id: int, line_id: int):
    """The big tap button: confirm one unit of a line without scanning its barcode."""
    try:
        seen = id_param("seen")
    except DomainError as error:
        return _refusal(error, rma_id)
    return _confirm(rma_id, seen, line_id=line_id)


@bp.post("/<int:rma_id>/damaged")
@roles_required(*STATION_ROLES)
@once_per_scan
def damaged(rma_id: int):
    """The parcel arrived damaged in transit."""
    try:
        receiving.mark_damaged(db.session, rma_id, actor=_actor())
    except DomainError as error:
        return _refusal(error, rma_id)
    return _answer(
        _card_context(rma_id), Message(_("Parcel marked as damaged in transit."), Outcome.WARN)
    )


@bp.post("/units/<int:unit_id>/damaged")
@roles_required(*STATION_ROLES)
@once_per_scan
def unit_damaged(unit_id: int):
    """One unit was damaged in transit."""
    try:
        unit = receiving.flag_unit_damaged(db.session, unit_id, actor=_actor())
    except DomainError as error:
        return _refusal(error, None)
    return _answer(
        _card_context(unit.return_id, bench=Bench(unit)),
        Message(_("%(lpn)s flagged as damaged in transit.", lpn=unit.lpn), Outcome.WARN),
    )


@bp.post("/units/<int:unit_id>/undo/<any(damaged, unit):what>")
@roles_required(*STATION_ROLES)
@once_per_scan
def undo_unit(unit_id: int, what: str):
    """Take back a flag on one unit, or the unit itself (confirmed by mistake)."""
    unit = db.session.get(Unit, unit_id) or abort(404)
    _at_this_site(unit.site_id)
    rma_id = unit.return_id
    try:
        if what == "damaged":
            undone = receiving.clear_unit_damaged(db.session, unit_id, actor=_actor())
        else:
            undone = receiving.remove_unit(db.session, unit_id, actor=_actor())
    except DomainError as error:
        return _refusal(error, rma_id)
    return _answer(
        _card_context(rma_id), Message(_("Undone: %(what)s.", what=undone.what), Outcome.WARN)
    )


@bp.post("/<int:rma_id>/undo/damaged")
@roles_required(*STATION_ROLES)
@once_per_scan
def undo_damaged(rma_id: int):
    """Take back "parcel damaged"."""
    try:
        undone = receiving.clear_parcel_damaged(db.session, rma_id, actor=_actor())
    except DomainError as error:
        return _refusal(error, rma_id)
    return _answer(
        _card_context(rma_id), Message(_("Undone: %(what)s.", what=undone.what), Outcome.WARN)
    )


@bp.post("/<int:rma_id>/close")
@roles_required(*STATION_ROLES)
@once_per_scan
def close(rma_id: int):
    """Finish the parcel: expected units not confirmed are declared missing."""
    try:
        return _close(rma_id)
    except DomainError as error:
        return _refusal(error, rma_id)


@bp.post("/shipments/<int:shipment_id>/unannounced")
@roles_required(*STATION_ROLES)
@once_per_scan
def unannounced(shipment_id: int):
    """Create the RMA on the spot for a parcel nobody announced."""
    site_id = current_user.site_id
    try:
        if site_id is None:
            raise InvalidInput(_("your user has no site; ask a supervisor to set one"))
        rma = receiving.create_unannounced(db.session, shipment_id, actor=_actor(), site_id=site_id)
    except DomainError as error:
        return _refusal(error, None)
    return _answer(
        _card_context(rma.id),
        Message(
            _("%(rma)s created for this unannounced parcel (flagged).", rma=rma.rma), Outcome.WARN
        ),
    )


@bp.get("/search")
@roles_required(*STATION_ROLES)
def search():
    """Find a parcel's order by order number, tracking number or the customer's email."""
    text = request.args.get("q", "")
    orders = receiving.search(db.session, text) if text.strip() else []
    template = "receive/_search.html" if htmx else "receive/search.html"
    return render_template(template, q=text, orders=orders)


def _at_this_site(site_id: int) -> None:
    """404 for a record of another site: a station only reaches its own site's parcels."""
    if current_user.site_id is not None and site_id != current_user.site_id:
        abort(404)


def _unit_for_label(lpn: str) -> Unit:
    unit = db.session.query(Unit).filter_by(lpn=lpn).one_or_none()
    if unit is None:
        abort(404)
    _at_this_site(unit.site_id)
    return unit


@bp.get("/units/<lpn>/label.pdf")
@roles_required(*STATION_ROLES)
def unit_label(lpn: str):
    """The unit's LPN label, 100 x 50 mm PDF."""
    pdf = unit_label_pdf(unit_label_for(_unit_for_label(lpn)))
    return file_response(pdf, "application/pdf", f"{lpn}.pdf", inline=True)


@bp.get("/units/<lpn>/label.zpl")
@roles_required(*STATION_ROLES)
def unit_label_thermal(lpn: str):
    """The unit's LPN label as ZPL for a thermal printer."""
    zpl = unit_label_zpl(unit_label_for(_unit_for_label(lpn)))
    return file_response(zpl, "application/vnd.zebra-zpl", f"{lpn}.zpl")


@bp.get("/<int:rma_id>/labels.pdf")
@roles_required(*STATION_ROLES)
def parcel_labels(rma_id: int):
    """Every unit label of the parcel in one PDF, a label a page."""
    rma = receiving.load_parcel(db.session, rma_id)
    _at_this_site(rma.site_id)
    if not rma.units:
        abort(404)
    pdf = unit_labels_pdf([unit_label_for(unit) for unit in rma.units])
    return file_response(pdf, "application/pdf", f"labels-{rma.rma}.pdf", inline=True)


@bp.get("/<int:rma_id>/forwarding.pdf")
@roles_required(*STATION_ROLES)
def forwarding_label(rma_id: int):
    """The forwarding label for a parcel whose partner takes returns directly."""
    rma = receiving.load_parcel(db.session, rma_id)
    _at_this_site(rma.site_id)
    if not receiving.forwards_to_partner(rma):
        abort(404)
    pdf = return_label_pdf(forwarding_label_for(rma))
    return file_response(pdf, "application/pdf", f"forward-{rma.rma}.pdf", inline=True)


@bp.get("/commands.pdf")
@roles_required(*STATION_ROLES)
def command_sheet():
    """The receiving station's command sheet: every action as a barcode."""
    pdf = barcode_sheet_pdf(
        _("Receiving commands"),
        _("Scan a parcel, its items, then these. Grades come from the grade sheet."),
        commands.sheet_rows("receive"),
    )
    return file_response(pdf, "application/pdf", "receiving-commands.pdf", inline=True)
