"""The to-customer station: repaired, replacement, exchanged and refused items leave for their
customers. Scan a parcel code or the unit's LPN, print the label, pack, scan the carrier's
tracking number (and, for a repair, say what was repaired), ship."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from labels.return_label import return_label_pdf
from stations.auth import current_actor, roles_required
from stations.htmx import Outcome, file_response, fragment_or_303, once_per_scan
from stations.nav import register
from warehouse import dispatch, i18n
from warehouse.db import db
from warehouse.documents import parcel_label_for
from warehouse.errors import DomainError, InvalidInput
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Role

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")
STATION = "dispatch"
ROLES = (Role.OPERATOR, Role.SUPERVISOR)
register(
    _l("To customer"),
    "dispatch.index",
    set(ROLES),
    _l("Repaired, replacement and refused items back to their customers"),
    order=45,
)


def _site_id() -> int | None:
    return current_user.site_id


@bp.get("/")
@roles_required(*ROLES)
def index():
    """The station page; `?code=` opens that parcel (the target of the 303s)."""
    parcel = error = None
    code = request.args.get("code", "").strip()
    if code:
        try:
            parcel = dispatch.find_parcel(db.session, code, current_actor(STATION))
        except DomainError as refused:
            error = refused
    return render_template(
        "dispatch/index.html",
        parcel=parcel,
        shipped=None,
        error=error,
        waiting=dispatch.waiting_parcels(db.session, _site_id()),
        purposes=dispatch.PURPOSE_LABELS,
    )


@bp.post("/scan")
@roles_required(*ROLES)
@once_per_scan
def scan():
    """A parcel code or an LPN opens the parcel to pack."""
    code = request.form.get("code", "").strip()
    try:
        if not code:
            raise InvalidInput(_("Scan a parcel code (CP-…) or the unit's LPN."), field="code")
        parcel = dispatch.find_parcel(db.session, code, current_actor(STATION))
    except DomainError as error:
        return _answer(None, None, error)
    return _answer(parcel, None, None)


@bp.post("/<code>/ship")
@roles_required(*ROLES)
@once_per_scan
def ship(code: str):
    """The parcel leaves with the carrier's tracking number (a repair: with its note)."""
    actor = current_actor(STATION)
    try:
        shipped = dispatch.ship(
            db.session,
            actor,
            code,
            tracking_number=request.form.get("tracking_number", ""),
            repair_note=request.form.get("repair_note", ""),
        )
    except DomainError as error:
        db.session.rollback()
        try:
            parcel = dispatch.find_parcel(db.session, code, actor)
        except DomainError:
            parcel = None
        return _answer(parcel, None, error)
    return _answer(None, shipped, None)


@bp.get("/<code>/label.pdf")
@roles_required(*ROLES)
def label(code: str):
    """The parcel's address label (A4 PDF, its code as the barcode)."""
    parcel = dispatch.find_parcel(db.session, code, current_actor(STATION))
    with i18n.reading(parcel.order.language):  # it travels with the customer's goods
        pdf = return_label_pdf(parcel_label_for(parcel))
    return file_response(pdf, "application/pdf", f"{parcel.code}.pdf", inline=True)


def _answer(parcel, shipped, error):
    if error is not None:
        message = error.message
    elif shipped is not None:
        message = _(
            "%(parcel)s shipped to %(customer)s.",
            parcel=shipped.code,
            customer=shipped.order.customer_name,
        )
    else:
        message = None
    args = {"code": parcel.code} if parcel is not None else {}
    return fragment_or_303(
        lambda: render_template(
            "dispatch/_result.html",
            parcel=parcel,
            shipped=shipped,
            error=error,
            purposes=dispatch.PURPOSE_LABELS,
        ),
        url_for("dispatch.index", **args),
        outcome=Outcome.OK if error is None else Outcome.ERROR,
        message=message,
        status=(error.status if error.status in (404, 409) else 422) if error else None,
    )
