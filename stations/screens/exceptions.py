"""The exceptions queue: every flagged parcel and unit of the site in one list, with the actions
that resolve each and the reason recorded."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from stations import nav
from stations.auth import current_actor, roles_required, staff_site
from stations.params import page_number
from stations.screens.overview import PAGE
from warehouse import exceptions, routing
from warehouse.db import db
from warehouse.errors import DomainError
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import ExceptionKind, ExceptionStatus, Role
from warehouse.vocabulary import EXCEPTION_KIND_LABELS, RESOLUTION_LABELS

bp = Blueprint("exceptions", __name__, url_prefix="/exceptions")

nav.register(
    _l("Exceptions"), "exceptions.index", {Role.SUPERVISOR}, _l("Flagged parcels and units"), 38
)


@bp.get("")
@roles_required(Role.SUPERVISOR)
def index():
    """The queue, oldest first, filtered by kind and status."""
    problem = None
    try:
        filters = exceptions.Filters.parse(
            kind=request.args.get("kind", ""),
            status=request.args.get("status", ""),
            site_id=staff_site(),
        )
    except DomainError as error:
        problem = error.message
        filters = exceptions.Filters(site_id=staff_site())
    page = page_number()
    rows, total = exceptions.queue(db.session, filters, limit=PAGE, offset=(page - 1) * PAGE)
    return render_template(
        "exceptions/index.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        filters=filters,
        kinds=list(ExceptionKind),
        statuses=list(ExceptionStatus),
        labels=EXCEPTION_KIND_LABELS,
        problem=problem,
    ), (400 if problem else 200)


def _page(row, *, error: DomainError | None = None, status: int = 200):
    return render_template(
        "exceptions/detail.html",
        row=row,
        labels=EXCEPTION_KIND_LABELS,
        resolutions=[
            (choice, RESOLUTION_LABELS[choice]) for choice in exceptions.RESOLUTIONS[row.kind]
        ],
        error=error,
        form=request.form,
    ), status


@bp.get("/<int:exception_id>")
@roles_required(Role.SUPERVISOR)
def detail(exception_id: int):
    """One exception with the actions that resolve it."""
    row = exceptions.get_exception(db.session, exception_id, site_id=staff_site(), partner_id=None)
    return _page(row)


@bp.post("/<int:exception_id>/resolve")
@roles_required(Role.SUPERVISOR)
def resolve(exception_id: int):
    """Resolve it; the note says why. A refusal shows the form again, naming the problem."""
    actor = current_actor("exceptions")
    try:
        row = exceptions.resolve(
            db.session,
            actor,
            exception_id,
            resolution=request.form.get("resolution", ""),
            note=request.form.get("note", ""),
            site_id=staff_site(),
            quarantine_unit=lambda unit: routing.quarantine(db.session, actor, unit),
        )
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        row = exceptions.get_exception(
            db.session, exception_id, site_id=staff_site(), partner_id=None
        )
        return _page(row, error=error, status=error.status)
    db.session.commit()
    flash(
        _(
            "Exception #%(id)s resolved: %(resolution)s.",
            id=row.id,
            resolution=RESOLUTION_LABELS[row.resolution],
        ),
        "ok",
    )
    return redirect(url_for("exceptions.index"), 303)
