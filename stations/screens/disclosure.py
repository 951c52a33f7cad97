"""The yearly disclosure of discarded units (ESPR Art. 24): how many returned units, and how
heavy, went to destruction, recycling or donation, by category and reason; also as CSV."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, render_template, request

from stations import nav
from stations.auth import roles_required, staff_site
from warehouse import espr
from warehouse.db import db, utcnow
from warehouse.errors import InvalidInput
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Role

bp = Blueprint("disclosure", __name__, url_prefix="/disclosure")

nav.register(
    _l("Disclosure"),
    "disclosure.index",
    {Role.SUPERVISOR},
    _l("Destroyed, recycled, donated per year"),
    39,
)
COLUMNS = ("category", "reason", "route", "units", "weight_grams", "units_without_weight")


def year_arg(raw: str | None = None) -> int:
    """The year asked for (this year by default): four digits."""
    raw = (request.args.get("year", "") if raw is None else raw).strip()
    if not raw:
        return utcnow().year
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        raise InvalidInput(_("%(value)s is not a year", value=repr(raw)), field="year")
    return int(raw)


@bp.get("")
@roles_required(Role.SUPERVISOR)
def index():
    """The report of one year."""
    year = year_arg()
    lines = espr.disclosure(db.session, year, site_id=staff_site())
    return render_template(
        "disclosure/index.html",
        year=year,
        lines=lines,
        size=espr.enterprise_size(),
        ban_from=espr.BAN_FROM.get(espr.enterprise_size()),
    )


@bp.get("/<year>.csv")
@roles_required(Role.SUPERVISOR)
def as_csv(year: str):
    """The report of one year as CSV."""
    year = year_arg(year)
    lines = espr.disclosure(db.session, year, site_id=staff_site())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow([getattr(line, name) for name in COLUMNS])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="disclosure-{year}.csv"'},
    )
