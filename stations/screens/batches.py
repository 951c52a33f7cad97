"""Batches (RTV shipments, destruction) and locations: lists, actions, printable documents."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from labels.batches import batch_pdf
from labels.bins import bin_labels_pdf, bin_labels_zpl
from stations.auth import current_actor, partner_scope, roles_required
from stations.htmx import file_response
from stations.nav import register
from stations.params import as_id
from warehouse import batches, locations
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput, NotFound
from warehouse.i18n import N_
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import (
    Batch,
    BatchKind,
    BatchStatus,
    BatchUnit,
    LocationKind,
    Partner,
    Role,
    Site,
)

bp = Blueprint("batches", __name__)
STATION = "batches"
register(
    _l("Batches"),
    "batches.index",
    {Role.SUPERVISOR, Role.PARTNER},
    _l("RTV shipments and destruction batches, packing lists, certificates"),
    order=60,
)
register(
    _l("Locations"),
    "batches.locations",
    {Role.SUPERVISOR},
    _l("Bins and pallets, their occupancy and labels"),
    order=65,
)
# What the flash says after an action, by the batch's status then.
STATUS_DONE = {
    BatchStatus.OPEN: N_("Batch %(number)s is open."),
    BatchStatus.PACKED: N_("Batch %(number)s is packed."),
    BatchStatus.SHIPPED: N_("Batch %(number)s is shipped."),
    BatchStatus.DESTROYED: N_("Batch %(number)s is destroyed."),
}


def _site_id() -> int | None:
    """A supervisor's site; None for admins and partners (who see across sites)."""
    return current_user.site_id if current_user.role == Role.SUPERVISOR else None


def _batch(batch_id: int) -> Batch:
    batch = batches.get_batch(db.session, batch_id, current_actor(STATION))
    if _site_id() is not None and batch.site_id != _site_id():
        raise NotFound(_("No such batch."))
    return batch


@bp.get("/batches/")
@roles_required(Role.SUPERVISOR, Role.PARTNER)
def index():
    query = sa.select(Batch).order_by(Batch.status != BatchStatus.OPEN, Batch.id.desc())
    if partner_scope() is not None:
        query = query.where(Batch.kind == BatchKind.RTV, Batch.partner_id == partner_scope())
    elif _site_id() is not None:
        query = query.where(Batch.site_id == _site_id())
    rows = list(db.session.scalars(query.limit(100)))
    counts = dict(
        db.session.execute(
            sa.select(BatchUnit.batch_id, sa.func.count())
            .where(BatchUnit.batch_id.in_([b.id for b in rows]))
            .group_by(BatchUnit.batch_id)
        ).all()
    )
    partners = dict(db.session.execute(sa.select(Partner.id, Partner.name)).all())
    return render_template("batches/index.html", batches=rows, counts=counts, partners=partners)


@bp.get("/batches/<int:batch_id>")
@roles_required(Role.SUPERVISOR, Role.PARTNER)
def show(batch_id: int):
    batch = _batch(batch_id)
    return render_template("batches/show.html", batch=batch, can_act=partner_scope() is None)


@bp.get("/batches/<int:batch_id>/document.pdf")
@roles_required(Role.SUPERVISOR, Role.PARTNER)
def document(batch_id: int):
    """The RTV packing list or the destruction certificate."""
    batch = _batch(batch_id)
    pdf = batch_pdf(batches.document(db.session, batch))
    return file_response(pdf, "application/pdf", f"{batch.number}.pdf", inline=True)


@bp.post("/batches/<int:batch_id>/<any(pack, ship, destroy):action>")
@roles_required(Role.SUPERVISOR)
def act(batch_id: int, action: str):
    """Pack, ship (carrier + tracking) or record destruction; refusals are flashed."""
    _batch(batch_id)
    actor = current_actor(STATION)
    try:
        if action == "pack":
            batch = batches.pack(db.session, batch_id, actor)
        elif action == "ship":
            batch = batches.ship(
                db.session,
                batch_id,
                request.form.get("carrier", ""),
                request.form.get("tracking", ""),
                actor,
            )
        else:
            batch = batches.destroy(db.session, batch_id, actor)
        db.session.commit()
        flash(_(STATUS_DONE[batch.status], number=batch.number), "ok")
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(error.message, "error")
    return redirect(url_for("batches.show", batch_id=batch_id), 303)


@bp.route("/locations/", methods=["GET", "POST"], endpoint="locations")
@roles_required(Role.SUPERVISOR)
def locations_page():
    """The site's bins with occupancy; a form adds one."""
    site_id = _site_id() or db.session.scalar(sa.select(Site.id).order_by(Site.id))
    form, error, status = {}, None, 200
    if request.method == "POST":
        form = {
            k: request.form.get(k, "").strip()
            for k in ("code", "kind", "capacity", "partner", "name")
        }
        try:
            location = locations.add_location(
                db.session,
                site_id=site_id,
                code=form["code"],
                kind=form["kind"],
                capacity=form["capacity"] or "50",
                partner_code=form["partner"] or None,
                name=form["name"],
                actor=current_actor(STATION),
            )
            db.session.commit()
            flash(_("Added %(code)s.", code=location.code), "ok")
            return redirect(url_for("batches.locations"), 303)
        except DomainError as failure:
            db.session.rollback()
            error, status = failure, 422
    rows = locations.site_locations(db.session, site_id) if site_id else []
    return (
        render_template(
            "locations/index.html",
            rows=rows,
            kinds=[k.value for k in LocationKind],
            form=form,
            error=error,
        ),
        status,
    )


@bp.get("/locations/labels.<any(pdf, zpl):fmt>")
@roles_required(Role.SUPERVISOR)
def location_labels(fmt: str):
    """Labels of the chosen locations (?id=1&id=2), or of every location of the site."""
    site_id = _site_id()
    ids = [as_id(i) for i in request.args.getlist("id")]
    if None in ids:
        raise InvalidInput(_("each id must be a location number"), field="id")
    if ids:
        chosen = [locations.get_location(db.session, i, site_id) for i in ids]
    else:
        site = site_id or db.session.scalar(sa.select(Site.id).order_by(Site.id))
        chosen = [row for row, _count in locations.site_locations(db.session, site)]
    labels = [locations.label_of(db.session, row) for row in chosen]
    if fmt == "zpl":
        return Response(bin_labels_zpl(labels), mimetype="text/plain; charset=utf-8")
    return Response(bin_labels_pdf(labels), mimetype="application/pdf")
