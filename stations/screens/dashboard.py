"""The supervisor's dashboards (SPEC 8): return rates, reasons, grades, time per stage,
throughput, refund timeliness, the partner scorecard and money recovered by resale, over a
period, for a site, partner and category; every table also as CSV. The charts are drawn in the
browser from the same figures the tables show."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from stations import nav
from stations.auth import roles_required, staff_site
from stations.dashboards import STAFF_FILTERS, TABLES, link_args, scope_from, table_csv
from warehouse import figures
from warehouse.db import db, utcnow
from warehouse.errors import DomainError
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Category, Partner, Role, Site

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

nav.register(
    _l("Dashboard"), "dashboard.index", {Role.SUPERVISOR}, _l("Figures, charts, scorecard"), 37
)


def _figures():
    """The dashboard for this request's filters (a supervisor sees their own site)."""
    now = utcnow()
    args = request.args.to_dict()
    site = staff_site()
    if site is not None:
        args.pop("site", None)
    scope, today = scope_from(args, now=now, partner_id=None, site_id=site)
    return figures.dashboard(db.session, scope, today=today, now=now), scope


@bp.get("")
@roles_required(Role.SUPERVISOR)
def index():
    """Filters, charts and tables."""
    problem = None
    try:
        data, scope = _figures()
    except DomainError as error:
        problem = error.message
        now = utcnow()
        scope, today = scope_from({}, now=now, partner_id=None, site_id=staff_site())
        data = figures.dashboard(db.session, scope, today=today, now=now)
    return render_template(
        "dashboard/index.html",
        data=data,
        scope=scope,
        problem=problem,
        sites=db.session.scalars(sa.select(Site).order_by(Site.code)).all()
        if staff_site() is None
        else [],
        partners=db.session.scalars(sa.select(Partner).order_by(Partner.code)).all(),
        categories=list(Category),
        tables=list(TABLES),
        csv_endpoint="dashboard.table",
        link_args=link_args(
            request.args, STAFF_FILTERS if staff_site() is None else STAFF_FILTERS[1:]
        ),
    ), (400 if problem else 200)


@bp.get("/<name>.csv")
@roles_required(Role.SUPERVISOR)
def table(name: str):
    """One of the dashboard's tables as CSV, for the same filters."""
    data, scope = _figures()
    return table_csv(name, data, f"returnyard-{scope.first}-{scope.last}")
