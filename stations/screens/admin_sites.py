"""Sites and return addresses (admins): the returns centres, and for each served country the
site its parcels end up at and the address its customers' labels carry (the site's own or a
consolidation point that forwards to it)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for

from stations.auth import current_actor, roles_required
from warehouse import sites
from warehouse.db import db
from warehouse.errors import DomainError
from warehouse.i18n import gettext as _
from warehouse.models import Country, Event, Role, Site
from warehouse.reference import COUNTRIES

bp = Blueprint("admin_sites", __name__, url_prefix="/admin/sites")


def _page(error: DomainError | None = None, form=None, status: int = 200):
    return render_template(
        "admin/sites.html",
        sites=list(db.session.scalars(sa.select(Site).order_by(Site.code))),
        countries=list(db.session.scalars(sa.select(Country).order_by(Country.code))),
        served=[info.code for info in COUNTRIES],
        error=error,
        form=form or {},
        history=_history(),
    ), status


def _history(limit: int = 50) -> list[Event]:
    """The latest changes to sites and where countries' returns go."""
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(Event.subject_type == "site")
            .order_by(Event.id.desc())
            .limit(limit)
        )
    )


@bp.get("")
@roles_required(Role.ADMIN)
def index():
    """Sites, countries and their return addresses."""
    return _page()


@bp.post("")
@roles_required(Role.ADMIN)
def create():
    """Add a site."""
    form = request.form
    try:
        site = sites.create_site(
            db.session,
            current_actor("admin"),
            {
                "code": form.get("code", ""),
                "name": form.get("name", ""),
                "timezone": form.get("timezone", ""),
                "country": form.get("country", ""),
                "address": form.get("address", ""),
            },
        )
    except DomainError as error:
        db.session.rollback()
        return _page(error, form, 400)
    db.session.commit()
    flash(_("Site %(code)s created.", code=site.code), "ok")
    return redirect(url_for("admin_sites.index"), 303)


@bp.post("/countries/<code>")
@roles_required(Role.ADMIN)
def country(code: str):
    """Where one country's returns go."""
    try:
        found = sites.set_country_return(
            db.session,
            current_actor("admin"),
            code,
            {
                "site": request.form.get("site", ""),
                "return_address": request.form.get("return_address", ""),
            },
        )
    except DomainError as error:
        db.session.rollback()
        if error.status == 404 and error.field == "country":
            raise
        return _page(error, request.form, 400)
    db.session.commit()
    flash(_("%(country)s: returns go to %(site)s.", country=found.name, site=found.site.code), "ok")
    return redirect(url_for("admin_sites.index"), 303)
