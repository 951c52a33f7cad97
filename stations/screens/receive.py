"""The receiving station (SPEC 3.2, 5): one scan field; parcel card; units confirmed and labelled.

The scan field answers everything: a parcel code (RMA, return tracking, order, outbound tracking,
unit LPN) opens the parcel card; with a card open, a product barcode confirms a unit; when the
card asks for a serial number, the next scan is that serial. The card's context (which parcel,
the newest unit it showed, the unit waiting for a serial) travels in hidden fields that belong
to the scan form, so a repeated request is recognised and answered with the same result.

Every view answers an htmx request with the `#parcel` partial and a plain form post with a 303
back to the station page, so the station also works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from labels.return_label import return_label_pdf
from labels.unit_label import unit_label_pdf, unit_label_zpl
from stations import nav
from stations.auth import current_actor, roles_required
from stations.extensions import htmx
from stations.htmx import file_response, fragment_or_303
from warehouse import codes, receiving
from warehouse.announcements import REASON_LABELS
from warehouse.db import db
from warehouse.documents import forwarding_label_for, unit_label_for
from warehouse.errors import DomainError, InvalidInput, UnknownBarcode
from warehouse.models import ReturnRequest, Role, Unit

bp = Blueprint("receive", __name__, url_prefix="/receive")
STATION_ROLES = (Role.OPERATOR, Role.SUPERVISOR)
nav.register(
    "Receive",
    "receive.station",
    set(STATION_ROLES),
    hint="Scan parcels, check the deadline, confirm and label each unit",
    order=10,
)


@dataclass
class Message:
    text: str
    kind: str = "ok"  # ok | warn | error


def _actor():
    return current_actor(station=f"receive:{current_user.id}")


def _int(name: str) -> int | None:
    value = request.values.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(f"{name} must be a number", field=name)
    return int(value)


def _card_context(parcel: int | ReturnRequest | None, **extra) -> dict:
    """What the `#parcel` partial needs to show one parcel (by id, or already loaded)."""
    context = {"rma": None, "search_offered": False, "reasons": REASON_LABELS, **extra}
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
        open_for_units=rma.receipt_closed_at is None and not receiving.forwards_to_partner(rma),
        expected=sum(line.quantity for line in rma.lines),
        confirmed=sum(1 for unit in rma.units if unit.slot is not None),
    )
    return context


def _answer(context: dict, message: Message | None, *, status: int | None = None):
    """The `#parcel` partial for htmx (with the ok / error signal), else a 303 back to the
    station page showing the same card.

    Commits the request's transaction after rendering, so the card is drawn from the objects
    already loaded instead of reloading them all after the commit expired them.
    """
    ok = message is None or message.kind != "error"
    args = {}
    if context.get("rma") is not None:
        args["rma"] = context["rma"].id
    for key in ("unit", "serial_for"):
        if context.get(key) is not None:
            args[key] = context[key].id
    if context.get("search_offered"):
        args["search"] = 1
    return fragment_or_303(
        lambda: render_template("receive/_parcel.html", message=message, **context),
        url_for("receive.station", **args),
        ok=ok,
        message=message.text if message else None,
        status=status,
        after_render=db.session.commit,
    )


def _refusal(error: DomainError, rma_id: int | None):
    db.session.rollback()
    search = isinstance(error, UnknownBarcode)
    try:
        context = _card_context(rma_id, search_offered=search)
    except DomainError:
        context = _card_context(None, search_offered=search)
    return _answer(context, Message(error.message, "error"), status=error.status)


@bp.get("/")
@roles_required(*STATION_ROLES)
def station():
    """The station page; `?rma=` shows that parcel's card (the target of the 303s)."""
    rma_id = request.args.get("rma", type=int)
    unit_id = request.args.get("unit", type=int)
    serial_id = request.args.get("serial_for", type=int)
    try:
        context = _card_context(rma_id, search_offered=bool(request.args.get("search")))
    except DomainError:
        context = _card_context(None)
    if unit_id:
        context["unit"] = db.session.get(Unit, unit_id)
    if serial_id:
        context["serial_for"] = db.session.get(Unit, serial_id)
    return render_template("receive/station.html", message=None, **context)


@bp.post("/scan")
@roles_required(*STATION_ROLES)
def scan():
    """One scan: a serial (when asked), a product barcode (card open) or a parcel code."""
    code = request.form.get("code", "")
    rma_id = seen = None
    try:
        rma_id, seen, serial_for = _int("rma_id"), _int("seen"), _int("serial_for")
        actor = _actor()
        if serial_for is not None and code.strip():
            unit = receiving.record_serial(db.session, serial_for, code, actor=actor)
            message = (
                Message(
                    f"Serial {unit.serial_number} does not match the one shipped: flagged.", "warn"
                )
                if unit.serial_mismatch
                else Message(f"Serial {unit.serial_number} stored on {unit.lpn}.")
            )
            return _answer(_card_context(unit.return_id, unit=unit), message)
        if rma_id is not None and codes.looks_like_gtin(code):
            return _confirm(rma_id, seen, gtin=code)
        result = receiving.scan_parcel(db.session, code, actor)
    except DomainError as error:
        return _refusal(error, rma_id)
    if result.rma is not None:
        return _answer(_card_context(result.rma), Message(f"{result.rma.rma} opened."))
    context = _card_context(None, result=result)
    if result.choices:
        message = Message(
            f"Order {result.order.number} has several open returns: pick one.", "warn"
        )
    else:
        message = Message(
            f"Order {result.order.number} has no announced return: unannounced parcel.", "warn"
        )
    if not htmx:  # nothing was written: show the choice on the full page
        return render_template("receive/station.html", message=message, **context)
    return _answer(context, message)


def _confirm(rma_id: int, seen: int | None, *, gtin=None, line_id=None):
    try:
        done = receiving.confirm_unit(
            db.session, rma_id, actor=_actor(), gtin=gtin, line_id=line_id, seen_unit_id=seen
        )
        db.session.flush()
    except DomainError as error:
        return _refusal(error, rma_id)
    unit = done.unit
    if done.repeated:
        message = Message(f"Already confirmed as {unit.lpn} (same scan again): nothing added.")
    elif unit.exception is not None:
        label = unit.exception.value.replace("_", " ")
        message = Message(f"{label.capitalize()}: labelled {unit.lpn} and flagged.", "warn")
    else:
        title = unit.product.title if unit.product else "Unit"
        message = Message(f"{title}: unit {unit.slot} confirmed as {unit.lpn}.")
    context = _card_context(rma_id, unit=unit)
    if done.needs_serial and not done.repeated:
        context["serial_for"] = unit
        message.text += " Now scan its serial number / IMEI."
    return _answer(context, message)


@bp.post("/<int:rma_id>/lines/<int:line_id>/confirm")
@roles_required(*STATION_ROLES)
def confirm(rma_id: int, line_id: int):
    """The big tap button: confirm one unit of a line without scanning its barcode."""
    try:
        seen = _int("seen")
    except DomainError as error:
        return _refusal(error, rma_id)
    return _confirm(rma_id, seen, line_id=line_id)


@bp.post("/<int:rma_id>/damaged")
@roles_required(*STATION_ROLES)
def damaged(rma_id: int):
    """The parcel arrived damaged in transit."""
    try:
        receiving.mark_damaged(db.session, rma_id, actor=_actor())
    except DomainError as error:
        return _refusal(error, rma_id)
    return _answer(_card_context(rma_id), Message("Parcel marked as damaged in transit.", "warn"))


@bp.post("/units/<int:unit_id>/damaged")
@roles_required(*STATION_ROLES)
def unit_damaged(unit_id: int):
    """One unit was damaged in transit."""
    try:
        unit = receiving.flag_unit_damaged(db.session, unit_id, actor=_actor())
    except DomainError as error:
        return _refusal(error, None)
    return _answer(
        _card_context(unit.return_id, unit=unit),
        Message(f"{unit.lpn} flagged as damaged in transit.", "warn"),
    )


@bp.post("/<int:rma_id>/close")
@roles_required(*STATION_ROLES)
def close(rma_id: int):
    """Finish the parcel: expected units not confirmed are declared missing."""
    try:
        rma = receiving.close_parcel(db.session, rma_id, actor=_actor())
    except DomainError as error:
        return _refusal(error, rma_id)
    missing = sum(line.missing_quantity for line in rma.lines)
    message = (
        Message(f"{rma.rma} closed with {missing} unit(s) missing: flagged.", "warn")
        if missing
        else Message(f"{rma.rma} closed: complete.")
    )
    return _answer(_card_context(rma_id), message)


@bp.post("/shipments/<int:shipment_id>/unannounced")
@roles_required(*STATION_ROLES)
def unannounced(shipment_id: int):
    """Create the RMA on the spot for a parcel nobody announced."""
    site_id = current_user.site_id
    try:
        if site_id is None:
            raise InvalidInput("your user has no site; ask a supervisor to set one")
        rma = receiving.create_unannounced(db.session, shipment_id, actor=_actor(), site_id=site_id)
        db.session.commit()
    except DomainError as error:
        return _refusal(error, None)
    return _answer(
        _card_context(rma.id),
        Message(f"{rma.rma} created for this unannounced parcel (flagged).", "warn"),
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
